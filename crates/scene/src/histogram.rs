//! Luma histograms on a subsampled grid, and the distance between two.
//!
//! A 256-bin histogram over every pixel of a 1080p frame costs ~580 µs (each
//! increment depends on memory), ten times the whole per-frame budget. A
//! histogram compares *distributions*, so ~8 000 samples give the same
//! answer (the sampling noise of the distance, ~0.05, is far below
//! what the detector reacts to): `SampleGrid` picks the spacing from the frame size.

use crate::error::SceneError;
use crate::plane::LumaPlane;

pub const BINS: usize = 256;
/// Bins after coarsening for the distance: 4 levels per bin, so that codec
/// noise mostly stays within a bin.
pub const COARSE_BINS: usize = 64;
/// About this many samples per frame, whatever the resolution.
pub const TARGET_SAMPLES: usize = 8_000;
/// Interleaved partial histograms: consecutive samples often share a value,
/// and one table would serialise on the same counter.
const PARTIALS: usize = 4;

/// Where histogram samples fall: one row in each band of `step` rows, and in
/// that row every `step`-th pixel from an offset. Row and offset vary from
/// band to band (a fixed hash), so periodic content cannot alias with the
/// grid: a Sierpinski carpet has period 3, and a plain 3x3 grid saw it flip
/// between all-white and all-black as it moved by one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleGrid {
    step: usize,
}

impl SampleGrid {
    /// About `TARGET_SAMPLES` samples for a `width` x `height` plane.
    pub fn for_size(width: usize, height: usize) -> Self {
        let ratio = (width * height) as f64 / TARGET_SAMPLES as f64;
        Self::with_step(ratio.sqrt().floor() as usize)
    }

    /// `step` 0 is treated as 1 (every pixel).
    pub fn with_step(step: usize) -> Self {
        SampleGrid { step: step.max(1) }
    }

    pub fn step(&self) -> usize {
        self.step
    }

    /// The sampled row of band `band` (rows `band * step ..`) and the column
    /// of its first sample. The row may lie past the plane's last row.
    pub fn sample_of_band(&self, band: usize) -> (usize, usize) {
        // Lemire's multiply-shift maps a 32-bit hash onto 0..step without a
        // division (this runs for every band of every frame).
        let pick = |salt: u32| {
            let hash = ((band as u32) ^ salt).wrapping_mul(0x9e37_79b1);
            ((hash as u64 * self.step as u64) >> 32) as usize
        };
        (band * self.step + pick(0), pick(0x5bd1_e995))
    }

    /// The sampled rows among rows `rows` (as `(y, first column)`).
    pub fn samples_in(
        &self,
        rows: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (usize, usize)> + '_ {
        let bands = rows.start / self.step..rows.end.div_ceil(self.step);
        bands
            .map(|b| self.sample_of_band(b))
            .filter(move |(y, _)| rows.contains(y))
    }

    /// The column of the first sample in row `y`, if row `y` is sampled.
    pub fn row_start(&self, y: usize) -> Option<usize> {
        let (row, x0) = self.sample_of_band(y / self.step);
        (row == y).then_some(x0)
    }
}

/// A luma histogram being filled row by row, then read as a whole.
#[derive(Clone, Debug)]
pub struct LumaHistogram {
    partials: [[u32; BINS]; PARTIALS],
}

impl Default for LumaHistogram {
    fn default() -> Self {
        LumaHistogram {
            partials: [[0; BINS]; PARTIALS],
        }
    }
}

impl LumaHistogram {
    /// The histogram of `plane`'s samples on `grid` (same as `scalar::histogram`).
    pub fn compute(plane: &LumaPlane<'_>, grid: SampleGrid) -> Result<Self, SceneError> {
        plane.validate()?;
        let mut hist = LumaHistogram::default();
        for (y, x0) in grid.samples_in(0..plane.height) {
            hist.add_samples(plane.row(y), x0, grid.step());
        }
        Ok(hist)
    }

    pub fn clear(&mut self) {
        self.partials = [[0; BINS]; PARTIALS];
    }

