//! Bad input over NATS, one test per kind: each gets its error code and reason, and
//! the service's log head does not move. Requests are built by hand (subject,
//! headers, body) as a client in any language would build them.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use accord_bus::{decode_reply, headers, Bus, Message, NatsBus, JSON};
use accord_contracts::v1::{self as pb, reply::Outcome};
use accord_e2e::{log_status, wait_ready, Node};
use accord_runtime::ServiceKind;
use accord_testkit::NatsServer;

const DRAFT: &str = r#"{"agreementId":"a-1","kind":"AGREEMENT_KIND_MEMORANDUM","title":"t",
    "parties":[{"id":"LT"},{"id":"UA"}],"reason":"r"}"#;

/// NATS, the agreements service, and one agreement drafted.
struct Fixture {
    bus: Bus,
    node: Option<Node>,
    _nats: NatsServer,
}

impl Fixture {
    async fn new() -> Fixture {
        let nats = NatsServer::start();
        let bus = Bus::Nats(NatsBus::connect(&nats.url(), "bad-input").await.unwrap());
        let node = Node::start(ServiceKind::Agreements, &bus);
        wait_ready(&accord_bus::AccordClient::new(bus.clone()), "agreements").await;
        let fixture = Fixture {
            bus,
            node: Some(node),
            _nats: nats,
        };
        let drafted = fixture.send(json("DraftAgreement", DRAFT)).await;
        assert!(
            matches!(drafted.outcome, Some(Outcome::Command(_))),
            "{drafted:?}"
        );
        fixture
    }

    async fn send(&self, request: Message) -> pb::Reply {
        let json = request.header(headers::CONTENT_TYPE) == Some(JSON);
        let reply = self
            .bus
            .request(request, Duration::from_secs(10))
            .await
            .unwrap();
        decode_reply("reply", &reply.payload, json).unwrap()
    }

    async fn head(&self) -> u64 {
        log_status(
            &accord_bus::AccordClient::new(self.bus.clone()),
            "agreements",
        )
        .await
        .unwrap()
        .head_position
    }

    /// Sends `request`, expects an error with `code` and `reason`, and that the log
    /// did not move.
    async fn refused(&self, request: Message, code: &str, reason: &str) -> pb::ErrorReply {
        let head = self.head().await;
        let reply = self.send(request).await;
        let Some(Outcome::Error(error)) = reply.outcome else {
            panic!("expected an error, got {reply:?}");
        };
        assert_eq!(
            (error.code.as_str(), error.reason.as_str()),
            (code, reason),
            "{error:?}"
        );
        assert!(!error.message.is_empty());
        assert_eq!(self.head().await, head, "the log moved");
        error
    }

    async fn stop(mut self) {
        if let Some(node) = self.node.take() {
            node.stop().await;
        }
    }
}

fn command(name: &str, body: Vec<u8>) -> Message {
    Message::new(format!("accord.agreements.cmd.{name}"), body)
        .with_header(headers::ACTOR, "lt-mod")
}

