//! MPEG 90 kHz timestamps: unwrapping the 33-bit PTS/DTS counter.

/// PTS/DTS fields are 33 bits wide and wrap every 2^33 ticks (~26.5 h).
pub const PTS_WRAP: i64 = 1 << 33;

/// Turns 33-bit PTS/DTS values into a monotonic-ish 64-bit timeline.
///
/// One unwrapper is shared by all tracks of a connection, so audio and video
/// cross a wrap together and never drift apart by 2^33 ticks. Each value is
/// placed on the 2^33 lap that puts it nearest the last value seen, which
/// also tolerates DTS < PTS ordering and audio slightly behind video.
#[derive(Debug, Default, Clone)]
pub struct PtsUnwrapper {
    last: Option<i64>,
}

impl PtsUnwrapper {
    /// An unwrapper that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Places a raw 33-bit timestamp on the 64-bit timeline.
    pub fn extend(&mut self, raw: u64) -> i64 {
        let raw = (raw as i64) & (PTS_WRAP - 1);
        let v = match self.last {
            None => raw,
            Some(last) => {
                let lap = last.div_euclid(PTS_WRAP);
                [lap - 1, lap, lap + 1]
                    .into_iter()
                    .map(|l| l * PTS_WRAP + raw)
                    .min_by_key(|c| (c - last).abs())
                    .unwrap_or(raw)
            }
        };
        self.last = Some(v);
        v
    }

    /// Forgets the timeline, e.g. when a new sender connects.
    pub fn reset(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwraps_across_the_33_bit_wrap_for_all_tracks() {
        let mut u = PtsUnwrapper::new();
        let near_end = PTS_WRAP - 3000;
        assert_eq!(u.extend(near_end as u64), near_end);
        // video crosses the wrap
        assert_eq!(u.extend(100), PTS_WRAP + 100);
        // audio is still slightly before the wrap: stays on the old lap
        assert_eq!(u.extend((PTS_WRAP - 1000) as u64), PTS_WRAP - 1000);
        assert_eq!(u.extend(4000), PTS_WRAP + 4000);
    }

    #[test]
    fn high_bits_are_ignored() {
        let mut u = PtsUnwrapper::new();
        assert_eq!(u.extend((1u64 << 40) | 5), 5);
    }
}
