//! One fMP4 segment fed from demuxed items.

use crate::RecordError;
use cht_core::{AudioParams, DemuxItem, VideoParams, CLOCK_HZ};
use cht_fmp4::{FragmentOptions, FragmentWriter, SegmentSummary};
use serde::Serialize;
use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Without audio after this much video, the segment starts video-only.
const AUDIO_WAIT: i64 = CLOCK_HZ as i64;
/// Without video after this much audio, the segment starts audio-only.
const VIDEO_WAIT: i64 = 2 * CLOCK_HZ as i64;
/// Audio this far before the first keyframe belongs to no picture: dropped.
const AUDIO_LEAD: i64 = CLOCK_HZ as i64;
/// Bound on what is held while waiting for a segment to start.
const MAX_PENDING_BYTES: usize = 64 << 20;

#[derive(Debug, Clone, Copy)]
pub struct SegmentOptions {
    /// Longest fragment: the most a crash can lose.
    pub fragment_ms: u32,
    /// fsync the file after every fragment.
    pub fsync: bool,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        SegmentOptions {
            fragment_ms: 1000,
            fsync: false,
        }
    }
}

/// What happened to the items of one segment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SegmentStats {
    /// Video access units before the first keyframe (undecodable).
    pub dropped_before_keyframe: u64,
    /// Audio frames from long before the first picture, or past the bound.
    pub dropped_early_audio: u64,
    /// Frames whose configuration differs from the segment's tracks.
    pub dropped_mismatched: u64,
    /// Video configuration changes inside the segment (kept in-band).
    pub video_config_changes: u64,
    /// Samples lost to a write error.
    pub dropped_after_error: u64,
}

impl std::fmt::Display for SegmentStats {
    /// The counters that are not zero, in words ("nothing dropped" when
    /// all are).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = [
            (
                self.dropped_before_keyframe,
                "video packets before the first keyframe dropped",
            ),
            (self.dropped_early_audio, "early audio frames dropped"),
            (
                self.dropped_mismatched,
                "packets in another configuration dropped",
            ),
            (
                self.video_config_changes,
                "video parameter changes kept in band",
            ),
            (self.dropped_after_error, "packets lost after a write error"),
        ];
        let said: Vec<String> = parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        if said.is_empty() {
            f.write_str("nothing dropped")
        } else {
            f.write_str(&said.join(", "))
        }
    }
}

/// Pushes items in arrival order into `recording_NNN.mp4`; the file is
/// created only once there is something playable to put in it.
pub struct SegmentRecorder {
    path: PathBuf,
    opts: SegmentOptions,
    video: Option<VideoParams>,
    /// The audio parameters of the segment: the first announced.
    audio: Option<AudioParams>,
    /// The audio parameters the packets being written belong to.
    latest_audio: Option<AudioParams>,
    pending: VecDeque<DemuxItem>,
    pending_bytes: usize,
    /// Packets among the pending items (the rest are parameters).
    pending_packets: usize,
    first_key: Option<(i64, i64)>,
    writer: Option<FragmentWriter<File>>,
    /// Tracks of the file, fixed when it starts.
    tracks: (bool, bool),
    failed: bool,
    stats: SegmentStats,
}

