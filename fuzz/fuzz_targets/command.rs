//! Command bodies as the services parse them at the boundary: any bytes, as
//! protobuf or (when UTF-8) as proto3 JSON, for every command name of every
//! service, must parse or be refused with a typed error, never panic.
#![no_main]

use accord_boundary::{
    command_names, parse_command, Body, Facts, ParseContext, AGREEMENTS_COMMANDS,
    PROCUREMENT_COMMANDS, PROJECTS_COMMANDS,
};
use accord_kernel::ActorId;
use libfuzzer_sys::fuzz_target;

/// Knows nothing: every reference is unknown, as for a service with an empty log.
struct NoFacts;
impl Facts for NoFacts {}

fuzz_target!(|input: &[u8]| {
    let Some((&selector, body)) = input.split_first() else {
        return;
    };
    let names: Vec<(usize, &str)> = [
        command_names(AGREEMENTS_COMMANDS),
        command_names(PROJECTS_COMMANDS),
        command_names(PROCUREMENT_COMMANDS),
    ]
    .iter()
        .enumerate()
        .flat_map(|(service, names)| names.iter().map(move |name| (service, *name)))
        .collect();
    let (service, name) = names[usize::from(selector >> 1) % names.len()];
    let body = match (selector & 1, std::str::from_utf8(body)) {
        (1, Ok(text)) => Body::Json(text),
        _ => Body::Protobuf(body),
    };
    let actor = ActorId::new("lt-mod").expect("a valid actor id");
    let context = ParseContext {
        actor: &actor,
        facts: &NoFacts,
    };
    // Refusals are fine; a panic is the bug.
    let _ = match service {
        0 => parse_command(AGREEMENTS_COMMANDS, name, body, &context).map(|_| ()),
        1 => parse_command(PROJECTS_COMMANDS, name, body, &context).map(|_| ()),
        _ => parse_command(PROCUREMENT_COMMANDS, name, body, &context).map(|_| ()),
    };
});
