//! The procurement service's business rules, as pure deciders.
//!
//! * The [`policy`] aggregate (one per service) turns accepted, amended and withdrawn
//!   procurement-priority commitments into a versioned priority policy.
//! * A [`market`] aggregate per item holds the requests for that item and the supply
//!   offered for it, and allocates supply to open requests in priority order. The
//!   shell hands the current policy to each allocation, and every allocation records
//!   the policy version and why the request ranked where it did.

pub mod market;
pub mod policy;
pub mod queue;
