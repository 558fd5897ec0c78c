//! The one pass over each new frame that every measurement comes from.
//!
//! Reading two 1080p planes is ~4 MB of memory traffic and dominates the
//! per-frame time (a bare AVX2 SAD takes ~44 µs here); so the scanner reads
//! each pixel once and, in that pass, computes the SAD of every 16x16 block
//! (hence the global SAD) and each row's sum (a profile for the scroll
//! test). Chunk by chunk, while the
//! rows are still in cache, the subsampled histogram takes its samples and
//! the stored copy of the new frame (if any) is made.

use rayon::prelude::*;

pub use crate::blocks::BLOCK;
use crate::error::SceneError;
use crate::histogram::{LumaHistogram, SampleGrid};
use crate::kernel::Kernel;
use crate::plane::LumaPlane;

/// Bands per kernel call: few calls per frame, yet a chunk's rows (~250 KB at
/// 1080p) are still in L2 when the stored copy is made.
const BANDS_PER_CHUNK: usize = 8;

/// What changed between the previous frame and the one just scanned.
#[derive(Debug, Clone, Default)]
pub struct FrameDiff {
    /// Width of both frames.
    pub width: usize,
    /// Height of both frames.
    pub height: usize,
    /// Sum of absolute differences over the whole frame.
    pub sad: u64,
    /// SAD of each 16x16 block, row-major, `blocks_x` per row; edge blocks
    /// may be smaller (see `block_area`).
    pub block_sads: Vec<u32>,
    /// Blocks per row.
    pub blocks_x: usize,
    /// Rows of blocks.
    pub blocks_y: usize,
    /// Sum of each row of the new frame, and of the previous one.
    pub row_sums: Vec<u32>,
    /// Sum of each row of the previous frame.
    pub prev_row_sums: Vec<u32>,
    /// Subsampled histograms of the new and the previous frame (boxed: they
    /// trade places every frame, and a 4 KB copy each time showed up).
    pub histogram: Box<LumaHistogram>,
    /// Subsampled histogram of the previous frame.
    pub prev_histogram: Box<LumaHistogram>,
}

impl FrameDiff {
    /// Pixels in block (`bx`, `by`).
    pub fn block_area(&self, bx: usize, by: usize) -> usize {
        let w = BLOCK.min(self.width - bx * BLOCK);
        let h = BLOCK.min(self.height - by * BLOCK);
        w * h
    }

    /// Mean absolute difference per pixel (ffmpeg's `mafd` at 8 bits).
    pub fn mafd(&self) -> f64 {
        self.sad as f64 / (self.width * self.height) as f64
    }

    /// Share of blocks whose mean absolute difference exceeds `mad`.
    pub fn fraction_of_blocks_above(&self, mad: u32) -> f64 {
        let blocks = self.blocks_x * self.blocks_y;
        if blocks == 0 {
            return 0.0;
        }
        let full_limit = mad * (BLOCK * BLOCK) as u32;
        let mut count = 0usize;
        for (by, row) in self.block_sads.chunks(self.blocks_x).enumerate() {
            let full_rows = (by + 1) * BLOCK <= self.height;
            let full_cols = self.width / BLOCK;
            let interior = if full_rows {
                &row[..full_cols]
            } else {
                &row[..0]
            };
            // Interior blocks share one limit: a branch-free count the
            // compiler vectorises (u32 lanes: a row has < 2^32 blocks).
            // Edge blocks are smaller and checked apart.
            count += interior
                .iter()
                .map(|&s| (s > full_limit) as u32)
                .sum::<u32>() as usize;
            for (bx, &s) in row.iter().enumerate().skip(interior.len()) {
                count += (s as usize > mad as usize * self.block_area(bx, by)) as usize;
            }
        }
        count as f64 / blocks as f64
    }

    /// Change of the mean luma (new minus previous), exact, from the row sums.
    pub fn mean_luma_change(&self) -> f64 {
        let sum = |rows: &[u32]| rows.iter().map(|&r| r as i64).sum::<i64>();
        (sum(&self.row_sums) - sum(&self.prev_row_sums)) as f64 / (self.width * self.height) as f64
    }
}

/// Where the previous frame's pixels come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Previous {
    /// Nothing to compare with.
    Nothing,
    /// The scanner's own copy of the last frame (`scan`).
    Stored,
    /// The last frame was the caller's (`scan_after`): its profile and
    /// histogram are known, its pixels are not kept.
    Borrowed,
}

