//! `cargo xtask screen-corpus`: the labelled corpus of real screen content
//! (see tests/screen-corpus/README.md), and `cargo xtask eval-scenes`.

mod encode;
pub mod eval;
pub mod fixtures;
mod footage;
pub mod label;
mod scenarios;
mod script;
mod x;

use anyhow::{bail, Context};
use label::{ChangeMaps, Event};
use scenarios::{Kind, Spec, SCENARIOS};
use script::{Mark, MarkKind};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub const USAGE: &str = "\
cargo xtask screen-corpus [--only NAME,..] [--recapture] [--relabel]
  Captures every scenario of tests/screen-corpus/manifest.json (Xvfb + openbox,
  real programs driven by xdotool, lossless x11grab at 30 fps), labels it from
  the script's timeline made exact on the lossless capture, and encodes it as
  senders do (libx264 veryfast, TS). Cached under target/screen-corpus/<name>/;
  writes tests/screen-corpus/labels/<name>.json. Only what is missing is made:
  --recapture captures again (new labels), --relabel recomputes labels.
";

/// The cache of captures, encodings and reference frames.
pub fn cache() -> PathBuf {
    crate::root().join("target/screen-corpus")
}

pub fn corpus_dir() -> PathBuf {
    crate::root().join("tests/screen-corpus")
}

pub fn labels_path(name: &str) -> PathBuf {
    corpus_dir().join("labels").join(format!("{name}.json"))
}

pub struct Options {
    pub only: Option<Vec<String>>,
    pub recapture: bool,
    pub relabel: bool,
}

pub fn screen_corpus(args: &[String]) -> anyhow::Result<()> {
    let mut opts = Options {
        only: None,
        recapture: false,
        relabel: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--only" => {
                let v = it.next().context("--only needs NAME[,NAME..]")?;
                opts.only = Some(v.split(',').map(String::from).collect());
            }
            "--recapture" => opts.recapture = true,
            "--relabel" => opts.relabel = true,
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown option {other:?}\n\n{USAGE}"),
        }
    }
    ensure(&opts)
}

/// Makes (or reuses) every selected scenario: capture, labels, encodings.
pub fn ensure(opts: &Options) -> anyhow::Result<()> {
    write_manifest()?;
    let selected = select(opts.only.as_deref())?;
    let sources = footage::sources(&cache().join("sources"))?;
    let video = footage::page_video(&sources, &cache().join("page-video"))?;
    for spec in selected {
        generate(spec, &sources, &video, opts)
            .with_context(|| format!("scenario {}", spec.name))?;
    }
    Ok(())
}

pub fn select(only: Option<&[String]>) -> anyhow::Result<Vec<&'static Spec>> {
    let Some(only) = only else {
        return Ok(SCENARIOS.iter().collect());
    };
    only.iter()
        .map(|n| {
            SCENARIOS
                .iter()
                .find(|s| s.name == n)
                .with_context(|| format!("no scenario {n:?}"))
        })
        .collect()
}

fn write_manifest() -> anyhow::Result<()> {
    let scen: Vec<Value> = SCENARIOS
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "half": s.half,
                "program": format!("{:?}", s.kind),
                "width": s.width,
                "height": s.height,
                "encodings": s.encodings,
                "labels": format!("labels/{}.json", s.name),
            })
        })
        .collect();
    let enc: serde_json::Map<String, Value> = encode::ENCODINGS
        .iter()
        .map(|(n, o)| {
            let mut all: Vec<&str> = o.to_vec();
            all.extend([
                "-pix_fmt",
                "yuv420p",
                "-fps_mode",
                "passthrough",
                "-f",
                "mpegts",
            ]);
            (n.to_string(), json!(all.join(" ")))
        })
        .collect();
    let manifest = json!({
        "about": "Scenarios of the screen corpus, split in two halves: tune on `tune`, report `held-out` too. Made by `cargo xtask screen-corpus`, scored by `cargo xtask eval-scenes`.",
        "fps": 30,
        "capture": "ffmpeg -f x11grab -framerate 30 -draw_mouse 1 -fps_mode cfr -c:v libx264rgb -qp 0 -preset ultrafast",
        "encodings": enc,
        "scenarios": scen,
    });
    let path = corpus_dir().join("manifest.json");
    std::fs::create_dir_all(corpus_dir())?;
    std::fs::write(&path, serde_json::to_string_pretty(&manifest)? + "\n")?;
    Ok(())
}

