//! A service's checkpoints: every `every_events` events or `every` (whichever comes
//! first, and only when the log grew) and once more at shutdown, the service signs a
//! C2SP tlog-checkpoint of its log's Merkle tree with its log key, keeps it in the
//! log (durably, before anyone is told of it), asks each configured witness to
//! co-sign it (tlog-witness add-checkpoint over the bus), keeps the cosignatures it
//! gets beside it, and publishes the co-signed note on `accord.<service>.checkpoint`
//! (stream `ACCORD_<SERVICE>_CHECKPOINTS`).
//!
//! Nothing here is on the command path: a witness that is away, slow or refusing
//! never holds up a command. A witness that missed checkpoints is asked again for
//! the latest one, with a consistency proof from the size it co-signed last, so its
//! co-signatures catch up when it returns (what it missed meanwhile stays without
//! its cosignature). Witness lag is on `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use accord_bus::{
    checkpoint_stream_name, checkpoint_subject, headers, Bus, BusError, Message, StreamSpec,
};
use accord_evidence::checkpoint::Checkpoint;
use accord_evidence::cosignature::CosignerKey;
use accord_evidence::note::{Note, NoteSigner};
use accord_evidence::witness::AddCheckpoint;
use accord_log::{Log, LogError};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::metrics::Metrics;
use crate::witness_client::ask;

/// How a service issues checkpoints and whom it asks to co-sign them.
#[derive(Debug, Clone)]
pub struct CheckpointConfig {
    /// The log key; its name is the log's origin (e.g. `accord.example/lt-ua/agreements`).
    pub signer: Arc<NoteSigner>,
    /// Issue a checkpoint once this many events were appended since the last one.
    pub every_events: u64,
    /// Or once this long has passed with at least one new event.
    pub every: Duration,
    /// The witnesses to ask, by their cosigner keys (the name gives the subject).
    pub witnesses: Vec<CosignerKey>,
    /// How long to wait for one witness's answer.
    pub witness_timeout: Duration,
    /// JetStream replicas of the checkpoint stream.
    pub replicas: usize,
}

impl CheckpointConfig {
    /// A checkpoint every 1,000 events or 10 seconds, witnesses given 5 seconds.
    pub fn new(signer: NoteSigner, witnesses: Vec<CosignerKey>) -> CheckpointConfig {
        CheckpointConfig {
            signer: Arc::new(signer),
            every_events: 1000,
            every: Duration::from_secs(10),
            witnesses,
            witness_timeout: Duration::from_secs(5),
            replicas: 1,
        }
    }
}

/// Why a checkpoint could not be issued or kept.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("the log: {0}")]
    Log(#[from] LogError),
    #[error("signing the checkpoint: {0}")]
    Sign(String),
    #[error("a kept checkpoint of size {size} does not open: {why}")]
    Kept { size: u64, why: String },
}

/// What one witness has co-signed of this log.
#[derive(Debug, Clone)]
struct WitnessState {
    key: CosignerKey,
    /// The size it co-signed last (0: never, as far as this log knows).
    size: u64,
}

/// The latest checkpoint and who co-signed what: rebuilt from the log's kept
/// checkpoints at start.
#[derive(Debug)]
struct Issuer {
    service: &'static str,
    log: Log,
    config: CheckpointConfig,
    metrics: Arc<Metrics>,
    /// The latest kept checkpoint: its size and whole note (with cosignatures).
    latest: Option<(u64, String)>,
    witnesses: Vec<WitnessState>,
    /// Whether the latest note changed since it was last published.
    unpublished: bool,
}

/// Runs disk work (tree reads, a kept checkpoint's fdatasync) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, CheckpointError> + Send + 'static,
) -> Result<T, CheckpointError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CheckpointError::Log(LogError::Storage(format!("checkpoint task: {e}"))))?
}

