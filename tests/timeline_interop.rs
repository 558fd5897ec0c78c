//! Streams whose timeline or tracks misbehave, made by ffmpeg and judged by
//! ffprobe: timestamp jumps back and forward are stitched into one
//! timeline (recording, frames and chunks alike), a sample-rate change goes
//! on in a new segment without losing audio, video that comes seconds after
//! the audio is recorded with all the audio, and joining a long-GOP or an
//! intra-refresh stream mid-way records video from the first picture that
//! can be decoded.

// Tests may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use cht_suite::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ffmpeg(args: &[&str], out: &Path) {
    let (ok, _, err) = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .arg(out));
    assert!(ok, "{err}");
}

/// `secs` of testsrc2 (30 fps, GOP 1 s) and a sine at `rate` Hz, in MPEG-TS,
/// timestamps from `offset` s.
fn clip(dir: &Path, name: &str, secs: u32, rate: u32, offset: u32) -> PathBuf {
    let out = dir.join(name);
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=size=320x180:rate=30:duration={secs}"),
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=300:sample_rate={rate}:duration={secs}"),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "30",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-output_ts_offset",
            &offset.to_string(),
            "-f",
            "mpegts",
        ],
        &out,
    );
    out
}

fn concat(dir: &Path, name: &str, parts: &[PathBuf]) -> PathBuf {
    let out = dir.join(name);
    let mut bytes = Vec::new();
    for p in parts {
        bytes.extend(std::fs::read(p).unwrap());
    }
    std::fs::write(&out, bytes).unwrap();
    out
}

fn remux(input: &Path, output: &Path) -> String {
    let (ok, _, err) = run(Command::new(cht_bin()).arg("remux").arg(input).arg(output));
    assert!(ok, "{err}");
    err
}

/// `cht analyze INPUT --out OUT`: the frames and chunks indexes.
fn analyze(input: &Path, out: &Path) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let (ok, _, err) = run(Command::new(cht_bin())
        .args(["analyze", "-q", "--detector", "ffmpeg", "--out"])
        .arg(out)
        .arg(input));
    assert!(ok, "{err}");
    let read = |p: PathBuf| -> Vec<serde_json::Value> {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    (
        read(out.join("frames/index.json")),
        read(out.join("audio/index.json")),
    )
}

/// Packet times (seconds) of one stream of `path`, as ffprobe reads them.
fn packet_times(path: &Path, stream: &str, field: &str) -> Vec<f64> {
    let (ok, out, err) = run(Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", stream, "-show_entries"])
        .arg(format!("packet={field}"))
        .args(["-of", "csv=p=0"])
        .arg(path));
    assert!(ok, "{err}");
    out.lines().filter_map(|l| l.trim().parse().ok()).collect()
}

/// The chunks, in order, cover the audio without gaps or overlaps.
fn assert_chunks_continuous(chunks: &[serde_json::Value], total: f64) {
    let mut end: Option<f64> = None;
    let mut sum = 0.0;
    for c in chunks {
        let (start, duration) = (
            c["start"].as_f64().unwrap(),
            c["duration"].as_f64().unwrap(),
        );
        if let Some(end) = end {
            assert!((start - end).abs() < 0.05, "chunks {chunks:#?}");
        }
        end = Some(start + duration);
        sum += duration;
    }
    assert!(
        (sum - total).abs() < 0.3,
        "{sum} s of chunks for {total} s of audio"
    );
}

#[test]
fn pts_jumps_back_and_forward_are_one_timeline() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // 4 s, then the clock restarts at 0 (back 4 s), then leaps to 60 s.
    let a = clip(dir, "a.ts", 4, 48_000, 0);
    let c = clip(dir, "c.ts", 4, 48_000, 60);
    let input = concat(dir, "jumps.ts", &[a.clone(), a, c]);
    let sent = ffprobe_packet_counts(&input);

    let recording = dir.join("jumps.mp4");
    let log = remux(&input, &recording);
    assert!(
        !dir.join("jumps_001.mp4").exists(),
        "stitched, not split: {log}"
    );
    assert_eq!(ffprobe_packet_counts(&recording), sent, "nothing dropped");
    assert_eq!(ffmpeg_decode_errors(&recording), "");
    let duration = ffprobe_duration(&recording);
    assert!(
        (duration - 12.0).abs() < 0.3,
        "12 s of media, not 64: {duration}"
    );
    for stream in ["v:0", "a:0"] {
        let dts = packet_times(&recording, stream, "dts_time");
        assert!(dts.windows(2).all(|w| w[1] > w[0]), "{stream} increasing");
        assert!(
            dts.windows(2).all(|w| w[1] - w[0] < 0.1),
            "{stream} no leap"
        );
    }

    let (frames, chunks) = analyze(&input, &dir.join("out"));
    let times: Vec<f64> = frames
        .iter()
        .map(|f| f["timestamp"].as_f64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[1] > w[0]),
        "frame times never repeat: {times:?}"
    );
    assert!(
        times.iter().all(|&t| t < 12.1),
        "no frame at 64 s: {times:?}"
    );
    assert!(chunks.iter().all(|c| c["segment"] == 0));
    assert_chunks_continuous(&chunks, 12.0);
}

