//! The console (`accord audit console DIR...`) over HTTP on the demo's data: each page
//! shows what a person would check there, the as-of control changes what is shown,
//! a tampered copy's evidence page says which log fails, where and why, text from an
//! event is escaped, the CSP forbids scripts, and the data directories are left
//! byte-identical. (The real-browser test of issue 19 is still to come.)

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use accord_agreements::agreement::{AgreementEvent, AgreementKind};
use accord_agreements::projections::AgreementsEvent;
use accord_kernel::{AggregateId, ExpectedVersion, PartyId, StreamId, Timestamp};
use accord_log::{decode_envelope, encode_envelope, AppendMetadata, Log, NewEvent};
use accord_testkit::tamper::{copy_dir, envelope, set_envelope, tamper};

mod support;

use support::{row, snapshot};

/// The demo's data, made once for this test binary.
fn demo_data() -> &'static Path {
    static DATA: OnceLock<PathBuf> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("accord-console-fixture-")
            .tempdir()
            .unwrap()
            .keep();
        support::demo_into(&dir);
        dir.join("data")
    })
}

fn service_dirs(root: &Path) -> Vec<String> {
    ["agreements", "projects", "procurement"]
        .iter()
        .map(|s| root.join(s).display().to_string())
        .collect()
}

/// `accord audit console` on a free port; killed when dropped.
struct Served {
    child: Child,
    addr: String,
}

impl Served {
    fn start(dirs: &[String]) -> Served {
        let (child, addr) = support::spawn_console(dirs);
        Served { child, addr }
    }

    /// GETs `path`: status, headers (lower-case names), body.
    fn get(&self, path: &str) -> (u16, BTreeMap<String, String>, String) {
        let (status, headers, body) = support::http_get(&self.addr, path);
        let body = String::from_utf8(body).unwrap();
        (status, headers.into_iter().collect(), body)
    }

    /// GETs `path`: the body's bytes (a download need not be text); it must be a 200.
    fn bytes(&self, path: &str) -> Vec<u8> {
        let (status, _, body) = support::http_get(&self.addr, path);
        assert_eq!(status, 200, "{path}");
        body
    }

