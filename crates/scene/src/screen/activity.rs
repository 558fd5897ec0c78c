//! Where the screen keeps changing: a per-cell memory of recent changes.
//!
//! A cell that changes again and again (a playing video, a live chart, a
//! clock, a spinner, a blinking caret) is *activity*: changes inside it are
//! not new content. Each cell keeps a level that rises by one for every frame
//! in which it changed and decays with a time constant of a few seconds; a
//! cell is active above `ACTIVE_LEVEL`. The level is capped so that a region
//! that stops moving is treated as content again within ~3 s.
//!
//! Only frames that change a minority of the screen teach activity: a slide
//! switch or a transition changes most cells at once, and must not make the
//! whole screen "active".

/// Seconds for a level to decay by a factor e.
const TIME_CONSTANT: f32 = 3.0;
/// Level above which a cell is active: ~4 changes in the last 3 s (a caret
/// blinking at 1 Hz reaches it in ~2 s, a pointer or typed text never does).
const ACTIVE_LEVEL: f32 = 2.5;
/// The most a level can reach: a region that stops moving stops counting as
/// activity `TIME_CONSTANT * ln(MAX_LEVEL / ACTIVE_LEVEL)` ≈ 2.6 s later.
const MAX_LEVEL: f32 = 6.0;
/// Frames that change more than this share of the screen do not teach.
const MAX_TEACHING_SHARE: f64 = 0.6;

/// Per-cell activity levels of one stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct Activity {
    level: Vec<f32>,
    active: Vec<bool>,
    active_count: usize,
}

impl Activity {
    pub fn new(cells: usize) -> Self {
        Activity {
            level: vec![0.0; cells],
            active: vec![false; cells],
            active_count: 0,
        }
    }

    /// Ages the levels by `dt` seconds and counts the cells changed in this
    /// frame (`changed[c]`), unless the frame changed most of the screen.
    pub fn learn(&mut self, changed: &[bool], changed_count: usize, dt: f64) {
        let decay = (-(dt.max(0.0) as f32) / TIME_CONSTANT).exp();
        let teach = (changed_count as f64) < MAX_TEACHING_SHARE * changed.len() as f64;
        let mut active_count = 0;
        for ((level, active), &c) in self.level.iter_mut().zip(&mut self.active).zip(changed) {
            let add = if teach && c { 1.0 } else { 0.0 };
            *level = (*level * decay + add).min(MAX_LEVEL);
            *active = *level >= ACTIVE_LEVEL;
            active_count += *active as usize;
        }
        self.active_count = active_count;
    }

    /// Whether cell `c` is active.
    #[cfg(test)]
    pub fn is_active(&self, c: usize) -> bool {
        self.active[c]
    }

    /// The active mask.
    pub fn mask(&self) -> &[bool] {
        &self.active
    }

    /// Share of the screen that is active.
    #[cfg(test)]
    pub fn active_share(&self) -> f64 {
        if self.active.is_empty() {
            0.0
        } else {
            self.active_count as f64 / self.active.len() as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blinking_cell_becomes_active_and_a_moving_pointer_does_not() {
        let mut a = Activity::new(4);
        // Cell 0 blinks twice a second; cell 1 changes once (a pointer passing).
        for frame in 0..90 {
            let blink = frame % 15 == 0;
            let pointer = frame == 10;
            a.learn(
                &[blink, pointer, false, false],
                blink as usize + pointer as usize,
                1.0 / 30.0,
            );
        }
        assert!(a.is_active(0));
        assert!(!a.is_active(1));
        assert!(!a.is_active(2));
    }

    #[test]
    fn a_whole_screen_change_teaches_nothing_and_activity_fades() {
        let mut a = Activity::new(4);
        for _ in 0..60 {
            a.learn(&[true; 4], 4, 1.0 / 30.0);
        }
        assert_eq!(a.active_share(), 0.0);
        for _ in 0..60 {
            a.learn(&[true, false, false, false], 1, 1.0 / 30.0);
        }
        assert!(a.is_active(0));
        for _ in 0..(4 * 30) {
            a.learn(&[false; 4], 0, 1.0 / 30.0);
        }
        assert!(
            !a.is_active(0),
            "activity must fade once the region is still"
        );
    }
}
