//! The demo stream judged by ffmpeg/ffprobe, an independent implementation:
//! it must probe as H.264 Constrained Baseline + AAC with the right packet
//! counts, decode without a single complaint, and show scene cuts exactly
//! at the slide switches.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use cht_demo::{DemoOptions, DemoSource, START_PTS};

const FPS: u32 = 30;

/// Writes `secs` of demo output (unpaced) to a file, once per test binary.
fn write_demo(name: &str, opts: DemoOptions) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let mut source = DemoSource::new(opts).expect("demo source");
    let mut bytes = Vec::new();
    while let Some((_, chunk)) = source.next_chunk().expect("chunk") {
        bytes.extend_from_slice(&chunk);
    }
    std::fs::write(&path, bytes).expect("write demo.ts");
    path
}

/// Default options (4 s slides): switch at frame 120.
fn default_stream() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let opts = DemoOptions {
            duration: Some(Duration::from_secs(5)),
            ..DemoOptions::default()
        };
        write_demo("demo-default.ts", opts)
    })
}

/// 1.5 s slides: switches at frames 45, 90 and 135 within 5 s.
fn quick_slides_stream() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let opts = DemoOptions {
            slide_secs: 1.5,
            duration: Some(Duration::from_secs(5)),
            ..DemoOptions::default()
        };
        write_demo("demo-quick-slides.ts", opts)
    })
}

fn run(program: &str, args: &[&str]) -> (String, String) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `key=value` lines of one ffprobe stream section.
fn probe_stream(path: &Path, selector: &str) -> Vec<(String, String)> {
    let p = path.to_str().expect("utf-8 path");
    let (out, _) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-count_packets",
            "-select_streams",
            selector,
            "-show_entries",
            "stream=codec_name,profile,width,height,sample_rate,nb_read_packets",
            "-of",
            "default=nw=1",
            p,
        ],
    );
    out.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key} in {fields:?}"))
}

/// (pts in 90 kHz ticks, keyframe) of every packet of one stream.
fn packets(path: &Path, selector: &str) -> Vec<(i64, bool)> {
    let p = path.to_str().expect("utf-8 path");
    let (out, _) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            selector,
            "-show_entries",
            "packet=pts,flags",
            "-of",
            "csv=p=0",
            p,
        ],
    );
    // ffprobe puts blank lines between some packets; they carry nothing.
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (pts, flags) = l.split_once(',').expect("pts,flags");
            (pts.parse().expect("pts"), flags.starts_with('K'))
        })
        .collect()
}

