//! Labels from the script's timeline, made exact on the lossless capture.
//!
//! One pass over the capture (full resolution, luma) records, per frame,
//! which 16x16 blocks changed from the frame before. Everything else is
//! read off those change maps:
//! - an event's first frame: the first frame after the action that differs
//!   from the frame before the action outside the blocks that were already
//!   moving in the 1.5 s before it (a caret, a clock, a video), and (except
//!   for transitions) by at least a quarter of the blocks the whole change
//!   touches (a browser's tab strip or a focus ring can change a frame or two
//!   before the page does; the scene before ends at the very first change);
//! - a transition's span end: the last frame, within the action's settle
//!   limit, that changes outside those blocks and outside the blocks that
//!   keep moving after it (a chart that animates on the new slide);
//! - an event's settled frame: the first frame after which nothing changes
//!   for 0.5 s outside those blocks (a build, a page that loads in steps);
//! - a scene's moving mask: the blocks that change in the last 1 s window of
//!   the scene and in one of the two before (after its event's change: "a
//!   region that never stops moving", it still moves when the scene ends),
//!   each group of such blocks grown to its bounding box (the region).

use super::script::{Mark, MarkKind};
use super::x::FPS;
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

/// Block side (pixels) of the change maps at capture resolution.
const BLOCK: usize = 16;
/// A pixel "changed" when its luma moves by more than this (the capture
/// is lossless; this only absorbs rounding in the RGB->luma conversion).
const PIXEL_DELTA: u8 = 2;
/// Width the coverage comparison works at, and its block side.
pub const COVER_WIDTH: usize = 480;
pub const COVER_BLOCK: usize = 16;

/// Which blocks changed in each frame (bit sets), at capture resolution.
pub struct ChangeMaps {
    pub width: usize,
    pub height: usize,
    pub bw: usize,
    pub bh: usize,
    pub maps: Vec<Vec<u64>>,
}

impl ChangeMaps {
    pub fn frames(&self) -> usize {
        self.maps.len()
    }

    fn words(&self) -> usize {
        (self.bw * self.bh).div_ceil(64)
    }

