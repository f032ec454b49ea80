//! `accord demo`: the three services in one process on the embedded bus, the
//! scenario from the source text played through the same request path NATS clients
//! use, the key projections printed as tables with the timelines of the commitments
//! a board motion changed, and every log verified.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use accord_bus::AccordClient;
use accord_contracts::v1::{self as pb, reply::Outcome};
use accord_kernel::Timestamp;
use accord_runtime::ServiceKind;
use accord_scenario::{Embedded, Scenario};
use prost::Message as _;

use crate::demo_evidence;
use crate::play::{play_step, wait_ready, QueueOf};
use crate::running::Running;
use crate::settings::Settings;
use crate::tables::{or_dash, Table};

/// The time the scenario says it is: each step's log time, set before it is played.
#[derive(Debug, Default)]
struct ScenarioClock(Mutex<Timestamp>);

impl ScenarioClock {
    fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }
}

impl accord_log::Clock for ScenarioClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How long one step may take to settle before the demo gives up.
const PATIENCE: Duration = Duration::from_secs(30);

fn minor(amount: i64) -> String {
    format!("{}.{:02}", amount / 100, (amount % 100).abs())
}

/// Amounts in a currency are minor units; other quantities are whole.
fn amount(value: i64, unit: &str) -> String {
    if unit.len() == 3 && unit.chars().all(|c| c.is_ascii_uppercase()) {
        format!("{} {unit}", minor(value))
    } else {
        format!("{value} {unit}")
    }
}

async fn query(
    client: &AccordClient,
    service: &str,
    name: &str,
    body: Vec<u8>,
) -> anyhow::Result<Outcome> {
    Ok(client.query(service, name, body).await?)
}

/// The key projections, as the services' query replies carry them; a service whose
/// projections are not at hand leaves its parts empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projections {
    pub agreements: Option<pb::AgreementRegister>,
    pub ledger: Option<pb::CommitmentLedger>,
    pub decisions: Option<pb::BoardDecisions>,
    pub portfolio: Option<pb::ProjectPortfolio>,
    pub policy: Option<pb::PriorityPolicy>,
    pub queues: Vec<pb::ProcurementQueue>,
}

/// The projections, queried over the bus like any client would.
pub async fn fetch(client: &AccordClient, items: &[QueueOf]) -> anyhow::Result<Projections> {
    let mut projections = Projections::default();
    if let Outcome::Agreements(r) = query(client, "agreements", "AgreementRegister", vec![]).await?
    {
        projections.agreements = Some(r);
    }
    if let Outcome::Ledger(l) = query(client, "agreements", "CommitmentLedger", vec![]).await? {
        projections.ledger = Some(l);
    }
    if let Outcome::Decisions(d) = query(client, "agreements", "BoardDecisions", vec![]).await? {
        projections.decisions = Some(d);
    }
    if let Outcome::Portfolio(p) = query(client, "projects", "ProjectPortfolio", vec![]).await? {
        projections.portfolio = Some(p);
    }
    if let Outcome::Policy(p) = query(client, "procurement", "PriorityPolicy", vec![]).await? {
        projections.policy = Some(p);
    }
    for queue in items {
        let body = queue.query().encode_to_vec();
        if let Outcome::Queue(q) = query(client, "procurement", "ProcurementQueue", body).await? {
            projections.queues.push(q);
        }
    }
    Ok(projections)
}