/// How much a scan measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measures {
    /// Everything in [`FrameDiff`]: the SAD of every block, row sums and
    /// histograms.
    All,
    /// Only the total SAD (`sad`, `width`, `height`), which is all ffmpeg's
    /// score needs: the bare SAD pass is a fifth faster than the full one.
    /// The other fields of the diff are left as they were.
    SadOnly,
}

/// Holds what it needs of the previous frame and scans each new one against it.
#[derive(Debug)]
pub struct FrameScanner {
    kernel: Kernel,
    measures: Measures,
    parallel: bool,
    /// The stored previous frame, packed (`scan` only).
    prev: Vec<u8>,
    grid: SampleGrid,
    diff: FrameDiff,
    previous: Previous,
}

impl FrameScanner {
    /// A scanner that measures everything (see [`FrameScanner::measuring`]).
    pub fn new(kernel: Kernel) -> Self {
        FrameScanner {
            kernel,
            measures: Measures::All,
            parallel: false,
            prev: Vec::new(),
            grid: SampleGrid::with_step(1),
            diff: FrameDiff::default(),
            previous: Previous::Nothing,
        }
    }

    /// Measures no more than `measures` from now on.
    pub fn measuring(mut self, measures: Measures) -> Self {
        self.measures = measures;
        self
    }

    /// What each scan measures.
    pub fn measures(&self) -> Measures {
        self.measures
    }

    /// Splits frames into chunks of rows across rayon's pool.
    pub fn set_parallel(&mut self, parallel: bool) {
        self.parallel = parallel;
    }

    /// The kernel the scans run on.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Whether a frame of this size was scanned last (and not `reset`).
    pub fn continues_with(&self, plane: &LumaPlane<'_>) -> bool {
        self.previous != Previous::Nothing && self.same_size(plane)
    }

    /// Forgets the previous frame.
    pub fn reset(&mut self) {
        self.previous = Previous::Nothing;
    }

    /// Scans `cur` against the stored copy of the previous frame, then keeps
    /// a copy of `cur`. `None` for the first frame, after a size change, or
    /// after `scan_after`.
    pub fn scan(&mut self, cur: &LumaPlane<'_>) -> Result<Option<&FrameDiff>, SceneError> {
        cur.validate()?;
        let continues = self.previous == Previous::Stored && self.same_size(cur);
        if !self.same_size(cur) {
            self.resize(cur.width, cur.height);
        }
        if self.prev.len() != cur.pixel_count() {
            self.prev = vec![0; cur.pixel_count()];
        }
        self.advance();
        let mut prev = std::mem::take(&mut self.prev);
        let scanned = self.scan_pair(&mut prev, None, cur);
        self.prev = prev;
        scanned?;
        self.previous = Previous::Stored;
        Ok(continues.then_some(&self.diff))
    }

    /// Scans `cur` against `prev`, which the caller kept: no copy is made.
    /// `prev` should be the frame scanned last; when it is not (a spot check
    /// of row sums), or nothing was scanned yet, its profile and histogram are
    /// first computed from it. Fails if the two differ in size.
    pub fn scan_after(
        &mut self,
        prev: &LumaPlane<'_>,
        cur: &LumaPlane<'_>,
    ) -> Result<&FrameDiff, SceneError> {
        crate::scalar::check_pair(prev, cur)?;
        if !self.same_size(cur) {
            self.resize(cur.width, cur.height);
            self.previous = Previous::Nothing;
        }
        let needs_profile = self.measures == Measures::All
            && (self.previous == Previous::Nothing || !self.profile_matches(prev));
        if needs_profile {
            // Scanning `prev` against itself yields its profile and histogram.
            self.advance();
            self.scan_pair(&mut [], Some(prev), prev)?;
        }
        self.advance();
        self.scan_pair(&mut [], Some(prev), cur)?;
        self.previous = Previous::Borrowed;
        Ok(&self.diff)
    }

    fn same_size(&self, plane: &LumaPlane<'_>) -> bool {
        self.diff.width == plane.width && self.diff.height == plane.height
    }

    /// The new frame's results become the previous frame's.
    fn advance(&mut self) {
        std::mem::swap(&mut self.diff.row_sums, &mut self.diff.prev_row_sums);
        std::mem::swap(&mut self.diff.histogram, &mut self.diff.prev_histogram);
    }