    /// Decodes `capture` once with ffmpeg and diffs consecutive frames.
    pub fn compute(capture: &Path, width: usize, height: usize) -> anyhow::Result<ChangeMaps> {
        let mut child = Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(capture)
            .args([
                "-fps_mode",
                "passthrough",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "gray",
                "-",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot run ffmpeg to decode the capture")?;
        let mut out = child.stdout.take().expect("piped");
        let (bw, bh) = (width.div_ceil(BLOCK), height.div_ceil(BLOCK));
        let mut cm = ChangeMaps {
            width,
            height,
            bw,
            bh,
            maps: Vec::new(),
        };
        let words = cm.words();
        let mut prev = vec![0u8; width * height];
        let mut cur = vec![0u8; width * height];
        let mut first = true;
        while read_full(&mut out, &mut cur)? {
            let mut map = vec![0u64; words];
            if !first {
                for y in 0..height {
                    let row = y * width;
                    let (a, b) = (&prev[row..row + width], &cur[row..row + width]);
                    let by = y / BLOCK;
                    for bx in 0..bw {
                        let bit = by * bw + bx;
                        if map[bit / 64] >> (bit % 64) & 1 == 1 {
                            continue;
                        }
                        let x0 = bx * BLOCK;
                        let x1 = (x0 + BLOCK).min(width);
                        if a[x0..x1]
                            .iter()
                            .zip(&b[x0..x1])
                            .any(|(p, q)| p.abs_diff(*q) > PIXEL_DELTA)
                        {
                            map[bit / 64] |= 1 << (bit % 64);
                        }
                    }
                }
            }
            first = false;
            cm.maps.push(map);
            std::mem::swap(&mut prev, &mut cur);
        }
        let status = child.wait()?;
        if !status.success() || cm.maps.is_empty() {
            bail!("ffmpeg could not decode {}", capture.display());
        }
        Ok(cm)
    }

    /// Union of the change maps of frames `from..to`.
    pub fn union(&self, from: usize, to: usize) -> Vec<u64> {
        let mut u = vec![0u64; self.words()];
        for m in &self.maps[from.min(self.frames())..to.min(self.frames())] {
            for (a, b) in u.iter_mut().zip(m) {
                *a |= b;
            }
        }
        u
    }

    /// Changed blocks of frame `f` outside `mask`.
    pub fn count_outside(&self, f: usize, mask: &[u64]) -> u32 {
        self.maps[f]
            .iter()
            .zip(mask)
            .map(|(a, m)| (a & !m).count_ones())
            .sum()
    }

    /// The coverage mask (blocks at 480 px wide) of a capture-resolution
    /// block set: a coverage block is masked when any block under it is.
    pub fn to_cover_grid(&self, set: &[u64]) -> Vec<bool> {
        let (cw, ch) = cover_grid(self.width, self.height);
        let scale = self.width as f64 / COVER_WIDTH as f64;
        let mut out = vec![false; cw * ch];
        for by in 0..self.bh {
            for bx in 0..self.bw {
                let bit = by * self.bw + bx;
                if set[bit / 64] >> (bit % 64) & 1 == 0 {
                    continue;
                }
                // Pixel rectangle of this block, in coverage blocks.
                let px0 = (bx * BLOCK) as f64 / scale / COVER_BLOCK as f64;
                let px1 = (((bx + 1) * BLOCK) as f64 / scale / COVER_BLOCK as f64).ceil();
                let py0 = (by * BLOCK) as f64 / scale / COVER_BLOCK as f64;
                let py1 = (((by + 1) * BLOCK) as f64 / scale / COVER_BLOCK as f64).ceil();
                for cy in py0 as usize..(py1 as usize).min(ch) {
                    for cx in px0 as usize..(px1 as usize).min(cw) {
                        out[cy * cw + cx] = true;
                    }
                }
            }
        }
        out
    }
}

/// Size of the coverage grid for a frame size (480 px wide).
pub fn cover_grid(width: usize, height: usize) -> (usize, usize) {
    let h = cover_height(width, height);
    (COVER_WIDTH.div_ceil(COVER_BLOCK), h.div_ceil(COVER_BLOCK))
}

/// Height of a frame scaled to 480 px wide (even, as ffmpeg's `-2`).
pub fn cover_height(width: usize, height: usize) -> usize {
    let h = (COVER_WIDTH as f64 * height as f64 / width as f64).round() as usize;
    h + h % 2
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> anyhow::Result<bool> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 if n == 0 => return Ok(false),
            0 => bail!("truncated frame from ffmpeg"),
            k => n += k,
        }
    }
    Ok(true)
}

/// A labelled event, in capture frames.
#[derive(Clone, Debug)]
pub struct Event {
    pub frame: usize,
    /// The first frame that changed at all (a tab strip, a focus ring):
    /// the previous scene ends before it.
    pub first_change: usize,
    /// Last frame of a transition (= `frame` for other events).
    pub end: usize,
    /// First frame of the settled screen: nothing changes for 0.5 s after
    /// it outside the blocks that never stop moving (bounded by the next
    /// event).
    pub settled: usize,
    pub transition: bool,
    pub class: String,
    pub description: String,
    pub action_frame: Option<usize>,
}

/// A labelled activity, in capture frames.
#[derive(Clone, Debug)]
pub struct Activity {
    pub class: String,
    pub description: String,
    pub span: (usize, usize),
}

