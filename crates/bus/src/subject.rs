//! Accord's subjects, and NATS subject matching for the embedded bus.

use accord_kernel::RecordedEvent;

/// `accord.<service>.cmd.<Command>`
pub fn command_subject(service: &str, command: &str) -> String {
    format!("accord.{service}.cmd.{command}")
}

/// `accord.<service>.q.<Query>`
pub fn query_subject(service: &str, query: &str) -> String {
    format!("accord.{service}.q.{query}")
}

/// The JetStream stream holding a service's events, e.g. `ACCORD_AGREEMENTS`.
pub fn stream_name(service: &str) -> String {
    format!("ACCORD_{}", service.to_uppercase())
}

/// The JetStream stream keeping what a service's reaction flows could not carry out,
/// e.g. `ACCORD_AGREEMENTS_DEAD_LETTERS`.
pub fn dead_letter_stream_name(service: &str) -> String {
    format!("ACCORD_{}_DEAD_LETTERS", service.to_uppercase())
}

/// `accord.<service>.deadletter.<flow>`: a dead letter of one of a service's flows.
pub fn dead_letter_subject(service: &str, flow: &str) -> String {
    format!("accord.{service}.deadletter.{flow}")
}

/// `accord.<service>.checkpoint`: the signed, co-signed checkpoints of a service's
/// log (proto/EVIDENCE.md).
pub fn checkpoint_subject(service: &str) -> String {
    format!("accord.{service}.checkpoint")
}

/// The JetStream stream keeping a service's checkpoints, e.g.
/// `ACCORD_AGREEMENTS_CHECKPOINTS`.
pub fn checkpoint_stream_name(service: &str) -> String {
    format!("ACCORD_{}_CHECKPOINTS", service.to_uppercase())
}

/// `accord.witness.<token>.add-checkpoint`: where the witness named `name` answers
/// C2SP tlog-witness add-checkpoint requests; `<token>` is the name with every
/// character outside `[A-Za-z0-9_-]` replaced by `_`, so a name such as
/// `witness.lt.example` stays one subject token.
pub fn witness_subject(name: &str) -> String {
    let token: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("accord.witness.{token}.add-checkpoint")
}

/// One subject token for any aggregate id: bytes outside `A-Za-z0-9_-` become `%HH`.
pub fn token(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    push_token(&mut out, id);
    out
}

fn push_token(out: &mut String, id: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xF)] as char);
        }
    }
}

/// A header value for any text: bytes outside printable ASCII (`!` to `~`), and `%`
/// itself, become `%HH`, as in subject tokens, so a stream id with `é` or a space
/// travels intact through NATS headers, which carry ASCII only.
pub fn header_value(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if (b'!'..=b'~').contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xF)] as char);
        }
    }
    out
}

/// The subject an event is published on:
/// `accord.<service>.evt.<category>.<id>.<EventType>` (the type's short name).
pub fn event_subject(service: &str, event: &RecordedEvent) -> String {
    let short = event
        .event_type
        .rsplit('.')
        .next()
        .unwrap_or(&event.event_type);
    let (category, id) = (event.stream.category(), event.stream.id());
    let mut subject =
        String::with_capacity(16 + service.len() + category.len() + id.len() + short.len());
    for part in ["accord.", service, ".evt.", category, "."] {
        subject.push_str(part);
    }
    push_token(&mut subject, id);
    subject.push('.');
    push_token(&mut subject, short);
    subject
}

/// Whether `subject` matches `pattern`, where `*` matches one token and a final `>`
/// one or more, as NATS matches them.
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut subject_tokens = subject.split('.');
    for pattern_token in pattern.split('.') {
        match (pattern_token, subject_tokens.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (p, Some(s)) if p == s => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_escape_what_is_not_printable_ascii_and_read_back() {
        assert_eq!(header_value("commitment/c-1"), "commitment/c-1");
        assert_eq!(
            header_value("agreement/Vilnius é 50%"),
            "agreement/Vilnius%20%C3%A9%2050%25"
        );
        assert!(header_value("a\r\nb").bytes().all(|b| b.is_ascii_graphic()));
    }

    #[test]
    fn wildcards_match_as_in_nats() {
        assert!(subject_matches("a.*.c", "a.b.c"));
        assert!(!subject_matches("a.*.c", "a.b.d"));
        assert!(!subject_matches("a.*", "a.b.c"));
        assert!(subject_matches("a.>", "a.b.c"));
        assert!(!subject_matches("a.>", "a"));
        assert!(subject_matches("a.b", "a.b"));
        assert!(!subject_matches("a.b", "a.b.c"));
        assert!(!subject_matches("a.b.c", "a.b"));
    }

    #[test]
    fn any_id_is_one_token() {
        assert_eq!(token("c 1.x>*"), "c%201%2Ex%3E%2A");
        assert_eq!(token("lt-ua_2"), "lt-ua_2");
    }
}
