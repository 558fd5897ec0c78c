//! The default detector: three change cues, each measured against its own
//! recent history, then vetoes for what looks like a cut but is not.
//!
//! Cues (each scaled so that 0.3 is a sensible threshold, like ffmpeg's):
//! - pixels: the rise of `mafd` above its recent peak, / 100 (ffmpeg's scale);
//! - blocks: the rise of the share of strongly changed 16x16 blocks, x 5.
//!   This is the one that sees a slide switch where only text changes: low
//!   `mafd`, similar histogram, but 10-60 % of blocks change strongly, while a
//!   cursor, a pop-up or a new line of text changes at most ~3 %;
//! - histogram: the rise of the histogram distance, x 0.5. It sees cuts
//!   between two pictures that both move so much that `mafd` is saturated.
//!
//! "Recent" is the maximum over the last `history` frames, which keeps steady
//! motion, noise, scrolling and typing from scoring at every frame.
//! Vetoes, checked only when the score passes the threshold: a cut within
//! `min_scene_frames` of the last one (flash ends, settle frames); a fade,
//! where one brightness shift explains the pixel and histogram cues; and a
//! scroll, recognised from row profiles.

use std::collections::VecDeque;

use crate::measures::ChangeMeasures;
use crate::scan::FrameDiff;
use crate::scroll;
use crate::Verdict;

/// The default detector's constants. `Default` holds the values the corpus
/// evaluation (`examples/scene_eval.rs`) was run with.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveTuning {
    /// Frames whose peak cues form the baseline.
    pub history: usize,
    /// No second cut within this many frames of the last one.
    pub min_scene_frames: u64,
    /// A block changed "strongly" above this mean absolute difference. Fades
    /// longer than ~10 frames move pixels less than this per frame.
    pub strong_block_mad: u32,
    /// Weight of the pixel cue.
    pub pixel_gain: f64,
    /// Weight of the block cue.
    pub block_gain: f64,
    /// Weight of the histogram cue.
    pub histogram_gain: f64,
    /// A change is a fade when `|mean luma change| / mafd` is above this...
    pub fade_coherence: f64,
    /// ...and `mafd` below this (a bright-to-dark cut is coherent too, but big).
    pub fade_max_mafd: f64,
    /// Scrolls are searched up to this share of the frame height.
    pub max_scroll: f64,
}

impl Default for AdaptiveTuning {
    fn default() -> Self {
        AdaptiveTuning {
            history: 6,
            min_scene_frames: 8,
            strong_block_mad: 24,
            pixel_gain: 0.01,
            block_gain: 5.0,
            histogram_gain: 0.5,
            fade_coherence: 0.85,
            fade_max_mafd: 40.0,
            max_scroll: 1.0 / 3.0,
        }
    }
}

/// The cue values of one frame, after subtracting the recent peaks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cues {
    /// How much more pixels changed than recently.
    pub pixels: f64,
    /// How many more blocks changed strongly than recently.
    pub blocks: f64,
    /// How much more the histogram moved than recently.
    pub histogram: f64,
}

impl Cues {
    /// The strongest cue.
    pub fn max(&self) -> f64 {
        self.pixels.max(self.blocks).max(self.histogram)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct AdaptiveScorer {
    tuning: AdaptiveTuning,
    history: VecDeque<ChangeMeasures>,
    frames_since_cut: u64,
}

impl AdaptiveScorer {
    pub fn new(tuning: AdaptiveTuning) -> Self {
        let history = VecDeque::with_capacity(tuning.history + 1);
        AdaptiveScorer {
            tuning,
            history,
            frames_since_cut: 0,
        }
    }

    pub fn tuning(&self) -> &AdaptiveTuning {
        &self.tuning
    }

    /// A new scene starts without a comparison (first frame, size change).
    pub fn restart(&mut self) {
        self.history.clear();
        self.frames_since_cut = 0;
    }

    pub fn score(
        &mut self,
        diff: &FrameDiff,
        threshold: f64,
    ) -> (f64, Cues, Verdict, ChangeMeasures) {
        let measures = ChangeMeasures::from_diff(diff, self.tuning.strong_block_mad);
        let cues = self.cues(&measures);
        let score = cues.max().clamp(0.0, 1.0);
        self.frames_since_cut += 1;
        let verdict = if score > threshold {
            self.veto(diff, &measures, &cues, threshold)
        } else {
            Verdict::BelowThreshold
        };
        if verdict == Verdict::Cut {
            self.frames_since_cut = 0;
        }
        self.history.push_back(measures);
        if self.history.len() > self.tuning.history {
            self.history.pop_front();
        }
        (score, cues, verdict, measures)
    }

    fn cues(&self, m: &ChangeMeasures) -> Cues {
        let peak = |f: fn(&ChangeMeasures) -> f64| self.history.iter().map(f).fold(0.0, f64::max);
        let t = &self.tuning;
        Cues {
            pixels: (m.mafd - peak(|h| h.mafd)) * t.pixel_gain,
            blocks: (m.strong_blocks - peak(|h| h.strong_blocks)) * t.block_gain,
            histogram: (m.histogram_distance - peak(|h| h.histogram_distance)) * t.histogram_gain,
        }
    }

    /// Why a frame above the threshold is still not a cut, cheapest test first.
    fn veto(&self, diff: &FrameDiff, m: &ChangeMeasures, cues: &Cues, threshold: f64) -> Verdict {
        let t = &self.tuning;
        if self.frames_since_cut < t.min_scene_frames {
            return Verdict::TooSoon;
        }
        // Strong block changes are beyond what a gradual fade does per frame.
        let fade = m.coherence() > t.fade_coherence && m.mafd < t.fade_max_mafd;
        if fade && cues.blocks <= threshold {
            return Verdict::Fade;
        }
        let max_shift = (diff.height as f64 * t.max_scroll) as usize;
        let scrolled =
            scroll::match_rows(&diff.prev_row_sums, &diff.row_sums, diff.width, max_shift);
        if scrolled.is_some_and(|s| s.is_scroll()) {
            return Verdict::Scroll;
        }
        Verdict::Cut
    }
}
