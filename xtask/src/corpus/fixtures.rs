//! `cargo xtask screen-fixtures`: the small clips under
//! tests/fixtures/screen/ that the scene detector's tests use, captured
//! from real programs like the corpus (Xvfb, xdotool, x11grab), encoded as
//! MPEG-TS (libx264 veryfast, CRF 28, 4:2:0), each with a sidecar JSON of
//! labels made the same way as the corpus labels.

use super::label::{self, ChangeMaps, Event};
use super::scenarios::{command, copy_www, notification, open_chromium, prepare_tree, url, xterm};
use super::script::Script;
use super::x::{Display, FPS};
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const USAGE: &str = "\
cargo xtask screen-fixtures [--only NAME,..]
  Captures the detector's test clips (tests/fixtures/screen/NAME.ts + NAME.json)
  from real programs on a private X display. Rewrites the selected fixtures.
";

struct Fixture {
    name: &'static str,
    what: &'static str,
    width: u32,
    height: u32,
    crf: u32,
}

const FIXTURES: &[Fixture] = &[
    Fixture { name: "same_template_switch", what: "HTML deck: one same-template slide switch (only the title and bullets change)", width: 960, height: 540, crf: 28 },
    Fixture { name: "busy_animation", what: "Conway's life animating over the whole page, 10 Hz: no event", width: 960, height: 540, crf: 32 },
    Fixture { name: "video_in_page", what: "a video with its own shot cuts playing in a web page: no event", width: 960, height: 540, crf: 30 },
    Fixture { name: "caret_typing", what: "xterm: a blinking caret, then typing at the prompt: no event", width: 960, height: 540, crf: 28 },
    Fixture { name: "build_log", what: "xterm: a build log scrolling the terminal: no event", width: 960, height: 540, crf: 28 },
    Fixture { name: "tree_output", what: "xterm: a command prints a directory tree (lines of box-drawing characters): no event", width: 960, height: 540, crf: 28 },
    Fixture { name: "slide_build", what: "HTML deck: a slide switch, then five bullets appear over 2.5 s (one event; the settled picture shows all five)", width: 960, height: 540, crf: 28 },
    Fixture { name: "resolution_change", what: "HTML deck slide encoded at 1280x720, then at 640x360, in one TS: one event at the change", width: 1280, height: 720, crf: 28 },
    Fixture { name: "wheel_then_page_down", what: "Chromium: one wheel notch (no event), then Page Down (one event)", width: 960, height: 540, crf: 28 },
    Fixture { name: "pointer_hover", what: "Chromium, dim theme: the pointer rests on link cards, which highlight, then leaves: no event", width: 960, height: 540, crf: 28 },
    Fixture { name: "notification_popup", what: "Chromium: a notification pops up in the top right corner for 2.5 s: no event, no picture of it", width: 960, height: 540, crf: 28 },
];

/// What `tree` prints for a small workspace: lines of box-drawing
/// characters down the left of the output.
const TREE: &str = ".
├── Cargo.toml
├── crates
│   ├── analyze
│   │   ├── Cargo.toml
│   │   └── src
│   │       ├── lib.rs
│   │       ├── live.rs
│   │       └── offline.rs
│   ├── h264
│   │   ├── Cargo.toml
│   │   └── src
│   │       ├── decoder.rs
│   │       └── picture.rs
│   └── scene
│       ├── Cargo.toml
│       └── src
│           ├── lib.rs
│           └── screen
│               ├── compare.rs
│               └── mod.rs
└── xtask
    └── src
        └── main.rs

12 directories, 14 files
";

pub fn fixtures_dir() -> PathBuf {
    crate::root().join("tests/fixtures/screen")
}

pub fn screen_fixtures(args: &[String]) -> anyhow::Result<()> {
    let mut only: Option<Vec<String>> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--only" => {
                only = Some(
                    it.next()
                        .context("--only needs NAME[,..]")?
                        .split(',')
                        .map(String::from)
                        .collect(),
                )
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown option {other:?}\n\n{USAGE}"),
        }
    }
    super::scenarios::check_tools()?;
    let sources = super::footage::sources(&super::cache().join("sources"))?;
    let video = super::footage::page_video(&sources, &super::cache().join("page-video"))?;
    std::fs::create_dir_all(fixtures_dir())?;
    for f in FIXTURES {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|n| n == f.name))
        {
            continue;
        }
        eprintln!("xtask: fixture {}", f.name);
        make(f, &video).with_context(|| format!("fixture {}", f.name))?;
    }
    Ok(())
}

