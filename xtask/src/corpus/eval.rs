//! `cargo xtask eval-scenes`: runs the product path (`cht analyze INPUT
//! --out DIR --json`) on every encoded clip of the screen corpus and scores
//! the pictures it wrote (`DIR/frames/index.json`) against the labels.
//!
//! Scoring (see tests/screen-corpus/README.md):
//! - an event picture (entry without `kind`, or `"kind":"event"`) matches a
//!   labelled event when its `timestamp` is within +-1 frame of the event's
//!   first frame, or inside a transition's span; each event matches once;
//!   other event pictures are false positives. `"kind":"update"` pictures
//!   are never false positives; `"manual":true` entries are ignored. The
//!   picture at the clip start (the first picture of the stream, at frame 0
//!   or 1) is the start scene's picture: neither a hit nor a false alarm.
//! - coverage: a scene (clip start or an event, up to the frame before the
//!   next event) is covered when its last picture (by `picture_time`, else
//!   `timestamp`) matches the scene's last frame: at most 1% of the 16x16
//!   blocks (at 480 px wide, luma) differ, blocks that never stop moving in
//!   the scene masked. A block differs when its mean absolute difference
//!   exceeds BLOCK_MAD (calibrated on the corpus: see the README).
//! - pictures per event: non-manual pictures / (events + 1 for the start);
//! - latency: picture time - event time, over matched events.

use super::label::{cover_height, parse_mask, scale480_filter, COVER_BLOCK, COVER_WIDTH};
use super::scenarios::SCENARIOS;
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A 16x16 block (480 px wide, luma) "differs" above this mean absolute
/// difference (0-255).
pub const BLOCK_MAD: f64 = 6.0;
/// A picture matches a scene's last frame when at most this share of the
/// compared blocks differ.
pub const MAX_DIFFERING: f64 = 0.01;

const FPS: f64 = 30.0;

pub const USAGE: &str = "\
cargo xtask eval-scenes [--half tune|held-out|all] [--detector default|ffmpeg|both]
                        [--clips NAME[:ENC],..] [--cht PATH] [--threshold T]
                        [--every-picture]
  Makes the screen corpus when missing (`cargo xtask screen-corpus`), builds
  cht in release, runs `cht analyze CLIP --out DIR --json --no-audio` on each
  encoded clip with each detector, and prints per clip and per half: event
  precision / recall / F1, final-content coverage, pictures per event and
  picture latency. Writes target/screen-corpus/report.json.
  Defaults: --half all, --detector both, --threshold 0.3 (ffmpeg mode's T).
  --every-picture passes the flag on: the default detector then decodes the
  disposable pictures it otherwise leaves out (compare the two runs).
";

struct Args {
    half: String,
    detectors: Vec<String>,
    clips: Option<Vec<String>>,
    cht: Option<PathBuf>,
    threshold: f64,
    every_picture: bool,
}

fn parse(args: &[String]) -> anyhow::Result<Option<Args>> {
    let mut a = Args {
        half: "all".into(),
        detectors: vec!["default".into(), "ffmpeg".into()],
        clips: None,
        cht: None,
        threshold: 0.3,
        every_picture: false,
    };
    let mut it = args.iter();
    while let Some(x) = it.next() {
        let mut val = || it.next().with_context(|| format!("{x} needs a value"));
        match x.as_str() {
            "--half" => {
                a.half = val()?.clone();
                if !["tune", "held-out", "all"].contains(&a.half.as_str()) {
                    bail!("--half is tune, held-out or all");
                }
            }
            "--detector" => {
                a.detectors = match val()?.as_str() {
                    "both" => vec!["default".into(), "ffmpeg".into()],
                    d @ ("default" | "ffmpeg") => vec![d.into()],
                    other => bail!("unknown detector {other:?} (default, ffmpeg, both)"),
                }
            }
            "--clips" => a.clips = Some(val()?.split(',').map(String::from).collect()),
            "--cht" => a.cht = Some(PathBuf::from(val()?)),
            "--threshold" => a.threshold = val()?.parse().context("--threshold")?,
            "--every-picture" => a.every_picture = true,
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(None);
            }
            other => bail!("unknown option {other:?}\n\n{USAGE}"),
        }
    }
    Ok(Some(a))
}

