//! Run-time choice of the SAD implementation.
//!
//! `wide` picks its instruction set at compile time (SSE2 unless the build
//! sets `-C target-cpu`), so AVX2 and AVX-512BW are reached through
//! `std::arch` behind `is_x86_feature_detected!`. Every kernel gives results
//! identical to `scalar`.

use crate::blocks;
use crate::error::SceneError;
use crate::plane::LumaPlane;
use crate::scalar;
use crate::simd_wide;

/// One implementation of the pixel kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Plain Rust, the reference.
    Scalar,
    /// `wide` portable SIMD (compile-time instruction set).
    Wide,
    /// `_mm256_sad_epu8`, chosen at run time.
    Avx2,
    /// `_mm512_sad_epu8`, chosen at run time.
    Avx512,
}

impl Kernel {
    /// Every kernel, slowest first.
    pub const ALL: [Kernel; 4] = [Kernel::Scalar, Kernel::Wide, Kernel::Avx2, Kernel::Avx512];

    /// The kernel to use on this CPU: AVX-512BW, else AVX2, else `wide`.
    ///
    /// The pass is memory-bound: on the Zen 4 this was measured on (512-bit
    /// ops split in two) AVX-512 and AVX2 are within noise of each other
    /// (±5 % either way at 720p-4K, `examples/scene_speed.rs` and the
    /// criterion bench), both ~20x the scalar reference.
    pub fn best() -> Kernel {
        Self::ALL
            .into_iter()
            .rev()
            .find(|k| k.is_available())
            .unwrap_or(Kernel::Scalar)
    }

    /// Every kernel this CPU runs, slowest first.
    pub fn available() -> Vec<Kernel> {
        Self::ALL.into_iter().filter(|k| k.is_available()).collect()
    }

    /// True when this CPU can run the kernel.
    pub fn is_available(self) -> bool {
        match self {
            Kernel::Scalar | Kernel::Wide => true,
            Kernel::Avx2 => has_avx2(),
            Kernel::Avx512 => has_avx512bw(),
        }
    }

    /// The kernel's name, as benchmarks print it.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            Kernel::Wide => "wide",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512bw",
        }
    }

    /// Sum of absolute differences over two planes of equal size.
    pub fn sad(self, a: &LumaPlane<'_>, b: &LumaPlane<'_>) -> Result<u64, SceneError> {
        scalar::check_pair(a, b)?;
        Ok(match self {
            Kernel::Scalar => (0..a.height)
                .map(|y| scalar::row_sad(a.row(y), b.row(y)))
                .sum(),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the feature was detected at run time; sizes were checked.
            Kernel::Avx512 if has_avx512bw() => unsafe { crate::simd_x86::sad_avx512(a, b) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Kernel::Avx2 | Kernel::Avx512 if has_avx2() => unsafe {
                crate::simd_x86::sad_avx2(a, b)
            },
            _ => simd_wide::sad(a, b),
        })
    }

    /// The detector's pass over two planes; same contract as `scalar::scan`.
    pub fn scan(
        self,
        prev: &LumaPlane<'_>,
        cur: &LumaPlane<'_>,
        block_sads: &mut [u32],
        row_sums: &mut [u32],
    ) -> Result<u64, SceneError> {
        scalar::check_scan(prev, cur, block_sads, row_sums)?;
        // SAFETY (all arms): sizes were checked above; the SIMD arms run only
        // where the feature was detected at run time.
        Ok(match self {
            Kernel::Scalar => unsafe {
                blocks::scan_blocks::<blocks::ScalarRows>(prev, cur, block_sads, row_sums)
            },
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 if has_avx512bw() => unsafe {
                crate::simd_x86::scan_avx512(prev, cur, block_sads, row_sums)
            },
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 | Kernel::Avx512 if has_avx2() => unsafe {
                crate::simd_x86::scan_avx2(prev, cur, block_sads, row_sums)
            },
            _ => unsafe {
                blocks::scan_blocks::<simd_wide::WideRows>(prev, cur, block_sads, row_sums)
            },
        })
    }

    /// Cell sums (`cell_sums[i]`: 8-pixel column group `i` summed over
    /// `rows`) and band row sums (`band_sums[b * rows.len() + r]`) of the
    /// columns `0..128 * blocks` of up to 8 rows (the signature's pass).
    pub(crate) fn cell_row(
        self,
        rows: &[&[u8]],
        blocks: usize,
        cell_sums: &mut [u16],
        band_sums: &mut [u16],
    ) {
        let width = blocks * crate::signature::BAND;
        assert!(rows.len() <= crate::signature::CELL && rows.iter().all(|r| r.len() >= width));
        assert!(cell_sums.len() >= 16 * blocks && band_sums.len() >= blocks * rows.len());
        match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the feature was detected at run time; lengths were checked.
            Kernel::Avx2 | Kernel::Avx512 if has_avx2() => unsafe {
                crate::simd_x86::cell_row_avx2(rows, blocks, cell_sums, band_sums)
            },
            _ => crate::signature::cell_row_scalar(rows, blocks, cell_sums, band_sums),
        }
    }

    /// The detector's row pass; same contract as `scalar::scan_row`.
    pub fn scan_row(
        self,
        prev: &[u8],
        cur: &[u8],
        group_sads: &mut [u64],
    ) -> Result<u64, SceneError> {
        scalar::check_row(prev, cur, group_sads)?;
        Ok(self.scan_row_checked(prev, cur, group_sads))
    }

    /// `scan_row` whose lengths `scalar::check_row` has accepted.
    fn scan_row_checked(self, prev: &[u8], cur: &[u8], group_sads: &mut [u64]) -> u64 {
        match self {
            Kernel::Scalar => scalar::scan_row_from(prev, cur, group_sads, 0),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the feature was detected at run time; lengths were checked.
            Kernel::Avx512 if has_avx512bw() => unsafe {
                crate::simd_x86::scan_row_avx512(prev, cur, group_sads)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Kernel::Avx2 | Kernel::Avx512 if has_avx2() => unsafe {
                crate::simd_x86::scan_row_avx2(prev, cur, group_sads)
            },
            _ => simd_wide::scan_row(prev, cur, group_sads),
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    is_x86_feature_detected!("avx2")
}

#[cfg(target_arch = "x86_64")]
fn has_avx512bw() -> bool {
    // The AVX-512 path finishes rows with the AVX2 one.
    is_x86_feature_detected!("avx512bw") && has_avx2()
}

#[cfg(not(target_arch = "x86_64"))]
fn has_avx2() -> bool {
    false
}

#[cfg(not(target_arch = "x86_64"))]
fn has_avx512bw() -> bool {
    false
}
