//! Errors of the H.264 stage.

/// Failures that are not about the input: bad input is a counted skip (see
/// [`crate::DecodeStats`]), never an error.
#[derive(Debug, thiserror::Error)]
pub enum H264Error {
    /// openh264 could not create or configure a decoder instance.
    #[error("cannot create the openh264 decoder: {0}")]
    Init(String),
}
