//! The fMP4 segments of one connection fed from demuxed items.

use crate::RecordError;
use cht_core::{
    AnnouncedAudio, AudioPacket, AudioParams, DemuxItem, Gated, SegmentGate, SegmentStart,
    VideoParams,
};
use cht_fmp4::{FragmentOptions, FragmentWriter, SegmentSummary};
use serde::Serialize;
use std::fs::File;
use std::path::{Path, PathBuf};

/// How a segment is written.
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

/// What happened to the items of a connection's segments.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SegmentStats {
    /// Video access units before the first keyframe (undecodable).
    pub dropped_before_keyframe: u64,
    /// Audio frames past the bound on what is held before a start.
    pub dropped_early_audio: u64,
    /// Packets of a track the segment does not have (kept for the next
    /// segment by the gate, so this stays 0 unless the input is odd).
    pub dropped_mismatched: u64,
    /// Video configuration changes inside the segment (kept in-band).
    pub video_config_changes: u64,
    /// Timestamp jumps stitched into the segment's timeline.
    pub timestamp_jumps: u64,
    /// Segments the connection went on in because its media no longer fit
    /// the tracks (a new audio configuration, a track that came late).
    pub segment_breaks: u64,
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
                "packets of a track the segment lacks dropped",
            ),
            (
                self.video_config_changes,
                "video parameter changes kept in band",
            ),
            (
                self.timestamp_jumps,
                "timestamp jumps stitched into one timeline",
            ),
            (
                self.segment_breaks,
                "new segments for media the tracks could not hold",
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

/// A segment file, complete.
#[derive(Debug, Clone)]
pub struct FinishedSegment {
    /// Its place among the connection's segments (0: the first).
    pub part: u32,
    /// The file.
    pub path: PathBuf,
    /// What the file holds.
    pub summary: SegmentSummary,
    /// What was dropped on the way (over the connection so far).
    pub stats: SegmentStats,
}

/// What happened to the segment files, for the caller to report.
#[derive(Debug, Clone)]
pub enum SegmentEvent {
    /// A segment file was created (it holds the init segment).
    Started {
        /// Its place among the connection's segments.
        part: u32,
        /// The file.
        path: PathBuf,
    },
    /// A segment file is complete.
    Finished(FinishedSegment),
}

/// Where each segment of a connection goes: part number -> file.
pub type SegmentPaths = Box<dyn Fn(u32) -> PathBuf + Send>;

/// Pushes a connection's items in arrival order into its segment files:
/// the [`SegmentGate`] decides when each segment starts, with which tracks,
/// and when the connection goes on in the next one; a file is created only
/// once there is something playable to put in it.
///
/// A failed write (a full disk) truncates the file back to its last
/// complete fragment, so it stays playable and no fragment is ever written
/// twice; the rest of the connection is then counted as lost
/// ([`SegmentStats::dropped_after_error`]).
pub struct SegmentRecorder {
    gate: SegmentGate,
    paths: SegmentPaths,
    opts: SegmentOptions,
    /// The segment being written.
    file: Option<SegmentFile>,
    events: Vec<SegmentEvent>,
    /// The audio tracks the source announced.
    announced_audio: Vec<AnnouncedAudio>,
    /// What could not be recorded, for the caller to name once.
    notices: Vec<String>,
    failed: bool,
    stats: SegmentStats,
}

/// One segment file: everything after the gate.
struct SegmentFile {
    part: u32,
    path: PathBuf,
    opts: SegmentOptions,
    /// The video parameters in force (changes are counted and kept in band).
    video: Option<VideoParams>,
    /// The parameters of the segment's audio tracks, fixed when it starts.
    audio: Vec<AudioParams>,
    /// The audio parameters the packets being written belong to, by track.
    latest_audio: Vec<AudioParams>,
    /// Audio tracks whose packets are not recorded (named once).
    unrecorded_audio: Vec<u8>,
    writer: FragmentWriter<File>,
}

impl SegmentRecorder {
    /// A connection recorded into the single file `path` (a second segment,
    /// if the media needs one, goes next to it as `NAME_001.mp4`...).
    pub fn new(path: impl Into<PathBuf>, opts: SegmentOptions) -> Self {
        let path: PathBuf = path.into();
        Self::with_paths(Box::new(move |part| numbered(&path, part)), opts)
    }

    /// A connection whose segment `part` goes to `paths(part)`.
    pub fn with_paths(paths: SegmentPaths, opts: SegmentOptions) -> Self {
        SegmentRecorder {
            gate: SegmentGate::new(),
            paths,
            opts,
            file: None,
            events: Vec::new(),
            announced_audio: Vec::new(),
            notices: Vec::new(),
            failed: false,
            stats: SegmentStats::default(),
        }
    }

    /// Where the segment being written (or the first one) goes.
    pub fn path(&self) -> PathBuf {
        match &self.file {
            Some(f) => f.path.clone(),
            None => (self.paths)(0),
        }
    }

    /// A segment file is being written.
    pub fn is_started(&self) -> bool {
        self.file.is_some()
    }

    /// A write failed: nothing more is written for this connection.
    pub fn has_failed(&self) -> bool {
        self.failed
    }

    /// What happened to the items so far.
    pub fn stats(&self) -> SegmentStats {
        let gate = self.gate.stats();
        SegmentStats {
            dropped_before_keyframe: gate.dropped_before_keyframe,
            dropped_early_audio: gate.dropped_early_audio,
            timestamp_jumps: gate.timestamp_jumps,
            segment_breaks: gate.segment_breaks,
            ..self.stats.clone()
        }
    }

    /// Sentences naming what arrived but cannot be in the segment being
    /// written (a codec configuration no MP4 sample entry describes, an
    /// announced audio track that gave no readable frame), each once, since
    /// the last call: for the caller to log and report.
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// What the file being written holds so far.
    pub fn summary(&self) -> Option<SegmentSummary> {
        self.file.as_ref().map(|f| f.writer.summary())
    }

    /// Segment files started and finished since the last call.
    pub fn take_events(&mut self) -> Vec<SegmentEvent> {
        std::mem::take(&mut self.events)
    }

    /// Takes the next item. `Err` when a segment file cannot be written;
    /// the file is then truncated to its last complete fragment and the
    /// rest of the connection is counted as lost.
    pub fn push(&mut self, item: &DemuxItem) -> Result<(), RecordError> {
        if self.failed {
            self.stats.dropped_after_error += u64::from(is_packet(item));
            return Ok(());
        }
        if let DemuxItem::Tracks(list) = item {
            self.announced_audio = list.audio.clone();
        }
        let mut gate = std::mem::take(&mut self.gate);
        let mut result = Ok(());
        gate.push(item, &mut |gated| {
            if result.is_ok() {
                result = self.take(gated);
            } else {
                self.stats.dropped_after_error += u64::from(matches!(
                    gated,
                    Gated::Item(DemuxItem::Video(_) | DemuxItem::Audio(_))
                ));
            }
        });
        self.gate = gate;
        result
    }

    /// Ends the connection: whatever is held is written if it is playable,
    /// and the last segment file is completed; returns it (`None` when no
    /// file was being written: nothing playable arrived, or a write failed).
    /// Earlier segments are reported by [`take_events`](Self::take_events)
    /// or [`finish_all`](Self::finish_all).
    pub fn finish(self) -> Result<Option<FinishedSegment>, RecordError> {
        let (events, result) = self.finish_all();
        result?;
        Ok(events.into_iter().rev().find_map(|e| match e {
            SegmentEvent::Finished(done) => Some(done),
            SegmentEvent::Started { .. } => None,
        }))
    }

    /// Ends the connection like [`finish`](Self::finish) and returns every
    /// segment event not taken yet, the last file's `Finished` included.
    pub fn finish_all(mut self) -> (Vec<SegmentEvent>, Result<(), RecordError>) {
        let mut events = self.take_events();
        let result = self.finish_inner(&mut events);
        (events, result)
    }

    fn finish_inner(mut self, events: &mut Vec<SegmentEvent>) -> Result<(), RecordError> {
        if !self.failed {
            let mut gate = std::mem::take(&mut self.gate);
            let mut result = Ok(());
            gate.finish(&mut |gated| {
                if result.is_ok() {
                    result = self.take(gated);
                }
            });
            self.gate = gate;
            events.append(&mut self.events);
            result?;
        }
        let last = self.close();
        events.append(&mut self.events);
        if let Some(done) = last? {
            events.push(SegmentEvent::Finished(done));
        }
        Ok(())
    }

    fn take(&mut self, gated: Gated<'_>) -> Result<(), RecordError> {
        match gated {
            Gated::Start(start) => self.start(start),
            Gated::End => {
                if let Some(done) = self.close()? {
                    self.events.push(SegmentEvent::Finished(done));
                }
                Ok(())
            }
            Gated::Item(item) => self.write(item),
        }
    }

    fn start(&mut self, start: &SegmentStart) -> Result<(), RecordError> {
        let path = (self.paths)(start.part);
        let video = start.video.clone().filter(|v| {
            self.refuse(cht_fmp4::check_video(v).err().map(|e| {
                format!(
                    "{} video ({}x{}) is not recorded: {e}",
                    v.codec, v.width, v.height
                )
            }))
        });
        let audio: Vec<AudioParams> =
            start
                .audio
                .iter()
                .filter(|a| {
                    self.refuse(cht_fmp4::check_audio(a).err().map(|e| {
                        format!("audio track {} ({}) is not recorded: {e}", a.track, a.codec)
                    }))
                })
                .cloned()
                .collect();
        let mut unrecorded: Vec<u8> = start
            .audio
            .iter()
            .map(|a| a.track)
            .filter(|t| !audio.iter().any(|a| a.track == *t))
            .collect();
        unrecorded.extend(self.name_silent_tracks(start, &path));
        if video.is_none() && audio.is_empty() {
            return Ok(());
        }
        match SegmentFile::create(path.clone(), start.part, video, audio, self.opts) {
            Ok(mut file) => {
                file.unrecorded_audio = unrecorded;
                tracing::info!("recording {}", path.display());
                self.events.push(SegmentEvent::Started {
                    part: start.part,
                    path,
                });
                self.file = Some(file);
                Ok(())
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    fn write(&mut self, item: &DemuxItem) -> Result<(), RecordError> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        match file.write(item, &mut self.stats, &mut self.notices) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.failed = true;
                self.stats.dropped_after_error += u64::from(is_packet(item));
                // The file keeps its whole fragments: playable, reported.
                if let Some(file) = self.file.take() {
                    let summary = file.abandon();
                    self.events.push(SegmentEvent::Finished(FinishedSegment {
                        part: file.part,
                        path: file.path,
                        summary,
                        stats: self.stats(),
                    }));
                }
                Err(e)
            }
        }
    }

    /// Names the announced audio tracks that gave no parameters before the
    /// segment started (framing or a configuration the demuxer cannot
    /// read): without a word they would be missing from the file. Returns
    /// their track numbers.
    fn name_silent_tracks(&mut self, start: &SegmentStart, path: &Path) -> Vec<u8> {
        let silent: Vec<AnnouncedAudio> = self
            .announced_audio
            .iter()
            .filter(|a| !start.audio.iter().any(|p| p.track == a.track))
            .copied()
            .collect();
        for a in &silent {
            let codec = a
                .codec
                .map_or_else(|| "audio".to_string(), |c| c.to_string());
            self.notices.push(format!(
                "audio track {} ({codec}) gave no frame cht could read before the segment \
                 started, so it is not in {} (its framing or configuration is one cht cannot \
                 read, e.g. LATM with several programs, or it began late); to record it, have \
                 the sender encode AAC (`-c:a aac`) from the start",
                a.track,
                path.display()
            ));
        }
        silent.iter().map(|a| a.track).collect()
    }

    /// Notes `why` a track is not recorded; true when it is recorded.
    fn refuse(&mut self, why: Option<String>) -> bool {
        match why {
            Some(why) => {
                self.notices.push(why);
                false
            }
            None => true,
        }
    }

    /// Completes the file being written, if any.
    fn close(&mut self) -> Result<Option<FinishedSegment>, RecordError> {
        let Some(file) = self.file.take() else {
            return Ok(None);
        };
        let (part, path) = (file.part, file.path.clone());
        let summary = file.finish()?;
        Ok(Some(FinishedSegment {
            part,
            path,
            summary,
            stats: self.stats(),
        }))
    }
}

/// `NAME.mp4` for part 0, `NAME_001.mp4` after it.
fn numbered(path: &Path, part: u32) -> PathBuf {
    if part == 0 {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    path.with_file_name(format!("{stem}_{part:03}{ext}"))
}

impl SegmentFile {
    fn create(
        path: PathBuf,
        part: u32,
        video: Option<VideoParams>,
        audio: Vec<AudioParams>,
        opts: SegmentOptions,
    ) -> Result<Self, RecordError> {
        let fragment = FragmentOptions {
            fragment_ms: opts.fragment_ms,
            ..FragmentOptions::default()
        };
        let file = File::create(&path).map_err(|source| RecordError::Io {
            path: path.clone(),
            source,
        })?;
        let writer = FragmentWriter::new(file, video.as_ref(), &audio, fragment);
        match writer {
            Ok(writer) => Ok(SegmentFile {
                part,
                path,
                opts,
                video,
                latest_audio: audio.clone(),
                audio,
                unrecorded_audio: Vec::new(),
                writer,
            }),
            Err(source) => {
                // Not even the init segment fits: no file is left behind.
                let _ = std::fs::remove_file(&path);
                Err(RecordError::Mp4 { path, source })
            }
        }
    }

    /// An audio packet can go in the file: its track is one of the
    /// segment's, in the configuration the track was created with.
    fn audio_fits(&mut self, packet: &AudioPacket, notices: &mut Vec<String>) -> bool {
        let track = packet.track;
        let segment = self.audio.iter().find(|a| a.track == track);
        let latest = self.latest_audio.iter().find(|a| a.track == track);
        match (segment, latest) {
            (Some(segment), Some(latest)) => segment == latest,
            _ => {
                if !self.unrecorded_audio.contains(&track) {
                    self.unrecorded_audio.push(track);
                    notices.push(format!(
                        "audio track {track} began after this segment started: it is not in {}",
                        self.path.display()
                    ));
                }
                false
            }
        }
    }

    fn on_audio_params(&mut self, params: &AudioParams) {
        match self
            .latest_audio
            .iter_mut()
            .find(|a| a.track == params.track)
        {
            Some(latest) => *latest = params.clone(),
            None => self.latest_audio.push(params.clone()),
        }
    }

    fn on_video_params(&mut self, params: &VideoParams, stats: &mut SegmentStats) {
        match &self.video {
            Some(old) if old.extra_data != params.extra_data => {
                stats.video_config_changes += 1;
                tracing::warn!(
                    "{}: {} parameters changed mid-segment ({}x{} -> {}x{}); kept in-band",
                    self.path.display(),
                    params.codec,
                    old.width,
                    old.height,
                    params.width,
                    params.height
                );
                self.video = Some(params.clone());
            }
            _ => {}
        }
    }

    fn write(
        &mut self,
        item: &DemuxItem,
        stats: &mut SegmentStats,
        notices: &mut Vec<String>,
    ) -> Result<(), RecordError> {
        let result = match item {
            DemuxItem::VideoParams(p) => {
                self.on_video_params(p, stats);
                return Ok(());
            }
            DemuxItem::AudioParams(p) => {
                self.on_audio_params(p);
                return Ok(());
            }
            DemuxItem::Video(au) if self.video.is_some() => self.writer.push_video(au),
            DemuxItem::Audio(f) if self.audio_fits(f, notices) => self.writer.push_audio(f),
            DemuxItem::Video(_) | DemuxItem::Audio(_) => {
                stats.dropped_mismatched += 1;
                return Ok(());
            }
            DemuxItem::Discontinuity(_) | DemuxItem::Tracks(_) => return Ok(()),
        };
        match result {
            Ok(Some(_fragment)) if self.opts.fsync => {
                self.writer
                    .get_ref()
                    .sync_data()
                    .map_err(|source| RecordError::Io {
                        path: self.path.clone(),
                        source,
                    })
            }
            Ok(_) => Ok(()),
            Err(source) => Err(RecordError::Mp4 {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Writes the last fragment and closes the file.
    fn finish(self) -> Result<SegmentSummary, RecordError> {
        let path = self.path;
        let (file, summary) = self.writer.finish().map_err(|source| RecordError::Mp4 {
            path: path.clone(),
            source,
        })?;
        if self.opts.fsync {
            file.sync_all()
                .map_err(|source| RecordError::Io { path, source })?;
        }
        Ok(summary)
    }

    /// After a failed write: the file is cut back to its last complete
    /// fragment (the fragment that failed is never written again) and
    /// closed; returns what it holds.
    fn abandon(&self) -> SegmentSummary {
        let summary = self.writer.summary();
        if let Err(e) = self.writer.get_ref().set_len(summary.bytes_written) {
            tracing::error!(
                "{}: cannot cut the failed fragment off: {e}",
                self.path.display()
            );
        }
        summary
    }
}

fn is_packet(item: &DemuxItem) -> bool {
    matches!(item, DemuxItem::Video(_) | DemuxItem::Audio(_))
}
