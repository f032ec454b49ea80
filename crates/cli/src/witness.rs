//! `accord witness`: the process each party runs to co-sign the checkpoints of the
//! logs it trusts, per C2SP `tlog-witness` (add-checkpoint) carried over NATS
//! request/reply instead of HTTP (subject and headers: `proto/EVIDENCE.md`).
//!
//! For each trusted log (origin and key, from `--logs`) it keeps the last checkpoint
//! it co-signed in `--state`, one file per log, written to a temporary file,
//! fdatasync'd, renamed over the old one and the directory fsync'd *before* the
//! cosignature is answered: a witness killed at any instant and restarted holds the
//! last checkpoint it answered for, or (killed between the rename and the answer) a
//! later one nobody heard, never an older one. Requests are decided one at a time,
//! so checking the old size and keeping the new checkpoint is atomic. A request that
//! a log signed but that does not extend the kept checkpoint (a rewrite, a
//! truncation, a split view) is refused, logged as an alarm, and kept with the
//! checkpoint it contradicts in `--state/alarms/`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as IoWrite;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use accord_bus::{Bus, BusError, EndpointSpec, Message, ServiceSpec};
use accord_evidence::checkpoint::Checkpoint;
use accord_evidence::cosignature::Cosigner;
use accord_evidence::note::VerifierKey;
use accord_evidence::witness::{add_checkpoint, AddCheckpoint, Record, Refusal};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

/// Why a witness cannot start or go on.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {why}")]
    Config { path: String, why: String },
    #[error("{0} is used by another witness process")]
    Locked(String),
    #[error("the bus: {0}")]
    Bus(#[from] BusError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WitnessError + '_ {
    move |source| WitnessError::Io {
        path: path.display().to_string(),
        source,
    }
}

pub use accord_runtime::witness_client::{ask, WitnessAnswer, STATUS_HEADER};

/// The NATS subject a witness named `name` answers add-checkpoint on (see
/// [`accord_bus::witness_subject`]).
pub fn subject(name: &str) -> String {
    accord_bus::witness_subject(name)
}

/// Reads a witness key file (`PRIVATE+KEY+<name>+<id>+base64(0x04 || seed)`).
pub fn read_key(path: &Path) -> Result<Cosigner, WitnessError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    text.trim().parse().map_err(|e| WitnessError::Config {
        path: path.display().to_string(),
        why: format!("not a witness key: {e}"),
    })
}

/// Reads the logs file: one log verifier key (`<origin>+<id>+base64(0x01 || key)`,
/// as `accord keys log` prints it) per line; blank lines and `#` comments ignored.
pub fn read_logs(path: &Path) -> Result<Vec<VerifierKey>, WitnessError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let mut logs: Vec<VerifierKey> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key: VerifierKey = line.parse().map_err(|e| WitnessError::Config {
            path: path.display().to_string(),
            why: format!("line {}: not a log key: {e}", number + 1),
        })?;
        if logs.iter().any(|k| k.name() == key.name()) {
            return Err(WitnessError::Config {
                path: path.display().to_string(),
                why: format!("line {}: log {} is listed twice", number + 1, key.name()),
            });
        }
        logs.push(key);
    }
    if logs.is_empty() {
        return Err(WitnessError::Config {
            path: path.display().to_string(),
            why: "no log keys: a witness must trust at least one log".into(),
        });
    }
    Ok(logs)
}

/// What the witness has done since it started, and the size it co-signed last per
/// log: what `/metrics` shows.
#[derive(Debug, Default)]
pub struct Counters {
    pub cosigned: AtomicU64,
    pub refused: AtomicU64,
    pub alarms: AtomicU64,
    pub sizes: Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    /// Notes the size co-signed last for `origin`.
    pub fn sizes_insert(&self, origin: &str, size: u64) {
        self.set_size(origin, size);
    }

    fn set_size(&self, origin: &str, size: u64) {
        self.sizes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(origin.to_owned(), size);
    }

