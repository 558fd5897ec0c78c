//! Why the demo could not be made or sent.

/// Everything that can go wrong while making or sending the demo stream.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The options cannot produce a stream (zero size, odd size, zero fps...).
    #[error("invalid demo options: {0}")]
    InvalidOptions(String),
    /// The openh264 encoder refused its settings or a picture.
    #[error("H.264 encoder: {0}")]
    Encoder(#[from] openh264::Error),
    /// The encoder skipped a picture or produced something unusable.
    #[error("H.264 encoder output: {0}")]
    EncoderOutput(String),
    /// The embedded AAC loop is not a usable ADTS stream.
    #[error("embedded audio loop: {0}")]
    AudioLoop(String),
    /// The TS packet writer rejected a packet we built.
    #[error("MPEG-TS muxing: {0}")]
    Mux(String),
    /// Connecting to or writing into the receiver failed.
    #[error("sending the demo: {0}")]
    Io(#[from] std::io::Error),
}

impl From<mpeg2ts::Error> for DemoError {
    fn from(e: mpeg2ts::Error) -> Self {
        DemoError::Mux(e.to_string())
    }
}
