//! Keeping accept loops and their logs bounded when peers misbehave.
//!
//! A local peer can open connections faster than anyone reads a log, and an
//! exhausted file-descriptor table makes `accept` fail at once, every time,
//! for as long as it lasts: a loop that logs each failure writes hundreds of
//! megabytes in seconds. [`AcceptBackoff`] sleeps longer after each failure
//! and logs a burst of failures once (with a reminder every 30 s and a line
//! when it ends); [`LogBurst`] lets one line through per interval and counts
//! the rest. Both are used by the ingest and by `cht`'s HTTP servers.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

/// First pause after a failed `accept`.
const FIRST_PAUSE: Duration = Duration::from_millis(5);
/// Longest pause: what a new connection may wait once the table has room again.
const MAX_PAUSE: Duration = Duration::from_millis(500);
/// A burst that goes on is reported again this often.
const REMIND_EVERY: Duration = Duration::from_secs(30);
/// A burst is over once accepting has worked for this long with no failure
/// (while descriptors come and go, single accepts succeed between failures).
const QUIET: Duration = Duration::from_secs(2);

/// Backs off and logs once per burst of `accept` failures.
#[derive(Debug)]
pub struct AcceptBackoff {
    what: &'static str,
    pause: Duration,
    burst: Option<Burst>,
}

#[derive(Debug)]
struct Burst {
    started: Instant,
    failures: u64,
    reported: Instant,
    last_failure: Instant,
}

impl AcceptBackoff {
    /// `what` names the listener in the log ("ingest", "control API").
    pub fn new(what: &'static str) -> Self {
        AcceptBackoff {
            what,
            pause: FIRST_PAUSE,
            burst: None,
        }
    }

    /// `accept` failed with `e`: logs if this starts a burst (or a reminder
    /// is due) and returns how long to wait before the next `accept`.
    pub fn failed(&mut self, e: &std::io::Error) -> Duration {
        self.failed_at(e, Instant::now())
    }

    fn failed_at(&mut self, e: &std::io::Error, now: Instant) -> Duration {
        match self.note_failure(now) {
            Some(1) => tracing::warn!(
                "{}: accepting connections fails: {e}{}; backing off (further failures are counted, not logged)",
                self.what,
                fd_hint(e)
            ),
            Some(failures) => tracing::warn!(
                "{}: accept still failing ({e}): {failures} failures in {:.0} s",
                self.what,
                self.burst
                    .as_ref()
                    .map_or(0.0, |b| now.duration_since(b.started).as_secs_f64())
            ),
            None => {}
        }
        let pause = self.pause;
        self.pause = (self.pause * 2).min(MAX_PAUSE);
        pause
    }

    /// Counts a failure; `Some(failures so far)` when a line is due.
    fn note_failure(&mut self, now: Instant) -> Option<u64> {
        if self
            .burst
            .as_ref()
            .is_some_and(|b| now.duration_since(b.last_failure) >= QUIET)
        {
            self.end_burst();
        }
        let Some(burst) = &mut self.burst else {
            self.burst = Some(Burst {
                started: now,
                failures: 1,
                reported: now,
                last_failure: now,
            });
            return Some(1);
        };
        burst.failures += 1;
        burst.last_failure = now;
        if now.duration_since(burst.reported) < REMIND_EVERY {
            return None;
        }
        burst.reported = now;
        Some(burst.failures)
    }

    /// `accept` worked: a burst is over once no failure came for a while
    /// (one line saying how long it lasted).
    pub fn succeeded(&mut self) {
        self.pause = FIRST_PAUSE;
        if self
            .burst
            .as_ref()
            .is_some_and(|b| b.last_failure.elapsed() >= QUIET)
        {
            self.end_burst();
        }
    }

    fn end_burst(&mut self) {
        if let Some(burst) = self.burst.take() {
            tracing::info!(
                "{}: accepting connections again after {} failures in {:.1} s",
                self.what,
                burst.failures,
                burst
                    .last_failure
                    .duration_since(burst.started)
                    .as_secs_f64()
                    .max(0.0)
            );
        }
    }

    /// Failures in the burst going on (0 when none is).
    pub fn failures(&self) -> u64 {
        self.burst.as_ref().map_or(0, |b| b.failures)
    }
}

fn fd_hint(e: &std::io::Error) -> &'static str {
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    match e.raw_os_error() {
        Some(EMFILE) => " (this process is out of file descriptors: too many connections open at once, or `ulimit -n` too low)",
        Some(ENFILE) => " (the system is out of file descriptors)",
        _ => "",
    }
}

