//! Command handling on a real log (sled in a temporary directory): commands parsed at
//! the boundary, decided, appended with the expected version, retried on conflicts,
//! and visible in the projections once acknowledged — also after a restart.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_agreements::agreement::AgreementStatus;
use accord_boundary::Body;
use accord_contracts::v1::reply::Outcome;
use accord_runtime::{AgreementsModel, CommandMeta, ErrorCode, Service};
use accord_scenario::Scenario;
use accord_testkit::TempLog;

mod support;
use support::{meta, run_agreements_steps};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenarios_agreements_commands_build_the_same_projections_as_the_pure_run() {
    let log = TempLog::new();
    let service = Service::<AgreementsModel>::start(log.log().clone());
    run_agreements_steps(&service).await;

    let mut pure = accord_scenario::Embedded::default();
    pure.run(&Scenario::lt_ua().unwrap()).unwrap();
    let view = service.view();
    assert_eq!(view.view.register(), pure.agreements().register());
    assert_eq!(view.view.decisions(), pure.agreements().decisions());
    let registered = Scenario::lt_ua()
        .unwrap()
        .steps
        .iter()
        .filter(|step| step.command == "RegisterActor")
        .count();
    assert!(registered > 0);
    assert_eq!(view.actors.len(), registered);
    drop(view);
    let timeline = service.timeline("c-priority").unwrap();
    // The same lines (recorded_at is the log's clock, so it differs).
    let lines = |entries: &[accord_agreements::projections::TimelineEntry]| {
        entries.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    assert_eq!(lines(&timeline), lines(&pure.timeline("c-priority")));
    assert_eq!(timeline.len(), 3);
    assert_eq!(timeline[2].motion.as_deref(), Some("m-priority-ew"));
    assert!(service.timeline("c-none").unwrap().is_empty());
    assert!(log.log().verify().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_the_projections_are_rebuilt_from_the_log() {
    let mut log = TempLog::new();
    let before = {
        let service = Service::<AgreementsModel>::start(log.log().clone());
        run_agreements_steps(&service).await;
        let register = service.view().view.register();
        register
    };
    let reopened = log.reopen().unwrap().clone();
    let service = Service::<AgreementsModel>::start(reopened);
    service.caught_up().await.unwrap();
    assert_eq!(service.view().view.register(), before);
    let agreement = before
        .iter()
        .find(|r| r.id == "lt-ua-defence-industry")
        .unwrap();
    assert_eq!(agreement.status, AgreementStatus::InForce);
}

// On a single-threaded runtime the projector cannot run while the test does not
// wait, so a service started on a full log has applied nothing when the command and
// the query below arrive: they must wait for it, not answer from empty projections.

/// Plays the scenario's agreements commands onto `log` through a service, then stops
/// the service so that the log can be reopened.
async fn agreements_log_closed(log: &TempLog) {
    let service = Service::<AgreementsModel>::start(log.log().clone());
    run_agreements_steps(&service).await;
    drop(service);
    // The projector's task, aborted, lets go of the log when it next runs.
    tokio::task::yield_now().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_command_is_parsed_against_every_event_durable_when_it_arrives() {
    let mut log = TempLog::new();
    agreements_log_closed(&log).await;
    let scenario = Scenario::lt_ua().unwrap();
    let propose = scenario
        .steps
        .iter()
        .find(|s| s.command == "ProposeCommitment")
        .unwrap();
    let reopened = log.reopen().unwrap().clone();
    let head = reopened.durable_position();

    let service = Service::<AgreementsModel>::start(reopened);
    assert_eq!(service.applied_position(), 0);
    // Proposing needs the agreement in force, a fact from the projections.
    let body = propose.body.replace("c-priority", "c-after-restart");
    let outcome = service
        .handle(
            "ProposeCommitment",
            Body::Json(&body),
            &meta("lt-kasciunas"),
        )
        .await
        .unwrap();
    assert_eq!(outcome.last_position, head + 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_query_is_answered_from_every_event_durable_when_it_arrives() {
    let mut log = TempLog::new();
    agreements_log_closed(&log).await;
    let mut pure = accord_scenario::Embedded::default();
    pure.run(&Scenario::lt_ua().unwrap()).unwrap();
    let before = pure.agreements().register();
    let service = Service::<AgreementsModel>::start(log.reopen().unwrap().clone());
    assert_eq!(service.applied_position(), 0);
    let Outcome::Agreements(register) = service
        .query("AgreementRegister", Body::Protobuf(&[]))
        .await
        .unwrap()
    else {
        panic!("not a register")
    };
    assert_eq!(register.agreements.len(), before.len());
    assert!(!register.agreements.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_command_id_appends_nothing_and_returns_the_first_outcome() {
    let log = TempLog::new();
    let service = Service::<AgreementsModel>::start(log.log().clone());
    let draft = r#"{"agreementId":"a1","kind":"AGREEMENT_KIND_MEMORANDUM","title":"t",
        "parties":[{"id":"LT"},{"id":"UA"}],"reason":"r"}"#;
    let meta = meta("lt-kasciunas");
    let first = service
        .handle("DraftAgreement", Body::Json(draft), &meta)
        .await
        .unwrap();
    let again = service
        .handle("DraftAgreement", Body::Json(draft), &meta)
        .await
        .unwrap();
    assert!(!first.duplicate && again.duplicate);
    assert_eq!(first.event_ids, again.event_ids);
    assert_eq!(log.log().durable_position(), 1);
    // The same command id for another stream is refused.
    let other = draft.replace("a1", "a2");
    let err = service
        .handle("DraftAgreement", Body::Json(&other), &meta)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert_eq!(log.log().durable_position(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_commands_get_their_code_and_change_nothing() {
    let log = TempLog::new();
    let service = Service::<AgreementsModel>::start(log.log().clone());
    let draft = r#"{"agreementId":"a1","kind":"AGREEMENT_KIND_MEMORANDUM","title":"t",
        "parties":[{"id":"LT"},{"id":"UA"}],"reason":"r"}"#;
    service
        .handle("DraftAgreement", Body::Json(draft), &meta("x"))
        .await
        .unwrap();
    let head = log.log().durable_position();
    let cases: Vec<(&str, &str, ErrorCode)> = vec![
        ("LaunchRockets", "{}", ErrorCode::InvalidArgument),
        (
            "SignAgreement",
            r#"{"agreementId":"a1","bogus":true}"#,
            ErrorCode::InvalidArgument,
        ),
        ("SignAgreement", "{", ErrorCode::InvalidArgument),
        // Drafted already; signed by someone not designated.
        ("DraftAgreement", draft, ErrorCode::Conflict),
        (
            "SignAgreement",
            r#"{"agreementId":"a1"}"#,
            ErrorCode::PermissionDenied,
        ),
        (
            "AmendAgreement",
            r#"{"agreementId":"a1","summary":"s","motionId":"m-none","reason":"r"}"#,
            ErrorCode::NotFound,
        ),
    ];
    for (name, body, code) in cases {
        let err = service
            .handle(name, Body::Json(body), &meta("x"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), code, "{name} {body}: {err}");
        assert_eq!(log.log().durable_position(), head, "{name} changed the log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_on_one_stream_are_retried_until_each_lands_once() {
    let log = TempLog::new();
    let service = std::sync::Arc::new(Service::<AgreementsModel>::start(log.log().clone()));
    let draft = r#"{"agreementId":"a1","kind":"AGREEMENT_KIND_MEMORANDUM","title":"t",
        "parties":[{"id":"LT"},{"id":"UA"}],"reason":"r"}"#;
    service
        .handle("DraftAgreement", Body::Json(draft), &meta("x"))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let service = service.clone();
            tokio::spawn(async move {
                let body = format!(
                    r#"{{"agreementId":"a1","actorId":"signatory-{i}","party":{{"id":"{}"}},"role":"minister"}}"#,
                    if i % 2 == 0 { "LT" } else { "UA" }
                );
                service.handle("DesignateSignatory", Body::Json(&body), &meta("x")).await
            })
        })
        .collect();
    // Each loses at most to the three others, within MAX_CONFLICT_RETRIES attempts.
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let view = service.view();
    let agreement = &view.view.agreements["a1"];
    let versions: Vec<u64> = log
        .log()
        .read_stream(&accord_kernel::StreamId::new("agreement", "a1").unwrap(), 1)
        .map(|e| e.unwrap().version)
        .collect();
    assert_eq!(versions, (1..=versions.len() as u64).collect::<Vec<_>>());
    assert_eq!(agreement.signatories.len(), 4);
    assert_eq!(versions.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_expecting_an_older_version_is_refused_as_stale() {
    let log = TempLog::new();
    let service = Service::<AgreementsModel>::start(log.log().clone());
    let draft = r#"{"agreementId":"a1","kind":"AGREEMENT_KIND_MEMORANDUM","title":"t",
        "parties":[{"id":"LT"},{"id":"UA"}],"reason":"r"}"#;
    let drafted = service
        .handle("DraftAgreement", Body::Json(draft), &meta("x"))
        .await
        .unwrap();
    let designate =
        r#"{"agreementId":"a1","party":{"id":"LT"},"actorId":"lt-minister","role":"Minister"}"#;
    let head = log.log().durable_position();
    let stale = CommandMeta {
        expected_version: Some(drafted.last_version - 1),
        ..meta("x")
    };
    let err = service
        .handle("DesignateSignatory", Body::Json(designate), &stale)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    assert_eq!(err.reason(), "stale_version");
    assert_eq!(log.log().durable_position(), head);

    let current = CommandMeta {
        expected_version: Some(drafted.last_version),
        ..meta("x")
    };
    service
        .handle("DesignateSignatory", Body::Json(designate), &current)
        .await
        .unwrap();
    assert_eq!(log.log().durable_position(), head + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_state_kept_between_commands_moves_on_with_events_appended_elsewhere() {
    // Given two services on one log, each keeping the states of streams it loaded
    let log = TempLog::new();
    let first = Service::<AgreementsModel>::start(log.log().clone());
    let second = Service::<AgreementsModel>::start(log.log().clone());
    let register = r#"{"actorId": "ua-analyst", "name": "Analyst", "party": {"id": "UA"}, "role": "Analyst", "publicKey": "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="}"#;
    first
        .handle("RegisterActor", Body::Json(register), &meta("accord-admin"))
        .await
        .unwrap();
    let rotate = r#"{"actorId": "ua-analyst", "publicKey": "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=", "reason": "key ceremony"}"#;
    // When the other service rotates the key the first one kept
    second
        .handle("RotateActorKey", Body::Json(rotate), &meta("accord-admin"))
        .await
        .unwrap();
    // Then the first decides against the rotated key: the same rotation is refused
    let error = first
        .handle("RotateActorKey", Body::Json(rotate), &meta("accord-admin"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Conflict, "{error}");
    assert_eq!(error.reason(), "same_key");
    assert!(
        error.to_string().contains("the new key is the current key"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opened_from_its_directory_the_service_rebuilds_in_the_pass_that_opens_the_log() {
    // Given a log holding the scenario's agreements commands, closed
    let mut log = TempLog::new();
    let (register, decisions, actors) = {
        let service = Service::<AgreementsModel>::start(log.log().clone());
        run_agreements_steps(&service).await;
        let view = service.view();
        (
            view.view.register(),
            view.view.decisions(),
            view.actors.len(),
        )
    };
    log.close();
    // When the service opens it the way `accord serve` does
    let service =
        Service::<AgreementsModel>::open(log.path(), accord_log::LogConfig::default()).unwrap();
    // Then the projections are there before the projector has followed anything
    let durable = service.log().durable_position();
    assert!(durable > 0);
    assert_eq!(service.applied_position(), durable);
    {
        let view = service.view();
        assert_eq!(view.view.register(), register);
        assert_eq!(view.view.decisions(), decisions);
        assert_eq!(view.actors.len(), actors);
    }
    // And commands decide against the rebuilt states and are applied after them
    let current = accord_scenario::actor_key("ua-umerov").public_key_base64();
    let rotate =
        format!(r#"{{"actorId": "ua-umerov", "publicKey": "{current}", "reason": "again"}}"#);
    let same_key = service
        .handle("RotateActorKey", Body::Json(&rotate), &meta("accord-admin"))
        .await
        .unwrap_err();
    assert!(
        same_key
            .to_string()
            .contains("the new key is the current key"),
        "{same_key}"
    );
    let register_new = r#"{"actorId": "lt-auditor", "name": "Auditor", "party": {"id": "LT"}, "role": "Auditor", "publicKey": "DAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw="}"#;
    let outcome = service
        .handle(
            "RegisterActor",
            Body::Json(register_new),
            &meta("accord-admin"),
        )
        .await
        .unwrap();
    assert_eq!(outcome.first_position, durable + 1);
    assert_eq!(service.view().actors.len(), actors + 1);
}

/// A command that appended applies its own events to the projections when the
/// projector task has not yet (see `follower`): whoever applies, every answered
/// command finds its events in the view, and each event is applied exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_64_commands_at_once_when_each_is_answered_then_its_events_are_in_the_view_once() {
    let log = TempLog::new();
    let service = std::sync::Arc::new(Service::<AgreementsModel>::start(log.log().clone()));
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let service = service.clone();
            tokio::spawn(async move {
                let id = format!("a{i}");
                let draft = format!(
                    r#"{{"agreementId":"{id}","kind":"AGREEMENT_KIND_MEMORANDUM","title":"t",
                    "parties":[{{"id":"LT"}},{{"id":"UA"}}],"reason":"r"}}"#
                );
                let outcome = service
                    .handle("DraftAgreement", Body::Json(&draft), &meta("x"))
                    .await
                    .unwrap();
                let seen = service.view().view.agreements.contains_key(id.as_str());
                (seen, outcome.last_position, service.applied_position())
            })
        })
        .collect();
    for task in tasks {
        let (seen, position, applied) = task.await.unwrap();
        assert!(seen, "answered before its event at {position} was applied");
        assert!(applied >= position);
    }
    assert_eq!(service.view().view.agreements.len(), 64);
    assert_eq!(service.applied_position(), log.log().durable_position());
    // Applied once each: the same projections as a rebuild from the log.
    let rebuilt = Service::<AgreementsModel>::start(log.log().clone());
    rebuilt.caught_up().await.unwrap();
    assert_eq!(
        serde_json::to_string(&*rebuilt.view()).unwrap(),
        serde_json::to_string(&*service.view()).unwrap()
    );
}
