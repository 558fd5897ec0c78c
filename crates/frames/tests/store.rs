//! The frames directory: numbering, atomic index, mark_sent, corrupt index.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

mod support;

use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use cht_frames::{FrameKind, FrameMeta, FrameStore, FrameStoreOptions, FramesError};
use serde_json::Value;
use support::{decode_jpeg, gradient_picture};

fn meta(timestamp: f64) -> FrameMeta {
    FrameMeta::event(timestamp, 2, 0.42)
}

fn read_index(dir: &std::path::Path) -> Vec<Value> {
    serde_json::from_slice(&fs::read(dir.join("index.json")).unwrap()).unwrap()
}

#[test]
fn writes_jpeg_and_index_entry_relative_to_the_session_dir() {
    let session = tempfile::tempdir().unwrap();
    let frames = session.path().join("frames");
    let mut store = FrameStore::open(&frames).unwrap();
    let picture = gradient_picture(96, 64);
    let entry = store.write(&picture, meta(1.23449)).unwrap();
    assert_eq!(
        (entry.id.as_str(), entry.path.as_str()),
        ("F0001", "frames/F0001.jpg")
    );
    let (w, h, _) = decode_jpeg(&fs::read(session.path().join(&entry.path)).unwrap());
    assert_eq!((w, h), (96, 64));
    let manual = store
        .write(&picture, FrameMeta::manual(2.0, 2).in_session(30.5))
        .unwrap();
    let settled = FrameMeta {
        kind: FrameKind::Update,
        picture_time: Some(3.5004),
        cause: Some("update"),
        ..meta(3.0)
    };
    let update = store.write(&picture, settled).unwrap();
    assert_eq!(update.id, "F0003");
    assert_eq!(manual.id, "F0002");
    let text = fs::read_to_string(frames.join("index.json")).unwrap();
    let index: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(
        index[0],
        serde_json::json!({"id":"F0001","timestamp":1.234,"path":"frames/F0001.jpg",
                           "sent_to_agent":false,"segment":2,"score":0.42,
                           "kind":"event","picture_time":1.234,
                           "session_time":1.234,"session_picture_time":1.234})
    );
    assert_eq!(
        (&index[1]["session_time"], &index[1]["session_picture_time"]),
        (&Value::from(32.5), &Value::from(32.5)),
        "session times are the segment's start plus the segment times"
    );
    assert_eq!(index[1]["manual"], Value::Bool(true));
    assert_eq!(index[1]["kind"], "manual");
    assert_eq!(
        (
            &index[2]["kind"],
            &index[2]["picture_time"],
            &index[2]["cause"]
        ),
        (
            &Value::from("update"),
            &Value::from(3.5),
            &Value::from("update")
        )
    );
    // Field order is part of the format other tools diff against.
    let keys = [
        "id",
        "timestamp",
        "path",
        "sent_to_agent",
        "segment",
        "score",
        "manual",
        "kind",
        "picture_time",
        "session_time",
        "session_picture_time",
    ];
    // (Entry 2, the manual capture, holds every key.)
    let second = text[..text.find("\"F0002\"").unwrap()]
        .rfind("\"id\"")
        .unwrap();
    let third = text[..text.find("\"F0003\"").unwrap()]
        .rfind("\"id\"")
        .unwrap();
    let entry = &text[second..third];
    let order: Vec<usize> = keys
        .iter()
        .map(|k| entry.find(&format!("\"{k}\"")).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    // Nothing but the two frames and the index is left behind.
    let mut names: Vec<String> = fs::read_dir(&frames)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["F0001.jpg", "F0002.jpg", "F0003.jpg", "index.json"]);
}

