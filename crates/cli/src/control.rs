//! The control address of `cht record`: the whole HTTP API of `cht_api`
//! (every session of the sessions directory) with the live endpoints of the
//! recording under way (`/status`, `/capture`, `/threshold`, `/frames`,
//! `/events`), for a person (`cht status`, `cht capture`...) or an agent.
//!
//! It serves requests; it never drives the recording: every live call goes
//! through the analysis' `LiveControl`, events come from the bus. The
//! server runs on a thread of its own, behind the loopback guard, with the
//! per-run token written where the thin clients find it.

use cht_analyze::LiveControl;
use cht_api::token::TokenKind;
use cht_api::{ApiServer, Catalog, ServeError, ServeOptions};
use cht_session::{Session, SessionsDir};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Serves the API on `addr` until `stop` is set or the server is dropped.
pub fn serve(
    addr: SocketAddr,
    session: &Session,
    control: LiveControl,
    stop: Arc<AtomicBool>,
    sessions_dir: &Path,
) -> anyhow::Result<ApiServer> {
    let catalog =
        Catalog::new(SessionsDir::new(sessions_dir)).with_live(session.id.as_str(), control);
    let options = ServeOptions {
        what: "control API",
        addr,
        token: TokenKind::Control,
        browser_login: true,
        sessions_dir: sessions_dir.to_path_buf(),
        stop: Some(stop),
    };
    cht_api::serve(options, |shutdown| {
        cht_api::router(catalog, shutdown).merge(cht_web::router())
    })
    .map_err(|e| {
        let hint = match &e {
            ServeError::NotLoopback { .. } => "; use --control off to disable it",
            ServeError::Bind { .. } => {
                " (another cht record running? choose another --control ADDR or --control off)"
            }
            _ => "",
        };
        anyhow::anyhow!("{e}{hint}")
    })
}