fn is_footage(spec: &Spec) -> bool {
    matches!(spec.kind, Kind::FootageCuts(_) | Kind::FootageDissolves)
}

fn generate(spec: &Spec, sources: &Path, video: &Path, opts: &Options) -> anyhow::Result<()> {
    let dir = cache().join(spec.name);
    let capture = dir.join("capture.mkv");
    let timeline = dir.join("timeline.json");
    let mut relabel = opts.relabel;
    if opts.recapture || !capture.is_file() || !timeline.is_file() {
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        scenarios::check_tools()?;
        eprintln!(
            "xtask: capturing {} ({}x{})",
            spec.name, spec.width, spec.height
        );
        let t = capture_scenario(spec, &dir, &capture, sources, video)?;
        std::fs::write(&timeline, serde_json::to_string_pretty(&t)? + "\n")?;
        relabel = true;
    }
    let t: Value = serde_json::from_str(&std::fs::read_to_string(&timeline)?)?;
    let id = t["capture_id"].as_str().unwrap_or_default().to_string();
    let labels = labels_path(spec.name);
    let committed_id = std::fs::read_to_string(&labels)
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .and_then(|v| v["capture_id"].as_str().map(String::from));
    if relabel || committed_id.as_deref() != Some(&id) || !dir.join("ref").is_dir() {
        eprintln!("xtask: labelling {}", spec.name);
        label_scenario(spec, &dir, &capture, &t)?;
    }
    for enc in spec.encodings {
        let out = dir.join(format!("{enc}.ts"));
        if !out.is_file() {
            eprintln!("xtask: encoding {} as {enc}", spec.name);
            encode::encode(&capture, enc, &out)?;
        }
    }
    Ok(())
}

/// Captures (or, for footage, assembles) a scenario; its timeline.
fn capture_scenario(
    spec: &Spec,
    dir: &Path,
    capture: &Path,
    sources: &Path,
    video: &Path,
) -> anyhow::Result<Value> {
    let (w, h) = (spec.width, spec.height);
    match spec.kind {
        Kind::FootageCuts(v) => {
            let events = footage::cuts(sources, v, w, h, &dir.join("shots"), capture)?;
            Ok(
                json!({"capture_id": format!("footage-{}", spec.name), "events": events_json(&events)}),
            )
        }
        Kind::FootageDissolves => {
            let events = footage::dissolves(sources, w, h, &dir.join("shots"), capture)?;
            Ok(
                json!({"capture_id": format!("footage-{}", spec.name), "events": events_json(&events)}),
            )
        }
        _ => {
            let d = x::Display::start(w, h, &dir.join("x"))?;
            let script = scenarios::run(spec, d, capture, video)?;
            let (marks, start) = script.finish()?;
            Ok(json!({
                "capture_id": format!("x11grab-{start:.6}"),
                "capture_start": start,
                "marks": marks.iter().map(|m| json!({
                    "event": matches!(m.kind, MarkKind::Event { .. }),
                    "transition": matches!(m.kind, MarkKind::Event { transition: true, .. }),
                    "settle": match m.kind { MarkKind::Event { settle, .. } => settle, _ => 0.0 },
                    "class": m.class,
                    "description": m.description,
                    "start": m.start,
                    "end": if m.end.is_finite() { json!(m.end) } else { Value::Null },
                })).collect::<Vec<_>>(),
            }))
        }
    }
}

