//! One fMP4 segment fed from demuxed items.

use crate::RecordError;
use cht_core::{
    AnnouncedAudio, AudioParams, DemuxItem, Gated, SegmentGate, SegmentStart, VideoParams,
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

/// A segment file, complete.
#[derive(Debug, Clone)]
pub struct FinishedSegment {
    /// What the file holds.
    pub summary: SegmentSummary,
    /// What was dropped on the way.
    pub stats: SegmentStats,
}

/// Pushes items in arrival order into `recording_NNN.mp4`; the file is
/// created only once there is something playable to put in it: the
/// [`SegmentGate`] decides when the segment starts and with which tracks.
pub struct SegmentRecorder {
    gate: SegmentGate,
    out: SegmentFile,
}

/// The file side of a segment: everything after the gate.
struct SegmentFile {
    path: PathBuf,
    opts: SegmentOptions,
    /// The video parameters in force (changes are counted and kept in band).
    video: Option<VideoParams>,
    /// The parameters of the segment's audio tracks, fixed when it starts.
    audio: Vec<AudioParams>,
    /// The audio parameters the packets being written belong to, by track.
    latest_audio: Vec<AudioParams>,
    writer: Option<FragmentWriter<File>>,
    /// The file has a video track, fixed when it starts.
    has_video: bool,
    /// Audio tracks whose packets are not recorded (named once).
    unrecorded_audio: Vec<u8>,
    /// The audio tracks the source announced.
    announced_audio: Vec<AnnouncedAudio>,
    /// What could not be recorded, for the caller to name once.
    notices: Vec<String>,
    failed: bool,
    stats: SegmentStats,
}

impl SegmentRecorder {
    /// A segment to be written at `path`.
    pub fn new(path: impl Into<PathBuf>, opts: SegmentOptions) -> Self {
        SegmentRecorder {
            gate: SegmentGate::new(),
            out: SegmentFile {
                path: path.into(),
                opts,
                video: None,
                audio: Vec::new(),
                latest_audio: Vec::new(),
                writer: None,
                has_video: false,
                unrecorded_audio: Vec::new(),
                announced_audio: Vec::new(),
                notices: Vec::new(),
                failed: false,
                stats: SegmentStats::default(),
            },
        }
    }

    /// Where the segment is written.
    pub fn path(&self) -> &Path {
        &self.out.path
    }

    /// The file exists and holds at least the init segment.
    pub fn is_started(&self) -> bool {
        self.out.writer.is_some()
    }

    /// What happened to the items so far.
    pub fn stats(&self) -> SegmentStats {
        let gate = self.gate.stats();
        SegmentStats {
            dropped_before_keyframe: gate.dropped_before_keyframe,
            dropped_early_audio: gate.dropped_early_audio,
            ..self.out.stats.clone()
        }
    }

    /// Sentences naming what arrived but cannot be in this segment (a
    /// codec configuration no MP4 sample entry describes, an audio track
    /// that began after the segment started), each once, since the last
    /// call: for the caller to log and report.
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.out.notices)
    }

    /// What the file holds so far.
    pub fn summary(&self) -> Option<SegmentSummary> {
        self.out.writer.as_ref().map(|w| w.summary())
    }

    /// Takes the next item. `Err` when the file cannot be written; the rest
    /// of the segment is then counted as lost.
    pub fn push(&mut self, item: &DemuxItem) -> Result<(), RecordError> {
        if self.out.failed {
            self.out.stats.dropped_after_error += u64::from(is_packet(item));
            return Ok(());
        }
        if let DemuxItem::Tracks(list) = item {
            self.out.announced_audio = list.audio.clone();
        }
        let out = &mut self.out;
        let mut result = Ok(());
        self.gate.push(item, &mut |gated| {
            if result.is_ok() {
                result = out.take(gated);
            }
        });
        result
    }

    /// Ends the segment: whatever is held is written if it is playable.
    /// `None` when nothing playable arrived (and no file was created).
    pub fn finish(mut self) -> Result<Option<FinishedSegment>, RecordError> {
        let out = &mut self.out;
        let mut result = Ok(());
        if !out.failed {
            self.gate.finish(&mut |gated| {
                if result.is_ok() {
                    result = out.take(gated);
                }
            });
        }
        result?;
        let stats = self.stats();
        let out = &mut self.out;
        match out.writer.take() {
            Some(w) => {
                let (file, summary) = w.finish().map_err(|source| out.mp4_err(source))?;
                if out.opts.fsync {
                    file.sync_all().map_err(|source| RecordError::Io {
                        path: out.path.clone(),
                        source,
                    })?;
                }
                Ok(Some(FinishedSegment { summary, stats }))
            }
            None => Ok(None),
        }
    }
}

