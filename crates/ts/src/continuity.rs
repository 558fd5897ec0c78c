//! Continuity-counter checks per PID (ISO/IEC 13818-1, 2.4.3.3).

use crate::packet::PID_COUNT;

/// No packet seen yet on this PID (or expectations were reset).
const UNKNOWN: u8 = 0xff;
/// Set once the one legal duplicate of the last packet has been seen.
const DUPLICATE_SEEN: u8 = 0x10;

/// How a packet fits the PID's counter sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Continuity {
    InOrder,
    /// A repeat of the previous packet: its payload must not be used twice.
    Duplicate,
    /// Packets were lost (or the sender skipped a count).
    Gap {
        expected: u8,
    },
}

pub(crate) struct ContinuityTracker {
    /// Per PID: last counter in the low nibble, plus [`DUPLICATE_SEEN`].
    last: Box<[u8]>,
}

impl Default for ContinuityTracker {
    fn default() -> Self {
        ContinuityTracker {
            last: vec![UNKNOWN; PID_COUNT].into_boxed_slice(),
        }
    }
}

impl ContinuityTracker {
    /// Checks a packet and records its counter. Packets without payload do not
    /// advance the counter; a discontinuity indicator restarts the sequence.
    pub fn check(
        &mut self,
        pid: u16,
        counter: u8,
        has_payload: bool,
        discontinuity: bool,
    ) -> Continuity {
        let Some(state) = self.last.get_mut(pid as usize) else {
            return Continuity::InOrder;
        };
        let previous = *state;
        *state = counter;
        if previous == UNKNOWN || discontinuity {
            return Continuity::InOrder;
        }
        let last = previous & 0x0f;
        let expected = if has_payload { (last + 1) & 0x0f } else { last };
        if counter == expected {
            return Continuity::InOrder;
        }
        if has_payload && counter == last && previous & DUPLICATE_SEEN == 0 {
            *state = counter | DUPLICATE_SEEN;
            return Continuity::Duplicate;
        }
        Continuity::Gap { expected }
    }

    /// Forgets a PID, e.g. when it stops being a followed stream.
    pub fn forget(&mut self, pid: u16) {
        if let Some(state) = self.last.get_mut(pid as usize) {
            *state = UNKNOWN;
        }
    }

    pub fn forget_all(&mut self) {
        self.last.fill(UNKNOWN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Continuity::*;

    #[test]
    fn counts_wrap_and_gaps() {
        let mut t = ContinuityTracker::default();
        assert_eq!(t.check(1, 15, true, false), InOrder);
        assert_eq!(t.check(1, 0, true, false), InOrder);
        assert_eq!(t.check(1, 2, true, false), Gap { expected: 1 });
        assert_eq!(t.check(1, 3, true, false), InOrder);
    }

    #[test]
    fn one_duplicate_is_legal_a_second_is_not() {
        let mut t = ContinuityTracker::default();
        t.check(7, 4, true, false);
        assert_eq!(t.check(7, 4, true, false), Duplicate);
        assert_eq!(t.check(7, 4, true, false), Gap { expected: 5 });
        assert_eq!(t.check(7, 5, true, false), InOrder);
        assert_eq!(t.check(7, 5, true, false), Duplicate);
    }

    #[test]
    fn adaptation_only_packets_keep_the_counter() {
        let mut t = ContinuityTracker::default();
        t.check(3, 9, true, false);
        assert_eq!(t.check(3, 9, false, false), InOrder);
        assert_eq!(t.check(3, 10, true, false), InOrder);
        assert_eq!(t.check(3, 11, false, false), Gap { expected: 10 });
    }

    #[test]
    fn discontinuity_indicator_resets() {
        let mut t = ContinuityTracker::default();
        t.check(3, 9, true, false);
        assert_eq!(t.check(3, 2, true, true), InOrder);
        assert_eq!(t.check(3, 3, true, false), InOrder);
        t.forget(3);
        assert_eq!(t.check(3, 12, true, false), InOrder);
    }
}
