//! cht-fmp4 against independent implementations: segments written from the
//! x264 High + AAC fixture are checked with ffprobe/ffmpeg, and the reader
//! is checked against ffprobe on cht's output and on ffmpeg's own MP4s.
//!
//! The TS demuxer is not used here: ffmpeg extracts the fixture's raw
//! Annex-B video and ADTS audio, and ffprobe's packet list (in demux order)
//! supplies timestamps, sizes and keyframe flags.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use bytes::Bytes;
use cht_core::aac::AdtsHeader;
use cht_core::h264::{annexb_nals, nal_type, nal_unit_type, AvcDecoderConfig};
use cht_core::{AudioPacket, AudioParams, PacketFormat, VideoPacket, VideoParams};
use cht_fmp4::{
    probe, probe_bytes, FragmentInfo, FragmentOptions, FragmentWriter, Mp4Samples, SegmentSummary,
    TrackKind,
};
use proptest::prelude::*;
use serde_json::Value;

const FIXTURE: &str = "tests/fixtures/av_high.ts";
const VIDEO_PACKETS: usize = 300;
const AUDIO_PACKETS: usize = 470;

/// One packet of the fixture in demux (arrival) order.
#[derive(Clone)]
enum Packet {
    Video(VideoPacket),
    Audio(AudioPacket),
}

struct Fixture {
    avc: AvcDecoderConfig,
    video_config: VideoParams,
    audio_config: AudioParams,
    packets: Vec<Packet>,
}

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE)
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn ffprobe_json(args: &[&str], file: &Path) -> Value {
    let out = run(Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(args)
        .arg(file));
    serde_json::from_slice(&out.stdout).expect("ffprobe json")
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().expect("integer"),
        Value::String(s) => s.parse().expect("integer string"),
        other => panic!("not an integer: {other}"),
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(extract_fixture)
}

fn extract_fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (h264, adts) = (dir.path().join("v.h264"), dir.path().join("a.aac"));
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(fixture_path())
        .args([
            "-map",
            "0:v",
            "-c:v",
            "copy",
            "-bsf:v",
            "h264_mp4toannexb",
            "-f",
            "h264",
        ])
        .arg(&h264)
        .args(["-map", "0:a", "-c:a", "copy", "-f", "adts"])
        .arg(&adts));
    let video_bytes = std::fs::read(&h264).unwrap();
    let audio_bytes = std::fs::read(&adts).unwrap();
    let listing = ffprobe_json(
        &["-show_entries", "packet=stream_index,pts,dts,size,flags"],
        &fixture_path(),
    );

    let (mut video_pos, mut audio_pos) = (0usize, 0usize);
    let mut packets = Vec::new();
    let mut audio_config = None;
    for p in listing["packets"].as_array().unwrap() {
        let size = int(&p["size"]) as usize;
        let pts = int(&p["pts"]);
        if int(&p["stream_index"]) == 0 {
            let data = video_bytes[video_pos..video_pos + size].to_vec();
            video_pos += size;
            let keyframe = p["flags"].as_str().unwrap().starts_with('K');
            let dts = int(&p["dts"]);
            packets.push(Packet::Video(VideoPacket {
                pts,
                dts,
                keyframe,
                damaged: false,
                data: data.into(),
            }));
        } else {
            let header = AdtsHeader::parse(&audio_bytes[audio_pos..]).expect("ADTS frame");
            let data = audio_bytes[audio_pos..audio_pos + header.frame_len].to_vec();
            audio_pos += header.frame_len;
            audio_config = Some(header.config.audio_params());
            packets.push(Packet::Audio(AudioPacket {
                track: 0,
                pts,
                samples: 1024,
                data: Bytes::from(data).slice(header.header_len..),
            }));
        }
    }
    assert_eq!(
        (video_pos, audio_pos),
        (video_bytes.len(), audio_bytes.len()),
        "packet sizes cover the streams"
    );
    let first_video = packets.iter().find_map(|p| match p {
        Packet::Video(v) => Some(v.data.clone()),
        _ => None,
    });
    let avc = avc_config_from_annexb(&first_video.unwrap());
    Fixture {
        video_config: cht_core::h264::video_params(&avc, PacketFormat::Elementary).unwrap(),
        avc,
        audio_config: audio_config.unwrap(),
        packets,
    }
}

