//! The built-in demo sender feeding the project's own demuxer over a real
//! local TCP connection: what `cht record --demo` relies on.
//!
//! Needs the root dev-dependency `cht-demo = { path = "crates/demo" }`.

use std::io::Read;
use std::net::TcpListener;
use std::sync::atomic::AtomicBool;
use std::thread;
use std::time::Duration;

use cht_demo::{send_demo, DemoOptions, START_PTS};
use cht_ts::{demux_all, DemuxItem, Demuxed};

#[test]
fn demo_over_tcp_demuxes_cleanly_with_cuts_at_slide_switches() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let receiver = thread::spawn(move || {
        let (mut socket, _) = listener.accept().expect("accept");
        let mut bytes = Vec::new();
        socket.read_to_end(&mut bytes).expect("read");
        bytes
    });
    let opts = DemoOptions {
        slide_secs: 0.5,
        duration: Some(Duration::from_millis(1500)),
        ..DemoOptions::default()
    };
    let sent = send_demo(addr, opts, &AtomicBool::new(false)).expect("send_demo");
    let received = receiver.join().expect("receiver");
    assert_eq!(sent.bytes, received.len() as u64);

    let Demuxed { items, stats } = demux_all(&received);
    assert_eq!(
        (
            stats.cc_errors,
            stats.pes_errors,
            stats.psi_errors,
            stats.skipped_bytes
        ),
        (0, 0, 0, 0)
    );
    assert_eq!((stats.video_units, stats.audio_frames), (45, 71));

    let mut keyframes = Vec::new();
    let mut video_pts = Vec::new();
    let mut first_audio_pts = None;
    for item in &items {
        match item {
            DemuxItem::VideoParams(c) => {
                assert_eq!((c.width, c.height), (1280, 720));
                assert_eq!(c.codec_string(), "avc1.42c01f");
            }
            DemuxItem::Video(au) => {
                assert!(!au.damaged);
                if au.keyframe {
                    keyframes.push(video_pts.len());
                }
                video_pts.push(au.pts);
            }
            DemuxItem::Audio(frame) => {
                first_audio_pts.get_or_insert(frame.pts);
            }
            _ => {}
        }
    }
    // 0.5 s slides at 30 fps: an IDR at every switch.
    assert_eq!(keyframes, vec![0, 15, 30]);
    assert_eq!(video_pts.first().copied(), Some(START_PTS as i64));
    assert_eq!(first_audio_pts, Some(START_PTS as i64));
    assert!(video_pts.windows(2).all(|w| w[1] - w[0] == 3000));
}
