//! Accuracy of the scene detectors on a labelled corpus made with ffmpeg.
//!
//! ```text
//! cargo run --release -p cht-scene --example scene_eval [-- [--csv] [--threshold T] [CLIP...]]
//! ```
//!
//! Generates (once; cached by filter graph) H.264 clips under
//! `target/scene-corpus/`, decodes each to gray frames with ffmpeg, runs the
//! default detector and ffmpeg mode at 0.3 on every frame, and prints
//! precision / recall / F1 per class; a cut counts within ±1 frame. `--csv`
//! also writes every frame's measures to `target/scene-corpus/frames.csv`.
//! ffmpeg is the measuring instrument here, never part of the product.

#[path = "scene_eval/corpus.rs"]
mod corpus;
#[path = "scene_eval/ffmpeg_tool.rs"]
mod ffmpeg_tool;
#[path = "scene_eval/metrics.rs"]
mod metrics;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use cht_scene::{Detector, FrameScore, LumaPlane, SceneDetector};
use corpus::{Class, Clip};
use ffmpeg_tool::Error;
use metrics::Tally;

const FFMPEG_THRESHOLD: f64 = 0.3;

struct Options {
    csv: bool,
    threshold: f64,
    clips: Vec<String>,
}

fn options() -> Result<Options, Error> {
    let mut o = Options {
        csv: false,
        threshold: SceneDetector::DEFAULT_THRESHOLD,
        clips: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--csv" => o.csv = true,
            "--threshold" => {
                o.threshold = args.next().ok_or("--threshold needs a value")?.parse()?
            }
            _ => o.clips.push(a),
        }
    }
    Ok(o)
}

/// The detectors run on every clip: the two compared in the main table,
/// then a threshold sweep of each.
fn detector_set(default_threshold: f64) -> Vec<(Detector, f64)> {
    let mut set = vec![
        (Detector::Default, default_threshold),
        (Detector::Ffmpeg, FFMPEG_THRESHOLD),
    ];
    for t in SWEEP_DEFAULT {
        set.push((Detector::Default, t));
    }
    for t in SWEEP_FFMPEG {
        set.push((Detector::Ffmpeg, t));
    }
    set
}

const SWEEP_DEFAULT: [f64; 6] = [0.1, 0.15, 0.2, 0.3, 0.4, 0.5];
const SWEEP_FFMPEG: [f64; 5] = [0.05, 0.1, 0.2, 0.3, 0.4];

/// Cut frames found by each detector of `detector_set`, in that order.
struct ClipRun {
    cuts: Vec<Vec<usize>>,
    frames: usize,
}

