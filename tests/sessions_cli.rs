//! `cht sessions list|show|delete` and `--session` on real sessions, and the
//! refusal of ids that would leave the sessions directory.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use cht_suite::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn cht(sessions: &Path, args: &[&str]) -> (bool, String, String) {
    run(Command::new(cht_bin())
        .arg("--sessions-dir")
        .arg(sessions)
        .args(args))
}

/// Records the fixture once into a new session (or `resume`), returns its id.
fn record(sessions: &Path, resume: Option<&str>) -> String {
    let mut args = vec![
        "--relay",
        "off",
        "--control",
        "off",
        "--once",
        "--audio-chunk-secs",
        "4",
    ];
    if let Some(id) = resume {
        args.extend(["--session", id]);
    }
    let rec = Recorder::start(sessions, &args);
    ffmpeg_send(&fixture("cuts_high.ts"), &rec.addr);
    let (status, log) = rec.wait(Duration::from_secs(30));
    assert!(status.success(), "{log}");
    let mut ids: Vec<String> = std::fs::read_dir(sessions)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    ids.sort();
    resume
        .map(str::to_string)
        .unwrap_or_else(|| ids.pop().unwrap())
}

fn list(sessions: &Path) -> Vec<serde_json::Value> {
    let (ok, out, err) = cht(sessions, &["sessions", "list", "--json"]);
    assert!(ok, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn list_show_resume_and_delete_real_sessions() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    assert!(list(&sessions).is_empty());
    let first = record(&sessions, None);
    std::thread::sleep(Duration::from_millis(1100)); // distinct timestamp ids
    let second = record(&sessions, None);
    let listed = list(&sessions);
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["id"], second.as_str(), "newest first");
    let s = &listed[1];
    assert_eq!(s["segments"], 1);
    assert!(
        (s["duration_secs"].as_f64().unwrap() - 10.0).abs() < 0.5,
        "{s}"
    );
    assert!(s["frames"].as_u64().unwrap() >= 5, "{s}");
    assert!(s["audio_chunks"].as_u64().unwrap() >= 2, "{s}");
    assert!(s["bytes"].as_u64().unwrap() > 100_000);

    // show is read-only: nothing changes on disk
    let before = snapshot(&sessions.join(&first));
    let (ok, out, err) = cht(&sessions, &["sessions", "show", &first]);
    assert!(ok, "{err}");
    assert!(
        out.contains("recording_000.mp4") && out.contains(&first),
        "{out}"
    );
    assert_eq!(snapshot(&sessions.join(&first)), before);

    // resume: the next segment after the old one, frame numbers continue
    let frames_before = s["frames"].as_u64().unwrap();
    record(&sessions, Some(&first));
    let (ok, out, _) = cht(&sessions, &["sessions", "show", &first, "--json"]);
    assert!(ok);
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["segments"], 2);
    assert!(sessions
        .join(&first)
        .join("stream/recording_001.mp4")
        .is_file());
    let index: Vec<serde_json::Value> = serde_json::from_slice(
        &std::fs::read(sessions.join(&first).join("frames/index.json")).unwrap(),
    )
    .unwrap();
    let ids: Vec<&str> = index.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let expected: Vec<String> = (1..=ids.len()).map(|n| format!("F{n:04}")).collect();
    assert_eq!(ids, expected, "frame ids continue without reuse");
    assert!(index.len() as u64 >= 2 * frames_before);
    assert!(index.iter().any(|e| e["segment"] == 1));

    // delete asks unless --yes (no terminal: refuses), then deletes
    let (ok, _, err) = cht(&sessions, &["sessions", "delete", &second]);
    assert!(!ok && err.contains("--yes"), "{err}");
    assert!(sessions.join(&second).is_dir());
    let (ok, _, err) = cht(&sessions, &["sessions", "delete", "--yes", &second]);
    assert!(ok, "{err}");
    assert!(!sessions.join(&second).exists());
    assert_eq!(list(&sessions).len(), 1);
}

fn snapshot(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(snapshot(&e.path()));
        } else {
            out.push((e.path().display().to_string(), e.metadata().unwrap().len()));
        }
    }
    out.sort();
    out
}

#[test]
fn ids_that_leave_the_sessions_directory_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    let outside = tmp.path().join("precious");
    std::fs::create_dir_all(outside.join("stream")).unwrap();
    std::fs::write(outside.join("keep.txt"), b"keep").unwrap();
    std::os::unix::fs::symlink(&outside, sessions.join("link")).unwrap();
    for bad in ["../precious", "/etc", "..", "a/b", "link"] {
        for args in [
            vec!["sessions", "show", bad],
            vec!["sessions", "delete", "--yes", bad],
        ] {
            let (ok, _, err) = cht(&sessions, &args);
            assert!(!ok, "{args:?} should fail");
            assert!(
                err.contains("invalid session id") || err.contains("outside"),
                "{args:?}: {err}"
            );
        }
        let (ok, _, err) = cht(
            &sessions,
            &[
                "record",
                "--session",
                bad,
                "--relay",
                "off",
                "--control",
                "off",
            ],
        );
        assert!(!ok && !err.is_empty(), "record --session {bad} should fail");
    }
    assert!(
        outside.join("keep.txt").is_file(),
        "nothing outside was touched"
    );
    let (ok, _, err) = cht(&sessions, &["sessions", "show", "nope"]);
    assert!(!ok && err.contains("not found"), "{err}");
}

#[test]
fn env_var_sets_the_sessions_directory_for_every_subcommand() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("from-env");
    std::fs::create_dir_all(sessions.join("20260101_000000/stream")).unwrap();
    let (ok, out, err) = run(Command::new(cht_bin())
        .env("CHT_SESSIONS_DIR", &sessions)
        .args(["sessions", "list", "--json"]));
    assert!(ok, "{err}");
    let listed: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], "20260101_000000");
}
