//! The recorder fed by synthetic demuxed items: when a segment file starts,
//! which packets it keeps, and what the live recorder reports as events and
//! status. Files are read back with cht-fmp4's reader; interop with ffmpeg
//! is tested in the workspace's `tests/record_interop.rs`.

use std::net::SocketAddr;
use std::path::Path;

use cht_core::aac::AacConfig;
use cht_core::h264::AvcDecoderConfig;
use cht_core::{AudioPacket, Connection, DemuxItem, LiveStage, PacketFormat, VideoPacket};
use cht_events::EventBus;
use cht_fmp4::{probe, TrackKind};
use cht_record::{LiveRecorder, SegmentOptions, SegmentRecorder};
use cht_session::SessionsDir;

/// SPS/PPS of an x264 1920x1080 High stream.
const SPS: [u8; 27] = [
    0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00, 0x00, 0x03,
    0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc6, 0x58,
];
const PPS: [u8; 6] = [0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];
const FRAME: i64 = 3000;
const AAC: i64 = 1920;

fn video_params() -> DemuxItem {
    let config = AvcDecoderConfig::from_parameter_sets(SPS.to_vec().into(), PPS.to_vec().into())
        .expect("x264 parameter sets");
    let params =
        cht_core::h264::video_params(&config, PacketFormat::Elementary).expect("parsable SPS");
    DemuxItem::VideoParams(params)
}

fn aac(sample_rate: u32, sampling_index: u8) -> DemuxItem {
    let config = AacConfig {
        object_type: 2,
        sampling_index,
        sample_rate,
        channel_config: 2,
    };
    DemuxItem::AudioParams(config.audio_params())
}

fn video(n: i64, keyframe: bool) -> DemuxItem {
    let mut data = vec![0, 0, 0, 1, if keyframe { 0x65 } else { 0x41 }];
    data.extend((0..50).map(|i| (n * 7 + i) as u8 | 0x80));
    DemuxItem::Video(VideoPacket {
        pts: n * FRAME + 2 * FRAME,
        dts: n * FRAME,
        keyframe,
        damaged: false,
        data: data.into(),
    })
}

fn audio(n: i64) -> DemuxItem {
    DemuxItem::Audio(AudioPacket {
        track: 0,
        pts: n * AAC,
        samples: 1024,
        data: vec![n as u8; 20].into(),
    })
}

/// `seconds` of 30 fps video (keyframe every second) and 48 kHz audio in
/// arrival order, parameters first.
fn stream(seconds: i64) -> Vec<DemuxItem> {
    let mut items = vec![video_params(), aac(48_000, 3)];
    let mut a = 0;
    for v in 0..seconds * 30 {
        items.push(video(v, v % 30 == 0));
        while a * AAC <= v * FRAME {
            items.push(audio(a));
            a += 1;
        }
    }
    items
}

fn record(
    path: &Path,
    items: &[DemuxItem],
) -> Option<(cht_fmp4::SegmentSummary, cht_record::SegmentStats)> {
    let mut recorder = SegmentRecorder::new(path, SegmentOptions::default());
    for item in items {
        recorder.push(item).expect("push");
    }
    recorder
        .finish()
        .expect("finish")
        .map(|f| (f.summary, f.stats))
}

#[test]
fn a_segment_holds_every_packet_from_its_first_keyframe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("recording_000.mp4");
    // Two packets before the first keyframe: undecodable, not recorded.
    let mut items = vec![video_params(), video(-2, false), video(-1, false)];
    items.extend(stream(3).into_iter().skip(1));
    let (summary, stats) = record(&path, &items).expect("a segment");
    assert_eq!(stats.dropped_before_keyframe, 2);
    assert_eq!((summary.video_samples, summary.audio_samples), (90, 140));
    let info = probe(&path).expect("readable");
    let video = info.video_track().expect("video track");
    assert_eq!((video.sample_count, video.keyframe_count), (90, 3));
    assert_eq!(info.audio_track().map(|t| t.sample_count), Some(140));
    assert_eq!(
        std::fs::metadata(&path).expect("file").len(),
        summary.bytes_written
    );
}

#[test]
fn nothing_playable_leaves_no_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("recording_000.mp4");
    let items = [
        video_params(),
        aac(48_000, 3),
        video(0, false),
        video(1, false),
    ];
    let mut recorder = SegmentRecorder::new(&path, SegmentOptions::default());
    for item in &items {
        recorder.push(item).expect("push");
    }
    assert!(!recorder.is_started());
    assert!(recorder.finish().expect("finish").is_none());
    assert!(!path.exists());
}

