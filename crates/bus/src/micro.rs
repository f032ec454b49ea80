//! The NATS Services API ("micro", ADR-32) as Accord serves it: endpoints on queue
//! group `q`, and `$SRV.PING|INFO|STATS` answered for discovery and monitoring.
//!
//! async-nats ships an implementation, but it drops the body of every error reply
//! (its `respond(Err(..))` publishes an empty payload), while Accord's error replies
//! carry an `ErrorReply` a client decodes. The Go reference implementation keeps
//! the body (`req.Error(code, description, data)`); this module does the same: an
//! answer carrying the `Nats-Service-Error` header counts as an error in
//! `$SRV.STATS` and keeps its body.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use accord_kernel::Timestamp;
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::message::{headers, BusError, ServiceSpec};

/// The queue group every endpoint subscribes in, so instances share the requests.
pub(crate) const QUEUE_GROUP: &str = "q";

/// What `$SRV.STATS` reports for one endpoint.
#[derive(Debug, Default, Clone)]
struct EndpointStats {
    requests: u64,
    errors: u64,
    processing: Duration,
    last_error: String,
}

/// One served service instance: its identity and the counters of its endpoints.
#[derive(Debug)]
pub(crate) struct Instance {
    pub(crate) id: String,
    spec: ServiceSpec,
    started: Timestamp,
    stats: Mutex<Vec<EndpointStats>>,
}

impl Instance {
    pub(crate) fn new(spec: ServiceSpec) -> Arc<Instance> {
        let endpoints = spec.endpoints.len();
        Arc::new(Instance {
            id: uuid::Uuid::now_v7().simple().to_string(),
            spec,
            started: Timestamp::from_system_time(std::time::SystemTime::now())
                .unwrap_or(Timestamp::UNIX_EPOCH),
            stats: Mutex::new(vec![EndpointStats::default(); endpoints]),
        })
    }

    /// The nine discovery subjects this instance answers: each verb for all
    /// services, for its name, and for its name and id.
    pub(crate) fn control_subjects(&self) -> Vec<String> {
        let name = &self.spec.name;
        ["PING", "INFO", "STATS"]
            .into_iter()
            .flat_map(|verb| {
                [
                    format!("$SRV.{verb}"),
                    format!("$SRV.{verb}.{name}"),
                    format!("$SRV.{verb}.{name}.{}", self.id),
                ]
            })
            .collect()
    }

    /// The JSON answer to a discovery request on `subject`.
    pub(crate) fn control_answer(&self, subject: &str) -> Option<Vec<u8>> {
        let verb = subject.strip_prefix("$SRV.")?.split('.').next()?;
        let mut answer = json!({
            "name": self.spec.name,
            "id": self.id,
            "version": self.spec.version,
            "metadata": {},
        });
        match verb {
            "PING" => answer["type"] = json!("io.nats.micro.v1.ping_response"),
            "INFO" => {
                answer["type"] = json!("io.nats.micro.v1.info_response");
                answer["description"] = json!(self.spec.description);
                answer["endpoints"] = self
                    .spec
                    .endpoints
                    .iter()
                    .map(|endpoint| {
                        json!({
                            "name": endpoint.name,
                            "subject": endpoint.subject,
                            "queue_group": QUEUE_GROUP,
                            "metadata": endpoint.metadata,
                        })
                    })
                    .collect();
            }
            "STATS" => {
                answer["type"] = json!("io.nats.micro.v1.stats_response");
                answer["started"] = json!(self.started.to_string());
                answer["endpoints"] = self.endpoint_stats();
            }
            _ => return None,
        }
        serde_json::to_vec(&answer).ok()
    }

    fn endpoint_stats(&self) -> Value {
        let stats = self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone();
        self.spec
            .endpoints
            .iter()
            .zip(stats)
            .map(|(endpoint, stats)| {
                let average = stats
                    .processing
                    .checked_div(u32::try_from(stats.requests).unwrap_or(u32::MAX))
                    .unwrap_or_default();
                json!({
                    "name": endpoint.name,
                    "subject": endpoint.subject,
                    "queue_group": QUEUE_GROUP,
                    "num_requests": stats.requests,
                    "num_errors": stats.errors,
                    "last_error": stats.last_error,
                    "processing_time": duration_nanos(stats.processing),
                    "average_processing_time": duration_nanos(average),
                })
            })
            .collect()
    }

