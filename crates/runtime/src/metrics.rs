//! Counters and a latency histogram of the commands a process handles, and counters
//! of what its reaction flows did, written out in the Prometheus text format by
//! whoever serves `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Upper bounds (seconds) of the command latency histogram's buckets.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at or below each bucket's bound (cumulative when written).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What a reaction flow did with one command an event caused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReactionOutcome {
    /// The target service carried it out (or had already: same command id).
    Sent,
    /// The target was unavailable or contended; the event is delivered again.
    Retried,
    /// The target refused it for good; the event is acknowledged all the same.
    Refused,
}

impl ReactionOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ReactionOutcome::Sent => "sent",
            ReactionOutcome::Retried => "retried",
            ReactionOutcome::Refused => "refused",
        }
    }
}

/// One counter per key: the values of a series' labels.
#[derive(Debug)]
struct Counters<K>(Mutex<BTreeMap<K, u64>>);

impl<K> Default for Counters<K> {
    fn default() -> Counters<K> {
        Counters(Mutex::new(BTreeMap::new()))
    }
}

impl<K: Ord> Counters<K> {
    fn add(&self, key: K) {
        *self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default() += 1;
    }

    /// Writes the counter family `name` in the Prometheus text format; `labels`
    /// gives each series' labels, e.g. `service="agreements"`.
    fn render(&self, out: &mut String, name: &str, help: &str, labels: impl Fn(&K) -> String) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} counter");
        for (key, n) in self.0.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            let _ = writeln!(out, "{name}{{{}}} {n}", labels(key));
        }
    }
}

/// What the endpoints record (commands by service and outcome, and their latency)
/// and what the reaction flows record.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (service, outcome) → commands.
    commands: Counters<(String, String)>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    /// (service, flow, outcome) → reaction commands.
    reactions: Counters<(String, String, ReactionOutcome)>,
    /// (service, flow) → events a flow could not read and acknowledged unread.
    skipped: Counters<(String, String)>,
    /// Services whose endpoints the bus has registered and that take requests now.
    serving: Mutex<std::collections::BTreeSet<String>>,
    /// service → checkpoints issued (signed and kept).
    checkpoints: Counters<String>,
    /// service → the tree size of its latest checkpoint.
    checkpoint_size: Mutex<BTreeMap<String, u64>>,
    /// (service, witness) → the size that witness co-signed last.
    witnessed: Mutex<BTreeMap<(String, String), u64>>,
    /// (service, witness, why) → add-checkpoint requests not co-signed.
    witness_failures: Counters<(String, String, String)>,
}

impl Metrics {
    /// Records whether `service`'s endpoints answer on the bus: readiness waits for it.
    pub fn set_serving(&self, service: &str, serving: bool) {
        let mut set = self.serving.lock().unwrap_or_else(PoisonError::into_inner);
        if serving {
            set.insert(service.to_owned());
        } else {
            set.remove(service);
        }
    }

    /// Whether `service`'s endpoints answer on the bus now.
    pub fn is_serving(&self, service: &str) -> bool {
        self.serving
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(service)
    }

    /// Records one command of `service` that ended with `outcome` (`ok` or an error
    /// code) after `elapsed`.
    pub fn command(&self, service: &str, outcome: &str, elapsed: Duration) {
        self.commands.add((service.to_owned(), outcome.to_owned()));
        let seconds = elapsed.as_secs_f64();
        let mut latency = self.latency.lock().unwrap_or_else(PoisonError::into_inner);
        let histogram = latency.entry(service.to_owned()).or_default();
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            histogram.buckets[bucket] += 1;
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// Records one command that `flow` (starting from `service`'s events) sent.
    pub fn reaction(&self, service: &str, flow: &str, outcome: ReactionOutcome) {
        self.reactions
            .add((service.to_owned(), flow.to_owned(), outcome));
    }

    /// Records one event `flow` could not read (undecodable, or its stream unreadable).
    pub fn reaction_skipped(&self, service: &str, flow: &str) {
        self.skipped.add((service.to_owned(), flow.to_owned()));
    }

    /// Records a checkpoint of `service`'s log issued at tree size `size`.
    pub fn checkpoint_issued(&self, service: &str, size: u64) {
        self.checkpoints.add(service.to_owned());
        self.checkpoint_size
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(service.to_owned(), size);
    }

    /// Records the size `witness` co-signed last for `service`'s log.
    pub fn witness_cosigned(&self, service: &str, witness: &str, size: u64) {
        self.witnessed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((service.to_owned(), witness.to_owned()), size);
    }

    /// Records an add-checkpoint request to `witness` that was not co-signed, and
    /// why (`unreachable` or the witness's status).
    pub fn witness_failed(&self, service: &str, witness: &str, why: &str) {
        self.witness_failures
            .add((service.to_owned(), witness.to_owned(), why.to_owned()));
    }

    /// How many events of `service`'s latest checkpoint `witness` has not co-signed
    /// yet; `None` before the first checkpoint.
    pub fn witness_lag(&self, service: &str, witness: &str) -> Option<u64> {
        let size = *self
            .checkpoint_size
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(service)?;
        let witnessed = self
            .witnessed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(service.to_owned(), witness.to_owned()))
            .copied()
            .unwrap_or(0);
        Some(size.saturating_sub(witnessed))
    }

    /// How many commands of `service` were timed, and their total time.
    pub fn command_time(&self, service: &str) -> (u64, Duration) {
        let latency = self.latency.lock().unwrap_or_else(PoisonError::into_inner);
        latency.get(service).map_or((0, Duration::ZERO), |h| {
            (h.count, Duration::from_secs_f64(h.sum))
        })
    }

