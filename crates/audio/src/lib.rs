//! The audio of a live screen-share stream → transcription-ready WAV chunks.
//!
//! What it is for: turning the AAC and MPEG audio (MP1/MP2/MP3) packets
//! that the demuxers hand out (`cht_core::AudioPacket`, raw frames with the
//! track's `AudioParams`; the same from MPEG-TS and from MP4) into a
//! continuous PCM stream (any channel layout mixed down to 16 kHz mono 16-bit by
//! default, or the source rate and channels), cut into `audio/chunk_NNNN.wav`
//! files of about `chunk_secs` each, ending in the quietest 100 ms near the
//! nominal end so words are not cut in half. Every finished chunk is listed in
//! `audio/index.json`; an optional [`TranscriptHook`] runs a speech-to-text
//! command on each one.
//!
//! What it is NOT for: demuxing (that is `cht-ts`), muxing audio into the
//! recording (that is `cht-fmp4`), or decoding anything but AAC-LC and MPEG
//! audio (HE-AAC, AC-3, Opus and other codecs are refused with one typed
//! error that says how to send AAC, never a panic).
//!
//! Who drives: push. The caller owns the loop and calls
//! [`AudioPipeline::push`] per frame and [`AudioPipeline::finish`] at the end
//! of a segment; each returns the chunks finished by that call. Nothing here
//! spawns threads except the [`TranscriptHook`] worker, which never blocks the
//! caller. [`AdtsFramer`] is the pull-side helper for offline tools and
//! fuzzing: it splits a raw ADTS byte stream into frames.
//!
//! Timeline: time 0 is the segment's first video frame (`origin_pts`). A chunk's
//! `start` is exact (first audio PTS + samples before it); it is negative when
//! audio starts before video. Lost audio (PTS gaps, undecodable frames) is
//! replaced by silence so chunk times stay aligned with the video.

mod adts;
mod chunker;
mod decode;
mod error;
mod hook;
mod index;
mod options;
mod pipeline;
mod quiet;
mod resample;
mod sample;
mod stats;
mod timeline;
mod whole_track;

pub use adts::{packets_from_adts, AdtsFrame, AdtsFramer, AdtsTrack, FramerStats};
pub use chunker::ChunkInfo;
pub use decode::{decodes, AacFrameDecoder, AudioFrameDecoder, MpegFrameDecoder};
pub use error::{AudioError, FrameError, Result};
pub use hook::{HookStats, TranscriptDone, TranscriptHook};
pub use options::{AudioFormat, AudioOptions, OutputSpec};
pub use pipeline::AudioPipeline;
pub use quiet::window_rms;
pub use stats::AudioStats;
pub use whole_track::{decode_whole_track, DecodedAudio};

/// Re-exported so consumers read chunks with the same WAV library version.
pub use hound;
