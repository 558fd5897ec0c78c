//! The terminal of `cht record`, for people: one line per picture, audio
//! chunk and transcript as they happen, and every few seconds one compact
//! status line made from the same snapshot `GET /status` returns (the
//! `stats` event). Read from the event bus, like every other subscriber.
//!
//! ```text
//! picture    F0007  12.4 s  slide switch  (event, score 0.61)
//! chunk      chunk_0003  30.1 s  10.0 s long
//! transcript chunk_0003  30.1 s  "so the next slide shows the numbers…"
//! status     segment 0 · 2.4 MB in (442 kbit/s, 30.0 fps) · 2.3 MB written · 7 pictures of 751 decoded · 3 audio chunks · analysis lag 1 ms
//! ```
//!
//! Warnings are not repeated here: the stage that warns logs its message
//! once.

use cht_events::{Event, EventBus};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Longest transcript excerpt shown, in characters.
const EXCERPT: usize = 72;

/// Prints the lines on stderr until the bus ends.
pub fn spawn_printer(bus: &EventBus, session_dir: &Path) -> std::thread::JoinHandle<()> {
    let sub = bus.subscribe(4096);
    let session_dir: PathBuf = session_dir.to_path_buf();
    std::thread::spawn(move || {
        for record in sub.events.iter() {
            if let Some(line) = line_for(&record.event, &session_dir) {
                eprintln!("{line}");
            }
        }
    })
}

/// The line a person reads for an event, if any.
pub fn line_for(event: &Event, session_dir: &Path) -> Option<String> {
    match event {
        Event::Frame { entry, .. } => {
            let time = entry.session_picture_time.unwrap_or(entry.shown_at());
            let cause = entry
                .cause
                .as_deref()
                .map_or_else(|| "picture".to_string(), |c| c.replace('_', " "));
            let mut detail = Vec::new();
            if let Some(kind) = entry.kind {
                detail.push(
                    serde_json::to_value(kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                );
            }
            if let Some(score) = entry.score {
                detail.push(format!("score {score:.2}"));
            }
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!("  ({})", detail.join(", "))
            };
            Some(format!(
                "picture    {}  {time:.1} s  {cause}{detail}",
                entry.id
            ))
        }
        Event::AudioChunk {
            id,
            duration,
            session_start,
            ..
        } => Some(format!(
            "chunk      {id}  {:.1} s  {duration:.1} s long",
            session_start.max(0.0)
        )),
        Event::Transcript {
            id,
            path,
            session_start,
            ..
        } => {
            let text = std::fs::read_to_string(session_dir.join(path)).unwrap_or_default();
            Some(format!(
                "transcript {id}  {:.1} s  {}",
                session_start.max(0.0),
                excerpt(&text)
            ))
        }
        Event::Stats(status) if status.get("connected") == Some(&Value::Bool(true)) => {
            Some(format!("status     {}", status_line(status)))
        }
        _ => None,
    }
}

/// `"first words…"`, on one line; `(nothing said)` for an empty transcript.
fn excerpt(text: &str) -> String {
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.is_empty() {
        return "(nothing said)".to_string();
    }
    let mut short: String = words.chars().take(EXCERPT).collect();
    if short.len() < words.len() {
        short.push('…');
    }
    format!("\"{short}\"")
}

/// The live status (the `GET /status` object) as one compact line: the
/// numbers are its fields, rounded.
pub fn status_line(status: &Value) -> String {
    let num = |field: &str| status.get(field).and_then(Value::as_f64).unwrap_or(0.0);
    let nested = |outer: &str, field: &str| {
        status
            .get(outer)
            .and_then(|o| o.get(field))
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
    };
    let mut parts = Vec::new();
    if let Some(segment) = status.get("segment").and_then(Value::as_u64) {
        parts.push(format!("segment {segment}"));
    }
    parts.push(format!(
        "{} in ({:.0} kbit/s, {:.1} fps)",
        megabytes(num("bytes_in")),
        num("input_kbps"),
        num("input_fps"),
    ));
    parts.push(format!("{} written", megabytes(num("bytes_written"))));
    if status.get("video").is_some() {
        parts.push(format!(
            "{:.0} pictures of {:.0} decoded",
            nested("video", "frames_written"),
            nested("video", "pictures"),
        ));
    }
    if status.get("audio").is_some() {
        parts.push(format!(
            "{:.0} audio chunks",
            nested("audio", "chunks_written")
        ));
    }
    if status.get("analysis_lag_ms").is_some() {
        parts.push(format!("analysis lag {:.0} ms", num("analysis_lag_ms")));
    }
    if status.get("relay").is_some() {
        parts.push(format!(
            "relay {:.0} datagrams ({:.0} dropped)",
            nested("relay", "datagrams"),
            nested("relay", "dropped"),
        ));
    }
    parts.join(" · ")
}

fn megabytes(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_line_per_picture_chunk_and_transcript() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("transcript")).expect("dir");
        std::fs::write(
            dir.path().join("transcript/chunk_0003.txt"),
            "  so the next slide\nshows the numbers  \n",
        )
        .expect("transcript");
        let entry = serde_json::from_value(json!({
            "id": "F0007", "timestamp": 2.0, "path": "frames/F0007.jpg", "sent_to_agent": false,
            "segment": 1, "score": 0.612, "kind": "event", "picture_time": 2.4,
            "cause": "slide_switch", "session_time": 12.0, "session_picture_time": 12.4
        }))
        .expect("entry");
        let picture = Event::Frame {
            entry,
            latency_ms: Some(40.0),
        };
        assert_eq!(
            line_for(&picture, dir.path()).as_deref(),
            Some("picture    F0007  12.4 s  slide switch  (event, score 0.61)")
        );
        let chunk = Event::AudioChunk {
            id: "chunk_0003".into(),
            path: "audio/chunk_0003.wav".into(),
            start: 5.1,
            duration: 10.0,
            segment: 1,
            session_start: 30.1,
        };
        assert_eq!(
            line_for(&chunk, dir.path()).as_deref(),
            Some("chunk      chunk_0003  30.1 s  10.0 s long")
        );
        let transcript = Event::Transcript {
            id: "chunk_0003".into(),
            path: "transcript/chunk_0003.txt".into(),
            chunk: "audio/chunk_0003.wav".into(),
            segment: 1,
            start: 5.1,
            duration: 10.0,
            session_start: 30.1,
        };
        assert_eq!(
            line_for(&transcript, dir.path()).as_deref(),
            Some("transcript chunk_0003  30.1 s  \"so the next slide shows the numbers\"")
        );
        assert_eq!(excerpt(&"word ".repeat(40)).chars().count(), EXCERPT + 3);
        assert_eq!(excerpt(" \n"), "(nothing said)");
    }

    #[test]
    fn the_status_line_says_the_status_numbers() {
        let status = json!({
            "connected": true, "segment": 2, "bytes_in": 2_418_024, "input_kbps": 441.6,
            "input_fps": 29.99, "bytes_written": 2_391_205, "analysis_lag_ms": 1.2,
            "video": {"pictures": 751, "frames_written": 7}, "audio": {"chunks_written": 3}
        });
        assert_eq!(
            line_for(&Event::Stats(status.clone()), Path::new("")).as_deref(),
            Some("status     segment 2 · 2.4 MB in (442 kbit/s, 30.0 fps) · 2.4 MB written · 7 pictures of 751 decoded · 3 audio chunks · analysis lag 1 ms")
        );
        let idle = json!({"connected": false, "bytes_in": 5});
        assert_eq!(line_for(&Event::Stats(idle), Path::new("")), None);
    }
}