fn avc_config_from_annexb(au: &[u8]) -> AvcDecoderConfig {
    let find = |kind| {
        annexb_nals(au)
            .find(|n| nal_unit_type(n) == kind)
            .map(Bytes::copy_from_slice)
            .expect("SPS and PPS")
    };
    AvcDecoderConfig::from_parameter_sets(find(nal_type::SPS), find(nal_type::PPS))
        .expect("valid SPS")
}

struct Segment {
    bytes: Vec<u8>,
    fragments: Vec<FragmentInfo>,
    summary: SegmentSummary,
}

/// Writes `packets` as one segment; the last fragment's info is derived
/// from the summary since `finish` reports totals only.
fn write_segment(packets: &[Packet], options: FragmentOptions) -> Segment {
    let f = fixture();
    let mut w = FragmentWriter::new(
        Vec::new(),
        Some(&f.video_config),
        std::slice::from_ref(&f.audio_config),
        options,
    )
    .unwrap();
    let mut fragments = Vec::new();
    for p in packets {
        let written = match p {
            Packet::Video(v) => w.push_video(v).unwrap(),
            Packet::Audio(a) => w.push_audio(a).unwrap(),
        };
        fragments.extend(written);
    }
    let (bytes, summary) = w.finish().unwrap();
    let (v, a) = fragments.iter().fold((0, 0), |(v, a), f| {
        (v + f.video_samples as u64, a + f.audio_samples as u64)
    });
    let end = fragments
        .last()
        .map_or(summary.init_bytes, |f| f.offset + f.bytes);
    if end < bytes.len() as u64 {
        fragments.push(FragmentInfo {
            sequence: fragments.len() as u32 + 1,
            offset: end,
            bytes: bytes.len() as u64 - end,
            video_samples: (summary.video_samples - v) as u32,
            audio_samples: (summary.audio_samples - a) as u32,
            start_seconds: f64::NAN,
            duration_seconds: f64::NAN,
            starts_with_keyframe: false,
        });
    }
    Segment {
        bytes,
        fragments,
        summary,
    }
}

fn fixture_segment() -> &'static Segment {
    static SEGMENT: OnceLock<Segment> = OnceLock::new();
    SEGMENT.get_or_init(|| write_segment(&fixture().packets, FragmentOptions::default()))
}

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Packet counts per codec type, as ffprobe counts them.
fn ffprobe_counts(file: &Path) -> (u64, u64) {
    let v = ffprobe_json(
        &[
            "-count_packets",
            "-show_entries",
            "stream=codec_type,nb_read_packets",
        ],
        file,
    );
    let mut counts = (0, 0);
    for s in v["streams"].as_array().unwrap() {
        let n = int(&s["nb_read_packets"]) as u64;
        match s["codec_type"].as_str().unwrap() {
            "video" => counts.0 = n,
            "audio" => counts.1 = n,
            _ => {}
        }
    }
    counts
}

/// ffprobe's packets of one stream: (pts, dts, duration, size, keyframe).
/// ffprobe leaves the duration of a fragmented file's first AAC packet
/// unset (also on ffmpeg's own fMP4 output), hence the `Option`.
fn ffprobe_packets(file: &Path, stream: &str) -> Vec<(i64, i64, Option<i64>, i64, bool)> {
    let v = ffprobe_json(
        &[
            "-select_streams",
            stream,
            "-show_entries",
            "packet=pts,dts,duration,size,flags",
        ],
        file,
    );
    v["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let key = p["flags"].as_str().unwrap().starts_with('K');
            let duration = p.get("duration").map(int);
            (
                int(&p["pts"]),
                int(&p["dts"]),
                duration,
                int(&p["size"]),
                key,
            )
        })
        .collect()
}

/// `ffmpeg -v error` decode of the whole file prints nothing.
fn assert_decodes_cleanly(file: &Path) {
    let out = run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file)
        .args(["-f", "null", "-"]));
    assert!(
        out.stderr.is_empty(),
        "ffmpeg complained: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn decoded_frame_hashes(file: &Path) -> Vec<String> {
    let out = run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file)
        .args([
            "-map",
            "0:v",
            "-fps_mode",
            "passthrough",
            "-f",
            "framemd5",
            "-",
        ]));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.rsplit(',').next().unwrap().trim().to_string())
        .collect()
}

