//! Counters of everything the demuxer saw, kept or threw away.

use serde::Serialize;

/// Running totals since the demuxer was created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DemuxStats {
    /// Bytes pushed.
    pub bytes: u64,
    /// Transport packets accepted by the framer.
    pub packets: u64,
    /// Detected packet spacing: 188, 192 (M2TS) or 204; 0 before first sync.
    pub packet_size: u16,
    /// Bytes that were not part of any accepted packet (garbage, torn packets).
    pub skipped_bytes: u64,
    /// Times packet sync was found again after bytes had to be skipped.
    pub resyncs: u64,
    /// Continuity-counter gaps on the PIDs the demuxer follows.
    pub cc_errors: u64,
    /// Packets with the transport_error_indicator set or a malformed header.
    pub transport_errors: u64,
    /// Video access units emitted with `damaged: true`.
    pub damaged_video_units: u64,
    /// Video access units dropped because no SPS/PPS had been seen yet.
    pub video_units_before_config: u64,
    /// Audio bytes thrown away: damaged PES, broken ADTS framing, truncation.
    pub dropped_audio_bytes: u64,
    /// PES packets that could not be used (bad header, no PTS, oversized,
    /// continuation without a start).
    pub pes_errors: u64,
    /// PAT/PMT packets that could not be parsed.
    pub psi_errors: u64,
    /// Packets of PIDs the demuxer does not follow (SDT, NIT, null, other
    /// streams, scrambled).
    pub ignored_packets: u64,
    /// Video access units whose PTS and DTS contradicted each other (a bit
    /// error in the PES header): the damaged one was replaced by the other.
    pub damaged_timestamps: u64,
    /// Video access units emitted.
    pub video_units: u64,
    /// Audio frames emitted.
    pub audio_frames: u64,
}