fn json(name: &str, body: &str) -> Message {
    command(name, body.as_bytes().to_vec()).with_header(headers::CONTENT_TYPE, JSON)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_protobuf_is_refused() {
    let f = Fixture::new().await;
    f.refused(
        command("SignAgreement", vec![0xff, 0xff, 0xff]),
        "invalid_argument",
        "malformed",
    )
    .await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_enum_name_and_an_unknown_enum_number_are_refused_alike() {
    let f = Fixture::new().await;
    let by_name = DRAFT.replace("a-1", "a-10").replace(
        "AGREEMENT_KIND_MEMORANDUM",
        "AGREEMENT_KIND_TREATY_OF_NOWHERE",
    );
    let name = f
        .refused(
            json("DraftAgreement", &by_name),
            "invalid_argument",
            "invalid_value",
        )
        .await;
    let by_number = DRAFT
        .replace("a-1", "a-11")
        .replace(r#""AGREEMENT_KIND_MEMORANDUM""#, "77");
    let number = f
        .refused(
            json("DraftAgreement", &by_number),
            "invalid_argument",
            "invalid_value",
        )
        .await;
    assert!(
        name.message.contains("AGREEMENT_KIND_TREATY_OF_NOWHERE"),
        "{name:?}"
    );
    assert_eq!(number.details["field"], "kind", "{number:?}");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_sent_without_its_content_type_is_told_what_is_missing() {
    let f = Fixture::new().await;
    let error = f
        .refused(
            command("DraftAgreement", DRAFT.replace("a-1", "a-9").into_bytes()),
            "invalid_argument",
            "malformed",
        )
        .await;
    assert!(
        error.message.contains("Content-Type: application/json"),
        "{error:?}"
    );
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_refused_in_json() {
    let f = Fixture::new().await;
    let error = f
        .refused(
            json("SignAgreement", r#"{"agreementId": "#),
            "invalid_argument",
            "malformed",
        )
        .await;
    assert_eq!(error.details["command"], "SignAgreement");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_json_field_is_refused() {
    let f = Fixture::new().await;
    let error = f
        .refused(
            json("SignAgreement", r#"{"agreementId":"a-1","signedBy":"x"}"#),
            "invalid_argument",
            "unknown_field",
        )
        .await;
    assert!(error.message.contains("signedBy"), "{}", error.message);
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_command_is_refused() {
    let f = Fixture::new().await;
    f.refused(
        json("LaunchRockets", "{}"),
        "invalid_argument",
        "unknown_command",
    )
    .await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_request_is_refused() {
    let f = Fixture::new().await;
    let error = f
        .refused(
            command("DraftAgreement", vec![0; 64 * 1024 + 1]),
            "invalid_argument",
            "oversize",
        )
        .await;
    assert_eq!(error.details["limit"], "65536");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_value_is_refused_naming_the_field() {
    let f = Fixture::new().await;
    let body = DRAFT.replace(r#""agreementId":"a-1""#, r#""agreementId":"""#);
    let error = f
        .refused(
            json("DraftAgreement", &body),
            "invalid_argument",
            "invalid_value",
        )
        .await;
    assert_eq!(error.details["field"], "agreement_id");
    // A header with a bad value too.
    f.refused(
        json("SignAgreement", r#"{"agreementId":"a-1"}"#)
            .with_header(headers::COMMAND_ID, "not-a-uuid"),
        "invalid_argument",
        "invalid_value",
    )
    .await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_longer_than_a_stream_id_may_be_is_refused_under_its_own_field() {
    let f = Fixture::new().await;
    // 129 bytes: one more than a stream id takes (the limits agree).
    let long = "x".repeat(129);
    let body = DRAFT.replace(
        r#""agreementId":"a-1""#,
        &format!(r#""agreementId":"{long}""#),
    );
    let error = f
        .refused(
            json("DraftAgreement", &body),
            "invalid_argument",
            "invalid_value",
        )
        .await;
    assert_eq!(error.details["field"], "agreement_id", "{error:?}");
    assert!(error.message.contains("128"), "{error:?}");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_business_time_in_the_future_beyond_the_skew_is_refused() {
    let f = Fixture::new().await;
    let draft = DRAFT.replace("a-1", "a-future");
    let error = f
        .refused(
            json("DraftAgreement", &draft)
                .with_header(headers::OCCURRED_AT, "2999-01-01T00:00:00Z"),
            "invalid_argument",
            "occurred_in_future",
        )
        .await;
    assert_eq!(error.details["header"], headers::OCCURRED_AT);
    assert_eq!(error.details["max_future_skew_secs"], "300");
    // Within the skew (a sender's clock a little ahead) it is taken.
    let soon = accord_kernel::Timestamp::new(accord_runtime::now().seconds() + 60, 0).unwrap();
    let taken = f
        .send(json("DraftAgreement", &draft).with_header(headers::OCCURRED_AT, soon.to_string()))
        .await;
    assert!(
        matches!(taken.outcome, Some(Outcome::Command(_))),
        "{taken:?}"
    );
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_without_an_actor_is_refused() {
    let f = Fixture::new().await;
    let mut request = json("SignAgreement", r#"{"agreementId":"a-1"}"#);
    request.headers.remove(headers::ACTOR);
    f.refused(request, "invalid_argument", "missing_header")
        .await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_expected_version_is_refused() {
    let f = Fixture::new().await;
    let designate =
        r#"{"agreementId":"a-1","party":{"id":"LT"},"actorId":"lt-min","role":"Minister"}"#;
    let error = f
        .refused(
            json("DesignateSignatory", designate).with_header(headers::EXPECTED_VERSION, "0"),
            "conflict",
            "stale_version",
        )
        .await;
    assert_eq!(error.details["expected"], "0");
    assert_eq!(error.details["actual"], "1");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_command_id_appends_nothing() {
    let f = Fixture::new().await;
    let id = uuid::Uuid::now_v7().to_string();
    let draft = DRAFT.replace("a-1", "a-2");
    let first = f
        .send(json("DraftAgreement", &draft).with_header(headers::COMMAND_ID, id.clone()))
        .await;
    let Some(Outcome::Command(first)) = first.outcome else {
        panic!("{first:?}")
    };
    let head = f.head().await;
    // Resent (a client retrying after a lost reply): the first outcome, nothing new.
    let again = f
        .send(json("DraftAgreement", &draft).with_header(headers::COMMAND_ID, id.clone()))
        .await;
    let Some(Outcome::Command(again)) = again.outcome else {
        panic!("{again:?}")
    };
    assert!(again.duplicate);
    assert_eq!(again.event_ids, first.event_ids);
    assert_eq!(f.head().await, head);
    // The same id for another command: refused.
    f.refused(
        json("DraftAgreement", &DRAFT.replace("a-1", "a-3")).with_header(headers::COMMAND_ID, id),
        "conflict",
        "command_id_reused",
    )
    .await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_id_reused_with_another_body_or_actor_on_the_same_stream_is_refused() {
    let f = Fixture::new().await;
    let id = uuid::Uuid::now_v7().to_string();
    let draft = DRAFT.replace("a-1", "a-4");
    let first = f
        .send(json("DraftAgreement", &draft).with_header(headers::COMMAND_ID, id.clone()))
        .await;
    assert!(
        matches!(first.outcome, Some(Outcome::Command(_))),
        "{first:?}"
    );
    // The same agreement (same stream), another title: not a retry.
    let retitled = draft.replace(r#""title":"t""#, r#""title":"changed""#);
    let error = f
        .refused(
            json("DraftAgreement", &retitled).with_header(headers::COMMAND_ID, id.clone()),
            "conflict",
            "command_id_payload_mismatch",
        )
        .await;
    assert!(error.message.contains(&id), "{error:?}");
    // The same body from another actor: not a retry either.
    f.refused(
        json("DraftAgreement", &draft)
            .with_header(headers::COMMAND_ID, id.clone())
            .with_header(headers::ACTOR, "ua-mod"),
        "conflict",
        "command_id_payload_mismatch",
    )
    .await;
    // The command itself again is still answered as a duplicate.
    let again = f
        .send(json("DraftAgreement", &draft).with_header(headers::COMMAND_ID, id))
        .await;
    let Some(Outcome::Command(again)) = again.outcome else {
        panic!("{again:?}")
    };
    assert!(again.duplicate);
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_refusals_carry_their_own_code_reason_and_details() {
    let f = Fixture::new().await;
    // Drafting the same agreement again: it exists.
    f.refused(
        json("DraftAgreement", DRAFT),
        "conflict",
        "agreement_exists",
    )
    .await;
    // Signing one that does not exist: not found, not a bare rejection.
    f.refused(
        json("SignAgreement", r#"{"agreementId":"a-nowhere"}"#),
        "not_found",
        "agreement_not_found",
    )
    .await;
    // Signing a drafted one without being designated: the actor may not.
    let error = f
        .refused(
            json("SignAgreement", r#"{"agreementId":"a-1"}"#),
            "permission_denied",
            "not_a_signatory",
        )
        .await;
    assert_eq!(error.details["actor"], "lt-mod");
    // Suspending one that is not in force: the status by its wire name.
    let error = f
        .refused(
            json("SuspendAgreement", r#"{"agreementId":"a-1","reason":"r"}"#),
            "failed_precondition",
            "agreement_not_in_force",
        )
        .await;
    assert_eq!(error.details["status"], "drafted");
    assert!(error.message.contains("drafted"), "{error:?}");
    assert!(!error.message.contains("Drafted"), "{error:?}");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_query_is_refused() {
    let f = Fixture::new().await;
    let request = Message::new("accord.agreements.q.Everything", Vec::new());
    let reply = f.send(request).await;
    let Some(Outcome::Error(error)) = reply.outcome else {
        panic!("{reply:?}")
    };
    assert_eq!(
        (error.code.as_str(), error.reason.as_str()),
        ("invalid_argument", "unknown_query")
    );
    assert!(
        error.message.contains("AgreementRegister"),
        "{}",
        error.message
    );
    // And a known one answers, in JSON when asked.
    let request = Message::new("accord.agreements.q.AgreementRegister", b"{}".to_vec())
        .with_header(headers::CONTENT_TYPE, JSON);
    let reply = f.send(request).await;
    let Some(Outcome::Agreements(register)) = reply.outcome else {
        panic!("{reply:?}")
    };
    assert_eq!(register.agreements[0].id, "a-1");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeline_query_without_a_known_commitment_is_refused() {
    let f = Fixture::new().await;
    let timeline = |body: &str| {
        Message::new(
            "accord.agreements.q.CommitmentTimeline",
            body.as_bytes().to_vec(),
        )
        .with_header(headers::CONTENT_TYPE, JSON)
    };
    let error = f
        .refused(
            timeline(r#"{"commitmentId":"c-none"}"#),
            "not_found",
            "unknown_reference",
        )
        .await;
    assert_eq!(error.details["commitment"], "c-none");

    let error = f
        .refused(timeline("{}"), "invalid_argument", "invalid_value")
        .await;
    assert_eq!(error.details["field"], "commitment_id");

    f.refused(
        timeline(r#"{"commitmentId":"c-1","since":3}"#),
        "invalid_argument",
        "unknown_field",
    )
    .await;
    let malformed = Message::new(
        "accord.agreements.q.CommitmentTimeline",
        vec![0xff, 0xff, 0xff],
    );
    f.refused(malformed, "invalid_argument", "malformed").await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_document_reference_is_refused_naming_documents_and_appends_nothing() {
    let f = Fixture::new().await;
    let document = |sha256: &str| {
        format!(r#"{{"title":"Agreement text","mediaType":"application/pdf","sha256":"{sha256}"}}"#)
    };
    let good = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let with = |documents: String| {
        let body = DRAFT
            .replace(r#""agreementId":"a-1""#, r#""agreementId":"a-docs""#)
            .replacen('{', &format!(r#"{{"documents":[{documents}],"#), 1);
        json("DraftAgreement", &body)
    };
    for documents in [
        document(&good[..40]),
        format!("{},{}", document(good), document(good)),
        document(good).replace("application/pdf", "pdf"),
    ] {
        let error = f
            .refused(with(documents), "invalid_argument", "invalid_value")
            .await;
        assert_eq!(error.details["field"], "documents");
    }
    // The same draft citing its text correctly is carried out.
    let head = f.head().await;
    let reply = f.send(with(document(good))).await;
    assert!(
        matches!(reply.outcome, Some(Outcome::Command(_))),
        "{reply:?}"
    );
    assert!(f.head().await > head);
    f.stop().await;
}
