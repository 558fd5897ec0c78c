//! The push-model segment writer: samples go in as they arrive, whole
//! fragments come out.

use std::io::{IoSlice, Write};

use cht_core::{AudioPacket, AudioParams, VideoPacket, VideoParams, CLOCK_HZ};
use serde::Serialize;

use crate::error::Fmp4Error;
use crate::fragment::{
    write_fragment, RunEntry, TrackRun, SAMPLE_FLAGS_NON_SYNC, SAMPLE_FLAGS_SYNC,
};
use crate::init_segment::{write_init_segment, TrackDecl};
use crate::sample_entry::{self, SampleEntry};
use crate::timeline::{rescale_90k, Timeline};

/// Larger access units are corrupt input, not pictures; they are skipped.
const MAX_SAMPLE_BYTES: usize = 64 << 20;

/// Composition offsets beyond this are corrupt PTS values.
const MAX_COMPOSITION_OFFSET: i64 = 10 * CLOCK_HZ as i64;

/// When the writer cuts fragments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentOptions {
    /// Longest fragment: bounds what a crash can lose. Fragments are also cut
    /// at every video keyframe.
    pub fragment_ms: u32,
    /// A fragment is cut once this much sample data is buffered.
    pub max_fragment_bytes: usize,
}

impl Default for FragmentOptions {
    fn default() -> Self {
        FragmentOptions {
            fragment_ms: 1000,
            max_fragment_bytes: 32 << 20,
        }
    }
}

/// One fragment (`moof` + `mdat`) that has been written and flushed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FragmentInfo {
    /// `mfhd` sequence number, from 1.
    pub sequence: u32,
    /// Byte offset of the fragment in the output.
    pub offset: u64,
    /// Bytes of the fragment (`moof` + `mdat`).
    pub bytes: u64,
    /// Video samples in it.
    pub video_samples: u32,
    /// Audio samples in it, all audio tracks together.
    pub audio_samples: u32,
    /// Earliest decode time in the fragment, seconds from the segment origin.
    pub start_seconds: f64,
    /// Longest track duration in the fragment, seconds.
    pub duration_seconds: f64,
    /// The fragment's video starts with a keyframe.
    pub starts_with_keyframe: bool,
}

/// What a segment holds so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SegmentSummary {
    /// Bytes of the init segment (`ftyp` + `moov`).
    pub init_bytes: u64,
    /// Everything written, init segment included.
    pub bytes_written: u64,
    /// Fragments written.
    pub fragments: u32,
    /// Video samples written.
    pub video_samples: u64,
    /// Audio samples written, all audio tracks together.
    pub audio_samples: u64,
    /// End of the last written sample, seconds from the segment origin.
    pub duration_seconds: f64,
    /// Source time (90 kHz) that became 0: min(first video DTS, first audio PTS).
    pub origin_90k: Option<i64>,
    /// Timestamps that jumped (backwards, duplicate, or more than 10 s ahead)
    /// and were clamped; later samples were shifted to stay monotonic.
    pub timestamp_jumps: u64,
    /// Audio gaps of more than one frame, kept as longer frame durations.
    pub audio_gaps: u64,
    /// Video composition offsets (PTS - DTS) that were implausible and zeroed.
    pub bad_composition_offsets: u64,
    /// Samples dropped: empty, oversized, or audio in another configuration.
    pub skipped_samples: u64,
}

/// A track of the writer: the video track, or an audio track by index in
/// `audio`.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Video,
    Audio(usize),
}

/// The newest sample of a track, kept until the next one gives its duration.
#[derive(Debug, Clone, Copy)]
struct HeldSample {
    position: i64,
    size: u32,
    flags: u32,
    composition_offset: i32,
}

struct Track {
    /// How the codec is described and its packets stored.
    entry: Box<dyn SampleEntry>,
    timeline: Timeline,
    run: TrackRun,
    held: Option<HeldSample>,
    /// Timeline position where the last written sample ends.
    written_end: Option<i64>,
    samples_written: u64,
}

impl Track {
    fn new(
        id: u32,
        entry: Box<dyn SampleEntry>,
        timeline: Timeline,
        with_composition_offsets: bool,
    ) -> Self {
        Track {
            entry,
            timeline,
            run: TrackRun::new(id, with_composition_offsets),
            held: None,
            written_end: None,
            samples_written: 0,
        }
    }

