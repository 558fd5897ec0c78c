//! AVX2 and AVX-512BW kernels built on `psadbw` (`_mm256_sad_epu8`,
//! `_mm512_sad_epu8`), which sums |a - b| over each 8-byte group in one
//! instruction: exactly the detector's group layout.
//!
//! These functions are `unsafe` because they need a CPU feature checked at
//! run time (`Kernel::is_available`) and load through raw pointers; every
//! pointer stays inside a slice whose length the loop bounds check.

use std::arch::x86_64::*;

use crate::blocks::{self, RowScan};
use crate::plane::LumaPlane;
use crate::scalar::{self, GROUP};

// Whole planes per call: one dispatch per frame or band instead of one per
// row (per-row calls cost ~8 µs of a 1080p frame). Rows come from validated
// planes, so every slice below is in bounds.

/// # Safety
/// The CPU must support AVX2; the planes have equal sizes.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn sad_avx2(a: &LumaPlane<'_>, b: &LumaPlane<'_>) -> u64 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the operations below rely on.
    unsafe {
        let mut total = 0;
        for y in 0..a.height {
            total += row_sad_avx2(a.row(y), b.row(y));
        }
        total
    }
}

/// # Safety
/// The CPU must support AVX2; sizes as checked by `scalar::check_scan`.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn scan_avx2(
    prev: &LumaPlane<'_>,
    cur: &LumaPlane<'_>,
    block_sads: &mut [u32],
    row_sums: &mut [u32],
) -> u64 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the operations below rely on.
    unsafe { blocks::scan_blocks::<Avx2Rows>(prev, cur, block_sads, row_sums) }
}

/// # Safety
/// The CPU must support AVX-512BW; the planes have equal sizes.
#[target_feature(enable = "avx512bw")]
pub(crate) unsafe fn sad_avx512(a: &LumaPlane<'_>, b: &LumaPlane<'_>) -> u64 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the operations below rely on.
    unsafe {
        let mut total = 0;
        for y in 0..a.height {
            total += row_sad_avx512(a.row(y), b.row(y));
        }
        total
    }
}

/// # Safety
/// The CPU must support AVX-512BW; sizes as checked by `scalar::check_scan`.
#[target_feature(enable = "avx512bw")]
pub(crate) unsafe fn scan_avx512(
    prev: &LumaPlane<'_>,
    cur: &LumaPlane<'_>,
    block_sads: &mut [u32],
    row_sums: &mut [u32],
) -> u64 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the operations below rely on.
    unsafe { blocks::scan_blocks::<Avx512Rows>(prev, cur, block_sads, row_sums) }
}

/// SAD of two rows of equal length.
///
/// # Safety
/// The CPU must support AVX2 and `a.len() == b.len()`.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn row_sad_avx2(a: &[u8], b: &[u8]) -> u64 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the operations below rely on.
    unsafe {
        const W: usize = 32;
        let n = a.len();
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc0 = _mm256_setzero_si256();
        let mut acc1 = _mm256_setzero_si256();
        let mut i = 0;
        // Two accumulators keep two loads in flight per iteration.
        while i + 2 * W <= n {
            let a0 = _mm256_loadu_si256(pa.add(i).cast());
            let b0 = _mm256_loadu_si256(pb.add(i).cast());
            let a1 = _mm256_loadu_si256(pa.add(i + W).cast());
            let b1 = _mm256_loadu_si256(pb.add(i + W).cast());
            acc0 = _mm256_add_epi64(acc0, _mm256_sad_epu8(a0, b0));
            acc1 = _mm256_add_epi64(acc1, _mm256_sad_epu8(a1, b1));
            i += 2 * W;
        }
        if i + W <= n {
            let a0 = _mm256_loadu_si256(pa.add(i).cast());
            let b0 = _mm256_loadu_si256(pb.add(i).cast());
            acc0 = _mm256_add_epi64(acc0, _mm256_sad_epu8(a0, b0));
            i += W;
        }
        let tail = if i < n {
            scalar::row_sad(&a[i..], &b[i..])
        } else {
            0
        };
        sum_epi64x4(_mm256_add_epi64(acc0, acc1)) + tail
    }
}

