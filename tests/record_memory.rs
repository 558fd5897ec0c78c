//! Memory stays bounded however long a recording runs: ten minutes of stream
//! sent at full speed are recorded with a resident set under 64 MB.

use cht_suite::*;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Peak resident set (VmHWM) of a live process, in kB.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
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
    let mut rec = Recorder::start(&sessions, &["--relay", "off"]);
    let mut sender = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&long)
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(format!("tcp://{}", rec.addr))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = rec.child.id();
    let mut peak = 0;
    while sender.try_wait().unwrap().is_none() {
        peak = peak.max(peak_rss_kb(pid).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(20));
    }
    // Stop once the segment is finished (the sender's end was read):
    // "segment" alone also matches the periodic status line, which comes
    // mid-stream on a loaded machine, and stopping then loses the tail.
    rec.wait_for_line("recording_000.mp4 finished", Duration::from_secs(60));
    peak = peak.max(peak_rss_kb(pid).unwrap_or(0));
    assert!(sender.wait().unwrap().success());
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let (status, log) = rec.wait(Duration::from_secs(20));
    assert!(status.success(), "{log}");

    let segment = std::fs::read_dir(&sessions)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("stream/recording_000.mp4");
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
        "peak RSS while recording 10 minutes at full speed: {:.1} MB",
        peak as f64 / 1024.0
    );
}
