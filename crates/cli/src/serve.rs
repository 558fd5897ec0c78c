//! `cht serve`: the HTTP API over the sessions on disk, for agents, and the
//! pages of `cht_web` for people, while nothing records or after the fact;
//! `cht export --html`: a session's page as a folder.
//!
//! Loopback only, behind the same guard as `cht record`'s control API. Like
//! Jupyter it prints a URL with the per-run token; a browser that opens it
//! keeps the token in a cookie, a program sends it as a bearer token (the
//! token file `serve-ADDR.token` holds it too). It records nothing; the one
//! change it makes is marking pictures as sent to the agent.

use crate::cli::{ExportArgs, ServeArgs};
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
    let server = cht_api::serve(options, |signal| {
        cht_api::router(catalog, signal).merge(cht_web::router())
    })
    .map_err(|e| anyhow::anyhow!("{e} (choose another --listen ADDR)"))?;
    shutdown.remove_at_exit(server.token.path().to_path_buf());
    let (addr, token) = (server.addr, server.token.secret().to_string());
    eprintln!(
        "cht: serving {} session(s) of {} on http://{addr}  (Ctrl-C to stop)",
        sessions.len(),
        sessions_dir.display()
    );
    eprintln!("cht: open http://{addr}/?token={token}");
    eprintln!(
        "cht: or call the API with:  curl -H 'Authorization: Bearer {token}' http://{addr}/openapi.json"
    );
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    server.shutdown();
    Ok(())
}

pub fn export(args: ExportArgs, sessions_dir: PathBuf) -> anyhow::Result<()> {
    let catalog = Catalog::new(SessionsDir::new(&sessions_dir));
    let summary = cht_web::export(&catalog, &args.session, &args.html)
        .with_context(|| format!("cannot export session {:?}", args.session))?;
    eprintln!(
        "cht: wrote {} segment(s), {} picture(s), {} transcript(s) ({:.1} MB); open {}",
        summary.segments,
        summary.pictures,
        summary.transcripts,
        summary.bytes as f64 / 1e6,
        summary.page.display()
    );
    Ok(())
}
