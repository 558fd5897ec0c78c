//! One-sender-at-a-time TCP ingest.
//!
//! Every connection is first judged by its first bytes ([`crate::sniff`]):
//! only MPEG-TS reaches the sink. A sender is dropped when it makes no
//! progress (no complete media unit, as the sink counts them) for the idle
//! timeout, so a peer trickling bytes cannot hold the only slot. A second
//! connection is refused while the current sender delivers media; while it
//! is stalled, the newcomer waits (at most the idle timeout) and takes over
//! if the stalled one is dropped.

use crate::limits::{is_transient_accept_error, more_like_it, AcceptBackoff, LogBurst};
use crate::sniff::{self, Looks, Verdict};
use crate::IngestError;
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often the server wakes up when nothing arrives, to notice a stop
/// request, an idle sender or a second connection.
const POLL: Duration = Duration::from_millis(100);
/// A sender with no complete media unit for this long counts as stalled: a
/// newcomer may wait for its slot instead of being refused.
const STALLED: Duration = Duration::from_secs(1);
/// Refused and rejected peers are logged at most once per this interval.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// How the ingest listens.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// The address to listen on (loopback unless chosen otherwise).
    pub listen: SocketAddr,
    /// A sender that delivers no complete media unit (or, for a sink that
    /// does not count them, no byte) for this long is dropped.
    pub idle_timeout: Duration,
    /// Size of one socket read.
    pub read_size: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 4444)),
            idle_timeout: Duration::from_secs(10),
            read_size: 256 * 1024,
        }
    }
}

/// Why a sender's connection ended.
#[derive(Debug)]
pub enum DisconnectReason {
    /// The sender closed the connection.
    Closed,
    /// No progress (complete media units) for the idle timeout.
    Idle,
    /// The socket failed.
    Error(std::io::Error),
    /// A stop was requested (Ctrl-C).
    Shutdown,
}

/// Receives what the server reads, in order. Only `data` is required.
///
/// A connection reaches the sink only once its first bytes are MPEG-TS:
/// `connected` comes then, with those first bytes in the next `data`.
pub trait IngestSink {
    /// A sender connected; its bytes follow.
    fn connected(&mut self, _peer: SocketAddr) {}
    /// Bytes as read from the socket, split at arbitrary points.
    fn data(&mut self, bytes: &[u8]);
    /// The sender's connection ended.
    fn disconnected(&mut self, _peer: SocketAddr, _reason: &DisconnectReason) {}
    /// A second sender tried to connect while one is being served.
    fn refused(&mut self, _peer: SocketAddr) {}
    /// A connection was closed before reaching the sink: its first bytes
    /// are not MPEG-TS.
    fn rejected(&mut self, _peer: SocketAddr, _looks: Looks) {}
    /// Called at least every 100 ms, with or without data (housekeeping).
    fn tick(&mut self) {}
    /// A count that grows with every complete media unit (video access
    /// unit, audio frame) the sink has taken so far. The idle timeout is
    /// time without this count moving. `None` (the default): the sink does
    /// not parse media, and every byte counts as progress.
    fn progress(&self) -> Option<u64> {
        None
    }
}

/// Accepts MPEG-TS senders on one address, one at a time, and drives an [`IngestSink`].
pub struct IngestServer {
    listener: TcpListener,
    opts: IngestOptions,
}

/// What is logged about peers that are turned away, bounded under a flood.
struct TurnedAway {
    refused: LogBurst,
    /// One per kind of protocol seen, so each is named at least once.
    rejected: [LogBurst; Looks::ALL.len()],
}

/// The connection being served.
struct Current {
    peer: SocketAddr,
    /// Its first bytes, kept until they tell whether it is MPEG-TS.
    sniffed: Option<Vec<u8>>,
    bytes: u64,
    progress: Option<u64>,
    last_progress: Instant,
    /// It has delivered at least one complete media unit.
    delivered: bool,
    /// Set once the sink has been told about it.
    announced: bool,
}