impl SegmentFile {
    fn take(&mut self, gated: Gated<'_>) -> Result<(), RecordError> {
        match gated {
            Gated::Start(start) => self.start(start),
            Gated::Item(item) => self.write(item),
        }
    }

    fn start(&mut self, start: &SegmentStart) -> Result<(), RecordError> {
        let opts = FragmentOptions {
            fragment_ms: self.opts.fragment_ms,
            ..FragmentOptions::default()
        };
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
        self.unrecorded_audio = start
            .audio
            .iter()
            .map(|a| a.track)
            .filter(|t| !audio.iter().any(|a| a.track == *t))
            .collect();
        self.name_silent_tracks(start);
        if video.is_none() && audio.is_empty() {
            return Ok(());
        }
        self.has_video = video.is_some();
        self.video = video;
        self.latest_audio = audio.clone();
        self.audio = audio;
        let file = match File::create(&self.path) {
            Ok(file) => file,
            Err(source) => {
                self.failed = true;
                return Err(RecordError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let writer = FragmentWriter::new(file, self.video.as_ref(), &self.audio, opts);
        match writer {
            Ok(w) => self.writer = Some(w),
            Err(source) => {
                self.failed = true;
                return Err(self.mp4_err(source));
            }
        }
        tracing::info!("recording {}", self.path.display());
        Ok(())
    }

    /// Names the announced audio tracks that gave no parameters before the
    /// segment started (framing or a configuration the demuxer cannot
    /// read, or audio that began late): without a word they would be
    /// missing from the file.
    fn name_silent_tracks(&mut self, start: &SegmentStart) {
        let silent: Vec<AnnouncedAudio> = self
            .announced_audio
            .iter()
            .filter(|a| !start.audio.iter().any(|p| p.track == a.track))
            .copied()
            .collect();
        for a in silent {
            let codec = a
                .codec
                .map_or_else(|| "audio".to_string(), |c| c.to_string());
            self.unrecorded_audio.push(a.track);
            self.notices.push(format!(
                "audio track {} ({codec}) gave no frame cht could read before the segment \
                 started, so it is not in {} (its framing or configuration is one cht cannot \
                 read, e.g. LATM with several programs, or it began late); to record it, have \
                 the sender encode AAC (`-c:a aac`) from the start",
                a.track,
                self.path.display()
            ));
        }
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

    /// An audio packet can go in the file: its track is one of the
    /// segment's, in the configuration the track was created with.
    fn audio_fits(&mut self, packet: &cht_core::AudioPacket) -> bool {
        let track = packet.track;
        let segment = self.audio.iter().find(|a| a.track == track);
        let latest = self.latest_audio.iter().find(|a| a.track == track);
        match (segment, latest) {
            (Some(segment), Some(latest)) => segment == latest,
            _ => {
                if !self.unrecorded_audio.contains(&track) {
                    self.unrecorded_audio.push(track);
                    self.notices.push(format!(
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

    fn on_video_params(&mut self, params: &VideoParams) {
        match &self.video {
            Some(old) if old.extra_data != params.extra_data => {
                self.stats.video_config_changes += 1;
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

    fn write(&mut self, item: &DemuxItem) -> Result<(), RecordError> {
        if self.failed {
            self.stats.dropped_after_error += u64::from(is_packet(item));
            return Ok(());
        }
        if self.writer.is_none() {
            return Ok(());
        }
        let audio_fits = match item {
            DemuxItem::Audio(f) => self.audio_fits(f),
            _ => false,
        };
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        let result = match item {
            DemuxItem::VideoParams(p) => {
                self.on_video_params(p);
                return Ok(());
            }
            DemuxItem::AudioParams(p) => {
                self.on_audio_params(p);
                return Ok(());
            }
            DemuxItem::Video(au) if self.has_video => writer.push_video(au),
            DemuxItem::Audio(f) if audio_fits => writer.push_audio(f),
            DemuxItem::Video(_) | DemuxItem::Audio(_) => {
                self.stats.dropped_mismatched += 1;
                return Ok(());
            }
            DemuxItem::Discontinuity(_) | DemuxItem::Tracks(_) => return Ok(()),
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