    /// The commands, latency and reaction series, in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        self.commands.render(
            out,
            "accord_commands_total",
            "Commands handled, by service and outcome.",
            |(service, outcome)| format!("service=\"{service}\",outcome=\"{outcome}\""),
        );
        out.push_str(
            "# HELP accord_command_duration_seconds Time from request to reply of commands.\n",
        );
        out.push_str("# TYPE accord_command_duration_seconds histogram\n");
        for (service, histogram) in self
            .latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(histogram.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "accord_command_duration_seconds_bucket{{service=\"{service}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "accord_command_duration_seconds_bucket{{service=\"{service}\",le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "accord_command_duration_seconds_sum{{service=\"{service}\"}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "accord_command_duration_seconds_count{{service=\"{service}\"}} {}",
                histogram.count
            );
        }
        self.reactions.render(
            out,
            "accord_reaction_commands_total",
            "Commands reaction flows sent, by the service whose events they follow, flow and outcome.",
            |(service, flow, outcome)| {
                format!(
                    "service=\"{service}\",flow=\"{flow}\",outcome=\"{}\"",
                    outcome.as_str()
                )
            },
        );
        self.skipped.render(
            out,
            "accord_reaction_events_skipped_total",
            "Events a reaction flow could not read and acknowledged unread.",
            |(service, flow)| format!("service=\"{service}\",flow=\"{flow}\""),
        );
        self.render_checkpoints(out);
    }

    fn render_checkpoints(&self, out: &mut String) {
        self.checkpoints.render(
            out,
            "accord_checkpoints_total",
            "Signed checkpoints of a service's log issued and kept.",
            |service| format!("service=\"{service}\""),
        );
        out.push_str("# HELP accord_checkpoint_size Tree size of a service's latest checkpoint.\n# TYPE accord_checkpoint_size gauge\n");
        let sizes = self
            .checkpoint_size
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for (service, size) in &sizes {
            let _ = writeln!(
                out,
                "accord_checkpoint_size{{service=\"{service}\"}} {size}"
            );
        }
        out.push_str("# HELP accord_checkpoint_witness_lag_events Events of a service's latest checkpoint a witness has not co-signed yet.\n# TYPE accord_checkpoint_witness_lag_events gauge\n");
        let witnessed = self
            .witnessed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for ((service, witness), cosigned) in &witnessed {
            let lag = sizes
                .get(service)
                .map_or(0, |size| size.saturating_sub(*cosigned));
            let witness = witness.replace('"', "\\\"");
            let _ = writeln!(
                out,
                "accord_checkpoint_witness_lag_events{{service=\"{service}\",witness=\"{witness}\"}} {lag}"
            );
        }
        self.witness_failures.render(
            out,
            "accord_checkpoint_witness_failures_total",
            "Add-checkpoint requests a witness did not co-sign, by service, witness and why.",
            |(service, witness, why)| {
                format!(
                    "service=\"{service}\",witness=\"{}\",why=\"{why}\"",
                    witness.replace('"', "\\\"")
                )
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_counts_add_up() {
        let metrics = Metrics::default();
        metrics.command("agreements", "ok", Duration::from_micros(300));
        metrics.command("agreements", "ok", Duration::from_millis(3));
        metrics.command("agreements", "invalid_argument", Duration::from_secs(9));
        let mut text = String::new();
        metrics.render(&mut text);
        assert!(text.contains("accord_commands_total{service=\"agreements\",outcome=\"ok\"} 2"));
        assert!(text.contains(
            "accord_command_duration_seconds_bucket{service=\"agreements\",le=\"0.0005\"} 1"
        ));
        assert!(text.contains(
            "accord_command_duration_seconds_bucket{service=\"agreements\",le=\"0.005\"} 2"
        ));
        assert!(text.contains(
            "accord_command_duration_seconds_bucket{service=\"agreements\",le=\"+Inf\"} 3"
        ));
        assert!(text.contains("accord_command_duration_seconds_count{service=\"agreements\"} 3"));
        let (count, total) = metrics.command_time("agreements");
        assert_eq!(count, 3);
        assert_eq!(total.as_micros(), 9_003_300);
        assert_eq!(metrics.command_time("projects"), (0, Duration::ZERO));
    }

    #[test]
    fn reactions_are_counted_by_service_flow_and_outcome() {
        let metrics = Metrics::default();
        metrics.reaction("agreements", "react-motion-adopted", ReactionOutcome::Sent);
        metrics.reaction("agreements", "react-motion-adopted", ReactionOutcome::Sent);
        metrics.reaction(
            "agreements",
            "react-motion-adopted",
            ReactionOutcome::Refused,
        );
        metrics.reaction(
            "projects",
            "react-funding-pledged",
            ReactionOutcome::Retried,
        );
        metrics.reaction_skipped("projects", "react-funding-pledged");
        let mut text = String::new();
        metrics.render(&mut text);

        for line in [
            "accord_reaction_commands_total{service=\"agreements\",flow=\"react-motion-adopted\",outcome=\"sent\"} 2",
            "accord_reaction_commands_total{service=\"agreements\",flow=\"react-motion-adopted\",outcome=\"refused\"} 1",
            "accord_reaction_commands_total{service=\"projects\",flow=\"react-funding-pledged\",outcome=\"retried\"} 1",
            "accord_reaction_events_skipped_total{service=\"projects\",flow=\"react-funding-pledged\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line} in\n{text}");
        }
        assert!(!text.contains("outcome=\"retried\"} 2"));
    }
}