    /// Counts one answered request of endpoint `index`, received at `received`; an
    /// answer with the `Nats-Service-Error` header counts as an error.
    pub(crate) fn record(
        &self,
        index: usize,
        received: Instant,
        answer: &BTreeMap<String, String>,
    ) {
        let mut all = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let Some(stats) = all.get_mut(index) else {
            return;
        };
        stats.requests += 1;
        stats.processing += received.elapsed();
        if let Some(description) = answer.get(headers::SERVICE_ERROR) {
            stats.errors += 1;
            let code = answer
                .get(headers::SERVICE_ERROR_CODE)
                .map_or("", String::as_str);
            stats.last_error = format!("{code}:{description}");
        }
    }
}

fn duration_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Answers discovery requests for `instance` until the subscriptions end.
pub(crate) async fn answer_discovery(
    client: async_nats::Client,
    instance: Arc<Instance>,
    subscribers: Vec<async_nats::Subscriber>,
) {
    let mut all = futures_util::stream::select_all(subscribers);
    while let Some(request) = all.next().await {
        let (Some(reply), Some(answer)) = (
            request.reply,
            instance.control_answer(request.subject.as_str()),
        ) else {
            continue;
        };
        if let Err(error) = client.publish(reply, answer.into()).await {
            tracing::warn!(%error, service = instance.spec.name, "bus.micro discovery");
        }
    }
}

/// Subscribes to the discovery subjects of `instance`.
pub(crate) async fn subscribe_discovery(
    client: &async_nats::Client,
    instance: &Instance,
) -> Result<Vec<async_nats::Subscriber>, BusError> {
    let mut subscribers = Vec::new();
    for subject in instance.control_subjects() {
        subscribers.push(
            client.subscribe(subject.clone()).await.map_err(|e| {
                BusError::Unavailable(format!("cannot subscribe to {subject}: {e}"))
            })?,
        );
    }
    Ok(subscribers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::EndpointSpec;

    fn instance() -> Arc<Instance> {
        Instance::new(ServiceSpec {
            name: "accord-test".into(),
            version: "1.2.3".into(),
            description: "a test".into(),
            endpoints: vec![EndpointSpec {
                name: "commands".into(),
                subject: "accord.test.cmd.*".into(),
                metadata: BTreeMap::from([("commands".into(), "A,B".into())]),
            }],
        })
    }

    fn answer(instance: &Instance, subject: &str) -> Value {
        serde_json::from_slice(&instance.control_answer(subject).unwrap()).unwrap()
    }

    #[test]
    fn discovery_answers_follow_the_services_api_schema() {
        let instance = instance();
        let ping = answer(&instance, "$SRV.PING");
        assert_eq!(ping["type"], "io.nats.micro.v1.ping_response");
        assert_eq!(ping["id"], instance.id.as_str());
        let info = answer(&instance, "$SRV.INFO.accord-test");
        assert_eq!(info["endpoints"][0]["metadata"]["commands"], "A,B");
        assert_eq!(info["endpoints"][0]["queue_group"], "q");
        let stats = answer(
            &instance,
            &format!("$SRV.STATS.accord-test.{}", instance.id),
        );
        assert_eq!(stats["type"], "io.nats.micro.v1.stats_response");
        assert_eq!(stats["endpoints"][0]["num_requests"], 0);
        assert!(instance.control_answer("$SRV.WHAT").is_none());
    }

    #[test]
    fn an_answer_with_the_service_error_header_counts_as_an_error() {
        let instance = instance();
        instance.record(0, Instant::now(), &BTreeMap::new());
        let refused = BTreeMap::from([
            (
                headers::SERVICE_ERROR.to_owned(),
                "no such agreement".to_owned(),
            ),
            (headers::SERVICE_ERROR_CODE.to_owned(), "404".to_owned()),
        ]);
        instance.record(0, Instant::now(), &refused);
        let stats = answer(&instance, "$SRV.STATS");
        assert_eq!(stats["endpoints"][0]["num_requests"], 2);
        assert_eq!(stats["endpoints"][0]["num_errors"], 1);
        assert_eq!(stats["endpoints"][0]["last_error"], "404:no such agreement");
    }

    #[test]
    fn the_nine_discovery_subjects_name_the_service_and_its_id() {
        let instance = instance();
        let subjects = instance.control_subjects();
        assert_eq!(subjects.len(), 9);
        assert!(subjects.contains(&format!("$SRV.STATS.accord-test.{}", instance.id)));
        assert!(subjects.contains(&"$SRV.INFO".to_owned()));
    }
}
