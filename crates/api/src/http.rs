//! Serving an axum router on loopback with limits a hostile local peer
//! cannot get around (`axum::serve` has none of these knobs).
//!
//! - A connection must send a complete request head within
//!   [`Limits::header_timeout`] of opening, and between requests it may stay
//!   idle (or be sending its next head) for [`Limits::idle_timeout`]; bytes
//!   trickled in do not extend either: half-sent requests cannot pile up.
//! - At most [`Limits::max_connections`] connections are open at once,
//!   derived from the process's file-descriptor limit so the recording
//!   always keeps descriptors to work with. When the cap is reached the
//!   connection idle the longest (no request in progress) is closed to make
//!   room, so a flood of half-open connections cannot lock the user out;
//!   only when every connection is busy is a new one turned away.
//! - `accept` errors (EMFILE...) back off and are logged once per burst.
//!
//! HTTP/1.1 only; what a request may do is the router's business (and the
//! [`crate::guard`] layer's).

use axum::Router;
use cht_ingest::limits::{is_transient_accept_error, more_like_it};
use cht_ingest::{AcceptBackoff, LogBurst};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

/// How often idle connections are looked at.
const IDLE_CHECK: Duration = Duration::from_millis(250);
/// Largest request head (and read buffer) per connection.
const MAX_HEAD: usize = 64 << 10;
/// Turned-away and evicted connections are logged at most this often.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// The limits of one server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to send the first complete request head, from connecting.
    pub header_timeout: Duration,
    /// After an answer, time until the next complete request head.
    pub idle_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
}