/// One clip: a scenario in one encoding.
struct Clip {
    name: &'static str,
    half: &'static str,
    encoding: &'static str,
}

fn clips(a: &Args) -> anyhow::Result<Vec<Clip>> {
    let mut out = Vec::new();
    for s in SCENARIOS {
        if a.half != "all" && a.half != s.half {
            continue;
        }
        for e in s.encodings {
            let wanted = match &a.clips {
                None => true,
                Some(list) => list
                    .iter()
                    .any(|c| c == s.name || *c == format!("{}:{e}", s.name)),
            };
            if wanted {
                out.push(Clip {
                    name: s.name,
                    half: s.half,
                    encoding: e,
                });
            }
        }
    }
    if out.is_empty() {
        bail!("no clip selected");
    }
    Ok(out)
}

pub fn eval_scenes(args: &[String]) -> anyhow::Result<()> {
    let Some(a) = parse(args)? else {
        return Ok(());
    };
    let clips = clips(&a)?;
    let mut names: Vec<String> = clips.iter().map(|c| c.name.to_string()).collect();
    names.dedup();
    super::ensure(&super::Options {
        only: Some(names),
        recapture: false,
        relabel: false,
    })?;
    let cht = match &a.cht {
        Some(p) => p.clone(),
        None => crate::build_cht()?,
    };
    let mut rows = Vec::new();
    println!(
        "{:<20} {:<9} {:<8} {:>3} {:>3} {:>3} {:>5} {:>5} {:>5} {:>8} {:>6} {:>7} {:>7}  false alarms",
        "clip", "encoding", "detector", "tp", "fp", "fn", "P", "R", "F1", "coverage", "pic/ev", "lat.med", "lat.max"
    );
    for det in &a.detectors {
        for c in &clips {
            let r = score_clip(&cht, c, det, &a)
                .with_context(|| format!("{}:{} with {det}", c.name, c.encoding))?;
            print_row(&r);
            rows.push(r);
        }
    }
    println!();
    println!(
        "{:<9} {:<8} {:>5} {:>4} {:>4} {:>4} {:>5} {:>5} {:>5} {:>9} {:>6} {:>7} {:>7}",
        "half",
        "detector",
        "clips",
        "tp",
        "fp",
        "fn",
        "P",
        "R",
        "F1",
        "coverage",
        "pic/ev",
        "lat.med",
        "lat.max"
    );
    let mut summary = Vec::new();
    for det in &a.detectors {
        for half in ["tune", "held-out", "all"] {
            for subset in ["screen", "footage", "all"] {
                let sel: Vec<&Row> = rows
                    .iter()
                    .filter(|r| &r.detector == det)
                    .filter(|r| half == "all" || r.half == half)
                    .filter(|r| subset == "all" || (subset == "footage") == r.footage)
                    .collect();
                if sel.is_empty() {
                    continue;
                }
                let s = aggregate(half, subset, det, &sel);
                println!(
                    "{:<9} {:<8} {:>5} {:>4} {:>4} {:>4} {:>5.3} {:>5.3} {:>5.3} {:>9} {:>6.2} {:>7} {:>7}  {}",
                    half,
                    det,
                    sel.len(),
                    s["tp"].as_u64().unwrap_or(0),
                    s["fp"].as_u64().unwrap_or(0),
                    s["fn"].as_u64().unwrap_or(0),
                    s["precision"].as_f64().unwrap_or(0.0),
                    s["recall"].as_f64().unwrap_or(0.0),
                    s["f1"].as_f64().unwrap_or(0.0),
                    cov_str(&s["coverage"]),
                    s["pictures_per_event"].as_f64().unwrap_or(0.0),
                    secs(&s["latency_median"]),
                    secs(&s["latency_max"]),
                    subset,
                );
                summary.push(s);
            }
        }
    }
    let classes = class_table()?;
    let report = json!({
        "command": format!("cargo xtask eval-scenes {}", args.join(" ")),
        "classes": classes,
        "about": "cargo xtask eval-scenes: scores of `cht analyze` on the screen corpus",
        "scoring": {"match_frames": 1, "block_mad": BLOCK_MAD, "max_differing_blocks": MAX_DIFFERING, "cover_width": COVER_WIDTH, "cover_block": COVER_BLOCK},
        "ffmpeg_threshold": a.threshold,
        "clips": rows.iter().map(|r| r.json.clone()).collect::<Vec<_>>(),
        "summary": summary,
    });
    let path = super::cache().join("report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("\nreport: {}", path.display());
    Ok(())
}

/// Events and activities per class and half, over every scenario's labels;
/// printed, and an error if the held-out half lacks a class the tune half has.
fn class_table() -> anyhow::Result<Value> {
    let mut table: std::collections::BTreeMap<(String, String), [usize; 2]> = Default::default();
    for s in SCENARIOS {
        let Ok(text) = std::fs::read_to_string(super::labels_path(s.name)) else {
            continue;
        };
        let v: Value = serde_json::from_str(&text)?;
        let col = usize::from(s.half == "held-out");
        for (what, key) in [("event", "events"), ("activity", "activities")] {
            for x in v[key].as_array().into_iter().flatten() {
                let class = x["class"].as_str().unwrap_or_default().to_string();
                table.entry((what.into(), class)).or_default()[col] += 1;
            }
        }
    }
    println!(
        "\n{:<9} {:<15} {:>5} {:>9}",
        "", "class", "tune", "held-out"
    );
    let mut missing = Vec::new();
    let mut out = Vec::new();
    for ((what, class), [tune, held]) in &table {
        println!("{what:<9} {class:<15} {tune:>5} {held:>9}");
        if *held == 0 {
            missing.push(class.clone());
        }
        out.push(json!({"kind": what, "class": class, "tune": tune, "held_out": held}));
    }
    if !missing.is_empty() {
        println!("warning: the held-out half has no {}", missing.join(", "));
    }
    Ok(json!(out))
}

fn secs(v: &Value) -> String {
    v.as_f64()
        .map(|x| format!("{:.2}s", if x.abs() < 0.005 { 0.0 } else { x }))
        .unwrap_or_else(|| "-".into())
}

fn cov_str(v: &Value) -> String {
    v.as_f64()
        .map(|x| format!("{x:.3}"))
        .unwrap_or_else(|| "n/a".into())
}

struct Row {
    half: &'static str,
    detector: String,
    footage: bool,
    tp: usize,
    fp: usize,
    fn_: usize,
    covered: usize,
    scenes: usize,
    pictures: usize,
    events: usize,
    latencies: Vec<f64>,
    json: Value,
}

fn print_row(r: &Row) {
    let j = &r.json;
    let fa: Vec<String> = j["false_alarms_by_activity"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| format!("{k}:{v}")).collect())
        .unwrap_or_default();
    println!(
        "{:<20} {:<9} {:<8} {:>3} {:>3} {:>3} {:>5.3} {:>5.3} {:>5.3} {:>8} {:>6.2} {:>7} {:>7}  {}",
        j["clip"].as_str().unwrap_or_default(),
        j["encoding"].as_str().unwrap_or_default(),
        r.detector,
        r.tp,
        r.fp,
        r.fn_,
        j["precision"].as_f64().unwrap_or(0.0),
        j["recall"].as_f64().unwrap_or(0.0),
        j["f1"].as_f64().unwrap_or(0.0),
        cov_str(&j["coverage"]),
        j["pictures_per_event"].as_f64().unwrap_or(0.0),
        secs(&j["latency_median"]),
        secs(&j["latency_max"]),
        fa.join(" "),
    );
}

