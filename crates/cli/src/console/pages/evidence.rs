//! The evidence page: each log verified (offline, from a copy; live, in place),
//! its checkpoints and witnesses, and a proof download for any event.

use maud::{html, Markup};

use super::layout;
use crate::console::source::Source;

pub(in crate::console) fn evidence(source: &Source) -> anyhow::Result<String> {
    let offline = match source {
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
fn live_evidence(live: &crate::console::source::Live) -> String {
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
