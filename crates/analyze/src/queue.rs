//! A queue between the recorder's thread and an analysis worker that never
//! blocks the producer and holds a bounded number of bytes.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};

struct State<T> {
    items: VecDeque<(T, usize)>,
    bytes: usize,
    closed: bool,
}

pub(crate) struct WorkQueue<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
    budget: usize,
}

impl<T> WorkQueue<T> {
    pub fn new(budget_bytes: usize) -> Self {
        WorkQueue {
            state: Mutex::new(State {
                items: VecDeque::new(),
                bytes: 0,
                closed: false,
            }),
            ready: Condvar::new(),
            budget: budget_bytes,
        }
    }

    /// Queues media if it fits the byte budget; `false` when it does not
    /// (the caller decides what to skip).
    pub fn try_push(&self, item: T, bytes: usize) -> bool {
        let Ok(mut s) = self.state.lock() else {
            return false;
        };
        if s.closed || s.bytes + bytes > self.budget {
            return false;
        }
        s.bytes += bytes;
        s.items.push_back((item, bytes));
        self.ready.notify_one();
        true
    }

    /// Queues a control message: always accepted (they are tiny and carry
    /// the segment structure, which must not be lost).
    pub fn push_control(&self, item: T) {
        if let Ok(mut s) = self.state.lock() {
            s.items.push_back((item, 0));
            self.ready.notify_one();
        }
    }

    /// Waits for the next item; `None` once closed and drained.
    pub fn pop(&self) -> Option<T> {
        let mut s = self.state.lock().ok()?;
        loop {
            if let Some((item, bytes)) = s.items.pop_front() {
                s.bytes -= bytes;
                return Some(item);
            }
            if s.closed {
                return None;
            }
            s = self.ready.wait(s).ok()?;
        }
    }

    /// Drops every queued media item (control messages stay); returns how
    /// many were dropped.
    pub fn discard_media(&self) -> usize {
        let Ok(mut s) = self.state.lock() else {
            return 0;
        };
        let before = s.items.len();
        s.items.retain(|(_, bytes)| *bytes == 0);
        s.bytes = 0;
        before - s.items.len()
    }

    pub fn close(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.closed = true;
            self.ready.notify_all();
        }
    }

    pub fn queued_bytes(&self) -> usize {
        self.state.lock().map_or(0, |s| s.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn refuses_media_over_budget_but_never_control() {
        let q = WorkQueue::new(10);
        assert!(q.try_push(1, 6));
        assert!(!q.try_push(2, 6));
        q.push_control(3);
        assert!(q.try_push(4, 4));
        q.close();
        assert_eq!(
            (q.pop(), q.pop(), q.pop(), q.pop()),
            (Some(1), Some(3), Some(4), None)
        );
    }

    #[test]
    fn discarding_keeps_control_messages_in_order() {
        let q = WorkQueue::new(100);
        q.try_push(1, 5);
        q.push_control(2);
        q.try_push(3, 5);
        q.push_control(4);
        assert_eq!(q.discard_media(), 2);
        assert_eq!(q.queued_bytes(), 0);
        q.close();
        assert_eq!((q.pop(), q.pop(), q.pop()), (Some(2), Some(4), None));
    }

    #[test]
    fn a_waiting_consumer_wakes_up() {
        let q = Arc::new(WorkQueue::new(100));
        let q2 = q.clone();
        let t = std::thread::spawn(move || (q2.pop(), q2.pop()));
        std::thread::sleep(std::time::Duration::from_millis(50));
        q.try_push(7, 1);
        q.close();
        assert_eq!(t.join().unwrap(), (Some(7), None));
        assert_eq!(q.queued_bytes(), 0);
    }
}