fn make(f: &Fixture, video: &Path) -> anyhow::Result<()> {
    let work = super::cache().join("fixtures").join(f.name);
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    std::fs::create_dir_all(&work)?;
    let capture = work.join("capture.mkv");
    let d = Display::start(f.width, f.height, &work.join("x"))?;
    let mut s = Script::new(d);
    script(f.name, &mut s, &capture, video)?;
    let (marks, start) = s.finish()?;
    let cm = ChangeMaps::compute(&capture, f.width as usize, f.height as usize)?;
    let (mut events, activities) = label::resolve(&cm, &marks, start)?;
    let out = fixtures_dir().join(format!("{}.ts", f.name));
    let mut extra = json!({});
    if f.name == "resolution_change" {
        // First half at 1280x720, second half at 640x360, one TS.
        let half = cm.frames() / 2;
        resolution_change(&capture, half, f.crf, &out, &work)?;
        events = vec![Event {
            frame: half,
            end: half,
            settled: half,
            first_change: half,
            transition: false,
            class: "resolution-change".into(),
            description: "the stream changes from 1280x720 to 640x360".into(),
            action_frame: None,
        }];
        extra = json!({"sizes": [[1280, 720, 0], [640, 360, half]]});
    } else {
        encode(&capture, f.crf, &out)?;
    }
    let scenes = label::scenes(&cm, &events);
    let mut v = label::labels_json(
        f.name,
        f.width as usize,
        f.height as usize,
        cm.frames(),
        &events,
        &activities,
        &scenes,
    );
    let obj = v.as_object_mut().expect("object");
    obj.remove("scenes");
    obj.insert("description".into(), json!(f.what));
    obj.insert("clip".into(), json!(format!("{}.ts", f.name)));
    obj.insert(
        "encoding".into(),
        json!(format!(
            "libx264 -preset veryfast -crf {} -pix_fmt yuv420p, MPEG-TS",
            f.crf
        )),
    );
    if let Some(m) = extra.as_object() {
        for (k, val) in m {
            obj.insert(k.clone(), val.clone());
        }
    }
    std::fs::write(
        fixtures_dir().join(format!("{}.json", f.name)),
        serde_json::to_string_pretty(&Value::Object(obj.clone()))? + "\n",
    )?;
    let pngs: Vec<(usize, String)> = events
        .iter()
        .enumerate()
        .flat_map(|(i, e)| {
            [
                (e.frame.saturating_sub(1), format!("e{i}_a_before.png")),
                (e.frame, format!("e{i}_b_first.png")),
                (e.end, format!("e{i}_c_end.png")),
                (e.settled, format!("e{i}_d_settled.png")),
            ]
        })
        .chain([
            (0, "first.png".to_string()),
            (cm.frames() - 1, "last.png".to_string()),
        ])
        .collect();
    label::extract_pngs(&capture, &pngs, &work.join("check"))?;
    eprintln!(
        "xtask: {}: {} frames, {} events, {} bytes",
        f.name,
        cm.frames(),
        events.len(),
        std::fs::metadata(&out)?.len()
    );
    Ok(())
}

fn encode(capture: &Path, crf: u32, out: &Path) -> anyhow::Result<()> {
    crate::run(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y", "-i"])
            .arg(capture)
            .args([
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                &crf.to_string(),
            ])
            .args([
                "-pix_fmt",
                "yuv420p",
                "-fps_mode",
                "passthrough",
                "-an",
                "-f",
                "mpegts",
            ])
            .arg(out),
    )
}

