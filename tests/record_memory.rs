//! Memory stays bounded however long a recording runs: ten minutes of the
//! fixture and half an hour of a small picture, sent at full speed, are
//! recorded and analysed with a resident set under 64 MB that does not
//! grow. (`cargo xtask memory` runs the two hours of the issue.)

// Tests may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use cht_suite::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A kB figure of a live process's `/proc/<pid>/status` (`VmHWM:`,
/// `VmRSS:`).
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak resident set (VmHWM) of a live process, in kB.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    status_kb(pid, "VmHWM:")
}

#[test]
fn ten_minutes_at_full_speed_stay_under_64_mb() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    // 60 x the 10 s fixture, made once so that the packets sent are known.
    let long = tmp.path().join("long.ts");
    let (ok, _, err) = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-stream_loop", "59", "-i"])
        .arg(fixture("av_high.ts"))
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(&long));
    assert!(ok, "{err}");
    let sent = ffprobe_packet_counts(&long);
    let mut rec = Recorder::start(&sessions, &["--relay", "off", "--once"]);
    let mut sender = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&long)
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(format!("tcp://{}", rec.addr))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = rec.child.id();
    // The peak until the recorder has written everything and exits (--once).
    let mut peak = 0;
    while rec.child.try_wait().unwrap().is_none() {
        peak = peak.max(peak_rss_kb(pid).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(sender.wait().unwrap().success());
    let (status, log) = rec.wait(Duration::from_secs(60));
    assert!(status.success(), "{log}");

    let segment = first_segment(&sessions);
    assert!(sent.0 > 17_000 && sent.1 > 28_000, "{sent:?}");
    assert_eq!(
        ffprobe_packet_counts(&segment),
        sent,
        "everything sent is recorded"
    );
    let secs = ffprobe_duration(&segment);
    assert!((secs - 600.0).abs() < 2.0, "duration {secs}");
    assert!(peak > 0, "could not read the recorder's memory");
    assert!(peak < 64 * 1024, "peak RSS {} MB", peak / 1024);
    eprintln!(
        "peak RSS while recording and analysing 10 minutes at full speed: {:.1} MB",
        peak as f64 / 1024.0
    );
}

/// Resident set (VmRSS) of a live process, in kB.
fn rss_kb(pid: u32) -> Option<u64> {
    status_kb(pid, "VmRSS:")
}

/// Half an hour of media (a one-minute 320x180 clip with audio, looped
/// with continuous timestamps) recorded and analysed at full speed: the
/// resident set stays under 64 MB and flat (the last quarter of the run
/// within 5 MB of the second) until everything is written, and every
/// packet is recorded.
#[test]
fn half_an_hour_at_full_speed_stays_under_64_mb_and_flat() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let clip = tmp.path().join("minute.ts");
    let (ok, _, err) = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=320x180:rate=30:duration=60")
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000:duration=60",
        ])
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "32", "-g", "60",
        ])
        .args([
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "mpegts",
        ])
        .arg(&clip));
    assert!(ok, "{err}");
    // 30 x the minute, made once so that the packets sent are known
    // (ffmpeg's own looping drops a picture per loop).
    let long = tmp.path().join("half_hour.ts");
    let (ok, _, err) = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-stream_loop", "29", "-i"])
        .arg(&clip)
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(&long));
    assert!(ok, "{err}");
    let sent = ffprobe_packet_counts(&long);
    let mut rec = Recorder::start(&sessions, &["--relay", "off", "--once"]);
    let mut sender = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&long)
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(format!("tcp://{}", rec.addr))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = rec.child.id();
    // The resident set and its peak from the first byte until the
    // recorder has written everything and exits (--once): the media
    // arrives in a second, the analysis then works through its queues.
    let mut samples = Vec::new();
    let mut peak = 0;
    while rec.child.try_wait().unwrap().is_none() {
        if let Some(kb) = rss_kb(pid) {
            samples.push(kb);
        }
        peak = peak.max(peak_rss_kb(pid).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(sender.wait().unwrap().success());
    let (status, log) = rec.wait(Duration::from_secs(60));
    assert!(status.success(), "{log}");

    let segment = first_segment(&sessions);
    assert!(sent.0 > 50_000 && sent.1 > 80_000, "{sent:?}");
    assert_eq!(
        ffprobe_packet_counts(&segment),
        sent,
        "everything sent is recorded"
    );
    let secs = ffprobe_duration(&segment);
    assert!((secs - 1800.0).abs() < 5.0, "duration {secs}");
    assert!(
        samples.len() >= 20,
        "{} samples of the resident set",
        samples.len()
    );
    assert!(peak > 0, "could not read the recorder's memory");
    let quarter = samples.len() / 4;
    let mean = |s: &[u64]| s.iter().sum::<u64>() as f64 / s.len() as f64 / 1024.0;
    let (second, last) = (
        mean(&samples[quarter..2 * quarter]),
        mean(&samples[3 * quarter..]),
    );
    eprintln!(
        "30 min of media recorded and analysed in {:.0} s: peak RSS {:.1} MB, mean {second:.1} MB in the second quarter, {last:.1} MB in the last",
        samples.len() as f64 / 10.0,
        peak as f64 / 1024.0
    );
    assert!(peak < 64 * 1024, "peak RSS {} MB", peak / 1024);
    assert!(
        (last - second).abs() <= 5.0,
        "RSS grew from {second:.1} to {last:.1} MB"
    );
}

/// The first segment of the one session under `sessions`.
fn first_segment(sessions: &Path) -> PathBuf {
    std::fs::read_dir(sessions)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .unwrap()
        .path()
        .join("stream/recording_000.mp4")
}
