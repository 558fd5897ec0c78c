//! A connection's segments and their timeline, decided in one place for the
//! recorder, the live analysis and the offline analysis, so that they agree
//! on which media belongs to which segment and where its time zero is.
//!
//! Two rules, both here and nowhere else:
//!
//! - **One timeline per segment.** A timestamp jump (a track's time going
//!   backwards, or more than [`JUMP_AHEAD`] forwards: a sender that
//!   restarts its clock, a splice, a damaged PES header) is stitched: the
//!   track goes on one frame after its last packet, and every later packet
//!   of the track moves with it. Frame timestamps, chunk starts and the
//!   recording's sample times therefore never repeat or leap. Jumps are
//!   counted ([`GateStats::timestamp_jumps`]). The 33-bit wrap is not a
//!   jump: the demuxer's unwrapper already made it continuous.
//! - **A new segment when the media no longer fits the segment's tracks.**
//!   An audio configuration one of the segment's audio tracks cannot hold
//!   (another sample rate, channel count or codec), an audio track the
//!   segment does not have (audio arriving for a video-only segment, or a
//!   second track that came late), or video arriving for an audio-only
//!   one, starts the next
//!   segment at the next keyframe: video goes on in the current segment
//!   until then, the audio (every track) is held for the next one, so nothing is
//!   dropped. The stages see [`Gated::End`] then the next [`Gated::Start`],
//!   whose [`SegmentStart::part`] says which segment of the connection it is.

use crate::gate::{GateStats, Gated, StartGate};
use std::collections::BTreeMap;

use crate::item::{DemuxItem, TrackList};
use crate::packet::{AudioPacket, VideoPacket};
use crate::params::{AudioParams, VideoParams};
use crate::CLOCK_HZ;

/// A timestamp further than this ahead of its track's last one is a jump,
/// stitched, not a gap in the media (5 s, as the demuxer reports jumps).
pub const JUMP_AHEAD: i64 = 5 * CLOCK_HZ as i64;

/// Video decode times going back by more than this are a jump (less is
/// left to the recorder's per-sample checks: reordering, duplicates).
const VIDEO_JUMP_BACK: i64 = CLOCK_HZ as i64 / 5;

/// Decides the segments of one connection and their clocks, from its items
/// pushed in arrival order; see the module documentation for the rules.
/// Each segment starts as its start gate says: at its first keyframe once
/// the audio parameters are known (or after [`AUDIO_WAIT`](crate::AUDIO_WAIT)
/// of video without them), audio-only after [`VIDEO_WAIT`](crate::VIDEO_WAIT)
/// of audio without a keyframe; video before the first keyframe is
/// dropped and counted, audio before it is kept.
#[derive(Debug, Default)]
pub struct SegmentGate {
    stitch: Stitcher,
    current: StartGate,
    /// The segment waiting for its start while the current one goes on.
    next: Option<Next>,
    /// The latest parameters of each track, to seed the next segment.
    video: Option<VideoParams>,
    /// The latest parameters of each audio track, in track order.
    audio: Vec<AudioParams>,
    /// The source's latest announcement of its tracks, for the next
    /// segment's start gate (it waits for every announced audio track).
    tracks: Option<TrackList>,
    /// What the segments before the current one did.
    earlier: GateStats,
}

#[derive(Debug)]
struct Next {
    gate: StartGate,
    /// Audio goes to the next segment (its configuration changed, or the
    /// current segment has no audio track); otherwise only video moves.
    takes_audio: bool,
}

impl SegmentGate {
    /// A gate for a new connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// What was dropped, stitched and split so far, over all segments.
    pub fn stats(&self) -> GateStats {
        let mut s = self.earlier;
        for gate in [Some(&self.current), self.next.as_ref().map(|n| &n.gate)]
            .into_iter()
            .flatten()
        {
            let g = gate.stats();
            s.dropped_before_keyframe += g.dropped_before_keyframe;
            s.dropped_early_audio += g.dropped_early_audio;
        }
        s.timestamp_jumps = self.stitch.jumps;
        s
    }

