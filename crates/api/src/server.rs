//! Running the API: a small tokio runtime on a thread of its own, so that
//! the rest of cht stays synchronous, serving a guarded router on loopback.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use tokio::sync::watch;

use crate::error::ServeError;
use crate::guard::{LocalGuardLayer, Policy};
use crate::token::{ApiToken, TokenKind};

/// How often the stop flag is looked at.
const STOP_POLL: Duration = Duration::from_millis(100);
/// After shutdown is asked for, connections get this long to finish (well
/// inside cht's 3-second shutdown bound).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Names the server in messages and the log (`control API`, `cht serve`).
    pub what: &'static str,
    /// A loopback address (port 0: any free port).
    pub addr: SocketAddr,
    /// Which token file to write.
    pub token: TokenKind,
    /// Also admit browsers that open a URL with `?token=` (then a cookie).
    pub browser_login: bool,
    /// The sessions directory (the token file's fallback place).
    pub sessions_dir: PathBuf,
    /// When set, the server stops once it turns true (Ctrl-C).
    pub stop: Option<Arc<AtomicBool>>,
}

/// A running server. Dropping it (or [`ApiServer::shutdown`]) stops it:
/// open requests get a short grace, SSE streams end, the token file goes.
pub struct ApiServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its token (the file is removed when the server is dropped, after
    /// the thread has stopped).
    pub token: ApiToken,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl ApiServer {
    /// Stops the server and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.shutdown.send_replace(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Binds `options.addr` now (so a taken port fails at start), writes the
/// token file for the bound address, and serves the router `app` builds
/// (given the shutdown signal, which SSE streams watch) behind the
/// [`crate::guard`] rules and the [`crate::http`] limits, on a thread of its
/// own, until shut down.
pub fn serve(
    options: ServeOptions,
    app: impl FnOnce(watch::Receiver<bool>) -> Router,
) -> Result<ApiServer, ServeError> {
    let what = options.what;
    let start = |source| ServeError::Start { what, source };
    if !options.addr.ip().is_loopback() {
        return Err(ServeError::NotLoopback {
            what,
            addr: options.addr,
        });
    }
    let listener = TcpListener::bind(options.addr).map_err(|source| ServeError::Bind {
        what,
        addr: options.addr,
        source,
    })?;
    let bound = listener.local_addr().map_err(start)?;
    let token = ApiToken::create(options.token, bound, &options.sessions_dir)
        .map_err(|source| ServeError::Token { what, source })?;
    listener.set_nonblocking(true).map_err(start)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(start)?;
    let (shutdown, _) = watch::channel(false);
    let mut policy = Policy::new(what, bound.port(), token.secret());
    if options.browser_login {
        policy = policy.browser_login();
    }
    let app = app(shutdown.subscribe()).layer(LocalGuardLayer::new(policy));
    let signal = shutdown.clone();
    let stop = options.stop;
    let thread = std::thread::Builder::new()
        .name("cht-api".into())
        .spawn(move || run(what, runtime, listener, app, signal, stop))
        .map_err(start)?;
    Ok(ApiServer {
        addr: bound,
        token,
        shutdown,
        thread: Some(thread),
    })
}

fn run(
    what: &'static str,
    runtime: tokio::runtime::Runtime,
    listener: TcpListener,
    app: Router,
    shutdown: watch::Sender<bool>,
    stop: Option<Arc<AtomicBool>>,
) {
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => return tracing::error!("{what}: {e}"),
        };
        if let Some(stop) = stop {
            tokio::spawn(watch_stop_flag(stop, shutdown.clone()));
        }
        crate::http::serve(
            what,
            listener,
            app,
            crate::http::Limits::for_this_process(),
            shutdown.subscribe(),
            SHUTDOWN_GRACE,
        )
        .await;
    });
    // A capture may still be waiting for its JPEG; do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(200));
}

/// Ctrl-C sets `stop`; the server stops with the rest of cht.
async fn watch_stop_flag(stop: Arc<AtomicBool>, shutdown: watch::Sender<bool>) {
    let mut tick = tokio::time::interval(STOP_POLL);
    loop {
        tick.tick().await;
        if stop.load(Ordering::SeqCst) {
            shutdown.send_replace(true);
        }
        if *shutdown.borrow() {
            return;
        }
    }
}