    fn commit_held(&mut self, duration: u32) {
        if let Some(h) = self.held.take() {
            let entry = RunEntry {
                duration,
                size: h.size,
                flags: h.flags,
                composition_offset: h.composition_offset,
            };
            self.run.commit(h.position, entry);
        }
    }

    fn origin_units(&self, origin_90k: i64) -> i64 {
        rescale_90k(origin_90k, self.timeline.timescale())
    }

    fn seconds(&self, units: u64) -> f64 {
        units as f64 / f64::from(self.timeline.timescale())
    }
}

/// Writes one fragmented MP4 segment to `W`.
///
/// Every fragment goes out with a single `write_all` followed by `flush`, so
/// the output is always the init segment plus whole fragments, plus at most
/// one partial fragment that readers ignore. One sample per track is held
/// back until the next one arrives, because MP4 needs each duration.
pub struct FragmentWriter<W: Write> {
    out: W,
    options: FragmentOptions,
    video: Option<Track>,
    /// Audio tracks with the cht track number of their packets.
    audio: Vec<(u8, Track)>,
    origin_90k: Option<i64>,
    next_sequence: u32,
    fragment: Vec<u8>,
    summary: SegmentSummary,
}

impl<W: Write> FragmentWriter<W> {
    /// Writes the init segment (`ftyp` + `moov`) at once, with the sample
    /// entry of each track's codec. Video gets track 1, the audio tracks
    /// the next ids in the order given; an audio packet goes to the track
    /// whose parameters have its [`track`](AudioPacket::track) number. A
    /// codec configuration no sample entry can describe is
    /// [`Fmp4Error::InvalidConfig`] (see [`check_video`], [`check_audio`]).
    pub fn new(
        mut out: W,
        video: Option<&VideoParams>,
        audio: &[AudioParams],
        options: FragmentOptions,
    ) -> Result<Self, Fmp4Error> {
        let video_entry = video.map(sample_entry::for_video).transpose()?;
        let audio_entries = audio
            .iter()
            .map(sample_entry::for_audio)
            .collect::<Result<Vec<_>, _>>()?;
        let video_id = 1;
        let first_audio_id = if video_entry.is_some() { 2 } else { 1 };
        let mut decls = Vec::new();
        if let Some(entry) = &video_entry {
            decls.push(TrackDecl {
                id: video_id,
                entry: entry.as_ref(),
            });
        }
        for (i, entry) in audio_entries.iter().enumerate() {
            decls.push(TrackDecl {
                id: first_audio_id + i as u32,
                entry: entry.as_ref(),
            });
        }
        if decls.is_empty() {
            return Err(Fmp4Error::NoTracks);
        }
        let mut init = Vec::new();
        write_init_segment(&mut init, &decls);
        out.write_all(&init)?;
        out.flush()?;
        let video = video_entry.map(|e| Track::new(video_id, e, Timeline::video(), true));
        let audio_tracks = audio
            .iter()
            .zip(audio_entries)
            .enumerate()
            .map(|(i, (a, e))| {
                let timeline = Timeline::audio(e.timescale(), a.frame_samples);
                (
                    a.track,
                    Track::new(first_audio_id + i as u32, e, timeline, false),
                )
            })
            .collect();
        let summary = SegmentSummary {
            init_bytes: init.len() as u64,
            bytes_written: init.len() as u64,
            ..SegmentSummary::default()
        };
        Ok(FragmentWriter {
            out,
            options,
            video,
            audio: audio_tracks,
            origin_90k: None,
            next_sequence: 1,
            fragment: Vec::new(),
            summary,
        })
    }

