//! The scripted scenarios: real programs on a private X display, driven by
//! xdotool. Each function sets its programs up, starts the capture, then
//! performs and marks its actions (see `Script::event` / `activity`).

use super::script::Script;
use super::x::Display;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How a scenario is made.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// The HTML deck in Chromium (kiosk), theme "a" or "b".
    HtmlDeck(&'static str),
    /// Chromium on the local site, theme "a" or "b".
    Browser(&'static str),
    /// xterm: shell, build log, less, vim (style "a" light or "b" dark).
    Terminal(&'static str),
    /// Several windows: Alt+Tab, notifications, a clock, vim tabs.
    Desktop(&'static str),
    /// Editing and reviewing: a long file in vim (jump, typing that
    /// scrolls), notifications where other desktops put them (top centre,
    /// bottom), hovering a page's cards and links, Alt+Tab.
    Review(&'static str),
    /// Full-frame footage with hard cuts (no X display).
    FootageCuts(&'static str),
    /// Full-frame footage with fades and dissolves.
    FootageDissolves,
}

pub struct Spec {
    pub name: &'static str,
    pub half: &'static str,
    pub kind: Kind,
    pub width: u32,
    pub height: u32,
    /// Encodings (names from `encode::ENCODINGS`).
    pub encodings: &'static [&'static str],
}

/// The corpus. The halves hold different programs and looks: the tune half
/// has looks "a" and "c"; the held-out half look "b" and every
/// class of event and of non-event.
pub const SCENARIOS: &[Spec] = &[
    Spec {
        name: "html-deck-a",
        half: "tune",
        kind: Kind::HtmlDeck("a"),
        width: 1366,
        height: 768,
        encodings: &["zl-crf23", "cbr3m"],
    },
    Spec {
        name: "browser-a",
        half: "tune",
        kind: Kind::Browser("a"),
        width: 1920,
        height: 1080,
        encodings: &["crf23", "zl-cbr2m"],
    },
    Spec {
        name: "terminal-a",
        half: "tune",
        kind: Kind::Terminal("a"),
        width: 1366,
        height: 768,
        encodings: &["zl-crf23", "cbr3m"],
    },
    Spec {
        name: "desktop-a",
        half: "tune",
        kind: Kind::Desktop("a"),
        width: 1920,
        height: 1080,
        encodings: &["zl-crf23", "cbr3m"],
    },
    Spec {
        name: "review-a",
        half: "tune",
        kind: Kind::Review("a"),
        width: 1600,
        height: 900,
        encodings: &["crf23", "zl-cbr2m"],
    },
    Spec {
        name: "review-c",
        half: "tune",
        kind: Kind::Review("c"),
        width: 1440,
        height: 900,
        encodings: &["zl-crf23", "cbr3m"],
    },
    Spec {
        name: "desktop-c",
        half: "tune",
        kind: Kind::Desktop("c"),
        width: 1600,
        height: 900,
        encodings: &["crf23", "zl-cbr2m"],
    },
    Spec {
        name: "footage-cuts-a",
        half: "tune",
        kind: Kind::FootageCuts("a"),
        width: 1280,
        height: 720,
        encodings: &["crf23", "zl-cbr2m"],
    },
    Spec {
        name: "html-deck-c",
        half: "tune",
        kind: Kind::HtmlDeck("c"),
        width: 1600,
        height: 900,
        encodings: &["crf23", "zl-cbr2m"],
    },
    Spec {
        name: "html-deck-b",
        half: "held-out",
        kind: Kind::HtmlDeck("b"),
        width: 1920,
        height: 1080,
        encodings: &["crf23", "zl-cbr2m"],
    },
    Spec {
        name: "browser-b",
        half: "held-out",
        kind: Kind::Browser("b"),
        width: 1366,
        height: 768,
        encodings: &["zl-crf23", "cbr3m"],
    },
    Spec {
        name: "terminal-b",
        half: "held-out",
        kind: Kind::Terminal("b"),
        width: 1920,
        height: 1080,
        encodings: &["crf23", "zl-cbr2m"],
    },
    Spec {
        name: "desktop-b",
        half: "held-out",
        kind: Kind::Desktop("b"),
        width: 1366,
        height: 768,
        encodings: &["crf23", "zl-cbr2m"],
    },
    Spec {
        name: "review-b",
        half: "held-out",
        kind: Kind::Review("b"),
        width: 1280,
        height: 800,
        encodings: &["zl-crf23", "cbr3m"],
    },
    Spec {
        name: "footage-cuts-b",
        half: "held-out",
        kind: Kind::FootageCuts("b"),
        width: 1280,
        height: 720,
        encodings: &["zl-crf23", "cbr3m"],
    },
    Spec {
        name: "footage-dissolves",
        half: "held-out",
        kind: Kind::FootageDissolves,
        width: 1280,
        height: 720,
        encodings: &["crf23", "zl-cbr2m"],
    },
];

/// The committed web pages and deck, copied per scenario with its theme.
pub fn www_source() -> PathBuf {
    crate::root().join("tests/screen-corpus/www")
}

pub(super) fn copy_www(work: &Path, theme: &str, video: Option<&Path>) -> anyhow::Result<PathBuf> {
    let dst = work.join("www");
    std::fs::create_dir_all(&dst)?;
    for entry in std::fs::read_dir(www_source())? {
        let entry = entry?;
        std::fs::copy(entry.path(), dst.join(entry.file_name()))?;
    }
    std::fs::copy(
        dst.join(format!("theme-{theme}.css")),
        dst.join("theme.css"),
    )?;
    if let Some(v) = video {
        std::fs::copy(v, dst.join("clip.webm"))?;
    }
    Ok(dst)
}

fn chromium(work: &Path, extra: &[&str], urls: &[String]) -> Command {
    let mut c = Command::new("chromium");
    c.args([
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-features=Translate,MediaRouter,DialMediaRouteProvider",
        "--disable-smooth-scrolling",
        "--autoplay-policy=no-user-gesture-required",
        "--password-store=basic",
    ])
    .arg(format!(
        "--user-data-dir={}",
        work.join("chromium-profile").display()
    ))
    .args(extra)
    .args(urls);
    c
}

pub(super) fn url(www: &Path, page: &str) -> String {
    format!("file://{}/{page}", www.display())
}

pub fn run(spec: &Spec, d: Display, capture: &Path, video: &Path) -> anyhow::Result<Script> {
    let mut s = Script::new(d);
    match spec.kind {
        Kind::HtmlDeck(theme) => html_deck(&mut s, theme, capture)?,
        Kind::Browser(theme) => browser(&mut s, theme, capture, video)?,
        Kind::Terminal(style) => terminal(&mut s, style, capture)?,
        Kind::Desktop(style) => desktop(&mut s, style, capture, video)?,
        Kind::Review(style) => review(&mut s, style, capture)?,
        Kind::FootageCuts(_) | Kind::FootageDissolves => unreachable!("footage is not captured"),
    }
    Ok(s)
}

fn next_slide(s: &mut Script, what: &str) -> anyhow::Result<()> {
    s.event("slide", what, |s| s.key("Right"))?;
    s.sleep(3.0);
    Ok(())
}

/// The HTML deck: same-template switches, a diagram that changes a little,
/// an auto build, a click build, fade, push and a cross-fade into a slide
/// whose chart keeps animating.
fn html_deck(s: &mut Script, theme: &str, capture: &Path) -> anyhow::Result<()> {
    let work = s.d.work.clone();
    let www = copy_www(&work, theme, None)?;
    let deck = format!("{}?theme={theme}", url(&www, "deck.html"));
    open_chromium(s, &["--kiosk"], &[deck])?;
    s.d.xdo(&["mousemove", "300", "300"])?;
    s.d.wait_still(1.5, 30.0);
    s.start_capture(capture)?;
    s.sleep(1.5);
    let (w, h) = (s.d.width as i32, s.d.height as i32);
    s.activity("pointer", "pointer moves across the title slide", |s| {
        s.glide(w / 2, h / 2, 1.5)
    })?;
    s.sleep(1.0);
    next_slide(s, "title slide -> Goals")?;
    next_slide(s, "same-template slide switch: Goals -> Constraints")?;
    next_slide(s, "Constraints -> Pipeline diagram")?;
    s.event(
        "diagram",
        "diagram change: one box renamed and recoloured",
        |s| s.key("Right"),
    )?;
    s.sleep(3.0);
    s.event("diagram", "diagram change: a box and an arrow added", |s| {
        s.key("Right")
    })?;
    s.sleep(1.5);
    s.activity("pointer", "pointer hovers over the diagram", |s| {
        s.glide(w * 2 / 3, h / 3, 1.0)
    })?;
    s.sleep(1.0);
    s.event(
        "slide",
        "same-template switch to Risks (bullets then build)",
        |s| s.key("Right"),
    )?;
    s.activity(
        "build",
        "five bullets appear one by one (auto build, 2.5 s)",
        |s| {
            s.sleep(3.0);
            Ok(())
        },
    )?;
    s.sleep(1.5);
    next_slide(s, "same-template switch to Timeline (empty, click build)")?;
    for i in 1..=3 {
        s.activity("build", &format!("click build: bullet {i} appears"), |s| {
            s.key("Right")
        })?;
        s.sleep(1.5);
    }
    s.sleep(1.0);
    s.transition(
        "transition",
        "fade (0.8 s) to Metrics, same template",
        0.8,
        |s| s.key("Right"),
    )?;
    s.sleep(3.0);
    s.transition("transition", "push (0.7 s) to Open questions", 0.7, |s| {
        s.key("Right")
    })?;
    s.sleep(3.0);
    s.transition(
        "transition",
        "cross-fade (0.8 s) into a slide whose chart keeps animating",
        0.8,
        |s| s.key("Right"),
    )?;
    let chart = s.begin_activity("live-chart", "bar chart animating on the slide (10 Hz)");
    s.sleep(5.0);
    s.event("slide", "switch from the chart slide to Summary", |s| {
        s.key("Right")
    })?;
    s.end_activity(chart);
    s.sleep(3.0);
    Ok(())
}

/// Chromium on the local site: navigation, Back, a tab switch, hover, one
/// wheel notch against Page Down and Ctrl+End, a spinner, a progress bar,
/// a live chart and a video playing in the page.
fn browser(s: &mut Script, theme: &str, capture: &Path, video: &Path) -> anyhow::Result<()> {
    let work = s.d.work.clone();
    let www = copy_www(&work, theme, Some(video))?;
    open_chromium(
        s,
        &["--start-maximized"],
        &[url(&www, "index.html"), url(&www, "article2.html")],
    )?;
    s.sleep(2.0);
    s.key("ctrl+1")?;
    let (w, h) = (s.d.width as i32, s.d.height as i32);
    s.d.xdo(&["mousemove", &(w / 2).to_string(), &(h / 2).to_string()])?;
    s.d.wait_still(1.5, 30.0);
    s.start_capture(capture)?;
    s.sleep(1.5);
    s.activity("hover", "pointer hovers over the link cards", |s| {
        s.glide(w / 2, h * 2 / 3, 1.5)?;
        s.glide(w / 2 - 100, h / 2, 1.0)
    })?;
    s.sleep(1.0);
    s.event("navigation", "follow the link to the release notes", |s| {
        s.key("alt+r")
    })?;
    s.sleep(3.0);
    s.activity("scroll", "wheel scroll, one notch", |s| s.wheel(1))?;
    s.sleep(2.0);
    s.event("scroll-jump", "Page Down: the next screenful", |s| {
        s.key("Next")
    })?;
    s.sleep(2.5);
    s.activity("scroll", "wheel scroll, one notch up", |s| s.wheel(-1))?;
    s.sleep(2.0);
    s.event("scroll-jump", "Ctrl+End: the end of the page", |s| {
        s.key("ctrl+End")
    })?;
    s.sleep(2.5);
    s.event("navigation", "Back to the home page", |s| s.key("alt+Left"))?;
    s.sleep(3.0);
    s.event(
        "tab-switch",
        "switch to the second tab (design document)",
        |s| s.key("ctrl+2"),
    )?;
    s.sleep(3.0);
    s.activity("scroll", "wheel scroll, one notch", |s| s.wheel(1))?;
    s.sleep(2.0);
    s.event("tab-switch", "back to the first tab", |s| s.key("ctrl+1"))?;
    s.sleep(2.5);
    s.event("navigation", "open the deploy status page", |s| {
        s.key("alt+s")
    })?;
    let spin = s.begin_activity("spinner", "spinner and progress bar with a changing label");
    s.sleep(5.0);
    s.end_activity(spin);
    s.event("navigation", "open the live dashboard", |s| s.key("alt+b"))?;
    let chart = s.begin_activity("live-chart", "line chart redrawn 5 times a second");
    s.sleep(5.0);
    s.activity("pointer", "pointer moves over the chart", |s| {
        s.glide(w / 3, h / 2, 1.0)
    })?;
    s.sleep(1.0);
    s.end_activity(chart);
    s.event("navigation", "open the demo video page", |s| s.key("alt+v"))?;
    let vid = s.begin_activity("video", "video with its own shot cuts plays in the page");
    s.sleep(9.0);
    s.activity(
        "scroll",
        "wheel scroll, one notch (video keeps playing)",
        |s| s.wheel(1),
    )?;
    s.sleep(5.0);
    s.end_activity(vid);
    s.event("navigation", "Back to the dashboard", |s| s.key("alt+Left"))?;
    s.sleep(3.0);
    Ok(())
}

const BUILD_LOG: &str = r#"#!/bin/sh
# Prints a build log the way cargo does, a line at a time.
i=0
for c in libc cfg-if memchr itoa ryu serde_derive serde proc-macro2 quote syn \
         unicode-ident log once_cell smallvec bytes mio tokio socket2 futures-core \
         futures-util pin-project-lite hashbrown indexmap regex-syntax regex \
         aho-corasick thiserror anyhow clap_lex clap_builder clap rayon-core rayon \
         crossbeam-utils crossbeam-epoch crossbeam-deque openh264-sys2 openh264 \
         mpeg2ts mp4 symphonia-core symphonia-codec-aac hound jpeg-encoder \
         cht-core cht-ts cht-fmp4 cht-h264 cht-scene cht-frames cht-audio \
         cht-record cht-ingest cht-analyze cht-session cht; do
  i=$((i+1))
  echo "   Compiling $c v0.$((i % 7)).$((i * 3 % 11))"
  sleep 0.12
done
echo "    Finished release [optimized] target(s) in 41.87s"
"#;

const MAIN_RS: &str = "fn main() {\n    println!(\"hello\");\n}\n";

pub(super) fn xterm(style: &str, dir: &Path, title: &str) -> Command {
    let mut c = Command::new("xterm");
    c.args([
        "-T",
        title,
        "-fa",
        "DejaVu Sans Mono",
        "-bc",
        "-cr",
        "#cc3333",
    ]);
    match style {
        "a" => c.args(["-fs", "13", "-bg", "#fdfdf6", "-fg", "#222222"]),
        "c" => c.args(["-fs", "14", "-bg", "#1e1e2e", "-fg", "#cdd6f4"]),
        _ => c.args(["-fs", "15", "-bg", "#101418", "-fg", "#d0d8e0"]),
    };
    c.args(["-sl", "5000", "-e", "bash", "--norc", "-i"])
        .current_dir(dir)
        .env("PS1", "dev@box:~/cht$ ")
        .env("TERM", "xterm-256color");
    c
}

pub(super) fn prepare_tree(work: &Path) -> anyhow::Result<PathBuf> {
    let dir = work.join("home");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("build.sh"), BUILD_LOG)?;
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(dir.join("build.sh"))
        .status()?;
    std::fs::write(dir.join("main.rs"), MAIN_RS)?;
    std::fs::write(
        dir.join("lib.rs"),
        "//! Library root.\npub mod scene;\npub mod frames;\n",
    )?;
    std::fs::write(
        dir.join("README.md"),
        "# cht\n\nScreen shares for agents.\n",
    )?;
    let license = std::fs::read("/usr/share/common-licenses/GPL-3")
        .unwrap_or_else(|_| b"GNU GENERAL PUBLIC LICENSE\n".repeat(400));
    std::fs::write(dir.join("LICENSE"), license)?;
    // Its own small repository, so `git status` shows the same thing on
    // every machine.
    std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(&dir)
        .status()?;
    Ok(dir)
}

/// Types a shell command (activity), then presses Enter as `what`.
pub(super) fn command(
    s: &mut Script,
    text: &str,
    enter_is_event: Option<&str>,
) -> anyhow::Result<()> {
    s.activity("typing", &format!("types `{text}`"), |s| {
        s.type_text(text, 12)
    })?;
    s.sleep(0.5);
    match enter_is_event {
        Some(what) => s.event("pager-editor", what, |s| s.key("Return")),
        None => s.activity("command-output", &format!("runs `{text}`"), |s| {
            s.key("Return")
        }),
    }
}

/// xterm: typing, a blinking caret, a scrolling build log, less (open,
/// space, quit), vim (open, type, quit), one wheel notch.
fn terminal(s: &mut Script, style: &str, capture: &Path) -> anyhow::Result<()> {
    let work = s.d.work.clone();
    let dir = prepare_tree(&work)?;
    s.d.spawn(&mut xterm(style, &dir, "dev@box: ~/cht"), "xterm")?;
    s.d.wait_window("--class", "xterm", 30)?;
    s.sleep(1.0);
    s.d.xdo(&["mousemove", &(s.d.width as i32 - 40).to_string(), "200"])?;
    s.type_text("clear\n", 30)?;
    s.d.wait_still(1.0, 10.0);
    s.start_capture(capture)?;
    s.activity("caret", "caret blinks at the prompt", |s| {
        s.sleep(2.5);
        Ok(())
    })?;
    command(s, "ls -l", None)?;
    s.sleep(1.5);
    command(s, "./build.sh", None)?;
    s.activity("log-scroll", "build log scrolls the terminal (~7 s)", |s| {
        s.sleep(7.5);
        Ok(())
    })?;
    s.sleep(1.5);
    command(s, "less LICENSE", Some("less opens full screen"))?;
    s.sleep(2.5);
    s.event("scroll-jump", "space in less: the next screenful", |s| {
        s.key("space")
    })?;
    s.sleep(2.5);
    s.event("scroll-jump", "space in less: the next screenful", |s| {
        s.key("space")
    })?;
    s.sleep(2.5);
    s.event("pager-editor", "less quits, the shell is back", |s| {
        s.key("q")
    })?;
    s.sleep(2.0);
    command(s, "vim main.rs", Some("vim opens full screen"))?;
    s.sleep(2.0);
    s.activity("typing", "types code in vim insert mode", |s| {
        s.key("j")?;
        s.key("o")?;
        s.type_text(
            "    let frames = scene::detect(&input)?;\n    println!(\"{} frames\", frames.len());",
            12,
        )
    })?;
    s.key("Escape")?;
    s.activity("caret", "caret blinks in vim", |s| {
        s.sleep(2.0);
        Ok(())
    })?;
    s.activity("typing", "types :wq", |s| s.type_text(":wq", 8))?;
    s.sleep(0.5);
    s.event("pager-editor", "vim closes, the shell is back", |s| {
        s.key("Return")
    })?;
    s.sleep(2.0);
    s.activity(
        "scroll",
        "wheel scroll in the terminal, one notch up",
        |s| s.wheel(-1),
    )?;
    s.sleep(2.0);
    Ok(())
}

/// Several windows: a maximised xterm and Chromium, a clock that ticks, a
/// notification popup, Alt+Tab, and an editor with tabs (vim -p).
fn desktop(s: &mut Script, style: &str, capture: &Path, video: &Path) -> anyhow::Result<()> {
    let work = s.d.work.clone();
    let dir = prepare_tree(&work)?;
    let www = copy_www(&work, style, Some(video))?;
    s.d.start_session_bus()?;
    // Style c: notifications at the bottom right, as on Windows and KDE.
    if style == "c" {
        let config = dunst_config(&work, "bottom-right", 380)?;
        restart_dunst(s, &config)?;
    } else {
        s.d.spawn(&mut Command::new("dunst"), "dunst")?;
    }
    open_chromium(s, &["--start-maximized"], &[url(&www, "article1.html")])?;
    s.d.spawn(&mut xterm(style, &dir, "dev@box: ~/cht"), "xterm")?;
    s.d.wait_window("--class", "xterm", 30)?;
    s.d.spawn(
        Command::new("xclock")
            .args(["-digital", "-update", "1", "-strftime", "%H:%M:%S"])
            .args(["-face", "DejaVu Sans Mono-14", "-geometry", "-10-10"]),
        "xclock",
    )?;
    let clock = s.d.wait_window("--class", "xclock", 30)?;
    s.sleep(0.5);
    // The clock stays on top and out of the Alt+Tab cycle, like a panel's.
    s.d.sh_ok(&format!(
        "wmctrl -i -r {clock} -b add,above,skip_taskbar,skip_pager"
    ));
    let xterm_win = s.d.wait_window("--class", "xterm", 5)?;
    s.focus(&xterm_win)?;
    s.sleep(0.5);
    s.d.xdo(&["mousemove", &(s.d.width as i32 / 2).to_string(), "300"])?;
    s.type_text("clear\n", 30)?;
    s.sleep(2.0);
    s.start_capture(capture)?;
    let tick = s.begin_activity("clock", "a digital clock ticks every second");
    s.sleep(1.5);
    command(s, "git status", None)?;
    s.sleep(1.5);
    s.event("window-switch", "Alt+Tab to the browser", |s| {
        s.key("alt+Tab")
    })?;
    s.sleep(3.0);
    notification(
        s,
        "a notification pops up and goes away",
        ("Build finished", "cht 0.4.2: 212 tests passed"),
        3000,
        4.5,
    )?;
    s.sleep(1.0);
    s.event("window-switch", "Alt+Tab back to the terminal", |s| {
        s.key("alt+Tab")
    })?;
    s.sleep(2.5);
    command(
        s,
        "vim -p main.rs lib.rs README.md",
        Some("vim opens full screen with three tabs"),
    )?;
    s.sleep(2.5);
    s.event("tab-switch", "vim: next tab (gt)", |s| {
        s.type_text("gt", 20)
    })?;
    s.sleep(2.5);
    s.activity("typing", "types a line in vim", |s| {
        s.key("G")?;
        s.key("o")?;
        s.type_text("pub mod audio;", 10)?;
        s.key("Escape")
    })?;
    s.sleep(1.5);
    s.event("tab-switch", "vim: next tab (gt)", |s| {
        s.type_text("gt", 20)
    })?;
    s.sleep(2.5);
    notification(
        s,
        "a second notification pops up and goes away",
        ("Review requested", "Pull request: scene events"),
        3000,
        4.5,
    )?;
    s.event("window-switch", "Alt+Tab to the browser", |s| {
        s.key("alt+Tab")
    })?;
    s.sleep(2.5);
    s.activity("scroll", "wheel scroll, one notch", |s| s.wheel(1))?;
    s.sleep(2.0);
    s.event("window-switch", "Alt+Tab back to vim", |s| s.key("alt+Tab"))?;
    s.sleep(2.0);
    s.event("tab-switch", "vim: previous tab (gT)", |s| {
        s.type_text("gT", 20)
    })?;
    s.sleep(2.0);
    s.activity("typing", "types :qa!", |s| s.type_text(":qa!", 8))?;
    s.event("pager-editor", "vim closes, the shell is back", |s| {
        s.key("Return")
    })?;
    s.sleep(2.5);
    s.end_activity(tick);
    Ok(())
}

/// A dunst configuration that places notifications at `origin` (dunst's
/// names: `top-center`, `bottom-right`, ...), as other desktops do.
pub(super) fn dunst_config(work: &Path, origin: &str, width: u32) -> anyhow::Result<PathBuf> {
    let path = work.join(format!("dunstrc-{origin}"));
    std::fs::write(
        &path,
        format!(
            "[global]\norigin = {origin}\noffset = 0x36\nwidth = {width}\n\
             font = DejaVu Sans 11\nframe_width = 2\npadding = 10\n"
        ),
    )?;
    Ok(path)
}

/// (Re)starts the notification daemon with `config`.
pub(super) fn restart_dunst(s: &mut Script, config: &Path) -> anyhow::Result<()> {
    s.d.sh_ok("pkill -x dunst; sleep 0.3");
    s.d.spawn(Command::new("dunst").arg("-config").arg(config), "dunst")
}

/// A long source file, so that vim opens it full and `G` jumps: functions
/// of varied names, comments and bodies (text that repeats line for line
/// would be a scroll by any multiple of its period).
fn long_source() -> String {
    const WORDS: [&str; 16] = [
        "frame", "segment", "packet", "keyframe", "buffer", "clock", "index", "picture", "stream",
        "decoder", "relay", "chunk", "scene", "window", "sender", "latency",
    ];
    let mut seed: u32 = 7;
    let mut next = |n: usize| {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        (seed >> 16) as usize % n
    };
    let mut out = String::from("//! Scene detection.\n\nuse std::collections::VecDeque;\n\n");
    for i in 0..40 {
        let (a, b) = (WORDS[next(16)], WORDS[next(16)]);
        let comment: Vec<&str> = (0..3 + next(9)).map(|_| WORDS[next(16)]).collect();
        out.push_str(&format!(
            "/// Turns the {a} into a {b}: {}.\n",
            comment.join(" ")
        ));
        out.push_str(&format!(
            "pub fn {a}_to_{b}_{i}(input: &mut VecDeque<u32>) -> usize {{\n"
        ));
        for line in 0..1 + next(4) {
            let w = WORDS[next(16)];
            out.push_str(&match line % 3 {
                0 => format!(
                    "    let {w} = input.pop_front().unwrap_or({});\n",
                    next(900)
                ),
                1 => format!("    input.push_back({w} * {} + 1);\n", next(50)),
                _ => format!("    // {} {w} {}\n", WORDS[next(16)], WORDS[next(16)]),
            });
        }
        out.push_str(&format!("    input.len() + {}\n}}\n\n", next(100)));
    }
    out
}

/// Editing and reviewing: vim on a long file (open, jump to its end, type
/// lines that scroll it), notifications at the top centre and the bottom
/// right, the browser's cards and links hovered, Alt+Tab both ways.
fn review(s: &mut Script, style: &str, capture: &Path) -> anyhow::Result<()> {
    let work = s.d.work.clone();
    let dir = prepare_tree(&work)?;
    std::fs::write(dir.join("scene.rs"), long_source())?;
    let www = copy_www(&work, style, None)?;
    let (w, h) = (s.d.width as i32, s.d.height as i32);
    s.d.start_session_bus()?;
    let (first_at, second_at) = match style {
        "a" => ("top-center", "bottom-right"),
        "c" => ("bottom-left", "top-right"),
        _ => ("bottom-center", "top-left"),
    };
    let first = dunst_config(&work, first_at, 420)?;
    let second = dunst_config(&work, second_at, 360)?;
    restart_dunst(s, &first)?;
    open_chromium(s, &["--start-maximized"], &[url(&www, "index.html")])?;
    s.d.spawn(&mut xterm(style, &dir, "dev@box: ~/cht"), "xterm")?;
    let xterm_win = s.d.wait_window("--class", "xterm", 30)?;
    s.sleep(0.5);
    s.d.sh_ok(&format!(
        "wmctrl -i -r {xterm_win} -b add,maximized_vert,maximized_horz"
    ));
    s.focus(&xterm_win)?;
    s.d.xdo(&["mousemove", &(w - 60).to_string(), &(h / 3).to_string()])?;
    s.type_text("clear\n", 30)?;
    s.d.wait_still(1.0, 10.0);
    s.start_capture(capture)?;
    s.sleep(1.5);
    command(s, "vim scene.rs", Some("vim opens a long file full screen"))?;
    s.sleep(2.5);
    s.event("scroll-jump", "G in vim: the end of the file", |s| {
        s.key("G")
    })?;
    s.sleep(2.0);
    s.activity("typing", "types a function at the end; vim scrolls a line per line", |s| {
        s.key("o")?;
        s.type_text(
            "\n/// The last step.\npub fn finish(frames: &[u32]) -> u32 {\n    frames.iter().sum()\n}",
            12,
        )?;
        s.key("Escape")
    })?;
    s.sleep(1.5);
    notification(
        s,
        &format!("a notification pops up ({first_at})"),
        ("Tests passed", "cht-scene: 48 passed, 0 failed"),
        3000,
        4.0,
    )?;
    s.activity("typing", "types :w", |s| {
        s.type_text(":w", 8)?;
        s.key("Return")
    })?;
    s.sleep(2.0);
    s.event("window-switch", "Alt+Tab to the browser", |s| {
        s.key("alt+Tab")
    })?;
    s.sleep(2.5);
    s.activity(
        "hover",
        "pointer rests on a link card, then on a header link",
        |s| {
            s.glide(w / 2, h / 2, 1.0)?;
            s.sleep(1.5);
            s.glide(w / 2 + 80, h * 2 / 3, 0.8)?;
            s.sleep(1.5);
            // The header's first link, below the browser's toolbars.
            s.glide(240, 172, 1.0)?;
            s.sleep(1.5);
            s.glide(w - 80, h / 2, 0.8)
        },
    )?;
    s.sleep(1.5);
    restart_dunst(s, &second)?;
    s.sleep(0.5);
    notification(
        s,
        &format!("a notification pops up ({second_at})"),
        ("Deploy", "staging is up to date"),
        3000,
        4.0,
    )?;
    s.event("navigation", "follow the link to the release notes", |s| {
        s.key("alt+r")
    })?;
    s.sleep(2.5);
    s.event("window-switch", "Alt+Tab back to vim", |s| s.key("alt+Tab"))?;
    s.sleep(2.0);
    s.event("scroll-jump", "gg in vim: the top of the file", |s| {
        s.type_text("gg", 20)
    })?;
    s.sleep(2.0);
    s.activity("typing", "types :q", |s| s.type_text(":q", 8))?;
    s.event("pager-editor", "vim closes, the shell is back", |s| {
        s.key("Return")
    })?;
    s.sleep(2.5);
    Ok(())
}

/// Starts Chromium (its profile in the display's work directory) with
/// `flags` on `urls`, and waits for its window.
pub(super) fn open_chromium(s: &mut Script, flags: &[&str], urls: &[String]) -> anyhow::Result<()> {
    let work = s.d.work.clone();
    s.d.spawn(&mut chromium(&work, flags, urls), "chromium")?;
    s.d.wait_window("--class", "chromium", 60)?;
    Ok(())
}

/// Activity `description`: a notification (`summary`, `body`) shown for
/// `shown_ms`, then `watch` seconds for it to come and go.
pub(super) fn notification(
    s: &mut Script,
    description: &str,
    (summary, body): (&str, &str),
    shown_ms: u32,
    watch: f64,
) -> anyhow::Result<()> {
    s.activity("notification", description, |s| {
        s.d.sh_ok(&format!("notify-send -t {shown_ms} '{summary}' '{body}'"));
        s.sleep(watch);
        Ok(())
    })
}

/// Checks the programs a scenario needs are installed.
pub fn check_tools() -> anyhow::Result<()> {
    for tool in [
        "Xvfb",
        "openbox",
        "xdotool",
        "wmctrl",
        "xwd",
        "xsetroot",
        "chromium",
        "xterm",
        "xclock",
        "dunst",
        "notify-send",
        "dbus-daemon",
        "ffmpeg",
        "ffprobe",
    ] {
        if !Command::new("sh")
            .args(["-c", &format!("command -v {tool} >/dev/null")])
            .status()
            .is_ok_and(|s| s.success())
        {
            return Err(anyhow::anyhow!("{tool} is missing")).context(
                "the screen corpus needs: xvfb openbox xdotool wmctrl x11-apps x11-xserver-utils \
                 chromium xterm dunst libnotify-bin ffmpeg (apt-get install -y ...)",
            );
        }
    }
    Ok(())
}
