//! The projection pages: agreements, the commitment ledger, the board, projects and
//! procurement, each from the query replies' JSON.

use maud::html;
use serde_json::Value;

use super::{layout, list, next_page, table, text, AsOf, Links, To};

pub(in crate::console) fn agreements(p: &Value, as_of: &AsOf) -> String {
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

pub(in crate::console) fn ledger(p: &Value, as_of: &AsOf) -> String {
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

pub(in crate::console) fn board(p: &Value, as_of: &AsOf) -> String {
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

pub(in crate::console) fn projects(p: &Value, as_of: &AsOf) -> String {
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
                @let funding = crate::console::project_chart::funding(project).into_string();
                @let milestones = crate::console::project_chart::milestones(project).into_string();
                @if funding.is_empty() && milestones.is_empty() {
                    p class="empty" { "No funding pledged and no milestones planned yet." }
                }
                (maud::PreEscaped(funding))
                (maud::PreEscaped(milestones))
            }
        },
    )
}

pub(in crate::console) fn procurement(p: &Value, as_of: &AsOf) -> String {
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
