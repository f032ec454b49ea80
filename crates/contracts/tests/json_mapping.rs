// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_contracts::v1::{
    commitment_terms, CommitmentProposed, CommitmentTerms, EventEnvelope, FundingTerms, Money,
    PartyRef, StreamRef,
};
use accord_contracts::{from_json, to_json, JsonError};
use proptest::prelude::*;

fn funding_commitment() -> CommitmentProposed {
    CommitmentProposed {
        commitment_id: "c-1".into(),
        agreement_id: "a-1".into(),
        obligor: Some(PartyRef { id: "LT".into() }),
        beneficiary: Some(PartyRef { id: "UA".into() }),
        terms: Some(CommitmentTerms {
            kind: Some(commitment_terms::Kind::Funding(FundingTerms {
                amount: Some(Money {
                    minor_units: 100_000_000, // EUR 1,000,000.00
                    currency: "EUR".into(),
                }),
            })),
            text: "funding for joint projects".into(),
        }),
        due: None,
        reason: "agreement clause 4".into(),
        also_benefiting: Vec::new(),
    }
}

#[test]
fn given_a_message_when_mapped_to_json_then_it_uses_proto3_field_names() {
    let json = to_json(&funding_commitment()).unwrap();
    assert_eq!(json["commitmentId"], "c-1");
    assert_eq!(
        json["terms"]["funding"]["amount"]["minorUnits"],
        "100000000"
    );
    assert_eq!(json["obligor"]["id"], "LT");
}

#[test]
fn given_json_when_parsed_back_then_the_message_is_equal() {
    let original = funding_commitment();
    let text = to_json(&original).unwrap().to_string();
    let parsed: CommitmentProposed = from_json(&text).unwrap();
    assert_eq!(parsed, original);
}

#[test]
fn given_json_with_an_unknown_field_when_parsed_then_it_is_rejected() {
    let err = from_json::<StreamRef>(r#"{"category":"agreement","idd":"x"}"#).unwrap_err();
    assert!(matches!(err, JsonError::UnknownField { .. }), "{err:?}");
    assert!(err.to_string().contains("idd"), "{err}");
}

#[test]
fn given_malformed_json_when_parsed_then_it_is_rejected() {
    for text in [
        "{",
        "[]",
        r#"{"category": 7}"#,
        r#"{"category":"a"} trailing"#,
    ] {
        let err = from_json::<StreamRef>(text).unwrap_err();
        assert!(matches!(err, JsonError::Invalid { .. }), "{text}: {err:?}");
    }
}

#[test]
fn envelope_bytes_map_to_base64_and_timestamps_to_rfc3339() {
    let envelope = EventEnvelope {
        event_id: "0190a2b4-0000-7000-8000-000000000000".into(),
        payload: vec![1, 2, 3],
        recorded_at: Some(prost_types::Timestamp {
            seconds: 1_732_780_800,
            nanos: 0,
        }),
        ..Default::default()
    };
    let json = to_json(&envelope).unwrap();
    assert_eq!(json["payload"], "AQID");
    assert_eq!(json["recordedAt"], "2024-11-28T08:00:00Z");
}

proptest! {
    #[test]
    fn stream_refs_round_trip_through_json(category in "[a-z_]{1,16}", id in "\\PC{0,40}") {
        let original = StreamRef { category, id };
        let parsed: StreamRef = from_json(&to_json(&original).unwrap().to_string()).unwrap();
        prop_assert_eq!(parsed, original);
    }
}
