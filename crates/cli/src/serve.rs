//! `cht serve`: the HTTP API over the sessions on disk, for agents and (with
//! issue 14's pages) people, while nothing records or after the fact.
//!
//! Loopback only, behind the same guard as `cht record`'s control API. Like
//! Jupyter it prints a URL with the per-run token; a browser that opens it
//! keeps the token in a cookie, a program sends it as a bearer token (the
//! token file `serve-ADDR.token` holds it too). It records nothing; the one
//! change it makes is marking pictures as sent to the agent.

use crate::cli::ServeArgs;
use anyhow::Context;
use cht_api::token::TokenKind;
use cht_api::{Catalog, ServeOptions};
use cht_session::SessionsDir;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub fn run(args: ServeArgs, sessions_dir: PathBuf) -> anyhow::Result<()> {
    let shutdown = crate::shutdown::Shutdown::install()?;
    let stop = shutdown.flag();
    let dir = SessionsDir::new(&sessions_dir);
    let sessions = dir
        .list()
        .with_context(|| format!("cannot list {}", sessions_dir.display()))?;
    let catalog = Catalog::new(dir);
    let options = ServeOptions {
        what: "cht serve",
        addr: args.listen,
        token: TokenKind::Serve,
        browser_login: true,
        sessions_dir: sessions_dir.clone(),
        stop: Some(stop.clone()),
    };
    let server = cht_api::serve(options, |signal| cht_api::router(catalog, signal))
        .map_err(|e| anyhow::anyhow!("{e} (choose another --listen ADDR)"))?;
    shutdown.remove_at_exit(server.token.path().to_path_buf());
    let (addr, token) = (server.addr, server.token.secret().to_string());
    eprintln!(
        "cht: serving {} session(s) of {} on http://{addr}  (Ctrl-C to stop)",
        sessions.len(),
        sessions_dir.display()
    );
    eprintln!("cht: open http://{addr}/sessions?token={token}");
    eprintln!(
        "cht: or call the API with:  curl -H 'Authorization: Bearer {token}' http://{addr}/openapi.json"
    );
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    server.shutdown();
    Ok(())
}
