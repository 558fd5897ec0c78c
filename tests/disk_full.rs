//! A full disk mid-recording: the segment is cut back to its last complete
//! fragment (ffmpeg decodes it without an error, no fragment twice), a
//! `recording_failed` warning and a status error are reported, and when
//! space returns the recording goes on in the next segment.
//!
//! The disk is a 16 MB tmpfs mounted by the test (CI runs as root; without
//! the right to mount, the test fails and says so).

// Tests may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use cht_suite::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A mounted tmpfs, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        let (ok, _, err) = run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at));
        assert!(
            ok,
            "this test mounts a small tmpfs to fill it up and needs root (CI runs as root): {err}"
        );
        Tmpfs(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// ffmpeg's complaints while decoding `path` completely.
fn ffmpeg_errors(path: &Path) -> String {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Video packet times (DTS) ffprobe reads from `path`.
fn video_dts(path: &Path) -> Vec<i64> {
    let (ok, out, err) = run(Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["packet=dts", "-of", "csv=p=0"])
        .arg(path));
    assert!(ok, "{err}");
    out.lines().filter_map(|l| l.trim().parse().ok()).collect()
}

#[test]
fn a_full_disk_cuts_the_segment_cleanly_and_recording_resumes_when_space_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = Tmpfs::mount(&tmp.path().join("disk"), "16m");
    let sessions = disk.0.join("sessions");
    // 30 s of stream, sent at 4x: the disk fills after a few seconds.
    let long = tmp.path().join("long.ts");
    let (ok, _, err) = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-stream_loop", "2", "-i"])
        .arg(fixture("av_high.ts"))
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(&long));
    assert!(ok, "{err}");
    // Leave about 1 MB free.
    let filler = disk.0.join("filler");
    let (ok, _, err) = run(Command::new("dd")
        .args(["if=/dev/zero", "bs=1M", "count=15", "status=none"])
        .arg(format!("of={}", filler.display())));
    assert!(ok, "{err}");

    let mut cht = Command::new(cht_bin())
        .args(["record", "--listen", "127.0.0.1:0", "--control", "off"])
        .args([
            "--relay",
            "off",
            "--once",
            "--events",
            "json",
            "--sessions-dir",
        ])
        .arg(&sessions)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, events) = mpsc::channel::<serde_json::Value>();
    let stdout = cht.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line) {
                let _ = tx.send(v);
            }
        }
    });
    let (ltx, lines) = mpsc::channel::<String>();
    let stderr = cht.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = ltx.send(line);
        }
    });
    let mut log = Vec::new();
    let addr = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("cht starts");
        log.push(line.clone());
        if let Some(rest) = line.split("tcp://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let mut sender = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-readrate", "4", "-i"])
        .arg(&long)
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(format!("tcp://{addr}"))
        .spawn()
        .unwrap();

    // The failure is reported...
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let failed = loop {
        let e = events
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a recording_failed warning while the disk is full");
        seen.push(e.clone());
        if e["event"] == "warning" && e["kind"] == "recording_failed" {
            break e;
        }
    };
    assert!(
        failed["message"].as_str().unwrap().contains("new segment"),
        "{failed}"
    );
    // ...and space comes back.
    std::fs::remove_file(&filler).unwrap();
    assert!(sender.wait().unwrap().success());
    let status = cht.wait().unwrap();
    seen.extend(events.try_iter());
    log.extend(lines.try_iter());
    let log = log.join("\n");
    assert!(status.success(), "{log}");

    let started: Vec<u64> = seen
        .iter()
        .filter(|e| e["event"] == "segment_started")
        .filter_map(|e| e["segment"].as_u64())
        .collect();
    assert_eq!(
        started,
        [0, 1],
        "the next segment once space returned: {log}"
    );

    let session = std::fs::read_dir(&sessions)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('.'))
        .unwrap()
        .path();
    for n in [0, 1] {
        let path = session.join(format!("stream/recording_{n:03}.mp4"));
        let errors = ffmpeg_errors(&path);
        assert!(errors.is_empty(), "recording_{n:03}: {errors}");
        let dts = video_dts(&path);
        assert!(dts.len() > 30, "recording_{n:03}: {} pictures", dts.len());
        assert!(
            dts.windows(2).all(|w| w[1] > w[0]),
            "recording_{n:03}: no fragment written twice"
        );
        let (ok, _, err) = run(Command::new(cht_bin()).arg("probe").arg(&path));
        assert!(ok, "cht probe recording_{n:03}: {err}");
    }
}
