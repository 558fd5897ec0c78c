//! `send_demo` over a real local TCP connection: paced in real time, every
//! byte arrives, ffprobe reads what arrived, and `stop` ends it early.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use cht_demo::{send_demo, DemoOptions};

/// Accepts one connection and returns everything read from it.
fn receive_one(listener: TcpListener) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let (mut socket, _) = listener.accept().expect("accept");
        let mut bytes = Vec::new();
        socket.read_to_end(&mut bytes).expect("read");
        bytes
    })
}

fn probe_packet_counts(path: &Path) -> Vec<String> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_packets",
            "-show_entries",
            "stream=codec_name,nb_read_packets",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Streams are listed once under the program and once on their own.
    let mut streams: Vec<String> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
    {
        if !streams.iter().any(|s| s == line) {
            streams.push(line.to_string());
        }
    }
    streams
}

#[test]
fn send_demo_delivers_a_real_time_stream_that_ffprobe_reads() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let receiver = receive_one(listener);
    let opts = DemoOptions {
        duration: Some(Duration::from_millis(1500)),
        ..DemoOptions::default()
    };
    let stop = AtomicBool::new(false);

    let stats = send_demo(addr, opts, &stop).expect("send_demo");
    let received = receiver.join().expect("receiver");

    assert_eq!(stats.video_frames, 45);
    assert_eq!(stats.bytes, received.len() as u64);
    // Paced: the last frame (media time 44/30 s) is not sent before its time.
    assert!(
        stats.elapsed >= Duration::from_millis(1460),
        "too fast: {:?}",
        stats.elapsed
    );
    assert!(
        stats.elapsed < Duration::from_secs(5),
        "far too slow: {:?}",
        stats.elapsed
    );

    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo-sent.ts");
    std::fs::write(&path, &received).expect("write");
    // 45 frames; audio frames before 1.5 s: ceil(1.5 * 48000 / 1024) = 71.
    assert_eq!(probe_packet_counts(&path), vec!["h264,45", "aac,71"]);
}

#[test]
fn stop_flag_ends_an_endless_demo_promptly() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let receiver = receive_one(listener);
    let opts = DemoOptions {
        width: 320,
        height: 180,
        ..DemoOptions::default()
    };
    let stop = AtomicBool::new(false);

    let started = Instant::now();
    let stats = thread::scope(|s| {
        let sender = s.spawn(|| send_demo(addr, opts, &stop));
        thread::sleep(Duration::from_millis(600));
        stop.store(true, Ordering::Relaxed);
        sender.join().expect("sender thread")
    })
    .expect("send_demo");
    let received = receiver.join().expect("receiver");

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        started.elapsed()
    );
    // About 0.6 s at 30 fps were sent, not an unpaced burst.
    assert!(
        (10..=25).contains(&stats.video_frames),
        "{} frames",
        stats.video_frames
    );
    assert_eq!(stats.bytes, received.len() as u64);
    assert_eq!(received.len() % 188, 0);
}

#[test]
fn connection_refused_is_a_typed_error() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    // The listener is dropped: nothing accepts on addr any more.
    let result = send_demo(addr, DemoOptions::default(), &AtomicBool::new(false));
    assert!(
        matches!(result, Err(cht_demo::DemoError::Io(_))),
        "{result:?}"
    );
}