#[test]
fn a_new_audio_configuration_goes_on_in_the_next_segment_losing_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("recording_000.mp4");
    let mut items = stream(2);
    // The sender switches to 44.1 kHz at 2 s; video goes on, with its next
    // keyframe at 3 s.
    items.push(aac(44_100, 4));
    let step = 1024 * 90_000 / 44_100;
    let mut a = 0;
    for v in 60..120 {
        items.push(video(v, v % 30 == 0));
        while 2 * 90_000 + a * step <= v * FRAME {
            items.push(DemuxItem::Audio(AudioPacket {
                track: 0,
                pts: 2 * 90_000 + a * step,
                samples: 1024,
                data: vec![7; 20].into(),
            }));
            a += 1;
        }
    }
    let mut recorder = SegmentRecorder::new(&path, SegmentOptions::default());
    for item in &items {
        recorder.push(item).expect("push");
    }
    let (events, result) = recorder.finish_all();
    result.expect("finish");
    let finished: Vec<cht_record::FinishedSegment> = events
        .into_iter()
        .filter_map(|e| match e {
            cht_record::SegmentEvent::Finished(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(finished.len(), 2, "two segments");
    let second = dir.path().join("recording_000_001.mp4");
    assert_eq!(finished[1].path, second);
    let (one, two) = (
        probe(&path).expect("first"),
        probe(&second).expect("second"),
    );
    let rate = |i: &cht_fmp4::Mp4Info| i.audio_track().map(|t| t.timescale);
    assert_eq!((rate(&one), rate(&two)), (Some(48_000), Some(44_100)));
    let count = |i: &cht_fmp4::Mp4Info, video: bool| {
        let t = if video {
            i.video_track()
        } else {
            i.audio_track()
        };
        t.map_or(0, |t| t.sample_count)
    };
    assert_eq!(count(&one, true) + count(&two, true), 120, "every picture");
    assert_eq!(count(&one, false), 93, "the 48 kHz audio");
    assert_eq!(count(&two, false), a as u64, "all of the 44.1 kHz audio");
    assert_eq!(finished[1].stats.dropped_mismatched, 0);
    assert_eq!(finished[1].stats.segment_breaks, 1);
}

#[test]
fn video_after_an_audio_only_start_is_recorded_in_the_next_segment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("recording_000.mp4");
    let mut items = vec![aac(48_000, 3)];
    items.extend((0..600).map(audio)); // 12.8 s: past the video wait
    items.push(video_params());
    items.extend((0..60).map(|v| video(430 + v, v % 30 == 0)));
    let mut recorder = SegmentRecorder::new(&path, SegmentOptions::default());
    for item in &items {
        recorder.push(item).expect("push");
    }
    recorder.finish().expect("finish");
    let info = probe(&path).expect("readable");
    assert_eq!(info.tracks.len(), 1);
    assert_eq!(info.tracks[0].kind, TrackKind::Audio);
    let second = probe(dir.path().join("recording_000_001.mp4")).expect("the video's segment");
    assert_eq!(second.video_track().map(|t| t.sample_count), Some(60));
}

#[test]
fn an_announced_audio_track_that_never_gives_a_frame_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("recording_000.mp4");
    let announced = |track| cht_core::AnnouncedAudio {
        track,
        codec: Some(cht_core::AudioCodec::Aac),
    };
    // Two audio tracks announced; the second one's frames are unreadable,
    // so the demuxer never gives its parameters.
    let mut items = vec![DemuxItem::Tracks(cht_core::TrackList {
        video: Some(cht_core::VideoCodec::H264),
        audio: vec![announced(0), announced(1)],
        ignored: Vec::new(),
    })];
    items.extend(stream(3));
    let mut recorder = SegmentRecorder::new(&path, SegmentOptions::default());
    let mut notices = Vec::new();
    for item in &items {
        recorder.push(item).expect("push");
        notices.extend(recorder.take_notices());
    }
    assert!(recorder.is_started(), "the audio wait is over");
    let summary = recorder
        .finish()
        .expect("finish")
        .expect("a segment")
        .summary;
    assert!(summary.audio_samples > 0, "track 0 is recorded");
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].starts_with("audio track 1 (AAC) gave no frame cht could read")
            && notices[0].contains("`-c:a aac`"),
        "{}",
        notices[0]
    );
}

#[test]
fn the_live_recorder_reports_its_own_life() {
    let dir = tempfile::tempdir().expect("tempdir");
    let session = SessionsDir::new(dir.path()).create_new().expect("session");
    let bus = EventBus::new();
    let events = bus.subscribe(1000);
    let mut recorder = LiveRecorder::new(session.clone(), SegmentOptions::default(), bus);
    let status = recorder.status();
    let peer: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
    let connection = Connection {
        segment: 4,
        peer,
        session_start: 12.5,
    };
    recorder.connection_started(&connection);
    assert_eq!(status.get().segment, Some(4));
    for item in stream(2) {
        recorder.item(&item);
    }
    recorder.tick();
    let growing = status.get().bytes_written;
    assert!(growing > 0, "the segment being written counts");
    recorder.connection_ended(&connection, "closed");

    let path = session.segment_path(4);
    let size = std::fs::metadata(&path).expect("recording_004.mp4").len();
    let done = status.get();
    assert_eq!((done.segments_recorded, done.bytes_written), (1, size));
    assert!(!done.connected && done.peer.is_none());
    let kinds: Vec<serde_json::Value> = events
        .events
        .try_iter()
        .map(|r| serde_json::to_value(&*r).expect("json"))
        .collect();
    let names: Vec<&str> = kinds.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(
        names,
        [
            "sender_connected",
            "segment_started",
            "segment_finished",
            "sender_disconnected"
        ]
    );
    let finished = &kinds[2];
    assert_eq!(finished["segment"], 4);
    assert_eq!(finished["bytes"], size);
    assert_eq!(finished["video_samples"], 60);
    assert!((finished["duration"].as_f64().unwrap_or(0.0) - 2.0).abs() < 0.1);
    assert_eq!(kinds[3]["reason"], "closed");
    assert_eq!(kinds[1]["start"], 12.5, "segment_started places it");

    // stream/index.json lists it with its place and, finished, its length,
    // which is where the session's timeline puts it.
    let timeline = session
        .layout()
        .timeline(&mut |_| panic!("a listed segment is not probed"))
        .expect("timeline");
    assert_eq!(timeline.len(), 1);
    let (start, duration) = (timeline[0].start, timeline[0].duration);
    assert_eq!(start, 12.5);
    assert_eq!(
        duration,
        finished["duration"].as_f64().map(cht_session::round_ms)
    );
    assert!(timeline[0].finished);
    assert!(timeline[0].started_at.is_some_and(|t| t > 1.6e9));
}
