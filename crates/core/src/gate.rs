//! When one segment starts, and its clock: the [`StartGate`] the
//! connection-wide [`SegmentGate`](crate::SegmentGate) runs for each of its
//! segments.

use std::collections::VecDeque;

use crate::item::{DemuxItem, TrackList};
use crate::params::{AudioParams, VideoParams};
use crate::CLOCK_HZ;

/// Without the parameters of every announced audio track after this much
/// video (90 kHz), the segment starts with the audio tracks it has (or
/// video-only).
pub const AUDIO_WAIT: i64 = CLOCK_HZ as i64;
/// Without a keyframe after this much audio, the segment starts audio-only
/// (video that comes later starts the next segment, at its first
/// keyframe). The audio before a keyframe that comes within this wait is
/// kept, in the same segment.
pub const VIDEO_WAIT: i64 = 10 * CLOCK_HZ as i64;
/// Bound on what is held while waiting for a segment to start.
pub const MAX_PENDING_BYTES: usize = 64 << 20;

/// How a segment starts: its tracks and its clock.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentStart {
    /// Its place among the segments of one connection (0: the first). A
    /// connection goes on in a new segment when its media no longer fits
    /// the tracks of the current one (see [`SegmentGate`](crate::SegmentGate)):
    /// the segment's number is the connection's first plus this.
    pub part: u32,
    /// The video track (`None`: audio-only).
    pub video: Option<VideoParams>,
    /// The audio tracks, in track order (empty: video-only).
    pub audio: Vec<AudioParams>,
    /// Time zero of the segment's clock (90 kHz): the first keyframe's
    /// presentation time, or the first audio packet's for audio-only.
    /// Frame timestamps and audio chunk starts are seconds from here.
    pub origin: i64,
}

/// What the gate hands on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gated<'a> {
    /// The segment starts; everything after belongs to it.
    Start(&'a SegmentStart),
    /// The segment ends: the connection goes on in a new segment, whose
    /// `Start` follows.
    End,
    /// An item of the started segment, in arrival order (held items first).
    Item(&'a DemuxItem),
}

/// What the gate did to the items of a connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GateStats {
    /// Video packets before the first keyframe (undecodable).
    pub dropped_before_keyframe: u64,
    /// Audio packets past the bound on what is held before a start.
    pub dropped_early_audio: u64,
    /// Timestamp jumps (backwards, or more than 5 s ahead) stitched into
    /// the segment's timeline.
    pub timestamp_jumps: u64,
    /// Segments after the first: media the current segment's tracks could
    /// not hold (a new audio configuration, a track that came late).
    pub segment_breaks: u64,
}

/// Decides when one segment starts and where its clock starts, from the
/// items pushed in arrival order.
///
/// A segment starts at its first keyframe (with the video parameters in
/// force) once the parameters of every audio track the source announced
/// ([`DemuxItem::Tracks`]; at least one when nothing was announced) are
/// known, or after [`AUDIO_WAIT`] of video without them (with the audio
/// tracks known by then, or video-only), or at the end; with no keyframe,
/// it starts audio-only after [`VIDEO_WAIT`] of audio or at the end. Until
/// then items are held (at most [`MAX_PENDING_BYTES`]); video before the
/// first keyframe is dropped and counted, audio before it is kept. After
/// the start, items pass straight through.
#[derive(Debug, Default)]
pub(crate) struct StartGate {
    part: u32,
    video: Option<VideoParams>,
    /// The first parameters of each audio track, in track order.
    audio: Vec<AudioParams>,
    /// Audio tracks the source announced.
    announced_audio: usize,
    /// PTS and DTS of the first keyframe.
    first_key: Option<(i64, i64)>,
    pending: VecDeque<DemuxItem>,
    pending_bytes: usize,
    /// Packets among the pending items (the rest are parameters).
    pending_packets: usize,
    started: Option<SegmentStart>,
    stats: GateStats,
}

