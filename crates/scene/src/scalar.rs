//! Plain-Rust reference kernels. Every SIMD path must give bit-identical
//! results to these (property tests check it); they are also the fallback.

use crate::blocks::BLOCK;
use crate::error::SceneError;
use crate::histogram::SampleGrid;
use crate::plane::LumaPlane;

/// Pixels per SAD group: the granularity of `psadbw`, and half a 16-pixel block.
pub const GROUP: usize = 8;

/// How many groups a row of `width` pixels has (the last may be partial).
pub fn group_count(width: usize) -> usize {
    width.div_ceil(GROUP)
}

/// Sum of absolute differences over two planes of equal size.
pub fn sad(a: &LumaPlane<'_>, b: &LumaPlane<'_>) -> Result<u64, SceneError> {
    check_pair(a, b)?;
    Ok((0..a.height).map(|y| row_sad(a.row(y), b.row(y))).sum())
}

/// SAD of two rows of equal length.
pub fn row_sad(a: &[u8], b: &[u8]) -> u64 {
    a.iter().zip(b).map(|(&x, &y)| x.abs_diff(y) as u64).sum()
}

/// One row of the detector's pass: adds the SAD of each 8-pixel group to
/// `group_sads` and returns the sum of `cur`'s pixels (the row profile).
pub fn scan_row(prev: &[u8], cur: &[u8], group_sads: &mut [u64]) -> Result<u64, SceneError> {
    check_row(prev, cur, group_sads)?;
    Ok(scan_row_from(prev, cur, group_sads, 0))
}

/// The detector's pass over two planes of equal size, written plainly:
/// `block_sads[by * blocks_x + bx]` = SAD of 16x16 block (`bx`, `by`) (edge
/// blocks may be smaller), `row_sums[y]` = sum of row `y` of `cur`. Returns
/// the total SAD.
pub fn scan(
    prev: &LumaPlane<'_>,
    cur: &LumaPlane<'_>,
    block_sads: &mut [u32],
    row_sums: &mut [u32],
) -> Result<u64, SceneError> {
    check_scan(prev, cur, block_sads, row_sums)?;
    let blocks_x = cur.width.div_ceil(BLOCK);
    block_sads.fill(0);
    let mut total = 0;
    for (y, sum) in row_sums.iter_mut().enumerate() {
        *sum = cur.row(y).iter().map(|&v| v as u32).sum();
        for (x, (&p, &c)) in prev.row(y).iter().zip(cur.row(y)).enumerate() {
            block_sads[y / BLOCK * blocks_x + x / BLOCK] += p.abs_diff(c) as u32;
            total += p.abs_diff(c) as u64;
        }
    }
    Ok(total)
}

/// `scan_row` from pixel `start` (a multiple of `GROUP`) on: the SIMD paths
/// finish their rows with it. Lengths are checked by the caller.
pub(crate) fn scan_row_from(prev: &[u8], cur: &[u8], group_sads: &mut [u64], start: usize) -> u64 {
    let mut row_sum = 0u64;
    let groups = prev[start..].chunks(GROUP).zip(cur[start..].chunks(GROUP));
    for ((p, c), acc) in groups.zip(&mut group_sads[start / GROUP..]) {
        *acc += row_sad(p, c);
        row_sum += c.iter().map(|&v| v as u64).sum::<u64>();
    }
    row_sum
}

/// 256-bin histogram of the pixels that `grid` samples.
pub fn histogram(plane: &LumaPlane<'_>, grid: SampleGrid) -> Result<[u32; 256], SceneError> {
    plane.validate()?;
    let mut bins = [0u32; 256];
    for y in 0..plane.height {
        // Per-row test (not `samples_in`): an independent walk of the grid.
        let Some(x0) = grid.row_start(y) else {
            continue;
        };
        for x in (x0..plane.width).step_by(grid.step()) {
            bins[plane.row(y)[x] as usize] += 1;
        }
    }
    Ok(bins)
}

pub(crate) fn check_pair(a: &LumaPlane<'_>, b: &LumaPlane<'_>) -> Result<(), SceneError> {
    a.validate()?;
    b.validate()?;
    if !a.same_size(b) {
        return Err(SceneError::SizeMismatch {
            a_width: a.width,
            a_height: a.height,
            b_width: b.width,
            b_height: b.height,
        });
    }
    Ok(())
}

pub(crate) fn check_scan(
    prev: &LumaPlane<'_>,
    cur: &LumaPlane<'_>,
    block_sads: &[u32],
    row_sums: &[u32],
) -> Result<(), SceneError> {
    check_pair(prev, cur)?;
    let blocks = cur.width.div_ceil(BLOCK) * cur.height.div_ceil(BLOCK);
    if block_sads.len() != blocks || row_sums.len() != cur.height {
        return Err(SceneError::RowMismatch);
    }
    Ok(())
}

pub(crate) fn check_row(prev: &[u8], cur: &[u8], group_sads: &[u64]) -> Result<(), SceneError> {
    if prev.len() != cur.len() || group_sads.len() != group_count(cur.len()) {
        return Err(SceneError::RowMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_row_splits_sad_into_groups() {
        let prev: Vec<u8> = vec![10; 20];
        let cur: Vec<u8> = (0..20).collect();
        let mut groups = vec![0u64; 3];
        let sum = scan_row(&prev, &cur, &mut groups).unwrap();
        assert_eq!(sum, (0..20).sum::<u64>());
        // |i - 10| for i in 0..8, 8..16, 16..20
        assert_eq!(
            groups,
            [
                10 + 9 + 8 + 7 + 6 + 5 + 4 + 3,
                2 + 1 + 1 + 2 + 3 + 4 + 5,
                6 + 7 + 8 + 9
            ]
        );
        assert_eq!(
            scan_row(&prev, &cur, &mut groups[..2]),
            Err(SceneError::RowMismatch)
        );
    }

    #[test]
    fn histogram_samples_a_grid() {
        let data: Vec<u8> = (0..16).collect();
        let plane = LumaPlane::packed(&data, 4, 4).unwrap();
        let bins = histogram(&plane, SampleGrid::with_step(1)).unwrap();
        assert!(bins[..16].iter().all(|&b| b == 1));
        let grid = SampleGrid::with_step(2);
        let bins = histogram(&plane, grid).unwrap();
        let expected: Vec<usize> = (0..4)
            .filter_map(|y| grid.row_start(y).map(|x0| (y, x0)))
            .flat_map(|(y, x0)| (x0..4).step_by(2).map(move |x| y * 4 + x))
            .collect();
        let hit: Vec<usize> = (0..256).filter(|&i| bins[i] > 0).collect();
        assert_eq!(hit, expected);
        assert_eq!(expected.len(), 4);
    }
}
