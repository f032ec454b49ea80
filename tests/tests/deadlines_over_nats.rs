//! The deadline watcher over a real nats-server (issue 17, item 2): a milestone
//! whose due date passed unmet is noticed by the projects service itself, recorded
//! as an event with its dates, shown with its days late; across a restart of the
//! service (its log reopened, its watcher looking again and again) the notice is
//! never repeated.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use accord_bus::{AccordClient, Bus, CommandOptions, NatsBus};
use accord_contracts::v1::reply::Outcome;
use accord_e2e::{unsigned_config, wait_ready, Node, PATIENCE};
use accord_runtime::ServiceKind;
use accord_testkit::{NatsServer, TempLog};

const OVERDUE: &str = "accord.v1.MilestoneOverdue";

fn notices(log: &TempLog) -> usize {
    log.log()
        .read_all(1)
        .filter(|e| e.as_ref().unwrap().event_type == OVERDUE)
        .count()
}

async fn send(client: &AccordClient, command: &str, json: &str) {
    let mut options = CommandOptions::new("ua-kamyshin");
    options.json = true;
    client
        .command("projects", command, json.as_bytes().to_vec(), &options)
        .await
        .unwrap_or_else(|e| panic!("{command}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passed_milestone_is_noticed_once_by_the_watcher_even_across_restarts() {
    let nats = NatsServer::start();
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "deadlines").await.unwrap());
    let client = AccordClient::new(bus.clone());
    let mut config = unsigned_config();
    config.deadline_check = Some(Duration::from_millis(100));

    let node = Node::start_with(ServiceKind::Projects, &bus, TempLog::new(), config.clone());
    wait_ready(&client, "projects").await;
    send(
        &client,
        "ProposeProject",
        r#"{"projectId":"rdx-plant","title":"RDX plant","area":"CAPABILITY_AREA_EXPLOSIVES",
            "hostCountry":"LT","participants":[{"party":{"id":"LT"},"role":"host"}],"reason":"loi"}"#,
    )
    .await;
    send(
        &client,
        "PlanMilestone",
        r#"{"projectId":"rdx-plant","milestoneId":"construction-start","title":"Construction starts",
            "due":{"year":2025,"month":9,"day":1}}"#,
    )
    .await;

    // The watcher notices it (the system clock is well past 2025-09-01).
    let deadline = Instant::now() + PATIENCE;
    while notices(&node.log) == 0 {
        assert!(Instant::now() < deadline, "the watcher never noticed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let notice = node
        .log
        .log()
        .read_all(1)
        .map(Result::unwrap)
        .find(|e| e.event_type == OVERDUE)
        .unwrap();
    assert_eq!(notice.actor, "accord-reactions");
    let portfolio = match client
        .query("projects", "ProjectPortfolio", Vec::new())
        .await
        .unwrap()
    {
        Outcome::Portfolio(portfolio) => portfolio,
        other => panic!("{other:?}"),
    };
    let overdue = &portfolio.projects[0].overdue_milestones[0];
    assert_eq!(
        (overdue.milestone_id.as_str(), overdue.due.as_str()),
        ("construction-start", "2025-09-01")
    );
    let today = accord_runtime::now().date();
    let expected = today.days_since(accord_kernel::Date::new(2025, 9, 1).unwrap());
    assert_eq!(overdue.days_late, expected);

    // Restarted on the same log, the watcher looks many more times: nothing new.
    let log = node.stop().await;
    let position = log.log().durable_position();
    let node = Node::start_with(ServiceKind::Projects, &bus, log, config);
    wait_ready(&client, "projects").await;
    let mut looks = 0;
    while looks < 10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        looks += 1;
    }
    assert_eq!(notices(&node.log), 1, "noticed once");
    assert_eq!(node.log.log().durable_position(), position);
    node.stop().await;
}
