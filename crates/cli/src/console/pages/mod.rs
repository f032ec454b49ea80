//! The console's pages, rendered with `maud` (every text escaped by default) from
//! what the audit commands compute on copies of the data directories.

use maud::{html, Markup, DOCTYPE};
use serde_json::Value;

pub(in crate::console) use super::as_of::AsOf;
use super::source::Source;
use crate::audit::replay::Time;

mod commitment;
mod evidence;
mod projections;

pub(in crate::console) use commitment::commitment;
pub(in crate::console) use evidence::evidence;
pub(in crate::console) use projections::{agreements, board, ledger, procurement, projects};

/// The console's only style sheet, served from the binary.
pub(super) const STYLE: &str = include_str!("../style.css");

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

pub(super) fn index(source: &Source) -> String {
    let how = match source {
        Source::Offline(_) => "Read-only, offline: every page is computed from copies of these data directories, made when the console started (the evidence page verifies them as they are now).",
        Source::Live(_) => "Read-only, live: every page shows the services' projections now, through their queries over the bus; an earlier instant is folded from the logs this process runs.",
    };
    layout(
        "Accord console",
        None,
        "/console/",
        html! {
            p { (how) }
            ul { @for what in source.describe() { li { code { (what) } } } }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_key_with_a_nul_and_spaces_then_the_link_carries_it_encoded() {
        assert_eq!(percent_encoded("b-1\u{0}m 2&x"), "b-1%00m%202%26x");
        assert_eq!(percent_encoded("c-priority"), "c-priority");
    }
}
