//! The effective settings of an `accord` process: defaults, then a TOML file, then
//! `ACCORD_*` environment variables, then command-line flags. Every key is listed
//! in [`KEYS`] with its environment variable and meaning; `accord config print`
//! shows the result.

use std::collections::BTreeMap;
use std::path::PathBuf;

use accord_evidence::cosignature::CosignerKey;
use accord_runtime::authentication::{ServiceKey, TrustRoot, Trusted};
use serde::{Deserialize, Serialize};

/// Why the settings could not be formed. The process exits with status 2.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read config file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("config file {path}: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("invalid value {value:?} for {key} (from {source_name}): {reason}")]
    Invalid {
        key: &'static str,
        source_name: String,
        value: String,
        reason: String,
    },
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Every setting. Field names are the TOML keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Directory holding one log directory per service.
    pub data_dir: PathBuf,
    /// NATS server URL; empty for the embedded in-process bus.
    pub nats_url: String,
    /// Address of the HTTP server for /healthz, /readyz and /metrics; empty: none.
    pub http_addr: String,
    /// Whether that server also serves the read-only console under /console/.
    pub http_console: bool,
    pub log_format: LogFormat,
    /// tracing filter, e.g. `info` or `accord=debug,info`.
    pub log_level: String,
    /// Largest request body a service takes, in bytes.
    pub max_request_bytes: usize,
    /// JetStream replicas of each service's stream.
    pub stream_replicas: usize,
    /// How long JetStream drops republished events, in seconds.
    pub duplicate_window_secs: u64,
    /// How long a relay waits after a new event before publishing, in
    /// microseconds; 0: at once.
    pub relay_linger_us: u64,
    /// How long a log's sync may wait for the callers the previous sync answered,
    /// when fewer appends wait than it covered, in microseconds; 0: never.
    pub group_linger_us: u64,
    /// /readyz fails while a relay is more events than this behind its log.
    pub ready_max_relay_lag: u64,
    /// How far in the future a command's business time (`Accord-Occurred-At`) may
    /// be, in seconds (clock skew between sender and service); later is refused.
    pub max_future_skew_secs: u64,
    /// Whether every command must be signed by its actor's registered key
    /// (proto/SIGNING.md). On by default; a service warns at start when it is off.
    pub require_signatures: bool,
    /// Each party's administrator keys, comma-separated `PARTY:ACTOR:BASE64KEY`
    /// entries (the key as `accord keys new` prints it): they sign the party's
    /// RegisterActor, RotateActorKey and RevokeActorKey, and only they may.
    pub trust_roots: String,
    /// Each service's reaction key, comma-separated `SERVICE:BASE64KEY` entries: the
    /// commands a service's reactions send are signed with it, as `accord-reactions`.
    pub service_keys: String,
    /// Directory holding `<service>.key` (PKCS#8 PEM, as `accord keys new` writes
    /// it): the key this process's services sign their reactions with. Empty: none.
    pub reaction_key_dir: String,
    /// Directory holding `<service>.log-key` (a signed-note key, as `accord keys log`
    /// writes it; its name is the log's origin): the key each service signs its
    /// checkpoints with. Empty, or no file for a service: that service issues none.
    pub log_key_dir: String,
    /// A checkpoint once this many events were appended since the last one.
    pub checkpoint_every_events: u64,
    /// Or once this many seconds passed with at least one new event.
    pub checkpoint_every_secs: u64,
    /// The witnesses asked to co-sign each checkpoint: comma-separated cosigner keys
    /// `<name>+<key id>+<base64>`, as `accord keys witness` prints them.
    pub witnesses: String,
    /// How long a service waits for one witness's answer, in seconds.
    pub witness_timeout_secs: u64,
    /// How often each service's deadline watcher looks for due dates passed unmet,
    /// in seconds (the first look after one interval); 0: never.
    pub deadline_check_secs: u64,
    /// Events beyond the last snapshot of a log's indexes and a service's
    /// projections that make a new one (on open, on close, and as the projections
    /// follow the log); 0: no snapshots, every start reads the whole log.
    pub snapshot_after: u64,
    /// Threads of the process's async runtime; 0: one per CPU core (tokio's
    /// default). For hosts whose cores are shared with nats-server or other
    /// services.
    pub worker_threads: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            data_dir: PathBuf::from("accord-data"),
            nats_url: String::new(),
            http_addr: "127.0.0.1:9464".into(),
            http_console: true,
            log_format: LogFormat::Text,
            log_level: "info".into(),
            max_request_bytes: 64 * 1024,
            stream_replicas: 1,
            duplicate_window_secs: 120,
            relay_linger_us: accord_bus::DEFAULT_RELAY_LINGER.as_micros() as u64,
            group_linger_us: accord_log::LogConfig::default().group_linger.as_micros() as u64,
            ready_max_relay_lag: 1000,
            max_future_skew_secs: 300,
            require_signatures: true,
            trust_roots: String::new(),
            service_keys: String::new(),
            reaction_key_dir: String::new(),
            log_key_dir: String::new(),
            checkpoint_every_events: 1000,
            checkpoint_every_secs: 10,
            witnesses: String::new(),
            witness_timeout_secs: 5,
            deadline_check_secs: 3600,
            snapshot_after: accord_log::DEFAULT_SNAPSHOT_AFTER,
            worker_threads: 0,
        }
    }
}