/// The detector pass over one row (see `scalar::scan_row`).
///
/// # Safety
/// The CPU must support AVX2; lengths as checked by `scalar::check_row`.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn scan_row_avx2(prev: &[u8], cur: &[u8], group_sads: &mut [u64]) -> u64 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the operations below rely on.
    unsafe {
        const W: usize = 32;
        let n = cur.len();
        let (pp, pc, pg) = (prev.as_ptr(), cur.as_ptr(), group_sads.as_mut_ptr());
        let zero = _mm256_setzero_si256();
        let mut row_sum = _mm256_setzero_si256();
        let mut row_sum1 = _mm256_setzero_si256();
        let mut i = 0;
        // Two vectors per step: two independent chains keep more loads in flight.
        while i + 2 * W <= n {
            let p0 = _mm256_loadu_si256(pp.add(i).cast());
            let c0 = _mm256_loadu_si256(pc.add(i).cast());
            let p1 = _mm256_loadu_si256(pp.add(i + W).cast());
            let c1 = _mm256_loadu_si256(pc.add(i + W).cast());
            // 32 pixels = 4 groups = 4 u64 lanes of group_sads.
            let g0 = pg.add(i / GROUP);
            let g1 = pg.add((i + W) / GROUP);
            let s0 = _mm256_add_epi64(_mm256_loadu_si256(g0.cast()), _mm256_sad_epu8(p0, c0));
            let s1 = _mm256_add_epi64(_mm256_loadu_si256(g1.cast()), _mm256_sad_epu8(p1, c1));
            _mm256_storeu_si256(g0.cast(), s0);
            _mm256_storeu_si256(g1.cast(), s1);
            row_sum = _mm256_add_epi64(row_sum, _mm256_sad_epu8(c0, zero));
            row_sum1 = _mm256_add_epi64(row_sum1, _mm256_sad_epu8(c1, zero));
            i += 2 * W;
        }
        row_sum = _mm256_add_epi64(row_sum, row_sum1);
        if i + W <= n {
            let p = _mm256_loadu_si256(pp.add(i).cast());
            let c = _mm256_loadu_si256(pc.add(i).cast());
            let g = pg.add(i / GROUP);
            let sads = _mm256_add_epi64(_mm256_loadu_si256(g.cast()), _mm256_sad_epu8(p, c));
            _mm256_storeu_si256(g.cast(), sads);
            row_sum = _mm256_add_epi64(row_sum, _mm256_sad_epu8(c, zero));
            i += W;
        }
        // Rows are only ~60 vectors long: a tail path run on every row, even
        // empty, costs a tenth of the pass, so it is only entered when needed.
        let tail = if i < n {
            scan_tail(prev, cur, group_sads, i)
        } else {
            0
        };
        sum_epi64x4(row_sum) + tail
    }
}

/// The end of a row from pixel `start` (a multiple of `GROUP`): whole groups
/// in 8-byte SSE2 steps (a scalar group costs as much as a 32-byte vector),
/// then a partial group in scalar code.
///
/// # Safety
/// The CPU must support SSE2 (every x86-64 does); lengths as checked by
/// `scalar::check_row`, and `start <= cur.len()`.
#[inline(never)]
unsafe fn scan_tail(prev: &[u8], cur: &[u8], group_sads: &mut [u64], start: usize) -> u64 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the operations below rely on.
    unsafe {
        let n = cur.len();
        let (pp, pc) = (prev.as_ptr(), cur.as_ptr());
        let zero = _mm_setzero_si128();
        let mut sum = _mm_setzero_si128();
        let mut i = start;
        while i + GROUP <= n {
            let p = _mm_loadl_epi64(pp.add(i).cast());
            let c = _mm_loadl_epi64(pc.add(i).cast());
            group_sads[i / GROUP] += _mm_cvtsi128_si64(_mm_sad_epu8(p, c)) as u64;
            sum = _mm_add_epi64(sum, _mm_sad_epu8(c, zero));
            i += GROUP;
        }
        _mm_cvtsi128_si64(sum) as u64 + scalar::scan_row_from(prev, cur, group_sads, i)
    }
}

