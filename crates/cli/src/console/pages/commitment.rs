//! A commitment's page: its chart and its timeline.

use accord_kernel::Timestamp;
use maud::html;
use serde_json::Value;

use super::{cell, layout, AsOf, To};
use crate::audit::history::Entry;
use crate::audit::replay::Time;
use crate::console::source::Timeline;

pub(in crate::console) fn commitment(id: &str, timeline: &Timeline, as_of: &AsOf) -> String {
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
            crate::console::chart::series(events, id, as_of.at, as_of.time == Time::Effective);
        crate::console::chart::chart(&points, &unit)
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
