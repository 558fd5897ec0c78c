//! Where each coded audio frame belongs on the audio clock.
//!
//! Within a run of audio, time is counted in samples from the run's first
//! PTS; a frame's own PTS only decides whether audio was lost before it
//! (fill with silence), whether it repeats audio already placed (drop), or
//! whether the clock jumped so far that a new run must start.

use cht_core::CLOCK_HZ;

/// A PTS more than this many frames off the expected time is a gap or overlap.
const TOLERANCE_FRAMES: f64 = 1.5;
/// Gaps longer than this are not filled: they start a new run instead, whose
/// chunk times come from the PTS again (a sender restart must not produce
/// hours of silence).
pub(crate) const MAX_FILL_SECS: f64 = 30.0;

/// What to do with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Decode it at the expected position.
    InSequence,
    /// Insert this many frames of silence first.
    AfterGap(u64),
    /// It lies in audio already placed: drop it.
    Overlap,
    /// The clock jumped: end the run and start a new one at this frame.
    Discontinuity,
}

#[derive(Debug, Clone)]
pub(crate) struct Timeline {
    anchor_pts: i64,
    sample_rate: u32,
    /// Samples per channel of one frame.
    frame_samples: usize,
    /// Frames placed since the anchor, silence included.
    frames: u64,
}

impl Timeline {
    pub(crate) fn new(anchor_pts: i64, sample_rate: u32, frame_samples: usize) -> Self {
        Timeline {
            anchor_pts,
            sample_rate,
            frame_samples,
            frames: 0,
        }
    }

    fn frame_ticks(&self) -> f64 {
        self.frame_samples as f64 * CLOCK_HZ as f64 / self.sample_rate as f64
    }

    /// Expected PTS of the next frame, 90 kHz.
    fn expected_pts(&self) -> f64 {
        self.anchor_pts as f64 + self.frames as f64 * self.frame_ticks()
    }

    pub(crate) fn place(&self, pts: i64) -> Placement {
        let ticks = self.frame_ticks();
        let offset = pts as f64 - self.expected_pts();
        if offset.abs() > MAX_FILL_SECS * CLOCK_HZ as f64 {
            Placement::Discontinuity
        } else if offset > TOLERANCE_FRAMES * ticks {
            Placement::AfterGap((offset / ticks).round() as u64)
        } else if offset < -TOLERANCE_FRAMES * ticks {
            Placement::Overlap
        } else {
            Placement::InSequence
        }
    }

    pub(crate) fn advance(&mut self, frames: u64) {
        self.frames += frames;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_gaps_overlaps_and_jumps() {
        let mut t = Timeline::new(1000, 48000, 1024);
        assert_eq!(t.place(1000), Placement::InSequence);
        t.advance(1);
        // Jitter of less than 1.5 frames (1920 ticks each) is ignored.
        assert_eq!(t.place(1000 + 1920 + 2000), Placement::InSequence);
        // Three frames lost.
        assert_eq!(t.place(1000 + 4 * 1920 + 10), Placement::AfterGap(3));
        assert_eq!(t.place(1000 - 1920 * 2), Placement::Overlap);
        assert_eq!(t.place(1000 + 90_000 * 40), Placement::Discontinuity);
        assert_eq!(t.place(1000 - 90_000 * 40), Placement::Discontinuity);
    }
}
