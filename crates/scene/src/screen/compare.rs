//! What changed between two screens: how much, where, and of what kind.
//!
//! The kind matters more than the size (see the crate docs): a same-template
//! slide switch replaces text, a build adds text on empty background, a
//! scroll moves the same text. Cells are classified against the background
//! of the earlier screen (its most common cell value): a cell is *ink* when
//! it differs from that background. Ink replaced by other ink or removed is
//! content that went away; ink on former background is content added.

pub(crate) use crate::signature::CELL_CHANGE;
use crate::signature::{FrameSignature, BAND, CELL};

/// A cell is ink when it differs from the background by more than this.
const INK: u8 = 10;
/// A changed cell changed its structure (not only its shade) when its
/// difference from its neighbours changed by this much (see `detail`).
const STRUCTURE_CHANGE: i32 = 4 * CELL_CHANGE as i32;
/// Coarse blocks (for "how much of the screen"), in cells per side: 64 px.
const COARSE: usize = 8;

/// How the later screen differs from the earlier one.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Comparison {
    /// Cells changed (outside active regions).
    pub changed: usize,
    /// ...of which: ink replaced by other ink, or by background.
    pub replaced: usize,
    pub removed: usize,
    /// ...background that became ink.
    pub added: usize,
    /// ...cells whose shade changed with their neighbours' (a hover
    /// highlight, a recoloured box or background, a dimmed window): the
    /// structure is the same.
    pub shaded: usize,
    /// Ink cells of the earlier screen (outside active regions): how much
    /// content there was to replace.
    pub ink: usize,
    /// The changed cells (indices).
    pub cells: Vec<u32>,
    /// Coarse 64x64 blocks holding at least one changed cell.
    pub coarse_blocks: usize,
    /// Cells compared (outside active regions).
    pub compared: usize,
    /// All cells of the screen: shares are of the whole screen.
    pub total: usize,
    /// Cells per row of the screen (for `cells` and `bounds`).
    pub cells_x: usize,
    /// Bounding box of the changed cells, in cells: x0, y0, x1, y1 (exclusive).
    pub bounds: Option<(usize, usize, usize, usize)>,
    /// The change is the earlier screen scrolled by this many pixel rows
    /// (positive: content moved up).
    pub scroll: Option<isize>,
    /// Height of the scrolled region, in pixels.
    pub scroll_region: usize,
}

impl Comparison {
    /// Share of the screen that changed.
    pub fn changed_share(&self) -> f64 {
        self.changed as f64 / self.total.max(1) as f64
    }

    /// Share of the screen whose content went away or was replaced.
    pub fn replaced_share(&self) -> f64 {
        (self.replaced + self.removed) as f64 / self.total.max(1) as f64
    }

    /// Share of the earlier screen's content that went away or was replaced.
    pub fn replaced_of_content(&self) -> f64 {
        (self.replaced + self.removed) as f64 / self.ink.max(1) as f64
    }

    /// Share of the content before and after (ink, and ink added) that
    /// changed: near 1 for a switch between two sparse slides.
    pub fn content_changed(&self) -> f64 {
        let changed = self.replaced + self.removed + self.added;
        changed as f64 / (self.ink + self.added).max(1) as f64
    }

    /// Share of the screen that changed shade only.
    pub fn shaded_share(&self) -> f64 {
        self.shaded as f64 / self.total.max(1) as f64
    }

    /// Share of the screen where content appeared on background.
    pub fn added_share(&self) -> f64 {
        self.added as f64 / self.total.max(1) as f64
    }

