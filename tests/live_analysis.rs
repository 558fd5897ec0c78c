//! `cht record` with live analysis: scene frames and audio chunks appear as
//! the stream arrives, quickly, completely, and survive a SIGTERM whole.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use cht_suite::*;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn only_session(sessions: &Path) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(sessions)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.pop().unwrap()
}

fn json_array(path: &Path) -> Vec<serde_json::Value> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
}

fn sigterm(pid: u32) {
    assert!(Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap()
        .success());
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The test is the sender: it times each demo chunk leaving, reads the
/// frame events as they come, and measures the time from the chunk of the
/// settled picture (the settle point, `picture_time`) to its event.
#[test]
fn scene_changes_are_on_disk_within_250_ms_of_arriving() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let mut rec = Recorder::start(
        &sessions,
        &[
            "--relay",
            "off",
            "--control",
            "off",
            "--events",
            "json",
            "--once",
            "--no-audio",
        ],
    );
    let stdout = rec.child.stdout.take().unwrap();
    let events = std::thread::spawn(move || {
        let mut frames = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let v: serde_json::Value =
                serde_json::from_str(&line).expect("each event line is JSON");
            if v["event"] == "frame" {
                frames.push((Instant::now(), v));
            }
        }
        frames
    });
    let slide_secs = 1.0;
    let opts = cht_demo::DemoOptions {
        slide_secs,
        duration: Some(Duration::from_secs(9)),
        ..cht_demo::DemoOptions::default()
    };
    let mut source = cht_demo::DemoSource::new(opts).unwrap();
    let mut conn = std::net::TcpStream::connect(&rec.addr).unwrap();
    conn.set_nodelay(true).unwrap();
    let start = Instant::now();
    let mut sent_at = Vec::new(); // (media time, instant the chunk was sent)
    while let Some((t, chunk)) = source.next_chunk().unwrap() {
        if let Some(wait) = Duration::from_secs_f64(t).checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        conn.write_all(&chunk).unwrap();
        sent_at.push((t, Instant::now()));
    }
    drop(conn);
    let (status, log) = rec.wait(Duration::from_secs(30));
    assert!(status.success(), "{log}");
    let frames = events.join().unwrap();

    let mut latencies = Vec::new();
    let mut switches = Vec::new();
    for (seen, entry) in &frames {
        let index = json_array(&only_session(&sessions).join("frames/index.json"));
        assert!(
            index.iter().any(|e| e["id"] == entry["id"]),
            "event before index entry"
        );
        if entry["kind"] != "event" || entry["cause"] == "start" {
            continue; // the first picture of the segment, or an update
        }
        let ts = entry["timestamp"].as_f64().unwrap();
        switches.push(ts);
        let shown = entry["picture_time"].as_f64().unwrap();
        assert!(shown >= ts, "{entry}");
        let (_, sent) = sent_at
            .iter()
            .find(|(t, _)| (t - shown).abs() < 1e-3)
            .expect("a chunk at the picture's time");
        latencies.push(seen.duration_since(*sent).as_secs_f64() * 1e3);
    }
    assert!(
        switches.len() >= 7 && switches.len() <= 8,
        "{} slide switches seen of 8: {frames:?}",
        switches.len()
    );
    for ts in &switches {
        // Each event is timed at its switch (the demo switches on whole
        // multiples of `slide_secs`), to the frame.
        let off = (ts / slide_secs - (ts / slide_secs).round()).abs() * slide_secs;
        assert!(
            off <= 1.0 / 30.0 + 1e-3,
            "event at {ts} s is not at a slide switch"
        );
    }
    latencies.sort_by(f64::total_cmp);
    let (p50, p95) = (percentile(&latencies, 0.5), percentile(&latencies, 0.95));
    eprintln!(
        "settle point -> index.json latency over {} events: p50 {p50:.1} ms, p95 {p95:.1} ms",
        latencies.len()
    );
    assert!(
        p95 < 250.0,
        "p95 latency {p95:.1} ms (p50 {p50:.1}); all: {latencies:?}"
    );
}