    /// Adds one video packet, stored as its codec's samples are (H.264:
    /// all its NAL units, length-prefixed). Returns the fragment this push
    /// completed, if any.
    pub fn push_video(&mut self, au: &VideoPacket) -> Result<Option<FragmentInfo>, Fmp4Error> {
        let Some(track) = self.video.as_ref() else {
            return Err(Fmp4Error::NoSuchTrack("video"));
        };
        if au.data.len() > MAX_SAMPLE_BYTES || !track.entry.accepts(&au.data) {
            self.summary.skipped_samples += 1;
            return Ok(None);
        }
        let (position, written) = self.advance(Slot::Video, au.dts, au.keyframe)?;
        let composition_offset = match au.pts.checked_sub(au.dts) {
            Some(cto) if cto.abs() <= MAX_COMPOSITION_OFFSET => cto as i32,
            _ => {
                self.summary.bad_composition_offsets += 1;
                0
            }
        };
        let flags = if au.keyframe {
            SAMPLE_FLAGS_SYNC
        } else {
            SAMPLE_FLAGS_NON_SYNC
        };
        if let Some(track) = self.video.as_mut() {
            let size = track.entry.append_sample(&au.data, track.run.payload_mut()) as u32;
            track.held = Some(HeldSample {
                position,
                size,
                flags,
                composition_offset,
            });
        }
        Ok(written)
    }

    /// Adds one audio packet to the audio track of its track number, in
    /// the parameters the segment was created with (a new configuration
    /// needs a new segment: the caller's job).
    pub fn push_audio(&mut self, frame: &AudioPacket) -> Result<Option<FragmentInfo>, Fmp4Error> {
        let Some(index) = self.audio.iter().position(|(n, _)| *n == frame.track) else {
            return Err(Fmp4Error::NoSuchTrack("audio"));
        };
        let track = &self.audio[index].1;
        if frame.data.len() > MAX_SAMPLE_BYTES || !track.entry.accepts(&frame.data) {
            self.summary.skipped_samples += 1;
            return Ok(None);
        }
        let (position, written) = self.advance(Slot::Audio(index), frame.pts, false)?;
        if let Some((_, track)) = self.audio.get_mut(index) {
            let size = track
                .entry
                .append_sample(&frame.data, track.run.payload_mut()) as u32;
            track.held = Some(HeldSample {
                position,
                size,
                flags: SAMPLE_FLAGS_SYNC,
                composition_offset: 0,
            });
        }
        Ok(written)
    }

    /// Places a new sample on its track's timeline, commits the sample held
    /// before it (whose duration is now known) and writes a fragment if one
    /// is due, before the new sample's bytes are buffered. Returns the new
    /// sample's position.
    fn advance(
        &mut self,
        slot: Slot,
        ts_90k: i64,
        keyframe: bool,
    ) -> Result<(i64, Option<FragmentInfo>), Fmp4Error> {
        let origin = self.origin_90k;
        let track = match slot {
            Slot::Video => self.video.as_mut(),
            Slot::Audio(i) => self.audio.get_mut(i).map(|(_, t)| t),
        };
        let Some(track) = track else {
            return Err(Fmp4Error::NoSuchTrack("video"));
        };
        let floor = origin.map(|o| track.origin_units(o));
        let placement = track.timeline.place(ts_90k, floor);
        if let Some(duration) = placement.previous_duration {
            track.commit_held(duration);
        }
        let written = if keyframe || self.fragment_is_due() {
            self.write_fragment()?
        } else {
            None
        };
        Ok((placement.position, written))
    }

    /// Writes the last fragment (its final samples get the previous sample's
    /// duration) and returns the output.
    pub fn finish(mut self) -> Result<(W, SegmentSummary), Fmp4Error> {
        for track in self.tracks_mut() {
            let duration = track.timeline.closing_duration();
            track.commit_held(duration);
        }
        self.write_fragment()?;
        let summary = self.summary();
        Ok((self.out, summary))
    }

    /// The output, e.g. to fsync a file after a fragment.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Counts and timing of what has been written so far.
    pub fn summary(&self) -> SegmentSummary {
        let mut s = self.summary.clone();
        s.origin_90k = self.origin_90k;
        for track in self.tracks() {
            s.timestamp_jumps += track.timeline.jumps;
            s.audio_gaps += track.timeline.gaps;
            if let (Some(end), Some(origin)) = (track.written_end, self.origin_90k) {
                let units = end.saturating_sub(track.origin_units(origin)).max(0) as u64;
                s.duration_seconds = s.duration_seconds.max(track.seconds(units));
            }
        }
        s.video_samples = self.video.as_ref().map_or(0, |t| t.samples_written);
        s.audio_samples = self.audio.iter().map(|(_, t)| t.samples_written).sum();
        s
    }