#[test]
fn a_sample_rate_change_goes_on_in_a_new_segment_with_all_the_audio() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = clip(dir, "a.ts", 4, 48_000, 0);
    // The 44.1 kHz part goes on a moment later, as a sender switching its
    // audio device does.
    let b = clip(dir, "b.ts", 4, 44_100, 5);
    let input = concat(dir, "rates.ts", &[a.clone(), b.clone()]);
    let recording = dir.join("rates.mp4");
    let log = remux(&input, &recording);
    let second = dir.join("rates_001.mp4");
    assert!(second.exists(), "a new segment for 44.1 kHz: {log}");
    let (one, two) = (
        ffprobe_packet_counts(&recording),
        ffprobe_packet_counts(&second),
    );
    let (sa, sb) = (ffprobe_packet_counts(&a), ffprobe_packet_counts(&b));
    assert_eq!(one.0 + two.0, sa.0 + sb.0, "every picture");
    assert_eq!(one.1 + two.1, sa.1 + sb.1, "every audio packet");
    for (path, rate) in [(&recording, "48000"), (&second, "44100")] {
        let (ok, out, _) = run(Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "a:0", "-show_entries"])
            .args(["stream=sample_rate", "-of", "csv=p=0"])
            .arg(path));
        assert!(ok && out.trim() == rate, "{}: {out}", path.display());
        assert_eq!(ffmpeg_decode_errors(path), "");
    }

    let (_, chunks) = analyze(&input, &dir.join("out"));
    let by_segment = |s: u64| -> f64 {
        chunks
            .iter()
            .filter(|c| c["segment"] == s)
            .map(|c| c["duration"].as_f64().unwrap())
            .sum()
    };
    let (first, next) = (by_segment(0), by_segment(1));
    assert!(
        (first + next - 8.0).abs() < 0.3,
        "{first} + {next} s of chunks"
    );
    assert!(next > 3.5, "the 44.1 kHz audio has its chunks: {chunks:#?}");
}

/// Live, the 44.1 kHz segment is listed in `stream/index.json` where the
/// 48 kHz one ends on the session's timeline, and its chunks' session times
/// follow from that start.
#[test]
fn a_sample_rate_change_live_is_placed_after_the_first_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = clip(dir, "a.ts", 4, 48_000, 0);
    let b = clip(dir, "b.ts", 4, 44_100, 5);
    let input = concat(dir, "rates.ts", &[a, b]);
    let sessions = dir.join("sessions");
    let rec = Recorder::start(&sessions, &["--relay", "off", "--once"]);
    let (ok, _, err) = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&input)
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(format!("tcp://{}", rec.addr)));
    assert!(ok, "{err}");
    let (status, log) = rec.wait(std::time::Duration::from_secs(60));
    assert!(status.success(), "{log}");
    let session = std::fs::read_dir(&sessions)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .unwrap()
        .path();
    let read = |p: &str| -> Vec<serde_json::Value> {
        serde_json::from_slice(&std::fs::read(session.join(p)).unwrap()).unwrap()
    };
    let segments = read("stream/index.json");
    assert_eq!(segments.len(), 2, "{segments:#?}");
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
    assert_eq!(
        (segments[0]["segment"].as_u64(), f(&segments[0], "start")),
        (Some(0), 0.0)
    );
    assert_eq!(segments[1]["segment"].as_u64(), Some(1));
    let first_end = f(&segments[0], "start") + f(&segments[0], "duration");
    assert!(
        (f(&segments[1], "start") - first_end).abs() < 0.002,
        "the second segment starts where the first ends: {segments:#?}"
    );
    let chunks = read("audio/index.json");
    let later: Vec<_> = chunks.iter().filter(|c| c["segment"] == 1).collect();
    assert!(!later.is_empty(), "{log}");
    for c in later {
        let expected = f(&segments[1], "start") + f(c, "start");
        assert!((f(c, "session_start") - expected).abs() < 0.002, "{c}");
    }
}

