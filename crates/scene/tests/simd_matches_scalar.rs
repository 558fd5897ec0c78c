//! Every SIMD path this CPU runs gives bit-identical results to the scalar
//! reference, on random planes with odd widths and padded strides.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use cht_scene::histogram::{LumaHistogram, SampleGrid};
use cht_scene::scalar::{self, group_count};
use cht_scene::scan::{FrameScanner, Measures};
use cht_scene::{Kernel, LumaPlane};
use proptest::prelude::*;

/// A random plane: its bytes (padding included, and random too) and geometry.
#[derive(Debug, Clone)]
struct RandomPlane {
    data: Vec<u8>,
    width: usize,
    height: usize,
    stride: usize,
}

impl RandomPlane {
    fn plane(&self) -> LumaPlane<'_> {
        LumaPlane::new(&self.data, self.width, self.height, self.stride).unwrap()
    }
}

fn plane_of(width: usize, height: usize) -> impl Strategy<Value = RandomPlane> {
    (0usize..70).prop_flat_map(move |pad| {
        let stride = width + pad;
        // The last row need not be padded: decoders hand out exactly that.
        let len = (height - 1) * stride + width;
        proptest::collection::vec(any::<u8>(), len).prop_map(move |data| RandomPlane {
            data,
            width,
            height,
            stride,
        })
    })
}

/// Two planes of one size; the second is often a small edit of the first,
/// so that SADs span near-zero to large.
fn plane_pair() -> impl Strategy<Value = (RandomPlane, RandomPlane)> {
    (1usize..300, 1usize..40).prop_flat_map(|(w, h)| {
        (plane_of(w, h), plane_of(w, h), any::<bool>()).prop_map(|(a, mut b, similar)| {
            if similar {
                for y in 0..a.height {
                    for x in 0..a.width {
                        let v = a.data[y * a.stride + x];
                        b.data[y * b.stride + x] = if (x + y) % 7 == 0 { v ^ 0x5a } else { v };
                    }
                }
            }
            (a, b)
        })
    })
}

fn simd_kernels() -> Vec<Kernel> {
    Kernel::available()
        .into_iter()
        .filter(|&k| k != Kernel::Scalar)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn sad_matches_scalar((a, b) in plane_pair()) {
        let expected = scalar::sad(&a.plane(), &b.plane()).unwrap();
        for kernel in simd_kernels() {
            prop_assert_eq!(kernel.sad(&a.plane(), &b.plane()).unwrap(), expected, "{}", kernel.name());
        }
    }

    #[test]
    fn scan_row_matches_scalar(
        (prev, cur) in (1usize..600).prop_flat_map(|n| (
            proptest::collection::vec(any::<u8>(), n),
            proptest::collection::vec(any::<u8>(), n),
        )),
        seed in any::<u64>(),
    ) {
        // Groups start non-zero: the kernels must add, not overwrite.
        let start: Vec<u64> = (0..group_count(cur.len())).map(|i| seed.rotate_left(i as u32) >> 40).collect();
        let mut expected_groups = start.clone();
        let expected_sum = scalar::scan_row(&prev, &cur, &mut expected_groups).unwrap();
        for kernel in simd_kernels() {
            // Every start offset: the AVX-512 path peels a head to align loads.
            for skip in [0, 1, 8, 16, 24, 40] {
                if skip > cur.len() {
                    continue;
                }
                let (p, c) = (&prev[skip..], &cur[skip..]);
                let mut expected = vec![0u64; group_count(c.len())];
                let expected_sum = scalar::scan_row(p, c, &mut expected).unwrap();
                let mut g = vec![0u64; group_count(c.len())];
                prop_assert_eq!(kernel.scan_row(p, c, &mut g).unwrap(), expected_sum, "{} skip {}", kernel.name(), skip);
                prop_assert_eq!(&g, &expected, "{} skip {}", kernel.name(), skip);
            }
            let mut g = start.clone();
            let sum = kernel.scan_row(&prev, &cur, &mut g).unwrap();
            prop_assert_eq!(sum, expected_sum, "{}", kernel.name());
            prop_assert_eq!(&g, &expected_groups, "{}", kernel.name());
        }
    }

    /// The whole-plane pass (block SADs + row sums), every kernel, against
    /// the plain per-pixel reference.
    #[test]
    fn plane_scan_matches_scalar((a, b) in plane_pair()) {
        let (w, h) = (a.width, a.height);
        let blocks = w.div_ceil(16) * h.div_ceil(16);
        let mut expected_blocks = vec![0u32; blocks];
        let mut expected_sums = vec![0u32; h];
        let expected_sad = scalar::scan(&a.plane(), &b.plane(), &mut expected_blocks, &mut expected_sums).unwrap();
        prop_assert_eq!(&expected_blocks, &block_sads(&a.plane(), &b.plane()));
        for kernel in Kernel::available() {
            // Stale contents must be overwritten, not added to.
            let mut got_blocks = vec![7u32; blocks];
            let mut sums = vec![7u32; h];
            let sad = kernel.scan(&a.plane(), &b.plane(), &mut got_blocks, &mut sums).unwrap();
            prop_assert_eq!(sad, expected_sad, "{}", kernel.name());
            prop_assert_eq!(&got_blocks, &expected_blocks, "{}", kernel.name());
            prop_assert_eq!(&sums, &expected_sums, "{}", kernel.name());
        }
        let mut short = vec![0u32; blocks - 1];
        prop_assert!(Kernel::best().scan(&a.plane(), &b.plane(), &mut short, &mut expected_sums).is_err());
    }

    #[test]
    fn histogram_matches_scalar(a in (1usize..300, 1usize..40).prop_flat_map(|(w, h)| plane_of(w, h)), step in 1usize..9) {
        let grid = SampleGrid::with_step(step);
        let fast = LumaHistogram::compute(&a.plane(), grid).unwrap().bins();
        prop_assert_eq!(fast, scalar::histogram(&a.plane(), grid).unwrap());
    }

    /// The whole scanner (block SADs, row sums, histogram), serial and
    /// parallel, copying or borrowing the previous frame, agrees with a
    /// direct scalar computation.
    #[test]
    fn scanner_matches_scalar((a, b) in plane_pair(), borrow in any::<bool>()) {
        for kernel in Kernel::available() {
            for parallel in [false, true] {
                let mut scanner = FrameScanner::new(kernel);
                scanner.set_parallel(parallel);
                let diff = if borrow {
                    scanner.scan_after(&a.plane(), &b.plane()).unwrap()
                } else {
                    prop_assert!(scanner.scan(&a.plane()).unwrap().is_none());
                    scanner.scan(&b.plane()).unwrap().unwrap()
                };
                prop_assert_eq!(diff.sad, scalar::sad(&a.plane(), &b.plane()).unwrap());
                prop_assert_eq!(&diff.block_sads, &block_sads(&a.plane(), &b.plane()));
                let sums: Vec<u32> = (0..b.height)
                    .map(|y| b.data[y * b.stride..y * b.stride + b.width].iter().map(|&v| v as u32).sum())
                    .collect();
                prop_assert_eq!(&diff.row_sums, &sums);
                let grid = SampleGrid::for_size(b.width, b.height);
                prop_assert_eq!(diff.histogram.bins(), scalar::histogram(&b.plane(), grid).unwrap());
                prop_assert_eq!(diff.prev_histogram.bins(), scalar::histogram(&a.plane(), grid).unwrap());
            }
        }
    }

    /// ffmpeg mode's scanner measures only the SAD; over a run of frames,
    /// copying or borrowing, serial or parallel, it must equal the full one.
    #[test]
    fn sad_only_scanner_matches_scalar((a, b) in plane_pair(), borrow in any::<bool>()) {
        let frames = [a.plane(), b.plane(), b.plane(), a.plane()];
        for kernel in Kernel::available() {
            for parallel in [false, true] {
                let mut scanner = FrameScanner::new(kernel).measuring(Measures::SadOnly);
                scanner.set_parallel(parallel);
                if !borrow {
                    prop_assert!(scanner.scan(&frames[0]).unwrap().is_none());
                }
                for pair in frames.windows(2) {
                    let diff = if borrow {
                        scanner.scan_after(&pair[0], &pair[1]).unwrap()
                    } else {
                        scanner.scan(&pair[1]).unwrap().unwrap()
                    };
                    prop_assert_eq!(diff.sad, scalar::sad(&pair[0], &pair[1]).unwrap(), "{}", kernel.name());
                    prop_assert_eq!((diff.width, diff.height), (a.width, a.height));
                }
            }
        }
    }
}