/// Two encodes of the halves (1280x720, then 640x360) joined at TS level,
/// timestamps continuous (the second starts where the first ends).
fn resolution_change(
    capture: &Path,
    half: usize,
    crf: u32,
    out: &Path,
    work: &Path,
) -> anyhow::Result<()> {
    let a = work.join("a.ts");
    let b = work.join("b.ts");
    let common = |c: &mut Command| {
        c.args([
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            &crf.to_string(),
        ])
        .args([
            "-pix_fmt",
            "yuv420p",
            "-fps_mode",
            "passthrough",
            "-an",
            "-f",
            "mpegts",
        ]);
    };
    // Both parts start at 0 and are placed with -output_ts_offset (no mux
    // delay): part b's first frame is 1/30 s after part a's last.
    let mut c = Command::new("ffmpeg");
    c.args(["-nostdin", "-v", "error", "-y", "-i"]).arg(capture);
    c.args(["-vf", &format!("select='lt(n\\,{half})',setpts=N/30/TB")]);
    c.args([
        "-muxdelay",
        "0",
        "-muxpreload",
        "0",
        "-output_ts_offset",
        "1.4",
    ]);
    common(&mut c);
    crate::run(c.arg(&a))?;
    let mut c = Command::new("ffmpeg");
    c.args(["-nostdin", "-v", "error", "-y", "-i"]).arg(capture);
    c.args([
        "-vf",
        &format!("select='gte(n\\,{half})',setpts=N/30/TB,scale=640:360"),
    ]);
    c.args(["-muxdelay", "0", "-muxpreload", "0"]);
    c.args([
        "-output_ts_offset",
        &format!("{:.6}", 1.4 + half as f64 / FPS),
    ]);
    common(&mut c);
    crate::run(c.arg(&b))?;
    let mut bytes = std::fs::read(&a)?;
    bytes.extend(std::fs::read(&b)?);
    std::fs::write(out, bytes)?;
    Ok(())
}

fn deck_url(www: &Path, theme: &str) -> String {
    format!("{}?theme={theme}", url(www, "deck.html"))
}

