//! The instant a page is shown as of (log time or business time), as the as-of
//! control asks for it.

use std::time::SystemTime;

use accord_kernel::Timestamp;
use serde::Deserialize;

use crate::audit::replay::Time;

/// The as-of control's query: `?as_of=2024-11-26T12:00:00Z&time=effective`, and
/// where a long page continues (`after` a ledger row, `from` a timeline version).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AsOfQuery {
    pub as_of: Option<String>,
    pub time: Option<String>,
    pub after: Option<String>,
    pub from: Option<u64>,
}

/// The instant a page is shown as of, and in which time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsOf {
    pub at: Timestamp,
    pub time: Time,
    /// Whether the reader chose it (else: now, by log time).
    pub chosen: bool,
}

impl AsOf {
    /// From the query: `as_of` is RFC 3339 or a date (its end of day, UTC); `time`
    /// is `recorded` (what was known then, the default) or `effective` (what was in
    /// effect then, facts recorded later included).
    pub fn parse(query: &AsOfQuery) -> anyhow::Result<AsOf> {
        let time = match query.time.as_deref() {
            None | Some("") | Some("recorded") => Time::Recorded,
            Some("effective") => Time::Effective,
            Some(other) => anyhow::bail!("time {other:?}: recorded or effective"),
        };
        let text = query.as_of.as_deref().unwrap_or_default().trim();
        if text.is_empty() {
            let now = Timestamp::from_system_time(SystemTime::now())
                .map_err(|e| anyhow::anyhow!("the clock: {e}"))?;
            return Ok(AsOf {
                at: now,
                time,
                chosen: false,
            });
        }
        let full = if text.len() == 10 {
            format!("{text}T23:59:59Z")
        } else {
            text.to_owned()
        };
        let at = Timestamp::parse_rfc3339(&full).map_err(|e| {
            anyhow::anyhow!("as of {text:?}: {e} (e.g. 2024-11-26 or 2024-11-26T12:00:00Z)")
        })?;
        Ok(AsOf {
            at,
            time,
            chosen: true,
        })
    }

    /// The query string that keeps this as-of on a link.
    pub(super) fn query(&self) -> String {
        if !self.chosen {
            return String::new();
        }
        let time = match self.time {
            Time::Recorded => "recorded",
            Time::Effective => "effective",
        };
        format!("?as_of={}&time={time}", self.at)
    }

    pub(super) fn describe(&self) -> String {
        match (self.chosen, self.time) {
            (false, _) => "now".to_owned(),
            (true, Time::Recorded) => format!("as known at {} (log time)", self.at),
            (true, Time::Effective) => format!("as in effect at {} (business time)", self.at),
        }
    }
}