fn block_sads(a: &LumaPlane<'_>, b: &LumaPlane<'_>) -> Vec<u32> {
    let (bx_n, by_n) = (a.width.div_ceil(16), a.height.div_ceil(16));
    let mut out = vec![0u32; bx_n * by_n];
    for y in 0..a.height {
        for x in 0..a.width {
            let d = a.data[y * a.stride + x].abs_diff(b.data[y * b.stride + x]);
            out[(y / 16) * bx_n + x / 16] += d as u32;
        }
    }
    out
}

#[test]
fn this_machine_reports_its_kernels() {
    let available = Kernel::available();
    assert!(available.contains(&Kernel::Scalar) && available.contains(&Kernel::Wide));
    assert_eq!(Kernel::best(), *available.last().unwrap());
    eprintln!(
        "kernels: {:?}",
        available.iter().map(|k| k.name()).collect::<Vec<_>>()
    );
}

/// Rows wider than one strip of lanes (4096 pixels) are cut into strips;
/// the proptests' planes are narrower, so this checks the seam.
#[test]
fn planes_wider_than_a_strip_match_scalar() {
    let (w, h, stride) = (4096 + 8 + 5, 21, 4200);
    let a: Vec<u8> = (0..stride * h).map(|i| (i * 31 % 253) as u8).collect();
    let b: Vec<u8> = (0..stride * h).map(|i| (i * 17 % 249) as u8).collect();
    let pa = LumaPlane::new(&a, w, h, stride).unwrap();
    let pb = LumaPlane::new(&b, w, h, stride).unwrap();
    let blocks = w.div_ceil(16) * h.div_ceil(16);
    let (mut expected, mut expected_sums) = (vec![0u32; blocks], vec![0u32; h]);
    let sad = scalar::scan(&pa, &pb, &mut expected, &mut expected_sums).unwrap();
    assert_eq!(expected, block_sads(&pa, &pb));
    for kernel in Kernel::available() {
        let (mut got, mut sums) = (vec![0u32; blocks], vec![0u32; h]);
        assert_eq!(
            kernel.scan(&pa, &pb, &mut got, &mut sums).unwrap(),
            sad,
            "{}",
            kernel.name()
        );
        assert_eq!(
            (got == expected, sums == expected_sums),
            (true, true),
            "{}",
            kernel.name()
        );
    }
}
