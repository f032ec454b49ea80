//! `accord`: the demo, the services, and their configuration.
//!
//! Exit codes: 0 success; 1 a failure while running (a service stopped with an
//! error, the demo's verification failed); 2 bad usage or configuration (the message
//! names the flag, key or variable).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use accord::http::{self, Health};
use accord::running::{connect, Running};
use accord::settings::{LogFormat, Settings, SettingsError, KEYS};
use accord_runtime::ServiceKind;
use clap::{Parser, Subcommand};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

#[derive(Debug, Parser)]
#[command(
    name = "accord",
    version,
    about = "Event-sourced coordination of defence-industry cooperation"
)]
struct Cli {
    /// TOML settings file (keys: `accord config print`); also ACCORD_CONFIG.
    #[arg(long, global = true, env = "ACCORD_CONFIG")]
    config: Option<PathBuf>,
    /// Log line format (overrides log_format).
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    /// tracing filter, e.g. info or accord_bus=debug (overrides log_level).
    #[arg(long, global = true)]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Plays the Lithuania–Ukraine agreement through the three services in this
    /// process (embedded bus, no NATS), prints the projections and verifies the logs.
    Demo {
        /// Data directory; must be empty or absent. A temporary one by default.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Then serve the console on the demo's data (at ADDR, default
        /// 127.0.0.1:9480) until interrupted.
        #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:9480")]
        console: Option<String>,
    },
    /// Runs all three services in this process: on NATS when a URL is set, else on
    /// the embedded bus. Stops gracefully on SIGINT or SIGTERM.
    Up(ServeArgs),
    /// Runs one service.
    Serve {
        /// agreements, projects or procurement
        service: ServiceKind,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// What the services' reaction flows could not carry out, kept on NATS: list
    /// them, or send a refused command again once its cause is mended.
    DeadLetters {
        #[command(subcommand)]
        command: DeadLetterCommand,
    },
    /// The auditor's commands: offline, on copies of the data directories.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Rebuilds a service's lost log from its JetStream stream into its directory
    /// under the data directory, which must hold no log (move a damaged one aside
    /// first). Every envelope is verified in order; a gap or a mismatch refuses.
    /// Then `accord serve SERVICE` starts from it with the same head hash.
    Restore {
        /// agreements, projects or procurement
        service: ServiceKind,
        /// NATS URL (overrides nats_url / ACCORD_NATS_URL).
        #[arg(long)]
        nats: Option<String>,
        /// Data directory (overrides data_dir / ACCORD_DATA_DIR).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Asks a running process's HTTP endpoint (default /readyz) whether it is well;
    /// exits 0 on HTTP 200, 1 otherwise. For container healthchecks.
    Probe {
        /// host:port of the process (default: http_addr).
        #[arg(long)]
        http: Option<String>,
        /// The path to ask.
        #[arg(default_value = "/readyz")]
        path: String,
    },
    /// Sends one command to a running service over NATS and prints the reply (the
    /// contract's JSON); exits 1 when the service refuses it.
    Send {
        /// agreements, projects or procurement
        service: String,
        /// The command, e.g. SignAgreement.
        command: String,
        /// The body in the contract's JSON mapping.
        #[arg(long, conflicts_with = "file")]
        json: Option<String>,
        /// A file holding the JSON body.
        #[arg(long)]
        file: Option<PathBuf>,
        /// The actor sending it (Accord-Actor).
        #[arg(long)]
        actor: String,
        /// The actor's private key file (from `accord keys new`): signs the command.
        #[arg(long)]
        key: Option<PathBuf>,
        /// The stream version the command expects (Accord-Expected-Version).
        #[arg(long)]
        expected_version: Option<u64>,
        /// When the fact happened, RFC 3339 (default: now).
        #[arg(long)]
        occurred_at: Option<String>,
        /// NATS URL (overrides nats_url / ACCORD_NATS_URL).
        #[arg(long)]
        nats: Option<String>,
    },
    /// Asks a running service one query over NATS and prints the answer (JSON).
    Query {
        /// agreements, projects or procurement
        service: String,
        /// The query, e.g. CommitmentLedger or LogStatus.
        query: String,
        /// The body in the contract's JSON mapping (default: none).
        #[arg(long, default_value = "{}")]
        json: String,
        /// NATS URL (overrides nats_url / ACCORD_NATS_URL).
        #[arg(long)]
        nats: Option<String>,
    },
    /// Actors' signing keys (see proto/SIGNING.md).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Runs a witness: co-signs the checkpoints of the logs it trusts when they
    /// extend the last one it co-signed (C2SP tlog-witness over NATS; see
    /// proto/EVIDENCE.md), refuses and raises an alarm otherwise. Stops on SIGINT or
    /// SIGTERM.
    Witness {
        /// The witness's name (its key's name), e.g. witness.lt.example.
        #[arg(long)]
        name: String,
        /// The witness's key file (from `accord keys witness`).
        #[arg(long)]
        key: PathBuf,
        /// The logs it trusts: one log key per line (from `accord keys log`).
        #[arg(long)]
        logs: PathBuf,
        /// Where it keeps the last checkpoint co-signed per log, and its alarms.
        #[arg(long)]
        state: PathBuf,
        /// NATS URL (overrides nats_url / ACCORD_NATS_URL).
        #[arg(long)]
        nats: Option<String>,
        /// Address for /healthz, /readyz and /metrics (co-signed, refused, alarms,
        /// last co-signed size per log); none by default.
        #[arg(long)]
        http: Option<String>,
    },
    /// Shows settings.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Writes a new Ed25519 private key for an actor (PKCS#8 PEM, mode 0600; never
    /// over an existing file) and prints its public key, for RegisterActor or
    /// RotateActorKey.
    New {
        /// The actor the key is for, e.g. ua-umerov.
        #[arg(long)]
        actor: String,
        /// Where to write the key (default: <actor>.pem in the current directory).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Writes a new witness key (C2SP cosignature/v1, Ed25519, mode 0600, never
    /// over an existing file) and prints its public key, the line a log's operator
    /// and auditors configure.
    Witness {
        /// The witness's name, e.g. witness.lt.example.
        #[arg(long)]
        name: String,
        /// Where to write the key.
        #[arg(long)]
        out: PathBuf,
    },
    /// Writes a new log key (C2SP signed-note, Ed25519, named by the log's origin,
    /// mode 0600, never over an existing file) and prints its public key, the line
    /// witnesses put in their --logs file.
    Log {
        /// The log's origin, e.g. accord.example/lt-ua/agreements.
        #[arg(long)]
        origin: String,
        /// Where to write the key.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// NATS URL (overrides nats_url / ACCORD_NATS_URL).
    #[arg(long)]
    nats: Option<String>,
    /// Data directory (overrides data_dir / ACCORD_DATA_DIR).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Address for /healthz, /readyz, /metrics (overrides http_addr); "" for none.
    #[arg(long)]
    http: Option<String>,
}

/// What evidence is checked with: signatures against the parties' trust roots, the
/// kept checkpoints against the logs' and witnesses' public keys.
#[derive(Debug, clap::Args)]
struct EvidenceArgs {
    /// Also check every event's signature against the key its actor held then
    /// (codes unsigned, malformed_signature, unknown_key, revoked_key,
    /// superseded_key, bad_signature), with a count per actor. Projects and
    /// procurement logs need the agreements log (its registry) among DIRS.
    #[arg(long)]
    signatures: bool,
    /// The parties' administrator keys for --signatures (PARTY:ACTOR:BASE64KEY,
    /// comma-separated; default: the trust_roots setting).
    #[arg(long)]
    trust_roots: Option<String>,
    /// A log's public key (as `accord keys log` prints it), to check the signatures
    /// of the checkpoints that log kept (and to prove events against them);
    /// repeatable, matched by origin. Without it a checkpoint's root is still
    /// checked against the events.
    #[arg(long)]
    log_key: Vec<String>,
    /// A witness's public key (as `accord keys witness` prints it), to verify its
    /// cosignatures on the kept checkpoints; repeatable.
    #[arg(long)]
    witness: Vec<String>,
}

impl EvidenceArgs {
    /// The trust roots (with --signatures) and the public keys given.
    fn read(
        self,
        settings: &Settings,
    ) -> anyhow::Result<(
        Option<accord_runtime::authentication::Trusted>,
        accord::audit::checkpoints::EvidenceKeys,
    )> {
        let keys = evidence_keys(&self.log_key, &self.witness)?;
        if !self.signatures {
            return Ok((None, keys));
        }
        let mut given = settings.clone();
        if let Some(text) = self.trust_roots {
            given.trust_roots = text;
        }
        let roots = given
            .trusted()
            .map_err(|e| anyhow::anyhow!("trust roots: {e}"))?;
        Ok((Some(roots), keys))
    }
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verifies each log: hash chain, positions, stream versions, decoding, and a
    /// replay through the service's projections. Exit 0 only if all verify.
    Verify {
        /// Log directories (e.g. accord-data/agreements); each is copied, never written.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Print a machine-readable report instead of the table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        evidence: EvidenceArgs,
    },
    /// Whether a log extends a checkpoint kept earlier: recomputes the Merkle tree
    /// from the copy's events and compares its root at the checkpoint's size. Exit 0
    /// when it does; 1, naming the size, when history up to it was changed or cut.
    Consistency {
        /// The signed checkpoint (a C2SP checkpoint note, with any cosignatures).
        checkpoint: PathBuf,
        /// The log directory; copied, never written.
        dir: PathBuf,
        /// The log's public key (`<origin>+<id>+<base64>`, as `accord keys log` prints it).
        #[arg(long)]
        log_key: String,
        /// A witness's public key, to report its cosignature; repeatable.
        #[arg(long)]
        witness: Vec<String>,
        /// Print a machine-readable report instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Writes a C2SP tlog-proof (`c2sp.org/tlog-proof@v1`) that one event is in the
    /// tree of a signed checkpoint, and the event's envelope beside it
    /// (`<out>.envelope`). Refuses a checkpoint the log's tree does not match.
    Prove {
        /// The event's id.
        #[arg(long)]
        event: uuid::Uuid,
        /// The signed (co-signed) checkpoint to prove against (default: the one the
        /// log kept with the most cosignatures among those covering the event).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The log's public key (as `accord keys log` prints it).
        #[arg(long)]
        log_key: String,
        /// Where to write the proof (default: event-<id>.tlog-proof).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The log directory; copied, never written.
        dir: PathBuf,
    },
    /// Checks a tlog-proof offline, with public keys only: the envelope's hash and
    /// position, its inclusion in the checkpoint's tree, the log's signature, and
    /// at least --threshold cosignatures of the given witnesses. Exit 0 if it holds.
    CheckProof {
        /// The proof file.
        proof: PathBuf,
        /// The log's public key.
        #[arg(long)]
        log_key: String,
        /// A trusted witness's public key; repeatable.
        #[arg(long)]
        witness: Vec<String>,
        /// How many of the given witnesses must have co-signed (default: all).
        #[arg(long)]
        threshold: Option<usize>,
        /// The event's envelope (default: <proof>.envelope).
        #[arg(long)]
        event: Option<PathBuf>,
    },
    /// The whole life of one aggregate, with the events it caused and that caused it
    /// in every log given.
    History {
        /// What to follow.
        #[arg(value_enum)]
        subject: accord::audit::history::Subject,
        /// Its id, e.g. c-priority.
        id: String,
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The console: read-only web pages of the logs' history on copies of the data
    /// directories (agreements, ledger and commitment timelines, board, projects,
    /// procurement, evidence), as of any instant; serves until interrupted.
    Console {
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Address to serve on (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:9480")]
        http: String,
        /// What the evidence page checks with (as `audit verify`); with --log-key,
        /// any event's proof can be downloaded too.
        #[command(flatten)]
        evidence: EvidenceArgs,
    },
    /// Every event that cites a document, by the SHA-256 of the file (or --sha256):
    /// where, when, by whom and under which title. Exits 1 when no event cites it.
    FindDocument {
        /// FILE DIR...: the document's file (its SHA-256 is what is looked for), then
        /// the data directories; with --sha256, the directories only.
        #[arg(required = true, value_name = "FILE DIR")]
        paths: Vec<PathBuf>,
        /// The SHA-256 (64 hex digits) instead of the file.
        #[arg(long)]
        sha256: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Every projection as it was at an instant: by log time, or by business time
    /// with --effective.
    Replay {
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The instant, RFC 3339 in UTC, e.g. 2024-11-26T12:00:00Z.
        #[arg(long)]
        as_of: String,
        /// Use business time (occurred-at: what was in effect) instead of log time
        /// (recorded-at: what was known).
        #[arg(long)]
        effective: bool,
        /// Print the projections in the proto3 JSON mapping instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Writes every event (envelope and payload, proto3 JSON) as JSONL or CSV.
    Export {
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: accord::audit::export::Format,
        /// First position exported.
        #[arg(long, default_value_t = 1)]
        from: u64,
        /// Last position exported.
        #[arg(long, default_value_t = u64::MAX)]
        to: u64,
        /// Output file; standard output by default.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum DeadLetterCommand {
    /// Lists each service's last dead letters, oldest first: the flow, the subject
    /// its command was sent to, and why it was refused.
    List {
        /// Only this service's (agreements or projects: procurement has no flows).
        #[arg(long)]
        service: Option<ServiceKind>,
        /// Most letters listed per service.
        #[arg(long, default_value_t = 100)]
        limit: u64,
        /// Print JSON instead of the table.
        #[arg(long)]
        json: bool,
        /// NATS URL (overrides nats_url / ACCORD_NATS_URL).
        #[arg(long)]
        nats: Option<String>,
    },
    /// Sends dead letter SEQUENCE of SERVICE again: the same command (same id, actor
    /// and causation) to the subject it went to. Exits 1 if it is refused again.
    Resend {
        /// agreements or projects
        service: ServiceKind,
        /// Its sequence number, as listed.
        sequence: u64,
        /// NATS URL (overrides nats_url / ACCORD_NATS_URL).
        #[arg(long)]
        nats: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Prints the effective settings (file, then ACCORD_* variables, then flags) as TOML.
    Print,
    /// Lists every key with its environment variable and meaning.
    Keys,
}

fn settings(cli: &Cli, serve: Option<&ServeArgs>) -> Result<Settings, SettingsError> {
    let mut settings = Settings::from_file(cli.config.as_ref())?;
    let env: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("ACCORD_"))
        .collect();
    settings.apply_env(&env)?;
    if let Some(format) = cli.log_format {
        settings.log_format = format;
    }
    if let Some(level) = &cli.log_level {
        settings.set("log_level", level, "--log-level")?;
    }
    if let Some(args) = serve {
        if let Some(url) = &args.nats {
            settings.set("nats_url", url, "--nats")?;
        }
        if let Some(data) = &args.data {
            settings.data_dir = data.clone();
        }
        if let Some(http) = &args.http {
            settings.set("http_addr", http, "--http")?;
        }
    }
    settings.validate("flags")?;
    Ok(settings)
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match settings.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let serve_args = match &cli.command {
        Command::Up(args) | Command::Serve { args, .. } => Some(args),
        _ => None,
    };
    let mut settings = match settings(&cli, serve_args) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("accord: {error}");
            return ExitCode::from(2);
        }
    };
    if let Command::Config { command } = &cli.command {
        match command {
            ConfigCommand::Print => print!("{}", settings.to_toml()),
            ConfigCommand::Keys => {
                for (key, var, meaning) in KEYS {
                    println!("{key:<24} {var:<32} {meaning}");
                }
            }
        }
        return ExitCode::SUCCESS;
    }
    if let Command::Keys {
        command: KeysCommand::New { actor, out },
    } = &cli.command
    {
        let path = out
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("{actor}.pem")));
        return match accord::keys::new_key_file(&path) {
            Ok(key) => {
                print!("{}", accord::keys::describe(actor, &key, &path));
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("accord: {error}");
                ExitCode::FAILURE
            }
        };
    }
    if let Command::Keys {
        command: KeysCommand::Witness { name, out } | KeysCommand::Log { origin: name, out },
    } = &cli.command
    {
        let witness = matches!(
            cli.command,
            Command::Keys {
                command: KeysCommand::Witness { .. }
            }
        );
        return match accord::keys::new_evidence_key(name, out, witness) {
            Ok(public) => {
                println!("key written to {} (mode 0600)", out.display());
                println!("public key {public}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("accord: {error}");
                ExitCode::FAILURE
            }
        };
    }
    if let Command::Probe { http, path } = &cli.command {
        let addr = http.clone().unwrap_or_else(|| settings.http_addr.clone());
        return match accord::http::probe(&addr, path) {
            Ok((200, body)) => {
                print!("{body}");
                ExitCode::SUCCESS
            }
            Ok((status, body)) => {
                eprintln!("accord: {addr}{path} answered {status}: {}", body.trim());
                ExitCode::FAILURE
            }
            Err(error) => {
                eprintln!("accord: cannot ask {addr}{path}: {error}");
                ExitCode::FAILURE
            }
        };
    }
    init_logging(&settings);
    let runtime = match accord::running::runtime(&settings) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("accord: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo { data, console } => demo(&mut settings, data, console).await,
            Command::Up(_) => serve(&settings, &ServiceKind::ALL).await,
            Command::Serve { service, .. } => serve(&settings, &[service]).await,
            Command::Audit {
                command:
                    AuditCommand::Console {
                        dirs,
                        http,
                        evidence,
                    },
            } => {
                let (roots, keys) = evidence.read(&settings)?;
                console(dirs, &http, roots, keys).await
            }
            Command::Audit { command } => audit(&settings, command),
            Command::DeadLetters { command } => dead_letters(&settings, command).await,
            Command::Send {
                service,
                command,
                json,
                file,
                actor,
                key,
                expected_version,
                occurred_at,
                nats,
            } => {
                let body = match (json, file) {
                    (Some(json), _) => json,
                    (None, Some(file)) => std::fs::read_to_string(&file)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
                    (None, None) => {
                        return Err(Usage("give the body with --json or --file".into()).into())
                    }
                };
                let args = accord::send::SendArgs {
                    service,
                    command,
                    body,
                    actor,
                    key,
                    expected_version,
                    occurred_at,
                };
                let bus = nats_bus(&settings, nats, "accord-send").await?;
                let answer =
                    accord::send::send(&bus, &args, std::time::Duration::from_secs(10)).await?;
                print_answer(answer)
            }
            Command::Query {
                service,
                query,
                json,
                nats,
            } => {
                let bus = nats_bus(&settings, nats, "accord-query").await?;
                let answer = accord::send::query(
                    &bus,
                    &service,
                    &query,
                    &json,
                    std::time::Duration::from_secs(10),
                )
                .await?;
                print_answer(answer)
            }
            Command::Restore {
                service,
                nats,
                data,
            } => restore(&settings, service, nats, data).await,
            Command::Witness {
                name,
                key,
                logs,
                state,
                nats,
                http,
            } => witness(&settings, name, key, logs, state, nats, http).await,
            Command::Config { .. } | Command::Probe { .. } | Command::Keys { .. } => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped reading (`| head`) is not a failure.
        Err(error)
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("accord: {error:#}");
            let configuration = error
                .downcast_ref::<accord::running::RunError>()
                .is_some_and(accord::running::RunError::is_configuration);
            if error.is::<Usage>() || configuration {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The bus at `--nats` or the configured URL.
async fn nats_bus(
    settings: &Settings,
    nats: Option<String>,
    name: &str,
) -> anyhow::Result<accord_bus::Bus> {
    let url = nats.unwrap_or_else(|| settings.nats_url.clone());
    if url.is_empty() {
        return Err(Usage("give --nats, nats_url or ACCORD_NATS_URL".into()).into());
    }
    let bus = accord_bus::NatsBus::connect(&url, name)
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach NATS at {}: {e}", accord_bus::redact(&url)))?;
    Ok(accord_bus::Bus::Nats(bus))
}

async fn witness(
    settings: &Settings,
    name: String,
    key: PathBuf,
    logs: PathBuf,
    state: PathBuf,
    nats: Option<String>,
    http: Option<String>,
) -> anyhow::Result<()> {
    use accord::witness;
    let cosigner = witness::read_key(&key)?;
    if cosigner.verifier().name() != name {
        return Err(Usage(format!(
            "{} is the key of witness {:?}, not {name:?}",
            key.display(),
            cosigner.verifier().name()
        ))
        .into());
    }
    let logs = witness::read_logs(&logs)?;
    let state = witness::State::open(&state, &logs)?;
    for log in &logs {
        match state.latest(log.name()) {
            Some(record) => tracing::info!(
                log = log.name(),
                size = record.size,
                "accord.witness last co-signed"
            ),
            None => tracing::info!(log = log.name(), "accord.witness has co-signed nothing yet"),
        }
    }
    let bus = nats_bus(settings, nats, "accord-witness").await?;
    println!("witness {name}: public key {}", cosigner.verifier());
    println!("answering add-checkpoint on {}", witness::subject(&name));
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        interrupted().await;
        let _ = stop.send(true);
    });
    let counters = std::sync::Arc::new(witness::Counters::default());
    for log in &logs {
        if let Some(record) = state.latest(log.name()) {
            counters.sizes_insert(log.name(), record.size);
        }
    }
    if let Some(addr) = http.filter(|a| !a.is_empty()) {
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        println!("metrics on http://{addr}/metrics");
        let endpoints = witness::WitnessEndpoints {
            bus: bus.clone(),
            counters: counters.clone(),
        };
        tokio::spawn(http::serve(listener, endpoints, stopped.clone()));
    }
    let witness = witness::Witness {
        cosigner,
        logs,
        state,
        counters,
    };
    witness::serve(&bus, witness, stopped).await?;
    Ok(())
}

/// Prints a reply; a refusal is an error (exit 1) after it is printed.
fn print_answer(answer: accord::send::Answer) -> anyhow::Result<()> {
    println!("{}", answer.json);
    if answer.refused {
        anyhow::bail!("refused: {}", answer.json);
    }
    Ok(())
}

/// A command asked for something it cannot do as given (exit 2, like a bad flag),
/// found only once it runs.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

/// Resolves on SIGINT or SIGTERM (never, should the handlers not install).
async fn interrupted() {
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
}

/// `accord audit console DIR...`: serves the console until SIGINT or SIGTERM.
/// The public keys `--log-key` and `--witness` give, parsed.
fn evidence_keys(
    log_keys: &[String],
    witnesses: &[String],
) -> Result<accord::audit::checkpoints::EvidenceKeys, Usage> {
    Ok(accord::audit::checkpoints::EvidenceKeys {
        logs: log_keys
            .iter()
            .map(|k| k.parse().map_err(|e| Usage(format!("--log-key {k}: {e}"))))
            .collect::<Result<_, _>>()?,
        witnesses: witnesses
            .iter()
            .map(|w| w.parse().map_err(|e| Usage(format!("--witness {w}: {e}"))))
            .collect::<Result<_, _>>()?,
    })
}

async fn console(
    dirs: Vec<PathBuf>,
    http: &str,
    roots: Option<accord_runtime::authentication::Trusted>,
    keys: accord::audit::checkpoints::EvidenceKeys,
) -> anyhow::Result<()> {
    for dir in &dirs {
        if !dir.join("db").is_file() {
            anyhow::bail!("{}: no log here (no `db` file)", dir.display());
        }
    }
    let console =
        tokio::task::spawn_blocking(move || accord::console::Console::open_with(dirs, roots, keys))
            .await
            .map_err(|e| anyhow::anyhow!("copying the data directories: {e}"))??;
    accord::console::serve(
        console,
        http,
        |addr| {
            println!("console: http://{addr}/console/ (read-only, on copies; Ctrl-C stops it)");
        },
        interrupted(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("console on {http}: {e}"))
}

async fn restore(
    settings: &Settings,
    service: ServiceKind,
    nats: Option<String>,
    data: Option<PathBuf>,
) -> anyhow::Result<()> {
    let url = nats.unwrap_or_else(|| settings.nats_url.clone());
    if url.is_empty() {
        return Err(Usage(
            "a log is restored from its NATS stream: give --nats, nats_url or ACCORD_NATS_URL"
                .into(),
        )
        .into());
    }
    let target = data
        .unwrap_or_else(|| settings.data_dir.clone())
        .join(service.name());
    let bus = accord_bus::NatsBus::connect(&url, "accord-restore")
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach NATS at {}: {e}", accord_bus::redact(&url)))?;
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut progress = |read: u64, last: u64| {
        if terminal {
            eprint!("\rrestoring {service}: message {read} of {last}   ");
        } else {
            eprintln!("restoring {service}: message {read} of {last}");
        }
    };
    let report = accord::restore::restore(&bus, service, &target, &mut progress).await;
    if terminal {
        eprintln!();
    }
    let report = report?;
    println!(
        "restored {service} into {}: {} events, head position {} hash {}",
        target.display(),
        report.events,
        report.events,
        report.head_hash
    );
    println!("start it with: accord serve {service}");
    Ok(())
}

async fn dead_letters(settings: &Settings, command: DeadLetterCommand) -> anyhow::Result<()> {
    use accord::dead_letters::{self, DeadLetterError};
    let (DeadLetterCommand::List { nats, .. } | DeadLetterCommand::Resend { nats, .. }) = &command;
    let url = nats.clone().unwrap_or_else(|| settings.nats_url.clone());
    if url.is_empty() {
        return Err(Usage(
            "dead letters are kept on NATS: give --nats, nats_url or ACCORD_NATS_URL".into(),
        )
        .into());
    }
    let bus = accord_bus::Bus::Nats(
        accord_bus::NatsBus::connect(&url, "accord-dead-letters")
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot reach NATS at {}: {e}", accord_bus::redact(&url))
            })?,
    );
    let usage = |error: DeadLetterError| -> anyhow::Error {
        match error {
            DeadLetterError::NoFlows { .. }
            | DeadLetterError::NotFound { .. }
            | DeadLetterError::NotACommand { .. } => Usage(error.to_string()).into(),
            other => other.into(),
        }
    };
    match command {
        DeadLetterCommand::List {
            service,
            limit,
            json,
            ..
        } => {
            let services = dead_letters::services(service).map_err(usage)?;
            let letters = dead_letters::list(&bus, &services, limit)
                .await
                .map_err(usage)?;
            let mut stdout = std::io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut stdout, &letters)?;
                writeln!(stdout)?;
            } else {
                write!(stdout, "{}", dead_letters::table(&letters))?;
            }
        }
        DeadLetterCommand::Resend {
            service, sequence, ..
        } => {
            let client = accord_bus::AccordClient::new(bus);
            let result = dead_letters::resend(&client, service, sequence)
                .await
                .map_err(usage)?;
            let stream = result
                .stream
                .map(|s| format!("{}/{}", s.category, s.id))
                .unwrap_or_default();
            if result.duplicate {
                println!(
                    "already carried out before: {stream} version {}",
                    result.version
                );
            } else {
                println!(
                    "sent again and carried out: {stream} version {}, positions {}..={}",
                    result.version, result.first_position, result.last_position
                );
            }
        }
    }
    Ok(())
}

fn audit(settings: &Settings, command: AuditCommand) -> anyhow::Result<()> {
    use accord::audit::{export, verify};
    let mut stdout = std::io::stdout().lock();
    let log_key_of = |text: &str| -> Result<accord_evidence::note::VerifierKey, Usage> {
        text.parse().map_err(|e| Usage(format!("--log-key: {e}")))
    };
    let witnesses_of = |given: &[String]| {
        given
            .iter()
            .map(|w| w.parse().map_err(|e| Usage(format!("--witness {w}: {e}"))))
            .collect::<Result<Vec<accord_evidence::cosignature::CosignerKey>, Usage>>()
    };
    match command {
        AuditCommand::Prove {
            event,
            checkpoint,
            log_key,
            out,
            dir,
        } => {
            let out = out.unwrap_or_else(|| PathBuf::from(format!("event-{event}.tlog-proof")));
            let position = accord::audit::prove::prove(
                &dir,
                event,
                checkpoint.as_deref(),
                &log_key_of(&log_key)?,
                &out,
            )?;
            writeln!(
                stdout,
                "proof of event {event} (position {position}) written to {}, its envelope to {}",
                out.display(),
                accord::audit::prove::envelope_path(&out).display()
            )?;
            Ok(())
        }
        AuditCommand::CheckProof {
            proof,
            log_key,
            witness,
            threshold,
            event,
        } => {
            let witnesses = witnesses_of(&witness)?;
            let envelope = event.unwrap_or_else(|| accord::audit::prove::envelope_path(&proof));
            let report = accord::audit::prove::check(
                &proof,
                &envelope,
                &log_key_of(&log_key)?,
                &witnesses,
                threshold.unwrap_or(witnesses.len()),
            )?;
            writeln!(
                stdout,
                "proof holds: event {} ({}) at position {} is in {} at size {}",
                report.event_id,
                report.event_type,
                report.position,
                report.origin,
                report.checkpoint_size
            )?;
            for (name, time) in &report.cosigned_by {
                writeln!(stdout, "co-signed by {name} at {time} (unix seconds)")?;
            }
            Ok(())
        }
        AuditCommand::Consistency {
            checkpoint,
            dir,
            log_key,
            witness,
            json,
        } => {
            use accord::audit::consistency;
            let log_key = log_key_of(&log_key)?;
            let witnesses = witnesses_of(&witness)?;
            let report = consistency::check(&checkpoint, &dir, &log_key, &witnesses)?;
            if json {
                writeln!(stdout, "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                write!(stdout, "{}", consistency::render(&report))?;
            }
            if let Some(problem) = report.problem {
                anyhow::bail!("not consistent: {problem}");
            }
            Ok(())
        }
        AuditCommand::Verify {
            dirs,
            json,
            evidence,
        } => {
            let (roots, keys) = evidence.read(settings)?;
            // The agreements logs first: the others' signatures are checked against
            // the registry they hold. Reported in the order given.
            let mut order: Vec<usize> = (0..dirs.len()).collect();
            order.sort_by_key(|&i| {
                accord::audit::service_of(&dirs[i], None) != Some(ServiceKind::Agreements)
            });
            let mut registry = accord::audit::registry::RegistryHistory::default();
            let mut reports = Vec::new();
            // A progress line on a terminal; periodic log lines otherwise.
            let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
            for dir in order.iter().map(|&i| &dirs[i]) {
                tracing::info!(dir = %dir.display(), "accord.audit verifying");
                let mut progress = |pass: verify::Pass, position: u64| {
                    if terminal {
                        eprint!(
                            "\rverifying {}: {pass}, position {position}   ",
                            dir.display()
                        );
                    } else {
                        tracing::info!(dir = %dir.display(), %pass, position, "accord.audit verifying");
                    }
                };
                let report =
                    verify::verify_dir(dir, roots.as_ref(), &keys, &mut registry, &mut progress)?;
                if terminal && report.events >= accord_log::PROGRESS_EVERY {
                    eprintln!();
                }
                reports.push(report);
            }
            let mut given_order: Vec<_> = order.into_iter().zip(reports).collect();
            given_order.sort_by_key(|(i, _)| *i);
            let reports: Vec<_> = given_order.into_iter().map(|(_, r)| r).collect();
            if json {
                writeln!(stdout, "{}", serde_json::to_string_pretty(&reports)?)?;
            } else {
                writeln!(stdout, "{}", verify::table(&reports).render())?;
                if let Some(table) = verify::checkpoints_table(&reports) {
                    writeln!(stdout, "{}", table.render())?;
                }
            }
            let failed: Vec<String> = reports
                .iter()
                .filter_map(|r| {
                    r.problem.as_ref().map(|p| {
                        format!(
                            "{} ({}): {} at position {}, event {}: {}",
                            r.service.as_deref().unwrap_or("?"),
                            r.path.display(),
                            p.code,
                            p.position.map_or("-".into(), |p| p.to_string()),
                            p.event_id.as_deref().unwrap_or("-"),
                            p.reason
                        )
                    })
                })
                .collect();
            if failed.is_empty() {
                Ok(())
            } else {
                anyhow::bail!("verification failed: {}", failed.join("; "))
            }
        }
        AuditCommand::History {
            subject,
            id,
            dirs,
            json,
        } => {
            let entries = accord::audit::history::history(subject, &id, &dirs)?;
            if json {
                writeln!(stdout, "{}", serde_json::to_string_pretty(&entries)?)?;
            } else {
                let title = format!("History of {subject:?} {id}").to_lowercase();
                writeln!(
                    stdout,
                    "{}",
                    accord::audit::history::table(&title, &entries).render()
                )?;
            }
            Ok(())
        }
        // Served by `console`, on the async runtime.
        AuditCommand::Console { .. } => anyhow::bail!("the console is served by `console`"),
        AuditCommand::FindDocument {
            mut paths,
            sha256,
            json,
        } => {
            let hash = match sha256 {
                Some(hex) => accord_kernel::DocumentHash::parse(&hex)
                    .map_err(|e| anyhow::anyhow!("--sha256: {e}"))?,
                None => {
                    let file = paths.remove(0);
                    accord::audit::documents::hash_file(&file)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
                }
            };
            let dirs = paths;
            if dirs.is_empty() {
                anyhow::bail!("no data directory given: FILE DIR... (or --sha256 HEX DIR...)");
            }
            let found = accord::audit::documents::find(hash, &dirs)?;
            if json {
                writeln!(stdout, "{}", serde_json::to_string_pretty(&found)?)?;
            } else {
                writeln!(
                    stdout,
                    "{}",
                    accord::audit::documents::table(&found).render()
                )?;
            }
            if found.citations.is_empty() {
                anyhow::bail!(
                    "no event in {} events read cites sha256 {}",
                    found.events_read,
                    found.sha256
                );
            }
            Ok(())
        }
        AuditCommand::Replay {
            dirs,
            as_of,
            effective,
            json,
        } => {
            let at = accord_kernel::Timestamp::parse_rfc3339(&as_of)
                .map_err(|e| anyhow::anyhow!("--as-of {as_of}: {e}"))?;
            let time = if effective {
                accord::audit::replay::Time::Effective
            } else {
                accord::audit::replay::Time::Recorded
            };
            let projections = accord::audit::replay::replay(&dirs, at, time)?;
            if json {
                writeln!(
                    stdout,
                    "{}",
                    serde_json::to_string_pretty(&accord::audit::replay::to_json(&projections)?)?
                )?;
            } else {
                let basis = if effective {
                    "in effect"
                } else {
                    "as recorded"
                };
                writeln!(stdout, "Projections {basis} at {at}\n")?;
                for table in accord::demo::tables(&projections) {
                    writeln!(stdout, "{}", table.render())?;
                }
            }
            Ok(())
        }
        AuditCommand::Export {
            dirs,
            format,
            from,
            to,
            output,
        } => {
            let mut out: Box<dyn std::io::Write> = match &output {
                Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            if format == export::Format::Csv {
                writeln!(out, "{}", export::CSV_COLUMNS.join(","))?;
            }
            for dir in &dirs {
                // A progress line on a terminal; periodic log lines otherwise.
                let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
                let mut progress = |position: u64| {
                    if terminal {
                        eprint!("\rexporting {}: position {position}", dir.display());
                    } else {
                        tracing::info!(dir = %dir.display(), position, "accord.audit exporting");
                    }
                };
                let written = export::export_dir(dir, format, from, to, &mut out, &mut progress)?;
                if terminal && written >= 10_000 {
                    eprintln!();
                }
                tracing::info!(dir = %dir.display(), events = written, "accord.audit exported");
            }
            Ok(())
        }
    }
}

async fn demo(
    settings: &mut Settings,
    data: Option<PathBuf>,
    console_at: Option<String>,
) -> anyhow::Result<()> {
    let _temporary;
    let temporary = data.is_none();
    match data {
        Some(dir) => {
            let occupied = std::fs::read_dir(&dir)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false);
            if occupied {
                return Err(Usage(format!("{} is not empty: the demo plays the scenario from the start and needs an empty directory", dir.display())).into());
            }
            settings.data_dir = dir;
        }
        None => {
            let dir = tempfile::Builder::new().prefix("accord-demo-").tempdir()?;
            settings.data_dir = dir.path().to_owned();
            _temporary = dir;
        }
    }
    accord::demo::run(settings, temporary, &mut std::io::stdout()).await?;
    match console_at {
        None => Ok(()),
        Some(addr) => {
            let dirs = ServiceKind::ALL
                .iter()
                .map(|kind| settings.data_dir.join(kind.name()))
                .collect();
            // The demo's own keys: its checkpoints' signatures and cosignatures are
            // verified, its signatures checked against its trust roots, and any
            // event's proof can be downloaded.
            let keys = accord::audit::checkpoints::EvidenceKeys {
                logs: ServiceKind::ALL
                    .iter()
                    .map(|kind| {
                        accord::demo_evidence::log_signer(kind.name())
                            .verifier()
                            .clone()
                    })
                    .collect(),
                witnesses: accord::demo_evidence::WITNESSES
                    .iter()
                    .map(|name| accord::demo_evidence::cosigner(name).verifier().clone())
                    .collect(),
            };
            let mut demo_settings = settings.clone();
            demo_settings.trust_roots = accord_scenario::Scenario::lt_ua()?.trust_roots_setting();
            demo_settings.service_keys = accord_scenario::service_keys_setting();
            let roots = demo_settings
                .trusted()
                .map_err(|e| anyhow::anyhow!("trust roots: {e}"))?;
            console(dirs, &addr, Some(roots), keys).await
        }
    }
}

/// A watch that turns true on SIGINT or SIGTERM.
fn shutdown_on_signals() -> anyhow::Result<(watch::Sender<bool>, watch::Receiver<bool>)> {
    let (sender, receiver) = watch::channel(false);
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let on_signal = sender.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("accord.shutdown on SIGTERM"),
            _ = int.recv() => tracing::info!("accord.shutdown on SIGINT"),
        }
        let _ = on_signal.send(true);
    });
    Ok((sender, receiver))
}

async fn serve(settings: &Settings, kinds: &[ServiceKind]) -> anyhow::Result<()> {
    let (_keep, mut shutdown) = shutdown_on_signals()?;
    let bus = if settings.nats_url.is_empty() {
        tracing::info!("accord.bus no nats_url set: using the embedded in-process bus (nothing leaves this process)");
        Running::embedded_bus()
    } else {
        match connect(&settings.nats_url, shutdown.clone()).await {
            Some(bus) => bus,
            None => return Ok(()),
        }
    };
    let mut running = Running::start(settings, kinds, bus)?;
    if !settings.http_addr.is_empty() {
        let listener = tokio::net::TcpListener::bind(&settings.http_addr)
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot listen on http_addr {}: {e}", settings.http_addr)
            })?;
        let health = Health {
            bus: running.bus.clone(),
            logs: running.logs.clone(),
            metrics: running.metrics.clone(),
            max_relay_lag: settings.ready_max_relay_lag,
        };
        let console = if settings.http_console {
            tracing::info!(addr = %settings.http_addr, "accord.http serving /healthz /readyz /metrics /console/");
            let client = accord_bus::AccordClient::new(running.bus.clone());
            let log_keys = accord::running::log_keys(settings, kinds)?
                .values()
                .map(|signer| signer.verifier().clone())
                .collect();
            // Validated when the settings were read.
            let witnesses = settings.witnesses().unwrap_or_default();
            let console =
                accord::console::Console::live(client, running.logs.clone(), log_keys, witnesses);
            accord::console::router(std::sync::Arc::new(console))
        } else {
            tracing::info!(addr = %settings.http_addr, "accord.http serving /healthz /readyz /metrics");
            axum::Router::new()
        };
        tokio::spawn(http::serve_with(
            listener,
            health,
            console,
            shutdown.clone(),
        ));
    }
    let services: Vec<String> = kinds.iter().map(ToString::to_string).collect();
    tracing::info!(services = %services.join(","), data = %settings.data_dir.display(), "accord.up serving");
    let mut failed = running.failure();
    tokio::select! {
        _ = shutdown.wait_for(|stop| *stop) => {}
        _ = failed.wait_for(|failed| *failed) => {}
    }
    running.stop();
    running.wait().await?;
    tracing::info!("accord.shutdown complete: requests finished, relay cursors saved");
    Ok(())
}
