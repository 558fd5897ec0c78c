//! TCP ingest of an MPEG-TS sender and a UDP relay for live viewing.
//!
//! [`IngestServer`] listens on one address, serves one sender at a time and
//! drives a caller-supplied [`IngestSink`]: it pushes every byte received, in
//! order, plus connection events. It does not parse TS: that is `cht-ts`'s job,
//! done by the sink. [`UdpRelay`] forwards raw bytes as 1316-byte datagrams
//! (7 TS packets) to a local player; it never blocks, so a missing or slow
//! player cannot slow the recording.

mod relay;
mod server;

pub use relay::{RelayStats, UdpRelay, RELAY_DATAGRAM};
pub use server::{DisconnectReason, IngestOptions, IngestServer, IngestSink};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the UDP relay to {addr}: {source}")]
    Relay {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("listener failed: {0}")]
    Accept(#[source] std::io::Error),
}
