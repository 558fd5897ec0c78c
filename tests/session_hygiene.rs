//! One writer per session, no leftovers, and analyses that replace rather
//! than append: the session lock (a second recorder and `sessions delete`
//! refuse, naming the pid; a killed recorder's lock is taken over), `.part`
//! chunks a killed recorder left are removed on resume, and `cht analyze`
//! run twice leaves one set of frames and chunks.

// Tests may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use cht_suite::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A session directory made by hand (as `cht record` would have made it).
fn session(sessions: &Path, id: &str) -> std::path::PathBuf {
    let dir = sessions.join(id);
    for sub in ["stream", "frames", "audio", "transcript", "agent"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    dir
}

fn json_array(path: &Path) -> Vec<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn cht(sessions: &Path, args: &[&str]) -> (bool, String, String) {
    run(Command::new(cht_bin())
        .arg("--sessions-dir")
        .arg(sessions)
        .args(args))
}

#[test]
fn a_session_has_one_recorder_and_is_not_deleted_under_it() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let dir = session(&sessions, "talk");
    let mut first = Recorder::start(&sessions, &["--session", "talk", "--relay", "off"]);
    let pid = first.child.id();

    let second = Command::new(cht_bin())
        .args(["record", "--listen", "127.0.0.1:0", "--control", "off"])
        .args(["--relay", "off", "--session", "talk", "--sessions-dir"])
        .arg(&sessions)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "a second recorder must refuse");
    assert!(said.contains(&format!("pid {pid}")), "{said}");

    let (ok, _, err) = cht(&sessions, &["sessions", "delete", "talk", "--yes"]);
    assert!(!ok, "deleting a session being recorded must fail");
    assert!(err.contains(&format!("pid {pid}")), "{err}");
    assert!(dir.join("stream").is_dir(), "nothing deleted");

    // kill -9 leaves the lock file; the next recorder takes it over.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    assert!(
        dir.join(".lock").exists(),
        "a killed recorder leaves its lock file"
    );
    let third = Recorder::start(&sessions, &["--session", "talk", "--relay", "off"]);
    let third_pid = third.child.id();
    let lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(".lock")).unwrap()).unwrap();
    assert_eq!(
        lock["pid"], third_pid,
        "the lock names its new holder: {lock}"
    );
    Command::new("kill")
        .args(["-TERM", &third_pid.to_string()])
        .status()
        .unwrap();
    let (status, log) = third.wait(Duration::from_secs(20));
    assert!(status.success(), "{log}");
    assert!(!dir.join(".lock").exists(), "released on exit");
    let (ok, _, err) = cht(&sessions, &["sessions", "delete", "talk", "--yes"]);
    assert!(ok, "{err}");
    assert!(!dir.exists());
}

#[test]
fn resuming_removes_the_chunk_a_killed_recorder_left_unfinished() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let mut rec = Recorder::start(&sessions, &["--relay", "off"]);
    // Audio at full speed until a chunk is being written, then kill -9.
    let long = tmp.path().join("long.ts");
    let (ok, _, err) = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-stream_loop", "5", "-i"])
        .arg(fixture("av_high.ts"))
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(&long));
    assert!(ok, "{err}");
    let mut sender = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-re", "-i"])
        .arg(&long)
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(format!("tcp://{}", rec.addr))
        .spawn()
        .unwrap();
    let id = loop {
        let found = std::fs::read_dir(&sessions)
            .unwrap()
            .filter_map(|e| e.ok())
            .find(|e| {
                std::fs::read_dir(e.path().join("audio")).is_ok_and(|mut d| {
                    d.any(|f| {
                        f.is_ok_and(|f| f.file_name().to_string_lossy().ends_with(".wav.part"))
                    })
                })
            });
        if let Some(entry) = found {
            break entry.file_name().to_string_lossy().into_owned();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    rec.child.kill().unwrap();
    rec.child.wait().unwrap();
    let _ = sender.kill();
    let _ = sender.wait();
    let audio = sessions.join(&id).join("audio");
    let parts = |dir: &Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .count()
    };
    assert_eq!(parts(&audio), 1, "kill -9 leaves the chunk being written");

    let resumed = Recorder::start(&sessions, &["--session", &id, "--relay", "off"]);
    assert_eq!(parts(&audio), 0, "resume removes it");
    let pid = resumed.child.id();
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let (status, log) = resumed.wait(Duration::from_secs(20));
    assert!(status.success(), "{log}");
    assert!(log.contains("left unfinished"), "said once: {log}");
}

#[test]
fn analysing_twice_replaces_the_first_results() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let input = fixture("cuts_high.ts");
    let analyse = || {
        let (ok, _, err) = run(Command::new(cht_bin())
            .args(["analyze", "-q", "--out"])
            .arg(&out)
            .arg(&input));
        assert!(ok, "{err}");
        let frames = json_array(&out.join("frames/index.json"));
        let chunks = json_array(&out.join("audio/index.json"));
        let files = |dir: &str, prefix: &str| {
            std::fs::read_dir(out.join(dir))
                .unwrap()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
                .count()
        };
        (
            frames,
            chunks,
            files("frames", "F"),
            files("audio", "chunk_"),
        )
    };
    let (frames, chunks, jpegs, wavs) = analyse();
    assert!(!frames.is_empty() && !chunks.is_empty());
    assert_eq!((jpegs, wavs), (frames.len(), chunks.len()));
    let again = analyse();
    assert_eq!(again.0, frames, "the same frames, not twice as many");
    assert_eq!(again.1.len(), chunks.len());
    assert_eq!((again.2, again.3), (jpegs, wavs));
}
