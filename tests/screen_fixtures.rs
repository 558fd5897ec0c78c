//! The committed screen fixtures (tests/fixtures/screen/) agree with their
//! label sidecars: ffprobe (the oracle) finds the frames, sizes and times
//! the labels are written against, and every clip stays small.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

fn dir() -> PathBuf {
    cht_suite::workspace_root().join("tests/fixtures/screen")
}

/// Every fixture's (name, labels).
fn fixtures() -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir()).expect("tests/fixtures/screen exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            let labels = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push((name, labels));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// (width, height, pts seconds) of each video frame, by ffprobe.
fn probe(name: &str) -> Vec<(u64, u64, f64)> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["frame=width,height,pts_time", "-of", "csv=p=0"])
        .arg(dir().join(format!("{name}.ts")))
        .output()
        .expect("ffprobe must be installed");
    assert!(out.status.success(), "ffprobe failed on {name}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let num = |i: usize| {
                f[i].trim()
                    .parse::<f64>()
                    .unwrap_or_else(|_| panic!("{name}: {l}"))
            };
            // csv order follows ffprobe's field order: pts_time, width, height
            (num(1) as u64, num(2) as u64, num(0))
        })
        .collect()
}

#[test]
fn every_class_of_the_issue_has_a_fixture() {
    let names: Vec<String> = fixtures().into_iter().map(|(n, _)| n).collect();
    for want in [
        "same_template_switch",
        "busy_animation",
        "video_in_page",
        "caret_typing",
        "build_log",
        "slide_build",
        "resolution_change",
        "wheel_then_page_down",
        "pointer_hover",
        "notification_popup",
        "tree_output",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "missing fixture {want}: {names:?}"
        );
    }
}

#[test]
fn fixtures_are_small() {
    let mut total = 0;
    for (name, _) in fixtures() {
        let len = std::fs::metadata(dir().join(format!("{name}.ts")))
            .unwrap()
            .len();
        assert!(len < 250_000, "{name}.ts is {len} bytes");
        total += len;
    }
    assert!(total < 3_000_000, "fixtures total {total} bytes");
}

#[test]
fn labels_match_the_clips() {
    for (name, labels) in fixtures() {
        let frames = probe(&name);
        let n = labels["frames"].as_u64().unwrap() as usize;
        assert_eq!(frames.len(), n, "{name}: frame count");
        // Frame i is at i/30 s from the first frame.
        let t0 = frames[0].2;
        for (i, f) in frames.iter().enumerate() {
            assert!(
                (f.2 - t0 - i as f64 / 30.0).abs() < 0.002,
                "{name}: frame {i} at {} s",
                f.2 - t0
            );
        }
        let (w, h) = (
            labels["width"].as_u64().unwrap(),
            labels["height"].as_u64().unwrap(),
        );
        let change = labels["sizes"]
            .as_array()
            .map(|s| s[1][2].as_u64().unwrap() as usize);
        for (i, f) in frames.iter().enumerate() {
            let want = match change {
                Some(at) if i >= at => (640, 360),
                _ => (w, h),
            };
            assert_eq!((f.0, f.1), want, "{name}: size of frame {i}");
        }
        for e in labels["events"].as_array().unwrap() {
            let frame = e["frame"].as_u64().unwrap() as usize;
            let settled = e["settled_frame"].as_u64().unwrap() as usize;
            assert!(
                frame > 0 && frame < n && settled >= frame && settled < n,
                "{name}: {e}"
            );
            assert!((e["time"].as_f64().unwrap() - frame as f64 / 30.0).abs() < 1e-3);
        }
    }
}

#[test]
fn no_event_clips_have_no_events_and_one_event_clips_one() {
    for (name, labels) in fixtures() {
        let events = labels["events"].as_array().unwrap().len();
        let want = match name.as_str() {
            "busy_animation" | "video_in_page" | "caret_typing" | "build_log" | "pointer_hover"
            | "notification_popup" | "tree_output" => 0,
            _ => 1,
        };
        assert_eq!(events, want, "{name}");
    }
}
