//! Recognising a vertical scroll from row profiles (the sum of each row).
//!
//! Scrolling a document changes most blocks of the screen, exactly like a
//! slide switch, but the new frame is the old one moved up or down. Row sums
//! are computed for free in the SAD pass; matching the profiles over a range
//! of shifts costs a few hundred microseconds at 1080p, so the detector only
//! asks when a frame is already a cut candidate.

/// The best vertical alignment of two row profiles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScrollMatch {
    /// Rows the content moved up (negative: down).
    pub shift: isize,
    /// Mean |row sum difference| per pixel at `shift`, in luma levels.
    pub residual: f64,
    /// The same without shifting.
    pub unshifted_residual: f64,
}

impl ScrollMatch {
    /// The frame is the previous one moved: aligned rows match far better
    /// than unaligned ones, and almost perfectly.
    pub fn is_scroll(&self) -> bool {
        self.shift != 0 && self.residual <= 0.2 * self.unshifted_residual && self.residual < 1.0
    }
}

/// Finds the shift in `-max_shift..=max_shift` that best aligns `cur` with
/// `prev` (`cur[y] ~ prev[y + shift]`). `width` scales sums to per-pixel.
/// `None` when the profiles differ in length or are too short to compare.
pub fn match_rows(
    prev: &[u32],
    cur: &[u32],
    width: usize,
    max_shift: usize,
) -> Option<ScrollMatch> {
    let rows = cur.len();
    if prev.len() != rows || rows < 8 || width == 0 {
        return None;
    }
    let max_shift = max_shift.min(rows / 2) as isize;
    let unshifted_residual = residual(prev, cur, 0)? / width as f64;
    let mut best = ScrollMatch {
        shift: 0,
        residual: unshifted_residual,
        unshifted_residual,
    };
    for shift in (-max_shift..=max_shift).filter(|&s| s != 0) {
        let Some(r) = residual(prev, cur, shift) else {
            continue;
        };
        let r = r / width as f64;
        if r < best.residual {
            best.shift = shift;
            best.residual = r;
        }
    }
    Some(best)
}

/// Mean |cur[y] - prev[y + shift]| over the rows both cover.
fn residual(prev: &[u32], cur: &[u32], shift: isize) -> Option<f64> {
    let rows = cur.len() as isize;
    let (from, to) = (0.max(-shift), rows.min(rows - shift));
    if to - from <= 0 {
        return None;
    }
    let (from, to) = (from as usize, to as usize);
    let prev_from = (from as isize + shift) as usize;
    let total: u64 = cur[from..to]
        .iter()
        .zip(&prev[prev_from..prev_from + (to - from)])
        .map(|(&c, &p)| c.abs_diff(p) as u64)
        .sum();
    Some(total as f64 / (to - from) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(len: usize, seed: u32) -> Vec<u32> {
        (0..len as u32)
            .map(|y| {
                (y.wrapping_mul(2654435761) ^ seed) % 5000 + if y % 30 < 12 { 20_000 } else { 0 }
            })
            .collect()
    }

    #[test]
    fn finds_a_scroll_in_either_direction() {
        let page = profile(300, 7);
        let prev = &page[40..240];
        for shift in [-25isize, -3, 3, 25] {
            let start = (40 + shift) as usize;
            let cur = &page[start..start + 200];
            let m = match_rows(prev, cur, 100, 60).unwrap();
            assert_eq!(m.shift, shift);
            assert!(m.is_scroll(), "{m:?}");
        }
    }

    #[test]
    fn unrelated_content_is_not_a_scroll() {
        let m = match_rows(&profile(200, 1), &profile(200, 99), 100, 60).unwrap();
        assert!(!m.is_scroll(), "{m:?}");
        let same = profile(200, 1);
        assert!(!match_rows(&same, &same, 100, 60).unwrap().is_scroll());
        assert_eq!(match_rows(&same, &same[..100], 100, 60), None);
    }
}
