//! One track's MP4 timeline: source timestamps (90 kHz, possibly jumping,
//! wrapping or jittering) become monotonic positions in the track timescale
//! with positive sample durations.
//!
//! Why a separate state per track: MP4 derives each decode time from the
//! previous one plus a duration, so a single bad timestamp would otherwise
//! corrupt every later sample of the track.

use cht_core::CLOCK_HZ;

/// Longest believable sample duration; anything longer is a timestamp jump.
const MAX_SAMPLE_DURATION_SECONDS: i64 = 10;

/// Converts 90 kHz ticks to `timescale` units, rounding to nearest.
pub(crate) fn rescale_90k(ticks: i64, timescale: u32) -> i64 {
    let scaled =
        (ticks as i128 * timescale as i128 + (CLOCK_HZ / 2) as i128).div_euclid(CLOCK_HZ as i128);
    scaled.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Where a newly pushed sample lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placement {
    /// Position of the new sample in track units (segment origin not yet subtracted).
    pub position: i64,
    /// Duration of the sample placed before it, now that it is known.
    pub previous_duration: Option<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct Timeline {
    timescale: u32,
    /// Audio only: every frame lasts exactly this many units.
    frame_step: Option<u32>,
    /// Duration used when there is no previous one to copy.
    default_duration: u32,
    /// Added to incoming positions since the last jump.
    rebase: i64,
    newest: Option<i64>,
    last_duration: Option<u32>,
    pub(crate) first_ts_90k: Option<i64>,
    pub(crate) jumps: u64,
    pub(crate) gaps: u64,
}

impl Timeline {
    pub(crate) fn video() -> Self {
        Self::new(CLOCK_HZ, None, CLOCK_HZ / 30)
    }

    pub(crate) fn audio(sample_rate: u32, samples_per_frame: u32) -> Self {
        Self::new(sample_rate, Some(samples_per_frame), samples_per_frame)
    }

    fn new(timescale: u32, frame_step: Option<u32>, default_duration: u32) -> Self {
        Timeline {
            timescale,
            frame_step,
            default_duration,
            rebase: 0,
            newest: None,
            last_duration: None,
            first_ts_90k: None,
            jumps: 0,
            gaps: 0,
        }
    }

    pub(crate) fn timescale(&self) -> u32 {
        self.timescale
    }

    /// Duration for the last sample of a segment, which has no successor.
    pub(crate) fn closing_duration(&self) -> u32 {
        self.frame_step
            .or(self.last_duration)
            .unwrap_or(self.default_duration)
    }

    /// Places a sample with source time `ts_90k`. `floor` is the lowest
    /// position the track's first sample may take (the segment origin, once
    /// fixed), so a late-starting track never gets negative decode times.
    pub(crate) fn place(&mut self, ts_90k: i64, floor: Option<i64>) -> Placement {
        let incoming = rescale_90k(ts_90k, self.timescale).saturating_add(self.rebase);
        let Some(previous) = self.newest else {
            self.first_ts_90k = Some(ts_90k);
            let position = match floor {
                Some(f) if incoming < f => {
                    self.rebase = self.rebase.saturating_add(f - incoming);
                    f
                }
                _ => incoming,
            };
            self.newest = Some(position);
            return Placement {
                position,
                previous_duration: None,
            };
        };
        let (duration, jumped) = self.duration_from(previous, incoming);
        let position = previous.saturating_add(i64::from(duration));
        if jumped {
            // The rest of the track moves with the clamped sample, so one
            // jump costs one sample duration, not a broken timeline.
            self.rebase = self
                .rebase
                .saturating_add(position.saturating_sub(incoming));
        }
        self.newest = Some(position);
        self.last_duration = Some(duration);
        Placement {
            position,
            previous_duration: Some(duration),
        }
    }

    /// The previous sample's duration given the next incoming position, and
    /// whether the incoming timestamp was a jump (not taken literally).
    fn duration_from(&mut self, previous: i64, incoming: i64) -> (u32, bool) {
        let max = MAX_SAMPLE_DURATION_SECONDS * i64::from(self.timescale);
        let delta = incoming.saturating_sub(previous);
        match self.frame_step {
            Some(step) => {
                let step = i64::from(step);
                if delta.saturating_sub(step).unsigned_abs() <= step as u64 {
                    // Jitter within a frame: stay on the exact frame grid.
                    // No rebase, so a slow drift still surfaces as a gap.
                    (step as u32, false)
                } else if delta > step && delta <= max {
                    self.gaps += 1;
                    (delta as u32, false)
                } else {
                    self.jumps += 1;
                    (step as u32, true)
                }
            }
            None if delta > 0 && delta <= max => (delta as u32, false),
            None => {
                self.jumps += 1;
                (self.last_duration.unwrap_or(self.default_duration), true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place_all(t: &mut Timeline, ts: &[i64]) -> Vec<(i64, Option<u32>)> {
        ts.iter()
            .map(|&x| t.place(x, None))
            .map(|p| (p.position, p.previous_duration))
            .collect()
    }

    #[test]
    fn regular_video_keeps_source_timestamps() {
        let mut t = Timeline::video();
        let got = place_all(&mut t, &[1000, 4000, 7000, 10003]);
        assert_eq!(
            got,
            vec![
                (1000, None),
                (4000, Some(3000)),
                (7000, Some(3000)),
                (10003, Some(3003))
            ]
        );
        assert_eq!(t.jumps, 0);
    }

    #[test]
    fn video_jumps_are_clamped_and_rebased() {
        let mut t = Timeline::video();
        let hour = 3600 * 90_000;
        let got = place_all(
            &mut t,
            &[0, 3000, 6000 + hour, 9000 + hour, 3000, 6000, 6000],
        );
        let positions: Vec<i64> = got.iter().map(|g| g.0).collect();
        assert_eq!(positions, vec![0, 3000, 6000, 9000, 12000, 15000, 18000]);
        assert_eq!(t.jumps, 3, "forward hour, backwards, duplicate DTS");
        assert_eq!(t.closing_duration(), 3000);
    }

    #[test]
    fn audio_snaps_jitter_and_reanchors_on_gaps() {
        // 48 kHz: one AAC frame = 1920 ticks of 90 kHz.
        let mut t = Timeline::audio(48_000, 1024);
        // Frames 0, 1, 2 with jitter, then frames 3 and 4 lost.
        let got = place_all(&mut t, &[0, 1921, 3839, 1920 * 5, 1920 * 6]);
        let positions: Vec<i64> = got.iter().map(|g| g.0).collect();
        assert_eq!(positions, vec![0, 1024, 2048, 1024 * 5, 1024 * 6]);
        assert_eq!(got[3].1, Some(3072));
        assert_eq!((t.gaps, t.jumps), (1, 0));
        // Backwards by a second: clamped to one frame, timeline continues.
        let p = t.place(1920 * 7 - 90_000, None);
        assert_eq!(p.position, 1024 * 7);
        assert_eq!(t.jumps, 1);
        let p = t.place(1920 * 8 - 90_000, None);
        assert_eq!((p.position, p.previous_duration), (1024 * 8, Some(1024)));
        assert_eq!(t.jumps, 1);
    }

    #[test]
    fn first_sample_respects_the_floor() {
        let mut t = Timeline::audio(48_000, 1024);
        assert_eq!(t.place(900, Some(1000)).position, 1000);
        assert_eq!(t.place(900 + 1920, None).position, 2024);
    }

    #[test]
    fn garbage_timestamps_do_not_overflow() {
        let mut t = Timeline::video();
        for ts in [i64::MAX, i64::MIN, 0, i64::MAX / 2, -5] {
            t.place(ts, None);
        }
        assert!(t.jumps >= 3);
    }
}
