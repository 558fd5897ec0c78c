//! Where the screen keeps changing: a per-cell memory of recent changes.
//!
//! A cell that changes again and again (a playing video, a live chart, a
//! clock, a spinner, a blinking caret) is *activity*: changes inside it are
//! not new content. Time is cut into slots of `SLOT_MS`; each cell remembers
//! in which of the last slots it changed, and is active when it changed in
//! `ACTIVE_SLOTS` of the last `WINDOW` slots. A transition or a fade changes
//! cells for well under a second (too few slots); typing or a pointer
//! changes a cell once or twice; a video, a chart or a caret keep at it. A
//! region that stops moving stops being activity within two seconds.
//!
//! Only frames that change a minority of the screen teach activity: a slide
//! switch or a transition changes most cells at once, and must not make the
//! whole screen "active". (The slots live in `cells::Cells`, updated in the
//! per-frame pass.)

/// Length of a slot, in milliseconds.
pub(crate) const SLOT_MS: i64 = 250;
/// The slots looked at: the last 3 s.
pub(crate) const WINDOW: u16 = 0x0fff;
/// A cell is active when it changed in this many of them (1.25 s of
/// changes: a caret blinking at 1 Hz reaches it in ~2.5 s).
pub(crate) const ACTIVE_SLOTS: u32 = 5;
/// Frames that change more than this share of the screen do not teach.
pub(crate) const MAX_TEACHING_SHARE: f64 = 0.6;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::cells::{Cells, Frame};

    /// Runs frames of 4 cells at 30 fps; `changes(frame)` says which cells
    /// change in that frame.
    fn learn(cells: &mut Cells, frames: usize, changes: impl Fn(usize) -> [bool; 4]) {
        let mut values = [0u8; 4];
        for f in 0..frames {
            let prev = values;
            for (v, c) in values.iter_mut().zip(changes(f)) {
                if c {
                    *v = v.wrapping_add(50);
                }
            }
            let moving = changes(f).iter().filter(|&&c| c).count() as u32;
            let frame = Frame {
                prev: &prev,
                cur: &values,
                lookback: None,
                now: f as i32 * 33,
                recent_since: 0,
                max_teaching: (MAX_TEACHING_SHARE * 4.0) as u32,
            };
            let counts = cells.pass(&frame);
            assert_eq!(counts.moving, moving);
        }
    }

    #[test]
    fn a_blinking_cell_becomes_active_and_a_moving_pointer_does_not() {
        let mut cells = Cells::new(4);
        // Cell 0 blinks twice a second; cell 1 changes once (a pointer passing).
        learn(&mut cells, 90, |f| [f % 15 == 0, f == 10, false, false]);
        assert_eq!(cells.active, [true, false, false, false]);
    }

    #[test]
    fn a_whole_screen_change_teaches_nothing_and_activity_fades() {
        let mut cells = Cells::new(4);
        learn(&mut cells, 60, |_| [true; 4]);
        assert_eq!(cells.active, [false; 4]);
        learn(&mut cells, 60, |_| [true, false, false, false]);
        assert!(cells.active[0]);
        learn(&mut cells, 4 * 30, |_| [false; 4]);
        assert!(
            !cells.active[0],
            "activity must fade once the region is still"
        );
    }
}
