//! Event evolution: how events written by older code are read by today's.
//!
//! Every stored event carries its payload's schema version (`EventEnvelope.
//! schema_version`). The contract only ever grows (new fields, never reused
//! numbers), so an old payload always decodes; what can change is what a field's
//! absence *means*. When it does, the event type's version goes up here, and an
//! upcasting step turns an old payload into today's meaning between the stored
//! bytes and the deciders, in one place per change: the log is never rewritten
//! (its hashes and signatures stay valid for decades) and the deciders and
//! projections see one shape only. `proto/EVOLUTION.md` lists every change.
//!
//! | event type | version | change, and how older versions are read |
//! |---|---|---|
//! | `accord.v1.SupplyOffered` | 2 | `controlled_by` (the party whose supply it is) added; version 1 is read as controlled by its supplier |

use crate::BoundaryError;

/// The current schema version of the event types that changed; any other is 1.
pub const SCHEMA_VERSIONS: &[(&str, u32)] = &[("accord.v1.SupplyOffered", 2)];

/// The schema version today's code writes `event_type` with.
pub fn current_version(event_type: &str) -> u32 {
    SCHEMA_VERSIONS
        .iter()
        .find(|(name, _)| *name == event_type)
        .map_or(1, |(_, version)| *version)
}

/// Refuses a version this code cannot read: 0 (never written), or above today's (a
/// log written by newer code; reading it as today's shape would lose what changed).
pub(crate) fn readable(event_type: &str, version: u32) -> Result<(), BoundaryError> {
    let current = current_version(event_type);
    if version == 0 || version > current {
        return Err(BoundaryError::UnknownSchemaVersion {
            event_type: event_type.to_owned(),
            version,
            current,
        });
    }
    Ok(())
}

/// `SupplyOffered` before version 2 has no `controlled_by`: the supplier controlled
/// its own supply.
pub(crate) fn supply_offered(
    mut message: accord_contracts::v1::SupplyOffered,
    version: u32,
) -> accord_contracts::v1::SupplyOffered {
    if version < 2 {
        message.controlled_by = message.supplier.clone();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_above_today_and_zero_are_refused_the_rest_read() {
        assert_eq!(current_version("accord.v1.SupplyOffered"), 2);
        assert_eq!(current_version("accord.v1.RequestSubmitted"), 1);
        assert!(readable("accord.v1.SupplyOffered", 1).is_ok());
        assert!(readable("accord.v1.SupplyOffered", 2).is_ok());
        for (event_type, version) in [
            ("accord.v1.SupplyOffered", 3),
            ("accord.v1.SupplyOffered", 0),
            ("accord.v1.RequestSubmitted", 2),
        ] {
            assert!(
                matches!(
                    readable(event_type, version),
                    Err(BoundaryError::UnknownSchemaVersion { .. })
                ),
                "{event_type} v{version}"
            );
        }
    }
}