fn events_json(events: &[Event]) -> Value {
    json!(events
        .iter()
        .map(|e| json!({"frame": e.frame, "end": e.end, "transition": e.transition, "class": e.class, "description": e.description}))
        .collect::<Vec<_>>())
}

fn label_scenario(spec: &Spec, dir: &Path, capture: &Path, t: &Value) -> anyhow::Result<()> {
    let (w, h) = (spec.width as usize, spec.height as usize);
    let cm = ChangeMaps::compute(capture, w, h)?;
    let (events, activities) = if is_footage(spec) {
        let events = t["events"]
            .as_array()
            .context("timeline without events")?
            .iter()
            .map(|e| Event {
                frame: e["frame"].as_u64().unwrap_or(0) as usize,
                end: e["end"].as_u64().unwrap_or(0) as usize,
                settled: e["end"].as_u64().unwrap_or(0) as usize,
                first_change: e["frame"].as_u64().unwrap_or(0) as usize,
                transition: e["transition"].as_bool().unwrap_or(false),
                class: e["class"].as_str().unwrap_or_default().into(),
                description: e["description"].as_str().unwrap_or_default().into(),
                action_frame: None,
            })
            .collect();
        (events, Vec::new())
    } else {
        let marks: Vec<Mark> = t["marks"]
            .as_array()
            .context("timeline without marks")?
            .iter()
            .map(|m| Mark {
                kind: if m["event"].as_bool().unwrap_or(false) {
                    MarkKind::Event {
                        transition: m["transition"].as_bool().unwrap_or(false),
                        settle: m["settle"].as_f64().unwrap_or(2.0),
                    }
                } else {
                    MarkKind::Activity
                },
                class: m["class"].as_str().unwrap_or_default().into(),
                description: m["description"].as_str().unwrap_or_default().into(),
                start: m["start"].as_f64().unwrap_or(0.0),
                end: m["end"].as_f64().unwrap_or(f64::INFINITY),
            })
            .collect();
        let start = t["capture_start"].as_f64().context("no capture_start")?;
        label::resolve(&cm, &marks, start)?
    };
    let scenes = label::scenes(&cm, &events);
    let mut labels =
        label::labels_json(spec.name, w, h, cm.frames(), &events, &activities, &scenes);
    labels["half"] = json!(spec.half);
    labels["capture_id"] = t["capture_id"].clone();
    std::fs::create_dir_all(corpus_dir().join("labels"))?;
    std::fs::write(
        labels_path(spec.name),
        serde_json::to_string_pretty(&labels)? + "\n",
    )?;
    // Reference frames of the coverage check, and pictures to look at.
    let refs: Vec<usize> = scenes.iter().map(|s| s.last).collect();
    let grays = label::extract_gray480(capture, w, h, &refs)?;
    let ref_dir = dir.join("ref");
    std::fs::create_dir_all(&ref_dir)?;
    for (f, g) in refs.iter().zip(grays) {
        std::fs::write(ref_dir.join(format!("{f:06}.gray")), g)?;
    }
    let mut pngs = Vec::new();
    for (i, e) in events.iter().enumerate() {
        pngs.push((e.frame.saturating_sub(1), format!("e{i:02}_a_before.png")));
        pngs.push((e.frame, format!("e{i:02}_b_first.png")));
        pngs.push((e.end, format!("e{i:02}_c_end.png")));
        pngs.push((e.settled, format!("e{i:02}_d_settled.png")));
    }
    for (i, s) in scenes.iter().enumerate() {
        pngs.push((s.last, format!("s{i:02}_last.png")));
    }
    label::extract_pngs(capture, &pngs, &dir.join("check"))?;
    eprintln!(
        "xtask: {}: {} frames, {} events, {} activities, {} scenes",
        spec.name,
        cm.frames(),
        events.len(),
        activities.len(),
        scenes.len()
    );
    Ok(())
}
