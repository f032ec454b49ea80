//! A project's funding gap as bars and its milestones on a time line, as inline
//! SVG with presentation attributes only (no style attribute, no script), so the
//! console's Content-Security-Policy holds. Drawn from a `ProjectPortfolio` row in
//! the proto3 JSON mapping.

use accord_kernel::Timestamp;
use maud::{html, Markup};
use serde_json::Value;

const WIDTH: f64 = 720.0;
const LEFT: f64 = 200.0;
const RIGHT: f64 = 20.0;
const ROW: f64 = 26.0;

/// Days since the epoch of an ISO date ("2025-09-01"); `None` for anything else.
fn day(text: &str) -> Option<i64> {
    if text.len() != 10 {
        return None;
    }
    Timestamp::parse_rfc3339(&format!("{text}T00:00:00Z"))
        .ok()
        .map(|t| t.seconds().div_euclid(86_400))
}

fn number(value: &Value) -> i64 {
    match value {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        // int64 is a string in the proto3 JSON mapping.
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

/// Per currency: pledged as a whole bar, disbursed filled, outstanding (the gap)
/// hatched in another colour, with the figures in words beside it.
pub(super) fn funding(project: &Value) -> Markup {
    let rows: Vec<(String, i64, i64, i64)> = project["funding"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["currency"].as_str().unwrap_or_default().to_owned(),
                number(&f["pledged"]),
                number(&f["disbursed"]),
                number(&f["outstanding"]),
            )
        })
        .filter(|(_, pledged, ..)| *pledged > 0)
        .collect();
    if rows.is_empty() {
        return html! {};
    }
    let id = project["id"].as_str().unwrap_or_default();
    let height = ROW * rows.len() as f64 + 10.0;
    let span = WIDTH - LEFT - RIGHT;
    html! {
        figure class="chart funding" {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (height) }
                role="img" aria-labelledby={ "funding-" (id) } {
                title id={ "funding-" (id) } { "Funding of " (id) ": disbursed and outstanding of what was pledged" }
                @for (i, (currency, pledged, disbursed, outstanding)) in rows.iter().enumerate() {
                    @let y = 5.0 + ROW * i as f64;
                    @let paid = span * (*disbursed).clamp(0, *pledged) as f64 / *pledged as f64;
                    text x=(LEFT - 6.0) y=(y + 14.0) text-anchor="end" font-size="11" {
                        (currency) " " (disbursed) " / " (pledged)
                    }
                    rect x=(LEFT) y=(y) width=(paid) height="18" fill="#1a7f37" { title { "disbursed " (disbursed) } }
                    rect x=(LEFT + paid) y=(y) width=(span - paid) height="18" fill="#d4a72c" {
                        title { "outstanding " (outstanding) }
                    }
                }
            }
            figcaption {
                span class="key" { svg width="12" height="12" aria-hidden="true" { rect width="12" height="12" fill="#1a7f37" {} } " disbursed" }
                " "
                span class="key" { svg width="12" height="12" aria-hidden="true" { rect width="12" height="12" fill="#d4a72c" {} } " outstanding (the gap)" }
            }
        }
    }
}