#[test]
fn fixture_segment_is_accepted_by_ffmpeg() {
    let f = fixture();
    let seg = fixture_segment();
    let s = &seg.summary;
    assert_eq!(
        (s.video_samples, s.audio_samples),
        (VIDEO_PACKETS as u64, AUDIO_PACKETS as u64)
    );
    assert_eq!(
        (
            s.timestamp_jumps,
            s.audio_gaps,
            s.skipped_samples,
            s.bad_composition_offsets
        ),
        (0, 0, 0, 0)
    );
    assert!((s.duration_seconds - 10.0).abs() < 0.1, "{s:?}");
    let dir = tempfile::tempdir().unwrap();
    let out = write_temp(dir.path(), "out.mp4", &seg.bytes);

    assert_eq!(
        ffprobe_counts(&out),
        (VIDEO_PACKETS as u64, AUDIO_PACKETS as u64)
    );
    assert_decodes_cleanly(&out);
    let source_hashes = decoded_frame_hashes(&fixture_path());
    assert_eq!(source_hashes.len(), VIDEO_PACKETS);
    assert_eq!(
        decoded_frame_hashes(&out),
        source_hashes,
        "decoded pictures differ"
    );

    // Timestamps: the source's, shifted by the origin (first video DTS here).
    let origin = s.origin_90k.unwrap();
    let first_video_dts = f.packets.iter().find_map(|p| match p {
        Packet::Video(v) => Some(v.dts),
        _ => None,
    });
    assert_eq!(Some(origin), first_video_dts);
    let video: Vec<_> = f
        .packets
        .iter()
        .filter_map(|p| {
            if let Packet::Video(v) = p {
                Some(v)
            } else {
                None
            }
        })
        .collect();
    let audio: Vec<_> = f
        .packets
        .iter()
        .filter_map(|p| {
            if let Packet::Audio(a) = p {
                Some(a)
            } else {
                None
            }
        })
        .collect();
    let got_video = ffprobe_packets(&out, "v");
    assert_eq!(got_video.len(), video.len());
    for (i, (got, src)) in got_video.iter().zip(&video).enumerate() {
        assert_eq!(
            (got.0, got.1),
            (src.pts - origin, src.dts - origin),
            "video packet {i}"
        );
        assert_eq!(got.4, src.keyframe, "video packet {i} keyframe flag");
    }
    let got_audio = ffprobe_packets(&out, "a");
    assert_eq!(got_audio.len(), audio.len());
    let rate = i64::from(f.audio_config.sample_rate);
    for (i, (got, src)) in got_audio.iter().zip(&audio).enumerate() {
        let expected = ((src.pts - origin) * rate + 45_000) / 90_000;
        assert!(
            (got.0 - expected).abs() <= 1,
            "audio packet {i}: {} vs {expected}",
            got.0
        );
        assert!(
            got.2 == Some(1024) || (i == 0 && got.2.is_none()),
            "audio packet {i} duration"
        );
        assert_eq!(got.3 as usize, src.data.len(), "audio packet {i} size");
    }
}

#[test]
fn fragments_follow_keyframes_and_the_time_limit() {
    let seg = fixture_segment();
    // GOP 60 frames = 2 s, fragments at most 1 s: fragments alternate
    // between starting on a keyframe and starting mid-GOP.
    let written = &seg.fragments[..seg.fragments.len() - 1];
    assert!(written.len() >= 9, "{} fragments", written.len());
    for f in written {
        assert!(f.duration_seconds <= 1.05, "{f:?}");
    }
    assert!(written.iter().filter(|f| f.starts_with_keyframe).count() >= 4);
    let info = probe_bytes(&seg.bytes).unwrap();
    assert_eq!(info.fragments, seg.fragments.len());
}

