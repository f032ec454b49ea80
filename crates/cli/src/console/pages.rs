//! The console's pages, rendered with `maud` (every text escaped by default) from
//! what the audit commands compute on copies of the data directories.

use std::time::SystemTime;

use accord_kernel::Timestamp;
use maud::{html, Markup, DOCTYPE};
use serde_json::Value;

use super::source::{Source, Timeline};
use super::{AsOfQuery, Console};
use crate::audit::history::Entry;
use crate::audit::replay::Time;

/// The console's only style sheet, served from the binary.
pub(super) const STYLE: &str = include_str!("style.css");

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
    fn query(&self) -> String {
        if !self.chosen {
            return String::new();
        }
        let time = match self.time {
            Time::Recorded => "recorded",
            Time::Effective => "effective",
        };
        format!("?as_of={}&time={time}", self.at)
    }

    fn describe(&self) -> String {
        match (self.chosen, self.time) {
            (false, _) => "now".to_owned(),
            (true, Time::Recorded) => format!("as known at {} (log time)", self.at),
            (true, Time::Effective) => format!("as in effect at {} (business time)", self.at),
        }
    }
}

const PAGES: &[(&str, &str)] = &[
    ("agreements", "Agreements"),
    ("ledger", "Commitment ledger"),
    ("board", "Steering Board"),
    ("projects", "Projects"),
    ("procurement", "Procurement"),
    ("evidence", "Evidence"),
];

fn layout(title: &str, as_of: Option<&AsOf>, path: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Accord console" }
                link rel="stylesheet" href="/console/style.css";
                // No icon to fetch: a browser asks for /favicon.ico otherwise.
                link rel="icon" href="data:,";
            }
            body {
                header {
                    nav {
                        a href="/console/" { "Accord" }
                        @for (page, name) in PAGES {
                            a href={ "/console/" (page) (as_of.map(AsOf::query).unwrap_or_default()) } { (name) }
                        }
                    }
                    @if let Some(as_of) = as_of {
                        form method="get" action=(path) class="as-of" {
                            label { "As of " input type="text" name="as_of" placeholder="2024-11-26 or 2024-11-26T12:00:00Z"
                                value=[as_of.chosen.then(|| as_of.at.to_string())]; }
                            label { input type="radio" name="time" value="recorded" checked[as_of.time == Time::Recorded]; " log time" }
                            label { input type="radio" name="time" value="effective" checked[as_of.time == Time::Effective]; " business time" }
                            button type="submit" { "Show" }
                        }
                        p class="as-of-now" { "Shown " (as_of.describe()) "." }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
    .into_string()
}

pub(super) fn error_page(message: &str) -> String {
    layout(
        "Cannot show this page",
        None,
        "/console/",
        html! { p class="error" { (message) } },
    )
}

pub(super) fn index(console: &Console) -> String {
    let how = match &console.source {
        Source::Offline(_) => "Read-only, offline: every page is computed from copies of these data directories, made when the console started (the evidence page verifies them as they are now).",
        Source::Live(_) => "Read-only, live: every page shows the services' projections now, through their queries over the bus; an earlier instant is folded from the logs this process runs.",
    };
    layout(
        "Accord console",
        None,
        "/console/",
        html! {
            p { (how) }
            ul { @for what in console.source.describe() { li { code { (what) } } } }
            ul { @for (page, name) in PAGES { li { a href={ "/console/" (page) } { (name) } } } }
        },
    )
}

/// A JSON value as a cell's text: quantities as "amount unit", lists joined.
fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        Value::Object(map) => {
            if let (Some(amount), Some(unit)) = (map.get("amount"), map.get("unit")) {
                return format!("{} {}", text(amount), text(unit));
            }
            map.values().map(text).collect::<Vec<_>>().join(" ")
        }
        other => other.to_string(),
    }
}

/// A page an id leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum To {
    Commitment,
    Motion,
    Agreement,
    Project,
}