/// Errors of `accept` that concern one connection or pass with time; any
/// other error means the listener itself is broken.
pub fn is_transient_accept_error(e: &std::io::Error) -> bool {
    const EPERM: i32 = 1;
    const ENOMEM: i32 = 12;
    const ENFILE: i32 = 23;
    const EMFILE: i32 = 24;
    const EPROTO: i32 = 71;
    const ENOBUFS: i32 = 105;
    matches!(
        e.kind(),
        ErrorKind::ConnectionAborted
            | ErrorKind::ConnectionReset
            | ErrorKind::Interrupted
            | ErrorKind::WouldBlock
            | ErrorKind::TimedOut
    ) || matches!(
        e.raw_os_error(),
        Some(EPERM | ENOMEM | ENFILE | EMFILE | EPROTO | ENOBUFS)
    )
}

/// Lets one log line through per interval; counts the others.
#[derive(Debug)]
pub struct LogBurst {
    every: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl LogBurst {
    /// A burst limiter that lets one line through every `every`.
    pub fn new(every: Duration) -> Self {
        LogBurst {
            every,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(n)` when a line should be logged now, `n` being how many were
    /// held back since the last one; `None` to stay quiet.
    pub fn hit(&mut self) -> Option<u64> {
        self.hit_at(Instant::now())
    }

    fn hit_at(&mut self, now: Instant) -> Option<u64> {
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < self.every)
        {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// `" (and N more like it)"`, or nothing.
pub fn more_like_it(held_back: u64) -> String {
    if held_back == 0 {
        String::new()
    } else {
        format!(" (and {held_back} more like it since the last such line)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_failures_backs_off_and_is_reported_once() {
        let emfile = std::io::Error::from_raw_os_error(24);
        assert!(is_transient_accept_error(&emfile));
        let mut backoff = AcceptBackoff::new("test");
        let t0 = Instant::now();
        let pauses: Vec<Duration> = (0..10_000)
            .map(|i| backoff.failed_at(&emfile, t0 + Duration::from_micros(i)))
            .collect();
        assert_eq!(pauses[0], FIRST_PAUSE);
        assert!(pauses.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(*pauses.last().unwrap(), MAX_PAUSE);
        assert_eq!(backoff.failures(), 10_000);
        backoff.succeeded();
        assert_eq!(
            backoff.failed_at(&emfile, t0 + Duration::from_millis(20)),
            FIRST_PAUSE
        );
        assert_eq!(
            backoff.failures(),
            10_001,
            "a success between failures does not end the burst"
        );
    }

    #[test]
    fn flapping_is_one_burst_and_a_quiet_spell_ends_it() {
        let mut backoff = AcceptBackoff::new("test");
        let t0 = Instant::now();
        // Failures with successes in between (descriptors freed one at a
        // time): one line.
        let lines = (0..100)
            .filter_map(|i| backoff.note_failure(t0 + Duration::from_millis(i * 50)))
            .count();
        assert_eq!(lines, 1);
        // After a quiet spell, a failure is a new burst: a new line.
        let later = t0 + Duration::from_secs(5) + QUIET;
        assert_eq!(backoff.note_failure(later), Some(1));
    }

    #[test]
    fn lines_grow_with_time_not_with_failures() {
        let mut backoff = AcceptBackoff::new("test");
        let t0 = Instant::now();
        // 10 000 failures within a second: one line.
        let lines = (0..10_000)
            .filter_map(|i| backoff.note_failure(t0 + Duration::from_micros(i * 100)))
            .count();
        assert_eq!(lines, 1);
        // Then failing for 95 s more: a reminder every 30 s.
        let lines = (1..=950)
            .filter_map(|i| backoff.note_failure(t0 + Duration::from_millis(i * 100)))
            .collect::<Vec<_>>();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[0] > 10_000);
    }

    #[test]
    fn broken_listeners_are_not_transient() {
        let ebadf = std::io::Error::from_raw_os_error(9);
        let einval = std::io::Error::from_raw_os_error(22);
        assert!(!is_transient_accept_error(&ebadf));
        assert!(!is_transient_accept_error(&einval));
    }

    #[test]
    fn one_line_per_interval_with_a_count() {
        let mut burst = LogBurst::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert_eq!(burst.hit_at(t0), Some(0));
        for i in 1..=999 {
            assert_eq!(burst.hit_at(t0 + Duration::from_micros(i)), None);
        }
        assert_eq!(burst.hit_at(t0 + Duration::from_secs(1)), Some(999));
        assert_eq!(more_like_it(0), "");
        assert!(more_like_it(3).contains("3 more"));
    }
}
