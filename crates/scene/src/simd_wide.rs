//! Portable SIMD kernels with `wide` (SSE2 on x86-64 by default, NEON on
//! aarch64). `wide` has no SAD instruction, so |a - b| is built from two
//! saturating subtractions and widened to u16 before summing.

use wide::{u16x8, u8x16};

use crate::blocks::RowScan;
use crate::scalar::{self, GROUP};

const W: usize = 16;
/// Chunks a u16 lane can absorb before it may overflow: each chunk adds at
/// most 2 * 255 to a lane, and 128 * 510 < 65536.
const CHUNKS_PER_FLUSH: usize = 128;

fn load(bytes: &[u8]) -> u8x16 {
    let mut lanes = [0u8; W];
    lanes.copy_from_slice(bytes);
    u8x16::new(lanes)
}

fn abs_diff(a: u8x16, b: u8x16) -> u8x16 {
    a.saturating_sub(b) | b.saturating_sub(a)
}

fn widen_sum(acc: u16x8, v: u8x16) -> u16x8 {
    acc + u16x8::from_u8x16_low(v) + u16x8::from_u8x16_high(v)
}

fn flush(acc: u16x8) -> u64 {
    acc.to_array().iter().map(|&v| v as u64).sum()
}

use crate::plane::LumaPlane;

/// SAD of two planes of equal size.
pub(crate) fn sad(a: &LumaPlane<'_>, b: &LumaPlane<'_>) -> u64 {
    (0..a.height).map(|y| row_sad(a.row(y), b.row(y))).sum()
}

/// `scan_row` as the band loop's row function.
pub(crate) struct WideRows;

impl RowScan for WideRows {
    /// # Safety
    /// As [`RowScan::scan_row`] (this kernel needs no CPU feature).
    unsafe fn scan_row(prev: &[u8], cur: &[u8], groups: &mut [u64]) -> u64 {
        scan_row(prev, cur, groups)
    }
}

/// SAD of two rows of equal length.
pub(crate) fn row_sad(a: &[u8], b: &[u8]) -> u64 {
    let whole = a.len() / W * W;
    let mut total = 0u64;
    let mut acc = u16x8::ZERO;
    let chunks = a[..whole].chunks_exact(W).zip(b[..whole].chunks_exact(W));
    for (k, (ca, cb)) in chunks.enumerate() {
        acc = widen_sum(acc, abs_diff(load(ca), load(cb)));
        if k % CHUNKS_PER_FLUSH == CHUNKS_PER_FLUSH - 1 {
            total += flush(acc);
            acc = u16x8::ZERO;
        }
    }
    total + flush(acc) + scalar::row_sad(&a[whole..], &b[whole..])
}

/// The detector pass over one row (see `scalar::scan_row`).
pub(crate) fn scan_row(prev: &[u8], cur: &[u8], group_sads: &mut [u64]) -> u64 {
    let whole = cur.len() / W * W;
    let mut row_sum = 0u64;
    let mut acc = u16x8::ZERO;
    let chunks = prev[..whole]
        .chunks_exact(W)
        .zip(cur[..whole].chunks_exact(W));
    for (k, ((cp, cc), groups)) in chunks
        .zip(group_sads.chunks_exact_mut(W / GROUP))
        .enumerate()
    {
        let c = load(cc);
        let d = abs_diff(load(cp), c);
        // One 16-pixel chunk holds two groups: its low and high halves.
        groups[0] += u16x8::from_u8x16_low(d).reduce_add() as u64;
        groups[1] += u16x8::from_u8x16_high(d).reduce_add() as u64;
        acc = widen_sum(acc, c);
        if k % CHUNKS_PER_FLUSH == CHUNKS_PER_FLUSH - 1 {
            row_sum += flush(acc);
            acc = u16x8::ZERO;
        }
    }
    row_sum + flush(acc) + scalar::scan_row_from(prev, cur, group_sads, whole)
}
