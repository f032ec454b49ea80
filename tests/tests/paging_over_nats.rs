//! List queries over a real nats-server when the whole answer would not fit in one
//! NATS message (1 MiB by default): the answer comes in pages that each fit and
//! together hold every row once; an answer that still would not fit (here: JSON,
//! whose escapes make a page several times its protobuf size) is an `ErrorReply`
//! with reason `reply_too_large`, never silence; a smaller page then fits.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use accord_bus::{
    decode_reply, headers, AccordClient, Bus, CommandOptions, Message, NatsBus, JSON,
};
use accord_contracts::v1::{self as pb, reply::Outcome};
use accord_e2e::{wait_ready, Node};
use accord_runtime::ServiceKind;
use accord_testkit::NatsServer;
use prost::Message as _;

const AGREEMENTS: usize = 300;
const MIB: usize = 1024 * 1024;

async fn draft_all(client: &AccordClient, title: &str) {
    let mut options = CommandOptions::new("lt-mod");
    options.json = true;
    for i in 0..AGREEMENTS {
        options.command_id = uuid::Uuid::now_v7();
        let body = serde_json::json!({
            "agreementId": format!("a-{i:04}"),
            "kind": "AGREEMENT_KIND_CONTRACT",
            "title": title,
            "parties": [{"id": "LT"}, {"id": "UA"}],
            "reason": "paging test",
        });
        client
            .command(
                "agreements",
                "DraftAgreement",
                body.to_string().into_bytes(),
                &options,
            )
            .await
            .unwrap();
    }
}

/// Asks for one page of the register; the raw reply's size and what it says.
async fn page(bus: &Bus, after: &str, limit: u32, json: bool) -> (usize, pb::Reply) {
    let query = pb::PageQuery {
        after: after.to_owned(),
        limit,
    };
    let mut request = Message::new(
        "accord.agreements.q.AgreementRegister",
        query.encode_to_vec(),
    );
    if json {
        request.payload = serde_json::json!({"after": after, "limit": limit})
            .to_string()
            .into_bytes();
        request = request.with_header(headers::CONTENT_TYPE, JSON);
    }
    let reply = bus.request(request, Duration::from_secs(10)).await.unwrap();
    let decoded = decode_reply("register", &reply.payload, json).unwrap();
    (reply.payload.len(), decoded)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_register_larger_than_a_nats_message_comes_in_pages_and_a_page_too_large_is_refused() {
    let nats = NatsServer::start();
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "paging").await.unwrap());
    assert_eq!(bus.max_payload(), MIB, "the server's default max payload");
    let client = AccordClient::new(bus.clone()).with_timeout(Duration::from_secs(10));
    let node = Node::start(ServiceKind::Agreements, &bus);
    wait_ready(&client, "agreements").await;
    // Titles of control characters: 4,000 bytes in protobuf, 24,000 as JSON escapes.
    let title = "\u{1}".repeat(4000);
    draft_all(&client, &title).await;

    // The whole register is more than a NATS message holds...
    let mut after = String::new();
    let mut ids = BTreeSet::new();
    let mut pages = 0;
    let mut total = 0;
    loop {
        let (size, reply) = page(&bus, &after, 0, false).await;
        let Some(Outcome::Agreements(register)) = reply.outcome else {
            panic!("{reply:?}")
        };
        assert!(size < MIB, "a page of {size} bytes");
        assert!(!register.agreements.is_empty());
        total += size;
        pages += 1;
        for row in &register.agreements {
            assert!(ids.insert(row.id.clone()), "{} twice", row.id);
        }
        if register.next_after.is_empty() {
            break;
        }
        after = register.next_after;
    }
    assert!(
        total > MIB,
        "the whole answer, {total} bytes, fits one message"
    );
    // ...and its pages hold every agreement once, in id order.
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(ids.len(), AGREEMENTS);

    // The same first page as JSON is several MiB: refused in words, not dropped.
    let (_, reply) = page(&bus, "", 0, true).await;
    let Some(Outcome::Error(error)) = reply.outcome else {
        panic!("{reply:?}")
    };
    assert_eq!(
        (error.code.as_str(), error.reason.as_str()),
        ("invalid_argument", "reply_too_large"),
        "{error:?}"
    );
    assert_eq!(error.details.get("max_payload"), Some(&MIB.to_string()));
    // A smaller page, as the message says, fits.
    let (size, reply) = page(&bus, "", 20, true).await;
    let Some(Outcome::Agreements(register)) = reply.outcome else {
        panic!("{reply:?}")
    };
    assert!(size < MIB);
    assert_eq!(register.agreements.len(), 20);
    assert_eq!(register.next_after, "a-0019");
    node.stop().await;
}
