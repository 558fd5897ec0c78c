//! The per-frame numbers the default detector decides from.

use crate::histogram;
use crate::scan::FrameDiff;

/// How the new frame differs from the previous one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangeMeasures {
    /// Mean absolute luma difference per pixel (ffmpeg's `mafd`), 0..=255.
    pub mafd: f64,
    /// Share of 16x16 blocks whose mean absolute difference exceeds the
    /// detector's `strong_block_mad`, 0..=1.
    pub strong_blocks: f64,
    /// Share of histogram mass that changed bin (64 bins), 0..=1.
    pub histogram_distance: f64,
    /// Mean luma of the new frame minus that of the previous one.
    pub mean_luma_change: f64,
}

impl ChangeMeasures {
    /// The measurements of a scanned frame difference; blocks above `strong_block_mad` count as strongly changed.
    pub fn from_diff(diff: &FrameDiff, strong_block_mad: u32) -> Self {
        ChangeMeasures {
            mafd: diff.mafd(),
            strong_blocks: diff.fraction_of_blocks_above(strong_block_mad),
            histogram_distance: histogram::distance(
                &diff.histogram.coarse(),
                &diff.prev_histogram.coarse(),
            ),
            mean_luma_change: diff.mean_luma_change(),
        }
    }

    /// How much of the pixel change one brightness shift explains: 1 when
    /// every pixel moved the same way (a fade), near 0 for motion or cuts.
    pub fn coherence(&self) -> f64 {
        if self.mafd <= 0.0 {
            0.0
        } else {
            (self.mean_luma_change.abs() / self.mafd).min(1.0)
        }
    }
}
