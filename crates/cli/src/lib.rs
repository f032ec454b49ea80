//! The `accord` binary's library: settings, running services in one process, the
//! operator's HTTP endpoints, the demo, restoring a lost log from its stream, and playing a scenario over the bus (also
//! used by the end-to-end tests).

pub mod audit;
pub mod console;
pub mod dead_letters;
pub mod demo;
pub mod demo_evidence;
pub mod http;
pub mod keys;
pub mod play;
pub mod reports;
pub mod restore;
pub mod running;
pub mod send;
pub mod settings;
pub mod tables;
pub mod witness;
