//! cht's ffmpeg-mode scene score against ffmpeg's own, on committed x264
//! High-profile fixtures with B-frames: per-frame scores, frame times and
//! cut lists must agree (openh264 and libavcodec may differ by a few pixels
//! on a few frames, so scores are allowed 1e-4 on 99.5% of frames).

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use cht_suite::*;
use std::path::Path;
use std::process::Command;

/// (pts_time, score) per frame as ffmpeg prints them.
fn ffmpeg_scores(input: &Path) -> Vec<(f64, f64)> {
    let (ok, out, err) = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(input)
        .args([
            "-an",
            "-vf",
            "select='gte(scene,0)',metadata=print:key=lavfi.scene_score:file=-",
            "-f",
            "null",
            "-",
        ]));
    assert!(ok, "ffmpeg failed: {err}");
    let mut frames = Vec::new();
    let mut time = None;
    for line in out.lines() {
        if let Some(t) = line.split("pts_time:").nth(1) {
            time = t.split_whitespace().next().and_then(|v| v.parse().ok());
        } else if let Some(s) = line.strip_prefix("lavfi.scene_score=") {
            frames.push((
                time.take().expect("pts_time before score"),
                s.trim().parse().unwrap(),
            ));
        }
    }
    frames
}

/// (pts_time, score) per frame from `cht scores --detector ffmpeg`.
fn cht_scores(input: &Path) -> Vec<(f64, f64)> {
    let (ok, out, err) = run(Command::new(cht_bin())
        .args(["scores", "--detector", "ffmpeg"])
        .arg(input));
    assert!(ok, "cht scores failed: {err}");
    out.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].parse().unwrap(), f[2].parse().unwrap())
        })
        .collect()
}

fn cuts(scores: &[(f64, f64)], threshold: f64) -> Vec<usize> {
    scores
        .iter()
        .enumerate()
        .filter(|(_, (_, s))| *s > threshold)
        .map(|(i, _)| i)
        .collect()
}

fn check_against_ffmpeg(name: &str, expect_cuts: bool) {
    let input = fixture(name);
    let (ours, theirs) = (cht_scores(&input), ffmpeg_scores(&input));
    assert_eq!(ours.len(), theirs.len(), "frame counts differ");
    let close = ours
        .iter()
        .zip(&theirs)
        .filter(|(a, b)| (a.1 - b.1).abs() <= 1e-4)
        .count();
    assert!(
        close * 1000 >= ours.len() * 995,
        "{name}: only {close}/{} scores within 1e-4",
        ours.len()
    );
    let t0 = theirs[0].0;
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert!(
            (a.0 - (b.0 - t0)).abs() < 1e-3,
            "{name} frame {i}: time {} vs ffmpeg {}",
            a.0,
            b.0 - t0
        );
    }
    for threshold in [0.05, 0.3] {
        assert_eq!(
            cuts(&ours, threshold),
            cuts(&theirs, threshold),
            "{name}: cut lists differ at {threshold}"
        );
    }
    if expect_cuts {
        assert!(
            cuts(&theirs, 0.3).len() >= 4,
            "the fixture should have real cuts"
        );
    }
}

#[test]
fn ffmpeg_mode_scores_match_ffmpeg_on_hard_cuts() {
    check_against_ffmpeg("cuts_high.ts", true);
}

#[test]
fn ffmpeg_mode_scores_match_ffmpeg_on_continuous_motion() {
    check_against_ffmpeg("av_high.ts", false);
}

#[test]
fn analyze_writes_a_frame_per_cut_with_the_cut_times() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let input = fixture("cuts_high.ts");
    let (ok, _, err) = run(Command::new(cht_bin())
        .args([
            "analyze",
            "--detector",
            "ffmpeg",
            "--scene-threshold",
            "0.3",
            "--out",
        ])
        .arg(&out)
        .arg(&input));
    assert!(ok, "{err}");
    let index: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(out.join("frames/index.json")).unwrap()).unwrap();
    let theirs = ffmpeg_scores(&input);
    let t0 = theirs[0].0;
    // The first frame, then every ffmpeg cut.
    let mut expected: Vec<f64> = vec![0.0];
    expected.extend(cuts(&theirs, 0.3).iter().map(|&i| theirs[i].0 - t0));
    let got: Vec<f64> = index
        .iter()
        .map(|e| e["timestamp"].as_f64().unwrap())
        .collect();
    assert_eq!(got.len(), expected.len(), "{got:?} vs {expected:?}");
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() < 2e-3, "{got:?} vs {expected:?}");
    }
    for (n, e) in index.iter().enumerate() {
        assert_eq!(e["id"], format!("F{:04}", n + 1));
        assert_eq!(e["sent_to_agent"], false);
        let jpeg = std::fs::read(out.join(e["path"].as_str().unwrap())).unwrap();
        assert_eq!(&jpeg[..2], &[0xff, 0xd8], "a JPEG");
    }
    assert!(out.join("audio/index.json").is_file());
}

#[test]
fn a_corrupt_stream_is_analysed_from_the_next_idr() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ts = std::fs::read(fixture("cuts_high.ts")).unwrap();
    // Drop 40 packets in the middle of the second GOP and flip bytes later on.
    let start = (ts.len() / 188 * 3 / 10) * 188;
    ts.drain(start..start + 40 * 188);
    let flip = (ts.len() / 188 * 7 / 10) * 188 + 50;
    for b in &mut ts[flip..flip + 100] {
        *b ^= 0x5a;
    }
    let damaged = tmp.path().join("damaged.ts");
    std::fs::write(&damaged, &ts).unwrap();
    let (ok, out, err) = run(Command::new(cht_bin())
        .args(["scores", "--detector", "ffmpeg"])
        .arg(&damaged));
    assert!(ok, "{err}");
    let frames = out.lines().count();
    assert!(frames > 150 && frames < 250, "{frames} frames scored");
    let (ok, _, err) = run(Command::new(cht_bin())
        .args(["analyze", "--out"])
        .arg(tmp.path().join("a"))
        .arg(&damaged));
    assert!(ok, "{err}");
    assert!(
        err.contains("decoding gaps") || err.contains("damaged"),
        "the gap must be reported:\n{err}"
    );
}

#[test]
fn gop_parallel_scores_equal_a_single_decoder() {
    for detector in ["ffmpeg", "default"] {
        let score = |jobs: &str| {
            let (ok, out, err) = run(Command::new(cht_bin())
                .args(["scores", "--cuts", "--detector", detector, "--jobs", jobs])
                .arg(fixture("cuts_high.ts")));
            assert!(ok, "{err}");
            out
        };
        let one = score("1");
        assert_eq!(one.lines().count(), 250);
        assert_eq!(score("2"), one, "{detector}");
        assert_eq!(score("4"), one, "{detector}");
    }
}
