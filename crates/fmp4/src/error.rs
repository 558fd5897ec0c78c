//! The one error type of this crate.

use std::io;

/// What went wrong while writing or reading MP4.
#[derive(Debug, thiserror::Error)]
pub enum Fmp4Error {
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The writer was given neither a video nor an audio track.
    #[error("a segment needs at least one track")]
    NoTracks,
    /// A sample was pushed for a track the segment was not created with.
    #[error("the segment has no {0} track")]
    NoSuchTrack(&'static str),
    /// The codec has no MP4 sample entry in cht yet.
    #[error("{0} cannot be recorded yet: no MP4 sample entry for it")]
    UnsupportedCodec(&'static str),
    /// The codec configuration cannot be expressed in an MP4 sample entry.
    #[error("invalid codec configuration: {0}")]
    InvalidConfig(&'static str),
    /// The input does not start like an MP4 file.
    #[error("not an MP4 file: {0}")]
    NotMp4(&'static str),
    /// The file has no usable `moov` box (missing, truncated or damaged).
    #[error("no usable moov box: {0}")]
    NoMoov(String),
    /// A box is internally inconsistent.
    #[error("malformed {fourcc} box: {reason}")]
    Malformed {
        /// The box.
        fourcc: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl Fmp4Error {
    pub(crate) fn malformed(fourcc: &[u8; 4], reason: &'static str) -> Self {
        Fmp4Error::Malformed {
            fourcc: String::from_utf8_lossy(fourcc).into_owned(),
            reason,
        }
    }
}
