//! One-sender-at-a-time TCP ingest.

use crate::IngestError;
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often the server wakes up when nothing arrives, to notice a stop
/// request, an idle sender or a second connection.
const POLL: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub listen: SocketAddr,
    /// A sender that sends nothing for this long is dropped.
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
    /// No bytes for the idle timeout.
    Idle,
    /// The socket failed.
    Error(std::io::Error),
    /// A stop was requested (Ctrl-C).
    Shutdown,
}

/// Receives what the server reads, in order. Only `data` is required.
pub trait IngestSink {
    fn connected(&mut self, _peer: SocketAddr) {}
    /// Bytes as read from the socket, split at arbitrary points.
    fn data(&mut self, bytes: &[u8]);
    fn disconnected(&mut self, _peer: SocketAddr, _reason: &DisconnectReason) {}
    /// A second sender tried to connect while one is being served.
    fn refused(&mut self, _peer: SocketAddr) {}
    /// Called at least every 100 ms, with or without data (housekeeping).
    fn tick(&mut self) {}
}

pub struct IngestServer {
    listener: TcpListener,
    opts: IngestOptions,
}

impl IngestServer {
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

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.opts.listen)
    }

    /// Serves senders one after another until `stop` is set, or, with
    /// `once`, until the first sender has disconnected.
    pub fn run(
        &self,
        sink: &mut impl IngestSink,
        stop: &AtomicBool,
        once: bool,
    ) -> Result<(), IngestError> {
        while !stop.load(Ordering::Relaxed) {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    self.serve(stream, peer, sink, stop);
                    if once {
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    sink.tick();
                    std::thread::sleep(POLL / 2);
                }
                Err(e) if is_transient(&e) => tracing::warn!("accept failed: {e}"),
                Err(e) => return Err(IngestError::Accept(e)),
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
    ) {
        tracing::info!("sender connected from {peer}");
        if let Err(e) = stream
            .set_nonblocking(false)
            .and_then(|_| stream.set_read_timeout(Some(POLL)))
        {
            tracing::warn!("cannot configure connection from {peer}: {e}");
        }
        sink.connected(peer);
        let mut buf = vec![0u8; self.opts.read_size];
        let mut last_data = Instant::now();
        let reason = loop {
            if stop.load(Ordering::Relaxed) {
                break DisconnectReason::Shutdown;
            }
            self.refuse_others(sink);
            match stream.read(&mut buf) {
                Ok(0) => break DisconnectReason::Closed,
                Ok(n) => {
                    last_data = Instant::now();
                    sink.data(&buf[..n]);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if last_data.elapsed() >= self.opts.idle_timeout {
                        break DisconnectReason::Idle;
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => break DisconnectReason::Error(e),
            }
            sink.tick();
        };
        match &reason {
            DisconnectReason::Idle => {
                tracing::warn!(
                    "sender {peer} idle for {:?}: dropped",
                    self.opts.idle_timeout
                )
            }
            DisconnectReason::Error(e) => tracing::warn!("sender {peer} connection failed: {e}"),
            _ => tracing::info!("sender {peer} disconnected"),
        }
        sink.disconnected(peer, &reason);
    }

    /// One sender at a time: anyone else is told so by a closed connection.
    fn refuse_others(&self, sink: &mut impl IngestSink) {
        while let Ok((other, peer)) = self.listener.accept() {
            tracing::warn!("refused a second sender from {peer}: one sender at a time");
            let _ = other.shutdown(std::net::Shutdown::Both);
            sink.refused(peer);
        }
    }
}

fn is_transient(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::Interrupted
    ) || e.raw_os_error() == Some(24) // EMFILE: too many open files, may pass
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::Arc;

    #[derive(Default)]
    struct Recorded {
        events: Vec<String>,
        bytes: Vec<u8>,
    }

    impl IngestSink for Recorded {
        fn connected(&mut self, _: SocketAddr) {
            self.events.push("connected".into());
        }
        fn data(&mut self, b: &[u8]) {
            self.bytes.extend_from_slice(b);
        }
        fn disconnected(&mut self, _: SocketAddr, r: &DisconnectReason) {
            self.events.push(format!("disconnected {r:?}"));
        }
        fn refused(&mut self, _: SocketAddr) {
            self.events.push("refused".into());
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

    #[test]
    fn receives_everything_and_refuses_a_second_sender() {
        let srv = server(Duration::from_secs(5));
        let addr = srv.local_addr();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
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
        let _conn = TcpStream::connect(addr).unwrap();
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
}