#[test]
fn the_demo_records_frames_and_audio_chunks_in_20_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let rec = Recorder::start(
        &sessions,
        &[
            "--demo",
            "--demo-duration",
            "20s",
            "--relay",
            "off",
            "--control",
            "off",
        ],
    );
    let (status, log) = rec.wait(Duration::from_secs(60));
    assert!(status.success(), "{log}");
    let session = only_session(&sessions);
    let frames = json_array(&session.join("frames/index.json"));
    let chunks = json_array(&session.join("audio/index.json"));
    assert!(frames.len() >= 3, "{} frames", frames.len());
    assert!(!chunks.is_empty(), "no audio chunk");
    let segment = session.join("stream/recording_000.mp4");
    assert_eq!(ffmpeg_decode_errors(&segment), "");
    assert!(ffprobe_duration(&segment) > 19.0);
}

#[test]
fn sigterm_leaves_every_output_complete_and_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let mut rec = Recorder::start(
        &sessions,
        &[
            "--demo",
            "--relay",
            "off",
            "--control",
            "off",
            "--audio-chunk-secs",
            "4",
        ],
    );
    rec.wait_for_line("recording", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(6500));
    let pid = rec.child.id();
    let asked = Instant::now();
    sigterm(pid);
    let (status, log) = rec.wait(Duration::from_secs(10));
    let took = asked.elapsed();
    assert!(status.success(), "SIGTERM must exit 0:\n{log}");
    assert!(took < Duration::from_secs(2), "took {took:?} to stop");

    let session = only_session(&sessions);
    let segment = session.join("stream/recording_000.mp4");
    assert_eq!(ffmpeg_decode_errors(&segment), "", "segment");
    assert!(ffprobe_duration(&segment) > 5.0);
    let frames = json_array(&session.join("frames/index.json"));
    assert!(frames.len() >= 2, "{frames:?}");
    for f in &frames {
        let jpeg = session.join(f["path"].as_str().unwrap());
        assert_eq!(ffmpeg_decode_errors(&jpeg), "", "{}", jpeg.display());
    }
    let chunks = json_array(&session.join("audio/index.json"));
    assert!(
        chunks.len() >= 2,
        "the chunk in progress must be finished too: {chunks:?}"
    );
    let mut total = 0.0;
    for c in &chunks {
        let wav = session.join(c["path"].as_str().unwrap());
        assert_eq!(ffmpeg_decode_errors(&wav), "", "{}", wav.display());
        total += c["duration"].as_f64().unwrap();
    }
    assert!(total > 5.0, "audio kept: {total} s");
    let leftovers: Vec<_> = walk(&session)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            name.ends_with(".part") || name.starts_with('.') || name.ends_with(".tmp")
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The chunks of a recorded stream, concatenated, are the whole AAC track
/// decoded in one pass, sample for sample.
#[test]
fn recorded_audio_chunks_concatenate_to_the_whole_track() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let rec = Recorder::start(
        &sessions,
        &[
            "--relay",
            "off",
            "--control",
            "off",
            "--once",
            "--audio-chunk-secs",
            "3",
        ],
    );
    let ts = std::fs::read(fixture("av_high.ts")).unwrap();
    let mut conn = std::net::TcpStream::connect(&rec.addr).unwrap();
    for piece in ts.chunks(64 * 1024) {
        conn.write_all(piece).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(conn);
    let (status, log) = rec.wait(Duration::from_secs(30));
    assert!(status.success(), "{log}");
    let session = only_session(&sessions);
    let chunks = json_array(&session.join("audio/index.json"));
    assert!(chunks.len() >= 3, "{chunks:?}");
    let mut joined: Vec<i16> = Vec::new();
    for c in &chunks {
        let reader =
            cht_audio::hound::WavReader::open(session.join(c["path"].as_str().unwrap())).unwrap();
        joined.extend(reader.into_samples::<i16>().map(Result::unwrap));
    }
    let items = cht_ts::demux_all(&ts).items;
    let params = items.iter().find_map(|i| match i {
        cht_ts::DemuxItem::AudioParams(p) => Some(p.clone()),
        _ => None,
    });
    let frames: Vec<cht_core::AudioPacket> = items
        .into_iter()
        .filter_map(|i| match i {
            cht_ts::DemuxItem::Audio(f) => Some(f),
            _ => None,
        })
        .collect();
    let whole = cht_audio::decode_whole_track(
        &params.unwrap(),
        &frames,
        cht_audio::AudioFormat::Speech16kMono,
    )
    .unwrap();
    assert_eq!(joined.len(), whole.samples.len());
    assert!(
        joined == whole.samples,
        "chunks differ from the one-pass decode"
    );
}

