//! The error types of the core: what a parser or the decoder registry
//! says when it cannot go on.

use crate::params::VideoCodec;

/// Why no decoder could be made.
#[derive(Debug, thiserror::Error)]
pub enum DecoderError {
    /// No decoder is registered for the codec.
    #[error(
        "{0} cannot be decoded for scene frames (the recording is unaffected): \
         have the sender encode H.264 (`-c:v libx264 -pix_fmt yuv420p`)"
    )]
    NoDecoder(VideoCodec),
    /// The decoder library could not create or configure an instance.
    #[error("cannot create the {codec} decoder: {reason}")]
    Init {
        /// The codec.
        codec: VideoCodec,
        /// What the library said.
        reason: String,
    },
}

/// Why bytes are not a usable avcC record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid avcC record: {0}")]
pub struct AvcConfigError(pub &'static str);

/// Why bytes are not an ADTS header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AdtsError {
    /// Fewer bytes than a header needs.
    #[error("need more bytes for an ADTS header")]
    Incomplete,
    /// The bytes do not start with the ADTS sync word.
    #[error("no ADTS sync word")]
    NoSync,
    /// A header with a reserved or impossible field.
    #[error("invalid ADTS header: {0}")]
    Invalid(&'static str),
}