/// Byte offsets to cut at: every fragment boundary, bytes around them, and
/// a spread of arbitrary offsets.
fn cut_offsets(seg: &Segment) -> Vec<u64> {
    let len = seg.bytes.len() as u64;
    let mut cuts = vec![0, 7, seg.summary.init_bytes - 1];
    for f in &seg.fragments {
        for d in [0i64, 1, -1, 8, 9, 100, -100] {
            cuts.push((f.offset as i64 + d).clamp(0, len as i64) as u64);
        }
    }
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..40 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        cuts.push((x >> 11) % len);
    }
    cuts.push(len);
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

#[test]
fn truncated_segments_keep_their_complete_fragments() {
    let seg = fixture_segment();
    let dir = tempfile::tempdir().unwrap();
    let boundaries: Vec<u64> = std::iter::once(seg.summary.init_bytes)
        .chain(seg.fragments.iter().map(|f| f.offset + f.bytes))
        .collect();
    for cut in cut_offsets(seg) {
        let bytes = &seg.bytes[..cut as usize];
        if cut < seg.summary.init_bytes {
            assert!(
                probe_bytes(bytes).is_err(),
                "cut at {cut} inside the init segment"
            );
            continue;
        }
        let complete: Vec<&FragmentInfo> = seg
            .fragments
            .iter()
            .filter(|f| f.offset + f.bytes <= cut)
            .collect();
        let video: u64 = complete.iter().map(|f| f.video_samples as u64).sum();
        let audio: u64 = complete.iter().map(|f| f.audio_samples as u64).sum();
        let info = probe_bytes(bytes).unwrap();
        assert_eq!(info.fragments, complete.len(), "cut at {cut}");
        assert_eq!(
            info.video_track().unwrap().sample_count,
            video,
            "cut at {cut}"
        );
        assert_eq!(
            info.audio_track().unwrap().sample_count,
            audio,
            "cut at {cut}"
        );
        assert_eq!(
            info.truncated_tail,
            !boundaries.contains(&cut),
            "cut at {cut}"
        );
        let samples: Vec<_> = Mp4Samples::from_bytes(bytes)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(samples.len() as u64, video + audio, "cut at {cut}");

        if boundaries.contains(&cut) {
            let path = write_temp(dir.path(), "cut.mp4", bytes);
            let out = run(Command::new("ffprobe")
                .args([
                    "-v",
                    "error",
                    "-of",
                    "json",
                    "-count_packets",
                    "-show_entries",
                    "stream=nb_read_packets",
                ])
                .arg(&path));
            assert!(
                out.stderr.is_empty(),
                "ffprobe on the cut at {cut}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            // Streams without packets have no count at all.
            let counted: u64 = v["streams"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|s| s.get("nb_read_packets"))
                .map(|n| int(n) as u64)
                .sum();
            assert_eq!(counted, video + audio, "ffprobe on the cut at {cut}");
        }
    }
}

/// The reader's view of one track next to ffprobe's, packet by packet:
/// sizes, durations, keyframe flags and decode-time steps.
fn assert_reader_matches_ffprobe(file: &Path, kind: TrackKind, stream: &str) {
    let expected = ffprobe_packets(file, stream);
    let samples: Vec<_> = Mp4Samples::open(file)
        .unwrap()
        .map(Result::unwrap)
        .filter(|s| s.kind == kind)
        .collect();
    assert_eq!(samples.len(), expected.len(), "{file:?} {stream}");
    for (i, (s, e)) in samples.iter().zip(&expected).enumerate() {
        assert_eq!(
            s.data.len() as i64,
            e.3,
            "{file:?} {stream} packet {i} size"
        );
        if let Some(d) = e.2 {
            assert_eq!(
                i64::from(s.duration),
                d,
                "{file:?} {stream} packet {i} duration"
            );
        }
        assert_eq!(s.keyframe, e.4, "{file:?} {stream} packet {i} keyframe");
        assert_eq!(
            s.dts - samples[0].dts,
            e.1 - expected[0].1,
            "{file:?} {stream} packet {i} dts"
        );
        assert_eq!(
            s.pts - s.dts,
            e.0 - e.1,
            "{file:?} {stream} packet {i} composition offset"
        );
    }
    let info = probe(file).unwrap();
    let track = info.tracks.iter().find(|t| t.kind == kind).unwrap();
    assert_eq!(track.sample_count as usize, expected.len());
    let total: u64 = samples.iter().map(|s| u64::from(s.duration)).sum();
    assert!((track.duration_seconds - total as f64 / f64::from(track.timescale)).abs() < 1e-9);
    assert!(!info.truncated_tail);
}

#[test]
fn reader_agrees_with_ffprobe_on_cht_and_ffmpeg_files() {
    let dir = tempfile::tempdir().unwrap();
    let own = write_temp(dir.path(), "own.mp4", &fixture_segment().bytes);
    let progressive = dir.path().join("progressive.mp4");
    let ffmpeg_fragmented = dir.path().join("ffmpeg_frag.mp4");
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(fixture_path())
        .args(["-c", "copy"])
        .arg(&progressive));
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(fixture_path())
        .args([
            "-c",
            "copy",
            "-bsf:a",
            "aac_adtstoasc",
            "-movflags",
            "frag_keyframe+empty_moov",
        ])
        .arg(&ffmpeg_fragmented));
    for file in [&own, &progressive, &ffmpeg_fragmented] {
        assert_reader_matches_ffprobe(file, TrackKind::Video, "v");
        assert_reader_matches_ffprobe(file, TrackKind::Audio, "a");
    }
    let info = probe(&progressive).unwrap();
    assert!(!info.fragmented);
    let video = info.video_track().unwrap();
    assert_eq!(
        (video.codec.as_str(), video.width, video.height),
        ("avc1.64001e", Some(640), Some(360))
    );
    assert_eq!(video.avc.as_ref(), Some(&fixture().avc));
    let audio = info.audio_track().unwrap();
    assert_eq!(
        (audio.codec.as_str(), audio.sample_rate, audio.channels),
        ("mp4a.40.2", Some(48_000), Some(2))
    );
    assert!(probe(&ffmpeg_fragmented).unwrap().fragmented);
}

