//! `cht record` against real senders and validators: ffmpeg pushes the
//! committed x264 High + AAC fixture over TCP; ffprobe/ffmpeg check what was
//! recorded and relayed.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use cht_suite::*;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SOURCE: &str = "av_high.ts";

fn only_session(sessions: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(sessions)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "expected one session, found {dirs:?}");
    dirs.into_iter().next().unwrap()
}

fn send_with_ffmpeg(input: &Path, addr: &str, realtime: bool) -> std::process::Child {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-v", "error"]);
    if realtime {
        cmd.arg("-re");
    }
    cmd.arg("-i")
        .arg(input)
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(format!("tcp://{addr}"));
    cmd.stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ffmpeg")
}

/// Collects relayed datagrams into a byte buffer until stopped; binds first
/// (port 0) so that no other test can take the port in between.
fn relay_listener(stop: Arc<AtomicBool>) -> (u16, std::thread::JoinHandle<Vec<u8>>) {
    let sock = UdpSocket::bind(("127.0.0.1", 0)).unwrap();
    let port = sock.local_addr().unwrap().port();
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let handle = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 2048];
        while !stop.load(Ordering::Relaxed) {
            if let Ok(n) = sock.recv(&mut buf) {
                out.extend_from_slice(&buf[..n]);
            }
        }
        out
    });
    (port, handle)
}

#[test]
fn ffmpeg_sender_is_recorded_losslessly_and_relayed() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let stop = Arc::new(AtomicBool::new(false));
    let (relay_port, relay) = relay_listener(stop.clone());
    let relay_arg = format!("127.0.0.1:{relay_port}");
    let rec = Recorder::start(&sessions, &["--once", "--relay", &relay_arg]);

    let source = fixture(SOURCE);
    let sender = send_with_ffmpeg(&source, &rec.addr, false)
        .wait_with_output()
        .unwrap();
    assert!(
        sender.status.success(),
        "ffmpeg sender failed: {}",
        String::from_utf8_lossy(&sender.stderr)
    );
    let (status, log) = rec.wait(Duration::from_secs(60));
    assert!(status.success(), "cht record failed:\n{log}");
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let relayed = relay.join().unwrap();

    let segment = only_session(&sessions).join("stream/recording_000.mp4");
    assert!(segment.is_file(), "no segment; log:\n{log}");
    assert_eq!(
        ffprobe_packet_counts(&segment),
        ffprobe_packet_counts(&source),
        "packet counts differ"
    );
    assert_eq!(
        ffmpeg_decode_errors(&segment),
        "",
        "ffmpeg reports decode errors"
    );
    let (src_md5, rec_md5) = (video_frame_md5s(&source), video_frame_md5s(&segment));
    assert_eq!(src_md5.len(), 300);
    assert_eq!(rec_md5, src_md5, "decoded frames differ");

    let relay_file = tmp.path().join("relay.ts");
    std::fs::write(&relay_file, &relayed).unwrap();
    // The sender runs at full speed and UDP is lossy by design (the relay
    // never slows the recording), so what arrives must be readable, not whole.
    let (v, a) = ffprobe_packet_counts(&relay_file);
    assert!(
        v > 0 && a > 0,
        "relay stream unreadable: {v} video, {a} audio packets ({} bytes)",
        relayed.len()
    );
}

#[test]
fn sigkilled_recorder_leaves_a_playable_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let mut rec = Recorder::start(&sessions, &["--relay", "off", "--fragment-ms", "1000"]);
    let mut sender = send_with_ffmpeg(&fixture(SOURCE), &rec.addr, true);
    rec.wait_for_line("recording", Duration::from_secs(30));
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(6000));
    let sent_secs = started.elapsed().as_secs_f64();
    rec.child.kill().unwrap(); // SIGKILL
    let _ = rec.child.wait();
    let _ = sender.kill();
    let _ = sender.wait();

    let segment = only_session(&sessions).join("stream/recording_000.mp4");
    assert_eq!(
        ffmpeg_decode_errors(&segment),
        "",
        "ffmpeg reports errors on the killed segment"
    );
    let duration = ffprobe_duration(&segment);
    assert!(
        duration >= sent_secs - 1.5,
        "only {duration:.2} s survived of {sent_secs:.2} s sent"
    );
    let (v, a) = ffprobe_packet_counts(&segment);
    assert!(v > 0 && a > 0);

    // The interrupted segment is analysed like any other.
    let out = tmp.path().join("analysis");
    let (ok, _, err) = run(Command::new(cht_bin())
        .arg("analyze")
        .arg(&segment)
        .arg("--out")
        .arg(&out));
    assert!(ok, "{err}");
    let frames: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(out.join("frames/index.json")).unwrap()).unwrap();
    assert!(!frames.is_empty());
    let (ok, probe, err) = run(Command::new(cht_bin())
        .args(["probe", "--json"])
        .arg(&segment));
    assert!(ok, "{err}");
    let probe: serde_json::Value = serde_json::from_str(&probe).unwrap();
    assert!(
        probe["duration_seconds"].as_f64().unwrap() >= sent_secs - 1.5,
        "{probe}"
    );
}

