//! Raw TS over UDP to a local player (`mpv udp://127.0.0.1:4445`).

use crate::IngestError;
use serde::Serialize;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};

/// 7 TS packets: the datagram size players and ffmpeg use for TS over UDP.
pub const RELAY_DATAGRAM: usize = 7 * 188;

/// What the relay sent and dropped.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RelayStats {
    /// Datagrams sent.
    pub datagrams: u64,
    /// Bytes sent.
    pub bytes: u64,
    /// Datagrams the kernel would not take at once (no player, full buffer).
    pub dropped: u64,
}

/// Forwards bytes as whole datagrams; never blocks and never fails the
/// caller. A stage of the live pipeline: it takes the bytes as received
/// and sends what is left when the connection ends.
pub struct UdpRelay {
    socket: UdpSocket,
    target: SocketAddr,
    pending: Vec<u8>,
    stats: RelayStats,
}

impl UdpRelay {
    /// A relay to `target` from an ephemeral local port.
    pub fn new(target: SocketAddr) -> Result<Self, IngestError> {
        let bind: SocketAddr = if target.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        }
        .parse()
        .expect("literal address");
        let socket = UdpSocket::bind(bind)
            .and_then(|s| s.set_nonblocking(true).map(|_| s))
            .map_err(|source| IngestError::Relay {
                addr: target,
                source,
            })?;
        Ok(UdpRelay {
            socket,
            target,
            pending: Vec::with_capacity(RELAY_DATAGRAM),
            stats: RelayStats::default(),
        })
    }

    /// Where the datagrams go.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// What was sent and dropped so far.
    pub fn stats(&self) -> RelayStats {
        self.stats
    }

    /// Queues bytes and sends every complete datagram.
    pub fn send(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = (RELAY_DATAGRAM - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() == RELAY_DATAGRAM {
                self.send_pending();
            }
        }
    }

    /// Sends what is left (end of a connection).
    pub fn flush(&mut self) {
        if !self.pending.is_empty() {
            self.send_pending();
        }
    }

    fn send_pending(&mut self) {
        match self.socket.send_to(&self.pending, self.target) {
            Ok(n) => {
                self.stats.datagrams += 1;
                self.stats.bytes += n as u64;
            }
            // Nobody listening (ICMP refused) or a full buffer: the live view
            // is best effort, the recording must not wait for it.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::ConnectionRefused
                ) =>
            {
                self.stats.dropped += 1
            }
            Err(e) => {
                self.stats.dropped += 1;
                tracing::debug!("relay send to {} failed: {e}", self.target);
            }
        }
        self.pending.clear();
    }
}

impl cht_core::LiveStage for UdpRelay {
    fn data(&mut self, bytes: &[u8]) {
        self.send(bytes);
    }

    fn connection_ended(&mut self, _connection: &cht_core::Connection, _reason: &str) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_whole_datagrams_in_order() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let mut relay = UdpRelay::new(rx.local_addr().unwrap()).unwrap();
        let data: Vec<u8> = (0..RELAY_DATAGRAM * 2 + 100)
            .map(|i| (i % 251) as u8)
            .collect();
        for chunk in data.chunks(333) {
            relay.send(chunk);
        }
        relay.flush();
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        let mut sizes = Vec::new();
        while got.len() < data.len() {
            let n = rx.recv(&mut buf).unwrap();
            sizes.push(n);
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(sizes, vec![RELAY_DATAGRAM, RELAY_DATAGRAM, 100]);
        assert_eq!(got, data);
        assert_eq!(relay.stats().datagrams, 3);
    }

    #[test]
    fn no_listener_never_blocks_or_fails() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = rx.local_addr().unwrap();
        drop(rx);
        let mut relay = UdpRelay::new(addr).unwrap();
        for _ in 0..100 {
            relay.send(&[0x47; RELAY_DATAGRAM]);
        }
        let s = relay.stats();
        assert_eq!(s.datagrams + s.dropped, 100);
    }
}
