//! `probe`: what an MP4 file holds (tracks, codecs, sample counts,
//! durations, fragments, damage), from box headers and sample tables only.

use std::fs::File;
use std::io::{Cursor, Read, Seek};
use std::path::Path;

use cht_core::aac::AacConfig;
use cht_core::h264::AvcDecoderConfig;
use cht_core::{AudioParams, VideoParams};
use serde::Serialize;

use crate::error::Fmp4Error;
use crate::movie::{TrackKind, TrackMeta};
use crate::mp4_file::Mp4File;
use crate::sample_table::{SampleRef, TableCursor};

/// One track of an MP4 file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackInfo {
    /// `track_ID`.
    pub id: u32,
    /// Video, audio or other.
    pub kind: TrackKind,
    /// RFC 6381 codec string, e.g. `avc1.64001e` or `mp4a.40.2`.
    pub codec: String,
    /// Units per second of the track's timestamps.
    pub timescale: u32,
    /// Samples whose data is completely in the file.
    pub sample_count: u64,
    /// Samples flagged as sync samples.
    pub keyframe_count: u64,
    /// Sum of the sample durations, seconds.
    pub duration_seconds: f64,
    /// Picture width (video).
    pub width: Option<u32>,
    /// Picture height (video).
    pub height: Option<u32>,
    /// Samples per second (audio).
    pub sample_rate: Option<u32>,
    /// Channels (audio).
    pub channels: Option<u16>,
    /// AAC configuration from `esds`.
    pub audio: Option<AacConfig>,
    /// H.264 configuration from `avcC` (SPS/PPS for decoding samples).
    #[serde(skip)]
    pub avc: Option<AvcDecoderConfig>,
    /// Codec parameters of a video track cht can read (H.264).
    #[serde(skip)]
    pub video_params: Option<VideoParams>,
    /// Codec parameters of an audio track cht can read (AAC).
    #[serde(skip)]
    pub audio_params: Option<AudioParams>,
}

/// What [`probe`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mp4Info {
    /// The tracks, in `moov` order.
    pub tracks: Vec<TrackInfo>,
    /// Samples live (also) in movie fragments (`mvex` present).
    pub fragmented: bool,
    /// Complete fragments (`moof` whose sample data is all in the file).
    pub fragments: usize,
    /// The file ends in an incomplete box or fragment, or in bytes that are
    /// not a box; everything before it is usable.
    pub truncated_tail: bool,
    /// Damaged `moof` boxes that were skipped.
    pub damaged_boxes: u64,
    /// Longest track, seconds.
    pub duration_seconds: f64,
    /// Bytes of the file.
    pub file_size: u64,
    /// Why reading stopped early or skipped something, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tail_error: Option<String>,
}

impl Mp4Info {
    /// The first video track.
    pub fn video_track(&self) -> Option<&TrackInfo> {
        self.tracks.iter().find(|t| t.kind == TrackKind::Video)
    }

    /// The first audio track.
    pub fn audio_track(&self) -> Option<&TrackInfo> {
        self.tracks.iter().find(|t| t.kind == TrackKind::Audio)
    }
}

/// Probes a file on disk without reading sample data.
pub fn probe(path: impl AsRef<Path>) -> Result<Mp4Info, Fmp4Error> {
    probe_reader(File::open(path)?)
}

/// The duration of the MP4 at `path` (what [`probe`] reports), or `None` if
/// it cannot be read: the shape a session's timeline asks for
/// (`cht_session::Layout::timeline`).
pub fn duration_of(path: &Path) -> Option<f64> {
    probe(path).ok().map(|info| info.duration_seconds)
}

/// Probes an MP4 held in memory.
pub fn probe_bytes(data: &[u8]) -> Result<Mp4Info, Fmp4Error> {
    probe_reader(Cursor::new(data))
}

/// Probes any seekable source.
pub fn probe_reader<R: Read + Seek>(src: R) -> Result<Mp4Info, Fmp4Error> {
    let mut file = Mp4File::open(src)?;
    let mut tallies = vec![Tally::default(); file.movie.tracks.len()];
    let mut truncated = false;
    for (i, track) in file.movie.tracks.iter().enumerate() {
        truncated |= tally_sample_table(track, i, file.file_len(), &mut tallies[i]);
    }
    let mut fragments = 0;
    while let Some(samples) = file.next_fragment()? {
        fragments += 1;
        for s in &samples {
            tallies[s.track].add(s);
        }
    }
    let tracks: Vec<TrackInfo> = file
        .movie
        .tracks
        .iter()
        .zip(&tallies)
        .map(|(t, tally)| track_info(t, tally))
        .collect();
    Ok(Mp4Info {
        duration_seconds: tracks
            .iter()
            .map(|t| t.duration_seconds)
            .fold(0.0, f64::max),
        tracks,
        fragmented: file.movie.fragmented,
        fragments,
        truncated_tail: truncated || file.truncated_tail,
        damaged_boxes: file.damaged_boxes,
        file_size: file.file_len(),
        tail_error: file.tail_error.clone(),
    })
}

/// Counts the progressive samples of a track; true if some lie past the end.
fn tally_sample_table(track: &TrackMeta, index: usize, file_len: u64, tally: &mut Tally) -> bool {
    let mut cursor = TableCursor::new(&track.table, file_len);
    while let Some(s) = cursor.next_sample(&track.table, index) {
        if s.data_end() > file_len {
            return true;
        }
        tally.add(&s);
    }
    false
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Tally {
    samples: u64,
    keyframes: u64,
    duration: u64,
}

impl Tally {
    pub(crate) fn add(&mut self, s: &SampleRef) {
        self.samples += 1;
        self.keyframes += u64::from(s.keyframe);
        self.duration += u64::from(s.duration);
    }
}

pub(crate) fn track_info(track: &TrackMeta, tally: &Tally) -> TrackInfo {
    let e = &track.entry;
    TrackInfo {
        id: track.id,
        kind: track.kind,
        codec: e.codec.clone(),
        timescale: track.timescale,
        sample_count: tally.samples,
        keyframe_count: tally.keyframes,
        duration_seconds: tally.duration as f64 / f64::from(track.timescale),
        width: e.width,
        height: e.height,
        sample_rate: e.sample_rate,
        channels: e.channels,
        audio: e.audio,
        avc: e.avc.clone(),
        video_params: e.video_params.clone(),
        audio_params: e.audio_params.clone(),
    }
}