#[test]
fn a_reconnect_starts_the_next_segment_and_resume_continues_numbering() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let source = fixture(SOURCE);
    let mut rec = Recorder::start(&sessions, &["--relay", "off"]);
    for _ in 0..2 {
        let out = send_with_ffmpeg(&source, &rec.addr, false)
            .wait_with_output()
            .unwrap();
        assert!(out.status.success());
        rec.wait_for_line("segment", Duration::from_secs(30));
    }
    sigterm(&rec.child);
    let (status, log) = rec.wait(Duration::from_secs(20));
    assert!(status.success(), "SIGTERM should exit cleanly:\n{log}");
    let session = only_session(&sessions);
    let id = session.file_name().unwrap().to_str().unwrap().to_string();
    for n in 0..2 {
        let seg = session.join(format!("stream/recording_{n:03}.mp4"));
        assert_eq!(ffprobe_packet_counts(&seg), (300, 470), "{}", seg.display());
    }

    let rec = Recorder::start(&sessions, &["--relay", "off", "--once", "--session", &id]);
    let out = send_with_ffmpeg(&source, &rec.addr, false)
        .wait_with_output()
        .unwrap();
    assert!(out.status.success());
    let (status, log) = rec.wait(Duration::from_secs(30));
    assert!(status.success(), "{log}");
    assert_eq!(
        ffprobe_packet_counts(&session.join("stream/recording_002.mp4")),
        (300, 470)
    );
    assert_eq!(
        std::fs::read_dir(&sessions).unwrap().count(),
        1,
        "resume must not create a session"
    );
}

fn sigterm(child: &std::process::Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[test]
fn garbage_in_the_stream_loses_nothing_and_does_not_stop_the_recorder() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let mut rec = Recorder::start(&sessions, &["--relay", "off", "--once"]);
    let ts = std::fs::read(fixture(SOURCE)).unwrap();
    // Deterministic junk, with stray sync bytes to tempt the framer.
    let junk: Vec<u8> = (0..20_000u32)
        .map(|i| {
            if i % 97 == 0 {
                0x47
            } else {
                (i.wrapping_mul(2654435761) >> 13) as u8
            }
        })
        .collect();
    // A connection that does not start with TS packets is not a sender
    // (cross-protocol defence): closed, nothing recorded, and --once waits on.
    let mut conn = std::net::TcpStream::connect(&rec.addr).unwrap();
    let _ = conn.write_all(&junk).and_then(|_| conn.write_all(&ts));
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert!(matches!(conn.read(&mut [0u8; 8]), Ok(0) | Err(_)), "closed");
    rec.wait_for_line("not MPEG-TS", Duration::from_secs(10));
    // Inside a stream, junk is skipped and costs nothing.
    let middle = 188 * 2000;
    let mut conn = std::net::TcpStream::connect(&rec.addr).unwrap();
    for piece in ts[..middle].chunks(1000) {
        conn.write_all(piece).unwrap();
    }
    conn.write_all(&junk).unwrap();
    for piece in ts[middle..].chunks(1000) {
        conn.write_all(piece).unwrap();
    }
    conn.write_all(&junk).unwrap();
    drop(conn);
    let (status, log) = rec.wait(Duration::from_secs(30));
    assert!(status.success(), "{log}");
    let segment = only_session(&sessions).join("stream/recording_000.mp4");
    assert_eq!(ffprobe_packet_counts(&segment), (300, 470), "{log}");
    assert_eq!(ffmpeg_decode_errors(&segment), "");
    assert!(
        log.contains("garbage bytes skipped"),
        "the junk should be reported:\n{log}"
    );
}