/// SAD of two rows of equal length.
///
/// # Safety
/// The CPU must support AVX-512BW and `a.len() == b.len()`.
#[inline]
#[target_feature(enable = "avx512bw")]
pub(crate) unsafe fn row_sad_avx512(a: &[u8], b: &[u8]) -> u64 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the operations below rely on.
    unsafe {
        const W: usize = 64;
        let n = a.len();
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc0 = _mm512_setzero_si512();
        let mut acc1 = _mm512_setzero_si512();
        // A 64-byte load that straddles two cache lines costs ~10 % here: start
        // the wide loop where `b` is aligned (the head goes through AVX2).
        let mut i = b.as_ptr().align_offset(W).min(n);
        let head = row_sad_avx2(&a[..i], &b[..i]);
        while i + 2 * W <= n {
            let a0 = _mm512_loadu_si512(pa.add(i).cast());
            let b0 = _mm512_loadu_si512(pb.add(i).cast());
            let a1 = _mm512_loadu_si512(pa.add(i + W).cast());
            let b1 = _mm512_loadu_si512(pb.add(i + W).cast());
            acc0 = _mm512_add_epi64(acc0, _mm512_sad_epu8(a0, b0));
            acc1 = _mm512_add_epi64(acc1, _mm512_sad_epu8(a1, b1));
            i += 2 * W;
        }
        if i + W <= n {
            let a0 = _mm512_loadu_si512(pa.add(i).cast());
            let b0 = _mm512_loadu_si512(pb.add(i).cast());
            acc0 = _mm512_add_epi64(acc0, _mm512_sad_epu8(a0, b0));
            i += W;
        }
        // The tail shorter than 64 bytes still has whole 32-byte vectors.
        let total = _mm512_reduce_add_epi64(_mm512_add_epi64(acc0, acc1)) as u64;
        head + total + row_sad_avx2(&a[i..], &b[i..])
    }
}

/// The detector pass over one row (see `scalar::scan_row`).
///
/// # Safety
/// The CPU must support AVX-512BW; lengths as checked by `scalar::check_row`.
#[inline]
#[target_feature(enable = "avx512bw")]
pub(crate) unsafe fn scan_row_avx512(prev: &[u8], cur: &[u8], group_sads: &mut [u64]) -> u64 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the operations below rely on.
    unsafe {
        const W: usize = 64;
        let n = cur.len();
        let zero = _mm512_setzero_si512();
        let (mut sum0, mut sum1) = (_mm512_setzero_si512(), _mm512_setzero_si512());
        // No alignment peel here (unlike `row_sad_avx512`): it would misalign
        // the 64-byte stores to the group lanes, and split stores cannot be
        // forwarded to the next row's loads, which costs more than split loads.
        let mut i = 0;
        let (pp, pc, pg) = (prev.as_ptr(), cur.as_ptr(), group_sads.as_mut_ptr());
        while i + 2 * W <= n {
            let p0 = _mm512_loadu_si512(pp.add(i).cast());
            let c0 = _mm512_loadu_si512(pc.add(i).cast());
            let p1 = _mm512_loadu_si512(pp.add(i + W).cast());
            let c1 = _mm512_loadu_si512(pc.add(i + W).cast());
            // 64 pixels = 8 groups = 8 u64 lanes of group_sads.
            let g0 = pg.add(i / GROUP);
            let g1 = pg.add((i + W) / GROUP);
            _mm512_storeu_si512(
                g0.cast(),
                _mm512_add_epi64(_mm512_loadu_si512(g0.cast()), _mm512_sad_epu8(p0, c0)),
            );
            _mm512_storeu_si512(
                g1.cast(),
                _mm512_add_epi64(_mm512_loadu_si512(g1.cast()), _mm512_sad_epu8(p1, c1)),
            );
            sum0 = _mm512_add_epi64(sum0, _mm512_sad_epu8(c0, zero));
            sum1 = _mm512_add_epi64(sum1, _mm512_sad_epu8(c1, zero));
            i += 2 * W;
        }
        let body = _mm512_reduce_add_epi64(_mm512_add_epi64(sum0, sum1)) as u64;
        // Under 128 pixels left: AVX2 vectors, then its tail path.
        let tail = if i < n {
            scan_row_avx2(&prev[i..], &cur[i..], &mut group_sads[i / GROUP..])
        } else {
            0
        };
        body + tail
    }
}

