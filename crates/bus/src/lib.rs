//! Accord on NATS. So far: the relay that publishes each service's log to its
//! JetStream stream, exactly once in effect and in log order.

mod relay;

pub use relay::{ensure_stream, event_subject, run_relay, BusError, RelayConfig};