impl To {
    /// The row's anchor on its page.
    fn anchor(self, id: &str) -> String {
        match self {
            To::Commitment => format!("commitment-{id}"),
            To::Motion => format!("motion-{id}"),
            To::Agreement => format!("agreement-{id}"),
            To::Project => format!("project-{id}"),
        }
    }

    /// Where `id` is shown, keeping the as-of `query`.
    fn href(self, id: &str, query: &str) -> String {
        match self {
            To::Commitment => format!("/console/commitment/{id}{query}"),
            To::Motion => format!("/console/board{query}#{}", self.anchor(id)),
            To::Agreement => format!("/console/agreements{query}#{}", self.anchor(id)),
            To::Project => format!("/console/projects{query}#{}", self.anchor(id)),
        }
    }
}

/// Which columns of a table hold ids that link to their page, and what the rows
/// are, so other pages can link to them.
struct Links {
    columns: Vec<(&'static str, To)>,
    rows: Option<To>,
    query: String,
}

impl Links {
    fn none() -> Links {
        Links {
            columns: Vec::new(),
            rows: None,
            query: String::new(),
        }
    }

    fn to(columns: &[(&'static str, To)], as_of: &AsOf) -> Links {
        Links {
            columns: columns.to_vec(),
            rows: None,
            query: as_of.query(),
        }
    }

    /// The rows are the `to`s, anchored by their first column.
    fn anchored(to: To, as_of: &AsOf) -> Links {
        Links {
            columns: Vec::new(),
            rows: Some(to),
            query: as_of.query(),
        }
    }

    fn of(&self, key: &str) -> Option<To> {
        self.columns
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, to)| *to)
    }
}

/// A cell's text, as a link where the column holds ids of a page's rows.
fn cell(value: &Value, to: Option<To>, query: &str) -> Markup {
    let text = text(value);
    match (to, value.as_str()) {
        (Some(to), Some(id)) if !id.is_empty() => html! { a href=(to.href(id, query)) { (text) } },
        _ => html! { (text) },
    }
}

/// A real table: a caption, a header row, one row per item; `links` makes ids
/// links to their pages and anchors the rows.
fn table(caption: &str, rows: &[Value], columns: &[(&str, &str)], links: &Links) -> Markup {
    html! {
        @if rows.is_empty() {
            p class="empty" { (caption) ": none." }
        } @else {
            div class="scroll" {
                table {
                    caption { (caption) }
                    thead { tr { @for (_, header) in columns { th scope="col" { (header) } } } }
                    tbody {
                        @for row in rows {
                            @let anchor = links.rows.zip(columns.first()).map(|(to, (key, _))| to.anchor(&text(&row[*key])));
                            tr id=[anchor] {
                                @for (i, (key, _)) in columns.iter().enumerate() {
                                    @let shown = cell(&row[*key], links.of(key), &links.query);
                                    @if i == 0 {
                                        th scope="row" { (shown) }
                                    } @else {
                                        td { (shown) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The link to a list's next page, when it has one: `after` its last key.
fn next_page(projection: &Value, path: &str, as_of: &AsOf, what: &str) -> Markup {
    let Some(next) = projection["nextAfter"].as_str().filter(|n| !n.is_empty()) else {
        return html! {};
    };
    let query = as_of.query();
    let joiner = if query.is_empty() { "?" } else { "&" };
    let shown = next.replace('\u{0}', " ");
    html! {
        p { a href={ (path) (query) (joiner) "after=" (percent_encoded(next)) } rel="next" { "Next " (what) ", after " (shown) } }
    }
}

/// `text` as a query value: every byte but the unreserved ones (RFC 3986) encoded.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn list(value: &Value, key: &str) -> Vec<Value> {
    value[key].as_array().cloned().unwrap_or_default()
}

pub(super) fn agreements(p: &Value, as_of: &AsOf) -> String {
    let rows = list(&p["agreements"], "agreements");
    layout(
        "Agreements",
        Some(as_of),
        "/console/agreements",
        html! { (table(
            "Agreements, their parties and signatures",
            &rows,
            &[
                ("id", "agreement"),
                ("title", "title"),
                ("kind", "kind"),
                ("parties", "parties"),
                ("status", "status"),
                ("signatures", "signatures"),
                ("signatories", "signatories"),
                ("inForceSince", "in force since"),
                ("amendments", "amendments"),
            ],
            &Links::anchored(To::Agreement, as_of),
        ))
        (next_page(&p["agreements"], "/console/agreements", as_of, "agreements")) },
    )
}

pub(super) fn ledger(p: &Value, as_of: &AsOf) -> String {
    layout(
        "Commitment ledger",
        Some(as_of),
        "/console/ledger",
        html! {
            (table(
                "Each commitment: pledged, allocated, reported, confirmed, disputed, and the gap",
                &list(&p["ledger"], "rows"),
                &[
                    ("id", "commitment"),
                    ("obligor", "obligor"),
                    ("beneficiary", "beneficiary"),
                    ("kind", "kind"),
                    ("item", "item"),
                    ("status", "status"),
                    ("committed", "committed"),
                    ("allocated", "allocated"),
                    ("delivered", "reported delivered"),
                    ("confirmed", "confirmed"),
                    ("disputed", "disputed"),
                    ("gap", "gap"),
                    ("overdueSince", "overdue since"),
                ],
                &Links::to(&[("id", To::Commitment)], as_of),
            ))
            (next_page(&p["ledger"], "/console/ledger", as_of, "commitments"))
            (table(
                "Totals per obligor and item",
                &list(&p["ledger"], "totals"),
                &[
                    ("obligor", "obligor"),
                    ("item", "item"),
                    ("committed", "committed"),
                    ("allocated", "allocated"),
                    ("delivered", "reported delivered"),
                    ("confirmed", "confirmed"),
                    ("disputed", "disputed"),
                    ("gap", "gap"),
                ],
                &Links::none(),
            ))
        },
    )
}

pub(super) fn board(p: &Value, as_of: &AsOf) -> String {
    layout(
        "Steering Board",
        Some(as_of),
        "/console/board",
        html! {
        (table(
            "Members of each board (chairs and members vote)",
            &list(&p["decisions"], "members"),
            &[("member", "member"), ("board", "board"), ("party", "party"), ("role", "role")],
            &Links::none(),
        ))
        (table(
            "Motions, votes and decisions",
            &list(&p["decisions"], "decisions"),
            &[
                ("motion", "motion"),
                ("board", "board"),
                ("title", "title"),
                ("subject", "subject"),
                ("status", "status"),
                ("votes", "votes"),
            ],
            &Links::anchored(To::Motion, as_of),
        ))
        (next_page(&p["decisions"], "/console/board", as_of, "motions")) },
    )
}

pub(super) fn projects(p: &Value, as_of: &AsOf) -> String {
    let projects = list(&p["portfolio"], "projects");
    let rows: Vec<Value> = projects
        .clone()
        .into_iter()
        .map(|mut project| {
            // The funding gap in words: per currency, pledged, disbursed, outstanding.
            let funding: Vec<String> = project["funding"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    format!(
                        "{} pledged {}, disbursed {}, outstanding {}",
                        text(&f["currency"]),
                        text(&f["pledged"]),
                        text(&f["disbursed"]),
                        text(&f["outstanding"])
                    )
                })
                .collect();
            project["funding"] = Value::String(funding.join("; "));
            project
        })
        .collect();
    layout(
        "Projects",
        Some(as_of),
        "/console/projects",
        html! {
            (table(
                "Projects: funding gap (minor units), milestones, time to launch",
                &rows,
                &[
                    ("id", "project"),
                    ("title", "title"),
                    ("area", "area"),
                    ("host", "host"),
                    ("status", "status"),
                    ("funding", "funding"),
                    ("milestonesPlanned", "milestones planned"),
                    ("milestonesReached", "reached"),
                    ("milestonesSlipped", "slipped"),
                    ("overdueMilestones", "overdue"),
                    ("daysToLaunch", "days to launch"),
                ],
                &Links::anchored(To::Project, as_of),
            ))
            (next_page(&p["portfolio"], "/console/projects", as_of, "projects"))
            (table(
                "Regulatory promises against time to launch",
                &p["launch_times"].as_array().cloned().unwrap_or_default(),
                &[
                    ("commitment", "commitment"),
                    ("obligor", "obligor"),
                    ("project", "project"),
                    ("max_days", "promised days"),
                    ("days_to_launch", "days to launch"),
                    ("verdict", "verdict"),
                ],
                &Links::to(&[("commitment", To::Commitment), ("project", To::Project)], as_of),
            ))
            @for project in &projects {
                h2 { "Funding and milestones: " (text(&project["title"])) " (" (text(&project["id"])) ")" }
                @let funding = super::project_chart::funding(project).into_string();
                @let milestones = super::project_chart::milestones(project).into_string();
                @if funding.is_empty() && milestones.is_empty() {
                    p class="empty" { "No funding pledged and no milestones planned yet." }
                }
                (maud::PreEscaped(funding))
                (maud::PreEscaped(milestones))
            }
        },
    )
}

pub(super) fn procurement(p: &Value, as_of: &AsOf) -> String {
    let queues = p["queues"].as_array().cloned().unwrap_or_default();
    layout(
        "Procurement",
        Some(as_of),
        "/console/procurement",
        html! {
            (table(
                "Priority grants in force",
                &list(&p["policy"], "grants"),
                &[
                    ("commitmentId", "commitment"),
                    ("obligor", "obligor"),
                    ("beneficiary", "beneficiary"),
                    ("itemCategories", "item categories"),
                ],
                &Links::to(&[("commitmentId", To::Commitment)], as_of),
            ))
            @for queue in &queues {
                h2 {
                    (text(&queue["item"]))
                    @if !text(&queue["controlledBy"]).is_empty() {
                        ", for supply controlled by " (text(&queue["controlledBy"]))
                    }
                }
                (table(
                    "Open requests, ranked",
                    &list(queue, "requests"),
                    &[("requestId", "request"), ("rank", "rank"), ("tier", "tier"), ("explanation", "why this rank")],
                    &Links::none(),
                ))
                (table(
                    "Allocations",
                    &list(queue, "allocations"),
                    &[
                        ("requestId", "request"),
                        ("supplyId", "supply"),
                        ("rank", "rank"),
                        ("tier", "tier"),
                        ("quantity", "quantity"),
                        ("explanation", "why this rank"),
                    ],
                    &Links::none(),
                ))
            }
        },
    )
}

pub(super) fn commitment(id: &str, timeline: &Timeline, as_of: &AsOf) -> String {
    let shown: Vec<&Entry> = timeline
        .entries
        .iter()
        .filter(|e| {
            let when = match as_of.time {
                Time::Recorded => &e.recorded_at,
                Time::Effective => &e.occurred_at,
            };
            Timestamp::parse_rfc3339(when).is_ok_and(|t| t <= as_of.at)
        })
        .collect();
    let chart = timeline.events.as_ref().map(|events| {
        let (points, unit) =
            super::chart::series(events, id, as_of.at, as_of.time == Time::Effective);
        super::chart::chart(&points, &unit)
    });
    let next = timeline.next_from.map(|from| {
        let query = as_of.query();
        let joiner = if query.is_empty() { "?" } else { "&" };
        format!("/console/commitment/{id}{query}{joiner}from={from}")
    });
    let path = format!("/console/commitment/{id}");
    layout(
        &format!("Commitment {id}"),
        Some(as_of),
        &path,
        html! {
            @match chart {
                Some(chart) => (chart),
                None => p class="empty" { "No chart here: its amounts are in the agreements service's events, and this process does not run that service." },
            }
            @if shown.is_empty() {
                p class="empty" { "Nothing of this commitment yet at that instant." }
            } @else {
                div class="scroll" {
                    table {
                        caption { (timeline.caption) }
                        thead { tr {
                            th scope="col" { "occurred" } th scope="col" { "recorded" }
                            th scope="col" { "actor" } th scope="col" { "party" }
                            th scope="col" { "event" } th scope="col" { "change" }
                            th scope="col" { "reason" } th scope="col" { "motion" }
                            th scope="col" { "documents" } th scope="col" { "signature" }
                            th scope="col" { "relation" }
                        } }
                        tbody {
                            @for e in &shown {
                                tr {
                                    th scope="row" { (e.occurred_at) }
                                    td { (e.recorded_at) }
                                    td { (e.actor) }
                                    td { (e.party) }
                                    td { (e.event) }
                                    td { (e.change) }
                                    td { (e.reason) }
                                    td { (cell(&Value::String(e.motion.clone()), Some(To::Motion), &as_of.query())) }
                                    td { @for d in &e.documents { span class="document" title=(d.sha256) { (d.short()) } br; } }
                                    td { (if e.signed { "signed by its actor" } else { "unsigned" }) }
                                    td { (e.relation) " (" (e.service) ")"
                                        @if !e.event_id.is_empty() { br; a href={ "/console/proof?event=" (e.event_id) } { "proof" } } }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = next {
                p { a href=(next) rel="next" { "Later changes" } }
            }
        },
    )
}

pub(super) fn evidence(console: &Console) -> anyhow::Result<String> {
    let offline = match &console.source {
        Source::Offline(offline) => offline,
        Source::Live(live) => return Ok(live_evidence(live)),
    };
    use crate::audit::registry::RegistryHistory;
    use crate::audit::verify;
    let mut registry = RegistryHistory::default();
    // The agreements log first: the others' signatures are checked against the
    // actors registry it holds. Shown in the order given.
    let mut order: Vec<usize> = (0..offline.dirs.len()).collect();
    order.sort_by_key(|&i| {
        crate::audit::service_of(&offline.dirs[i], None)
            != Some(accord_runtime::ServiceKind::Agreements)
    });
    let mut reports = Vec::new();
    for &i in &order {
        let report = verify::verify_dir(
            &offline.dirs[i],
            offline.roots.as_ref(),
            &offline.keys,
            &mut registry,
            &mut |_, _| {},
        )?;
        reports.push((i, report));
    }
    reports.sort_by_key(|(i, _)| *i);
    let reports: Vec<verify::LogReport> = reports.into_iter().map(|(_, r)| r).collect();
    Ok(layout(
        "Evidence",
        None,
        "/console/evidence",
        html! {
            div class="scroll" {
                table {
                    caption { "Each log's hash chain, Merkle tree and kept checkpoints, verified from a copy" }
                    thead { tr {
                        th scope="col" { "log" } th scope="col" { "service" } th scope="col" { "events" }
                        th scope="col" { "verdict" } th scope="col" { "where" } th scope="col" { "why" }
                        th scope="col" { "head hash" } th scope="col" { "signatures" }
                        th scope="col" { "checkpoints" }
                        th scope="col" { "witnesses (last co-signed size)" }
                    } }
                    tbody {
                        @for r in &reports {
                            tr class=(if r.ok { "ok" } else { "failed" }) {
                                th scope="row" { (r.path.display()) }
                                td { (r.service.clone().unwrap_or_default()) }
                                td { (r.events) }
                                td { strong { (if r.ok { "verified" } else { "FAILED" }) } }
                                td { @if let Some(p) = &r.problem {
                                    (p.code)
                                    @if let Some(position) = p.position { " at position " (position) }
                                } }
                                td { @if let Some(p) = &r.problem { (p.reason) } }
                                td { code { (r.head_hash.clone().unwrap_or_default()) } }
                                td { @match &r.signatures {
                                    None => "not checked (start the console with --signatures)",
                                    Some(s) => @match &s.not_checked {
                                        Some(why) => { "not checked: " (why) }
                                        None => {
                                            (s.verified) " verified"
                                            @for (actor, count) in &s.by_actor { br; (actor) ": " (count) }
                                        }
                                    },
                                } }
                                td { @if let Some(c) = &r.checkpoints {
                                    (c.kept) " kept"
                                    @if let Some(size) = c.latest_size { ", latest at size " (size) }
                                    "; log signature: " (c.log_signature)
                                } }
                                td { @if let Some(c) = &r.checkpoints {
                                    @for w in &c.witnesses {
                                        (w.name) ": " (w.last_size) ", " (w.not_witnessed) " events not yet witnessed"
                                        (if w.verified { " (cosignatures verified)" } else { " (cosignatures not checked: no --witness key)" })
                                        br;
                                    }
                                } }
                            }
                        }
                    }
                }
            }
            (proof_form())
        },
    ))
}

/// A form asking for the proof of any event by its id (a plain GET: no script).
fn proof_form() -> Markup {
    html! {
        form method="get" action="/console/proof" class="proof" {
            label { "Proof that an event is in its log's witnessed tree (a c2sp.org/tlog-proof@v1 file for "
                code { "accord audit check-proof" } "), event id "
                input type="text" name="event" placeholder="0193a1b2-…" size="38"; }
            button type="submit" { "Download" }
        }
    }
}

/// A running log is not verified in place (verification reads a copy, and a copy of
/// a log being written is not the log): the page shows each log's head, to compare
/// with what `accord audit verify` says of a backup.
fn live_evidence(live: &super::source::Live) -> String {
    let logs = live.evidence();
    layout(
        "Evidence",
        None,
        "/console/evidence",
        html! {
            p { "The logs this process runs, walked in place as they stand (hash chain and Merkle tree), with the checkpoints they kept. For everything " code { "accord audit verify" } " checks (signatures per actor, every kept checkpoint), run it or " code { "accord audit console" } " on a backup: both read a copy and write nothing where the data lies." }
            div class="scroll" {
                table {
                    caption { "Each log this process runs: its chain, and its latest kept checkpoint" }
                    thead { tr {
                        th scope="col" { "service" } th scope="col" { "verdict" } th scope="col" { "events" }
                        th scope="col" { "head hash" } th scope="col" { "checkpoints" }
                        th scope="col" { "co-signed by (latest)" }
                    } }
                    tbody {
                        @for e in &logs {
                            tr class=(if e.chain.is_ok() { "ok" } else { "failed" }) {
                                th scope="row" { (e.service.to_string()) }
                                @match &e.chain {
                                    Ok((events, head)) => {
                                        td { strong { "verified" } }
                                        td { (events) }
                                        td { code { (head) } }
                                    }
                                    Err(why) => {
                                        td { strong { "FAILED" } }
                                        td { (e.durable) }
                                        td { (why) }
                                    }
                                }
                                td { (e.kept) " kept"
                                    @if let Some((size, signed, _)) = &e.latest {
                                        ", latest at size " (size) "; log signature: "
                                        (if *signed { "verified" } else { "not checked (no log key)" })
                                    }
                                }
                                td { @if let Some((size, _, cosigned)) = &e.latest {
                                    @if cosigned.is_empty() {
                                        "nobody (with a key in the witnesses setting)"
                                    } @else {
                                        @for name in cosigned { (name) br; }
                                    }
                                    (e.durable.saturating_sub(*size)) " events not yet in a kept checkpoint"
                                } }
                            }
                        }
                    }
                }
            }
            (proof_form())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_key_with_a_nul_and_spaces_then_the_link_carries_it_encoded() {
        assert_eq!(percent_encoded("b-1\u{0}m 2&x"), "b-1%00m%202%26x");
        assert_eq!(percent_encoded("c-priority"), "c-priority");
    }
}
