//! The console in a real browser: headless Chromium driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`, which `.ci/run` installs) opens every
//! page on the demo's data, checks what a person would check there, changes the
//! as-of date through the page's own form, writes a screenshot of each page (and of
//! the ledger at a phone's width) under `target/console-screenshots/`, and finds no
//! error in the browser's console log.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

mod support;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A child process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `accord audit console` on a free port: the process and its address.
fn console(dirs: &[String]) -> (Process, String) {
    let (child, addr) = support::spawn_console(dirs);
    (Process(child), addr)
}

/// chromedriver on a free port, answering.
fn chromedriver() -> (Process, u16) {
    let port = accord_testkit::free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let process = Process(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (process, port)
}

async fn browser(port: u16, profile: &Path) -> Client {
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            // As the machines' notes say: without the background-networking flags
            // Chromium tries hosts this closed network refuses.
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
        "goog:loggingPrefs": { "browser": "ALL" },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap()
}

/// The browser's console log since the last call (chromedriver's log endpoint,
/// which fantoccini does not wrap): one HTTP/1.1 request, its answer read by its
/// Content-Length.
fn browser_log(port: u16, session: &str) -> Vec<serde_json::Value> {
    let body = r#"{"type":"browser"}"#;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST /session/{session}/se/log HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut json = vec![0; length];
    reader.read_exact(&mut json).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&json)));
    value["value"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("chromedriver answered {value}"))
}

fn screenshots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The text of the table row whose first cell is `key`.
async fn row(client: &Client, key: &str) -> String {
    for row in client.find_all(Locator::Css("tbody tr")).await.unwrap() {
        let text = row.text().await.unwrap();
        if text.starts_with(key) {
            return text;
        }
    }
    panic!("no row {key}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_demos_data_when_a_person_opens_every_page_in_chromium_then_it_shows_what_they_check(
) {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        eprintln!(
            "SKIPPED the browser test: {CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver; .ci/run does)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dirs = support::demo_into(dir.path());
    let (_console, addr) = console(&dirs);
    let (_driver, port) = chromedriver();
    eprintln!("browser: connecting to chromedriver on {port}");
    let client = browser(port, &dir.path().join("profile")).await;
    eprintln!("browser: session");
    let session = client.session_id().await.unwrap().unwrap();
    eprintln!("browser: session {session}");
    client.set_window_size(1280, 900).await.unwrap();
    eprintln!("browser: window sized");
    let shots = screenshots_dir();
    let base = format!("http://{addr}/console");
    let mut errors = Vec::new();
    let visit = |page: &'static str| {
        let client = client.clone();
        let url = format!("{base}/{page}");
        let shots = shots.clone();
        async move {
            eprintln!("browser: {url}");
            client.goto(&url).await.unwrap();
            let png = client.screenshot().await.unwrap();
            let name = if page.is_empty() { "index" } else { page };
            let name = name.replace(['/', '?', '=', '&'], "_");
            std::fs::write(shots.join(format!("{name}.png")), png).unwrap();
        }
    };

    visit("").await;
    assert!(text(&client, "main").await.contains("Read-only"));

    // The agreement in force, its five signatures (four ministers, Poland's on
    // accession).
    visit("agreements").await;
    let agreement = row(&client, "lt-ua-defence-industry").await;
    assert!(agreement.contains("in_force"), "{agreement}");
    assert!(
        agreement.contains("LT, UA, PL 5 5") || agreement.contains("in_force 5 5"),
        "{agreement}"
    );

    // Ukraine ranked first for Lithuania's shells, with its reason.
    visit("procurement").await;
    let main = text(&client, "main").await;
    let lt = main
        .split("155mm shell, for supply controlled by LT")
        .nth(1)
        .unwrap();
    let ua = lt
        .lines()
        .find(|l| l.starts_with("req-ua-shells supply-lt-shells-1"))
        .unwrap_or_else(|| panic!("{lt}"));
    assert!(ua.contains(" 1 1 ") && ua.contains("priority"), "{ua}");

    // The priority commitment's amendment under its motion, reached from the ledger.
    visit("ledger").await;
    client
        .find(Locator::LinkText("c-priority"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let amended = row(&client, "2025-04-04T09:00:00Z").await;
    assert!(
        amended.contains("CommitmentAmended") && amended.contains("m-priority-ew"),
        "{amended}"
    );
    std::fs::write(
        shots.join("commitment_c-priority.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    // Its motion links to the motion's row on the board's page.
    client
        .find(Locator::LinkText("m-priority-ew"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let url = client.current_url().await.unwrap();
    assert!(
        url.as_str()
            .ends_with("/console/board#motion-m-priority-ew"),
        "{url}"
    );
    assert!(row(&client, "m-priority-ew").await.contains("adopted"));

    // The funding commitment's amounts over time, drawn.
    visit("commitment/c-funding").await;
    assert_eq!(
        client
            .find_all(Locator::Css("figure.chart svg path"))
            .await
            .unwrap()
            .len(),
        4
    );

    // The RDX plant's funding gap.
    visit("projects").await;
    let rdx = row(&client, "rdx-plant").await;
    assert!(rdx.contains("outstanding 800000000"), "{rdx}");
    // Drawn: funding bars for both funded projects, the RDX plant's milestones on a
    // time line with its slip.
    assert_eq!(
        client
            .find_all(Locator::Css("figure.funding > svg"))
            .await
            .unwrap()
            .len(),
        2
    );
    let slips = client
        .find_all(Locator::Css(
            "figure.milestones > svg line[stroke='#cf222e']",
        ))
        .await
        .unwrap();
    assert_eq!(slips.len(), 1, "the construction start slipped");

    visit("board").await;
    assert!(row(&client, "m-maritime").await.contains("adopted"));

    visit("evidence").await;
    assert_eq!(
        client.find_all(Locator::Css("tr.ok")).await.unwrap().len(),
        3
    );

    // Changing the as-of date through the page's form changes what is shown: the
    // day before the signatures, the agreement was only drafted.
    visit("agreements").await;
    let form = client.form(Locator::Css("form.as-of")).await.unwrap();
    form.set_by_name("as_of", "2024-11-25").await.unwrap();
    form.submit().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains("as_of=2024-11-25")
    {
        assert!(Instant::now() < deadline, "the form did not navigate");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = row(&client, "lt-ua-defence-industry").await;
    assert!(
        before.contains("drafted") && !before.contains("PL"),
        "{before}"
    );
    std::fs::write(
        shots.join("agreements_as_of_2024-11-25.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();

    // At a phone's width the ledger still reads (its table scrolls in its box).
    client.set_window_size(390, 844).await.unwrap();
    visit("ledger").await;
    assert!(row(&client, "c-funding").await.contains("UA + LT"));

    for entry in browser_log(port, &session) {
        if entry["level"] == "SEVERE" || entry["level"] == "ERROR" {
            errors.push(entry.to_string());
        }
    }
    // The log is read for real: a page that does not exist shows up in it.
    client.goto(&format!("{base}/no-such-page")).await.unwrap();
    let missing = browser_log(port, &session);
    assert!(
        missing.iter().any(|e| e["level"] == "SEVERE"),
        "no error logged for a missing page: {missing:?}"
    );
    client.close().await.unwrap();
    assert!(errors.is_empty(), "the browser's console: {errors:?}");
    for page in [
        "index",
        "agreements",
        "ledger",
        "projects",
        "procurement",
        "evidence",
    ] {
        assert!(shots.join(format!("{page}.png")).is_file(), "{page}");
    }
}