fn prf(tp: usize, fp: usize, fn_: usize) -> (f64, f64, f64) {
    let p = if tp + fp == 0 {
        1.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let r = if tp + fn_ == 0 {
        1.0
    } else {
        tp as f64 / (tp + fn_) as f64
    };
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f)
}

fn median_max(v: &[f64]) -> (Value, Value) {
    if v.is_empty() {
        return (Value::Null, Value::Null);
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let med = if s.len() % 2 == 1 {
        s[s.len() / 2]
    } else {
        (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
    };
    (json!(round3(med)), json!(round3(s[s.len() - 1])))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn aggregate(half: &str, subset: &str, det: &str, rows: &[&Row]) -> Value {
    let tp: usize = rows.iter().map(|r| r.tp).sum();
    let fp: usize = rows.iter().map(|r| r.fp).sum();
    let fn_: usize = rows.iter().map(|r| r.fn_).sum();
    let covered: usize = rows.iter().map(|r| r.covered).sum();
    let scenes: usize = rows.iter().map(|r| r.scenes).sum();
    let pictures: usize = rows.iter().map(|r| r.pictures).sum();
    let events: usize = rows.iter().map(|r| r.events).sum();
    let lat: Vec<f64> = rows.iter().flat_map(|r| r.latencies.clone()).collect();
    let (p, r, f) = prf(tp, fp, fn_);
    let (med, max) = median_max(&lat);
    json!({
        "half": half, "subset": subset, "detector": det, "clips": rows.len(),
        "tp": tp, "fp": fp, "fn": fn_,
        "precision": round3(p), "recall": round3(r), "f1": round3(f),
        "coverage": if scenes > 0 { json!(round3(covered as f64 / scenes as f64)) } else { Value::Null },
        "scenes_checked": scenes,
        "pictures_per_event": round3(pictures as f64 / (events + rows.len()) as f64),
        "latency_median": med, "latency_max": max,
    })
}

struct Picture {
    id: String,
    path: String,
    /// Frame of `timestamp` (the change) and of the picture.
    at: i64,
    pic: i64,
    update: bool,
    timestamp: f64,
    picture_time: f64,
}

fn read_index(dir: &Path) -> anyhow::Result<Vec<Picture>> {
    let path = dir.join("frames/index.json");
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?,
    )?;
    let mut out = Vec::new();
    for e in v.as_array().context("index.json is not an array")? {
        if e["manual"].as_bool() == Some(true) {
            continue;
        }
        let ts = e["timestamp"].as_f64().context("entry without timestamp")?;
        let pt = e["picture_time"].as_f64().unwrap_or(ts);
        out.push(Picture {
            id: e["id"].as_str().unwrap_or_default().into(),
            path: e["path"].as_str().unwrap_or_default().into(),
            at: (ts * FPS).round() as i64,
            pic: (pt * FPS).round() as i64,
            update: e["kind"].as_str() == Some("update"),
            timestamp: ts,
            picture_time: pt,
        });
    }
    Ok(out)
}

fn score_clip(cht: &Path, c: &Clip, det: &str, a: &Args) -> anyhow::Result<Row> {
    let dir = super::cache().join(c.name);
    let labels: Value =
        serde_json::from_str(&std::fs::read_to_string(super::labels_path(c.name))?)?;
    let clip = dir.join(format!("{}.ts", c.encoding));
    let out = dir.join("eval").join(format!("{}-{det}", c.encoding));
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    let status = Command::new(cht)
        .arg("analyze")
        .arg(&clip)
        .arg("--out")
        .arg(&out)
        .args(["--json", "--no-audio", "--quiet", "--detector", det])
        .args(["--scene-threshold", &a.threshold.to_string()])
        .args(a.every_picture.then_some("--every-picture"))
        .stdout(Stdio::null())
        .status()
        .context("cannot run cht analyze")?;
    if !status.success() {
        bail!("cht analyze {} failed: {status}", clip.display());
    }
    let pictures = read_index(&out)?;
    let events: Vec<(i64, i64, bool, String)> = labels["events"]
        .as_array()
        .context("labels without events")?
        .iter()
        .map(|e| {
            let span = &e["span"];
            (
                e["frame"].as_i64().unwrap_or(0),
                span[1].as_i64().unwrap_or(0),
                e["transition"].as_bool().unwrap_or(false),
                e["description"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let activities: Vec<(i64, i64, String)> = labels["activities"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    (
                        x["span"][0].as_i64().unwrap_or(0),
                        x["span"][1].as_i64().unwrap_or(0),
                        x["class"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    // Matching.
    let mut matched: Vec<Option<usize>> = vec![None; events.len()];
    let mut fps_at = Vec::new();
    let mut start_seen = false;
    let mut details = Vec::new();
    for (pi, p) in pictures.iter().enumerate() {
        if p.update {
            details.push(json!({"id": p.id, "t": p.timestamp, "picture_time": p.picture_time, "kind": "update"}));
            continue;
        }
        let best = events
            .iter()
            .enumerate()
            .filter(|(i, _)| matched[*i].is_none())
            .filter(|(_, e)| (p.at - e.0).abs() <= 1 || (e.2 && p.at >= e.0 && p.at <= e.1))
            .min_by_key(|(_, e)| (p.at - e.0).abs());
        if let Some((i, _)) = best {
            matched[i] = Some(pi);
            details.push(json!({"id": p.id, "t": p.timestamp, "picture_time": p.picture_time, "matches": events[i].3}));
        } else if !start_seen && p.at <= 1 {
            details.push(json!({"id": p.id, "t": p.timestamp, "picture_time": p.picture_time, "start": true}));
        } else {
            let act = activities
                .iter()
                .filter(|a| p.at >= a.0 && p.at <= a.1 + 15)
                .map(|a| a.2.clone())
                .next_back()
                .unwrap_or_else(|| "none".into());
            details.push(json!({"id": p.id, "t": p.timestamp, "picture_time": p.picture_time, "false_alarm": act}));
            fps_at.push(act);
        }
        start_seen = true;
    }
    let tp = matched.iter().filter(|m| m.is_some()).count();
    let fp = fps_at.len();
    let fn_ = events.len() - tp;
    let latencies: Vec<f64> = matched
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.map(|pi| pictures[pi].picture_time - events[i].0 as f64 / FPS))
        .collect();
    let missed: Vec<&str> = matched
        .iter()
        .enumerate()
        .filter(|(_, m)| m.is_none())
        .map(|(i, _)| events[i].3.as_str())
        .collect();
    // Coverage.
    let (w, h) = (
        labels["width"].as_u64().unwrap_or(1920) as usize,
        labels["height"].as_u64().unwrap_or(1080) as usize,
    );
    let mut covered = 0;
    let mut checked = 0;
    let mut scene_rows = Vec::new();
    for s in labels["scenes"]
        .as_array()
        .context("labels without scenes")?
    {
        if s["coverage"].as_bool() != Some(true) {
            continue;
        }
        checked += 1;
        let (start, last) = (
            s["start"].as_i64().unwrap_or(0),
            s["last_frame"].as_i64().unwrap_or(0),
        );
        // Scene bounds come from the script's timeline, within a frame of
        // the screen (events are matched within ±1 frame too): an update
        // picture one frame after the scene's last frame is still of that
        // scene (the next scene's own picture is an event).
        let pic = pictures
            .iter()
            .filter(|p| p.pic >= start && (p.pic <= last || (p.update && p.pic == last + 1)))
            .max_by_key(|p| p.pic);
        let Some(pic) = pic else {
            scene_rows.push(
                json!({"start": start, "last_frame": last, "covered": false, "picture": null}),
            );
            continue;
        };
        let reference = std::fs::read(dir.join("ref").join(format!("{last:06}.gray")))
            .context("missing reference frame: run `cargo xtask screen-corpus --relabel`")?;
        let got = jpeg_gray480(&out.join(&pic.path), w, h)?;
        let mask = parse_mask(s["mask"].as_str().unwrap_or_default());
        let (differing, compared, top) =
            differing_blocks(&reference, &got, cover_height(w, h), &mask);
        let ok = differing as f64 <= MAX_DIFFERING * compared as f64;
        covered += ok as usize;
        scene_rows.push(json!({"start": start, "last_frame": last, "covered": ok, "picture": pic.id, "picture_frame": pic.pic, "differing_blocks": differing, "compared_blocks": compared, "largest_block_mads": top}));
    }
    let mut by_act = serde_json::Map::new();
    for a in &fps_at {
        let n = by_act.get(a).and_then(|v| v.as_u64()).unwrap_or(0);
        by_act.insert(a.clone(), json!(n + 1));
    }
    let (p, r, f) = prf(tp, fp, fn_);
    let (med, max) = median_max(&latencies);
    let footage = c.name.starts_with("footage");
    let json = json!({
        "clip": c.name, "encoding": c.encoding, "half": c.half, "detector": det,
        "events": events.len(), "pictures": pictures.len(),
        "tp": tp, "fp": fp, "fn": fn_,
        "precision": round3(p), "recall": round3(r), "f1": round3(f),
        "coverage": if checked > 0 { json!(round3(covered as f64 / checked as f64)) } else { Value::Null },
        "scenes_checked": checked, "scenes_covered": covered,
        "pictures_per_event": round3(pictures.len() as f64 / (events.len() + 1) as f64),
        "latency_median": med, "latency_max": max,
        "missed": missed,
        "false_alarms_by_activity": by_act,
        "pictures_detail": details,
        "scenes": scene_rows,
    });
    Ok(Row {
        half: c.half,
        detector: det.into(),
        footage,
        tp,
        fp,
        fn_,
        covered,
        scenes: checked,
        pictures: pictures.len(),
        events: events.len(),
        latencies,
        json,
    })
}

/// A written JPEG scaled like the references (480 px wide luma).
pub fn jpeg_gray480(path: &Path, w: usize, h: usize) -> anyhow::Result<Vec<u8>> {
    let ch = cover_height(w, h);
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args([
            "-vf",
            &scale480_filter(ch),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ])
        .output()?;
    if !out.status.success() || out.stdout.len() != COVER_WIDTH * ch {
        bail!("cannot decode {}", path.display());
    }
    Ok(out.stdout)
}

/// Blocks (16x16 at 480 px wide) whose mean absolute difference exceeds
/// BLOCK_MAD, outside the mask; the number of blocks compared; the largest
/// block differences (for calibrating BLOCK_MAD).
pub fn differing_blocks(a: &[u8], b: &[u8], h: usize, mask: &[bool]) -> (usize, usize, Vec<f64>) {
    let bw = COVER_WIDTH.div_ceil(COVER_BLOCK);
    let bh = h.div_ceil(COVER_BLOCK);
    let (mut differing, mut compared) = (0, 0);
    let mut mads = Vec::new();
    for by in 0..bh {
        for bx in 0..bw {
            if mask.get(by * bw + bx).copied().unwrap_or(false) {
                continue;
            }
            compared += 1;
            let (mut sum, mut n) = (0u64, 0u64);
            for y in by * COVER_BLOCK..((by + 1) * COVER_BLOCK).min(h) {
                for x in bx * COVER_BLOCK..((bx + 1) * COVER_BLOCK).min(COVER_WIDTH) {
                    let i = y * COVER_WIDTH + x;
                    sum += a[i].abs_diff(b[i]) as u64;
                    n += 1;
                }
            }
            let mad = sum as f64 / n as f64;
            if mad > BLOCK_MAD {
                differing += 1;
            }
            mads.push(mad);
        }
    }
    mads.sort_by(|x, y| y.total_cmp(x));
    mads.truncate(8);
    (
        differing,
        compared,
        mads.iter().map(|m| (m * 10.0).round() / 10.0).collect(),
    )
}