#[test]
fn samples_convert_back_to_the_source_annexb() {
    let f = fixture();
    let mut samples = Mp4Samples::from_bytes(&fixture_segment().bytes).unwrap();
    let avc = samples.tracks().iter().find_map(|t| t.avc.clone()).unwrap();
    let mut video = f.packets.iter().filter_map(|p| {
        if let Packet::Video(v) = p {
            Some(v)
        } else {
            None
        }
    });
    for s in samples
        .by_ref()
        .map(Result::unwrap)
        .filter(|s| s.kind == TrackKind::Video)
    {
        let mut annexb = Vec::new();
        avc.sample_to_annexb(&s.data, &mut annexb);
        let src = video.next().unwrap();
        let want: Vec<&[u8]> = annexb_nals(&src.data).collect();
        assert_eq!(annexb_nals(&annexb).collect::<Vec<_>>(), want);
    }
    assert!(video.next().is_none());
}

#[test]
fn timestamp_jumps_leave_a_monotonic_playable_file() {
    const HOUR: i64 = 3600 * 90_000;
    let shifted: Vec<Packet> = fixture()
        .packets
        .iter()
        .enumerate()
        .map(|(i, p)| {
            // +1 h a third of the way in, then back to 20 s before the start.
            let shift = match i * 3 / fixture().packets.len() {
                0 => 0,
                1 => HOUR,
                _ => -20 * 90_000,
            };
            match p.clone() {
                Packet::Video(mut v) => {
                    v.pts += shift;
                    v.dts += shift;
                    Packet::Video(v)
                }
                Packet::Audio(mut a) => {
                    a.pts += shift;
                    Packet::Audio(a)
                }
            }
        })
        .collect();
    let seg = write_segment(&shifted, FragmentOptions::default());
    let s = &seg.summary;
    assert!(s.timestamp_jumps >= 4, "two jumps on each track: {s:?}");
    assert!(
        s.duration_seconds < 10.5,
        "jumps must not stretch the timeline: {s:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = write_temp(dir.path(), "jumps.mp4", &seg.bytes);
    assert_eq!(
        ffprobe_counts(&out),
        (VIDEO_PACKETS as u64, AUDIO_PACKETS as u64)
    );
    assert_decodes_cleanly(&out);
    for stream in ["v", "a"] {
        let packets = ffprobe_packets(&out, stream);
        assert!(
            packets.windows(2).all(|w| w[1].1 > w[0].1),
            "{stream} DTS not increasing"
        );
    }
}

#[test]
fn extracted_fixture_matches_its_description() {
    let f = fixture();
    let video = f
        .packets
        .iter()
        .filter(|p| matches!(p, Packet::Video(_)))
        .count();
    assert_eq!(
        (video, f.packets.len() - video),
        (VIDEO_PACKETS, AUDIO_PACKETS)
    );
    assert_eq!(
        (
            f.avc.profile_idc,
            f.video_config.width,
            f.video_config.height
        ),
        (100, 640, 360)
    );
}

/// A small valid segment (first ~2 s) and the byte positions of its boxes'
/// structure (init segment and each moof), where damage is interesting.
fn small_segment() -> &'static (Vec<u8>, Vec<usize>) {
    static SMALL: OnceLock<(Vec<u8>, Vec<usize>)> = OnceLock::new();
    SMALL.get_or_init(|| {
        let seg = write_segment(
            &fixture().packets[..150],
            FragmentOptions {
                fragment_ms: 500,
                ..Default::default()
            },
        );
        let mut structure: Vec<usize> = (0..seg.summary.init_bytes as usize).collect();
        for f in &seg.fragments {
            let at = f.offset as usize;
            let moof_len = u32::from_be_bytes(seg.bytes[at..at + 4].try_into().unwrap()) as usize;
            structure.extend(at..at + moof_len + 8);
        }
        (seg.bytes, structure)
    })
}