/// One row per milestone on a shared time line: a hollow mark where it was first
/// due, a red line to where it is due now when it slipped, a filled mark when it
/// was reached.
pub(super) fn milestones(project: &Value) -> Markup {
    let rows: Vec<&Value> = project["milestones"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let days: Vec<i64> = rows
        .iter()
        .flat_map(|m| {
            ["plannedDue", "due", "reachedOn"].map(|k| day(m[k].as_str().unwrap_or_default()))
        })
        .flatten()
        .collect();
    let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) else {
        return html! {};
    };
    let id = project["id"].as_str().unwrap_or_default();
    let span = (last - first).max(1) as f64;
    let x = |d: i64| LEFT + (d - first) as f64 / span * (WIDTH - LEFT - RIGHT);
    let height = ROW * rows.len() as f64 + 30.0;
    let date = |m: &Value, k: &str| m[k].as_str().unwrap_or_default().to_owned();
    html! {
        figure class="chart milestones" {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (height) }
                role="img" aria-labelledby={ "milestones-" (id) } {
                title id={ "milestones-" (id) } { "Milestones of " (id) " on a time line, with their slips" }
                @for (i, m) in rows.iter().enumerate() {
                    @let y = 14.0 + ROW * i as f64;
                    @let planned = day(&date(m, "plannedDue"));
                    @let due = day(&date(m, "due"));
                    @let reached = day(&date(m, "reachedOn"));
                    text x=(LEFT - 6.0) y=(y + 4.0) text-anchor="end" font-size="11" {
                        (m["title"].as_str().unwrap_or_default())
                    }
                    line x1=(LEFT) y1=(y) x2=(WIDTH - RIGHT) y2=(y) stroke="#d0d7de" {}
                    @if let (Some(p), Some(d)) = (planned, due) {
                        @if d != p {
                            line x1=(x(p)) y1=(y) x2=(x(d)) y2=(y) stroke="#cf222e" stroke-width="3" {
                                title { "slipped from " (date(m, "plannedDue")) " to " (date(m, "due")) }
                            }
                        }
                    }
                    @if let Some(p) = planned {
                        circle cx=(x(p)) cy=(y) r="5" fill="white" stroke="#1f3a5f" stroke-width="2" {
                            title { "planned for " (date(m, "plannedDue")) }
                        }
                    }
                    @if let Some(d) = due {
                        rect x=(x(d) - 4.0) y=(y - 4.0) width="8" height="8" fill="#1f3a5f" {
                            title { "due " (date(m, "due")) " (" (m["status"].as_str().unwrap_or_default()) ")" }
                        }
                    }
                    @if let Some(r) = reached {
                        circle cx=(x(r)) cy=(y) r="5" fill="#1a7f37" {
                            title { "reached on " (date(m, "reachedOn")) }
                        }
                    }
                }
                @let axis = ROW * rows.len() as f64 + 14.0;
                text x=(LEFT) y=(axis) font-size="11" { (date_of(*first)) }
                text x=(WIDTH - RIGHT) y=(axis) text-anchor="end" font-size="11" { (date_of(*last)) }
            }
            figcaption {
                "○ first planned, ■ due now, ● reached; a red line is a slip."
            }
        }
    }
}

/// The ISO date of a day since the epoch.
fn date_of(day: i64) -> String {
    Timestamp::new(day * 86_400, 0)
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_slipped_and_a_reached_milestone_then_the_line_shows_the_slip_and_the_reach() {
        let project = serde_json::json!({
            "id": "rdx-plant",
            "milestones": [
                {"milestoneId": "a", "title": "Site", "plannedDue": "2025-03-01", "due": "2025-06-01", "status": "slipped", "reachedOn": ""},
                {"milestoneId": "b", "title": "Permit", "plannedDue": "2025-01-01", "due": "2025-01-01", "status": "reached", "reachedOn": "2025-01-10"},
            ],
        });
        let svg = milestones(&project).into_string();
        assert!(
            svg.contains("slipped from 2025-03-01 to 2025-06-01"),
            "{svg}"
        );
        assert!(svg.contains("reached on 2025-01-10"), "{svg}");
        assert!(
            svg.contains(">2025-01-01</text>") && svg.contains(">2025-06-01</text>"),
            "{svg}"
        );
        assert_eq!(svg.matches("stroke=\"#cf222e\"").count(), 1, "one slip");
    }

    #[test]
    fn given_funding_then_the_bar_splits_pledged_into_disbursed_and_the_gap() {
        let project = serde_json::json!({
            "id": "rdx-plant",
            "funding": [{"currency": "EUR", "pledged": "1200", "disbursed": "400", "outstanding": "800"}],
        });
        let svg = funding(&project).into_string();
        assert!(svg.contains("EUR 400 / 1200"), "{svg}");
        assert!(svg.contains("outstanding 800"), "{svg}");
        // A third of the bar (500 px wide) is disbursed.
        let paid = format!("width=\"{}\"", 500.0 / 3.0);
        assert!(svg.contains(&paid), "{svg}");
    }
}
