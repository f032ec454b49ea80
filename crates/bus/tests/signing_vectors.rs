//! The signing test vectors (`proto/vectors/command-signature.json`), checked
//! against the Rust implementation: the statement built from the request is the
//! file's byte for byte, the seed gives the key and the signature, the signed
//! request verifies, and every request in `must_not_verify` does not.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_bus::signing::{sign_request, signature_of, statement_of};
use accord_bus::{headers, Message};
use accord_kernel::signature::{from_hex32, hex, verify, ActorKey, SignatureError};
use serde_json::Value;

fn vector() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../proto/vectors/command-signature.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn request(subject: &Value, headers: &Value, body: &Value) -> Message {
    let mut message = Message::new(
        subject.as_str().unwrap(),
        body.as_str().unwrap().as_bytes().to_vec(),
    );
    for (name, value) in headers.as_object().unwrap() {
        message = message.with_header(name, value.as_str().unwrap());
    }
    message
}

fn verifies(public_key: &[u8], message: &Message) -> Result<(), SignatureError> {
    let signature = signature_of(message).unwrap()?;
    verify(
        public_key,
        &statement_of(message).unwrap().to_bytes(),
        &signature,
    )
}

#[test]
fn the_signing_vectors_answer_right() {
    let vector = vector();
    let seed = from_hex32(vector["seed_hex"].as_str().unwrap()).unwrap();
    let key = ActorKey::from_seed(&seed);
    assert_eq!(hex(&key.public_key()), vector["public_key_hex"]);

    let signed = request(&vector["subject"], &vector["headers"], &vector["body"]);
    let statement = statement_of(&signed).unwrap().to_bytes();
    assert_eq!(hex(&statement), vector["statement_hex"]);
    assert_eq!(
        String::from_utf8(statement.clone()).unwrap(),
        vector["statement_text"]
    );
    assert_eq!(
        signed.header(headers::SIGNATURE),
        vector["signature_base64"].as_str()
    );
    // Signing the request without its signature gives the file's signature again.
    let mut unsigned = signed.clone();
    unsigned.headers.remove(headers::SIGNATURE);
    assert_eq!(
        sign_request(unsigned, &key)
            .unwrap()
            .header(headers::SIGNATURE),
        vector["signature_base64"].as_str()
    );
    assert_eq!(verifies(&key.public_key(), &signed), Ok(()));

    let cases = vector["must_not_verify"].as_array().unwrap();
    assert!(cases.len() >= 8, "{}", cases.len());
    for case in cases {
        let message = request(&case["subject"], &case["headers"], &case["body"]);
        assert_eq!(
            verifies(&key.public_key(), &message),
            Err(SignatureError::Invalid),
            "{}",
            case["name"]
        );
    }
}