impl StartGate {
    /// A gate for segment `part` of a connection.
    pub(crate) fn new(part: u32) -> Self {
        StartGate {
            part,
            ..Self::default()
        }
    }

    /// How the segment started, once it has.
    pub(crate) fn start(&self) -> Option<&SegmentStart> {
        self.started.as_ref()
    }

    /// A keyframe is held: the segment starts with video.
    pub(crate) fn has_keyframe(&self) -> bool {
        self.first_key.is_some()
    }

    /// What was dropped before the start.
    pub(crate) fn stats(&self) -> GateStats {
        self.stats
    }

    /// Takes the next item; hands on the start and the items of the
    /// segment as soon as they are known.
    pub(crate) fn push(&mut self, item: &DemuxItem, out: &mut dyn FnMut(Gated<'_>)) {
        if self.started.is_some() {
            return out(Gated::Item(item));
        }
        match item {
            DemuxItem::Tracks(list) => self.announced(list),
            DemuxItem::VideoParams(p) if self.first_key.is_none() => {
                self.video = Some(p.clone());
                self.hold(item.clone());
            }
            DemuxItem::AudioParams(p) => {
                if let Err(at) = self.audio.binary_search_by_key(&p.track, |a| a.track) {
                    self.audio.insert(at, p.clone());
                }
                self.hold(item.clone());
            }
            DemuxItem::Video(packet) if self.first_key.is_none() => {
                if !packet.keyframe || self.video.is_none() {
                    self.stats.dropped_before_keyframe += 1;
                    return;
                }
                self.first_key = Some((packet.pts, packet.dts));
                self.hold(item.clone());
            }
            DemuxItem::Video(_) | DemuxItem::Audio(_) | DemuxItem::VideoParams(_) => {
                self.hold(item.clone())
            }
            DemuxItem::Discontinuity(_) => {}
        }
        self.try_start(false, out);
    }

    /// The connection ended: what is held starts the segment if it is
    /// playable.
    pub(crate) fn finish(&mut self, out: &mut dyn FnMut(Gated<'_>)) {
        self.try_start(true, out);
    }

    fn announced(&mut self, list: &TrackList) {
        self.announced_audio = list.audio.len();
    }

    /// Every announced audio track has its parameters.
    fn audio_complete(&self) -> bool {
        !self.audio.is_empty() && self.audio.len() >= self.announced_audio
    }

    fn hold(&mut self, item: DemuxItem) {
        self.pending_bytes += item.media_len();
        self.pending_packets += usize::from(is_packet(&item));
        self.pending.push_back(item);
        while self.pending_bytes > MAX_PENDING_BYTES {
            self.drop_oldest_packet();
        }
    }

    /// Drops the oldest held packet; parameters stay, they apply to the
    /// packets after them.
    fn drop_oldest_packet(&mut self) {
        let Some(at) = self.pending.iter().position(is_packet) else {
            return;
        };
        if let Some(old) = self.pending.remove(at) {
            self.pending_bytes -= old.media_len();
            self.pending_packets -= 1;
            match old {
                DemuxItem::Video(_) => self.stats.dropped_before_keyframe += 1,
                _ => self.stats.dropped_early_audio += 1,
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

    fn first_audio_pts(&self) -> Option<i64> {
        self.pending.iter().find_map(|i| match i {
            DemuxItem::Audio(f) => Some(f.pts),
            _ => None,
        })
    }

    fn try_start(&mut self, at_end: bool, out: &mut dyn FnMut(Gated<'_>)) {
        if self.started.is_some() || self.pending_packets == 0 {
            return;
        }
        let picture = self.first_key.filter(|_| self.video.is_some());
        let ready = match picture {
            Some(_) => self.audio_complete() || at_end || self.video_span() >= AUDIO_WAIT,
            None => !self.audio.is_empty() && (at_end || self.audio_span() >= VIDEO_WAIT),
        };
        if !ready {
            return;
        }
        let origin = match picture {
            Some((pts, _)) => pts,
            None => self.first_audio_pts().unwrap_or(0),
        };
        let start = self.started.insert(SegmentStart {
            part: self.part,
            video: picture.and(self.video.clone()),
            audio: self.audio.clone(),
            origin,
        });
        out(Gated::Start(start));
        // Audio from before the first picture is kept: its chunks start
        // before the segment's time zero.
        for item in std::mem::take(&mut self.pending) {
            out(Gated::Item(&item));
        }
        self.pending_bytes = 0;
        self.pending_packets = 0;
    }
}

fn is_packet(item: &DemuxItem) -> bool {
    matches!(item, DemuxItem::Video(_) | DemuxItem::Audio(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{AudioCodec, VideoCodec};
    use crate::test_items::{audio, audio_params_at, video, video_params, AAC, FRAME};

    fn audio_params() -> DemuxItem {
        audio_params_at(48_000)
    }

    /// What came out of the gate: the start (if any) and the items.
    #[derive(Default)]
    struct Out {
        start: Option<SegmentStart>,
        /// ("v"/"a"/"p", pts) per item; parameters as ("p", 0).
        items: Vec<(&'static str, i64)>,
        /// Items handed on before the start: must stay 0.
        early: usize,
    }

    fn run(items: &[DemuxItem], finish: bool) -> (Out, GateStats) {
        let mut gate = StartGate::new(0);
        let mut out = Out::default();
        let mut take = |g: Gated<'_>| match g {
            Gated::Start(s) => out.start = Some(s.clone()),
            Gated::End => {}
            Gated::Item(i) => {
                out.early += usize::from(out.start.is_none());
                out.items.push(match i {
                    DemuxItem::Video(v) => ("v", v.pts),
                    DemuxItem::Audio(a) => ("a", a.pts),
                    _ => ("p", 0),
                });
            }
        };
        for item in items {
            gate.push(item, &mut take);
        }
        if finish {
            gate.finish(&mut take);
        }
        (out, gate.stats())
    }

    #[test]
    fn starts_at_the_first_keyframe_once_audio_is_known() {
        let mut items = vec![video_params(), video(0, false), audio_params()];
        items.extend((0..10).map(|i| audio(i * AAC)));
        items.push(video(FRAME * 10, true));
        items.push(video(FRAME * 11, false));
        let (out, stats) = run(&items, false);
        let start = out.start.expect("started");
        assert_eq!(start.origin, FRAME * 10);
        assert!(start.video.is_some() && start.audio.len() == 1);
        assert_eq!(out.early, 0);
        // Audio from before the picture is kept.
        let kept_audio = out.items.iter().filter(|(k, _)| *k == "a").count();
        assert_eq!(kept_audio, 10);
        assert_eq!(stats.dropped_before_keyframe, 1);
        assert_eq!(
            out.items.iter().filter(|(k, _)| *k == "v").count(),
            2,
            "the keyframe and what follows"
        );
    }

    #[test]
    fn keeps_the_audio_of_a_picture_that_comes_seconds_late() {
        // 3.6 s of audio, then the first keyframe: one segment with both,
        // its clock at the picture, the audio kept before it.
        let mut items = vec![video_params(), audio_params()];
        items.extend((0..90).map(|i| audio(i * AAC)));
        let key = 90 * AAC;
        items.push(video(key, true));
        let (out, stats) = run(&items, false);
        let start = out.start.expect("started");
        assert_eq!(start.origin, key);
        assert!(start.video.is_some() && start.audio.len() == 1);
        assert_eq!(stats.dropped_early_audio, 0);
        let kept = out.items.iter().filter(|(k, _)| *k == "a").count();
        assert_eq!(kept, 90);
    }

    #[test]
    fn audio_alone_starts_after_the_video_wait_with_its_own_clock() {
        let mut items = vec![audio_params()];
        items.extend((0..470).map(|i| audio(1000 + i * AAC)));
        let (out, stats) = run(&items, false);
        let start = out.start.expect("audio-only start");
        assert_eq!((start.video.is_none(), start.origin), (true, 1000));
        assert_eq!(stats.dropped_early_audio, 0);
        assert_eq!(out.items.iter().filter(|(k, _)| *k == "a").count(), 470);
        // A keyframe after that belongs to no video track of this segment
        // (the connection's gate starts the next segment with it).
        let mut late = items.clone();
        late.push(video_params());
        late.push(video(500 * AAC, true));
        let (out, _) = run(&late, false);
        assert!(out.start.is_some_and(|s| s.video.is_none()));
    }

    #[test]
    fn video_alone_waits_a_second_for_audio_then_starts() {
        let mut items = vec![video_params()];
        items.extend((0..20).map(|i| video(i * FRAME, i == 0)));
        let (out, _) = run(&items, false);
        assert!(
            out.start.is_none(),
            "0.63 s of video: still waiting for audio"
        );
        items.extend((20..40).map(|i| video(i * FRAME, false)));
        let (out, _) = run(&items, false);
        let start = out.start.expect("video-only start");
        assert_eq!((start.audio.is_empty(), start.origin), (true, 0));
        assert_eq!(out.items.iter().filter(|(k, _)| *k == "v").count(), 40);
    }

    #[test]
    fn the_end_starts_what_is_playable_and_nothing_else() {
        let short = vec![video_params(), video(0, true), video(FRAME, false)];
        let (out, _) = run(&short, false);
        assert!(out.start.is_none());
        let (out, _) = run(&short, true);
        assert_eq!(out.start.map(|s| s.origin), Some(0));
        let nothing = vec![video_params(), audio_params(), video(0, false)];
        let (out, stats) = run(&nothing, true);
        assert!(out.start.is_none(), "parameters alone make no segment");
        assert_eq!(stats.dropped_before_keyframe, 1);
    }

    #[test]
    fn parameters_held_before_the_start_come_out_in_order() {
        let items = vec![
            audio_params(),
            audio(0),
            video_params(),
            video(FRAME, true),
            audio(AAC),
        ];
        let (out, _) = run(&items, false);
        assert_eq!(
            out.items,
            vec![("p", 0), ("a", 0), ("p", 0), ("v", FRAME), ("a", AAC)]
        );
    }

    fn second_audio_params() -> DemuxItem {
        let DemuxItem::AudioParams(p) = audio_params() else {
            unreachable!()
        };
        DemuxItem::AudioParams(p.on_track(1))
    }

    fn two_audio_tracks() -> DemuxItem {
        DemuxItem::Tracks(TrackList {
            video: Some(VideoCodec::H264),
            audio: vec![
                crate::AnnouncedAudio {
                    track: 0,
                    codec: Some(AudioCodec::Aac),
                },
                crate::AnnouncedAudio {
                    track: 1,
                    codec: None,
                },
            ],
            ignored: Vec::new(),
        })
    }

    #[test]
    fn waits_for_every_announced_audio_track() {
        let items = vec![
            two_audio_tracks(),
            video_params(),
            audio_params(),
            audio(0),
            video(FRAME, true),
        ];
        let (out, _) = run(&items, false);
        assert!(
            out.start.is_none(),
            "the second track is announced, not known"
        );
        let mut both = items.clone();
        both.push(second_audio_params());
        let (out, _) = run(&both, false);
        let start = out.start.expect("both tracks known");
        let tracks: Vec<u8> = start.audio.iter().map(|a| a.track).collect();
        assert_eq!(tracks, [0, 1]);
        // A track that never comes costs at most the audio wait.
        let mut missing = items;
        missing.extend((2..40).map(|i| video(i * FRAME, false)));
        let (out, _) = run(&missing, false);
        assert_eq!(out.start.map(|s| s.audio.len()), Some(1));
    }
}
