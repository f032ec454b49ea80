//! A commitment's amounts over time as an inline SVG step chart: committed,
//! allocated, reported delivered and confirmed, after each of its events. Drawn with
//! presentation attributes only (no style attribute, no script), so the console's
//! Content-Security-Policy holds.

use accord_kernel::{EventMeta, RecordedEvent, Timestamp};
use accord_runtime::{AgreementsModel, AgreementsState, Model};
use maud::{html, Markup};

/// The commitment's amounts after one of its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Point {
    pub at: Timestamp,
    pub committed: i64,
    pub allocated: i64,
    pub delivered: i64,
    pub confirmed: i64,
}

/// The commitment `id`'s amounts after each of its `events` (business time), up to
/// `until` in the given time; with the unit committed.
pub(super) fn series(
    events: &[RecordedEvent],
    id: &str,
    until: Timestamp,
    effective: bool,
) -> (Vec<Point>, String) {
    // Through the service's definition, as every shell folds events: only this
    // commitment's events are applied, so the view holds just it.
    let mut view = AgreementsState::default();
    let mut points = Vec::new();
    for event in events {
        if event.stream.category() != "commitment" || event.stream.id() != id {
            continue;
        }
        let when = if effective {
            event.occurred_at
        } else {
            event.recorded_at
        };
        if when > until {
            continue;
        }
        if !apply::<AgreementsModel>(&mut view, event) {
            continue;
        }
        let Some(state) = view.view.commitments.get(id) else {
            continue;
        };
        points.push(Point {
            at: event.occurred_at,
            committed: state.committed().map_or(0, |q| q.amount),
            allocated: state.allocated,
            delivered: state.delivered,
            confirmed: state.confirmed,
        });
    }
    points.sort_by_key(|p| p.at);
    let unit = view
        .view
        .commitments
        .get(id)
        .and_then(|c| c.committed())
        .map(|q| q.unit)
        .unwrap_or_default();
    (points, unit)
}

/// One line of the chart: its name, its colour, and the amount it draws.
type Series = (&'static str, &'static str, fn(&Point) -> i64);

/// Folds `event` into `view` through the service's definition; false when this
/// build cannot decode it.
fn apply<M: Model>(view: &mut M::View, event: &accord_kernel::RecordedEvent) -> bool {
    match M::decode(&event.event_type, event.schema_version, &event.payload) {
        Ok(decoded) => {
            M::apply(view, &EventMeta::of(event), &decoded);
            true
        }
        Err(_) => false,
    }
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 90.0;
const BOTTOM: f64 = 30.0;

/// The step chart, or nothing when there is nothing to draw.
pub(super) fn chart(points: &[Point], unit: &str) -> Markup {
    let max = points
        .iter()
        .flat_map(|p| [p.committed, p.allocated, p.delivered, p.confirmed])
        .max()
        .unwrap_or(0);
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return html! {};
    };
    if max <= 0 {
        return html! {};
    }
    let span = (last.at.unix_nanos() - first.at.unix_nanos()).max(1) as f64;
    let x = |at: Timestamp| {
        LEFT + (at.unix_nanos() - first.at.unix_nanos()) as f64 / span * (WIDTH - LEFT - 10.0)
    };
    let y = |v: i64| (HEIGHT - BOTTOM) - v as f64 / max as f64 * (HEIGHT - BOTTOM - 10.0);
    let line = |value: fn(&Point) -> i64| {
        let mut path = String::new();
        let mut previous: Option<f64> = None;
        for p in points {
            let (px, py) = (x(p.at), y(value(p)));
            match previous {
                None => path.push_str(&format!("M{px:.1},{py:.1}")),
                Some(prev) => path.push_str(&format!(" L{px:.1},{prev:.1} L{px:.1},{py:.1}")),
            }
            previous = Some(py);
        }
        path.push_str(&format!(
            " L{:.1},{:.1}",
            WIDTH - 10.0,
            previous.unwrap_or(0.0)
        ));
        path
    };
    let series: [Series; 4] = [
        ("committed", "#1f3a5f", |p| p.committed),
        ("allocated", "#9a6700", |p| p.allocated),
        ("reported delivered", "#1a7f37", |p| p.delivered),
        ("confirmed", "#8250df", |p| p.confirmed),
    ];
    html! {
        figure class="chart" {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) }
                role="img" aria-labelledby="chart-title" {
                title id="chart-title" { "Committed, allocated, reported delivered and confirmed over time (" (unit) ")" }
                line x1=(LEFT) y1=(HEIGHT - BOTTOM) x2=(WIDTH - 10.0) y2=(HEIGHT - BOTTOM) stroke="#57606a" {}
                line x1=(LEFT) y1="10" x2=(LEFT) y2=(HEIGHT - BOTTOM) stroke="#57606a" {}
                text x=(LEFT - 6.0) y="16" text-anchor="end" font-size="11" { (max) }
                text x=(LEFT - 6.0) y=(HEIGHT - BOTTOM) text-anchor="end" font-size="11" { "0" }
                text x=(LEFT) y=(HEIGHT - 10.0) font-size="11" { (first.at.date()) }
                text x=(WIDTH - 10.0) y=(HEIGHT - 10.0) text-anchor="end" font-size="11" { (last.at.date()) }
                @for (name, colour, value) in series {
                    path d=(line(value)) fill="none" stroke=(colour) stroke-width="2" {
                        title { (name) }
                    }
                }
            }
            figcaption {
                @for (name, colour, _) in series {
                    span class="key" { svg width="12" height="12" aria-hidden="true" { rect width="12" height="12" fill=(colour) {} } " " (name) }
                    " "
                }
                "(" (unit) ")"
            }
        }
    }
}