fn read_everything(bytes: &[u8]) {
    let _ = probe_bytes(bytes);
    if let Ok(samples) = Mp4Samples::from_bytes(bytes) {
        for s in samples.take(10_000) {
            if s.is_err() {
                break;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        read_everything(&bytes);
    }

    #[test]
    fn random_bytes_behind_a_valid_header_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let (valid, _) = small_segment();
        let mut bytes = valid[..1200.min(valid.len())].to_vec();
        bytes.extend_from_slice(&tail);
        read_everything(&bytes);
    }

    #[test]
    fn bit_flipped_segments_never_panic(
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), 0u8..8), 1..12),
        cut in any::<proptest::sample::Index>(),
    ) {
        let (valid, structure) = small_segment();
        let mut bytes = valid.clone();
        for (at, bit) in flips {
            bytes[*at.get(structure)] ^= 1 << bit;
        }
        read_everything(&bytes);
        bytes.truncate(cut.index(bytes.len() + 1));
        read_everything(&bytes);
    }
}

#[test]
fn writing_costs_little_more_than_a_copy() {
    let packets = &fixture().packets;
    let payload: usize = packets
        .iter()
        .map(|p| match p {
            Packet::Video(v) => v.data.len(),
            Packet::Audio(a) => a.data.len(),
        })
        .sum();
    let rounds = 5;
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        let f = fixture();
        let mut w = FragmentWriter::new(
            std::io::sink(),
            Some(&f.video_config),
            std::slice::from_ref(&f.audio_config),
            FragmentOptions::default(),
        )
        .unwrap();
        for p in packets {
            match p {
                Packet::Video(v) => w.push_video(v).unwrap(),
                Packet::Audio(a) => w.push_audio(a).unwrap(),
            };
        }
        w.finish().unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    let mb_per_s = (payload * rounds) as f64 / seconds / 1e6;
    eprintln!(
        "fMP4 writer: {mb_per_s:.0} MB/s, {:.0} packets/s",
        (packets.len() * rounds) as f64 / seconds
    );
    // 10 s of 1 Mbit/s video must take far less than real time, even unoptimised.
    assert!(mb_per_s > 20.0, "{mb_per_s:.1} MB/s");

    let bytes = &fixture_segment().bytes;
    let started = std::time::Instant::now();
    let info = probe_bytes(bytes).unwrap();
    let probe_time = started.elapsed();
    let started = std::time::Instant::now();
    let read = Mp4Samples::from_bytes(bytes)
        .unwrap()
        .map(Result::unwrap)
        .count();
    let read_time = started.elapsed();
    assert_eq!(
        read as u64,
        info.tracks.iter().map(|t| t.sample_count).sum::<u64>()
    );
    eprintln!(
        "fMP4 reader: probe {probe_time:?}, all {read} samples {read_time:?} ({} fragments)",
        info.fragments
    );
}