/// How serving one connection ended.
struct Served {
    /// It reached the sink (it was MPEG-TS).
    was_sender: bool,
    /// A newcomer that waited for the slot.
    next: Option<(TcpStream, SocketAddr)>,
}

impl IngestServer {
    /// Binds the listening address now, so that a taken port fails at start.
    pub fn bind(opts: IngestOptions) -> Result<Self, IngestError> {
        let bind_err = |source| IngestError::Bind {
            addr: opts.listen,
            source,
        };
        let listener = TcpListener::bind(opts.listen).map_err(bind_err)?;
        listener.set_nonblocking(true).map_err(bind_err)?;
        if !opts.listen.ip().is_loopback() {
            tracing::warn!(
                "listening on non-loopback address {}: any host that reaches it can send",
                opts.listen
            );
        }
        Ok(IngestServer { listener, opts })
    }

    /// The address bound (with the port the system chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.opts.listen)
    }

    /// Serves senders one after another until `stop` is set, or, with
    /// `once`, until the first sender has disconnected (connections that
    /// are not MPEG-TS do not count).
    pub fn run(
        &self,
        sink: &mut impl IngestSink,
        stop: &AtomicBool,
        once: bool,
    ) -> Result<(), IngestError> {
        let mut backoff = AcceptBackoff::new("ingest");
        let mut turned_away = TurnedAway {
            refused: LogBurst::new(LOG_EVERY),
            rejected: std::array::from_fn(|_| LogBurst::new(LOG_EVERY)),
        };
        let mut next = None;
        while !stop.load(Ordering::Relaxed) {
            let (stream, peer) = match next.take() {
                Some(waiting) => waiting,
                None => match self.listener.accept() {
                    Ok(accepted) => {
                        backoff.succeeded();
                        accepted
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        sink.tick();
                        std::thread::sleep(POLL / 2);
                        continue;
                    }
                    Err(e) if is_transient_accept_error(&e) => {
                        let pause = backoff.failed(&e);
                        sink.tick();
                        std::thread::sleep(pause);
                        continue;
                    }
                    Err(e) => return Err(IngestError::Accept(e)),
                },
            };
            let served = self.serve(stream, peer, sink, stop, &mut turned_away);
            next = served.next;
            if once && served.was_sender {
                return Ok(());
            }
        }
        Ok(())
    }

    fn serve(
        &self,
        mut stream: TcpStream,
        peer: SocketAddr,
        sink: &mut impl IngestSink,
        stop: &AtomicBool,
        turned_away: &mut TurnedAway,
    ) -> Served {
        if let Err(e) = stream
            .set_nonblocking(false)
            .and_then(|_| stream.set_read_timeout(Some(POLL)))
        {
            tracing::warn!("cannot configure connection from {peer}: {e}");
        }
        let mut cur = Current {
            peer,
            sniffed: Some(Vec::with_capacity(sniff::MAX_SNIFF)),
            bytes: 0,
            progress: None,
            last_progress: Instant::now(),
            delivered: false,
            announced: false,
        };
        let mut waiting: Option<(TcpStream, SocketAddr)> = None;
        let mut buf = vec![0u8; self.opts.read_size];
        let reason = loop {
            if stop.load(Ordering::Relaxed) {
                break DisconnectReason::Shutdown;
            }
            self.take_newcomers(&cur, &mut waiting, sink, turned_away);
            match stream.read(&mut buf) {
                Ok(0) => break DisconnectReason::Closed,
                Ok(n) => {
                    if let Err(looks) = cur.receive(&buf[..n], sink) {
                        reject(peer, looks, cur.bytes, sink, turned_away);
                        return Served {
                            was_sender: false,
                            next: waiting,
                        };
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => break DisconnectReason::Error(e),
            }
            if cur.update_progress(sink) {
                if let Some((_, other)) = waiting.take() {
                    refuse_log(other, turned_away, "the current sender resumed");
                    sink.refused(other);
                }
            }
            if cur.last_progress.elapsed() >= self.opts.idle_timeout {
                break DisconnectReason::Idle;
            }
            sink.tick();
        };
        self.report_end(&cur, &reason, sink);
        let next = match reason {
            DisconnectReason::Shutdown => None,
            _ => waiting,
        };
        if let Some((_, other)) = &next {
            tracing::info!("sender {other}, which was waiting, takes over");
        }
        Served {
            was_sender: cur.announced,
            next,
        }
    }

    fn report_end(&self, cur: &Current, reason: &DisconnectReason, sink: &mut impl IngestSink) {
        let peer = cur.peer;
        let idle = self.opts.idle_timeout;
        if !cur.announced {
            match reason {
                DisconnectReason::Idle => tracing::warn!(
                    "connection from {peer} dropped: {} bytes in {idle:?}, not enough to tell MPEG-TS",
                    cur.bytes
                ),
                DisconnectReason::Error(e) => {
                    tracing::warn!("connection from {peer} failed before any MPEG-TS: {e}")
                }
                _ => tracing::info!(
                    "connection from {peer} closed after {} bytes, before any MPEG-TS",
                    cur.bytes
                ),
            }
            return;
        }
        match reason {
            DisconnectReason::Idle => tracing::warn!(
                "sender {peer} dropped: no complete video or audio frame for {idle:?} ({} bytes received in all)",
                cur.bytes
            ),
            DisconnectReason::Error(e) => tracing::warn!("sender {peer} connection failed: {e}"),
            _ => tracing::info!("sender {peer} disconnected"),
        }
        sink.disconnected(peer, reason);
    }

    /// One sender at a time. A newcomer is refused (its connection closed)
    /// while the current sender makes progress; while the current one is
    /// stalled, one newcomer may wait for the slot.
    fn take_newcomers(
        &self,
        cur: &Current,
        waiting: &mut Option<(TcpStream, SocketAddr)>,
        sink: &mut impl IngestSink,
        turned_away: &mut TurnedAway,
    ) {
        while let Ok((other, peer)) = self.listener.accept() {
            // Stalled: nothing yet, or nothing lately.
            let stalled = !cur.delivered
                || cur.last_progress.elapsed() >= STALLED.min(self.opts.idle_timeout / 2);
            if waiting.is_none() && stalled {
                let left = self
                    .opts
                    .idle_timeout
                    .saturating_sub(cur.last_progress.elapsed());
                tracing::info!(
                    "sender {peer} waits: {} has delivered no media for {:.1} s; {peer} takes over if it stays so for {:.1} s more",
                    cur.peer,
                    cur.last_progress.elapsed().as_secs_f64(),
                    left.as_secs_f64()
                );
                *waiting = Some((other, peer));
                continue;
            }
            let _ = other.shutdown(std::net::Shutdown::Both);
            refuse_log(peer, turned_away, "one sender at a time");
            sink.refused(peer);
        }
    }
}

impl Current {
    /// Takes bytes read from the socket; `Err` when the connection turns out
    /// not to be MPEG-TS.
    fn receive(&mut self, bytes: &[u8], sink: &mut impl IngestSink) -> Result<(), Looks> {
        self.bytes += bytes.len() as u64;
        let Some(head) = self.sniffed.as_mut() else {
            sink.data(bytes);
            return Ok(());
        };
        head.extend_from_slice(bytes);
        match sniff::judge(head) {
            Verdict::NeedMore => Ok(()),
            Verdict::NotTs(looks) => Err(looks),
            Verdict::MpegTs { packet_size } => {
                let head = self.sniffed.take().unwrap_or_default();
                tracing::info!(
                    "sender connected from {} (MPEG-TS, {packet_size}-byte packets)",
                    self.peer
                );
                self.announced = true;
                sink.connected(self.peer);
                self.progress = Some(sink.progress().unwrap_or(0));
                sink.data(&head);
                Ok(())
            }
        }
    }

    /// True when the sender made progress since the last call.
    fn update_progress(&mut self, sink: &impl IngestSink) -> bool {
        if !self.announced {
            return false;
        }
        let now = sink.progress().unwrap_or(self.bytes);
        if self.progress == Some(now) {
            return false;
        }
        self.progress = Some(now);
        self.last_progress = Instant::now();
        self.delivered = true;
        true
    }
}

fn reject(
    peer: SocketAddr,
    looks: Looks,
    bytes: u64,
    sink: &mut impl IngestSink,
    turned_away: &mut TurnedAway,
) {
    let kind = Looks::ALL.iter().position(|l| *l == looks).unwrap_or(0);
    if let Some(held_back) = turned_away.rejected[kind].hit() {
        tracing::warn!(
            "closed the connection from {peer}: {}: cht takes MPEG-TS over TCP ({}); {bytes} bytes read, none recorded{}",
            match looks {
                Looks::Unknown => "this is not MPEG-TS".to_string(),
                _ => format!("this looks like {looks}"),
            },
            looks.hint(),
            more_like_it(held_back)
        );
    }
    sink.rejected(peer, looks);
}

fn refuse_log(peer: SocketAddr, turned_away: &mut TurnedAway, why: &str) {
    if let Some(held_back) = turned_away.refused.hit() {
        tracing::warn!(
            "refused a second sender from {peer}: {why}{}",
            more_like_it(held_back)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::Arc;

    /// Marks the end of a "media unit" in the test streams.
    const UNIT_END: u8 = 0xAA;

    #[derive(Default)]
    struct Recorded {
        events: Vec<String>,
        bytes: Vec<u8>,
        /// Count UNIT_END bytes as progress instead of bytes.
        counts_units: bool,
        units: u64,
    }

    impl IngestSink for Recorded {
        fn connected(&mut self, _: SocketAddr) {
            self.events.push("connected".into());
        }
        fn data(&mut self, b: &[u8]) {
            self.bytes.extend_from_slice(b);
            self.units += b.iter().filter(|&&x| x == UNIT_END).count() as u64;
        }
        fn disconnected(&mut self, _: SocketAddr, r: &DisconnectReason) {
            self.events.push(format!("disconnected {r:?}"));
        }
        fn refused(&mut self, _: SocketAddr) {
            self.events.push("refused".into());
        }
        fn rejected(&mut self, _: SocketAddr, looks: Looks) {
            self.events.push(format!("rejected {looks}"));
        }
        fn progress(&self) -> Option<u64> {
            self.counts_units.then_some(self.units)
        }
    }

    fn server(idle: Duration) -> IngestServer {
        IngestServer::bind(IngestOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            idle_timeout: idle,
            read_size: 4096,
        })
        .unwrap()
    }

    /// `n` TS-shaped packets (sync byte every 188 bytes) with a varying payload.
    fn ts(n: usize, seed: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(n * 188);
        for p in 0..n {
            out.push(0x47);
            out.extend((1..188).map(|i| ((p * 31 + i * 7) as u8).wrapping_add(seed) & 0x7f));
        }
        out
    }

    #[test]
    fn receives_everything_and_refuses_a_second_sender() {
        let srv = server(Duration::from_secs(5));
        let addr = srv.local_addr();
        let data = ts(600, 0);
        let sent = data.clone();
        let sender = std::thread::spawn(move || {
            let mut a = TcpStream::connect(addr).unwrap();
            a.write_all(&sent[..50_000]).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            let mut b = TcpStream::connect(addr).unwrap();
            let mut buf = [0u8; 1];
            b.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            // refused: the server closes it, so the read sees EOF (or reset)
            let refused = matches!(b.read(&mut buf), Ok(0) | Err(_));
            a.write_all(&sent[50_000..]).unwrap();
            refused
        });
        let mut sink = Recorded::default();
        srv.run(&mut sink, &AtomicBool::new(false), true).unwrap();
        assert!(sender.join().unwrap());
        assert_eq!(sink.bytes, data);
        assert_eq!(
            sink.events,
            vec!["connected", "refused", "disconnected Closed"]
        );
    }

    #[test]
    fn drops_an_idle_sender_and_stops_on_request() {
        let srv = server(Duration::from_millis(300));
        let addr = srv.local_addr();
        let mut conn = TcpStream::connect(addr).unwrap();
        conn.write_all(&ts(3, 0)).unwrap();
        let mut sink = Recorded::default();
        srv.run(&mut sink, &AtomicBool::new(false), true).unwrap();
        assert_eq!(
            sink.events,
            vec!["connected".to_string(), "disconnected Idle".into()]
        );

        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            s2.store(true, Ordering::Relaxed);
        });
        srv.run(&mut sink, &stop, false).unwrap();
        t.join().unwrap();
    }

    #[test]
    fn an_http_post_of_a_ts_file_is_closed_unread_and_the_next_sender_served() {
        let srv = server(Duration::from_secs(5));
        let addr = srv.local_addr();
        let body = ts(100, 1);
        let data = ts(100, 2);
        let sent = data.clone();
        let peers = std::thread::spawn(move || {
            // What a page's fetch(..., {method: "POST", mode: "no-cors"}) sends.
            let mut post = TcpStream::connect(addr).unwrap();
            let head = format!(
                "POST /upload HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                addr.port(),
                body.len()
            );
            post.write_all(head.as_bytes()).unwrap();
            let _ = post.write_all(&body); // the server may already have closed
            let mut buf = [0u8; 1];
            post.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            assert!(matches!(post.read(&mut buf), Ok(0) | Err(_)), "closed");
            let mut real = TcpStream::connect(addr).unwrap();
            real.write_all(&sent).unwrap();
        });
        let mut sink = Recorded::default();
        srv.run(&mut sink, &AtomicBool::new(false), true).unwrap();
        peers.join().unwrap();
        assert_eq!(
            sink.events,
            vec!["rejected HTTP", "connected", "disconnected Closed"]
        );
        assert_eq!(
            sink.bytes, data,
            "only the real sender's bytes, all of them"
        );
    }

    #[test]
    fn a_trickling_sender_is_dropped_and_a_waiting_one_takes_over() {
        let idle = Duration::from_millis(600);
        let srv = server(idle);
        let addr = srv.local_addr();
        let mut real = ts(50, 3);
        real[1000] = UNIT_END;
        real[5000] = UNIT_END;
        let sent = real.clone();
        let peers = std::thread::spawn(move || {
            let mut trickler = TcpStream::connect(addr).unwrap();
            trickler.write_all(&ts(3, 4)).unwrap();
            let started = Instant::now();
            let trickle = std::thread::spawn(move || {
                // A byte every 20 ms: plenty of bytes, never a unit.
                while trickler.write_all(&[0x11]).is_ok() {
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
            std::thread::sleep(Duration::from_millis(400));
            let mut newcomer = TcpStream::connect(addr).unwrap();
            newcomer.write_all(&sent).unwrap();
            drop(newcomer);
            trickle.join().unwrap();
            started.elapsed()
        });
        let mut sink = Recorded {
            counts_units: true,
            ..Default::default()
        };
        let stop = Arc::new(AtomicBool::new(false));
        let stopper = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let lasted = peers.join().unwrap();
                std::thread::sleep(Duration::from_millis(500));
                stop.store(true, Ordering::Relaxed);
                lasted
            })
        };
        srv.run(&mut sink, &stop, false).unwrap();
        let trickler_lasted = stopper.join().unwrap();
        assert_eq!(
            sink.events,
            vec![
                "connected",
                "disconnected Idle",
                "connected",
                "disconnected Closed"
            ]
        );
        assert!(
            trickler_lasted < idle + Duration::from_millis(800),
            "{trickler_lasted:?}"
        );
        assert!(
            sink.bytes.ends_with(&real),
            "the newcomer's bytes, all of them"
        );
    }
}
