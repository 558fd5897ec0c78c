//! The default detector on small clips of real programs
//! (`tests/fixtures/screen/`, labelled from the script that made them):
//! each class of event is caught at its first frame, each class of activity
//! makes no event, the picture of a change shows the screen finished, and a
//! resolution change is one event and one warning, offline and live.
//! ffmpeg is the oracle that decodes the reference frames.
#![allow(clippy::unwrap_used)]

use cht_suite::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const FPS: f64 = 30.0;

fn clip(name: &str) -> PathBuf {
    workspace_root().join(format!("tests/fixtures/screen/{name}.ts"))
}

fn labels(name: &str) -> Value {
    let path = workspace_root().join(format!("tests/fixtures/screen/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `cht analyze` on a clip; returns the index entries and the JSON events.
fn analyze(name: &str, out: &Path) -> (Vec<Value>, Vec<Value>) {
    analyze_file(&clip(name), &[], out)
}

/// `cht analyze --json` on `input` with `extra` options, into `out`;
/// returns the index entries and the JSON events.
fn analyze_file(input: &Path, extra: &[&str], out: &Path) -> (Vec<Value>, Vec<Value>) {
    let (ok, stdout, stderr) = run(Command::new(cht_bin())
        .args(["analyze", "--json", "--no-audio", "--out"])
        .arg(out)
        .args(extra)
        .arg(input));
    assert!(ok, "cht analyze {}: {stderr}", input.display());
    let index: Vec<Value> =
        serde_json::from_slice(&std::fs::read(out.join("frames/index.json")).unwrap()).unwrap();
    let events = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (index, events)
}

/// The pictures that report a new screen (not the first picture of the
/// stream, not updates).
fn new_screens(index: &[Value]) -> Vec<&Value> {
    index
        .iter()
        .filter(|e| e["kind"] == "event" && e["cause"] != "start")
        .collect()
}

/// The labelled events' first frames.
fn labelled_frames(name: &str) -> Vec<i64> {
    labels(name)["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["frame"].as_i64().unwrap())
        .collect()
}

fn assert_events_at_labels(name: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let (index, _) = analyze(name, tmp.path());
    let found: Vec<f64> = new_screens(&index)
        .iter()
        .map(|e| e["timestamp"].as_f64().unwrap())
        .collect();
    let want = labelled_frames(name);
    assert_eq!(
        found.len(),
        want.len(),
        "{name}: events {found:?}, labels {want:?}\n{index:#?}"
    );
    for (t, frame) in found.iter().zip(&want) {
        let got = (t * FPS).round() as i64;
        assert!(
            (got - frame).abs() <= 1,
            "{name}: event at frame {got}, labelled {frame}"
        );
    }
}

#[test]
fn a_same_template_slide_switch_is_caught_at_its_first_frame() {
    assert_events_at_labels("same_template_switch");
}

#[test]
fn a_page_down_is_an_event_and_a_wheel_notch_is_not() {
    assert_events_at_labels("wheel_then_page_down");
}

#[test]
fn activity_makes_no_event() {
    // A busy animation, a video with its own cuts in a page, a blinking
    // caret and typing, a scrolling build log, link cards highlighted under
    // the pointer, a notification, a directory tree printed (long thin
    // vertical lines, which a shape drawn in a diagram also has).
    for name in [
        "busy_animation",
        "video_in_page",
        "caret_typing",
        "build_log",
        "pointer_hover",
        "notification_popup",
        "tree_output",
    ] {
        assert!(labelled_frames(name).is_empty());
        let tmp = tempfile::tempdir().unwrap();
        let (index, _) = analyze(name, tmp.path());
        assert!(
            new_screens(&index).is_empty(),
            "{name}: activity reported as a new screen: {index:#?}"
        );
        // The first picture is always written.
        assert!(
            index.first().is_some_and(|e| e["cause"] == "start"),
            "{name}"
        );
    }
}

#[test]
fn a_notification_in_a_corner_is_not_pictured() {
    // It is no new screen, and no content built up: no update shows it.
    let tmp = tempfile::tempdir().unwrap();
    let (index, _) = analyze("notification_popup", tmp.path());
    assert_eq!(index.len(), 1, "{index:#?}");
    assert_eq!(index[0]["cause"], "start");
}

/// Gray 480-pixel-wide pixels of an image or of frame `n` of a clip, by ffmpeg.
fn gray480(input: &Path, frame: Option<i64>) -> Vec<u8> {
    let mut filter = String::new();
    if let Some(n) = frame {
        filter.push_str(&format!("select=eq(n\\,{n}),"));
    }
    filter.push_str("scale=480:270:flags=area,format=gray");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(input)
        .args(["-vf", &filter, "-frames:v", "1", "-f", "rawvideo", "-"])
        .output()
        .expect("ffmpeg must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout.len(), 480 * 270);
    out.stdout
}

/// Share of the 16x16 blocks of two 480x270 gray pictures whose mean
/// absolute difference exceeds 6 (the corpus' final-content rule).
fn differing_blocks(a: &[u8], b: &[u8]) -> f64 {
    let (mut differing, mut blocks) = (0, 0);
    for by in 0..270 / 16 {
        for bx in 0..480 / 16 {
            let mut sad = 0u32;
            for y in by * 16..by * 16 + 16 {
                for x in bx * 16..bx * 16 + 16 {
                    sad += a[y * 480 + x].abs_diff(b[y * 480 + x]) as u32;
                }
            }
            blocks += 1;
            differing += (sad as f64 / 256.0 > 6.0) as usize;
        }
    }
    differing as f64 / blocks as f64
}

#[test]
fn the_picture_of_a_slide_that_builds_shows_it_finished() {
    let name = "slide_build";
    let tmp = tempfile::tempdir().unwrap();
    let (index, _) = analyze(name, tmp.path());
    let event = &labels(name)["events"][0];
    let (first, settled) = (
        event["frame"].as_i64().unwrap(),
        event["settled_frame"].as_i64().unwrap(),
    );
    let screens = new_screens(&index);
    assert_eq!(screens.len(), 1, "{index:#?}");
    let t = screens[0]["timestamp"].as_f64().unwrap();
    assert!(
        ((t * FPS).round() as i64 - first).abs() <= 1,
        "event at {t} s"
    );
    // The last picture shows the finished slide (all five bullets), as the
    // clip's settled frame does; the first frame of the switch does not.
    let last = index.last().unwrap();
    let shown = (last["picture_time"].as_f64().unwrap() * FPS).round() as i64;
    assert!(
        shown >= settled,
        "last picture at frame {shown}, settled at {settled}"
    );
    let picture = gray480(&tmp.path().join(last["path"].as_str().unwrap()), None);
    let finished = gray480(&clip(name), Some(settled));
    let unfinished = gray480(&clip(name), Some(first));
    assert!(differing_blocks(&picture, &finished) <= 0.01);
    assert!(
        differing_blocks(&unfinished, &finished) > 0.01,
        "the test needs a build"
    );
}

#[test]
fn a_resolution_change_is_one_event_and_one_warning() {
    let name = "resolution_change";
    let tmp = tempfile::tempdir().unwrap();
    let (index, events) = analyze(name, tmp.path());
    let screens = new_screens(&index);
    assert_eq!(screens.len(), 1, "{index:#?}");
    assert_eq!(screens[0]["cause"], "resolution_change");
    let frame = (screens[0]["timestamp"].as_f64().unwrap() * FPS).round() as i64;
    assert!(
        (frame - labelled_frames(name)[0]).abs() <= 1,
        "at frame {frame}"
    );
    let warnings: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "warning" && e["kind"] == "resolution_change")
        .collect();
    assert_eq!(warnings.len(), 1, "{events:#?}");
}

#[test]
fn live_a_resolution_change_is_one_event_and_one_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let mut rec = Recorder::start(
        &sessions,
        &[
            "--relay",
            "off",
            "--control",
            "off",
            "--events",
            "json",
            "--once",
            "--no-audio",
        ],
    );
    let stdout = rec.child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
            .collect::<Vec<_>>()
    });
    ffmpeg_send(&clip("resolution_change"), &rec.addr);
    let (status, log) = rec.wait(Duration::from_secs(30));
    assert!(status.success(), "{log}");
    let events = reader.join().unwrap();
    let frames: Vec<&Value> = events.iter().filter(|e| e["event"] == "frame").collect();
    let changes: Vec<&&Value> = frames
        .iter()
        .filter(|e| e["kind"] == "event" && e["cause"] != "start")
        .collect();
    assert_eq!(changes.len(), 1, "{frames:#?}");
    assert_eq!(changes[0]["cause"], "resolution_change");
    let warnings = events
        .iter()
        .filter(|e| e["event"] == "warning" && e["kind"] == "resolution_change")
        .count();
    assert_eq!(warnings, 1, "{events:#?}");
}

/// `cht analyze --json` on a clip; returns the new-screen times and the
/// summary.
fn events_and_summary(input: &Path, extra: &[&str]) -> (Vec<f64>, Value) {
    let tmp = tempfile::tempdir().unwrap();
    let (index, events) = analyze_file(input, extra, tmp.path());
    let summary = events
        .iter()
        .find(|v| v["event"] == "summary")
        .expect("a summary line")["summary"]
        .clone();
    let times = index
        .iter()
        .filter(|e| e["kind"] == "event")
        .map(|e| e["timestamp"].as_f64().unwrap())
        .collect();
    (times, summary)
}

#[test]
fn leaving_out_disposable_and_optional_pictures_finds_the_same_events() {
    let (mut skipped_somewhere, mut optional_skipped_somewhere) = (false, false);
    let mut clips: Vec<PathBuf> = [
        "same_template_switch",
        "busy_animation",
        "video_in_page",
        "caret_typing",
        "build_log",
        "slide_build",
        "resolution_change",
        "wheel_then_page_down",
    ]
    .iter()
    .map(|n| clip(n))
    .collect();
    clips.push(fixture("cuts_high.ts"));
    clips.push(fixture("av_high.ts"));
    for input in &clips {
        let (fewer, summary) = events_and_summary(input, &[]);
        let (all, full) = events_and_summary(input, &["--every-picture"]);
        assert_eq!(full["pictures_not_decoded"], 0);
        skipped_somewhere |= summary["pictures_not_decoded"].as_u64().unwrap() > 0;
        optional_skipped_somewhere |=
            summary["optional_pictures_not_decoded"].as_u64().unwrap() > 0;
        assert_eq!(
            fewer.len(),
            all.len(),
            "{}: {fewer:?} vs {all:?}",
            input.display()
        );
        for (a, b) in fewer.iter().zip(&all) {
            // A change on a picture left out is seen on the next one.
            assert!(
                (a - b).abs() <= 1.5 / FPS,
                "{}: {fewer:?} vs {all:?}",
                input.display()
            );
        }
    }
    assert!(skipped_somewhere, "no clip had a disposable picture");
    // The fixtures are x264 veryfast: B-pyramid middle B-frames nothing
    // else refers to, on screens that are mostly still.
    assert!(
        optional_skipped_somewhere,
        "no clip had an optional picture left out"
    );
}

/// `cht analyze` on a clip: each index entry's kind, event time, picture
/// time and JPEG.
fn pictures(input: &Path, extra: &[&str]) -> Vec<(String, f64, f64, Vec<u8>)> {
    let tmp = tempfile::tempdir().unwrap();
    let (index, _) = analyze_file(input, extra, tmp.path());
    index
        .iter()
        .map(|e| {
            let time = e["timestamp"].as_f64().unwrap();
            let picture = e["picture_time"].as_f64().unwrap_or(time);
            let jpeg = std::fs::read(tmp.path().join(e["path"].as_str().unwrap())).unwrap();
            (e["kind"].as_str().unwrap().to_string(), time, picture, jpeg)
        })
        .collect()
}

#[test]
fn gops_decoded_in_parallel_give_the_pictures_of_one_thread() {
    // On one thread each GOP is decided as soon as it is decoded, so the
    // detector run ahead has its exact state; in parallel it runs from an
    // older one, keeps other pictures, and the rest is decoded again, or
    // stood in for by one of the same screen at most a second away; the
    // same each run. The clips are encoded again with a GOP every 10
    // frames, so that many are in flight.
    let tmp = tempfile::tempdir().unwrap();
    let clips = [
        "same_template_switch",
        "busy_animation",
        "video_in_page",
        "slide_build",
        "wheel_then_page_down",
    ];
    let mut gops = 0;
    for name in clips {
        let short_gops = tmp.path().join(format!("{name}.ts"));
        let (ok, _, stderr) = run(Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(clip(name))
            .args(["-an", "-c:v", "libx264", "-preset", "veryfast", "-bf", "3"])
            .args(["-g", "10", "-keyint_min", "10", "-sc_threshold", "0"])
            .arg(&short_gops));
        assert!(ok, "ffmpeg: {stderr}");
        let one = pictures(&short_gops, &["--jobs", "1"]);
        let many = pictures(&short_gops, &["--jobs", "2"]);
        // However the threads are timed, a run writes the same pictures.
        let again = pictures(&short_gops, &["--jobs", "2"]);
        assert!(many == again, "{name}: two runs wrote different pictures");
        let times = |p: &[(String, f64, f64, Vec<u8>)]| -> Vec<(String, f64, f64)> {
            p.iter().map(|(k, t, pt, _)| (k.clone(), *t, *pt)).collect()
        };
        let (one_times, many_times) = (times(&one), times(&many));
        assert_eq!(
            one.len(),
            many.len(),
            "{name}: {one_times:?} vs {many_times:?}"
        );
        for (a, b) in one.iter().zip(&many) {
            assert_eq!(
                (&a.0, a.1),
                (&b.0, b.1),
                "{name}: {one_times:?} vs {many_times:?}"
            );
            assert!(
                (a.2 - b.2).abs() <= 1.0,
                "{name}: {one_times:?} vs {many_times:?}"
            );
            if a.2 == b.2 {
                assert!(a.3 == b.3, "{name}: the picture at {} differs", a.2);
            }
        }
        gops += events_and_summary(&short_gops, &["--jobs", "2"]).1["gops"]
            .as_u64()
            .unwrap();
    }
    assert!(gops >= 40, "{gops} GOPs");
}

#[test]
fn a_shot_cut_is_pictured_in_its_own_shot_by_the_bound() {
    // Footage with hard cuts, GOP-parallel: a shot's picture may be a later
    // frame of the same shot than the one decided on, never past the bound
    // (1.5 s) nor in the next shot.
    let input = fixture("cuts_high.ts");
    let pictures = pictures(&input, &["--jobs", "2"]);
    let events: Vec<f64> = pictures
        .iter()
        .filter(|p| p.0 == "event")
        .map(|p| p.1)
        .collect();
    assert!(events.len() >= 3, "{events:?}");
    for (kind, time, picture, _) in &pictures {
        assert!(
            // (The decision falls on the first decoded picture past the
            // bound; disposable pictures are not decoded.)
            *picture >= *time && *picture <= time + 1.5 + 0.1,
            "{kind} at {time}: picture at {picture}"
        );
        let next = events.iter().find(|&&t| t > *time);
        assert!(
            next.is_none_or(|&n| *picture < n),
            "{kind} at {time}: picture at {picture} is in the next shot"
        );
    }
}