/// The projections as terminal tables.
pub fn tables(projections: &Projections) -> Vec<Table> {
    let mut tables = Vec::new();
    if let Some(register) = &projections.agreements {
        let mut t = Table::new(
            "Agreements",
            &[
                "id",
                "kind",
                "parties",
                "status",
                "signed",
                "in force since",
                "amendments",
            ],
        );
        for a in &register.agreements {
            t.row(vec![
                a.id.clone(),
                a.kind.clone(),
                a.parties.join(" "),
                a.status.clone(),
                format!("{}/{}", a.signatures, a.signatories),
                a.in_force_since.clone(),
                a.amendments.to_string(),
            ]);
        }
        tables.push(t);
    }
    if let Some(ledger) = &projections.ledger {
        let mut t = Table::new(
            "Commitment ledger (delivered as the obligor reported it, confirmed and disputed by the beneficiary; gap = committed - delivered)",
            &[
                "commitment",
                "obligor",
                "beneficiary",
                "kind",
                "status",
                "committed",
                "allocated",
                "delivered",
                "confirmed",
                "disputed",
                "gap",
            ],
        );
        for r in &ledger.rows {
            let unit = r
                .committed
                .as_ref()
                .map(|q| q.unit.clone())
                .unwrap_or_default();
            t.row(vec![
                r.id.clone(),
                r.obligor.clone(),
                r.beneficiary.clone(),
                r.kind.clone(),
                r.status.clone(),
                r.committed
                    .as_ref()
                    .map(|q| amount(q.amount, &q.unit))
                    .unwrap_or_else(|| "-".into()),
                amount(r.allocated, &unit),
                amount(r.delivered, &unit),
                amount(r.confirmed, &unit),
                amount(r.disputed, &unit),
                r.gap
                    .map(|g| amount(g, &unit))
                    .unwrap_or_else(|| "-".into()),
            ]);
        }
        tables.push(t);
    }
    if let Some(decisions) = &projections.decisions {
        let mut t = Table::new(
            "Steering Board decisions",
            &["board", "motion", "subject", "status", "votes"],
        );
        for d in &decisions.decisions {
            let votes: Vec<String> = d
                .votes
                .iter()
                .map(|v| format!("{} {}", v.party, v.vote))
                .collect();
            t.row(vec![
                d.board.clone(),
                d.motion.clone(),
                d.subject.clone(),
                d.status.clone(),
                votes.join(", "),
            ]);
        }
        tables.push(t);
    }
    if let Some(portfolio) = &projections.portfolio {
        let mut t = Table::new(
            "Project portfolio",
            &[
                "project",
                "area",
                "host",
                "status",
                "pledged",
                "disbursed",
                "milestones",
                "days to launch",
                "research results (holders)",
            ],
        );
        for p in &portfolio.projects {
            let pledged: Vec<String> = p
                .funding
                .iter()
                .map(|f| amount(f.pledged, &f.currency))
                .collect();
            let disbursed: Vec<String> = p
                .funding
                .iter()
                .map(|f| amount(f.disbursed, &f.currency))
                .collect();
            t.row(vec![
                p.id.clone(),
                p.area.clone(),
                p.host.clone(),
                p.status.clone(),
                pledged.join(", "),
                disbursed.join(", "),
                {
                    let mut text = format!(
                        "{}/{} reached, {} slipped",
                        p.milestones_reached, p.milestones_planned, p.milestones_slipped
                    );
                    for m in &p.overdue_milestones {
                        text.push_str(&format!(
                            "; {} overdue since {}: {} days late",
                            m.milestone_id, m.due, m.days_late
                        ));
                    }
                    text
                },
                p.days_to_launch
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into()),
                or_dash(
                    &p.results
                        .iter()
                        .map(|r| format!("{} ({})", r.title, r.holders.join(", ")))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            ]);
        }
        tables.push(t);
    }
    if let (Some(ledger), Some(portfolio)) = (&projections.ledger, &projections.portfolio) {
        let rows = crate::reports::launch_times(ledger, portfolio);
        if !rows.is_empty() {
            tables.push(crate::reports::launch_time_table(&rows));
        }
    }
    if let Some(policy) = &projections.policy {
        let mut t = Table::new(
            &format!("Procurement priority policy (version {})", policy.version),
            &["commitment", "obligor", "beneficiary", "item categories"],
        );
        for g in &policy.grants {
            t.row(vec![
                g.commitment_id.clone(),
                g.obligor.clone(),
                g.beneficiary.clone(),
                g.item_categories.join(", "),
            ]);
        }
        tables.push(t);
    }
    for queue in &projections.queues {
        let mut t = Table::new(
            &format!(
                "Procurement: {} (open requests ranked for supply controlled by {}, then allocations)",
                queue.item,
                or_dash(&queue.controlled_by)
            ),
            &["", "request", "rank", "tier", "quantity", "why"],
        );
        for r in &queue.requests {
            t.row(vec![
                "open".into(),
                r.request_id.clone(),
                r.rank.to_string(),
                r.tier.to_string(),
                String::new(),
                r.explanation.clone(),
            ]);
        }
        for a in &queue.allocations {
            let quantity = a
                .quantity
                .as_ref()
                .map(|q| amount(q.amount, &q.unit))
                .unwrap_or_default();
            t.row(vec![
                format!("allocated from {}", a.supply_id),
                a.request_id.clone(),
                a.rank.to_string(),
                a.tier.to_string(),
                quantity,
                a.explanation.clone(),
            ]);
        }
        tables.push(t);
    }
    tables
}

/// The timelines of the commitments a board motion changed: the trail from each
/// change to the decision that authorised it, as a client asks for it.
async fn amended_by_motion(
    client: &AccordClient,
    projections: &Projections,
) -> anyhow::Result<Vec<pb::CommitmentTimeline>> {
    let mut timelines = Vec::new();
    for row in projections.ledger.iter().flat_map(|l| &l.rows) {
        let body = pb::CommitmentTimelineQuery {
            commitment_id: row.id.clone(),
            // The first page, up to 1,000 changes, is the whole of a scenario's.
            ..Default::default()
        }
        .encode_to_vec();
        if let Outcome::Timeline(timeline) =
            query(client, "agreements", "CommitmentTimeline", body).await?
        {
            if timeline.entries.iter().any(|e| !e.motion.is_empty()) {
                timelines.push(timeline);
            }
        }
    }
    Ok(timelines)
}