impl Limits {
    /// Defaults for a loopback API, with the connection cap at a quarter of
    /// this process's open-file limit (between 16 and 256).
    pub fn for_this_process() -> Self {
        let nofile = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .unwrap_or(1024);
        Limits {
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(15),
            max_connections: usize::try_from(nofile / 4).unwrap_or(256).clamp(16, 256),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` turns true; then open
/// requests get `grace` to finish before their connections are dropped.
pub async fn serve(
    what: &'static str,
    listener: TcpListener,
    app: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let registry = Arc::new(Registry::default());
    let mut backoff = AcceptBackoff::new(what);
    let mut turned_away = LogBurst::new(LOG_EVERY);
    let mut evicted = LogBurst::new(LOG_EVERY);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopping(&mut shutdown) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff.succeeded();
                stream
            }
            Err(e) if is_transient_accept_error(&e) => {
                let pause = backoff.failed(&e);
                tokio::select! {
                    () = tokio::time::sleep(pause) => continue,
                    () = stopping(&mut shutdown) => break,
                }
            }
            Err(e) => {
                tracing::error!("{what}: stops accepting connections: {e}");
                break;
            }
        };
        match registry.make_room(limits.max_connections) {
            Room::Free => {}
            Room::Evicted => {
                if let Some(held_back) = evicted.hit() {
                    tracing::warn!(
                        "{what}: {} connections open (the cap): closed the one idle longest{}",
                        limits.max_connections,
                        more_like_it(held_back)
                    );
                }
            }
            Room::Full => {
                if let Some(held_back) = turned_away.hit() {
                    tracing::warn!(
                        "{what}: {} connections busy (the cap): turned a new one away{}",
                        limits.max_connections,
                        more_like_it(held_back)
                    );
                }
                drop(stream);
                continue;
            }
        }
        let conn = registry.add();
        let (app, registry, shutdown) = (app.clone(), registry.clone(), shutdown.clone());
        tokio::spawn(async move {
            serve_connection(stream, app, conn.clone(), limits, shutdown).await;
            registry.remove(conn.id);
        });
    }
    // Connections saw the shutdown too: idle ones close now, busy ones
    // finish their request; all of them within the grace.
    let _ = tokio::time::timeout(grace, registry.all_closed()).await;
}

async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    app: Router,
    conn: Arc<ConnState>,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let service = {
        let conn = conn.clone();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let guard = InFlight::start(conn.clone());
            let mut app = app.clone();
            async move {
                let response = tower::Service::call(&mut app, request).await;
                response.map(|r| {
                    r.map(|body| TrackedBody {
                        inner: body,
                        _in_flight: guard,
                    })
                })
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's own header timeout also runs between requests, which would cut
    // keep-alive to it: the watch below times both instead.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .max_buf_size(MAX_HEAD)
        .keep_alive(true);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let mut draining = false;
    let mut check = tokio::time::interval(IDLE_CHECK);
    loop {
        tokio::select! {
            _ = connection.as_mut() => return,
            () = conn.close.notified() => return,
            () = stopping(&mut shutdown), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
            _ = check.tick() => {
                let limit = if conn.served.load(Ordering::Relaxed) {
                    limits.idle_timeout
                } else {
                    limits.header_timeout
                };
                if conn.idle_for().is_some_and(|idle| idle >= limit) {
                    return;
                }
            }
        }
    }
}

/// The connections open, to count them and pick one to close.
#[derive(Default)]
struct Registry {
    open: Mutex<HashMap<u64, Arc<ConnState>>>,
    next_id: AtomicU64,
}

enum Room {
    Free,
    Evicted,
    Full,
}

impl Registry {
    fn add(&self) -> Arc<ConnState> {
        let conn = Arc::new(ConnState::new(self.next_id.fetch_add(1, Ordering::Relaxed)));
        if let Ok(mut open) = self.open.lock() {
            open.insert(conn.id, conn.clone());
        }
        conn
    }

    fn remove(&self, id: u64) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(&id);
        }
    }

    /// Below the cap, or made so by closing the connection idle longest.
    fn make_room(&self, cap: usize) -> Room {
        let Ok(mut open) = self.open.lock() else {
            return Room::Full;
        };
        if open.len() < cap {
            return Room::Free;
        }
        let victim = open
            .values()
            .filter_map(|c| c.idle_for().map(|idle| (idle, c.id)))
            .max()
            .map(|(_, id)| id);
        match victim.and_then(|id| open.remove(&id)) {
            Some(conn) => {
                conn.close.notify_one();
                Room::Evicted
            }
            None => Room::Full,
        }
    }

    async fn all_closed(&self) {
        while self.open.lock().is_ok_and(|open| !open.is_empty()) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// One connection, as the server watches it.
struct ConnState {
    id: u64,
    /// Requests whose answer is not fully written yet.
    in_flight: AtomicUsize,
    /// When the last answer was written (or the connection opened).
    idle_since: Mutex<Instant>,
    /// It has had an answer: the keep-alive timeout applies, not the header one.
    served: AtomicBool,
    close: Notify,
}

impl ConnState {
    fn new(id: u64) -> Self {
        ConnState {
            id,
            in_flight: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            served: AtomicBool::new(false),
            close: Notify::new(),
        }
    }

    /// How long it has had no request in progress (`None`: one is).
    fn idle_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        self.idle_since.lock().ok().map(|since| since.elapsed())
    }
}

/// Counts a request from its head until its answer is written.
struct InFlight(Arc<ConnState>);

impl InFlight {
    fn start(conn: Arc<ConnState>) -> Self {
        conn.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(conn)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut since) = self.0.idle_since.lock() {
            *since = Instant::now();
        }
        self.0.served.store(true, Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that holds its request's [`InFlight`] until hyper has
/// written it all (an SSE stream keeps its connection busy, not idle).
struct TrackedBody {
    inner: axum::body::Body,
    _in_flight: InFlight,
}

impl HttpBody for TrackedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};

    /// Serves a one-route app with `limits` on a runtime of its own thread.
    fn server(limits: Limits) -> (SocketAddr, watch::Sender<bool>, std::thread::JoinHandle<()>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = watch::channel(false);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                let app = Router::new().route("/", axum::routing::get(|| async { "ok" }));
                serve(
                    "test",
                    listener,
                    app,
                    limits,
                    stopped,
                    Duration::from_millis(200),
                )
                .await;
            });
        });
        (addr, stop, thread)
    }

    /// How long until the server closes `socket` (reading whatever it sends).
    fn closed_after(mut socket: TcpStream, started: Instant) -> Duration {
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0u8; 1024];
        loop {
            match socket.read(&mut buf) {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    }

    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

    #[test]
    fn half_sent_heads_trickles_and_idle_keep_alives_are_closed() {
        let limits = Limits {
            header_timeout: Duration::from_millis(400),
            idle_timeout: Duration::from_millis(900),
            max_connections: 8,
        };
        let (addr, stop, thread) = server(limits);

        let started = Instant::now();
        let mut half = TcpStream::connect(addr).unwrap();
        half.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .unwrap();
        let half_closed = closed_after(half, started);

        // A byte every 50 ms never makes a head: bytes do not buy time.
        let started = Instant::now();
        let trickle = TcpStream::connect(addr).unwrap();
        let writer = trickle.try_clone().unwrap();
        let dripping = std::thread::spawn(move || {
            let mut writer = writer;
            for &b in b"GET / HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
                if writer.write_all(&[b]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let trickle_closed = closed_after(trickle, started);

        let mut kept = TcpStream::connect(addr).unwrap();
        kept.write_all(GET).unwrap();
        let mut answer = [0u8; 12];
        kept.read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"HTTP/1.1 200");
        let answered = Instant::now();
        let idle_closed = closed_after(kept, answered);

        dripping.join().unwrap();
        stop.send_replace(true);
        thread.join().unwrap();
        let slack = Duration::from_secs(1);
        for (what, took, limit) in [
            ("half-sent head", half_closed, limits.header_timeout),
            ("trickled head", trickle_closed, limits.header_timeout),
            ("idle keep-alive", idle_closed, limits.idle_timeout),
        ] {
            assert!(
                took >= limit.mul_f32(0.9) && took < limit + slack,
                "{what}: closed after {took:?}"
            );
        }
    }

    #[test]
    fn a_full_server_closes_the_longest_idle_connection_for_a_new_one() {
        let limits = Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(10),
            max_connections: 2,
        };
        let (addr, stop, thread) = server(limits);
        let started = Instant::now();
        let oldest = TcpStream::connect(addr).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let _second = TcpStream::connect(addr).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let mut newcomer = TcpStream::connect(addr).unwrap();
        newcomer.write_all(GET).unwrap();
        let mut answer = [0u8; 12];
        newcomer.read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"HTTP/1.1 200", "the newcomer is served");
        assert!(
            closed_after(oldest, started) < Duration::from_secs(2),
            "the oldest idle one made room"
        );
        stop.send_replace(true);
        thread.join().unwrap();
    }

    #[test]
    fn the_cap_follows_the_file_limit() {
        let limits = Limits::for_this_process();
        assert!((16..=256).contains(&limits.max_connections));
        assert!(limits.header_timeout < limits.idle_timeout);
    }

    #[test]
    fn the_longest_idle_connection_makes_room_and_busy_ones_stay() {
        let registry = Registry::default();
        let a = registry.add();
        std::thread::sleep(Duration::from_millis(5));
        let b = registry.add();
        assert!(matches!(registry.make_room(3), Room::Free));
        assert!(matches!(registry.make_room(2), Room::Evicted));
        assert!(
            !registry.open.lock().unwrap().contains_key(&a.id),
            "oldest idle goes"
        );
        let busy = InFlight::start(b.clone());
        assert!(
            matches!(registry.make_room(1), Room::Full),
            "busy connections stay"
        );
        drop(busy);
        assert!(b.served.load(Ordering::Relaxed));
        assert!(matches!(registry.make_room(1), Room::Evicted));
    }
}
