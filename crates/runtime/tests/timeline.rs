//! The `CommitmentTimeline` query on a real log: a long commitment's changes come a
//! page at a time, by count and by size, each page continuing where the last stopped,
//! and together they are the whole timeline.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_boundary::Body;
use accord_contracts::v1::{self as pb, reply::Outcome};
use accord_kernel::{ActorId, ExpectedVersion, StreamId, Timestamp};
use accord_log::{AppendMetadata, NewEvent};
use accord_runtime::queries::{QueryError, TIMELINE_PAGE_BYTES};
use accord_runtime::{AgreementsModel, CommandMeta, ErrorCode, Model, Service};
use accord_testkit::commands::long_commitment;
use accord_testkit::TempLog;
use prost::Message as _;
use uuid::Uuid;

async fn handle(service: &Service<AgreementsModel>, command: &str, body: &str) {
    let command_id = Uuid::now_v7();
    let meta = CommandMeta {
        actor: ActorId::new("lt-mod").unwrap(),
        command_id,
        correlation_id: command_id,
        causation_id: None,
        occurred_at: Timestamp::parse_rfc3339("2025-01-31T17:00:00Z").unwrap(),
        expected_version: None,
        command_digest: None,
        sender: None,
        signature: None,
    };
    service
        .handle(command, Body::Json(body), &meta)
        .await
        .unwrap_or_else(|e| panic!("{command}: {e}"));
}

/// Commitment `c-shells`: proposed, accepted, then `progress` reports whose reasons
/// are `reason_bytes` long.
async fn a_commitment_with(
    progress: usize,
    reason_bytes: usize,
) -> (TempLog, Service<AgreementsModel>) {
    let log = TempLog::new();
    let service = Service::<AgreementsModel>::start(log.log().clone());
    for (command, body) in long_commitment(progress, reason_bytes) {
        handle(&service, command, &body).await;
    }
    (log, service)
}

fn page(
    service: &Service<AgreementsModel>,
    from_version: u64,
    limit: u32,
) -> Result<pb::CommitmentTimeline, QueryError> {
    let query = pb::CommitmentTimelineQuery {
        commitment_id: "c-shells".into(),
        from_version,
        limit,
    }
    .encode_to_vec();
    match AgreementsModel::query("CommitmentTimeline", Body::Protobuf(&query), service)? {
        Outcome::Timeline(timeline) => Ok(timeline),
        other => panic!("not a timeline: {other:?}"),
    }
}

/// Every page from the start, following `next_version`.
fn all_pages(service: &Service<AgreementsModel>, limit: u32) -> Vec<pb::CommitmentTimeline> {
    let mut pages = vec![page(service, 0, limit).unwrap()];
    while let Some(next) = pages.last().map(|p| p.next_version).filter(|v| *v != 0) {
        pages.push(page(service, next, limit).unwrap());
        assert!(pages.len() < 1000, "the pages do not move on");
    }
    pages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_limit_when_paging_then_the_pages_are_the_whole_timeline_in_order() {
    let (_log, service) = a_commitment_with(23, 10).await;

    let pages = all_pages(&service, 10);

    let sizes: Vec<usize> = pages.iter().map(|p| p.entries.len()).collect();
    assert_eq!(sizes, [10, 10, 5]);
    let next: Vec<u64> = pages.iter().map(|p| p.next_version).collect();
    assert_eq!(next, [11, 21, 0]);
    let entries: Vec<&pb::TimelineEntry> = pages.iter().flat_map(|p| &p.entries).collect();
    let versions: Vec<u64> = entries.iter().map(|e| e.version).collect();
    assert_eq!(versions, (1..=25).collect::<Vec<u64>>());
    let whole = service.timeline("c-shells").unwrap();
    assert_eq!(entries.len(), whole.len());
    for (paged, entry) in entries.iter().zip(&whole) {
        assert_eq!(
            (paged.position, paged.change.as_str(), paged.reason.as_str()),
            (entry.position, entry.change.as_str(), entry.reason.as_str())
        );
    }
    assert!(entries[0].change.starts_with("proposed by LT to UA"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_long_reasons_when_paging_then_no_page_passes_its_byte_budget() {
    // 300 reasons of 4,000 bytes (the most a reason may be is 4 KiB): 1.2 MiB of
    // changes, more than one NATS payload, in fewer than a page's 1,000 entries.
    let (_log, service) = a_commitment_with(300, 4_000).await;

    let pages = all_pages(&service, 0);

    assert!(pages.len() >= 3, "{} pages", pages.len());
    for page in &pages {
        assert!(!page.entries.is_empty());
        assert!(
            page.encoded_len() <= TIMELINE_PAGE_BYTES + 64,
            "{} bytes",
            page.encoded_len()
        );
    }
    let count: usize = pages.iter().map(|p| p.entries.len()).sum();
    assert_eq!(count, 302);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_limit_above_the_most_or_a_start_past_the_end_then_the_page_says_so() {
    let (_log, service) = a_commitment_with(3, 10).await;

    let whole = page(&service, 1, 5_000).unwrap();
    assert_eq!(whole.entries.len(), 5);
    assert_eq!(whole.next_version, 0);

    let past_the_end = page(&service, 6, 0).unwrap();
    assert!(past_the_end.entries.is_empty());
    assert_eq!(past_the_end.next_version, 0);

    let query = pb::CommitmentTimelineQuery {
        commitment_id: "c-none".into(),
        ..Default::default()
    }
    .encode_to_vec();
    let unknown = AgreementsModel::query("CommitmentTimeline", Body::Protobuf(&query), &service);
    assert!(
        matches!(&unknown, Err(QueryError::NotFound { kind: "commitment", id }) if id == "c-none"),
        "{unknown:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_event_this_build_cannot_decode_then_the_page_is_refused_naming_its_position() {
    let (_log, service) = a_commitment_with(1, 10).await;
    let command_id = Uuid::now_v7();
    let appended = service
        .log()
        .append(
            StreamId::new("commitment", "c-shells").unwrap(),
            ExpectedVersion::Exact(3),
            vec![NewEvent {
                event_type: "accord.v2.SomethingNew".into(),
                schema_version: 1,
                payload: vec![1, 2, 3],
            }],
            AppendMetadata {
                actor: "lt-mod".into(),
                command_id,
                correlation_id: command_id,
                causation_id: None,
                occurred_at: Timestamp::parse_rfc3339("2025-02-01T00:00:00Z").unwrap(),
                signature: None,
                command_digest: None,
            },
        )
        .await
        .unwrap();

    let refused = page(&service, 1, 0).unwrap_err();

    assert!(
        matches!(&refused, QueryError::Undecodable { position, .. } if *position == appended.first_position),
        "{refused:?}"
    );
    assert_eq!(
        (refused.code(), refused.reason()),
        (ErrorCode::Internal, "corrupt")
    );
    // The changes before it still page.
    let before = page(&service, 1, 3).unwrap();
    assert_eq!(before.entries.len(), 3);
    assert_eq!(before.next_version, 4);
}