/// Turns the script's marks (epoch seconds) into exact event frames and
/// activity spans. An event action that changed nothing is an error: the
/// generator did not do what its script says.
pub fn resolve(
    cm: &ChangeMaps,
    marks: &[Mark],
    capture_start: f64,
) -> anyhow::Result<(Vec<Event>, Vec<Activity>)> {
    let to_frame = |t: f64| ((t - capture_start) * FPS).max(0.0);
    let n = cm.frames();
    let event_starts: Vec<usize> = marks
        .iter()
        .filter(|m| matches!(m.kind, MarkKind::Event { .. }))
        .map(|m| to_frame(m.start) as usize)
        .collect();
    let mut events = Vec::new();
    let mut activities = Vec::new();
    for m in marks {
        let a = to_frame(m.start) as usize;
        match m.kind {
            MarkKind::Activity => {
                let end = if m.end.is_finite() {
                    (to_frame(m.end).ceil() as usize).min(n - 1)
                } else {
                    n - 1
                };
                activities.push(Activity {
                    class: m.class.clone(),
                    description: m.description.clone(),
                    span: (a.min(n - 1), end),
                });
            }
            MarkKind::Event { transition, settle } => {
                // The frame before the action, with a 2-frame margin for the
                // clock mapping; what already moved before it is activity.
                let r = a.saturating_sub(2);
                let moving = cm.union(r.saturating_sub(45), r + 1);
                let next_action = event_starts
                    .iter()
                    .copied()
                    .filter(|&s| s > a)
                    .min()
                    .unwrap_or(n);
                let limit = (a + (settle * FPS) as usize + 30).min(next_action).min(n);
                let first = (r + 1..limit)
                    .find(|&f| cm.count_outside(f, &moving) > 0)
                    .with_context(|| {
                        format!(
                            "event {:?} ({}) at frame {a}: nothing changed on screen",
                            m.class, m.description
                        )
                    })?;
                // Blocks that keep moving once the change is over: changed in
                // each of the two seconds after its settle limit (a build that
                // ends in the first second is not among them).
                let settle_end = (first + (settle * FPS) as usize).min(next_action).min(n);
                let second = |k: usize| {
                    let lo = (settle_end + 30 * k).min(next_action);
                    cm.union(lo, (lo + 30).min(next_action))
                };
                let (a1, a2) = (second(0), second(1));
                let after: Vec<u64> =
                    if a2.iter().all(|w| *w == 0) && settle_end + 30 >= next_action {
                        a1
                    } else {
                        a1.iter().zip(&a2).map(|(x, y)| x & y).collect()
                    };
                let mask: Vec<u64> = moving.iter().zip(&after).map(|(a, b)| a | b).collect();
                let end = (first..settle_end)
                    .rev()
                    .find(|&f| cm.count_outside(f, &mask) > 0)
                    .unwrap_or(first);
                // The browser's tab strip or a focus ring may change a frame
                // or two before the new content: the event starts where a
                // quarter of everything that changes in it has changed.
                let mut total = vec![0u64; moving.len()];
                for f in first..=end {
                    for ((t, c), m) in total.iter_mut().zip(&cm.maps[f]).zip(&mask) {
                        *t |= c & !m;
                    }
                }
                let total_n: u32 = total.iter().map(|w| w.count_ones()).sum();
                let mut seen = vec![0u64; moving.len()];
                let mut start = first;
                for f in (first..=end).take_while(|_| !transition) {
                    for ((t, c), m) in seen.iter_mut().zip(&cm.maps[f]).zip(&mask) {
                        *t |= c & !m;
                    }
                    let n: u32 = seen.iter().map(|w| w.count_ones()).sum();
                    if n * 4 >= total_n {
                        start = f;
                        break;
                    }
                }
                let quiet = (FPS / 2.0) as usize;
                let bound = next_action.min(n);
                let settled = (end.max(start)..bound)
                    .find(|&f| {
                        (f + 1..(f + 1 + quiet).min(bound)).all(|g| cm.count_outside(g, &mask) == 0)
                    })
                    .unwrap_or(end);
                events.push(Event {
                    frame: start,
                    first_change: first,
                    end: if transition { end } else { start },
                    settled,
                    transition,
                    class: m.class.clone(),
                    description: m.description.clone(),
                    action_frame: Some(a),
                });
            }
        }
    }
    events.sort_by_key(|e| e.frame);
    Ok((events, activities))
}