    /// The longest vertical line of changed cells at most two cells wide
    /// (a thin stroke can straddle a cell boundary) with unchanged cells on
    /// both sides, in cells: a connector or an arrow drawn.
    pub fn thin_vertical_run(&self) -> usize {
        let cells_x = self.cells_x;
        let rows = self.total / cells_x.max(1);
        let mut grid = vec![false; self.total];
        for &c in &self.cells {
            grid[c as usize] = true;
        }
        let at = |x: usize, y: usize| x < cells_x && grid[y * cells_x + x];
        // Row `y` holds a thin stroke starting at column `x`.
        let thin = |x: usize, y: usize| {
            let left_clear = x == 0 || !at(x - 1, y);
            left_clear && at(x, y) && (!at(x + 1, y) || !at(x + 2, y))
        };
        let mut best = 0;
        for x in 0..cells_x {
            let mut run = 0;
            for y in 0..rows {
                // The stroke may wander by a column between rows.
                if thin(x, y) || (x > 0 && thin(x - 1, y) && at(x, y)) {
                    run += 1;
                    best = best.max(run);
                } else {
                    run = 0;
                }
            }
        }
        best
    }

    /// Share of the scrolled region brought into view by the scroll.
    pub fn exposed_share(&self) -> f64 {
        match self.scroll {
            Some(dy) if self.scroll_region > 0 => {
                (dy.unsigned_abs() as f64 / self.scroll_region as f64).min(1.0)
            }
            _ => 0.0,
        }
    }
}

/// The most common cell value: the screen's background.
pub(crate) fn background(cells: &[u8]) -> u8 {
    let mut histogram = [0u32; 256];
    for &c in cells {
        histogram[c as usize] += 1;
    }
    // Neighbouring levels count together: a gradient or noise splits a flat
    // background over two or three values.
    (0..256usize)
        .max_by_key(|&v| {
            let lo = v.saturating_sub(2);
            let hi = (v + 2).min(255);
            histogram[lo..=hi].iter().sum::<u32>()
        })
        .unwrap_or(0) as u8
}

/// Compares `later` with `earlier` outside the `active` cells (same sizes).
pub(crate) fn compare(
    earlier: &FrameSignature,
    later: &FrameSignature,
    active: &[bool],
    find_scroll: bool,
) -> Comparison {
    let (a, b) = (earlier.cells(), later.cells());
    let bg = background(a);
    let cells_x = earlier.cells_x();
    let coarse_x = cells_x.div_ceil(COARSE);
    let mut coarse = vec![false; coarse_x * earlier.cells_y().div_ceil(COARSE)];
    let mut out = Comparison {
        total: a.len(),
        cells_x,
        ..Comparison::default()
    };
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    let cells_y = earlier.cells_y();
    for (i, ((&p, &q), &act)) in a.iter().zip(b).zip(active).enumerate() {
        if act {
            continue;
        }
        out.compared += 1;
        let ink_before = p.abs_diff(bg) > INK;
        out.ink += ink_before as usize;
        if p.abs_diff(q) < CELL_CHANGE {
            continue;
        }
        out.changed += 1;
        out.cells.push(i as u32);
        let (x, y) = (i % cells_x, i / cells_x);
        let detail = |cells: &[u8]| detail(cells, cells_x, cells_y, x, y);
        let same_structure = (detail(a) - detail(b)).abs() < STRUCTURE_CHANGE;
        let ink_after = q.abs_diff(bg) > INK;
        match (ink_before, ink_after) {
            _ if same_structure => out.shaded += 1,
            (true, true) | (false, false) => out.replaced += 1,
            (true, false) => out.removed += 1,
            (false, true) => out.added += 1,
        }
        coarse[(y / COARSE) * coarse_x + x / COARSE] = true;
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
    }
    out.coarse_blocks = coarse.iter().filter(|&&c| c).count();
    if out.changed > 0 {
        out.bounds = Some((x0, y0, x1, y1));
        if find_scroll {
            find_vertical_shift(earlier, later, active, &mut out);
        }
    }
    out
}

/// How cell (`x`, `y`) stands out from its four neighbours (a discrete
/// Laplacian; neighbours outside the screen count as the cell itself). A
/// shade laid over a region moves a cell and its neighbours together and
/// leaves this unchanged inside the region; new text or edges change it.
fn detail(cells: &[u8], cells_x: usize, cells_y: usize, x: usize, y: usize) -> i32 {
    let at = |x: usize, y: usize| cells[y * cells_x + x] as i32;
    let v = at(x, y);
    let left = if x > 0 { at(x - 1, y) } else { v };
    let right = if x + 1 < cells_x { at(x + 1, y) } else { v };
    let up = if y > 0 { at(x, y - 1) } else { v };
    let down = if y + 1 < cells_y { at(x, y + 1) } else { v };
    4 * v - left - right - up - down
}

