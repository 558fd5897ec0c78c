//! Session identifiers.

use crate::SessionError;
use std::fmt;

/// A validated session id: `YYYYmmdd_HHMMSS` (what `cht record` creates) or
/// any `[A-Za-z0-9_-]{1,64}` name. Safe to join onto the sessions directory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(String);

impl SessionId {
    /// Validates `id` (see [`validate_session_id`]).
    pub fn parse(id: &str) -> Result<Self, SessionError> {
        validate_session_id(id)?;
        Ok(SessionId(id.to_string()))
    }

    /// A new id from the local time, `YYYYmmdd_HHMMSS`.
    pub fn now() -> Self {
        SessionId(chrono::Local::now().format("%Y%m%d_%H%M%S").to_string())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Refuses anything that is not a plain, short name.
pub fn validate_session_id(id: &str) -> Result<(), SessionError> {
    let invalid = |reason| SessionError::InvalidId {
        id: id.to_string(),
        reason,
    };
    if id.is_empty() {
        return Err(invalid("empty"));
    }
    if id.len() > 64 {
        return Err(invalid("longer than 64 characters"));
    }
    if id == "." || id == ".." || id.contains('/') || id.contains('\\') {
        return Err(invalid("path components are not allowed"));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(invalid("only letters, digits, '_' and '-' are allowed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_timestamps_and_names() {
        for ok in ["20261124_043000", "demo", "a-b_c", &"x".repeat(64)] {
            assert!(validate_session_id(ok).is_ok(), "{ok}");
        }
        assert_eq!(SessionId::now().as_str().len(), 15);
    }

    #[test]
    fn refuses_traversal_and_odd_names() {
        for bad in [
            "",
            "..",
            ".",
            "../x",
            "/etc",
            "a/b",
            "a\\b",
            "a b",
            "é",
            &"x".repeat(65),
            "x\0",
        ] {
            assert!(validate_session_id(bad).is_err(), "{bad:?}");
        }
    }
}