/// A scene: from an event (or the clip start) to the frame before the next.
#[derive(Clone, Debug)]
pub struct Scene {
    pub start: usize,
    pub last: usize,
    /// The coverage grid's masked blocks (never stop moving in the scene).
    pub mask: Vec<bool>,
    /// False when most of the picture never stops moving (footage): the
    /// scene has no "final content" to check.
    pub coverage: bool,
}

/// A region is masked from the coverage check when it changes in the last
/// second of its scene and in another of the last this many seconds.
const MOVING_WINDOWS: usize = 3;

pub fn scenes(cm: &ChangeMaps, events: &[Event]) -> Vec<Scene> {
    let n = cm.frames();
    // (scene start, end of its event's change, first change of its event)
    let mut bounds: Vec<(usize, usize, usize)> = vec![(0, 0, 0)];
    for e in events {
        if e.frame > 0 {
            bounds.push((
                e.frame,
                e.end.max(e.frame),
                e.first_change.min(e.frame).max(1),
            ));
        }
    }
    let mut out = Vec::new();
    for (i, &(start, end, _)) in bounds.iter().enumerate() {
        let last = bounds.get(i + 1).map(|b| b.2 - 1).unwrap_or(n - 1);
        if last < start {
            continue;
        }
        // "Never stops moving": changes in the last of the scene's last
        // `MOVING_WINDOWS` 1 s windows after its event's change, and in
        // another one (a chart that animates from the transition on, whose
        // bars leave a block still for a second now and then; a video
        // carried to a new place by a scroll); a build, a page that loads in
        // steps or typing changes a block once and is compared.
        let from = (end + 1).min(last);
        let mut windows = Vec::new();
        let mut hi = last + 1;
        while hi >= from + 30 && windows.len() < MOVING_WINDOWS {
            windows.push((hi - 30, hi));
            hi -= 30;
        }
        if windows.is_empty() {
            windows.push((from, last + 1));
        }
        let mut unions = windows.iter().map(|&(lo, hi)| cm.union(lo.max(1), hi));
        let at_end = unions.next().unwrap_or_default();
        // (A scene too short for a second window: its one window.)
        let moving = match unions.reduce(|a, b| a.iter().zip(&b).map(|(x, y)| x | y).collect()) {
            Some(before) => at_end.iter().zip(&before).map(|(e, b)| e & b).collect(),
            None => at_end,
        };
        let mask = cm.to_cover_grid(&moving);
        let (cw, _) = cover_grid(cm.width, cm.height);
        let mask = fill_regions(&mask, cw);
        let masked = mask.iter().filter(|&&m| m).count();
        out.push(Scene {
            start,
            last,
            coverage: masked * 2 < mask.len(),
            mask,
        });
    }
    out
}