#[test]
fn video_three_seconds_late_is_recorded_with_all_the_audio() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let input = dir.join("late.ts");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=300:sample_rate=48000:duration=8",
            "-itsoffset",
            "3",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=30:duration=5",
            "-map",
            "1:v",
            "-map",
            "0:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "30",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-f",
            "mpegts",
        ],
        &input,
    );
    let sessions = dir.join("sessions");
    let mut rec = Recorder::start(&sessions, &["--relay", "off", "--once"]);
    let (ok, _, err) = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&input)
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(format!("tcp://{}", rec.addr)));
    assert!(ok, "{err}");
    rec.wait_for_line("stopped", std::time::Duration::from_secs(60));
    let (status, log) = rec.wait(std::time::Duration::from_secs(30));
    assert!(status.success(), "{log}");
    let session = std::fs::read_dir(&sessions)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .unwrap()
        .path();
    let recording = session.join("stream/recording_000.mp4");
    assert!(!session.join("stream/recording_001.mp4").exists(), "{log}");
    assert_eq!(
        ffprobe_packet_counts(&recording),
        ffprobe_packet_counts(&input)
    );
    assert_eq!(ffmpeg_decode_errors(&recording), "");
    let frames: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(session.join("frames/index.json")).unwrap()).unwrap();
    assert!(!frames.is_empty(), "the late video is analysed");
    let chunks: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(session.join("audio/index.json")).unwrap()).unwrap();
    let first = chunks[0]["start"].as_f64().unwrap();
    assert!(
        (first + 3.0).abs() < 0.2,
        "the audio before the picture is kept: {first}"
    );
    assert_chunks_continuous(&chunks, 8.0);
}

/// The bytes of `input` from about `secs` in (whole TS packets).
fn joined_mid_way(input: &Path, secs: f64, out: &Path) {
    let bytes = std::fs::read(input).unwrap();
    let duration = ffprobe_duration(input);
    let at = ((bytes.len() as f64 * secs / duration) as usize / 188) * 188;
    std::fs::write(out, &bytes[at..]).unwrap();
}

#[test]
fn joining_a_long_gop_or_intra_refresh_stream_records_its_video() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A long GOP: one IDR, then I pictures only at the scene cuts (the
    // first after the join at 3.5 s, the next IDR at 9.5 s).
    let long_gop = dir.join("long_gop.ts");
    let (ok, _, err) = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(fixture("cuts_high.ts"))
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        ])
        .args(["-x264-params", "keyint=300:min-keyint=300:scenecut=40"])
        // Parameter sets with every picture, as hardware encoders send
        // them: an I picture is then decodable on its own.
        .args([
            "-flags:v",
            "+global_header",
            "-bsf:v",
            "dump_extra=freq=all",
        ])
        .args(["-c:a", "copy", "-f", "mpegts"])
        .arg(&long_gop));
    assert!(ok, "{err}");
    // Intra refresh: one IDR, then a recovery point every 2 s.
    let refresh = dir.join("refresh.ts");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=30:duration=8",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=300:sample_rate=48000:duration=8",
            "-c:v",
            "libx264",
            "-intra-refresh",
            "1",
            "-g",
            "60",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-f",
            "mpegts",
        ],
        &refresh,
    );
    // Joined about 1 s in (by bytes), before the next IDR: video from the
    // first I picture (3.5 s, 25 fps) and from the first recovery point
    // (2 s, 30 fps), and it decodes.
    for (input, at_least) in [(&long_gop, 120), (&refresh, 150)] {
        let joined = input.with_extension("joined.ts");
        joined_mid_way(input, 1.0, &joined);
        let recording = joined.with_extension("mp4");
        let log = remux(&joined, &recording);
        let pictures = ffprobe_packet_counts(&recording).0;
        assert!(
            pictures >= at_least,
            "{}: {pictures} pictures recorded; {log}",
            input.display()
        );
        let (ok, first, _) = run(Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-read_intervals",
                "%+#1",
            ])
            .args(["-show_entries", "frame=pict_type", "-of", "csv=p=0"])
            .arg(&recording));
        assert!(ok && first.trim() == "I" || input == &refresh, "{first}");
        if input == &long_gop {
            assert_eq!(ffmpeg_decode_errors(&recording), "");
        }
        let (frames, _) = analyze(&joined, &joined.with_extension("out"));
        assert!(!frames.is_empty(), "{}: scene frames", input.display());
    }
}