fn keyframe_indices(path: &Path) -> Vec<usize> {
    packets(path, "v")
        .iter()
        .enumerate()
        .filter(|(_, (_, key))| *key)
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn probes_as_constrained_baseline_720p_and_aac_with_right_counts() {
    let path = default_stream();
    let video = probe_stream(path, "v");
    assert_eq!(field(&video, "codec_name"), "h264");
    assert_eq!(field(&video, "profile"), "Constrained Baseline");
    assert_eq!(
        (field(&video, "width"), field(&video, "height")),
        ("1280", "720")
    );
    assert_eq!(field(&video, "nb_read_packets"), "150");

    let audio = probe_stream(path, "a");
    assert_eq!(field(&audio, "codec_name"), "aac");
    assert_eq!(field(&audio, "sample_rate"), "48000");
    // Frames whose PTS falls within 5 s: ceil(5 * 48000 / 1024).
    assert_eq!(field(&audio, "nb_read_packets"), "235");
}

#[test]
fn timestamps_start_at_1_4_s_and_advance_steadily() {
    let path = default_stream();
    let video = packets(path, "v");
    let audio = packets(path, "a");
    assert_eq!(video[0].0, START_PTS as i64);
    assert_eq!(audio[0].0, START_PTS as i64);
    assert!(
        video.windows(2).all(|w| w[1].0 - w[0].0 == 3000),
        "video steps of 1/30 s"
    );
    assert!(
        audio.windows(2).all(|w| w[1].0 - w[0].0 == 1920),
        "audio steps of 1024 samples"
    );
}

#[test]
fn ffmpeg_decodes_everything_without_a_word() {
    for path in [default_stream(), quick_slides_stream()] {
        let (_, stderr) = run(
            "ffmpeg",
            &[
                "-v",
                "error",
                "-i",
                path.to_str().expect("utf-8"),
                "-f",
                "null",
                "-",
            ],
        );
        assert_eq!(stderr, "", "{}", path.display());
    }
}

#[test]
fn idr_at_every_slide_switch_and_at_least_every_two_seconds() {
    assert_eq!(keyframe_indices(default_stream()), vec![0, 60, 120]);
    assert_eq!(
        keyframe_indices(quick_slides_stream()),
        vec![0, 45, 90, 135]
    );
}

/// Frame numbers where ffmpeg's scene detector scores above 0.1.
fn scene_cuts(path: &Path) -> Vec<i64> {
    let p = path.to_str().expect("utf-8");
    let (_, stderr) = run(
        "ffmpeg",
        &[
            "-hide_banner",
            "-i",
            p,
            "-an",
            "-vf",
            "select='gt(scene,0.1)',showinfo",
            "-f",
            "null",
            "-",
        ],
    );
    stderr
        .lines()
        .filter(|l| l.contains("Parsed_showinfo"))
        .filter_map(|l| l.split("pts_time:").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|t| (t.parse::<f64>().expect("pts_time") * FPS as f64).round() as i64)
        .collect()
}

#[test]
fn slide_switches_are_the_only_scene_cuts() {
    for (path, switches) in [
        (default_stream(), vec![120]),
        (quick_slides_stream(), vec![45, 90, 135]),
    ] {
        let cuts = scene_cuts(path);
        assert_eq!(
            cuts.len(),
            switches.len(),
            "cuts {cuts:?}, switches {switches:?}"
        );
        for (cut, switch) in cuts.iter().zip(&switches) {
            assert!(
                (cut - switch).abs() <= 1,
                "cut at {cut}, switch at {switch}"
            );
        }
    }
}

/// Decoded luma of the listed frames, via ffmpeg.
fn decoded_luma(path: &Path, frames: &[u32], width: usize, height: usize) -> Vec<Vec<u8>> {
    let select = frames
        .iter()
        .map(|n| format!("eq(n\\,{n})"))
        .collect::<Vec<_>>()
        .join("+");
    let out = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-i",
            path.to_str().expect("utf-8"),
            "-an",
            "-vf",
            &format!("select='{select}'"),
        ])
        .args(["-vsync", "0", "-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .output()
        .expect("ffmpeg");
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), frames.len() * width * height);
    out.stdout
        .chunks(width * height)
        .map(<[u8]>::to_vec)
        .collect()
}

fn changed_fraction(a: &[u8], b: &[u8]) -> f64 {
    let changed = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.abs_diff(**y) > 24)
        .count();
    changed as f64 / a.len() as f64
}

#[test]
fn pointer_and_typing_frames_differ_from_their_predecessors_only_slightly() {
    // Quick slides: slide 1 (plain, pointer only) is frames 0..45, slide 2
    // (typed) is frames 45..90.
    let frames = [20, 21, 60, 61, 89, 90];
    let luma = decoded_luma(quick_slides_stream(), &frames, 1280, 720);
    let pointer_only = changed_fraction(&luma[0], &luma[1]);
    let typing = changed_fraction(&luma[2], &luma[3]);
    let switch = changed_fraction(&luma[4], &luma[5]);
    assert!(
        pointer_only > 0.0 && pointer_only < 0.01,
        "pointer frame changed {pointer_only:.4}"
    );
    assert!(
        typing > 0.0 && typing < 0.01,
        "typing frame changed {typing:.4}"
    );
    assert!(switch > 0.5, "slide switch changed only {switch:.4}");
}

#[test]
fn other_sizes_and_rates_probe_as_asked() {
    let opts = DemoOptions {
        width: 640,
        height: 360,
        fps: 25,
        slide_secs: 2.0,
        duration: Some(Duration::from_secs(2)),
    };
    let path = write_demo("demo-640x360-25.ts", opts);
    let video = probe_stream(&path, "v");
    assert_eq!(
        (field(&video, "width"), field(&video, "height")),
        ("640", "360")
    );
    assert_eq!(field(&video, "nb_read_packets"), "50");
    let steps: Vec<i64> = packets(&path, "v")
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .collect();
    assert!(steps.iter().all(|&s| s == 3600), "25 fps steps: {steps:?}");
}
