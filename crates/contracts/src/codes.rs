//! The fixed set of error codes every `ErrorReply` carries.

/// The fixed set of codes replies carry (see STYLE.md and `ErrorReply.code` in service.proto), so clients in any language
/// can act on them without parsing messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidArgument,
    NotFound,
    Conflict,
    FailedPrecondition,
    Unauthenticated,
    PermissionDenied,
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// Every code, in the order of the contract's list.
    pub const ALL: [ErrorCode; 8] = [
        ErrorCode::InvalidArgument,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::FailedPrecondition,
        ErrorCode::Unauthenticated,
        ErrorCode::PermissionDenied,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::FailedPrecondition => "failed_precondition",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

impl ErrorCode {
    /// The HTTP-like status an error reply's `Nats-Service-Error-Code` header carries
    /// (the NATS Services API convention), for clients that know only that.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidArgument => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::PermissionDenied => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::FailedPrecondition => 412,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }
}

impl std::str::FromStr for ErrorCode {
    type Err = String;

    /// The code a reply names; an error for a name outside the fixed set.
    fn from_str(text: &str) -> Result<ErrorCode, String> {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == text)
            .ok_or_else(|| format!("no error code {text:?}"))
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_from_its_name() {
        for name in [
            "invalid_argument",
            "not_found",
            "conflict",
            "failed_precondition",
            "unauthenticated",
            "permission_denied",
            "unavailable",
            "internal",
        ] {
            assert_eq!(name.parse::<ErrorCode>().map(ErrorCode::as_str), Ok(name));
        }
        assert!("rejected".parse::<ErrorCode>().is_err());
    }
}
