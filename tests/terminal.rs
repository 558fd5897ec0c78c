//! The terminal of `cht record`, as a person reads it: a line per picture,
//! audio chunk and transcript, a status line whose numbers are those of
//! `/status` (the `stats` event is the same snapshot), and each error said
//! once.

#![allow(clippy::unwrap_used)]

use cht_suite::{cht_bin, Recorder};
use serde_json::Value;
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

const TRANSCRIBER: &str = r#"sh -c 'echo "said in $(basename "$1" .wav)"' hook"#;

#[test]
fn a_taken_port_is_reported_once() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let sessions = tempfile::tempdir().unwrap();
    let out = Command::new(cht_bin())
        .args([
            "record",
            "--listen",
            &addr,
            "--relay",
            "off",
            "--control",
            "off",
        ])
        .arg("--sessions-dir")
        .arg(sessions.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let os_error = std::io::Error::from(std::io::ErrorKind::AddrInUse).to_string();
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("os error").count(),
        1,
        "the OS error is said once: {stderr} ({os_error})"
    );
}

#[test]
fn record_prints_a_line_per_picture_chunk_and_transcript_and_status_lines() {
    let sessions = tempfile::tempdir().unwrap();
    let rec = Recorder::start(
        sessions.path(),
        &[
            "--relay",
            "off",
            "--demo",
            "--demo-duration",
            "11s",
            "--audio-chunk-secs",
            "3",
            "--on-audio-chunk",
            TRANSCRIBER,
            "--events",
            "json",
        ],
    );
    let mut child_stdout = None;
    let mut rec = rec;
    std::mem::swap(&mut child_stdout, &mut rec.child.stdout);
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        use std::io::Read;
        child_stdout.unwrap().read_to_string(&mut text).unwrap();
        text
    });
    let (status, log) = rec.wait(Duration::from_secs(60));
    assert!(status.success(), "{log}");
    let events: Vec<Value> = reader
        .join()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let session = std::fs::read_dir(sessions.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('.'))
        .unwrap()
        .path();
    let read = |name: &str| -> Vec<Value> {
        serde_json::from_slice(&std::fs::read(session.join(name)).unwrap()).unwrap()
    };
    let lines: Vec<&str> = log.lines().collect();
    let frames = read("frames/index.json");
    assert!(frames.len() >= 2);
    for frame in &frames {
        let expected = format!(
            "picture    {}  {:.1} s  {}",
            frame["id"].as_str().unwrap(),
            frame["session_picture_time"].as_f64().unwrap(),
            frame["cause"].as_str().unwrap().replace('_', " ")
        );
        assert_eq!(
            lines.iter().filter(|l| l.starts_with(&expected)).count(),
            1,
            "{expected:?} once in:\n{log}"
        );
    }
    let chunks = read("audio/index.json");
    let transcripts = read("transcript/index.json");
    assert!(chunks.len() >= 3 && transcripts.len() == chunks.len());
    for chunk in &chunks {
        let id = chunk["id"].as_str().unwrap();
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with(&format!("chunk      {id}  ")))
                .count(),
            1,
            "{log}"
        );
        let said = format!("transcript {id}  ");
        let line = lines
            .iter()
            .find(|l| l.starts_with(&said))
            .expect("a transcript line");
        assert!(line.ends_with(&format!("\"said in {id}\"")), "{line}");
    }
    // Each status line is a stats event (the /status object) in words.
    let stats: Vec<&Value> = events.iter().filter(|e| e["event"] == "stats").collect();
    let status_lines: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("status     "))
        .collect();
    assert!(!status_lines.is_empty(), "{log}");
    for line in status_lines {
        let matched = stats.iter().any(|s| {
            let written = s["video"]["frames_written"].as_u64().unwrap_or(0);
            let decoded = s["video"]["pictures"].as_u64().unwrap_or(0);
            let chunks = s["audio"]["chunks_written"].as_u64().unwrap_or(0);
            let bytes_in = s["bytes_in"].as_f64().unwrap() / 1e6;
            line.contains(&format!("{bytes_in:.1} MB in ("))
                && line.contains(&format!("{written} pictures of {decoded} decoded"))
                && line.contains(&format!("{chunks} audio chunks"))
        });
        assert!(matched, "{line} matches no stats event: {stats:?}");
    }
}
