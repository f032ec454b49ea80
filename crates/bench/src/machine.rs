/// What a result was measured on: results from different machines do not compare.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub rustc: String,
    /// Versions of the parts under test, as locked in `Cargo.lock`.
    pub crates: Vec<(String, String)>,
}

/// The workspace's lock file, read at build time: the versions the binary was built with.
const CARGO_LOCK: &str = include_str!("../../../Cargo.lock");
const PARTS: [&str; 5] = ["sled", "async-nats", "prost", "tokio", "sha2"];

impl Machine {
    pub fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or("unknown".into(), |(_, name)| name.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|l| l.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
            .arg("-V")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map_or("unknown".into(), |v| v.trim().to_owned());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            memory_gib: memory_kib / 1024.0 / 1024.0,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or("unknown".into(), |k| k.trim().to_owned()),
            rustc,
            crates: PARTS
                .iter()
                .map(|name| (name.to_string(), locked_version(CARGO_LOCK, name)))
                .collect(),
        }
    }
}

impl std::fmt::Display for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let crates: Vec<String> = self
            .crates
            .iter()
            .map(|(name, version)| format!("{name} {version}"))
            .collect();
        write!(
            f,
            "{} cores ({}), {:.0} GiB, Linux {}; {}; {}",
            self.cores,
            self.cpu,
            self.memory_gib,
            self.kernel,
            self.rustc,
            crates.join(", ")
        )
    }
}

/// The version of package `name` in a `Cargo.lock`; a package without a `source`
/// is built from this repository (a patched copy under `vendor/`), and says so.
fn locked_version(lock: &str, name: &str) -> String {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == wanted {
            if let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = ")) {
                let version = version.trim_matches('"');
                return match lines.next() {
                    Some(source) if source.starts_with("source = ") => version.to_owned(),
                    _ => format!("{version} (vendored, patched)"),
                };
            }
        }
    }
    "unknown".into()
}

/// This process's peak resident set (`VmHWM`), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    peak_rss_of("self")
}

/// The peak resident set of process `pid` (or `self`), in bytes.
pub fn peak_rss_of(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_the_lock_file_then_each_part_has_its_version_and_says_if_patched() {
        assert_eq!(
            locked_version(CARGO_LOCK, "sled"),
            "0.34.7 (vendored, patched)"
        );
        assert_eq!(locked_version(CARGO_LOCK, "no-such-crate"), "unknown");
        let lock = "[[package]]\nname = \"tokio\"\nversion = \"1.2.3\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        assert_eq!(locked_version(lock, "tokio"), "1.2.3");
    }

    #[test]
    fn given_this_process_when_its_peak_rss_is_read_then_it_is_some_memory() {
        let rss = peak_rss_bytes().expect("VmHWM on Linux");
        assert!(rss > 1024 * 1024, "{rss}");
    }
}