/// Looks for a vertical scroll of the changed region. Each band of 128
/// columns it covers supports the shifts that align its rows (by row sums,
/// to the pixel) with the earlier screen's far better than no shift; it is a
/// scroll when most bands support one shift. (A band alone is often
/// ambiguous: lines of text look alike in a narrow band.) Rows that hold
/// nothing are left out: they match any other blank row. Bands that do not
/// align (a line being typed, a video playing beside the text) are outvoted,
/// so an editor inserting a line, which scrolls the lines below it, is a
/// scroll too.
fn find_vertical_shift(
    earlier: &FrameSignature,
    later: &FrameSignature,
    active: &[bool],
    out: &mut Comparison,
) {
    let Some((x0, y0, x1, y1)) = out.bounds else {
        return;
    };
    let (top, bottom) = (y0 * CELL, (y1 * CELL).min(later.height()));
    // Too small a region to tell a scroll from an edit.
    if bottom - top < 4 * CELL {
        return;
    }
    // The profiles hold every other row; shifts are in pixels (an odd one
    // is matched against the mean of the two sampled rows around it: text
    // lines of an odd height scroll by odd steps).
    let (top_row, bottom_row) = (top / 2, bottom.div_ceil(2));
    let rows = (bottom_row - top_row) as isize;
    let max_shift = 2 * (rows * 3 / 4);
    let mut support = vec![0usize; (2 * max_shift + 1) as usize];
    let mut voters = 0;
    let cells_x = earlier.cells_x();
    for b in (x0 * CELL) / BAND..(x1 * CELL).div_ceil(BAND).min(later.bands()) {
        // A band that is mostly activity (a video beside the text) cannot
        // say whether the text scrolled.
        let columns = b * (BAND / CELL)..((b + 1) * (BAND / CELL)).min(cells_x);
        let cells = (y1 - y0) * columns.len();
        let masked = (y0..y1)
            .flat_map(|y| columns.clone().map(move |x| y * cells_x + x))
            .filter(|&i| active[i])
            .count();
        if masked * 10 > cells * 3 {
            continue;
        }
        let before = &earlier.band_profile(b)[top_row..bottom_row];
        let after = &later.band_profile(b)[top_row..bottom_row];
        if let Some(aligned) = band_alignments(before, after, max_shift) {
            voters += 1;
            for (count, ok) in support.iter_mut().zip(aligned) {
                *count += ok as usize;
            }
        }
    }
    // The shift most bands support; among equals, an even one (matched
    // exactly, not between rows), then the smallest.
    let best = (-max_shift..=max_shift)
        .filter(|&s| s != 0)
        .map(|s| (s, support[(s + max_shift) as usize]))
        .max_by_key(|&(s, n)| (n, s % 2 == 0, std::cmp::Reverse(s.abs())));
    if let Some((shift, n)) = best {
        if voters >= 2 && n * 5 >= voters * 3 {
            out.scroll = Some(shift);
            out.scroll_region = bottom - top;
        }
    }
}

/// A row of a band holds something when its sum differs from a blank
/// row's by more than this many levels per pixel on average.
const ROW_LEVELS: f64 = 1.0;
/// A shift aligns a band when it leaves at most this share of the unmoved
/// difference, and at most this many levels per pixel (the encoder codes
/// scrolled text again: it is never pixel-identical).
const ALIGNED_SHARE: f64 = 0.2;
const ALIGNED_LEVELS: f64 = 4.0;
const ALIGNED_LEVELS_BETWEEN: f64 = 8.0;
const ALIGNED_SHARE_BETWEEN: f64 = 0.35;

