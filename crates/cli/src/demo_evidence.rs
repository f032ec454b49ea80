//! The demo's evidence: each service signs checkpoints of its log with a log key,
//! and a witness for Lithuania and one for Ukraine (in this process, on the
//! embedded bus, as `accord witness` runs them over NATS) co-sign them. Keys are
//! derived from fixed labels, so the demo's public keys never change; they are
//! demo keys, not secrets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use accord_bus::Bus;
use accord_contracts::v1 as pb;
use accord_evidence::checkpoint::Checkpoint;
use accord_evidence::cosignature::{Cosigner, CosignerKey};
use accord_evidence::note::{NoteSigner, VerifierKey};
use accord_log::Log;
use accord_runtime::ServiceKind;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use prost::Message as _;
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::tables::Table;
use crate::witness::{self, Counters, State, Witness, WitnessError};

/// The deployment name in the demo's log origins.
pub const ORIGIN_PREFIX: &str = "accord.demo/lt-ua";

/// The demo's witnesses: one per state party.
pub const WITNESSES: [&str; 2] = ["witness.lt.demo", "witness.ua.demo"];

/// A checkpoint every this many events, so the demo's short run shows several.
pub const EVERY_EVENTS: u64 = 25;

fn seed(label: &str) -> [u8; 32] {
    Sha256::digest(format!("accord demo key: {label}").as_bytes()).into()
}

/// The origin of `service`'s log in the demo.
pub fn origin(service: &str) -> String {
    format!("{ORIGIN_PREFIX}/{service}")
}

/// The demo's log key of `service`.
pub fn log_signer(service: &str) -> NoteSigner {
    let origin = origin(service);
    match NoteSigner::from_seed(&origin, seed(&origin)) {
        Ok(signer) => signer,
        // The origin is a fixed, valid key name.
        Err(error) => unreachable!("demo origin {origin}: {error}"),
    }
}

/// The demo's witness named `name`.
pub fn cosigner(name: &str) -> Cosigner {
    match Cosigner::from_seed(name, seed(name)) {
        Ok(cosigner) => cosigner,
        Err(error) => unreachable!("demo witness {name}: {error}"),
    }
}

/// The demo's log keys, one per service.
pub fn log_keys() -> BTreeMap<String, NoteSigner> {
    ServiceKind::ALL
        .iter()
        .map(|kind| (kind.name().to_owned(), log_signer(kind.name())))
        .collect()
}

/// The witnesses' public keys, as the `witnesses` setting takes them.
pub fn witnesses_setting() -> String {
    WITNESSES
        .iter()
        .map(|name| cosigner(name).verifier().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The two witnesses, serving on `bus` until `stop` turns true; their records in
/// `state_dir/<name>`.
#[derive(Debug)]
pub struct Witnesses {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<Result<(), WitnessError>>>,
}

impl Witnesses {
    pub async fn start(bus: &Bus, state_dir: &Path) -> Result<Witnesses, WitnessError> {
        let logs: Vec<VerifierKey> = ServiceKind::ALL
            .iter()
            .map(|kind| log_signer(kind.name()).verifier().clone())
            .collect();
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        for name in WITNESSES {
            let state = State::open(&state_dir.join(name), &logs)?;
            let witness = Witness {
                cosigner: cosigner(name),
                logs: logs.clone(),
                state,
                counters: Arc::new(Counters::default()),
            };
            let bus = bus.clone();
            let stopped = stopped.clone();
            tasks.push(tokio::spawn(async move {
                witness::serve(&bus, witness, stopped).await
            }));
        }
        Ok(Witnesses { stop, tasks })
    }

    /// Stops both and waits for them.
    pub async fn stop(self) -> Result<(), WitnessError> {
        let _ = self.stop.send(true);
        for task in self.tasks {
            match task.await {
                Ok(result) => result?,
                Err(error) => {
                    return Err(WitnessError::Config {
                        path: "witness task".into(),
                        why: error.to_string(),
                    })
                }
            }
        }
        Ok(())
    }
}

/// The latest checkpoint of each log, with who co-signed it.
pub fn checkpoints_table(logs: &[(ServiceKind, Log)]) -> anyhow::Result<Table> {
    let mut t = Table::new(
        "Checkpoints (C2SP tlog-checkpoint signed by each log, co-signed by the parties' witnesses)",
        &["service", "origin", "kept", "latest size", "root", "co-signed by"],
    );
    let witnesses: Vec<CosignerKey> = WITNESSES
        .iter()
        .map(|name| cosigner(name).verifier().clone())
        .collect();
    for (kind, log) in logs {
        let kept = log.checkpoints().count();
        let Some((_, bytes)) = log.latest_checkpoint()? else {
            t.row(vec![
                kind.to_string(),
                origin(kind.name()),
                "0".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ]);
            continue;
        };
        let signer = log_signer(kind.name());
        let (checkpoint, note) = Checkpoint::open(&bytes, signer.verifier())?;
        let cosigned: Vec<&str> = witnesses
            .iter()
            .filter(|w| w.verify(&note).is_ok())
            .map(CosignerKey::name)
            .collect();
        t.row(vec![
            kind.to_string(),
            checkpoint.origin,
            kept.to_string(),
            checkpoint.size.to_string(),
            BASE64.encode(checkpoint.root),
            if cosigned.is_empty() {
                "nobody yet".into()
            } else {
                cosigned.join(", ")
            },
        ]);
    }
    Ok(t)
}

/// The event recording Ukraine's acceptance of Lithuania's procurement priority
/// commitment, in the agreements log.
fn priority_acceptance(log: &Log) -> anyhow::Result<Option<uuid::Uuid>> {
    for event in log.read_all(1) {
        let event = event?;
        if event.event_type != "accord.v1.CommitmentAccepted" {
            continue;
        }
        let accepted = pb::CommitmentAccepted::decode(event.payload.as_slice())?;
        if accepted.commitment_id == "c-priority" {
            return Ok(Some(event.event_id));
        }
    }
    Ok(None)
}

/// Writes the proof that the priority commitment's acceptance is in the agreements
/// log's co-signed tree to `dir/priority-acceptance.tlog-proof` (and its envelope
/// beside it); answers the proof's path.
pub fn write_priority_proof(logs: &[(ServiceKind, Log)], dir: &Path) -> anyhow::Result<PathBuf> {
    let Some((_, log)) = logs.iter().find(|(k, _)| *k == ServiceKind::Agreements) else {
        anyhow::bail!("the agreements log is not open");
    };
    let Some(event) = priority_acceptance(log)? else {
        anyhow::bail!("no acceptance of c-priority in the agreements log");
    };
    let out = dir.join("priority-acceptance.tlog-proof");
    let signer = log_signer("agreements");
    crate::audit::prove::prove_in(log, "agreements", event, None, signer.verifier(), &out)?;
    Ok(out)
}
