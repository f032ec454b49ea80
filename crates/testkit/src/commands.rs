//! Agreements commands, as a client sends them (name and proto3 JSON body), for
//! tests that need a commitment with a long life.

/// Commands that draft agreement `a-1`, propose and accept production-capacity
/// commitment `c-shells` on it, then record `progress` reports of one shell each,
/// whose reasons are `reason_bytes` long (the most a reason may be is 4 KiB): the
/// commitment's stream ends at version `progress + 2`.
pub fn long_commitment(progress: usize, reason_bytes: usize) -> Vec<(&'static str, String)> {
    let mut commands = vec![
        (
            "DraftAgreement",
            r#"{"agreementId":"a-1","kind":"AGREEMENT_KIND_MEMORANDUM","title":"t",
                "parties":[{"id":"LT"},{"id":"UA"}],"reason":"r"}"#
                .to_owned(),
        ),
        (
            "ProposeCommitment",
            r#"{"commitmentId":"c-shells","agreementId":"a-1","obligor":{"id":"LT"},
                "beneficiary":{"id":"UA"},"terms":{"productionCapacity":{"item":"155mm shell",
                "quantity":{"amount":"100000","unit":"shell"},
                "period":{"from":{"year":2025,"month":1,"day":1},"to":{"year":2025,"month":12,"day":31}}}},
                "reason":"clause"}"#
                .to_owned(),
        ),
        (
            "AcceptCommitment",
            r#"{"commitmentId":"c-shells","reason":"accepted"}"#.to_owned(),
        ),
    ];
    let reason = "r".repeat(reason_bytes);
    commands.extend((0..progress).map(|_| {
        (
            "RecordCommitmentProgress",
            format!(
                r#"{{"commitmentId":"c-shells","allocated":{{"amount":"1","unit":"shell"}},"reason":"{reason}"}}"#
            ),
        )
    }));
    commands
}
