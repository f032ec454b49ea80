//! `/readyz` tells the truth: a request sent the moment it first answers 200, after
//! each of many restarts, always finds the service's endpoints on the bus (a real
//! nats-server), never "no responders".

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use accord_bus::{AccordClient, Bus, NatsBus};
use accord_testkit::{free_port, NatsServer};

const RESTARTS: usize = 20;

fn serve(url: &str, http: &str, data: &std::path::Path) -> Child {
    // Readiness is the same with signatures on: this test keeps the default.
    support::serve_agreements(url, http, data)
        .env_remove("ACCORD_REQUIRE_SIGNATURES")
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

/// Polls /readyz as fast as it answers until the first 200.
fn until_ready(http: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok((200, _)) = accord::http::probe(http, "/readyz") {
            return;
        }
        assert!(child.try_wait().unwrap().is_none(), "accord serve exited");
        assert!(Instant::now() < deadline, "/readyz never answered 200");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_sent_right_after_the_first_ready_200_always_finds_the_endpoints() {
    let nats = NatsServer::start();
    let data = tempfile::tempdir().unwrap();
    let client = AccordClient::new(Bus::Nats(NatsBus::from_client(
        async_nats::connect(nats.url()).await.unwrap(),
    )));
    for restart in 0..RESTARTS {
        let http = format!("127.0.0.1:{}", free_port());
        let mut child = serve(&nats.url(), &http, data.path());
        let ready = {
            let http = http.clone();
            let mut waiting = child;
            tokio::task::spawn_blocking(move || {
                until_ready(&http, &mut waiting);
                waiting
            })
            .await
            .unwrap()
        };
        child = ready;
        let answer = client
            .query("agreements", "AgreementRegister", Vec::new())
            .await;
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            answer.is_ok(),
            "restart {restart}: the first request after /readyz 200 failed: {:?}",
            answer.err()
        );
    }
}
