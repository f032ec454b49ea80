use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An instant, as seconds and nanoseconds since the Unix epoch (UTC), the same
/// shape as `google.protobuf.Timestamp`. Ordered chronologically.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Timestamp {
    seconds: i64,
    nanos: u32,
}

/// A timestamp outside the range protobuf allows, or with nanos of a second or more.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp: {seconds} s {nanos} ns")]
pub struct TimestampError {
    pub seconds: i64,
    pub nanos: i32,
}

// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range of google.protobuf.Timestamp.
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;

impl Timestamp {
    pub const UNIX_EPOCH: Timestamp = Timestamp {
        seconds: 0,
        nanos: 0,
    };

    pub fn new(seconds: i64, nanos: i32) -> Result<Self, TimestampError> {
        let valid =
            (MIN_SECONDS..=MAX_SECONDS).contains(&seconds) && (0..1_000_000_000).contains(&nanos);
        match u32::try_from(nanos) {
            Ok(nanos) if valid => Ok(Self { seconds, nanos }),
            _ => Err(TimestampError { seconds, nanos }),
        }
    }

    pub fn from_unix_nanos(nanos: i128) -> Result<Self, TimestampError> {
        let seconds = nanos.div_euclid(1_000_000_000);
        let rest = nanos.rem_euclid(1_000_000_000);
        let seconds = i64::try_from(seconds).map_err(|_| TimestampError {
            seconds: i64::MAX,
            nanos: 0,
        })?;
        // rem_euclid of 1e9 always fits in i32.
        Self::new(seconds, rest as i32)
    }

    /// Converts a system time; times before the epoch are supported.
    pub fn from_system_time(time: SystemTime) -> Result<Self, TimestampError> {
        let nanos = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => after.as_nanos() as i128,
            Err(before) => -(before.duration().as_nanos() as i128),
        };
        Self::from_unix_nanos(nanos)
    }

    pub fn seconds(self) -> i64 {
        self.seconds
    }

    pub fn nanos(self) -> u32 {
        self.nanos
    }

    pub fn unix_nanos(self) -> i128 {
        i128::from(self.seconds) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// The calendar date (UTC) of this instant.
    pub fn date(self) -> crate::Date {
        let (year, month, day, _) = civil_from_unix(self.seconds);
        // Every valid timestamp lies in years 1 to 9999, which `Date` takes.
        crate::Date::new(year as i32, month as i32, day as i32)
            .unwrap_or_else(|_| unreachable!("timestamp {} has no date", self.seconds))
    }

    /// The later of the two instants.
    pub fn max(self, other: Timestamp) -> Timestamp {
        std::cmp::max(self, other)
    }

    /// This instant plus a duration, saturating at the largest valid timestamp.
    pub fn saturating_add(self, duration: Duration) -> Timestamp {
        let nanos = self
            .unix_nanos()
            .saturating_add(duration.as_nanos() as i128);
        Self::from_unix_nanos(nanos).unwrap_or(Timestamp {
            seconds: MAX_SECONDS,
            nanos: 999_999_999,
        })
    }
}

impl Timestamp {
    /// Parses an RFC 3339 UTC instant such as `2024-11-26T11:00:00Z` or
    /// `2024-11-26T11:00:00.25Z` (only `Z` as the offset).
    pub fn parse_rfc3339(text: &str) -> Result<Timestamp, TimestampParseError> {
        let error = || TimestampParseError(text.to_owned());
        let body = text.strip_suffix('Z').ok_or_else(error)?;
        let (date, time) = body.split_once('T').ok_or_else(error)?;
        let number = |s: &str| s.parse::<i64>().map_err(|_| error());
        let mut date_parts = date.splitn(3, '-');
        let (y, m, d) = (
            number(date_parts.next().ok_or_else(error)?)?,
            number(date_parts.next().ok_or_else(error)?)?,
            number(date_parts.next().ok_or_else(error)?)?,
        );
        let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
        let mut clock_parts = clock.splitn(3, ':');
        let (hh, mm, ss) = (
            number(clock_parts.next().ok_or_else(error)?)?,
            number(clock_parts.next().ok_or_else(error)?)?,
            number(clock_parts.next().ok_or_else(error)?)?,
        );
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 59 {
            return Err(error());
        }
        if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error());
        }
        let nanos = if fraction.is_empty() {
            0
        } else {
            number(&format!("{fraction:0<9}"))?
        };
        let days = days_from_civil(y, m, d);
        let (_, m2, d2, _) = civil_from_unix(days * 86_400);
        if i64::from(m2) != m || i64::from(d2) != d {
            return Err(error());
        }
        Timestamp::new(days * 86_400 + hh * 3600 + mm * 60 + ss, nanos as i32).map_err(|_| error())
    }
}

/// A text that is not an RFC 3339 UTC instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 UTC timestamp: {0:?}")]
pub struct TimestampParseError(pub String);

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day, secs_of_day) = civil_from_unix(self.seconds);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            secs_of_day / 3600,
            secs_of_day / 60 % 60,
            secs_of_day % 60
        )?;
        if self.nanos != 0 {
            let digits = format!("{:09}", self.nanos);
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

/// Splits seconds since the epoch into a proleptic Gregorian date and the seconds of
/// that day (Howard Hinnant's days-from-civil algorithm, inverted).
fn civil_from_unix(seconds: i64) -> (i64, u32, u32, i64) {
    let days = seconds.div_euclid(86_400);
    let secs_of_day = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs_of_day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn displays_as_rfc3339_utc() {
        assert_eq!(Timestamp::UNIX_EPOCH.to_string(), "1970-01-01T00:00:00Z");
        let t = Timestamp::new(1_732_780_800, 500_000_000).unwrap();
        assert_eq!(t.to_string(), "2024-11-28T08:00:00.5Z");
        let before = Timestamp::new(-1, 0).unwrap();
        assert_eq!(before.to_string(), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn parses_what_it_displays() {
        for text in [
            "2024-11-26T11:00:00Z",
            "1970-01-01T00:00:00Z",
            "2025-02-28T23:59:59.5Z",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(text).unwrap().to_string(), text);
        }
        for bad in [
            "2024-11-26",
            "2024-02-30T00:00:00Z",
            "2024-11-26T11:00:00+02:00",
            "x",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_nanos_out_of_range_and_years_past_9999() {
        assert!(Timestamp::new(0, 1_000_000_000).is_err());
        assert!(Timestamp::new(0, -1).is_err());
        assert!(Timestamp::new(MAX_SECONDS + 1, 0).is_err());
    }

    proptest! {
        #[test]
        fn unix_nanos_round_trips(n in (MIN_SECONDS as i128 * 1_000_000_000)..(MAX_SECONDS as i128 * 1_000_000_000)) {
            let t = Timestamp::from_unix_nanos(n).unwrap();
            prop_assert_eq!(t.unix_nanos(), n);
        }

        #[test]
        fn ordering_follows_unix_nanos(a in any::<i64>(), b in any::<i64>()) {
            let (ta, tb) = (Timestamp::from_unix_nanos(a.into()).unwrap(), Timestamp::from_unix_nanos(b.into()).unwrap());
            prop_assert_eq!(ta.cmp(&tb), a.cmp(&b));
        }
    }
}