/// More runtime threads than this is a typo, not a setting.
const MAX_WORKER_THREADS: u64 = 1024;

/// A longer group linger than this (100 ms) would hold a command's answer for a
/// human-noticeable time after every burst: a typo, not a setting.
const MAX_GROUP_LINGER_US: u64 = 100_000;

/// Every key: (TOML key, environment variable, meaning).
pub const KEYS: &[(&str, &str, &str)] = &[
    (
        "data_dir",
        "ACCORD_DATA_DIR",
        "directory with one log directory per service",
    ),
    (
        "nats_url",
        "ACCORD_NATS_URL",
        "NATS server URL; empty for the embedded bus",
    ),
    (
        "http_addr",
        "ACCORD_HTTP_ADDR",
        "address for /healthz, /readyz, /metrics; empty for none",
    ),
    (
        "http_console",
        "ACCORD_HTTP_CONSOLE",
        "false: no read-only console under /console/ on http_addr (default true)",
    ),
    ("log_format", "ACCORD_LOG_FORMAT", "text or json"),
    (
        "log_level",
        "ACCORD_LOG_LEVEL",
        "tracing filter, e.g. info or accord_bus=debug",
    ),
    (
        "max_request_bytes",
        "ACCORD_MAX_REQUEST_BYTES",
        "largest request body taken",
    ),
    (
        "stream_replicas",
        "ACCORD_STREAM_REPLICAS",
        "JetStream replicas per stream",
    ),
    (
        "duplicate_window_secs",
        "ACCORD_DUPLICATE_WINDOW_SECS",
        "JetStream duplicate window",
    ),
    (
        "relay_linger_us",
        "ACCORD_RELAY_LINGER_US",
        "relay's wait before publishing new events",
    ),
    (
        "group_linger_us",
        "ACCORD_GROUP_LINGER_US",
        "how long a log's sync may wait for the callers the last one answered (default 500; 0: never)",
    ),
    (
        "ready_max_relay_lag",
        "ACCORD_READY_MAX_RELAY_LAG",
        "relay lag above which /readyz fails",
    ),
    (
        "max_future_skew_secs",
        "ACCORD_MAX_FUTURE_SKEW_SECS",
        "how far ahead of the service's clock Accord-Occurred-At may be",
    ),
    (
        "require_signatures",
        "ACCORD_REQUIRE_SIGNATURES",
        "false: take commands not signed by their actor's registered key (default true)",
    ),
    (
        "trust_roots",
        "ACCORD_TRUST_ROOTS",
        "each party's administrator keys: PARTY:ACTOR:BASE64KEY, comma-separated",
    ),
    (
        "service_keys",
        "ACCORD_SERVICE_KEYS",
        "each service's reaction public key: SERVICE:BASE64KEY, comma-separated",
    ),
    (
        "reaction_key_dir",
        "ACCORD_REACTION_KEY_DIR",
        "directory of <service>.key files the services sign their reactions with",
    ),
    (
        "log_key_dir",
        "ACCORD_LOG_KEY_DIR",
        "directory of <service>.log-key files (accord keys log) the services sign their checkpoints with; empty: no checkpoints",
    ),
    (
        "checkpoint_every_events",
        "ACCORD_CHECKPOINT_EVERY_EVENTS",
        "issue a checkpoint after this many new events (default 1000)",
    ),
    (
        "checkpoint_every_secs",
        "ACCORD_CHECKPOINT_EVERY_SECS",
        "or after this many seconds with a new event (default 10)",
    ),
    (
        "witnesses",
        "ACCORD_WITNESSES",
        "witness cosigner keys (accord keys witness), comma-separated: asked to co-sign each checkpoint",
    ),
    (
        "witness_timeout_secs",
        "ACCORD_WITNESS_TIMEOUT_SECS",
        "how long to wait for one witness's answer (default 5)",
    ),
    (
        "deadline_check_secs",
        "ACCORD_DEADLINE_CHECK_SECS",
        "how often the deadline watcher looks for due dates passed unmet (default 3600; 0: never)",
    ),
    (
        "snapshot_after",
        "ACCORD_SNAPSHOT_AFTER",
        "events beyond the last snapshot of indexes and projections that make a new one (default 10000; 0: none, starts read the whole log)",
    ),
    (
        "worker_threads",
        "ACCORD_WORKER_THREADS",
        "threads of the async runtime (default 0: one per CPU core)",
    ),
];

