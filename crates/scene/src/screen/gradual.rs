//! Gradual transitions in footage: fades, dissolves, wipes.
//!
//! In footage every frame moves, so a change cannot wait for stillness, and
//! a dissolve never makes the spike of a hard cut. What does change is the
//! picture's distribution of brightness: within a shot it drifts slowly with
//! the motion, across a transition it moves from one shot's to the next's
//! within a second. This compares the histogram of each frame's cells with
//! that of the frame `SPAN` earlier; a transition is when that distance
//! rises well above its recent level (twice the shot's own drift, and at
//! least `MIN_DISTANCE`). Its picture is taken once the frame-to-frame
//! histogram change has calmed down (the new shot has begun), or at the
//! bound.

use std::collections::VecDeque;

/// Histogram bins (cell means, 16 levels each).
const BINS: usize = 16;
/// Seconds between the two frames compared.
const SPAN: f64 = 0.5;
/// A transition's histogram distance (L1, 0..=2) is at least this...
const MIN_DISTANCE: f64 = 0.35;
/// ...and this many times the recent level.
const RATIO: f64 = 2.5;
/// Seconds of recent level.
const BASELINE: f64 = 2.5;
/// The frame-to-frame change counts as calm below this share of the
/// transition's mean step per frame.
const CALM: f64 = 0.3;
/// Seconds of calm before the picture, and the most to wait for it.
const SETTLE: f64 = 0.3;
const BOUND: f64 = 1.5;

type Histogram = [f32; BINS];

/// A transition found: when it began and when its picture is due.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Transition {
    pub began: f64,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Gradual {
    /// (time, histogram) of the last `SPAN` + a little.
    recent: VecDeque<(f64, Histogram)>,
    /// (time, distance over `SPAN`) of the last `BASELINE` seconds.
    distances: VecDeque<(f64, f64)>,
    /// (time, frame-to-frame distance) of the last `BASELINE` seconds.
    steps: VecDeque<(f64, f64)>,
    /// A transition whose picture is not taken yet: (began, found, calm since).
    open: Option<(f64, f64, Option<f64>, f64)>,
    /// No transition is looked for before this time (after a cut or one
    /// just found: the distance stays high for `SPAN`)...
    quiet_until: f64,
    /// ...nor until the distance has come down again.
    disarmed: bool,
}

impl Gradual {
    /// A hard cut at `time`: the distance it causes is not a transition.
    pub fn cut(&mut self, time: f64) {
        self.quiet_until = self.quiet_until.max(time + SPAN + 0.1);
        self.open = None;
        self.disarmed = true;
    }

    /// Takes in a frame's cells; returns a transition whose picture is this
    /// frame.
    pub fn push(&mut self, time: f64, cells: &[u8]) -> Option<Transition> {
        let histogram = histogram(cells);
        let step = self
            .recent
            .back()
            .map_or(0.0, |(_, h)| distance(h, &histogram));
        self.steps.push_back((time, step));
        while self
            .steps
            .front()
            .is_some_and(|&(t, _)| t <= time - BASELINE)
        {
            self.steps.pop_front();
        }
        while self.recent.len() > 1 && self.recent[1].0 <= time - SPAN {
            self.recent.pop_front();
        }
        let over_span = self
            .recent
            .front()
            .filter(|(t, _)| *t <= time - SPAN + 0.05)
            .map(|(_, h)| distance(h, &histogram));
        self.recent.push_back((time, histogram));
        let over_span = over_span?;
        let found = self.look_for_transition(time, over_span);
        self.distances.push_back((time, over_span));
        while self
            .distances
            .front()
            .is_some_and(|&(t, _)| t < time - BASELINE)
        {
            self.distances.pop_front();
        }
        if found {
            return None;
        }
        self.picture_due(time, step)
    }

    fn look_for_transition(&mut self, time: f64, over_span: f64) -> bool {
        if over_span < MIN_DISTANCE / 2.0 {
            self.disarmed = false;
        }
        if self.open.is_some() || self.disarmed || time < self.quiet_until {
            return false;
        }
        let mut levels: Vec<f64> = self
            .distances
            .iter()
            .filter(|&&(t, _)| t < time - SPAN)
            .map(|&(_, d)| d)
            .collect();
        if levels.len() < 10 {
            return false;
        }
        levels.sort_by(f64::total_cmp);
        let baseline = levels[levels.len() / 2];
        if over_span < MIN_DISTANCE.max(RATIO * baseline) {
            return false;
        }
        // The distance passes the threshold partway through a transition
        // that began within the span looked back over; when exactly is
        // found once it is over (`began`).
        self.open = Some((time - SPAN, time, None, over_span));
        self.disarmed = true;
        true
    }