    /// Adds pixels `x0, x0 + step, x0 + 2 * step, ...` of `row`.
    pub fn add_samples(&mut self, row: &[u8], x0: usize, step: usize) {
        let step = step.max(1);
        let [p0, p1, p2, p3] = &mut self.partials;
        let mut x = x0;
        while x + 3 * step < row.len() {
            p0[row[x] as usize] += 1;
            p1[row[x + step] as usize] += 1;
            p2[row[x + 2 * step] as usize] += 1;
            p3[row[x + 3 * step] as usize] += 1;
            x += 4 * step;
        }
        while x < row.len() {
            p0[row[x] as usize] += 1;
            x += step;
        }
    }

    /// Adds another histogram's counts (partial results of parallel bands).
    pub fn merge(&mut self, other: &LumaHistogram) {
        for (mine, theirs) in self.partials.iter_mut().zip(&other.partials) {
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += t;
            }
        }
    }

    pub fn bins(&self) -> [u32; BINS] {
        let mut bins = [0u32; BINS];
        for partial in &self.partials {
            for (b, p) in bins.iter_mut().zip(partial) {
                *b += p;
            }
        }
        bins
    }

    /// Normalised coarse histogram (sums to 1; all zeros if empty).
    pub fn coarse(&self) -> [f64; COARSE_BINS] {
        // Integer sums first (they vectorise), floating point for 64 bins only.
        let mut counts = [0u32; COARSE_BINS];
        for partial in &self.partials {
            for (count, fine) in counts
                .iter_mut()
                .zip(partial.chunks_exact(BINS / COARSE_BINS))
            {
                *count += fine.iter().sum::<u32>();
            }
        }
        let total: u64 = counts.iter().map(|&c| c as u64).sum();
        let scale = if total == 0 { 0.0 } else { 1.0 / total as f64 };
        counts.map(|c| c as f64 * scale)
    }
}

/// Half the L1 distance of two normalised coarse histograms: 0 for equal
/// distributions, 1 for disjoint ones (the share of pixels that moved bin).
pub fn distance(a: &[f64; COARSE_BINS], b: &[f64; COARSE_BINS]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_fill_matches_the_reference_on_every_remainder() {
        let data: Vec<u8> = (0..997u32).map(|i| (i * 37 % 251) as u8).collect();
        for width in [1, 2, 3, 4, 5, 7, 9, 31, 97] {
            for step in 1..6 {
                let plane = LumaPlane::packed(&data[..width * 10], width, 10).unwrap();
                let grid = SampleGrid::with_step(step);
                let fast = LumaHistogram::compute(&plane, grid).unwrap().bins();
                assert_eq!(
                    fast,
                    crate::scalar::histogram(&plane, grid).unwrap(),
                    "w {width} step {step}"
                );
            }
        }
    }

    #[test]
    fn distance_spans_zero_to_one() {
        let every = SampleGrid::with_step(1);
        let dark =
            LumaHistogram::compute(&LumaPlane::packed(&[0; 64], 8, 8).unwrap(), every).unwrap();
        let light =
            LumaHistogram::compute(&LumaPlane::packed(&[255; 64], 8, 8).unwrap(), every).unwrap();
        assert_eq!(distance(&dark.coarse(), &dark.coarse()), 0.0);
        assert!((distance(&dark.coarse(), &light.coarse()) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn grid_keeps_the_sample_count_near_the_target() {
        assert_eq!(SampleGrid::for_size(160, 120).step(), 1);
        for (w, h) in [(1280, 720), (1920, 1080), (3840, 2160)] {
            let grid = SampleGrid::for_size(w, h);
            let rows: Vec<usize> = (0..h).filter_map(|y| grid.row_start(y)).collect();
            let samples: usize = rows.iter().map(|&x0| (w - x0).div_ceil(grid.step())).sum();
            assert!(
                (TARGET_SAMPLES..2 * TARGET_SAMPLES).contains(&samples),
                "{w}x{h}: {samples}"
            );
            // One sampled row per band, with offsets that are not all equal.
            assert_eq!(rows.len(), h.div_ceil(grid.step()));
            assert!(rows.iter().any(|&x0| x0 != rows[0]));
        }
    }
}
