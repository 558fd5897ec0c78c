//! Presentation times of access units that went into the decoder and have not
//! come out as pictures yet.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// openh264 carries each access unit's PTS to its picture; what is pending
/// tells how many access units never came out (and bounds that).
#[derive(Debug, Default)]
pub(crate) struct PendingPts {
    heap: BinaryHeap<Reverse<i64>>,
}

impl PendingPts {
    pub fn push(&mut self, pts: i64) {
        self.heap.push(Reverse(pts));
    }

    pub fn pop_smallest(&mut self) -> Option<i64> {
        self.heap.pop().map(|Reverse(pts)| pts)
    }

    /// Takes `pts` out; false when it was not pending.
    pub fn remove(&mut self, pts: i64) -> bool {
        let before = self.heap.len();
        self.heap.retain(|Reverse(p)| *p != pts);
        let removed = before - self.heap.len();
        // Of equal timestamps (a broken stream), only one is taken.
        for _ in 1..removed {
            self.heap.push(Reverse(pts));
        }
        removed > 0
    }

    pub fn smallest(&self) -> Option<i64> {
        self.heap.peek().map(|Reverse(pts)| *pts)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_decode_order_input_in_display_order() {
        let mut q = PendingPts::default();
        for pts in [3000, 12000, 6000, 9000] {
            q.push(pts);
        }
        assert_eq!(q.pop_smallest(), Some(3000));
        assert_eq!(q.pop_smallest(), Some(6000));
        assert_eq!(q.len(), 2);
        assert!(q.remove(12000) && !q.remove(12000));
        assert_eq!(q.smallest(), Some(9000));
    }
}