#[target_feature(enable = "avx2")]
fn sum_epi64x4(v: __m256i) -> u64 {
    let lanes = [
        _mm256_extract_epi64::<0>(v),
        _mm256_extract_epi64::<1>(v),
        _mm256_extract_epi64::<2>(v),
        _mm256_extract_epi64::<3>(v),
    ];
    lanes.iter().map(|&l| l as u64).sum()
}

pub(crate) struct Avx2Rows;

impl RowScan for Avx2Rows {
    /// # Safety
    /// As [`RowScan::scan_row`]; the CPU must support AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn scan_row(prev: &[u8], cur: &[u8], groups: &mut [u64]) -> u64 {
        // SAFETY: the caller upholds this function's `# Safety` contract,
        // which is what the operations below rely on.
        unsafe { scan_row_avx2(prev, cur, groups) }
    }

    /// # Safety
    /// As [`RowScan::take_blocks`]; the CPU must support AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn take_blocks(groups: &mut [u64], blocks: &mut [u32]) -> u64 {
        // SAFETY: the caller upholds this function's `# Safety` contract,
        // which is what the operations below rely on.
        unsafe { take_blocks_avx2(groups, blocks) }
    }
}

pub(crate) struct Avx512Rows;

impl RowScan for Avx512Rows {
    /// # Safety
    /// As [`RowScan::scan_row`]; the CPU must support AVX-512BW.
    #[inline]
    #[target_feature(enable = "avx512bw")]
    unsafe fn scan_row(prev: &[u8], cur: &[u8], groups: &mut [u64]) -> u64 {
        // SAFETY: the caller upholds this function's `# Safety` contract,
        // which is what the operations below rely on.
        unsafe { scan_row_avx512(prev, cur, groups) }
    }

    /// # Safety
    /// As [`RowScan::take_blocks`]; the CPU must support AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn take_blocks(groups: &mut [u64], blocks: &mut [u32]) -> u64 {
        // SAFETY: the caller upholds this function's `# Safety` contract,
        // which is what the operations below rely on.
        unsafe { take_blocks_avx2(groups, blocks) }
    }
}

/// Block SADs from group lanes, read with the 32-byte width they were stored
/// with: narrower reads of lanes still in the store buffer cannot be
/// forwarded and stall (it cost a fifth of the pass with scalar reads).
///
/// # Safety
/// The CPU must support AVX2; `blocks.len() == groups.len().div_ceil(2)`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn take_blocks_avx2(groups: &mut [u64], blocks: &mut [u32]) -> u64 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the operations below rely on.
    unsafe {
        let zero = _mm256_setzero_si256();
        let mut total = 0;
        let mut k = 0;
        while k + 4 <= groups.len() {
            let lanes = groups.as_mut_ptr().add(k).cast::<__m256i>();
            let v = _mm256_loadu_si256(lanes);
            // Lane 0 = g0 + g1, lane 2 = g2 + g3.
            let pairs = _mm256_add_epi64(v, _mm256_srli_si256::<8>(v));
            let (a, b) = (
                _mm256_extract_epi64::<0>(pairs) as u64,
                _mm256_extract_epi64::<2>(pairs) as u64,
            );
            blocks[k / 2] = a as u32;
            blocks[k / 2 + 1] = b as u32;
            total += a + b;
            _mm256_storeu_si256(lanes, zero);
            k += 4;
        }
        total + blocks::take_blocks_scalar(&mut groups[k..], &mut blocks[k / 2..])
    }
}

