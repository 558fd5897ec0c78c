//! A frame's compact signature: what the screen-event detector compares.
//!
//! Two things are kept of each picture, both made in one pass over its luma:
//! - **cells**: the mean of every 8x8 pixel cell (a 1/8 thumbnail, 240x135
//!   at 1080p). Averaging 64 pixels removes nearly all encoder noise, yet a
//!   changed word, a caret or a recoloured box still moves a cell's mean by
//!   several levels. Comparing thumbnails is ~60x cheaper than comparing
//!   pictures, so a new frame can be compared with the previous one, with the
//!   screen before a change began and with the last picture the agent got.
//! - **band profiles**: for every band of 128 columns, the sum of every
//!   other pixel row. Matching them finds a vertical scroll inside a window
//!   to two pixels.
//!
//! Both come from the even pixel rows only: the pass is bound by reading
//! the picture, and half the rows is half the reading. Text, edges and
//! pictures span rows in pairs; what only an odd row would show (a 1-pixel
//! horizontal rule changing alone) is not worth twice the cost.
//!
//! A signature is ~65 KB at 1080p, so a detector can keep a few and the
//! offline analysis can carry one per picture from its decoding threads.

use crate::error::SceneError;
use crate::kernel::Kernel;
use crate::plane::LumaPlane;

/// Pixels per cell side.
pub const CELL: usize = 8;
/// Columns per band of the row profiles.
pub const BAND: usize = 128;
/// A cell changed when its mean moved this much. Cell means average 64
/// pixels, so encoder noise stays below it, while a changed word of thin
/// text moves it more.
pub const CELL_CHANGE: u8 = 4;

/// The signature of one picture (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSignature {
    width: usize,
    height: usize,
    cells_x: usize,
    cells_y: usize,
    /// Mean luma of each cell, rounded, row-major.
    cells: Vec<u8>,
    bands: usize,
    /// Sampled rows (the even ones: `height.div_ceil(2)`).
    rows: usize,
    /// `band_rows[band * rows + r]`: the sum of pixel row `2 r` over the band.
    band_rows: Vec<u16>,
}

impl FrameSignature {
    /// Computes the signature of `plane` with the best kernel of this CPU.
    pub fn of(plane: &LumaPlane<'_>) -> Result<Self, SceneError> {
        Self::with_kernel(plane, Kernel::best())
    }

    /// Computes the signature with `kernel` (every kernel gives the same
    /// result; an unavailable one falls back to one this CPU runs).
    pub fn with_kernel(plane: &LumaPlane<'_>, kernel: Kernel) -> Result<Self, SceneError> {
        plane.validate()?;
        let mut sig = FrameSignature::empty(plane.width, plane.height);
        let blocks = plane.width / BAND;
        let mut cell_sums = vec![0u16; blocks * (BAND / CELL)];
        let mut band_sums = vec![0u16; blocks * CELL];
        let mut rows: Vec<&[u8]> = Vec::with_capacity(CELL);
        for cy in 0..sig.cells_y {
            let y0 = cy * CELL;
            rows.clear();
            rows.extend(
                (y0..(y0 + CELL).min(plane.height))
                    .step_by(2)
                    .map(|y| plane.row(y)),
            );
            kernel.cell_row(&rows, blocks, &mut cell_sums, &mut band_sums);
            sig.store_cell_row(cy, &rows, blocks, &cell_sums, &band_sums);
        }
        Ok(sig)
    }

    /// Stores the kernel's sums for cell row `cy` and adds the columns right
    /// of the last whole band.
    fn store_cell_row(
        &mut self,
        cy: usize,
        rows: &[&[u8]],
        blocks: usize,
        cell_sums: &[u16],
        band_sums: &[u16],
    ) {
        let (y0, n) = (cy * CELL / 2, rows.len());
        for b in 0..blocks {
            let start = b * self.rows + y0;
            self.band_rows[start..start + n].copy_from_slice(&band_sums[b * n..(b + 1) * n]);
        }
        let out = &mut self.cells[cy * self.cells_x..(cy + 1) * self.cells_x];
        let kernel_cells = blocks * (BAND / CELL);
        if n == CELL / 2 {
            // Whole cells divide by 32 with a shift (a division each cost
            // more than the pixel pass).
            for (o, &sum) in out[..kernel_cells].iter_mut().zip(cell_sums) {
                *o = ((sum as u32 + 16) >> 5) as u8;
            }
        } else {
            for (o, &sum) in out[..kernel_cells].iter_mut().zip(cell_sums) {
                *o = divide_rounded(sum as u32, (CELL * n) as u32);
            }
        }
        let x0 = kernel_cells * CELL;
        if x0 == self.width {
            return;
        }
        // The columns right of the last whole band, in plain Rust.
        let mut edge = [0u32; BAND / CELL];
        for (r, row) in rows.iter().enumerate() {
            let mut band = 0u32;
            for (sum, group) in edge.iter_mut().zip(row[x0..].chunks(CELL)) {
                let t: u32 = group.iter().map(|&p| p as u32).sum();
                *sum += t;
                band += t;
            }
            self.band_rows[blocks * self.rows + y0 + r] = band as u16;
        }
        for (cx, o) in out.iter_mut().enumerate().skip(kernel_cells) {
            let area = CELL.min(self.width - cx * CELL) * n;
            *o = divide_rounded(edge[cx - kernel_cells], area as u32);
        }
    }