    fn picture_due(&mut self, time: f64, step: f64) -> Option<Transition> {
        let (began, found, calm_since, size) = self.open?;
        // A frame-to-frame step well under the transition's mean step per
        // frame (its distance over ~15 frames): the new shot's own motion.
        let calm = step < CALM * size / 15.0;
        let calm_since = if calm {
            calm_since.or(Some(time))
        } else {
            None
        };
        self.open = Some((began, found, calm_since, size));
        let settled = calm_since.is_some_and(|c| time - c >= SETTLE);
        if settled || time - found >= BOUND {
            self.open = None;
            let began = self.began(began.max(self.quiet_until), found);
            // The distance over the span stays high a span longer.
            self.quiet_until = time + SPAN;
            return Some(Transition { began });
        }
        None
    }
}

impl Gradual {
    /// Where, after `from`, the frames began to change fast (`found` if
    /// nothing stands out):
    /// the first frame whose step rises a third of the way from the steps
    /// before (the shot's motion) to the transition's fastest.
    fn began(&self, from: f64, found: f64) -> f64 {
        let mut before: Vec<f64> = self
            .steps
            .iter()
            .filter(|s| s.0 < from)
            .map(|s| s.1)
            .collect();
        before.sort_by(f64::total_cmp);
        let base = before.get(before.len() / 2).copied().unwrap_or(0.0);
        let peak = self
            .steps
            .iter()
            .filter(|s| s.0 >= from)
            .map(|s| s.1)
            .fold(0.0, f64::max);
        let rise = base + (peak - base) / 3.0;
        self.steps
            .iter()
            .find(|s| s.0 >= from && s.1 >= rise)
            .map_or(found, |s| s.0)
    }
}

/// The distribution of cell brightness, normalised to sum 1, from every
/// `SAMPLE_STEP`th cell (8,000 samples at 1080p are plenty for 16 bins, and
/// this runs on every frame).
fn histogram(cells: &[u8]) -> Histogram {
    let mut counts = [0u32; BINS];
    let mut n = 0u32;
    for &c in cells.iter().step_by(SAMPLE_STEP) {
        counts[(c >> 4) as usize] += 1;
        n += 1;
    }
    counts.map(|c| c as f32 / n.max(1) as f32)
}

/// Cells sampled for the histogram.
const SAMPLE_STEP: usize = 4;

/// L1 distance of two histograms, 0..=2.
fn distance(a: &Histogram, b: &Histogram) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs() as f64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cells of a "shot": values spread around `level`, moving with `t`.
    fn shot(level: u8, t: usize) -> Vec<u8> {
        (0..2000)
            .map(|i| level.saturating_add((((i + t * 3) * 2654435761) % 40) as u8))
            .collect()
    }

    #[test]
    fn a_dissolve_between_two_shots_is_one_transition_within_its_span() {
        let mut g = Gradual::default();
        let mut found = Vec::new();
        for f in 0..240 {
            let t = f as f64 / 30.0;
            // Shot A (dark) until 3 s, a 0.8 s dissolve, then shot B (bright).
            let (a, b) = (shot(30, f), shot(170, f));
            let mix = ((t - 3.0) / 0.8).clamp(0.0, 1.0);
            let cells: Vec<u8> = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| (x as f64 * (1.0 - mix) + y as f64 * mix) as u8)
                .collect();
            if let Some(tr) = g.push(t, &cells) {
                found.push((tr.began, t));
            }
        }
        assert_eq!(found.len(), 1, "{found:?}");
        let (began, picture) = found[0];
        assert!((3.0..=3.8).contains(&began), "{began}");
        assert!((3.8..=3.0 + 0.8 + 1.6).contains(&picture), "{picture}");
    }

    #[test]
    fn motion_within_a_shot_is_no_transition() {
        let mut g = Gradual::default();
        for f in 0..300 {
            let t = f as f64 / 30.0;
            // Slow brightness drift and texture motion.
            let cells = shot(60 + (f / 10) as u8, f);
            assert_eq!(g.push(t, &cells), None, "at {t}");
        }
    }
}