/// Each group of touching masked blocks (8-neighbours) grown to its
/// bounding box: a moving *region* (a video whose dark edges stay still
/// for seconds, a chart whose bars leave some blocks alone), not the
/// blocks that happened to change.
fn fill_regions(mask: &[bool], width: usize) -> Vec<bool> {
    let height = mask.len() / width.max(1);
    let mut out = mask.to_vec();
    let mut seen = vec![false; mask.len()];
    for start in 0..mask.len() {
        if !mask[start] || seen[start] {
            continue;
        }
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        let mut stack = vec![start];
        seen[start] = true;
        while let Some(i) = stack.pop() {
            let (x, y) = (i % width, i / width);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            for ny in y.saturating_sub(1)..(y + 2).min(height) {
                for nx in x.saturating_sub(1)..(x + 2).min(width) {
                    let j = ny * width + nx;
                    if mask[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        for y in y0..=y1 {
            out[y * width + x0..=y * width + x1].fill(true);
        }
    }
    out
}

/// The labels file of a scenario.
pub fn labels_json(
    name: &str,
    width: usize,
    height: usize,
    frames: usize,
    events: &[Event],
    activities: &[Activity],
    scenes: &[Scene],
) -> Value {
    let t = |f: usize| (f as f64 / FPS * 1000.0).round() / 1000.0;
    json!({
        "scenario": name,
        "width": width,
        "height": height,
        "fps": FPS,
        "frames": frames,
        "events": events.iter().map(|e| json!({
            "frame": e.frame,
            "time": t(e.frame),
            "span": [e.frame, e.end],
            "transition": e.transition,
            "settled_frame": e.settled,
            "first_change": e.first_change,
            "class": e.class,
            "description": e.description,
            "action_frame": e.action_frame,
        })).collect::<Vec<_>>(),
        "activities": activities.iter().map(|a| json!({
            "class": a.class,
            "description": a.description,
            "span": [a.span.0, a.span.1],
        })).collect::<Vec<_>>(),
        "scenes": scenes.iter().map(|s| json!({
            "start": s.start,
            "last_frame": s.last,
            "coverage": s.coverage,
            "mask": mask_string(&s.mask),
        })).collect::<Vec<_>>(),
    })
}

/// A coverage mask as rows of '.' (compared) and '#' (masked), joined by '/'.
pub fn mask_string(mask: &[bool]) -> String {
    let cw = COVER_WIDTH.div_ceil(COVER_BLOCK);
    mask.chunks(cw)
        .map(|row| {
            row.iter()
                .map(|&m| if m { '#' } else { '.' })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

pub fn parse_mask(s: &str) -> Vec<bool> {
    s.chars().filter(|c| *c != '/').map(|c| c == '#').collect()
}

/// Extracts the given frames of a capture, scaled to 480 px wide luma (the
/// coverage comparison's reference), as raw bytes in frame order.
pub fn extract_gray480(
    capture: &Path,
    width: usize,
    height: usize,
    frames: &[usize],
) -> anyhow::Result<Vec<Vec<u8>>> {
    if frames.is_empty() {
        return Ok(Vec::new());
    }
    let expr: Vec<String> = frames.iter().map(|f| format!("eq(n\\,{f})")).collect();
    let h = cover_height(width, height);
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(capture)
        .args([
            "-vf",
            &format!("select='{}',{}", expr.join("+"), scale480_filter(h)),
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ])
        .stderr(Stdio::inherit())
        .output()?;
    let size = COVER_WIDTH * h;
    if !out.status.success() || out.stdout.len() != size * frames.len() {
        bail!(
            "extracting {} frames of {} gave {} bytes",
            frames.len(),
            capture.display(),
            out.stdout.len()
        );
    }
    Ok(out.stdout.chunks(size).map(|c| c.to_vec()).collect())
}

/// The one scaler used for both sides of the coverage comparison.
pub fn scale480_filter(h: usize) -> String {
    format!("scale={COVER_WIDTH}:{h}:flags=area,format=gray")
}

/// Writes PNGs of the given frames (960 px wide) for looking at the labels.
pub fn extract_pngs(capture: &Path, frames: &[(usize, String)], dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    for chunk in frames.chunks(40) {
        let expr: Vec<String> = chunk.iter().map(|(f, _)| format!("eq(n\\,{f})")).collect();
        let tmp = dir.join("tmp_%04d.png");
        crate::run(
            Command::new("ffmpeg")
                .args(["-nostdin", "-v", "error", "-y", "-i"])
                .arg(capture)
                .args([
                    "-vf",
                    &format!("select='{}',scale=960:-2", expr.join("+")),
                    "-fps_mode",
                    "passthrough",
                ])
                .arg(&tmp),
        )?;
        // ffmpeg writes the selected frames in frame order, once each.
        let mut order: Vec<usize> = chunk.iter().map(|(f, _)| *f).collect();
        order.sort_unstable();
        order.dedup();
        for (f, name) in chunk {
            let i = order.binary_search(f).expect("selected");
            let from = dir.join(format!("tmp_{:04}.png", i + 1));
            if from.exists() {
                std::fs::copy(&from, dir.join(name))?;
            }
        }
        for i in 0..order.len() {
            let _ = std::fs::remove_file(dir.join(format!("tmp_{:04}.png", i + 1)));
        }
    }
    Ok(())
}