fn script(name: &str, s: &mut Script, capture: &Path, video: &Path) -> anyhow::Result<()> {
    let work = s.d.work.clone();
    match name {
        "same_template_switch" | "slide_build" | "resolution_change" => {
            let www = copy_www(&work, "a", None)?;
            open_chromium(s, &["--kiosk"], &[deck_url(&www, "a")])?;
            s.d.xdo(&["mousemove", "50", "50"])?;
            s.d.wait_still(1.5, 30.0);
            // Goals (slide 2); for the build, the diagram before Risks (6).
            let presses = if name == "slide_build" { 5 } else { 1 };
            for _ in 0..presses {
                s.key("Right")?;
                s.sleep(0.3);
            }
            s.d.wait_still(1.0, 10.0);
            s.start_capture(capture)?;
            match name {
                "same_template_switch" => {
                    s.sleep(1.5);
                    s.event(
                        "slide",
                        "same-template slide switch: Goals -> Constraints",
                        |s| s.key("Right"),
                    )?;
                    s.sleep(2.0);
                }
                "slide_build" => {
                    s.sleep(1.0);
                    s.event(
                        "slide",
                        "switch to Risks, whose bullets then appear one by one",
                        |s| s.key("Right"),
                    )?;
                    s.activity("build", "five bullets appear over 2.5 s", |s| {
                        s.sleep(3.0);
                        Ok(())
                    })?;
                    s.sleep(1.0);
                }
                _ => s.sleep(4.0),
            }
        }
        "busy_animation" | "video_in_page" | "wheel_then_page_down" => {
            let www = copy_www(&work, "a", Some(video))?;
            let (page, kiosk) = match name {
                "busy_animation" => ("life.html", true),
                "video_in_page" => ("video.html", false),
                _ => ("article1.html", false),
            };
            let flags: &[&str] = if kiosk {
                &["--kiosk"]
            } else {
                &["--start-maximized"]
            };
            open_chromium(s, flags, &[url(&www, page)])?;
            s.d.xdo(&[
                "mousemove",
                &(s.d.width / 2).to_string(),
                &(s.d.height / 2).to_string(),
            ])?;
            if name == "wheel_then_page_down" {
                s.d.wait_still(1.5, 30.0);
            } else {
                s.sleep(3.0);
            }
            s.start_capture(capture)?;
            match name {
                "busy_animation" => {
                    let a = s.begin_activity("animation", "life animates over the whole page");
                    s.sleep(4.0);
                    s.end_activity(a);
                }
                "video_in_page" => {
                    let a = s.begin_activity("video", "the video plays, with its own shot cuts");
                    s.sleep(6.0);
                    s.end_activity(a);
                }
                _ => {
                    s.sleep(1.0);
                    s.activity("scroll", "wheel scroll, one notch", |s| s.wheel(1))?;
                    s.sleep(1.5);
                    s.event("scroll-jump", "Page Down: the next screenful", |s| {
                        s.key("Next")
                    })?;
                    s.sleep(2.0);
                }
            }
        }
        "caret_typing" | "build_log" | "tree_output" => {
            let dir = prepare_tree(&work)?;
            s.d.spawn(&mut xterm("b", &dir, "dev@box: ~/cht"), "xterm")?;
            s.d.wait_window("--class", "xterm", 30)?;
            s.sleep(1.0);
            s.d.xdo(&["mousemove", &(s.d.width - 30).to_string(), "100"])?;
            s.type_text("clear\n", 30)?;
            if name == "build_log" {
                // A screenful of earlier output first, so the log scrolls.
                s.type_text("ls -l; ./build.sh\n", 40)?;
                s.sleep(3.0);
                s.type_text("clear; cat LICENSE | head -40\n", 40)?;
            }
            s.sleep(1.5);
            s.start_capture(capture)?;
            if name == "caret_typing" {
                s.activity("caret", "the caret blinks", |s| {
                    s.sleep(1.5);
                    Ok(())
                })?;
                s.activity("typing", "types a command (not run)", |s| {
                    s.type_text("cargo test -p cht-scene", 8)
                })?;
                s.sleep(1.0);
            } else if name == "tree_output" {
                // (Written here, not by `prepare_tree`: the scenarios' `ls`
                // and `git status` output stay as their labels saw them.)
                std::fs::write(dir.join("tree.txt"), TREE)?;
                // (Shorter than the terminal: added, not scrolled.)
                command(s, "head -14 tree.txt", None)?;
                s.sleep(2.0);
            } else {
                command(s, "./build.sh", None)?;
                s.activity("log-scroll", "the build log scrolls", |s| {
                    s.sleep(4.0);
                    Ok(())
                })?;
            }
        }
        "pointer_hover" => {
            let www = copy_www(&work, "c", None)?;
            let (w, h) = (s.d.width as i32, s.d.height as i32);
            open_chromium(s, &["--start-maximized"], &[url(&www, "index.html")])?;
            // (The pointer stays off the scrollbar, which highlights too:
            // leaving a card for it changes two far apart places at once.)
            s.d.xdo(&["mousemove", &(w - 80).to_string(), &(h / 2).to_string()])?;
            s.d.wait_still(1.5, 30.0);
            s.start_capture(capture)?;
            s.sleep(1.0);
            s.activity(
                "hover",
                "the pointer rests on a card, then another, then leaves",
                |s| {
                    s.glide(w / 2, h * 11 / 20, 0.8)?;
                    s.sleep(1.5);
                    s.glide(w / 2 + 40, h * 3 / 4, 0.6)?;
                    s.sleep(1.5);
                    s.glide(w - 80, h / 2, 0.8)
                },
            )?;
            s.sleep(1.5);
        }
        "notification_popup" => {
            let www = copy_www(&work, "a", None)?;
            s.d.start_session_bus()?;
            let config = super::scenarios::dunst_config(&work, "top-right", 300)?;
            super::scenarios::restart_dunst(s, &config)?;
            open_chromium(s, &["--start-maximized"], &[url(&www, "article1.html")])?;
            s.d.xdo(&["mousemove", "30", &(s.d.height / 2).to_string()])?;
            s.d.wait_still(1.5, 30.0);
            s.start_capture(capture)?;
            s.sleep(1.0);
            notification(
                s,
                "a notification pops up and goes away",
                ("Build finished", "cht: 212 tests passed"),
                2500,
                3.5,
            )?;
            s.sleep(1.0);
        }
        other => bail!("no script for fixture {other}"),
    }
    Ok(())
}