fn timeline_table(timeline: &pb::CommitmentTimeline) -> Table {
    let mut t = Table::new(
        &format!(
            "Timeline of commitment {} (accord.agreements.q.CommitmentTimeline)",
            timeline.commitment_id
        ),
        &[
            "position",
            "occurred at",
            "actor",
            "change",
            "reason",
            "motion",
        ],
    );
    for e in &timeline.entries {
        t.row(vec![
            e.position.to_string(),
            e.occurred_at.clone(),
            e.actor.clone(),
            e.change.clone(),
            e.reason.clone(),
            or_dash(&e.motion),
        ]);
    }
    t
}

/// Runs the demo on `settings.data_dir`, which must be empty or absent; `temporary`
/// says the directory goes away when the demo ends.
pub async fn run(settings: &Settings, temporary: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let scenario = Scenario::lt_ua()?;
    // The logs record the scenario's own log times, so the auditor's as-of replay
    // can ask about the instants the source text names.
    let clock = Arc::new(ScenarioClock::default());
    // The scenario's own trust roots and the services' reaction keys: every
    // command and every reaction is signed and verified, as in a deployment.
    let mut settings = settings.clone();
    settings.require_signatures = true;
    settings.trust_roots = scenario.trust_roots_setting();
    settings.service_keys = accord_scenario::service_keys_setting();
    let reaction_keys = ServiceKind::ALL
        .iter()
        .map(|kind| {
            (
                kind.name().to_owned(),
                accord_scenario::service_key(kind.name()),
            )
        })
        .collect();
    // Each log signs checkpoints; Lithuania's and Ukraine's witnesses co-sign them.
    settings.checkpoint_every_events = demo_evidence::EVERY_EVENTS;
    settings.witnesses = demo_evidence::witnesses_setting();
    let bus = Running::embedded_bus();
    std::fs::create_dir_all(&settings.data_dir)?;
    let witnesses =
        demo_evidence::Witnesses::start(&bus, &settings.data_dir.join("witnesses")).await?;
    let mut running = Running::start_with_clock(
        &settings,
        &ServiceKind::ALL,
        bus,
        Some(clock.clone()),
        reaction_keys,
        demo_evidence::log_keys(),
    )?;
    let client = AccordClient::new(running.bus.clone());
    for kind in ServiceKind::ALL {
        wait_ready(&client, kind.name(), PATIENCE).await?;
    }
    let mut pure = Embedded::default();
    let total = scenario.steps.len();
    tracing::info!(
        total,
        "accord.demo playing the scenario's commands over the embedded bus"
    );
    for index in 0..total {
        let step = &scenario.steps[index];
        tracing::debug!(step = index + 1, total, command = %step.command, actor = %step.actor, "accord.demo playing");
        clock.set(step.recorded_at);
        // JSON and protobuf alternate: both paths are the clients' paths.
        play_step(
            &client,
            &scenario.steps,
            index,
            &mut pure,
            index % 2 == 0,
            PATIENCE,
        )
        .await?;
    }
    writeln!(
        out,
        "Accord demo: {} — {total} commands played over the embedded bus\n",
        scenario.name
    )?;
    let items = crate::play::items(&pure);
    let projections = fetch(&client, &items).await?;
    for table in tables(&projections) {
        writeln!(out, "{}", table.render())?;
    }
    for timeline in amended_by_motion(&client, &projections).await? {
        writeln!(out, "{}", timeline_table(&timeline).render())?;
    }
    running.stop();
    // The services issue their last checkpoints as they stop, and ask the witnesses.
    running.wait().await?;
    witnesses.stop().await?;
    writeln!(
        out,
        "{}",
        demo_evidence::checkpoints_table(&running.logs)?.render()
    )?;
    if !temporary {
        let proof = demo_evidence::write_priority_proof(&running.logs, &settings.data_dir)?;
        writeln!(
            out,
            "proof that Ukraine's acceptance of the priority commitment is in the co-signed log: {}\n\
             check it offline: accord audit check-proof {} --log-key {} --witness {}\n",
            proof.display(),
            proof.display(),
            demo_evidence::log_signer("agreements").verifier(),
            demo_evidence::witnesses_setting().replace(',', " --witness ")
        )?;
    }
    tracing::info!("accord.demo verifying the logs");

    let mut t = Table::new(
        "Log verification",
        &["service", "events", "head hash", "result"],
    );
    let mut failed = false;
    for (kind, log) in &running.logs {
        match log.verify() {
            Ok(report) => t.row(vec![
                kind.to_string(),
                report.events.to_string(),
                report.head_hash.to_string(),
                "ok: hash chain, positions and versions verified".into(),
            ]),
            Err(error) => {
                failed = true;
                t.row(vec![
                    kind.to_string(),
                    "-".into(),
                    "-".into(),
                    format!("FAILED: {error}"),
                ]);
            }
        }
    }
    writeln!(out, "{}", t.render())?;
    writeln!(out, "data: {}", settings.data_dir.display())?;
    if temporary {
        writeln!(
            out,
            "(a temporary directory, removed on exit; keep the data with --data DIR)"
        )?;
    }
    if failed {
        anyhow::bail!("log verification failed");
    }
    Ok(())
}
