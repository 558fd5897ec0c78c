//! TCP ingest of an MPEG-TS sender and a UDP relay for live viewing.
//!
//! [`IngestServer`] listens on one address, serves one sender at a time and
//! drives a caller-supplied [`IngestSink`]: it pushes every byte received, in
//! order, plus connection events. It does not parse TS: that is `cht-ts`'s job,
//! done by the sink (the CLI's fan-out). It only judges the first bytes of
//! each connection ([`sniff`]): what is not MPEG-TS (an HTTP request a web
//! page sent, an RTMP or TLS client) is closed before the sink sees a byte.
//! Progress for the idle timeout is counted by the sink, in complete media
//! units ([`IngestSink::progress`]), so trickled bytes do not keep a sender
//! alive. [`UdpRelay`] forwards raw bytes as 1316-byte datagrams (7 TS
//! packets) to a local player, as a `cht_core::LiveStage` beside the
//! recorder and the analysis; it never blocks, so a missing or slow player
//! cannot slow the recording.

mod error;
pub mod limits;
mod relay;
mod server;
pub mod sniff;

pub use error::IngestError;
pub use limits::{AcceptBackoff, LogBurst};
pub use relay::{RelayStats, UdpRelay, RELAY_DATAGRAM};
pub use server::{DisconnectReason, IngestOptions, IngestServer, IngestSink};
pub use sniff::Looks;