/// For each shift in `-max_shift..=max_shift` pixels, whether it aligns the
/// band's changed rows (every other pixel row) with the earlier ones;
/// `None` when the band holds too few changed rows to say.
fn band_alignments(before: &[u16], after: &[u16], max_shift: isize) -> Option<Vec<bool>> {
    let blank = blank_row(before, after);
    let tolerance = (BAND as f64 * ROW_LEVELS) as u32;
    let holds = |v: u16| (v as u32).abs_diff(blank) > tolerance;
    // The rows that hold something and changed: what a scroll must explain.
    let rows: Vec<usize> = (0..after.len())
        .filter(|&y| holds(after[y]) && (after[y] as u32).abs_diff(before[y] as u32) > tolerance)
        .collect();
    if rows.len() < 8 {
        return None;
    }
    let n = after.len() as isize;
    // Mean |after - before shifted| per pixel over the rows, where both
    // exist. An odd shift falls between two sampled rows: their mean, with
    // a looser bound (`ALIGNED_LEVELS_BETWEEN`: rendered text changes
    // gradually from row to row, but not linearly).
    // `give_up`: stop adding once the total exceeds it (the answer is then
    // "not aligned" whatever the rows left: most shifts are, and this
    // keeps the search over every shift cheap).
    let cost = |shift: isize, give_up: u64| -> Option<f64> {
        let (mut total, mut count) = (0u64, 0u64);
        let (half, odd) = (shift.div_euclid(2), shift.rem_euclid(2));
        for &y in &rows {
            let src = y as isize + half;
            if (0..n).contains(&src) && (0..n).contains(&(src + odd)) {
                let (a, b) = (
                    before[src as usize] as u32,
                    before[(src + odd) as usize] as u32,
                );
                total += (after[y] as u32).abs_diff((a + b).div_ceil(2)) as u64;
                count += 1;
                if total > give_up {
                    return Some(f64::INFINITY);
                }
            }
        }
        (count * 3 >= rows.len() as u64).then(|| total as f64 / (count as f64 * BAND as f64))
    };
    let unmoved = cost(0, u64::MAX)?;
    Some(
        (-max_shift..=max_shift)
            .map(|s| {
                let (levels, share) = if s % 2 == 0 {
                    (ALIGNED_LEVELS, ALIGNED_SHARE)
                } else {
                    (ALIGNED_LEVELS_BETWEEN, ALIGNED_SHARE_BETWEEN)
                };
                let limit = levels.min(share * unmoved);
                let give_up = (limit * (BAND * rows.len()) as f64).ceil() as u64;
                cost(s, give_up).is_some_and(|c| c <= limit)
            })
            .collect(),
    )
}