/// The cell sums and band row sums of one row of cells, for the columns
/// `0..128 * blocks` (see `signature::CellRow`): per 128-byte block, four
/// `psadbw` against zero give sixteen 8-pixel sums per row, accumulated over
/// the cell's rows in registers; their total is the row's band sum.
///
/// # Safety
/// The CPU must support AVX2; every row holds at least `128 * blocks` bytes,
/// `cell_sums.len() >= 16 * blocks`, `band_sums.len() >= blocks * rows.len()`.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn cell_row_avx2(
    rows: &[&[u8]],
    blocks: usize,
    cell_sums: &mut [u16],
    band_sums: &mut [u16],
) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the operations below rely on.
    unsafe {
        let zero = _mm256_setzero_si256();
        let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        let n = rows.len();
        for b in 0..blocks {
            let x = b * 128;
            let (mut c0, mut c1, mut c2, mut c3) = (zero, zero, zero, zero);
            let mut totals = [zero; 8];
            for (r, row) in rows.iter().enumerate() {
                let p = row.as_ptr().add(x);
                let s0 = _mm256_sad_epu8(_mm256_loadu_si256(p.cast()), zero);
                let s1 = _mm256_sad_epu8(_mm256_loadu_si256(p.add(32).cast()), zero);
                let s2 = _mm256_sad_epu8(_mm256_loadu_si256(p.add(64).cast()), zero);
                let s3 = _mm256_sad_epu8(_mm256_loadu_si256(p.add(96).cast()), zero);
                c0 = _mm256_add_epi64(c0, s0);
                c1 = _mm256_add_epi64(c1, s1);
                c2 = _mm256_add_epi64(c2, s2);
                c3 = _mm256_add_epi64(c3, s3);
                totals[r] = _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3));
            }
            // Row totals, four rows per transposing reduction.
            let mut row_sums = [0u64; 8];
            for q in 0..2 {
                let t = &totals[q * 4..q * 4 + 4];
                let ab = _mm256_add_epi64(
                    _mm256_unpacklo_epi64(t[0], t[1]),
                    _mm256_unpackhi_epi64(t[0], t[1]),
                );
                let cd = _mm256_add_epi64(
                    _mm256_unpacklo_epi64(t[2], t[3]),
                    _mm256_unpackhi_epi64(t[2], t[3]),
                );
                let sum = _mm256_add_epi64(
                    _mm256_permute2x128_si256::<0x20>(ab, cd),
                    _mm256_permute2x128_si256::<0x31>(ab, cd),
                );
                _mm256_storeu_si256(row_sums.as_mut_ptr().add(q * 4).cast(), sum);
            }
            for (r, &sum) in row_sums[..n].iter().enumerate() {
                *band_sums.get_unchecked_mut(b * n + r) = sum as u16;
            }
            // Per 128-bit lane: [c0 c1 c4 c5 c8 c9 c12 c13 | c2 c3 c6 c7 ...].
            let packed =
                _mm256_packus_epi32(_mm256_packus_epi32(c0, c1), _mm256_packus_epi32(c2, c3));
            let ordered = _mm256_permutevar8x32_epi32(packed, order);
            _mm256_storeu_si256(cell_sums.as_mut_ptr().add(b * 16).cast(), ordered);
        }
    }
}