    /// The Prometheus text of the witness's metrics.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, help, value) in [
            ("accord_witness_cosigned_total", "Checkpoints co-signed.", &self.cosigned),
            ("accord_witness_refused_total", "Add-checkpoint requests refused.", &self.refused),
            (
                "accord_witness_alarms_total",
                "Refusals showing a log that does not extend what this witness co-signed (rewrite, truncation, split view).",
                &self.alarms,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", value.load(Ordering::Relaxed));
        }
        out.push_str("# HELP accord_witness_cosigned_size The tree size this witness co-signed last, per log.\n# TYPE accord_witness_cosigned_size gauge\n");
        for (origin, size) in self
            .sizes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "accord_witness_cosigned_size{{log=\"{}\"}} {size}",
                origin.replace('"', "\\\"")
            );
        }
        out
    }
}

/// A witness's HTTP endpoints: ready while the bus is connected.
#[derive(Debug, Clone)]
pub struct WitnessEndpoints {
    pub bus: Bus,
    pub counters: Arc<Counters>,
}

impl crate::http::Endpoints for WitnessEndpoints {
    fn not_ready(&self) -> Vec<String> {
        if self.bus.is_connected() {
            vec![]
        } else {
            vec!["bus not connected".into()]
        }
    }

    fn metrics_text(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = String> + Send + '_>> {
        Box::pin(async move { self.counters.render() })
    }
}

/// The witness's durable records: the last co-signed checkpoint per log.
#[derive(Debug)]
pub struct State {
    dir: PathBuf,
    records: HashMap<String, Record>,
    /// Held while the witness runs: two witnesses on one state would race.
    _lock: File,
}

fn file_name(origin: &str) -> String {
    let digest = Sha256::digest(origin.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.checkpoint")
}

/// Writes `bytes` to `path` so that after a crash `path` holds either its old
/// contents or all of `bytes`: temporary file, fdatasync, rename, directory fsync.
fn write_durably(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), WitnessError> {
    let temporary = path.with_extension("tmp");
    let mut file = File::create(&temporary).map_err(io(&temporary))?;
    file.write_all(bytes).map_err(io(&temporary))?;
    file.sync_data().map_err(io(&temporary))?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(io(path))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

impl State {
    /// Opens (or creates) the state directory and reads every kept checkpoint of a
    /// trusted log, each checked against that log's key.
    pub fn open(dir: &Path, logs: &[VerifierKey]) -> Result<State, WitnessError> {
        std::fs::create_dir_all(dir.join("alarms")).map_err(io(dir))?;
        let lock_path = dir.join("LOCK");
        let lock = File::create(&lock_path).map_err(io(&lock_path))?;
        // An advisory lock (flock), released by the kernel when the process dies, so
        // a witness killed with SIGKILL restarts without help. (Rust 1.89: the MSRV.)
        if lock.try_lock().is_err() {
            return Err(WitnessError::Locked(dir.display().to_string()));
        }
        let mut records = HashMap::new();
        for log in logs {
            let path = dir.join(file_name(log.name()));
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&path)(e)),
            };
            let (checkpoint, _) =
                Checkpoint::open(&bytes, log).map_err(|e| WitnessError::Config {
                    path: path.display().to_string(),
                    why: format!("the kept checkpoint of {} does not open: {e}", log.name()),
                })?;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            records.insert(
                log.name().to_owned(),
                Record {
                    size: checkpoint.size,
                    root: checkpoint.root,
                    checkpoint: text,
                },
            );
        }
        Ok(State {
            dir: dir.to_path_buf(),
            records,
            _lock: lock,
        })
    }

    /// The last checkpoint co-signed for `origin`.
    pub fn latest(&self, origin: &str) -> Option<&Record> {
        self.records.get(origin)
    }

    fn keep(&mut self, origin: &str, record: Record) -> Result<(), WitnessError> {
        let path = self.dir.join(file_name(origin));
        write_durably(&self.dir, &path, record.checkpoint.as_bytes())?;
        self.records.insert(origin.to_owned(), record);
        Ok(())
    }

    /// Keeps a refused request beside the checkpoint it contradicts.
    fn alarm(&self, origin: &str, refusal: &Refusal, body: &[u8]) -> Result<PathBuf, WitnessError> {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let path = self.dir.join("alarms").join(format!(
            "{nanos}-{}",
            file_name(origin).replace(".checkpoint", ".alarm")
        ));
        let kept = self
            .records
            .get(origin)
            .map_or("(none)\n", |r| r.checkpoint.as_str());
        let text = format!(
            "refused: {refusal}\n\n# the checkpoint this witness co-signed last\n{kept}\n# the refused add-checkpoint request\n{}",
            String::from_utf8_lossy(body)
        );
        write_durably(&self.dir.join("alarms"), &path, text.as_bytes())?;
        Ok(path)
    }
}

