//! nats-server processes started from the configs in `deploy/nats/`, with only ports
//! and paths rewritten and `sync_interval` stripped: the nats-server on these machines
//! (2.9) rejects that key, which production (>= 2.10) needs.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PASSWORDS: [(&str, &str); 5] = [
    ("AGREEMENTS_PASSWORD", "agreements-secret"),
    ("PROJECTS_PASSWORD", "projects-secret"),
    ("PROCUREMENT_PASSWORD", "procurement-secret"),
    ("CLIENT_PASSWORD", "client-secret"),
    ("WITNESS_PASSWORD", "witness-secret"),
];

pub fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

pub fn password(user: &str) -> &'static str {
    let var = format!("{}_PASSWORD", user.to_uppercase());
    PASSWORDS.iter().find(|(v, _)| *v == var).unwrap().1
}

/// `nats://user:password@127.0.0.1:port` for each port, comma-separated.
pub fn url(user: &str, ports: &[u16]) -> String {
    ports
        .iter()
        .map(|p| format!("nats://{user}:{}@127.0.0.1:{p}", password(user)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Where one server listens: client port, monitoring port, and in a cluster its
/// route port and every node's route port.
pub struct Ports {
    pub client: u16,
    pub http: u16,
    pub cluster: Option<(u16, Vec<u16>)>,
}

/// The config with ports and paths rewritten for this machine.
pub fn rewrite(config: &str, ports: &Ports, store: &Path) -> String {
    let mut out = String::new();
    let mut route = 0;
    for line in config.lines() {
        let trimmed = line.trim();
        let rewritten = if trimmed.starts_with("sync_interval") {
            continue;
        } else if trimmed == "listen: 0.0.0.0:4222" {
            format!("listen: 127.0.0.1:{}", ports.client)
        } else if trimmed == "listen: 0.0.0.0:6222" {
            format!("  listen: 127.0.0.1:{}", ports.cluster.as_ref().unwrap().0)
        } else if trimmed.starts_with("http:") {
            format!("http: 127.0.0.1:{}", ports.http)
        } else if trimmed.starts_with("store_dir:") {
            format!("  store_dir: \"{}\"", store.display())
        } else if trimmed.starts_with("nats-route://") {
            let port = ports.cluster.as_ref().unwrap().1[route];
            route += 1;
            format!("    nats-route://127.0.0.1:{port}")
        } else {
            line.to_owned()
        };
        out.push_str(&rewritten);
        out.push('\n');
    }
    out
}

/// A nats-server running a rewritten deploy config; killed on drop.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    conf: PathBuf,
}

impl Server {
    /// Starts `deploy/nats/<name>` in `dir` (accounts.conf copied beside it).
    pub fn start(name: &str, ports: Ports, dir: &Path) -> Server {
        let source = std::fs::read_to_string(deploy_dir().join("nats").join(name)).unwrap();
        std::fs::create_dir_all(dir).unwrap();
        std::fs::copy(
            deploy_dir().join("nats/accounts.conf"),
            dir.join("accounts.conf"),
        )
        .unwrap();
        let conf = dir.join(name);
        std::fs::write(&conf, rewrite(&source, &ports, &dir.join("store"))).unwrap();
        let mut server = Server {
            child: None,
            port: ports.client,
            conf,
        };
        server.restart();
        server
    }

    pub fn restart(&mut self) {
        self.kill();
        let binary =
            std::env::var("ACCORD_NATS_SERVER").unwrap_or_else(|_| "/usr/sbin/nats-server".into());
        let mut command = Command::new(binary);
        command
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (var, value) in PASSWORDS {
            command.env(var, value);
        }
        self.child = Some(command.spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(10);
        while !accord_testkit::nats_greets(self.port) {
            assert!(
                Instant::now() < deadline,
                "nats-server did not start: {}",
                self.conf.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `accord serve agreements` on NATS at `url`, its HTTP endpoints on `http` (empty:
/// none) and its data under `data`, taking unsigned commands (tests not about
/// signatures; signed: up_over_nats.rs) and logging warnings; callers add settings.
pub fn serve_agreements(url: &str, http: &str, data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_accord"));
    command
        .args([
            "serve",
            "agreements",
            "--nats",
            url,
            "--http",
            http,
            "--data",
        ])
        .arg(data)
        .env("ACCORD_REQUIRE_SIGNATURES", "false")
        .env("ACCORD_LOG_LEVEL", "warn");
    command
}

/// A child process killed (SIGKILL) when dropped, so a failing test leaves nothing
/// running.
pub struct Process(pub Child);

impl Process {
    pub fn spawn(command: &mut Command) -> Process {
        Process(command.spawn().unwrap())
    }

    /// SIGTERM, and the exit must be clean.
    pub fn terminate(&mut self) {
        let pid = self.0.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let status = self.0.wait().unwrap();
        assert!(status.success(), "graceful stop exits 0: {status:?}");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `accord audit console --http 127.0.0.1:0 DIR...`: the process (stdout read up to
/// the line naming its address) and that address (host:port).
pub fn spawn_console(dirs: &[String]) -> (Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["audit", "console", "--http", "127.0.0.1:0"])
        .args(dirs)
        .env("ACCORD_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "console: http://127.0.0.1:PORT/console/ ..."
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    (child, addr)
}

/// Runs `accord ARGS` to completion, logging only warnings.
pub fn accord(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env("ACCORD_LOG_LEVEL", "warn")
        .output()
        .unwrap()
}

/// `accord demo --data ROOT/data`: the three services' data directories it made.
pub fn demo_into(root: &Path) -> Vec<String> {
    let data = root.join("data");
    let output = accord(&["demo", "--data", data.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    ["agreements", "projects", "procurement"]
        .iter()
        .map(|s| data.join(s).display().to_string())
        .collect()
}

/// The row of the table whose header cell is `key`, as its cells' text.
pub fn row(page: &str, key: &str) -> String {
    let start = page
        .find(&format!("<th scope=\"row\">{key}"))
        .or_else(|| page.find(&format!("\">{key}</a></th>")))
        .unwrap_or_else(|| panic!("no row {key}"));
    let end = page[start..].find("</tr>").unwrap() + start;
    page[start..end]
        .replace("</td>", " | ")
        .split('<')
        .map(|part| part.split_once('>').map_or(part, |(_, text)| text))
        .collect::<String>()
}

/// GETs `path` from `addr` over a plain HTTP/1.1 connection: the status, the head's
/// header lines (names lower-cased) and the body's bytes (a download need not be
/// text).
pub fn http_get(addr: &str, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let end = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..end]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, response[end + 4..].to_vec())
}

/// Every file's bytes under `dir`.
pub fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else {
                files.insert(entry.path(), std::fs::read(entry.path()).unwrap());
            }
        }
    }
    files
}
