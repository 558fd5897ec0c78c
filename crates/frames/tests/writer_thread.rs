//! The background writer: ordered, lossless, bounded.

mod support;

use std::sync::mpsc;
use std::time::Duration;

use cht_frames::{FrameMeta, FrameStore, FrameWriterThread};
use support::gradient_picture;

#[test]
fn writes_every_submitted_frame_in_order_through_a_small_queue() {
    let dir = tempfile::tempdir().unwrap();
    let store = FrameStore::open(dir.path()).unwrap();
    let (events, written) = mpsc::channel();
    let writer =
        FrameWriterThread::spawn(store, 2, move |result| events.send(result).unwrap()).unwrap();
    for i in 0..20 {
        let meta = FrameMeta::event(i as f64 * 0.5, 0, 1.0);
        writer.submit(gradient_picture(160, 90), meta).unwrap();
    }
    assert_eq!(writer.mark_sent(vec!["F0003".into()]).unwrap(), 1);
    assert_eq!(writer.entries().unwrap().len(), 20);
    let store = writer.finish().unwrap();
    let ids: Vec<String> = written.iter().map(|r| r.unwrap().id).collect();
    let expected: Vec<String> = (1..=20).map(|i| format!("F{i:04}")).collect();
    assert_eq!(ids, expected);
    assert!(store.entries()[2].sent_to_agent);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 21);
}

#[test]
fn full_queue_makes_the_submitter_wait_instead_of_dropping() {
    let dir = tempfile::tempdir().unwrap();
    let store = FrameStore::open(dir.path()).unwrap();
    let (gate_tx, gate) = mpsc::channel::<()>();
    // The callback holds the worker after the first frame until released.
    let writer = FrameWriterThread::spawn(store, 1, move |_| gate.recv().unwrap()).unwrap();
    let (submitted_tx, submitted) = mpsc::channel();
    let submitter = std::thread::spawn(move || {
        for i in 0..3 {
            let meta = FrameMeta::event(i as f64, 0, 0.0);
            writer.submit(gradient_picture(16, 16), meta).unwrap();
            submitted_tx.send(i).unwrap();
        }
        writer
    });
    // Frame 0 is being written, frame 1 waits in the queue: frame 2 blocks.
    assert_eq!(submitted.recv().unwrap(), 0);
    assert_eq!(submitted.recv().unwrap(), 1);
    assert!(
        submitted.recv_timeout(Duration::from_millis(300)).is_err(),
        "submit did not block"
    );
    for _ in 0..3 {
        gate_tx.send(()).unwrap();
    }
    assert_eq!(submitted.recv().unwrap(), 2);
    let store = submitter.join().unwrap().finish().unwrap();
    assert_eq!(store.entries().len(), 3);
}