impl Issuer {
    fn resume(
        service: &'static str,
        log: Log,
        config: CheckpointConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Issuer, CheckpointError> {
        let mut witnesses: Vec<WitnessState> = config
            .witnesses
            .iter()
            .map(|key| WitnessState {
                key: key.clone(),
                size: 0,
            })
            .collect();
        let mut latest = None;
        let mut unfound = witnesses.len();
        for kept in log.checkpoints().rev() {
            let (size, bytes) = kept?;
            let text = String::from_utf8(bytes).map_err(|_| CheckpointError::Kept {
                size,
                why: "not UTF-8".into(),
            })?;
            let note = Note::parse(text.as_bytes()).map_err(|e| CheckpointError::Kept {
                size,
                why: e.to_string(),
            })?;
            for witness in witnesses.iter_mut().filter(|w| w.size == 0) {
                if size > 0 && witness.key.verify(&note).is_ok() {
                    witness.size = size;
                    unfound -= 1;
                }
            }
            if latest.is_none() {
                latest = Some((size, text));
            }
            if unfound == 0 {
                break;
            }
        }
        if let Some((size, _)) = &latest {
            metrics.checkpoint_issued(service, *size);
        }
        for witness in &witnesses {
            metrics.witness_cosigned(service, witness.key.name(), witness.size);
        }
        Ok(Issuer {
            service,
            log,
            config,
            metrics,
            unpublished: latest.is_some(),
            latest,
            witnesses,
        })
    }

    fn latest_size(&self) -> Option<u64> {
        self.latest.as_ref().map(|(size, _)| *size)
    }

    /// Whether a checkpoint is due: the log grew by `every_events`, or grew at all
    /// and `waited` reached `every` (or the service is stopping).
    fn due(&self, waited: Duration, stopping: bool) -> bool {
        let durable = self.log.durable_position();
        let since = self.latest_size();
        let grown = since.map_or(durable > 0, |size| durable > size);
        let by = durable.saturating_sub(since.unwrap_or(0));
        grown && (by >= self.config.every_events || waited >= self.config.every || stopping)
    }

    /// Signs and keeps a checkpoint of the log's durable events.
    async fn issue(&mut self) -> Result<(), CheckpointError> {
        let log = self.log.clone();
        let signer = self.config.signer.clone();
        let (size, note) = blocking(move || {
            let size = log.durable_position();
            let root = log.tree_root(size)?;
            let checkpoint = Checkpoint {
                origin: signer.verifier().name().to_owned(),
                size,
                root,
                extensions: vec![],
            };
            let note = checkpoint
                .sign(&signer)
                .map_err(|e| CheckpointError::Sign(e.to_string()))?;
            log.keep_checkpoint(size, note.as_bytes())?;
            Ok((size, note))
        })
        .await?;
        tracing::info!(service = self.service, size, "accord.checkpoint issued");
        self.metrics.checkpoint_issued(self.service, size);
        self.latest = Some((size, note));
        self.unpublished = true;
        Ok(())
    }

    /// Asks every witness that has not co-signed the latest checkpoint, at once, and
    /// keeps the cosignatures that verify.
    async fn ask_witnesses(&mut self, bus: &Bus) -> Result<(), CheckpointError> {
        let Some((size, note)) = self.latest.clone() else {
            return Ok(());
        };
        let Ok(parsed) = Note::parse(note.as_bytes()) else {
            return Err(CheckpointError::Kept {
                size,
                why: "the latest checkpoint does not parse".into(),
            });
        };
        // The log's own signature only: what the witness checks.
        let signed = self
            .config
            .signer
            .sign(&parsed.text)
            .map_err(|e| CheckpointError::Sign(e.to_string()))?;
        let mut asks = JoinSet::new();
        for (index, witness) in self.witnesses.iter().enumerate() {
            let cosigned = witness.key.verify(&parsed).is_ok();
            if cosigned || witness.size > size {
                continue;
            }
            asks.spawn(ask_one(
                bus.clone(),
                self.log.clone(),
                index,
                witness.clone(),
                size,
                signed.clone(),
                self.config.witness_timeout,
            ));
        }
        let mut lines = Vec::new();
        while let Some(done) = asks.join_next().await {
            let Ok((index, outcome)) = done else { continue };
            let name = self.witnesses[index].key.name().to_owned();
            match outcome {
                Asked::Cosigned { line, from } => {
                    self.witnesses[index].size = size;
                    self.metrics.witness_cosigned(self.service, &name, size);
                    tracing::info!(service = self.service, witness = %name, size, old = from, "accord.checkpoint cosigned");
                    lines.push(line);
                }
                Asked::Failed { why, alarm, detail } => {
                    self.metrics.witness_failed(self.service, &name, &why);
                    if alarm {
                        tracing::error!(service = self.service, witness = %name, size, %why, %detail, "accord.checkpoint ALARM: a witness says this log does not extend what it co-signed");
                    } else {
                        tracing::warn!(service = self.service, witness = %name, size, %why, %detail, "accord.checkpoint not co-signed yet");
                    }
                }
                Asked::Ahead {
                    size: theirs,
                    refusal,
                } => {
                    self.witnesses[index].size = theirs;
                    self.metrics.witness_failed(self.service, &name, "ahead");
                    tracing::error!(service = self.service, witness = %name, ours = size, theirs, answer = ?refusal, "accord.checkpoint ALARM: a witness co-signed a larger tree of this log than it holds: the log was cut back");
                }
            }
        }
        if lines.is_empty() {
            return Ok(());
        }
        let mut whole = note;
        for line in lines {
            whole.push_str(&line);
        }
        let log = self.log.clone();
        let kept = whole.clone();
        blocking(move || Ok(log.keep_checkpoint(size, kept.as_bytes())?)).await?;
        self.latest = Some((size, whole));
        self.unpublished = true;
        Ok(())
    }

    /// Publishes the latest note if it changed since it was last published.
    async fn publish(&mut self, bus: &Bus) -> Result<(), BusError> {
        let Some((size, note)) = &self.latest else {
            return Ok(());
        };
        if !self.unpublished {
            return Ok(());
        }
        let signatures = note.lines().filter(|l| l.starts_with('\u{2014}')).count();
        let message = Message::new(checkpoint_subject(self.service), note.clone().into_bytes())
            .with_header(
                headers::MSG_ID,
                format!(
                    "{}/{size}/{signatures}",
                    self.config.signer.verifier().name()
                ),
            )
            .with_header(headers::CONTENT_TYPE, "text/plain; charset=utf-8");
        bus.publish_batch(vec![message]).await?;
        self.unpublished = false;
        Ok(())
    }
}

/// What one witness made of one request.
#[derive(Debug)]
enum Asked {
    Cosigned {
        line: String,
        from: u64,
    },
    Failed {
        why: String,
        alarm: bool,
        detail: String,
    },
    /// The witness co-signed a larger tree than this checkpoint's, and refused it.
    Ahead {
        size: u64,
        refusal: Box<Asked>,
    },
}

/// Asks one witness, from the size it co-signed last; once more from the size it
/// answers when that is not what it holds (409 `text/x.tlog.size`).
async fn ask_one(
    bus: Bus,
    log: Log,
    index: usize,
    witness: WitnessState,
    size: u64,
    signed: String,
    timeout: Duration,
) -> (usize, Asked) {
    let mut old = witness.size;
    for _ in 0..2 {
        // From a size above this checkpoint's (a witness that co-signed more of this
        // log than it holds) the request carries no proof: the witness refuses it as
        // a log cut back, and keeps it as evidence.
        let proof = if old == 0 || old >= size {
            Ok(vec![])
        } else {
            let log = log.clone();
            blocking(move || Ok(log.consistency_proof(old, size)?)).await
        };
        let proof = match proof {
            Ok(proof) => proof,
            Err(error) => {
                let failed = Asked::Failed {
                    why: "proof".into(),
                    alarm: false,
                    detail: error.to_string(),
                };
                return (index, failed);
            }
        };
        let request = AddCheckpoint {
            old_size: old,
            proof,
            checkpoint: signed.clone(),
        };
        let answer = match ask(&bus, witness.key.name(), &request, timeout).await {
            Ok(answer) => answer,
            Err(error) => {
                let failed = Asked::Failed {
                    why: "unreachable".into(),
                    alarm: false,
                    detail: error.to_string(),
                };
                return (index, failed);
            }
        };
        match (answer.status, answer.body.trim().parse::<u64>()) {
            (200, _) => return (index, cosignature(&witness.key, &signed, answer.body, old)),
            (409, Ok(theirs)) if theirs != old => old = theirs,
            (status, _) if old > size => {
                let refusal = refused(status, answer.body);
                return (
                    index,
                    Asked::Ahead {
                        size: old,
                        refusal: Box::new(refusal),
                    },
                );
            }
            (status, _) => return (index, refused(status, answer.body)),
        }
    }
    (
        index,
        Asked::Failed {
            why: "409".into(),
            alarm: false,
            detail: "the witness's size changed twice while it was asked".into(),
        },
    )
}

fn refused(status: u16, body: String) -> Asked {
    Asked::Failed {
        why: status.to_string(),
        // A log-signed checkpoint refused as not extending the witness's record.
        alarm: matches!(status, 400 | 409 | 422),
        detail: body.trim().to_owned(),
    }
}

/// Checks a witness's answer is its cosignature over this checkpoint.
fn cosignature(key: &CosignerKey, signed: &str, line: String, from: u64) -> Asked {
    let whole = format!("{signed}{line}");
    match Note::parse(whole.as_bytes()).map(|note| key.verify(&note)) {
        Ok(Ok(_)) if line.ends_with('\n') && line.lines().count() == 1 => {
            Asked::Cosigned { line, from }
        }
        Ok(Err(error)) => Asked::Failed {
            why: "bad_cosignature".into(),
            alarm: false,
            detail: error.to_string(),
        },
        _ => Asked::Failed {
            why: "bad_cosignature".into(),
            alarm: false,
            detail: "the answer is not one cosignature line".into(),
        },
    }
}

/// The checkpoint stream of `service`: no limits, as for its events.
pub fn checkpoint_stream(service: &str, replicas: usize) -> StreamSpec {
    let mut spec = StreamSpec::new(
        checkpoint_stream_name(service),
        vec![checkpoint_subject(service)],
    );
    spec.replicas = replicas;
    spec
}

/// How often the issuer looks at the log's durable position.
const TICK: Duration = Duration::from_millis(100);

/// How long the issuer waits before publishing again after the bus failed.
const PUBLISH_RETRY: Duration = Duration::from_secs(1);

/// Issues, co-signs and publishes `service`'s checkpoints until `stop` turns true,
/// then issues a last one if the log grew, asks the witnesses once more and
/// returns. Errors keeping a checkpoint are logged and tried again next time.
pub async fn run_checkpoints(
    service: &'static str,
    log: Log,
    bus: Bus,
    config: CheckpointConfig,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), CheckpointError> {
    let mut issuer = Issuer::resume(service, log, config, metrics)?;
    let stream = checkpoint_stream(service, issuer.config.replicas);
    let mut stream_ready = false;
    let mut last_issued = tokio::time::Instant::now();
    let mut last_asked: Option<tokio::time::Instant> = None;
    let mut last_published: Option<tokio::time::Instant> = None;
    loop {
        let stopping = *stop.borrow();
        let mut issued = false;
        if issuer.due(last_issued.elapsed(), stopping) {
            last_issued = tokio::time::Instant::now();
            match issuer.issue().await {
                Ok(()) => issued = true,
                Err(error) => tracing::error!(service, %error, "accord.checkpoint not issued"),
            }
        }
        let lagging = issuer
            .latest_size()
            .is_some_and(|size| issuer.witnesses.iter().any(|w| w.size < size));
        let retry = last_asked.is_none_or(|at| at.elapsed() >= issuer.config.every);
        if issued || (lagging && (retry || stopping)) {
            last_asked = Some(tokio::time::Instant::now());
            if let Err(error) = issuer.ask_witnesses(&bus).await {
                tracing::error!(service, %error, "accord.checkpoint cosignatures not kept");
            }
        }
        let publish_retry = last_published.is_none_or(|at| at.elapsed() >= PUBLISH_RETRY);
        if issuer.unpublished && (publish_retry || stopping) {
            last_published = Some(tokio::time::Instant::now());
            if !stream_ready {
                stream_ready = bus.ensure_stream(&stream).await.is_ok();
            }
            if stream_ready {
                if let Err(error) = issuer.publish(&bus).await {
                    tracing::warn!(service, %error, "accord.checkpoint not published yet");
                }
            }
        }
        if stopping {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = stop.changed() => {}
        }
    }
}