    /// Takes the next item; hands on each segment's start, its items, and
    /// its end when the next one starts.
    pub fn push(&mut self, item: &DemuxItem, out: &mut dyn FnMut(Gated<'_>)) {
        let stitched = self.stitch.apply(item);
        let item = stitched.as_ref().unwrap_or(item);
        match item {
            DemuxItem::VideoParams(p) => self.video = Some(p.clone()),
            DemuxItem::AudioParams(p) => {
                match self.audio.binary_search_by_key(&p.track, |a| a.track) {
                    Ok(at) => self.audio[at] = p.clone(),
                    Err(at) => self.audio.insert(at, p.clone()),
                }
            }
            DemuxItem::Tracks(list) => self.tracks = Some(list.clone()),
            _ => {}
        }
        let Some(start) = self.current.start() else {
            return self.current.push(item, out);
        };
        let has_video = start.video.is_some();
        // Each audio track keeps its configuration for the whole segment; a
        // changed or new track needs the next one.
        let fits = match item {
            DemuxItem::AudioParams(p) => start.audio.iter().any(|a| a == p),
            _ => false,
        };
        match item {
            DemuxItem::VideoParams(_) => {
                if has_video {
                    out(Gated::Item(item));
                } else {
                    self.arm(false);
                }
                self.push_next(item, out);
            }
            DemuxItem::AudioParams(_) => match &self.next {
                Some(next) if next.takes_audio => self.push_next(item, out),
                _ if fits => out(Gated::Item(item)),
                _ => {
                    self.arm(true);
                    self.push_next(item, out);
                }
            },
            DemuxItem::Audio(_) => match &self.next {
                Some(next) if next.takes_audio => self.push_next(item, out),
                _ => out(Gated::Item(item)),
            },
            DemuxItem::Video(packet) => {
                let next_has_key = self.next.as_ref().map(|n| n.gate.has_keyframe());
                match next_has_key {
                    Some(true) => self.push_next(item, out),
                    Some(false) if packet.keyframe || !has_video => self.push_next(item, out),
                    _ if has_video => out(Gated::Item(item)),
                    _ => {
                        self.arm(false);
                        self.push_next(item, out);
                    }
                }
            }
            DemuxItem::Tracks(_) => {
                out(Gated::Item(item));
                self.push_next(item, out);
            }
            DemuxItem::Discontinuity(_) => out(Gated::Item(item)),
        }
    }

    /// The connection ended: what is held starts its segment if it is
    /// playable.
    pub fn finish(&mut self, out: &mut dyn FnMut(Gated<'_>)) {
        if self.next.is_none() {
            return self.current.finish(out);
        }
        let mut ended = false;
        if let Some(next) = self.next.as_mut() {
            next.gate.finish(&mut |g| {
                if matches!(g, Gated::Start(_)) && !ended {
                    ended = true;
                    out(Gated::End);
                }
                out(g)
            });
        }
        self.promote_if_started();
    }

    /// Prepares the next segment (once), with the parameters it starts
    /// with: the video's, and the current audio's unless the audio moves.
    fn arm(&mut self, takes_audio: bool) {
        if self.next.is_some() {
            return;
        }
        let part = self.current.start().map_or(0, |s| s.part) + 1;
        let mut gate = StartGate::new(part);
        let mut ignore = |_: Gated<'_>| {};
        if let Some(tracks) = &self.tracks {
            gate.push(&DemuxItem::Tracks(tracks.clone()), &mut ignore);
        }
        if let Some(video) = &self.video {
            gate.push(&DemuxItem::VideoParams(video.clone()), &mut ignore);
        }
        // The audio moves with every track's latest parameters (those that
        // did not change go on as they were); otherwise the segment's own.
        let audio = if takes_audio {
            self.audio.clone()
        } else {
            self.current
                .start()
                .map(|s| s.audio.clone())
                .unwrap_or_default()
        };
        for params in audio {
            gate.push(&DemuxItem::AudioParams(params), &mut ignore);
        }
        self.next = Some(Next { gate, takes_audio });
    }

    /// Gives an item to the next segment; when that starts, the current one
    /// ends first.
    fn push_next(&mut self, item: &DemuxItem, out: &mut dyn FnMut(Gated<'_>)) {
        let Some(next) = self.next.as_mut() else {
            return;
        };
        let mut ended = false;
        next.gate.push(item, &mut |g| {
            if matches!(g, Gated::Start(_)) && !ended {
                ended = true;
                out(Gated::End);
            }
            out(g)
        });
        self.promote_if_started();
    }

    fn promote_if_started(&mut self) {
        if self.next.as_ref().is_none_or(|n| n.gate.start().is_none()) {
            return;
        }
        if let Some(next) = self.next.take() {
            let old = std::mem::replace(&mut self.current, next.gate).stats();
            self.earlier.dropped_before_keyframe += old.dropped_before_keyframe;
            self.earlier.dropped_early_audio += old.dropped_early_audio;
            self.earlier.segment_breaks += 1;
        }
    }
}

/// Makes each track's timestamps continuous across jumps (see the module
/// documentation).
#[derive(Debug, Default)]
struct Stitcher {
    video: TrackClock,
    /// Each audio track's clock and the duration of one of its packets,
    /// 90 kHz (from its parameters).
    audio: BTreeMap<u8, (TrackClock, i64)>,
    /// The offset of the track that jumped last: a track's first packet
    /// takes it, so tracks that jump together stay together.
    shared: i64,
    jumps: u64,
}

/// One track's place on the segment's timeline.
#[derive(Debug, Default)]
struct TrackClock {
    /// Added to the track's timestamps (`None` before its first packet).
    offset: Option<i64>,
    /// The last (stitched) timestamp: video DTS, audio PTS.
    last: Option<i64>,
    /// The last regular distance between packets.
    step: i64,
}

impl Stitcher {
    /// The item with stitched timestamps, or `None` when they stay as they
    /// are.
    fn apply(&mut self, item: &DemuxItem) -> Option<DemuxItem> {
        match item {
            DemuxItem::AudioParams(p) => {
                self.audio.entry(p.track).or_default().1 = p.frame_duration_90k().round() as i64;
                None
            }
            DemuxItem::Video(v) => {
                let offset = self.video.place(
                    v.dts,
                    Limits {
                        back: VIDEO_JUMP_BACK,
                        step: CLOCK_HZ as i64 / 30,
                    },
                    &mut self.shared,
                    &mut self.jumps,
                );
                (offset != 0).then(|| {
                    DemuxItem::Video(VideoPacket {
                        pts: v.pts + offset,
                        dts: v.dts + offset,
                        ..v.clone()
                    })
                })
            }
            DemuxItem::Audio(a) => {
                let (clock, step) = self.audio.entry(a.track).or_default();
                let step = (*step).max(1);
                let offset = clock.place(
                    a.pts,
                    Limits { back: step, step },
                    &mut self.shared,
                    &mut self.jumps,
                );
                (offset != 0).then(|| {
                    DemuxItem::Audio(AudioPacket {
                        pts: a.pts + offset,
                        ..a.clone()
                    })
                })
            }
            _ => None,
        }
    }
}

/// What counts as a jump for a track.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Going back more than this.
    back: i64,
    /// The distance between packets when none was seen yet.
    step: i64,
}

impl TrackClock {
    /// The offset for a packet at source time `ts`, re-anchored when the
    /// packet jumped.
    fn place(&mut self, ts: i64, limits: Limits, shared: &mut i64, jumps: &mut u64) -> i64 {
        let offset = *self.offset.get_or_insert(*shared);
        let at = ts.saturating_add(offset);
        let Some(last) = self.last else {
            self.last = Some(at);
            return offset;
        };
        let delta = at.saturating_sub(last);
        if delta < -limits.back || delta > JUMP_AHEAD {
            let step = if self.step > 0 {
                self.step
            } else {
                limits.step
            };
            let offset = last.saturating_add(step).saturating_sub(ts);
            self.offset = Some(offset);
            *shared = offset;
            *jumps += 1;
            self.last = Some(last + step);
            return offset;
        }
        if delta > 0 && delta <= CLOCK_HZ as i64 {
            self.step = delta;
        }
        self.last = Some(at.max(last));
        offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::SegmentStart;
    use crate::test_items::{
        audio, audio_params_at as audio_params, video, video_params, AAC, FRAME,
    };

    /// What came out, segment by segment: (start, [("v"/"a"/"p", pts)]).
    type Segments = Vec<(SegmentStart, Vec<(&'static str, i64)>)>;

    fn run(items: &[DemuxItem]) -> (Segments, GateStats) {
        let mut gate = SegmentGate::new();
        let mut segments: Segments = Vec::new();
        let mut ends = 0;
        let mut take = |g: Gated<'_>| match g {
            Gated::Start(s) => segments.push((s.clone(), Vec::new())),
            Gated::End => ends += 1,
            Gated::Item(i) => {
                let entry = match i {
                    DemuxItem::Video(v) => ("v", v.pts),
                    DemuxItem::Audio(a) => ("a", a.pts),
                    _ => ("p", 0),
                };
                segments
                    .last_mut()
                    .expect("an item before any start")
                    .1
                    .push(entry);
            }
        };
        for item in items {
            gate.push(item, &mut take);
        }
        gate.finish(&mut take);
        assert_eq!(
            ends + 1,
            segments.len().max(1),
            "one End before each later Start"
        );
        (segments, gate.stats())
    }

    fn times(items: &[(&'static str, i64)], kind: &str) -> Vec<i64> {
        items
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, t)| *t)
            .collect()
    }

    /// A/V at 30 fps and 48 kHz AAC, interleaved, from `t0` for `secs`.
    fn av(t0: i64, secs: i64, first_key: bool) -> Vec<DemuxItem> {
        let mut items = Vec::new();
        let (mut v, mut a) = (0, 0);
        while v * FRAME < secs * 90_000 || a * AAC < secs * 90_000 {
            if v * FRAME <= a * AAC {
                items.push(video(t0 + v * FRAME, first_key && v % 30 == 0));
                v += 1;
            } else {
                items.push(audio(t0 + a * AAC));
                a += 1;
            }
        }
        items
    }

    #[test]
    fn backward_and_forward_jumps_are_stitched_into_one_timeline() {
        let mut items = vec![video_params(), audio_params(48_000)];
        items.extend(av(0, 4, true));
        items.extend(av(0, 4, true)); // the sender's clock restarts
        items.extend(av(60 * 90_000, 4, true)); // and leaps a minute
        let (segments, stats) = run(&items);
        assert_eq!(segments.len(), 1, "stitched, not split");
        let (start, got) = &segments[0];
        assert_eq!(start.origin, 0);
        for kind in ["v", "a"] {
            let t = times(got, kind);
            assert!(t.windows(2).all(|w| w[1] > w[0]), "{kind} continuous");
            let span = t.last().unwrap() - t.first().unwrap();
            assert!(
                (span - 12 * 90_000).abs() < 2 * 90_000 / 10,
                "{kind} {span}"
            );
            let step = if kind == "v" { FRAME } else { AAC };
            assert!(t.windows(2).all(|w| w[1] - w[0] <= step), "{kind} no leap");
        }
        assert_eq!(stats.timestamp_jumps, 4, "two jumps, on each track");
        assert_eq!(stats.segment_breaks, 0);
    }

    #[test]
    fn a_new_sample_rate_starts_the_next_segment_at_a_keyframe_losing_nothing() {
        let mut items = vec![video_params(), audio_params(48_000)];
        items.extend(av(0, 2, true));
        // 44.1 kHz from 2 s; the next keyframe is at 3 s.
        items.push(audio_params(44_100));
        let (mut v, mut a) = (60, 0);
        let step441 = 1024 * 90_000 / 44_100;
        while v < 150 {
            if v * FRAME <= 2 * 90_000 + a * step441 {
                items.push(video(v * FRAME, v % 30 == 0 && v > 60));
                v += 1;
            } else {
                items.push(audio(2 * 90_000 + a * step441));
                a += 1;
            }
        }
        let (segments, stats) = run(&items);
        assert_eq!(segments.len(), 2);
        assert_eq!(stats.segment_breaks, 1);
        let (first, one) = &segments[0];
        let (second, two) = &segments[1];
        assert_eq!((first.part, second.part), (0, 1));
        assert_eq!(first.audio.first().map(|a| a.sample_rate), Some(48_000));
        assert_eq!(second.audio.first().map(|a| a.sample_rate), Some(44_100));
        assert_eq!(second.origin, 90 * FRAME, "the next keyframe");
        // Video until the keyframe stays in the first segment; all of the
        // new audio, from 2 s, is in the second.
        assert_eq!(times(one, "v").last(), Some(&(89 * FRAME)));
        assert_eq!(times(two, "v").first(), Some(&(90 * FRAME)));
        assert_eq!(times(one, "v").len() + times(two, "v").len(), 150);
        assert_eq!(times(two, "a").first(), Some(&(2 * 90_000)));
        assert_eq!(times(two, "a").len() as i64, a);
        assert_eq!(stats.dropped_before_keyframe + stats.dropped_early_audio, 0);
    }

    #[test]
    fn video_after_an_audio_only_start_gets_its_own_segment() {
        let mut items = vec![audio_params(48_000)];
        items.extend((0..300).map(|i| audio(i * AAC))); // 6.4 s of audio
        items.push(video_params());
        let late = av(12 * 90_000, 3, true);
        let mut with_late_audio = (300..470).map(|i| audio(i * AAC)).collect::<Vec<_>>();
        with_late_audio.extend(late);
        items.extend(with_late_audio);
        let (segments, stats) = run(&items);
        assert_eq!(
            segments.len(),
            2,
            "{:?}",
            segments.iter().map(|s| &s.0).collect::<Vec<_>>()
        );
        assert!(segments[0].0.video.is_none());
        let (second, two) = &segments[1];
        assert!(second.video.is_some() && second.audio.len() == 1);
        assert_eq!(second.origin, 12 * 90_000);
        assert_eq!(times(two, "v").len(), 90);
        let audio_total = times(&segments[0].1, "a").len() + times(two, "a").len();
        assert_eq!(audio_total, 470 + 3 * 90_000 / AAC as usize + 1);
        assert_eq!(stats.segment_breaks, 1);
    }

    #[test]
    fn video_three_seconds_late_is_one_segment_with_all_the_audio() {
        let mut items = vec![audio_params(48_000), video_params()];
        items.extend((0..79).map(|i| audio(i * AAC))); // ~3.4 s
        items.extend(av(3 * 90_000, 2, true));
        let (segments, stats) = run(&items);
        assert_eq!(segments.len(), 1);
        let (start, got) = &segments[0];
        assert_eq!(start.origin, 3 * 90_000);
        assert_eq!(times(got, "a").first(), Some(&0));
        assert_eq!(times(got, "v").len(), 60);
        assert_eq!(stats.dropped_early_audio, 0);
    }

    /// `item` on audio track 1.
    fn on_track_1(item: DemuxItem) -> DemuxItem {
        match item {
            DemuxItem::AudioParams(p) => DemuxItem::AudioParams(p.on_track(1)),
            DemuxItem::Audio(a) => DemuxItem::Audio(AudioPacket { track: 1, ..a }),
            other => other,
        }
    }

    /// A/V with a second audio track beside the first, half a second behind
    /// it (another program's clock).
    fn av_two_tracks(t0: i64, secs: i64) -> Vec<DemuxItem> {
        let mut items = Vec::new();
        for item in av(t0, secs, true) {
            let second = matches!(item, DemuxItem::Audio(_)).then(|| match &item {
                DemuxItem::Audio(a) => on_track_1(audio(a.pts - 45_000)),
                _ => unreachable!(),
            });
            items.push(item);
            items.extend(second);
        }
        items
    }

    #[test]
    fn two_audio_tracks_keep_their_own_timelines() {
        let mut items = vec![
            video_params(),
            audio_params(48_000),
            on_track_1(audio_params(48_000)),
        ];
        items.extend(av_two_tracks(0, 4));
        let (segments, stats) = run(&items);
        assert_eq!(segments.len(), 1);
        assert_eq!(segments[0].0.audio.len(), 2);
        assert_eq!(stats.timestamp_jumps, 0, "interleaved tracks are no jump");
    }

    #[test]
    fn a_new_configuration_of_the_second_audio_track_starts_the_next_segment() {
        let mut items = vec![
            video_params(),
            audio_params(48_000),
            on_track_1(audio_params(48_000)),
        ];
        items.extend(av_two_tracks(0, 2));
        items.push(on_track_1(audio_params(44_100)));
        items.extend(av_two_tracks(2 * 90_000, 2));
        let (segments, stats) = run(&items);
        assert_eq!(segments.len(), 2);
        assert_eq!(stats.segment_breaks, 1);
        let rates = |s: &SegmentStart| -> Vec<(u8, u32)> {
            s.audio.iter().map(|a| (a.track, a.sample_rate)).collect()
        };
        assert_eq!(rates(&segments[0].0), [(0, 48_000), (1, 48_000)]);
        assert_eq!(rates(&segments[1].0), [(0, 48_000), (1, 44_100)]);
        assert_eq!(segments[1].0.origin, 2 * 90_000, "the next keyframe");
        let audio: usize = segments.iter().map(|(_, i)| times(i, "a").len()).sum();
        let sent = items
            .iter()
            .filter(|i| matches!(i, DemuxItem::Audio(_)))
            .count();
        assert_eq!(audio, sent, "no audio lost");
    }
}