    fn empty(width: usize, height: usize) -> Self {
        let cells_x = width.div_ceil(CELL);
        let cells_y = height.div_ceil(CELL);
        let bands = width.div_ceil(BAND);
        let rows = height.div_ceil(2);
        FrameSignature {
            width,
            height,
            cells_x,
            cells_y,
            cells: vec![0; cells_x * cells_y],
            bands,
            rows,
            band_rows: vec![0; bands * rows],
        }
    }

    /// Width of the picture, in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height of the picture, in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Cells per row of the thumbnail.
    pub fn cells_x(&self) -> usize {
        self.cells_x
    }

    /// Cell rows of the thumbnail.
    pub fn cells_y(&self) -> usize {
        self.cells_y
    }

    /// The thumbnail: the mean of each cell, row-major.
    pub fn cells(&self) -> &[u8] {
        &self.cells
    }

    /// Number of column bands.
    pub fn bands(&self) -> usize {
        self.bands
    }

    /// Row sums of `band`, of every other pixel row (entry `r` is pixel row
    /// `2 r`).
    pub fn band_profile(&self, band: usize) -> &[u16] {
        &self.band_rows[band * self.rows..(band + 1) * self.rows]
    }

    /// Whether `other` is a signature of a picture of the same size.
    pub fn same_size(&self, other: &FrameSignature) -> bool {
        self.width == other.width && self.height == other.height
    }

    /// Share of the cells whose mean differs by at least `CELL_CHANGE`
    /// levels from `other`'s (1.0 when the sizes differ): 0 for two frames
    /// of an unchanged screen, whatever the encoder did to them.
    pub fn changed_share(&self, other: &FrameSignature) -> f64 {
        if !self.same_size(other) {
            return 1.0;
        }
        let changed = self
            .cells
            .iter()
            .zip(&other.cells)
            .filter(|(&a, &b)| a.abs_diff(b) >= CELL_CHANGE)
            .count();
        changed as f64 / self.cells.len().max(1) as f64
    }

    /// Bytes held by this signature.
    pub fn heap_bytes(&self) -> usize {
        self.cells.len() + self.band_rows.len() * 2
    }
}

fn divide_rounded(sum: u32, area: u32) -> u8 {
    ((sum + area / 2) / area) as u8
}

/// The scalar reference of `Kernel::cell_row`.
pub(crate) fn cell_row_scalar(
    rows: &[&[u8]],
    blocks: usize,
    cell_sums: &mut [u16],
    band_sums: &mut [u16],
) {
    cell_sums[..blocks * (BAND / CELL)].fill(0);
    for b in 0..blocks {
        for (r, row) in rows.iter().enumerate() {
            let mut band = 0u16;
            for (g, group) in row[b * BAND..(b + 1) * BAND].chunks_exact(CELL).enumerate() {
                let t: u16 = group.iter().map(|&p| p as u16).sum();
                cell_sums[b * (BAND / CELL) + g] += t;
                band += t;
            }
            band_sums[b * rows.len() + r] = band;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plane::OwnedLumaPlane;

    fn plane(width: usize, height: usize, f: impl Fn(usize, usize) -> u8) -> OwnedLumaPlane {
        let data = (0..width * height)
            .map(|i| f(i % width, i / width))
            .collect();
        OwnedLumaPlane::from_packed(data, width, height).unwrap()
    }

    #[test]
    fn cells_are_rounded_means_of_even_rows_edges_included() {
        // 20x11: cells of 8x8, 8x8, 4x8 on the first row; rows 8..11 (even
        // rows 8 and 10) on the last.
        let f = |x: usize, y: usize| (x * 10 + y * 3) as u8;
        let p = plane(20, 11, f);
        let sig = FrameSignature::with_kernel(&p.as_plane(), Kernel::Scalar).unwrap();
        assert_eq!((sig.cells_x(), sig.cells_y()), (3, 2));
        let mean = |xs: std::ops::Range<usize>, ys: std::ops::Range<usize>| {
            let (mut s, mut n) = (0u32, 0u32);
            for y in ys.step_by(2) {
                for x in xs.clone() {
                    s += f(x, y) as u32;
                    n += 1;
                }
            }
            ((s + n / 2) / n) as u8
        };
        assert_eq!(sig.cells()[0], mean(0..8, 0..8));
        assert_eq!(sig.cells()[2], mean(16..20, 0..8));
        assert_eq!(sig.cells()[5], mean(16..20, 8..11));
    }

    #[test]
    fn band_profiles_are_sums_of_even_rows_per_band() {
        let p = plane(300, 5, |x, y| ((x + 3 * y) % 256) as u8);
        let sig = FrameSignature::with_kernel(&p.as_plane(), Kernel::Scalar).unwrap();
        assert_eq!(sig.bands(), 3);
        for band in 0..3 {
            assert_eq!(sig.band_profile(band).len(), 3);
            for r in 0..3 {
                let want: u32 = (band * BAND..((band + 1) * BAND).min(300))
                    .map(|x| ((x + 3 * 2 * r) % 256) as u32)
                    .sum();
                assert_eq!(
                    sig.band_profile(band)[r] as u32,
                    want,
                    "band {band} row {r}"
                );
            }
        }
    }

    #[test]
    fn every_kernel_gives_the_scalar_signature() {
        let p = plane(1366, 77, |x, y| ((x * 7 + y * 13) ^ (x / 3)) as u8);
        let want = FrameSignature::with_kernel(&p.as_plane(), Kernel::Scalar).unwrap();
        for kernel in Kernel::available() {
            let got = FrameSignature::with_kernel(&p.as_plane(), kernel).unwrap();
            assert_eq!(got, want, "{}", kernel.name());
        }
    }
}
