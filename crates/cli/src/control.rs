//! The loopback control API (to be written).

use cht_analyze::LiveControl;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

pub struct ControlServer {
    pub addr: SocketAddr,
}

impl ControlServer {
    pub fn shutdown(self) {}
}

pub fn serve(addr: SocketAddr, _control: LiveControl, _stop: Arc<AtomicBool>) -> anyhow::Result<ControlServer> {
    Ok(ControlServer { addr })
}
