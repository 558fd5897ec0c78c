//! The band-and-strip loop every kernel shares: rows into 16x16 block SADs.
//!
//! A kernel's row function adds each 8-pixel group's SAD to a lane; after
//! the 16 rows of a band, pairs of lanes become block SADs. The lanes of one
//! band (at most `STRIP` pixels wide, 8 KB) stay in L1 on the stack; wider
//! planes are cut into strips.

use crate::plane::LumaPlane;
use crate::scalar::{group_count, GROUP};

/// Blocks are 16x16 pixels, like H.264 macroblocks.
pub const BLOCK: usize = 16;
/// Widest strip handled at once (UHD rows fit in one). The lanes are
/// zeroed on every call, so they are kept no bigger than that.
const STRIP: usize = 4096;

/// Group lanes on a cache-line boundary: every row reads back the vectors
/// the previous row stored, and a store that splits a cache line cannot be
/// forwarded to the load (it cost a third of the pass when unaligned).
#[repr(align(64))]
struct Lanes([u64; STRIP / GROUP]);

/// A kernel's row function and its lane-to-block reduction.
pub(crate) trait RowScan {
    /// Adds each group's SAD to `groups`; returns the sum of `cur`.
    ///
    /// # Safety
    /// The CPU runs the kernel; `prev` and `cur` have equal lengths and
    /// `groups.len() == group_count(cur.len())`.
    unsafe fn scan_row(prev: &[u8], cur: &[u8], groups: &mut [u64]) -> u64;

    /// Block SADs from pairs of lanes (the last block may have one), the
    /// lanes zeroed for the next band; returns their total.
    ///
    /// # Safety
    /// As `scan_row`; `blocks.len() == groups.len().div_ceil(2)`.
    unsafe fn take_blocks(groups: &mut [u64], blocks: &mut [u32]) -> u64 {
        take_blocks_scalar(groups, blocks)
    }
}

pub(crate) fn take_blocks_scalar(groups: &mut [u64], blocks: &mut [u32]) -> u64 {
    let mut total = 0;
    for (block, pair) in blocks.iter_mut().zip(groups.chunks_mut(BLOCK / GROUP)) {
        let sad: u64 = pair.iter_mut().map(std::mem::take).sum();
        *block = sad as u32;
        total += sad;
    }
    total
}

/// The detector's pass over two planes (see `scalar::scan` for the
/// contract); returns the total SAD.
///
/// # Safety
/// The CPU runs `K`; sizes as checked by `scalar::check_scan`.
#[inline(always)]
pub(crate) unsafe fn scan_blocks<K: RowScan>(
    prev: &LumaPlane<'_>,
    cur: &LumaPlane<'_>,
    block_sads: &mut [u32],
    row_sums: &mut [u32],
) -> u64 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the operations below rely on.
    unsafe {
        let blocks_x = cur.width.div_ceil(BLOCK);
        let mut lanes = Lanes([0u64; STRIP / GROUP]);
        let mut total = 0;
        for (band, (sums, blocks)) in row_sums
            .chunks_mut(BLOCK)
            .zip(block_sads.chunks_mut(blocks_x))
            .enumerate()
        {
            sums.fill(0);
            for x0 in (0..cur.width).step_by(STRIP) {
                let w = STRIP.min(cur.width - x0);
                let groups = &mut lanes.0[..group_count(w)];
                for (dy, sum) in sums.iter_mut().enumerate() {
                    let y = band * BLOCK + dy;
                    // A row sum is at most 255 * width: u32 holds 16M pixels.
                    *sum += K::scan_row(&prev.row(y)[x0..x0 + w], &cur.row(y)[x0..x0 + w], groups)
                        as u32;
                }
                total += K::take_blocks(groups, &mut blocks[x0 / BLOCK..(x0 + w).div_ceil(BLOCK)]);
            }
        }
        total
    }
}

/// The scalar kernel as a `RowScan`.
pub(crate) struct ScalarRows;

impl RowScan for ScalarRows {
    /// # Safety
    /// As [`RowScan::scan_row`] (this kernel needs no CPU feature).
    unsafe fn scan_row(prev: &[u8], cur: &[u8], groups: &mut [u64]) -> u64 {
        crate::scalar::scan_row_from(prev, cur, groups, 0)
    }
}