#[test]
fn numbering_continues_after_reopen_and_never_reuses_a_file_name() {
    let session = tempfile::tempdir().unwrap();
    let frames = session.path().join("frames");
    let picture = gradient_picture(32, 32);
    {
        let mut store = FrameStore::open(&frames).unwrap();
        for i in 0..3 {
            store.write(&picture, meta(i as f64)).unwrap();
        }
    }
    // A crash between JPEG and index leaves an orphan file: skip its number.
    fs::write(frames.join("F0004.jpg"), b"orphan").unwrap();
    let mut store = FrameStore::open(&frames).unwrap();
    assert_eq!(store.entries().len(), 3);
    assert_eq!(store.next_id(), "F0005");
    let entry = store.write(&picture, meta(9.0)).unwrap();
    assert_eq!(entry.id, "F0005");
    assert_eq!(fs::read(frames.join("F0004.jpg")).unwrap(), b"orphan");
    let ids: Vec<String> = read_index(&frames)
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["F0001", "F0002", "F0003", "F0005"]);
}

#[test]
fn legacy_index_fields_are_preserved_and_numbering_follows_it() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = r#"[{"id":"F0041","timestamp":12.5,"path":"frames/F0041.jpg","sent_to_agent":true,"ocr":"hello"}]"#;
    fs::write(dir.path().join("index.json"), legacy).unwrap();
    let mut store = FrameStore::open(dir.path()).unwrap();
    assert_eq!(
        store
            .write(&gradient_picture(16, 16), meta(13.0))
            .unwrap()
            .id,
        "F0042"
    );
    let index = read_index(dir.path());
    assert_eq!(
        index[0],
        serde_json::from_str::<Vec<Value>>(legacy).unwrap()[0]
    );
    assert_eq!(index.len(), 2);
}

#[test]
fn mark_sent_flips_only_the_named_frames_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = FrameStore::open(dir.path()).unwrap();
    for i in 0..3 {
        store
            .write(&gradient_picture(16, 16), meta(i as f64))
            .unwrap();
    }
    assert_eq!(store.mark_sent(&["F0001", "F0003", "F9999"]).unwrap(), 2);
    assert_eq!(store.mark_sent(&["F0001"]).unwrap(), 0);
    let sent: Vec<bool> = read_index(dir.path())
        .iter()
        .map(|e| e["sent_to_agent"].as_bool().unwrap())
        .collect();
    assert_eq!(sent, [true, false, true]);
    let reopened = FrameStore::open(dir.path()).unwrap();
    assert!(reopened.entries()[2].sent_to_agent);
}

#[test]
fn corrupt_index_is_an_error_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        &b"[{\"id\":\"F0001\",\"timest"[..],
        b"{\"id\":\"F0001\"}",
        b"[{\"id\":1}]",
    ] {
        fs::write(dir.path().join("index.json"), bad).unwrap();
        let err = FrameStore::open(dir.path()).unwrap_err();
        assert!(matches!(err, FramesError::CorruptIndex { .. }), "{err}");
        assert_eq!(fs::read(dir.path().join("index.json")).unwrap(), bad);
    }
}

#[test]
fn readers_always_see_a_complete_index() {
    let dir = tempfile::tempdir().unwrap();
    let options = FrameStoreOptions {
        fsync: false,
        ..Default::default()
    };
    let mut store = FrameStore::open_with(dir.path(), options).unwrap();
    store.write(&gradient_picture(16, 16), meta(0.0)).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (done, path) = (done.clone(), dir.path().join("index.json"));
        std::thread::spawn(move || {
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) {
                let bytes = fs::read(&path).expect("index never missing");
                let entries: Vec<Value> =
                    serde_json::from_slice(&bytes).expect("index always parses");
                assert!(!entries.is_empty());
                reads += 1;
            }
            reads
        })
    };
    let picture = gradient_picture(64, 48);
    for i in 1..60 {
        store.write(&picture, meta(i as f64)).unwrap();
        if i % 7 == 0 {
            store.mark_sent(&[format!("F{i:04}")]).unwrap();
        }
    }
    done.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    assert_eq!(read_index(dir.path()).len(), 60);
}
