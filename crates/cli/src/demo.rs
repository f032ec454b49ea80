//! `accord demo`: the three services in one process on the embedded bus, the
//! scenario from the source text played through the same request path NATS clients
//! use, the key projections printed as tables, and every log verified.

use std::io::Write;
use std::time::Duration;

use accord_bus::AccordClient;
use accord_contracts::v1::{self as pb, reply::Outcome};
use accord_runtime::ServiceKind;
use accord_scenario::{Embedded, Scenario};
use prost::Message as _;

use crate::play::{play_step, wait_ready};
use crate::running::Running;
use crate::settings::Settings;
use crate::tables::Table;

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

/// The demo's tables, from queries over the bus.
pub async fn tables(client: &AccordClient, items: &[String]) -> anyhow::Result<Vec<Table>> {
    let mut tables = Vec::new();
    if let Outcome::Agreements(register) =
        query(client, "agreements", "AgreementRegister", vec![]).await?
    {
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
        for a in register.agreements {
            t.row(vec![
                a.id,
                a.kind,
                a.parties.join(" "),
                a.status,
                format!("{}/{}", a.signatures, a.signatories),
                a.in_force_since,
                a.amendments.to_string(),
            ]);
        }
        tables.push(t);
    }
    if let Outcome::Ledger(ledger) = query(client, "agreements", "CommitmentLedger", vec![]).await?
    {
        let mut t = Table::new(
            "Commitment ledger (gap = committed - delivered)",
            &[
                "commitment",
                "obligor",
                "beneficiary",
                "kind",
                "status",
                "committed",
                "allocated",
                "delivered",
                "gap",
            ],
        );
        for r in ledger.rows {
            let unit = r
                .committed
                .as_ref()
                .map(|q| q.unit.clone())
                .unwrap_or_default();
            t.row(vec![
                r.id,
                r.obligor,
                r.beneficiary,
                r.kind,
                r.status,
                r.committed
                    .map(|q| amount(q.amount, &q.unit))
                    .unwrap_or_else(|| "-".into()),
                amount(r.allocated, &unit),
                amount(r.delivered, &unit),
                r.gap
                    .map(|g| amount(g, &unit))
                    .unwrap_or_else(|| "-".into()),
            ]);
        }
        tables.push(t);
    }
    if let Outcome::Decisions(decisions) =
        query(client, "agreements", "BoardDecisions", vec![]).await?
    {
        let mut t = Table::new(
            "Steering Board decisions",
            &["board", "motion", "subject", "status", "votes"],
        );
        for d in decisions.decisions {
            let votes: Vec<String> = d
                .votes
                .iter()
                .map(|v| format!("{} {}", v.party, v.vote))
                .collect();
            t.row(vec![
                d.board,
                d.motion,
                d.subject,
                d.status,
                votes.join(", "),
            ]);
        }
        tables.push(t);
    }
    if let Outcome::Portfolio(portfolio) =
        query(client, "projects", "ProjectPortfolio", vec![]).await?
    {
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
            ],
        );
        for p in portfolio.projects {
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
                p.id,
                p.area,
                p.host,
                p.status,
                pledged.join(", "),
                disbursed.join(", "),
                format!(
                    "{}/{} reached, {} slipped",
                    p.milestones_reached, p.milestones_planned, p.milestones_slipped
                ),
                p.days_to_launch
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into()),
            ]);
        }
        tables.push(t);
    }
    for item in items {
        let body = pb::ProcurementQueueQuery { item: item.clone() }.encode_to_vec();
        if let Outcome::Queue(queue) =
            query(client, "procurement", "ProcurementQueue", body).await?
        {
            let mut t = Table::new(
                &format!("Procurement: {item} (open requests by rank, then allocations)"),
                &["", "request", "rank", "tier", "quantity", "why"],
            );
            for r in queue.requests {
                t.row(vec![
                    "open".into(),
                    r.request_id,
                    r.rank.to_string(),
                    r.tier.to_string(),
                    String::new(),
                    r.explanation,
                ]);
            }
            for a in queue.allocations {
                let quantity = a
                    .quantity
                    .map(|q| amount(q.amount, &q.unit))
                    .unwrap_or_default();
                t.row(vec![
                    format!("allocated from {}", a.supply_id),
                    a.request_id,
                    a.rank.to_string(),
                    a.tier.to_string(),
                    quantity,
                    a.explanation,
                ]);
            }
            tables.push(t);
        }
    }
    Ok(tables)
}

/// Runs the demo on `settings.data_dir`, which must be empty or absent; `temporary`
/// says the directory goes away when the demo ends.
pub async fn run(settings: &Settings, temporary: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let scenario = Scenario::lt_ua()?;
    let mut running = Running::start(settings, &ServiceKind::ALL, Running::embedded_bus())?;
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
    let items: Vec<String> = pure.procurement.markets.keys().cloned().collect();
    for table in tables(&client, &items).await? {
        writeln!(out, "{}", table.render())?;
    }
    running.stop();
    running.wait().await?;
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
