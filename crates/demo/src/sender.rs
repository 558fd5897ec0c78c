//! Sending the demo over TCP in real time, as a live sender would.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::{DemoError, DemoOptions, DemoSource, DemoStats};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest sleep between checks of the stop flag.
const STOP_POLL: Duration = Duration::from_millis(20);

/// Connects to `addr` and sends the demo in real time (each chunk when the
/// wall clock reaches its media time) until `duration` is reached or `stop`
/// is set. A chunk that is late is sent at once; lateness is reported in the
/// returned stats, never caught up by dropping data.
pub fn send_demo(
    addr: SocketAddr,
    opts: DemoOptions,
    stop: &AtomicBool,
) -> Result<DemoStats, DemoError> {
    let mut source = DemoSource::new(opts)?;
    let mut socket = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
    socket.set_nodelay(true)?;
    let start = Instant::now();
    let mut max_lateness = Duration::ZERO;
    // What the receiver got: the source's counters as of the last chunk written.
    let mut stats = DemoStats::default();
    while !stop.load(Ordering::Relaxed) {
        // The chunk is made before the wait, so encoding overlaps it.
        let Some((media_time, chunk)) = source.next_chunk()? else {
            break;
        };
        let due = start + Duration::from_secs_f64(media_time);
        if !sleep_until(due, stop) {
            break;
        }
        max_lateness = max_lateness.max(Instant::now().saturating_duration_since(due));
        socket.write_all(&chunk)?;
        stats = source.stats();
    }
    socket.flush()?;
    stats.elapsed = start.elapsed();
    stats.max_lateness_secs = max_lateness.as_secs_f64();
    Ok(stats)
}

/// Sleeps until `due`; false if `stop` was set meanwhile.
fn sleep_until(due: Instant, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= due {
            return true;
        }
        std::thread::sleep((due - now).min(STOP_POLL));
    }
}