/// A witness: its key, the logs it trusts, its records and counters.
#[derive(Debug)]
pub struct Witness {
    pub cosigner: Cosigner,
    pub logs: Vec<VerifierKey>,
    pub state: State,
    pub counters: Arc<Counters>,
}

/// The answer to one request: its tlog-witness status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Witness {
    /// Decides one add-checkpoint request and, when co-signing, keeps the new
    /// checkpoint durably before answering. An error is a failure to keep it: the
    /// request is then not co-signed.
    pub fn handle(&mut self, body: &[u8], now: u64) -> Result<Answer, WitnessError> {
        let (origin, decided) = match AddCheckpoint::parse(body) {
            Err(refusal) => (String::new(), Err(refusal)),
            Ok(request) => {
                let origin = request
                    .checkpoint
                    .split('\n')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let latest = self.state.latest(&origin).cloned();
                let decided = add_checkpoint(&self.logs, |_| latest, &request, &self.cosigner, now);
                (origin, decided)
            }
        };
        match decided {
            Ok(cosigned) => {
                self.state.keep(&origin, cosigned.record.clone())?;
                self.counters.cosigned.fetch_add(1, Ordering::Relaxed);
                self.counters.set_size(&origin, cosigned.record.size);
                tracing::info!(
                    origin,
                    size = cosigned.record.size,
                    "accord.witness cosigned"
                );
                Ok(Answer {
                    status: 200,
                    content_type: "text/plain; charset=utf-8",
                    body: cosigned.line,
                })
            }
            Err(refusal) => {
                self.counters.refused.fetch_add(1, Ordering::Relaxed);
                if refusal.is_alarm() {
                    self.counters.alarms.fetch_add(1, Ordering::Relaxed);
                    let kept = self.state.alarm(&origin, &refusal, body)?;
                    tracing::error!(origin, %refusal, evidence = %kept.display(), "accord.witness ALARM: the log does not extend what this witness co-signed");
                } else {
                    tracing::warn!(origin, %refusal, "accord.witness refused");
                }
                Ok(match refusal {
                    Refusal::StaleOldSize { latest, .. } => Answer {
                        status: 409,
                        content_type: "text/x.tlog.size",
                        body: format!("{latest}\n"),
                    },
                    other => Answer {
                        status: other.status(),
                        content_type: "text/plain; charset=utf-8",
                        body: format!("{other}\n"),
                    },
                })
            }
        }
    }
}

/// Serves add-checkpoint requests on the bus until `shutdown` turns true, one at a
/// time (the spec's atomic check-and-update).
pub async fn serve(
    bus: &Bus,
    mut witness: Witness,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), WitnessError> {
    let name = witness.cosigner.verifier().name().to_owned();
    let spec = ServiceSpec {
        name: "accord-witness".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        description: format!("tlog-witness {name}"),
        endpoints: vec![EndpointSpec {
            name: "add-checkpoint".into(),
            subject: subject(&name),
            metadata: Default::default(),
        }],
    };
    let mut served = bus.serve(spec).await?;
    tracing::info!(witness = %name, subject = %subject(&name), logs = witness.logs.len(), "accord.witness serving");
    loop {
        let incoming = tokio::select! {
            incoming = served.requests.recv() => incoming,
            _ = shutdown.changed() => break,
        };
        let Some(incoming) = incoming else { break };
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let answer = match witness.handle(&incoming.message.payload, now) {
            Ok(answer) => answer,
            Err(error) => {
                // Not kept, so not co-signed: the log asks again later.
                tracing::error!(%error, "accord.witness could not keep its record");
                Answer {
                    status: 503,
                    content_type: "text/plain; charset=utf-8",
                    body: format!("the witness could not keep its record: {error}\n"),
                }
            }
        };
        let reply = Message::new("", answer.body.into_bytes())
            .with_header(STATUS_HEADER, answer.status.to_string())
            .with_header("Content-Type", answer.content_type);
        if let Err(error) = incoming.reply.send(reply).await {
            tracing::warn!(%error, "accord.witness answer not sent");
        }
    }
    Ok(())
}
