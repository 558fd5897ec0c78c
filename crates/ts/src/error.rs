//! Why a packet, PES or table was not used. These never escape from the
//! demuxer: each one is counted in [`DemuxStats`](crate::DemuxStats) and the
//! stream goes on.

/// A transport packet that cannot be interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("adaptation_field_control is the reserved value 0")]
    ReservedAdaptationControl,
    #[error("adaptation field of {0} bytes does not fit the packet")]
    AdaptationFieldTooLong(u8),
}

/// A PES packet that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PesError {
    #[error("PES does not start with 00 00 01")]
    NoStartCode,
    #[error("PES header is truncated")]
    Truncated,
    #[error("PES header is not MPEG-2 syntax")]
    NotMpeg2Header,
}

/// A PAT/PMT packet that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PsiError {
    #[error("mpeg2ts rejected the table: {0}")]
    Parse(#[from] mpeg2ts::Error),
    #[error("table continues in another packet (not supported)")]
    SectionContinuation,
    #[error("packet on a table PID holds no {0}")]
    UnexpectedPayload(&'static str),
    #[error("PAT lists no program")]
    NoProgram,
    #[error("PMT program_info_length runs past the section")]
    ProgramInfoOverrun,
}