    /// Every track, video first.
    fn tracks(&self) -> impl Iterator<Item = &Track> {
        self.video.iter().chain(self.audio.iter().map(|(_, t)| t))
    }

    fn tracks_mut(&mut self) -> impl Iterator<Item = &mut Track> {
        self.video
            .iter_mut()
            .chain(self.audio.iter_mut().map(|(_, t)| t))
    }

    fn fragment_is_due(&self) -> bool {
        let mut buffered = 0;
        for track in self.tracks() {
            buffered += track.run.buffered_bytes();
            let millis = track.run.duration() * 1000 / u64::from(track.timeline.timescale());
            if millis >= u64::from(self.options.fragment_ms) {
                return true;
            }
        }
        buffered >= self.options.max_fragment_bytes
    }

    /// Writes the committed samples of all tracks as one fragment, if any.
    fn write_fragment(&mut self) -> Result<Option<FragmentInfo>, Fmp4Error> {
        if self.tracks().all(|t| t.run.is_empty()) {
            return Ok(None);
        }
        let origin = match self.origin_90k {
            Some(o) => o,
            None => {
                let first = self.tracks().filter_map(|t| t.timeline.first_ts_90k).min();
                let o = first.unwrap_or(0);
                self.origin_90k = Some(o);
                o
            }
        };
        let mut runs: Vec<(&TrackRun, u64)> = Vec::with_capacity(1 + self.audio.len());
        let mut start_seconds = f64::MAX;
        let mut duration_seconds = 0f64;
        let tracks = self.video.iter().chain(self.audio.iter().map(|(_, t)| t));
        for track in tracks.filter(|t| !t.run.is_empty()) {
            let base = track
                .run
                .first_position()
                .saturating_sub(track.origin_units(origin))
                .max(0) as u64;
            start_seconds = start_seconds.min(track.seconds(base));
            duration_seconds = duration_seconds.max(track.seconds(track.run.duration()));
            runs.push((&track.run, base));
        }
        // moof + mdat header, then the payloads straight from the track
        // buffers: one vectored write, no copy of the sample data.
        write_fragment(&mut self.fragment, self.next_sequence, &runs);
        let mut slices: Vec<IoSlice> = Vec::with_capacity(1 + runs.len());
        slices.push(IoSlice::new(&self.fragment));
        slices.extend(
            runs.iter()
                .map(|(run, _)| IoSlice::new(run.committed_payload())),
        );
        let fragment_bytes: usize = slices.iter().map(|s| s.len()).sum();
        write_all_vectored(&mut self.out, &mut slices)?;
        self.out.flush()?;

        let info = FragmentInfo {
            sequence: self.next_sequence,
            offset: self.summary.bytes_written,
            bytes: fragment_bytes as u64,
            video_samples: self
                .video
                .as_ref()
                .map_or(0, |t| t.run.sample_count() as u32),
            audio_samples: self
                .audio
                .iter()
                .map(|(_, t)| t.run.sample_count() as u32)
                .sum(),
            start_seconds,
            duration_seconds,
            starts_with_keyframe: self.video.as_ref().and_then(|t| t.run.first_flags())
                == Some(SAMPLE_FLAGS_SYNC),
        };
        self.next_sequence += 1;
        self.summary.fragments += 1;
        self.summary.bytes_written += info.bytes;
        for track in self.tracks_mut() {
            if !track.run.is_empty() {
                track.written_end = Some(track.run.first_position() + track.run.duration() as i64);
                track.samples_written += track.run.sample_count() as u64;
                track.run.clear_committed();
            }
        }
        Ok(Some(info))
    }
}

/// Whether a video track with these parameters can be recorded: the
/// reason when its configuration fits no sample entry.
pub fn check_video(params: &VideoParams) -> Result<(), Fmp4Error> {
    sample_entry::for_video(params).map(|_| ())
}

/// Whether an audio track with these parameters can be recorded: the
/// reason when its configuration fits no sample entry.
pub fn check_audio(params: &AudioParams) -> Result<(), Fmp4Error> {
    sample_entry::for_audio(params).map(|_| ())
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;

/// `Write::write_all_vectored` is not stable yet: the same loop.
fn write_all_vectored<W: Write>(
    out: &mut W,
    mut slices: &mut [IoSlice<'_>],
) -> std::io::Result<()> {
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match out.write_vectored(slices) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
