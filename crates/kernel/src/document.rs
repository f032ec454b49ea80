//! A document referenced as evidence: the agreement text, a Letter of Intent, board
//! minutes, a delivery note. Accord keeps the document's SHA-256, never the file:
//! whoever holds a copy can show it is the one an event named.

use std::fmt;

use crate::signature::{from_hex32, hex};
use crate::ValueError;

/// At most this many documents on one command: a command cites its evidence, it is
/// not an archive.
pub const MAX_DOCUMENTS: usize = 16;

const MAX_TITLE: usize = 256;
const MAX_MEDIA_TYPE: usize = 128;
const MAX_LOCATION: usize = 1024;

/// SHA-256 of a document's bytes.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct DocumentHash(pub [u8; 32]);

impl DocumentHash {
    /// From 64 hex digits (either case).
    pub fn parse(text: &str) -> Result<DocumentHash, ValueError> {
        from_hex32(text)
            .filter(|_| text.len() == 64)
            .map(DocumentHash)
            .ok_or_else(|| ValueError::Invalid {
                field: "sha256",
                value: text.to_owned(),
                reason: "a SHA-256 is 64 hex digits",
            })
    }

    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

impl fmt::Debug for DocumentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentHash({})", self.to_hex())
    }
}

impl fmt::Display for DocumentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A document by its hash, with what a reader needs to find and open it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct DocumentRef {
    pub title: String,
    /// "application/pdf", "text/plain", ...
    pub media_type: String,
    pub sha256: DocumentHash,
    /// Where a copy may be found (a URL, a registry number); optional.
    pub location: Option<String>,
}

impl DocumentRef {
    pub fn new(
        title: impl Into<String>,
        media_type: impl Into<String>,
        sha256: &str,
        location: impl Into<String>,
    ) -> Result<DocumentRef, ValueError> {
        let title = limited("title", title.into(), MAX_TITLE)?;
        let media_type = limited("media_type", media_type.into(), MAX_MEDIA_TYPE)?;
        if !is_media_type(&media_type) {
            return Err(ValueError::Invalid {
                field: "media_type",
                value: media_type,
                reason: "a media type is type/subtype, e.g. application/pdf",
            });
        }
        let location = location.into();
        let location = if location.is_empty() {
            None
        } else {
            Some(limited("location", location, MAX_LOCATION)?)
        };
        Ok(DocumentRef {
            title,
            media_type,
            sha256: DocumentHash::parse(sha256)?,
            location,
        })
    }
}

/// Checks a command's documents together: not too many, none twice.
pub fn check_documents(documents: &[DocumentRef]) -> Result<(), ValueError> {
    if documents.len() > MAX_DOCUMENTS {
        return Err(ValueError::TooLong {
            field: "documents",
            len: documents.len(),
            max: MAX_DOCUMENTS,
        });
    }
    for (i, document) in documents.iter().enumerate() {
        if documents[..i].iter().any(|d| d.sha256 == document.sha256) {
            return Err(ValueError::Invalid {
                field: "documents",
                value: document.sha256.to_hex(),
                reason: "the same document is cited twice",
            });
        }
    }
    Ok(())
}

/// The shared text rule (not blank, at most `max` bytes), and no control character.
fn limited(field: &'static str, value: String, max: usize) -> Result<String, ValueError> {
    let value = crate::values::text(field, value, max)?;
    if value.chars().any(char::is_control) {
        return Err(ValueError::Invalid {
            field,
            value,
            reason: "it contains a control character",
        });
    }
    Ok(value)
}

fn is_media_type(text: &str) -> bool {
    let token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    // Parameters (";charset=utf-8") are allowed after the type.
    let essence = text.split(';').next().unwrap_or_default().trim();
    matches!(essence.split_once('/'), Some((kind, sub)) if token(kind) && token(sub))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn given_a_complete_reference_then_it_is_accepted_and_the_hash_reads_back() {
        let document = DocumentRef::new("Agreement text", "application/pdf", HASH, "").unwrap();
        assert_eq!(document.sha256.to_hex(), HASH);
        assert_eq!(document.location, None);
        let upper =
            DocumentRef::new("t", "text/plain; charset=utf-8", &HASH.to_uppercase(), "x").unwrap();
        assert_eq!(upper.sha256, document.sha256);
        assert_eq!(upper.location.as_deref(), Some("x"));
    }

    #[test]
    fn given_bad_parts_then_each_is_refused_naming_its_field() {
        let field = |result: Result<DocumentRef, ValueError>| match result.unwrap_err() {
            ValueError::Empty { field }
            | ValueError::TooLong { field, .. }
            | ValueError::Invalid { field, .. } => field,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(
            field(DocumentRef::new(" ", "text/plain", HASH, "")),
            "title"
        );
        assert_eq!(field(DocumentRef::new("t", "pdf", HASH, "")), "media_type");
        assert_eq!(
            field(DocumentRef::new("t", "text/plain", &HASH[1..], "")),
            "sha256"
        );
        assert_eq!(
            field(DocumentRef::new(
                "t",
                "text/plain",
                &HASH.replace('9', "g"),
                ""
            )),
            "sha256"
        );
        assert_eq!(
            field(DocumentRef::new("t\n", "text/plain", HASH, "")),
            "title"
        );
        assert_eq!(
            field(DocumentRef::new("t", "text/plain", HASH, "x".repeat(2000))),
            "location"
        );
    }

    #[test]
    fn given_a_document_twice_or_too_many_then_the_list_is_refused() {
        let one = DocumentRef::new("t", "text/plain", HASH, "").unwrap();
        assert!(check_documents(std::slice::from_ref(&one)).is_ok());
        assert!(check_documents(&[one.clone(), one.clone()]).is_err());
        let many: Vec<DocumentRef> = (0..=MAX_DOCUMENTS)
            .map(|i| DocumentRef {
                sha256: DocumentHash([i as u8; 32]),
                ..one.clone()
            })
            .collect();
        assert!(check_documents(&many).is_err());
        assert!(check_documents(&many[..MAX_DOCUMENTS]).is_ok());
    }
}