/// `--on-frame`, `--on-segment` and `--on-audio-chunk` run their commands
/// with the file's path, and the transcripts land in `transcript/`.
#[test]
fn hooks_run_for_frames_segments_and_audio_chunks() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let log = tmp.path().join("hooks.log");
    let append = |tag: &str| format!("sh -c 'echo {tag} \"$1\" >> {}' hook", log.display());
    let rec = Recorder::start(
        &sessions,
        &[
            "--relay",
            "off",
            "--once",
            "--audio-chunk-secs",
            "4",
            "--on-frame",
            &append("frame"),
            "--on-segment",
            &append("segment"),
            "--on-audio-chunk",
            "sh -c 'echo heard $(basename \"$1\")' transcribe",
        ],
    );
    ffmpeg_send(&fixture("cuts_high.ts"), &rec.addr);
    let (status, stderr) = rec.wait(Duration::from_secs(60));
    assert!(status.success(), "{stderr}");
    let session = only_session(&sessions);
    let frames = json_array(&session.join("frames/index.json"));
    let lines = std::fs::read_to_string(&log).unwrap();
    let frame_lines: Vec<&str> = lines.lines().filter(|l| l.starts_with("frame ")).collect();
    assert_eq!(frame_lines.len(), frames.len(), "{lines}");
    for (line, entry) in frame_lines.iter().zip(&frames) {
        let path = line.strip_prefix("frame ").unwrap();
        assert_eq!(
            Path::new(path),
            session.join(entry["path"].as_str().unwrap())
        );
        assert!(Path::new(path).is_file());
    }
    assert!(
        lines
            .lines()
            .any(|l| l.starts_with("segment ") && l.ends_with("recording_000.mp4")),
        "{lines}"
    );
    let chunks = json_array(&session.join("audio/index.json"));
    let transcripts = json_array(&session.join("transcript/index.json"));
    assert_eq!(transcripts.len(), chunks.len());
    for (t, c) in transcripts.iter().zip(&chunks) {
        let text = std::fs::read_to_string(session.join(t["path"].as_str().unwrap())).unwrap();
        let wav = Path::new(c["path"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(text.trim(), format!("heard {wav}"));
    }
}

/// A 4:4:4 stream (what libx264 makes of an RGB screen grab without
/// `-pix_fmt yuv420p`) is recorded in full, but openh264 cannot decode it:
/// cht must say so once, with the fix, rather than log endless decoder
/// errors; `cht analyze` on the recording fails with the same reason.
#[test]
fn a_444_stream_is_recorded_and_the_analysis_says_what_to_change() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("444.ts");
    let (ok, _, err) = run(Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=30",
            "-frames:v",
            "60",
        ])
        .args([
            "-c:v", "libx264", "-pix_fmt", "yuv444p", "-g", "30", "-f", "mpegts",
        ])
        .arg(&input));
    assert!(ok, "{err}");
    let sessions = tmp.path().join("sessions");
    let mut rec = Recorder::start(
        &sessions,
        &["--relay", "off", "--events", "json", "--once", "--no-audio"],
    );
    let stdout = rec.child.stdout.take().unwrap();
    let events = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    ffmpeg_send(&input, &rec.addr);
    let (status, log) = rec.wait(Duration::from_secs(60));
    assert!(status.success(), "{log}");
    let warnings: Vec<serde_json::Value> = events
        .join()
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"] == "warning" && e["kind"] == "unsupported_video")
        .collect();
    assert_eq!(warnings.len(), 1, "one warning per segment: {warnings:?}");
    let message = warnings[0]["message"].as_str().unwrap();
    assert!(
        message.contains("4:4:4") && message.contains("-pix_fmt yuv420p"),
        "{message}"
    );
    assert!(
        !log.contains("skipping access units"),
        "no decoder-error flood: {log}"
    );

    let session = only_session(&sessions);
    let segment = session.join("stream/recording_000.mp4");
    assert_eq!(
        ffprobe_packet_counts(&segment).0,
        60,
        "the recording keeps every frame"
    );
    let frames = session.join("frames/index.json");
    assert!(
        !frames.exists() || json_array(&frames).is_empty(),
        "no frame can be taken"
    );

    let (ok, _, err) = run(Command::new(cht_bin())
        .arg("analyze")
        .arg(&segment)
        .arg("--out")
        .arg(tmp.path().join("out")));
    assert!(!ok, "analysing an undecodable video must fail");
    assert!(
        err.contains("cannot analyse") && err.contains("-pix_fmt yuv420p"),
        "{err}"
    );
}
