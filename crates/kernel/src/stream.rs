use std::fmt;

/// One event stream: the events of one aggregate instance, e.g. `commitment/c-17`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct StreamId {
    category: String,
    id: String,
}

/// Why a stream id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamIdError {
    #[error("stream category {0:?} must be 1 to {MAX_CATEGORY_LEN} of a-z, 0-9 and _")]
    Category(String),
    #[error("stream id {0:?} must be 1 to {MAX_ID_LEN} bytes without NUL")]
    Id(String),
}

pub const MAX_CATEGORY_LEN: usize = 32;
pub const MAX_ID_LEN: usize = 128;

impl StreamId {
    pub fn new(category: impl Into<String>, id: impl Into<String>) -> Result<Self, StreamIdError> {
        let (category, id) = (category.into(), id.into());
        let category_ok = (1..=MAX_CATEGORY_LEN).contains(&category.len())
            && category
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !category_ok {
            return Err(StreamIdError::Category(category));
        }
        if !(1..=MAX_ID_LEN).contains(&id.len()) || id.contains('\0') {
            return Err(StreamIdError::Id(id));
        }
        Ok(Self { category, id })
    }

    /// The aggregate type, e.g. `commitment`.
    pub fn category(&self) -> &str {
        &self.category
    }

    /// The aggregate id within its category.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.category, self.id)
    }
}

/// What an append expects the stream's current version to be. The version of a
/// stream is the number of events in it: 0 before the first event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ExpectedVersion {
    /// Append whatever the version is.
    Any,
    /// The stream must not exist yet (version 0).
    NoStream,
    /// The stream must be at exactly this version.
    Exact(u64),
}

impl ExpectedVersion {
    /// Whether a stream at `actual` satisfies this expectation.
    pub fn admits(self, actual: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual == 0,
            ExpectedVersion::Exact(expected) => actual == expected,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(v) => write!(f, "{v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_lowercase_categories_and_any_nul_free_id() {
        let stream = StreamId::new("commitment", "c-17 ÜA").unwrap();
        assert_eq!(stream.to_string(), "commitment/c-17 ÜA");
    }

    #[test]
    fn refuses_bad_categories_and_ids() {
        for category in ["", "Agreement", "a/b", "a\0", &"x".repeat(33)] {
            assert!(matches!(
                StreamId::new(category, "1"),
                Err(StreamIdError::Category(_))
            ));
        }
        for id in ["", "a\0b", &"x".repeat(129)] {
            assert!(matches!(
                StreamId::new("agreement", id),
                Err(StreamIdError::Id(_))
            ));
        }
    }

    #[test]
    fn expected_versions_admit_only_their_version() {
        assert!(ExpectedVersion::Any.admits(7));
        assert!(ExpectedVersion::NoStream.admits(0));
        assert!(!ExpectedVersion::NoStream.admits(1));
        assert!(ExpectedVersion::Exact(3).admits(3));
        assert!(!ExpectedVersion::Exact(3).admits(4));
    }
}