/// The sum of a blank row: the most common row sum of both profiles.
fn blank_row(before: &[u16], after: &[u16]) -> u32 {
    let mut sums: Vec<u16> = before.iter().chain(after).copied().collect();
    sums.sort_unstable();
    let (mut best, mut best_run, mut run) = (sums.first().copied().unwrap_or(0), 0, 0);
    for (i, &v) in sums.iter().enumerate() {
        run = if i > 0 && sums[i - 1] == v {
            run + 1
        } else {
            1
        };
        if run > best_run {
            (best, best_run) = (v, run);
        }
    }
    best as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plane::OwnedLumaPlane;

    /// A white page with dark text lines of 12 px every 24 px; `text(line)`
    /// says which lines exist, `seed` varies their glyphs and lengths.
    fn page(
        width: usize,
        height: usize,
        scroll: usize,
        seed: usize,
        text: impl Fn(usize) -> bool,
    ) -> FrameSignature {
        let data = (0..width * height)
            .map(|i| {
                let (x, y) = (i % width, i / width + scroll);
                let line = y / 24;
                let end = width - 40 - (line * 7919 + seed * 31) % 250;
                let in_text = y % 24 < 12 && x > 40 && x < end && text(line);
                if in_text && (x / 3 * 7 + line * 13 + seed) % 11 < 5 {
                    20
                } else {
                    235
                }
            })
            .collect();
        let p = OwnedLumaPlane::from_packed(data, width, height).unwrap();
        FrameSignature::of(&p.as_plane()).unwrap()
    }

    #[test]
    fn identical_screens_do_not_differ() {
        let a = page(640, 360, 0, 1, |_| true);
        let c = compare(&a, &a, &vec![false; a.cells().len()], true);
        assert_eq!(c.changed, 0);
        assert_eq!(c.bounds, None);
    }

    #[test]
    fn text_added_on_background_is_added_and_replaced_text_is_replaced() {
        let before = page(640, 360, 0, 1, |line| line < 5);
        let added = page(640, 360, 0, 1, |line| line < 8);
        let c = compare(&before, &added, &vec![false; before.cells().len()], false);
        assert!(c.added > 0 && c.replaced + c.removed == 0, "{c:?}");
        let other = page(640, 360, 0, 2, |line| line < 6);
        let c = compare(&before, &other, &vec![false; before.cells().len()], false);
        assert!(c.replaced > c.added, "{c:?}");
    }

    #[test]
    fn a_scrolled_page_is_recognised_with_its_shift() {
        let before = page(640, 480, 0, 1, |_| true);
        let after = page(640, 480, 48, 1, |_| true);
        let c = compare(&before, &after, &vec![false; before.cells().len()], true);
        assert_eq!(c.scroll, Some(48), "{c:?}");
        assert!(c.exposed_share() < 0.2);
    }

    #[test]
    fn a_scroll_by_an_odd_number_of_pixels_is_found() {
        // Light text on a dark background whose glyph rows differ pixel row
        // by pixel row (text lines 17 px high scroll by odd steps).
        let screen = |scroll: usize| {
            let (width, height) = (640, 480);
            let data = (0..width * height)
                .map(|i| {
                    let (x, y) = (i % width, i / width + scroll);
                    let line = y / 17;
                    let hash = (line as u32).wrapping_mul(2_654_435_761) >> 16;
                    let end = 100 + hash as usize % 400;
                    // Ink per pixel row of a text line, in eighths: thin
                    // ascenders, a dense x-height band, descenders; rows
                    // change gradually, as anti-aliased text does.
                    const INK_ROWS: [u32; 17] = [0, 1, 2, 3, 4, 5, 6, 6, 6, 5, 4, 3, 2, 1, 0, 0, 0];
                    let ink = INK_ROWS[y % 17];
                    let glyph = (x as u32 / 2)
                        .wrapping_add(hash)
                        .wrapping_mul(2_246_822_519)
                        >> 29;
                    if x > 30 && x < end && glyph < ink {
                        210
                    } else {
                        30
                    }
                })
                .collect();
            let p = OwnedLumaPlane::from_packed(data, width, height).unwrap();
            FrameSignature::of(&p.as_plane()).unwrap()
        };
        let (before, after) = (screen(0), screen(51));
        let c = compare(&before, &after, &vec![false; before.cells().len()], true);
        assert_eq!(c.scroll, Some(51), "{c:?}");
    }

    #[test]
    fn a_connector_is_a_thin_vertical_run_and_text_is_not() {
        let (w, h) = (640, 360);
        let blank = page(w, h, 0, 1, |_| false);
        // A 3 px stroke across a cell boundary, 120 px long.
        let mut data = vec![235u8; w * h];
        for y in 100..220 {
            data[y * w + 309..y * w + 312].fill(40);
        }
        let stroke = OwnedLumaPlane::from_packed(data, w, h).unwrap();
        let stroke = FrameSignature::of(&stroke.as_plane()).unwrap();
        let text = page(w, h, 0, 1, |line| (4..9).contains(&line));
        let run = |later: &FrameSignature| {
            let active = vec![false; blank.cells().len()];
            compare(&blank, later, &active, false).thin_vertical_run()
        };
        assert!(run(&stroke) >= 14, "stroke: {}", run(&stroke));
        assert!(run(&text) <= 2, "text: {}", run(&text));
    }

    #[test]
    fn active_cells_are_not_compared() {
        let before = page(640, 360, 0, 1, |_| true);
        let after = page(640, 360, 100, 1, |line| line % 2 == 0);
        let all = vec![true; before.cells().len()];
        let c = compare(&before, &after, &all, true);
        assert_eq!((c.changed, c.compared), (0, 0));
    }
}