fn run_clip(
    clip: &Clip,
    dir: &std::path::Path,
    opts: &Options,
    csv: &mut Option<std::fs::File>,
) -> Result<ClipRun, Error> {
    let video = ffmpeg_tool::encode(clip, dir)?;
    let mut detectors = detector_set(opts.threshold)
        .into_iter()
        .map(|(d, t)| SceneDetector::new(d, t))
        .collect::<Result<Vec<_>, _>>()?;
    let labels = clip.cuts();
    let mut run = ClipRun {
        cuts: vec![Vec::new(); detectors.len()],
        frames: 0,
    };
    let mut failure: Option<Error> = None;
    let (w, h) = (clip.width, clip.height);
    let decoded = ffmpeg_tool::decode_gray(&video, w, h, |frame| {
        let scored = LumaPlane::packed(frame, w, h)
            .map_err(Error::from)
            .and_then(|plane| {
                detectors
                    .iter_mut()
                    .map(|d| d.push(&plane).map_err(Error::from))
                    .collect::<Result<Vec<_>, _>>()
            });
        match scored {
            Ok(scores) => {
                for (cuts, score) in run.cuts.iter_mut().zip(&scores) {
                    if score.is_cut {
                        cuts.push(score.index as usize);
                    }
                }
                if let Some(file) = csv.as_mut() {
                    let index = scores[0].index as usize;
                    let _ = writeln!(
                        file,
                        "{}",
                        csv_line(clip, labels.contains(&index), &scores[0], &scores[1])
                    );
                }
            }
            Err(e) => failure = failure.take().or(Some(e)),
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if decoded != clip.frames() {
        return Err(format!(
            "{}: decoded {decoded} frames, built {}",
            clip.name,
            clip.frames()
        )
        .into());
    }
    run.frames = decoded;
    Ok(run)
}

const CSV_HEADER: &str = "clip,class,frame,label,score,verdict,mafd,strong_blocks,histogram,luma_change,cue_pixels,cue_blocks,cue_histogram,ffmpeg_score";

fn csv_line(clip: &Clip, label: bool, d: &FrameScore, f: &FrameScore) -> String {
    let m = d.measures.unwrap_or(cht_scene::ChangeMeasures {
        mafd: 0.0,
        strong_blocks: 0.0,
        histogram_distance: 0.0,
        mean_luma_change: 0.0,
    });
    let c = d.cues.unwrap_or_default();
    format!(
        "{},{},{},{},{:.4},{:?},{:.3},{:.4},{:.4},{:.3},{:.4},{:.4},{:.4},{:.6}",
        clip.name,
        clip.class.name(),
        d.index,
        label as u8,
        d.score,
        d.verdict,
        m.mafd,
        m.strong_blocks,
        m.histogram_distance,
        m.mean_luma_change,
        c.pixels,
        c.blocks,
        c.histogram,
        f.score
    )
}

fn main() -> Result<(), Error> {
    let opts = options()?;
    ffmpeg_tool::check_tools()?;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/scene-corpus");
    std::fs::create_dir_all(&dir)?;
    let mut csv = if opts.csv {
        let mut f = std::fs::File::create(dir.join("frames.csv"))?;
        writeln!(f, "{CSV_HEADER}")?;
        Some(f)
    } else {
        None
    };
    let started = Instant::now();
    let set = detector_set(opts.threshold);
    let mut by_class: BTreeMap<Class, Vec<Tally>> = BTreeMap::new();
    println!(
        "{:22} {:>6} {:>5}  {:>16}  {:>16}  default misses / false alarms",
        "clip", "frames", "cuts", "default P/R", "ffmpeg@0.3 P/R"
    );
    for clip in corpus::all_clips() {
        if !opts.clips.is_empty() && !opts.clips.iter().any(|c| c == clip.name) {
            continue;
        }
        let run = run_clip(&clip, &dir, &opts, &mut csv)?;
        let labels = clip.cuts();
        let scored: Vec<_> = run
            .cuts
            .iter()
            .map(|cuts| metrics::score(&labels, cuts))
            .collect();
        let tallies = by_class
            .entry(clip.class)
            .or_insert_with(|| vec![Tally::default(); set.len()]);
        for (total, (t, _, _)) in tallies.iter_mut().zip(&scored) {
            total.add(*t);
        }
        let ((d, d_fp, d_fn), (f, _, _)) = (&scored[0], &scored[1]);
        println!(
            "{:22} {:6} {:5}  {:7.3} / {:6.3}  {:7.3} / {:6.3}  {:?} / {:?}",
            clip.name,
            run.frames,
            labels.len(),
            d.precision(),
            d.recall(),
            f.precision(),
            f.recall(),
            d_fn,
            d_fp
        );
    }
    println!();
    println!(
        "{:14} {:>5} | {:^33} | {:^33}",
        "",
        "",
        format!("default @ {}", opts.threshold),
        format!("ffmpeg @ {FFMPEG_THRESHOLD}")
    );
    println!(
        "{:14} {:>5} | {:>7} {:>7} {:>7} {:>4} {:>4} | {:>7} {:>7} {:>7} {:>4} {:>4}",
        "class", "cuts", "P", "R", "F1", "FP", "FN", "P", "R", "F1", "FP", "FN"
    );
    for (class, t) in &by_class {
        let (d, f) = (t[0], t[1]);
        println!(
            "{:14} {:5} | {:7.3} {:7.3} {:7.3} {:4} {:4} | {:7.3} {:7.3} {:7.3} {:4} {:4}",
            class.name(),
            d.true_pos + d.false_neg,
            d.precision(),
            d.recall(),
            d.f1(),
            d.false_pos,
            d.false_neg,
            f.precision(),
            f.recall(),
            f.f1(),
            f.false_pos,
            f.false_neg
        );
    }
    println!("\nF1 by threshold (sensitivity of the 0-1 scale):");
    for (class, t) in &by_class {
        let sweep: Vec<String> = set
            .iter()
            .zip(t)
            .skip(2)
            .map(|((d, thr), tally)| {
                format!(
                    "{}@{thr}={:.3}",
                    if *d == Detector::Default { "def" } else { "ff" },
                    tally.f1()
                )
            })
            .collect();
        println!("  {:13} {}", class.name(), sweep.join(" "));
    }
    println!(
        "\ncorpus in {} ({:.1}s including generation)",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
