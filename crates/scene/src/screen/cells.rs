//! The per-frame pass over the cells of a frame: what moved, what is
//! activity, what is new.
//!
//! It runs on every decoded frame, over ~32,000 cells at 1080p, so it is a
//! few plain loops over bytes and 32-bit numbers that the compiler
//! vectorises, compiled twice: for the baseline instruction set and, chosen
//! at run time, for AVX2 (twice the lanes).

/// Cells changed by this much between two frames moved.
pub(crate) const MOTION_CHANGE: u8 = 3;
/// A cell changed strongly: the step of a hard cut, not of motion.
pub(crate) const STRONG_CHANGE: u8 = 16;

/// Per-cell state of one stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cells {
    /// Moved in the last frame.
    pub changed: Vec<bool>,
    /// When each cell last moved, in milliseconds.
    pub last_moved: Vec<i32>,
    /// In which of the recent time slots each cell changed (bit 0: the
    /// current slot; see `activity`), and whether that makes it active.
    pub slots: Vec<u16>,
    pub active: Vec<bool>,
    /// The current slot's number.
    slot: i64,
}

/// The inputs of one pass besides the state.
pub(crate) struct Frame<'a> {
    pub prev: &'a [u8],
    pub cur: &'a [u8],
    /// The frame `LOOKBACK` ago, if any.
    pub lookback: Option<&'a [u8]>,
    /// This frame's time and the start of the recent-motion window, in ms.
    pub now: i32,
    pub recent_since: i32,

    /// Frames changing more than this many cells do not teach activity.
    pub max_teaching: u32,
}

/// What one pass counted, in cells.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counts {
    pub moving: u32,
    pub strong: u32,
    /// Sum of absolute cell changes.
    pub total: u32,
    pub moved_recently: u32,
    /// Moved and not active.
    pub novel: u32,
    /// Moved since the lookback frame and not active.
    pub novel_since_lookback: u32,
    pub active: u32,
}

impl Cells {
    pub fn new(cells: usize) -> Self {
        Cells {
            changed: vec![false; cells],
            last_moved: vec![i32::MIN / 2; cells],
            slots: vec![0; cells],
            active: vec![false; cells],
            slot: i64::MIN,
        }
    }

    /// Takes in a frame (all slices as long as the state).
    pub fn pass(&mut self, frame: &Frame<'_>) -> Counts {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { self.pass_avx2(frame) };
        }
        self.pass_any(frame)
    }

    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn pass_avx2(&mut self, frame: &Frame<'_>) -> Counts {
        self.pass_any(frame)
    }

    #[inline(always)]
    fn pass_any(&mut self, frame: &Frame<'_>) -> Counts {
        let mut counts = self.motion(frame);
        counts.active = self.activity(frame, counts.moving <= frame.max_teaching);
        counts.novel = self
            .changed
            .iter()
            .zip(&self.active)
            .map(|(&c, &act)| (c & !act) as u32)
            .sum();
        if let Some(old) = frame.lookback {
            counts.novel_since_lookback = old
                .iter()
                .zip(frame.cur)
                .zip(&self.active)
                .map(|((&p, &q), &act)| (p.abs_diff(q) >= MOTION_CHANGE && !act) as u32)
                .sum();
        }
        counts
    }

    #[inline(always)]
    fn motion(&mut self, frame: &Frame<'_>) -> Counts {
        let mut counts = Counts::default();
        for ((c, &p), &q) in self.changed.iter_mut().zip(frame.prev).zip(frame.cur) {
            let d = p.abs_diff(q);
            counts.total += d as u32;
            *c = d >= MOTION_CHANGE;
            counts.moving += *c as u32;
            counts.strong += (d >= STRONG_CHANGE) as u32;
        }
        for (last, &c) in self.last_moved.iter_mut().zip(&self.changed) {
            // Branch-free select, so that the loop vectorises.
            let mask = -(c as i32);
            *last = (*last & !mask) | (frame.now & mask);
            counts.moved_recently += (*last >= frame.recent_since) as u32;
        }
        counts
    }

    /// Moves the slots on to this frame's and marks this frame's changes
    /// (if it teaches); returns the number of active cells.
    #[inline(always)]
    fn activity(&mut self, frame: &Frame<'_>, teach: bool) -> u32 {
        let slot = (frame.now as i64).div_euclid(super::activity::SLOT_MS);
        let shift = slot.saturating_sub(self.slot).clamp(0, 16) as u32;
        self.slot = slot;
        let teach = teach as u16;
        let mut active_count = 0u32;
        let cells = self.slots.iter_mut().zip(&mut self.active);
        for ((slots, active), &c) in cells.zip(&self.changed) {
            *slots = slots.checked_shl(shift).unwrap_or(0) | (teach & c as u16);
            *active =
                (*slots & super::activity::WINDOW).count_ones() >= super::activity::ACTIVE_SLOTS;
            active_count += *active as u32;
        }
        active_count
    }
}
