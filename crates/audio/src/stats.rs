//! Counters of what the audio stage did, and a rate limit for its warnings.

use std::time::{Duration, Instant};

/// Counts since the pipeline was created. Damage is counted here, not raised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct AudioStats {
    /// Frames given to `push`.
    pub frames_in: u64,
    /// Frames decoded into samples.
    pub frames_decoded: u64,
    /// Frames that failed to decode; each became 1024 samples of silence.
    pub decode_errors: u64,
    /// PTS gaps filled with silence, and the frames of silence they took.
    pub gaps: u64,
    /// Frames of silence the gaps took.
    pub gap_frames: u64,
    /// Frames whose PTS fell in audio already placed.
    pub frames_dropped: u64,
    /// Frames skipped because their configuration cannot be decoded.
    pub frames_unsupported: u64,
    /// PTS jumps too large to fill: a new run (and chunk) was started.
    pub discontinuities: u64,
    /// Chunks finished.
    pub chunks_written: u64,
    /// Sample frames (at the output rate) in finished chunks.
    pub frames_out: u64,
}

impl std::ops::AddAssign for AudioStats {
    /// Totals over several pipelines (one per segment).
    fn add_assign(&mut self, b: AudioStats) {
        self.frames_in += b.frames_in;
        self.frames_decoded += b.frames_decoded;
        self.decode_errors += b.decode_errors;
        self.gaps += b.gaps;
        self.gap_frames += b.gap_frames;
        self.frames_dropped += b.frames_dropped;
        self.frames_unsupported += b.frames_unsupported;
        self.discontinuities += b.discontinuities;
        self.chunks_written += b.chunks_written;
        self.frames_out += b.frames_out;
    }
}

/// Lets one warning through per interval and says how many were held back.
#[derive(Debug)]
pub(crate) struct RateLimit {
    interval: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimit {
    pub(crate) fn new(interval: Duration) -> Self {
        RateLimit {
            interval,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(suppressed_since_last)` when this event may be logged.
    pub(crate) fn allow(&mut self) -> Option<u64> {
        let now = Instant::now();
        match self.last {
            Some(t) if now.duration_since(t) < self.interval => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_lets_the_first_through_and_counts_the_rest() {
        let mut r = RateLimit::new(Duration::from_secs(3600));
        assert_eq!(r.allow(), Some(0));
        assert_eq!(r.allow(), None);
        assert_eq!(r.allow(), None);
        let mut r0 = RateLimit::new(Duration::ZERO);
        assert_eq!(r0.allow(), Some(0));
        assert_eq!(r0.allow(), Some(0));
    }
}
