//! The one error type of this crate.

use std::path::PathBuf;

/// Why a segment could not be written (input damage is never an error: it
/// is counted in [`crate::SegmentStats`]).
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Reading the input or writing the segment file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The fMP4 writer refused (a codec without a sample entry, an
    /// unusable configuration) or failed to write.
    #[error("{path}: {source}")]
    Mp4 {
        /// The segment file.
        path: PathBuf,
        /// What the writer said.
        #[source]
        source: cht_fmp4::Fmp4Error,
    },
    /// The input holds nothing the recorder can record.
    #[error("{0}: no video or audio that can be recorded (the log names what the stream holds)")]
    NoMedia(PathBuf),
}