fn invalid(
    key: &'static str,
    source_name: &str,
    value: &str,
    reason: impl ToString,
) -> SettingsError {
    SettingsError::Invalid {
        key,
        source_name: source_name.to_owned(),
        value: value.to_owned(),
        reason: reason.to_string(),
    }
}

impl Settings {
    /// Reads the TOML file, if any; unknown keys are an error naming the key.
    pub fn from_file(path: Option<&PathBuf>) -> Result<Settings, SettingsError> {
        let Some(path) = path else {
            return Ok(Settings::default());
        };
        let text = std::fs::read_to_string(path).map_err(|e| SettingsError::File {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Settings::from_toml(&text, path)
    }

    /// Parses and validates the text of a settings file read from `path` (named in
    /// errors); unknown keys are an error naming the key.
    pub fn from_toml(text: &str, path: &std::path::Path) -> Result<Settings, SettingsError> {
        let settings: Settings = toml::from_str(text).map_err(|e| SettingsError::Parse {
            path: path.to_path_buf(),
            reason: e.message().to_owned(),
        })?;
        settings.validate("config file")?;
        Ok(settings)
    }

    /// Applies `ACCORD_*` variables from `env` (the process environment in `main`).
    pub fn apply_env(&mut self, env: &BTreeMap<String, String>) -> Result<(), SettingsError> {
        for (key, var, _) in KEYS {
            if let Some(value) = env.get(*var) {
                self.set(key, value, var)?;
            }
        }
        self.validate("environment")
    }

    /// Sets one key from text.
    pub fn set(&mut self, key: &str, value: &str, source_name: &str) -> Result<(), SettingsError> {
        let number = |key: &'static str| -> Result<u64, SettingsError> {
            value
                .trim()
                .parse::<u64>()
                .map_err(|e| invalid(key, source_name, value, e))
        };
        match key {
            "data_dir" => self.data_dir = PathBuf::from(value),
            "nats_url" => self.nats_url = value.trim().to_owned(),
            "http_addr" => self.http_addr = value.trim().to_owned(),
            "http_console" => {
                self.http_console = match value.trim() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(invalid("http_console", source_name, value, "true or false")),
                }
            }
            "log_format" => {
                self.log_format = match value.trim() {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    _ => return Err(invalid("log_format", source_name, value, "text or json")),
                }
            }
            "log_level" => self.log_level = value.trim().to_owned(),
            "max_request_bytes" => {
                self.max_request_bytes = number("max_request_bytes")? as usize;
            }
            "stream_replicas" => self.stream_replicas = number("stream_replicas")? as usize,
            "duplicate_window_secs" => {
                self.duplicate_window_secs = number("duplicate_window_secs")?
            }
            "relay_linger_us" => self.relay_linger_us = number("relay_linger_us")?,
            "group_linger_us" => self.group_linger_us = number("group_linger_us")?,
            "ready_max_relay_lag" => self.ready_max_relay_lag = number("ready_max_relay_lag")?,
            "max_future_skew_secs" => self.max_future_skew_secs = number("max_future_skew_secs")?,
            "trust_roots" => self.trust_roots = value.trim().to_owned(),
            "service_keys" => self.service_keys = value.trim().to_owned(),
            "reaction_key_dir" => self.reaction_key_dir = value.trim().to_owned(),
            "log_key_dir" => self.log_key_dir = value.trim().to_owned(),
            "checkpoint_every_events" => {
                self.checkpoint_every_events = number("checkpoint_every_events")?
            }
            "checkpoint_every_secs" => {
                self.checkpoint_every_secs = number("checkpoint_every_secs")?
            }
            "witnesses" => self.witnesses = value.trim().to_owned(),
            "witness_timeout_secs" => self.witness_timeout_secs = number("witness_timeout_secs")?,
            "deadline_check_secs" => self.deadline_check_secs = number("deadline_check_secs")?,
            "snapshot_after" => self.snapshot_after = number("snapshot_after")?,
            "worker_threads" => self.worker_threads = number("worker_threads")?,
            "require_signatures" => {
                self.require_signatures = match value.trim() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(invalid(
                            "require_signatures",
                            source_name,
                            value,
                            "true or false",
                        ))
                    }
                }
            }
            _ => {
                return Err(SettingsError::Invalid {
                    key: "?",
                    source_name: source_name.to_owned(),
                    value: key.to_owned(),
                    reason: "no such setting".into(),
                })
            }
        }
        Ok(())
    }

    /// The configured trust roots, one per entry of `trust_roots`.
    pub fn trust_roots(&self) -> Result<Vec<TrustRoot>, String> {
        self.trust_roots
            .split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(str::parse)
            .collect()
    }

    /// The configured reaction keys, one per entry of `service_keys`.
    pub fn service_keys(&self) -> Result<Vec<ServiceKey>, String> {
        self.service_keys
            .split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(str::parse)
            .collect()
    }

    /// The keys trusted without the registry: `trust_roots` and `service_keys`.
    pub fn trusted(&self) -> Result<Trusted, String> {
        Ok(Trusted {
            roots: self.trust_roots()?,
            services: self.service_keys()?,
        })
    }

    /// The configured witnesses, one per entry of `witnesses`.
    pub fn witnesses(&self) -> Result<Vec<CosignerKey>, String> {
        let mut keys: Vec<CosignerKey> = Vec::new();
        for entry in self.witnesses.split(',').filter(|e| !e.trim().is_empty()) {
            let key: CosignerKey = entry.trim().parse().map_err(|e| format!("{e}"))?;
            if keys.iter().any(|k| k.name() == key.name()) {
                return Err(format!("witness {} is listed twice", key.name()));
            }
            keys.push(key);
        }
        Ok(keys)
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self, source_name: &str) -> Result<(), SettingsError> {
        if let Err(reason) = self.witnesses() {
            return Err(invalid("witnesses", source_name, &self.witnesses, reason));
        }
        for (key, value) in [
            ("checkpoint_every_events", self.checkpoint_every_events),
            ("checkpoint_every_secs", self.checkpoint_every_secs),
            ("witness_timeout_secs", self.witness_timeout_secs),
        ] {
            if value == 0 {
                return Err(invalid(key, source_name, "0", "must be at least 1"));
            }
        }
        if let Err(reason) = self.service_keys() {
            return Err(invalid(
                "service_keys",
                source_name,
                &self.service_keys,
                reason,
            ));
        }
        if let Err(reason) = self.trust_roots() {
            return Err(invalid(
                "trust_roots",
                source_name,
                &self.trust_roots,
                reason,
            ));
        }
        for (key, value, most, zero) in [
            (
                "group_linger_us",
                self.group_linger_us,
                MAX_GROUP_LINGER_US,
                "100 ms; 0: never",
            ),
            (
                "worker_threads",
                self.worker_threads,
                MAX_WORKER_THREADS,
                "0: one per CPU core",
            ),
        ] {
            if value > most {
                return Err(invalid(
                    key,
                    source_name,
                    &value.to_string(),
                    format!("at most {most} ({zero})"),
                ));
            }
        }
        if self.max_request_bytes == 0 || self.max_request_bytes > 1024 * 1024 {
            return Err(invalid(
                "max_request_bytes",
                source_name,
                &self.max_request_bytes.to_string(),
                "must be 1..=1048576 (NATS's default max payload)",
            ));
        }
        if !(1..=5).contains(&self.stream_replicas) {
            return Err(invalid(
                "stream_replicas",
                source_name,
                &self.stream_replicas.to_string(),
                "JetStream allows 1 to 5 replicas",
            ));
        }
        if self.duplicate_window_secs == 0 {
            return Err(invalid(
                "duplicate_window_secs",
                source_name,
                "0",
                "must be at least 1: the relay relies on it after a crash",
            ));
        }
        if !self.http_addr.is_empty() && self.http_addr.parse::<std::net::SocketAddr>().is_err() {
            return Err(invalid(
                "http_addr",
                source_name,
                &self.http_addr,
                "must be host:port, e.g. 127.0.0.1:9464",
            ));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log_level).is_err() {
            return Err(invalid(
                "log_level",
                source_name,
                &self.log_level,
                "not a tracing filter",
            ));
        }
        Ok(())
    }

    /// The settings as TOML, as `accord config print` shows them; passwords in the
    /// NATS URL are shown as `***`.
    pub fn to_toml(&self) -> String {
        let mut shown = self.clone();
        shown.nats_url = accord_bus::redact(&shown.nats_url);
        toml::to_string(&shown).unwrap_or_else(|e| format!("# cannot print settings: {e}\n"))
    }

    /// The log directory of one service.
    pub fn service_dir(&self, service: &str) -> PathBuf {
        self.data_dir.join(service)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_settings_read_back_with_the_password_hidden_and_print_the_same() {
        // The shape of an input the `settings` fuzz target tried: a URL whose
        // "user" is itself a URL.
        let text = "nats_url = \"nats://1://127.200.7.0.0.z1:@3\"\nmax_request_bytes = 1024\n";
        let path = std::path::Path::new("fuzz.toml");
        let settings = Settings::from_toml(text, path).unwrap();
        let printed = settings.to_toml();
        assert!(!printed.contains("127.200"), "{printed}");
        let again = Settings::from_toml(&printed, path).unwrap();
        assert_eq!(again.nats_url, accord_bus::redact(&settings.nats_url));
        assert_eq!(again.max_request_bytes, 1024);
        assert_eq!(again.to_toml(), printed);
    }

    #[test]
    fn a_file_then_the_environment_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accord.toml");
        std::fs::write(&path, "nats_url = \"nats://a:4222\"\nstream_replicas = 3\n").unwrap();
        let mut settings = Settings::from_file(Some(&path)).unwrap();
        assert_eq!(settings.nats_url, "nats://a:4222");
        let env = BTreeMap::from([("ACCORD_NATS_URL".to_owned(), "nats://b:4222".to_owned())]);
        settings.apply_env(&env).unwrap();
        assert_eq!(settings.nats_url, "nats://b:4222");
        assert_eq!(settings.stream_replicas, 3);
        settings.set("nats_url", "nats://c:4222", "--nats").unwrap();
        assert_eq!(settings.nats_url, "nats://c:4222");
    }

    #[test]
    fn bad_settings_name_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accord.toml");
        std::fs::write(&path, "nats_ulr = \"x\"\n").unwrap();
        let error = Settings::from_file(Some(&path)).unwrap_err().to_string();
        assert!(error.contains("nats_ulr"), "{error}");

        let error = from_env("ACCORD_STREAM_REPLICAS", "many").unwrap_err();
        assert!(
            error.contains("stream_replicas") && error.contains("ACCORD_STREAM_REPLICAS"),
            "{error}"
        );
        let error = from_env("ACCORD_STREAM_REPLICAS", "9").unwrap_err();
        assert!(error.contains("stream_replicas"), "{error}");
    }

    /// The default settings with one environment variable applied, or the error.
    fn from_env(var: &str, value: &str) -> Result<Settings, String> {
        let env = BTreeMap::from([(var.to_owned(), value.to_owned())]);
        let mut settings = Settings::default();
        settings.apply_env(&env).map_err(|e| e.to_string())?;
        Ok(settings)
    }

    #[test]
    fn the_relay_lingers_five_milliseconds_unless_told_otherwise() {
        assert_eq!(Settings::default().relay_linger_us, 5000);
        let settings = from_env("ACCORD_RELAY_LINGER_US", "0").unwrap();
        assert_eq!(settings.relay_linger_us, 0);
        let error = from_env("ACCORD_RELAY_LINGER_US", "soon").unwrap_err();
        assert!(error.contains("relay_linger_us"), "{error}");
    }

    #[test]
    fn the_logs_linger_half_a_millisecond_unless_told_otherwise() {
        assert_eq!(Settings::default().group_linger_us, 500);
        let settings = from_env("ACCORD_GROUP_LINGER_US", "2000").unwrap();
        assert_eq!(settings.group_linger_us, 2000);
        assert_eq!(
            from_env("ACCORD_GROUP_LINGER_US", "0")
                .unwrap()
                .group_linger_us,
            0
        );
        for bad in ["soon", "100001"] {
            let error = from_env("ACCORD_GROUP_LINGER_US", bad).unwrap_err();
            assert!(error.contains("group_linger_us"), "{error}");
        }
    }

    #[test]
    fn the_runtime_has_a_thread_per_core_unless_told_otherwise() {
        assert_eq!(Settings::default().worker_threads, 0);
        let settings = from_env("ACCORD_WORKER_THREADS", "1").unwrap();
        assert_eq!(settings.worker_threads, 1);
        for bad in ["two", "1025"] {
            let error = from_env("ACCORD_WORKER_THREADS", bad).unwrap_err();
            assert!(error.contains("worker_threads"), "{error}");
        }
    }

    #[test]
    fn every_key_has_an_environment_variable_and_prints() {
        let printed = Settings::default().to_toml();
        for (key, var, _) in KEYS {
            assert!(printed.contains(key), "{key} not printed");
            assert_eq!(*var, format!("ACCORD_{}", key.to_uppercase()));
        }
    }
}