    /// Do two row sums of `plane` equal those of the frame scanned last?
    /// (Cheap, and enough to notice a caller passing some other frame.)
    fn profile_matches(&self, plane: &LumaPlane<'_>) -> bool {
        let h = plane.height;
        [h / 3, 2 * h / 3].into_iter().all(|y| {
            let sum: u32 = plane.row(y).iter().map(|&v| v as u32).sum();
            self.diff.row_sums.get(y) == Some(&sum)
        })
    }

    fn resize(&mut self, width: usize, height: usize) {
        let d = &mut self.diff;
        d.width = width;
        d.height = height;
        d.blocks_x = width.div_ceil(BLOCK);
        d.blocks_y = height.div_ceil(BLOCK);
        d.block_sads = vec![0; d.blocks_x * d.blocks_y];
        d.row_sums = vec![0; height];
        d.prev_row_sums = vec![0; height];
        self.prev = Vec::new();
        self.grid = SampleGrid::for_size(width, height);
    }

    /// The pass: `cur` against `borrowed`, or else against `stored` (the
    /// packed copy, which then receives `cur`). Fills `diff` for `cur`.
    fn scan_pair(
        &mut self,
        stored: &mut [u8],
        borrowed: Option<&LumaPlane<'_>>,
        cur: &LumaPlane<'_>,
    ) -> Result<(), SceneError> {
        let rows_per_chunk = BANDS_PER_CHUNK * BLOCK;
        let (kernel, grid, measures) = (self.kernel, self.grid, self.measures);
        let d = &mut self.diff;
        let mut stored_chunks = stored.chunks_mut(rows_per_chunk * cur.width);
        let work: Vec<Chunk<'_, '_>> = d
            .block_sads
            .chunks_mut(BANDS_PER_CHUNK * d.blocks_x)
            .zip(d.row_sums.chunks_mut(rows_per_chunk))
            .enumerate()
            .map(|(i, (blocks, sums))| Chunk {
                y0: i * rows_per_chunk,
                blocks,
                sums,
                stored: stored_chunks.next().unwrap_or_default(),
                borrowed: borrowed.copied(),
                measures,
            })
            .collect();
        let (sad, histogram) = if self.parallel {
            work.into_par_iter()
                .try_fold(
                    || (0, LumaHistogram::default()),
                    |(sad, mut hist), chunk| {
                        Ok::<_, SceneError>((sad + chunk.scan(kernel, cur, grid, &mut hist)?, hist))
                    },
                )
                .try_reduce(
                    || (0, LumaHistogram::default()),
                    |(sad_a, mut a), (sad_b, b)| {
                        a.merge(&b);
                        Ok((sad_a + sad_b, a))
                    },
                )?
        } else {
            let mut hist = std::mem::take(&mut *d.histogram);
            hist.clear();
            let mut sad = 0;
            for chunk in work {
                sad += chunk.scan(kernel, cur, grid, &mut hist)?;
            }
            (sad, hist)
        };
        *d.histogram = histogram;
        d.sad = sad;
        Ok(())
    }
}

/// A few bands of rows and their share of the outputs.
struct Chunk<'a, 'p> {
    y0: usize,
    blocks: &'a mut [u32],
    sums: &'a mut [u32],
    /// Stored previous rows (empty when the previous frame is borrowed).
    stored: &'a mut [u8],
    borrowed: Option<LumaPlane<'p>>,
    measures: Measures,
}

impl Chunk<'_, '_> {
    /// Scans the chunk and takes its histogram samples; returns its SAD.
    fn scan(
        self,
        kernel: Kernel,
        cur: &LumaPlane<'_>,
        grid: SampleGrid,
        hist: &mut LumaHistogram,
    ) -> Result<u64, SceneError> {
        let rows = self.sums.len();
        let cur_rows = cur.rows(self.y0, rows)?;
        let prev_rows = match self.borrowed {
            Some(prev) => prev.rows(self.y0, rows)?,
            None => LumaPlane::packed(self.stored, cur.width, rows)?,
        };
        let sad = match self.measures {
            Measures::All => kernel.scan(&prev_rows, &cur_rows, self.blocks, self.sums)?,
            Measures::SadOnly => kernel.sad(&prev_rows, &cur_rows)?,
        };
        // Replace the stored rows now, while `cur_rows` is in cache.
        for (y, prev_row) in self.stored.chunks_exact_mut(cur.width).enumerate() {
            prev_row.copy_from_slice(cur_rows.row(y));
        }
        if self.measures == Measures::All {
            for (y, x0) in grid.samples_in(self.y0..self.y0 + rows) {
                hist.add_samples(cur.row(y), x0, grid.step());
            }
        }
        Ok(sad)
    }
}