    fn page(&self, path: &str) -> String {
        let (status, headers, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        assert!(
            headers["content-security-policy"].contains("default-src 'none'"),
            "{path}: {headers:?}"
        );
        assert!(!body.contains("<script"), "{path} has a script");
        body
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn given_the_demos_data_then_each_page_shows_what_a_person_would_check() {
    let served = Served::start(&service_dirs(demo_data()));
    let index = served.page("/console/");
    assert!(index.contains("/console/evidence"));

    // The agreement in force, signed by its four ministers and Poland's on accession.
    let agreements = served.page("/console/agreements");
    let agreement = row(&agreements, "lt-ua-defence-industry");
    assert!(
        agreement.contains("in_force") && agreement.contains("LT, UA, PL"),
        "{agreement}"
    );
    assert!(agreement.contains(" | 5 | 5 | "), "{agreement}");

    // The ledger links each commitment to its timeline; the priority commitment's
    // amendment is there under its motion.
    let ledger = served.page("/console/ledger");
    assert!(ledger.contains("href=\"/console/commitment/c-priority\""));
    let funding = row(&ledger, "c-funding");
    assert!(funding.contains("UA + LT"), "{funding}");
    let priority = served.page("/console/commitment/c-priority");
    let amended = priority
        .split("<tr>")
        .find(|r| r.contains("CommitmentAmended"))
        .unwrap();
    assert!(amended.contains("m-priority-ew"), "{amended}");
    // The motion links to its row on the board's page.
    assert!(
        amended.contains("href=\"/console/board#motion-m-priority-ew\""),
        "{amended}"
    );
    let board = served.page("/console/board");
    assert!(
        board.contains("<tr id=\"motion-m-priority-ew\">"),
        "{board}"
    );
    // The board's members, with who votes.
    assert!(
        row(&board, "lt-board-chair").contains("LT | chair"),
        "{board}"
    );
    // Each change says whether its actor's signature is kept with it.
    assert!(amended.contains("signed by its actor"), "{amended}");
    // The disputed delivery names its document by hash.
    let funding = served.page("/console/commitment/c-funding");
    assert!(funding.contains("Reconciliation of disbursed funding (illustrative) (sha256 "));
    // Pledged, allocated, delivered and confirmed over time, as an inline chart.
    assert!(
        funding.contains("<figure class=\"chart\"><svg"),
        "{funding}"
    );
    assert_eq!(funding.matches("<path d=\"M").count(), 4);
    assert!(
        funding.contains(">3000000000</text>"),
        "the scale tops at the EUR 30M committed"
    );

    // The RDX plant's funding gap; the regulatory promise at risk.
    let projects = served.page("/console/projects");
    let rdx = row(&projects, "rdx-plant");
    assert!(
        rdx.contains("EUR pledged 1200000000, disbursed 400000000, outstanding 800000000"),
        "{rdx}"
    );
    assert!(row(&projects, "c-launch-time").contains("at risk"));
    // Each id links to where it is shown: the promise to its commitment and project.
    assert!(projects.contains("href=\"/console/commitment/c-launch-time\""));
    assert!(projects.contains("href=\"/console/projects#project-rdx-plant\""));
    assert!(projects.contains("<tr id=\"project-rdx-plant\">"));
    // The funding gap as bars, the milestones on a time line with the slip.
    let rdx_figures = projects
        .split("<h2>")
        .find(|h| h.contains("(rdx-plant)"))
        .unwrap();
    assert!(
        rdx_figures.contains("EUR 400000000 / 1200000000"),
        "{rdx_figures}"
    );
    assert!(
        rdx_figures.contains("outstanding 800000000"),
        "{rdx_figures}"
    );
    assert!(rdx_figures.contains("slipped from "), "{rdx_figures}");

    // Ukraine ranked first for Lithuania's shells, with the grant as the reason.
    let procurement = served.page("/console/procurement");
    let lt_shells = procurement
        .split("<h2>")
        .find(|q| q.starts_with("155mm shell, for supply controlled by LT"))
        .unwrap();
    let first = lt_shells
        .split("<tr>")
        .find(|r| r.contains("req-ua-shells") && r.contains("supply-lt-shells-1"))
        .unwrap_or_else(|| panic!("{lt_shells}"));
    assert!(first.contains("<td>1</td>"), "{first}");
    assert!(first.contains("priority"), "{first}");
    assert!(procurement.contains("href=\"/console/commitment/c-priority\""));

    // Every log verifies; each kept checkpoints that both states' witnesses co-signed.
    let evidence = served.page("/console/evidence");
    assert_eq!(evidence.matches("<strong>verified</strong>").count(), 3);
    let agreements_log = evidence
        .split("<tr class=\"ok\">")
        .skip(1)
        .find(|r| r.contains("/agreements</th>"))
        .unwrap_or_else(|| panic!("{evidence}"));
    assert!(
        agreements_log.contains("latest at size"),
        "{agreements_log}"
    );
    for witness in ["witness.lt.demo", "witness.ua.demo"] {
        assert!(
            agreements_log.contains(&format!("{witness}: ")),
            "{agreements_log}"
        );
    }

    // As of the day before the signatures: drafted, and no Poland yet; in business
    // time at the same instant likewise.
    for time in ["recorded", "effective"] {
        let before = served.page(&format!("/console/agreements?as_of=2024-11-25&time={time}"));
        let agreement = row(&before, "lt-ua-defence-industry");
        assert!(
            agreement.contains("drafted") && !agreement.contains("PL"),
            "{time}: {agreement}"
        );
        assert!(before.contains("Shown as"), "{time}");
    }
    // A bad as-of is a page saying so, not a failure.
    let (status, _, body) = served.get("/console/ledger?as_of=yesterday");
    assert_eq!(status, 400);
    assert!(body.contains("as of &quot;yesterday&quot;"), "{body}");
}

#[test]
fn given_a_tampered_copy_then_the_evidence_page_says_which_log_fails_where_and_why() {
    let copy = tempfile::tempdir().unwrap();
    for service in ["agreements", "projects", "procurement"] {
        copy_dir(&demo_data().join(service), &copy.path().join(service));
    }
    tamper(&copy.path().join("projects"), |records| {
        let mut event = decode_envelope(&envelope(records, 7)).unwrap();
        event.payload[2] ^= 0x01;
        set_envelope(records, 7, encode_envelope(&event));
    });
    let served = Served::start(&service_dirs(copy.path()));
    let evidence = served.page("/console/evidence");
    let failed = evidence
        .split("<tr class=\"failed\">")
        .nth(1)
        .unwrap_or_else(|| panic!("no failed row: {evidence}"));
    assert!(failed.contains("projects"), "{failed}");
    assert!(failed.contains("FAILED"), "{failed}");
    assert!(failed.contains("hash_mismatch at position 7"), "{failed}");
    assert_eq!(evidence.matches("<strong>verified</strong>").count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_event_whose_text_is_a_script_then_it_renders_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let agreements = dir.path().join("agreements");
    let log = Log::open(&agreements).unwrap();
    let script = "<script>alert(1)</script>";
    let encoded = accord_boundary::encode_agreements_event(
        &AggregateId::new("a-x").unwrap(),
        &AgreementsEvent::Agreement(AgreementEvent::Drafted {
            id: AggregateId::new("a-x").unwrap(),
            kind: AgreementKind::Memorandum,
            title: script.into(),
            parties: vec![PartyId::new("LT").unwrap(), PartyId::new("UA").unwrap()],
            areas: vec![],
            reason: script.into(),
            documents: vec![],
        }),
    );
    log.append(
        StreamId::new("agreement", "a-x").unwrap(),
        ExpectedVersion::NoStream,
        vec![NewEvent {
            event_type: encoded.event_type,
            schema_version: encoded.schema_version,
            payload: encoded.payload,
        }],
        AppendMetadata {
            actor: "\"><img src=x onerror=alert(2)>".into(),
            command_id: uuid::Uuid::now_v7(),
            correlation_id: uuid::Uuid::now_v7(),
            causation_id: None,
            occurred_at: Timestamp::parse_rfc3339("2024-11-20T09:00:00Z").unwrap(),
            signature: None,
            command_digest: None,
        },
    )
    .await
    .unwrap();
    drop(log);
    let served = Served::start(&[agreements.display().to_string()]);
    let page = served.page("/console/agreements");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains(script));
}

#[test]
fn given_every_page_read_then_the_data_directories_are_byte_identical() {
    let copy = tempfile::tempdir().unwrap();
    for service in ["agreements", "projects", "procurement"] {
        copy_dir(&demo_data().join(service), &copy.path().join(service));
    }
    let before = snapshot(copy.path());
    let served = Served::start(&service_dirs(copy.path()));
    for path in [
        "/console/",
        "/console/agreements",
        "/console/ledger?as_of=2025-01-01&time=effective",
        "/console/board",
        "/console/projects",
        "/console/procurement",
        "/console/commitment/c-priority",
        "/console/evidence",
    ] {
        served.page(path);
    }
    drop(served);
    assert_eq!(snapshot(copy.path()), before);
}

#[test]
fn given_demo_with_console_then_it_prints_the_address_and_serves_until_stopped() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["demo", "--console", "127.0.0.1:0"])
        .env("ACCORD_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = lines
        .by_ref()
        .map(Result::unwrap)
        .find_map(|line| {
            line.strip_prefix("console: http://")
                .map(|rest| rest.split('/').next().unwrap().to_owned())
        })
        .expect("the demo printed the console's address");
    let served = Served {
        child,
        addr: address,
    };
    let agreements = served.page("/console/agreements");
    assert!(row(&agreements, "lt-ua-defence-industry").contains("in_force"));

    // With the demo's keys the evidence page verifies signatures per actor and the
    // witnesses' cosignatures
    let evidence = served.page("/console/evidence");
    let agreements_log = evidence
        .split("<tr class=\"ok\">")
        .skip(1)
        .find(|r| r.contains("/agreements</th>"))
        .unwrap_or_else(|| panic!("{evidence}"));
    assert!(agreements_log.contains(" verified<br>"), "{agreements_log}");
    assert!(agreements_log.contains("ua-umerov: "), "{agreements_log}");
    assert!(
        agreements_log.contains("(cosignatures verified)"),
        "{agreements_log}"
    );
    assert!(!agreements_log.contains("not checked"), "{agreements_log}");

    // Any event's proof downloads from its timeline, and checks offline
    let priority = served.page("/console/commitment/c-priority");
    let link = priority
        .split("href=\"/console/proof?event=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no proof link in {priority}"))
        .to_owned();
    let (status, headers, proof) = served.get(&format!("/console/proof?event={link}"));
    assert_eq!(status, 200, "{proof}");
    assert!(
        headers["content-disposition"].contains(".tlog-proof"),
        "{headers:?}"
    );
    assert!(proof.starts_with("c2sp.org/tlog-proof@v1"), "{proof}");
    let envelope = served.bytes(&format!("/console/proof?event={link}&part=envelope"));
    let dir = tempfile::tempdir().unwrap();
    let proof_file = dir.path().join("event.tlog-proof");
    std::fs::write(&proof_file, &proof).unwrap();
    std::fs::write(dir.path().join("event.tlog-proof.envelope"), &envelope).unwrap();
    let mut check = Command::new(env!("CARGO_BIN_EXE_accord"));
    check
        .args(["audit", "check-proof"])
        .arg(&proof_file)
        .arg("--log-key")
        .arg(
            accord::demo_evidence::log_signer("agreements")
                .verifier()
                .to_string(),
        );
    for name in accord::demo_evidence::WITNESSES {
        check
            .arg("--witness")
            .arg(accord::demo_evidence::cosigner(name).verifier().to_string());
    }
    let checked = check.output().unwrap();
    assert!(checked.status.success(), "{checked:?}");
    // An id that is no event's is refused in words
    let (status, _, body) = served.get("/console/proof?event=not-an-id");
    assert_eq!(status, 400);
    assert!(body.contains("an event id"), "{body}");
}