impl SegmentRecorder {
    pub fn new(path: impl Into<PathBuf>, opts: SegmentOptions) -> Self {
        SegmentRecorder {
            path: path.into(),
            opts,
            video: None,
            audio: None,
            latest_audio: None,
            pending: VecDeque::new(),
            pending_bytes: 0,
            pending_packets: 0,
            first_key: None,
            writer: None,
            tracks: (false, false),
            failed: false,
            stats: SegmentStats::default(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file exists and holds at least the init segment.
    pub fn is_started(&self) -> bool {
        self.writer.is_some()
    }

    pub fn stats(&self) -> &SegmentStats {
        &self.stats
    }

    pub fn summary(&self) -> Option<SegmentSummary> {
        self.writer.as_ref().map(|w| w.summary())
    }

    pub fn push(&mut self, item: &DemuxItem) -> Result<(), RecordError> {
        if self.failed {
            self.stats.dropped_after_error +=
                matches!(item, DemuxItem::Video(_) | DemuxItem::Audio(_)) as u64;
            return Ok(());
        }
        match item {
            DemuxItem::VideoParams(cfg) => self.on_video_config(cfg),
            DemuxItem::AudioParams(cfg) => {
                if self.audio.is_none() {
                    self.audio = Some(cfg.clone());
                }
                // Applied in order with the packets (held ones included).
                if self.writer.is_none() {
                    self.hold(item.clone());
                } else {
                    self.latest_audio = Some(cfg.clone());
                }
            }
            DemuxItem::Video(au) if self.writer.is_none() => {
                if self.first_key.is_none() {
                    if !au.keyframe || self.video.is_none() {
                        self.stats.dropped_before_keyframe += 1;
                        return Ok(());
                    }
                    self.first_key = Some((au.pts, au.dts));
                }
                self.hold(item.clone());
            }
            DemuxItem::Audio(_) if self.writer.is_none() => self.hold(item.clone()),
            DemuxItem::Video(_) | DemuxItem::Audio(_) => return self.write(item),
            _ => {}
        }
        self.try_start(false)
    }

    /// Ends the segment: whatever is held is written if it is playable.
    pub fn finish(mut self) -> Result<Option<(SegmentSummary, SegmentStats)>, RecordError> {
        self.try_start(true)?;
        let stats = self.stats.clone();
        match self.writer.take() {
            Some(w) => {
                let (file, summary) = w.finish().map_err(|source| self.mp4_err(source))?;
                if self.opts.fsync {
                    file.sync_all().map_err(|source| RecordError::Io {
                        path: self.path.clone(),
                        source,
                    })?;
                }
                Ok(Some((summary, stats)))
            }
            None => Ok(None),
        }
    }

    fn on_video_config(&mut self, cfg: &VideoParams) {
        match &self.video {
            None => self.video = Some(cfg.clone()),
            Some(old) if self.writer.is_some() && old.extra_data != cfg.extra_data => {
                self.stats.video_config_changes += 1;
                tracing::warn!(
                    "{}: H.264 parameters changed mid-segment ({}x{} -> {}x{}); kept in-band",
                    self.path.display(),
                    old.width,
                    old.height,
                    cfg.width,
                    cfg.height
                );
                self.video = Some(cfg.clone());
            }
            Some(_) if self.writer.is_none() && self.first_key.is_none() => {
                self.video = Some(cfg.clone())
            }
            Some(_) => {}
        }
    }

    fn hold(&mut self, item: DemuxItem) {
        self.pending_bytes += item.media_len();
        self.pending_packets += usize::from(is_packet(&item));
        self.pending.push_back(item);
        // Audio with no picture yet: keep only a short window.
        while self.first_key.is_none() && self.audio_span() > VIDEO_WAIT + AUDIO_LEAD {
            self.drop_front();
        }
        while self.pending_bytes > MAX_PENDING_BYTES {
            self.drop_front();
        }
    }

    fn drop_front(&mut self) {
        if let Some(old) = self.pending.pop_front() {
            self.pending_bytes -= old.media_len();
            self.pending_packets -= usize::from(is_packet(&old));
            match old {
                DemuxItem::Video(_) => self.stats.dropped_before_keyframe += 1,
                DemuxItem::Audio(_) => self.stats.dropped_early_audio += 1,
                // Parameters still apply to the packets after them.
                DemuxItem::AudioParams(p) => self.latest_audio = Some(p),
                _ => {}
            }
        }
    }

    fn audio_span(&self) -> i64 {
        let mut pts = self.pending.iter().filter_map(|i| match i {
            DemuxItem::Audio(f) => Some(f.pts),
            _ => None,
        });
        match (pts.next(), pts.last()) {
            (Some(a), Some(b)) => b - a,
            _ => 0,
        }
    }

    fn video_span(&self) -> i64 {
        let last = self.pending.iter().rev().find_map(|i| match i {
            DemuxItem::Video(au) => Some(au.dts),
            _ => None,
        });
        match (self.first_key, last) {
            (Some((_, first)), Some(last)) => last - first,
            _ => 0,
        }
    }

    fn try_start(&mut self, at_end: bool) -> Result<(), RecordError> {
        if self.writer.is_some() || self.failed || self.pending_packets == 0 {
            return Ok(());
        }
        let has_picture = self.first_key.is_some() && self.video.is_some();
        let ready = if has_picture {
            self.audio.is_some() || at_end || self.video_span() >= AUDIO_WAIT
        } else {
            self.audio.is_some() && (at_end || self.audio_span() >= VIDEO_WAIT)
        };
        if !ready {
            return Ok(());
        }
        let video = if has_picture {
            self.video.clone()
        } else {
            None
        };
        let opts = FragmentOptions {
            fragment_ms: self.opts.fragment_ms,
            ..FragmentOptions::default()
        };
        self.tracks = (video.is_some(), self.audio.is_some());
        let file = File::create(&self.path).map_err(|source| RecordError::Io {
            path: self.path.clone(),
            source,
        })?;
        let writer = FragmentWriter::new(file, video.as_ref(), self.audio.as_ref(), opts);
        self.writer = Some(writer.map_err(|source| self.mp4_err(source))?);
        tracing::info!("recording {}", self.path.display());
        let earliest_audio = self.first_key.map(|(pts, _)| pts - AUDIO_LEAD);
        for item in std::mem::take(&mut self.pending) {
            match (&item, earliest_audio) {
                (DemuxItem::Audio(f), Some(min)) if f.pts < min => {
                    self.stats.dropped_early_audio += 1
                }
                _ => self.write(&item)?,
            }
        }
        self.pending_bytes = 0;
        self.pending_packets = 0;
        Ok(())
    }

    fn write(&mut self, item: &DemuxItem) -> Result<(), RecordError> {
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        let (has_video, has_audio) = self.tracks;
        let result = match item {
            DemuxItem::Video(au) if has_video => writer.push_video(au),
            DemuxItem::AudioParams(p) => {
                self.latest_audio = Some(p.clone());
                return Ok(());
            }
            DemuxItem::Audio(f) if has_audio && self.latest_audio == self.audio => {
                writer.push_audio(f)
            }
            DemuxItem::Video(_) | DemuxItem::Audio(_) => {
                self.stats.dropped_mismatched += 1;
                return Ok(());
            }
            _ => return Ok(()),
        };
        match result {
            Ok(Some(_fragment)) if self.opts.fsync => {
                writer
                    .get_ref()
                    .sync_data()
                    .map_err(|source| RecordError::Io {
                        path: self.path.clone(),
                        source,
                    })
            }
            Ok(_) => Ok(()),
            Err(source) => {
                self.failed = true;
                Err(self.mp4_err(source))
            }
        }
    }

    fn mp4_err(&self, source: cht_fmp4::Fmp4Error) -> RecordError {
        RecordError::Mp4 {
            path: self.path.clone(),
            source,
        }
    }
}

fn is_packet(item: &DemuxItem) -> bool {
    matches!(item, DemuxItem::Video(_) | DemuxItem::Audio(_))
}
