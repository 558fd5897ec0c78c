//! The one error type of this crate.

use std::net::SocketAddr;

/// Why the ingest cannot start or go on (a sender's bad input is never an
/// error: it is logged and the connection closed or skipped).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The listening address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The relay's UDP socket cannot be opened.
    #[error("cannot open the UDP relay to {addr}: {source}")]
    Relay {
        /// Where the relay sends to.
        addr: SocketAddr,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The listener failed for good.
    #[error("listener failed: {0}")]
    Accept(#[source] std::io::Error),
}
