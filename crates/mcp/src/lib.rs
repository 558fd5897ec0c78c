//! `cht mcp`: an MCP (Model Context Protocol) server on stdin/stdout, so
//! that an agent host (a desktop assistant, an IDE agent, a CLI agent)
//! sees the screen share with no glue code.
//!
//! **Tools:** `list_sessions`, `session_timeline`, `new_pictures` (the
//! pictures not seen yet, as images with their times; they are then marked
//! as sent, so the next call returns only newer ones), `get_picture`,
//! `transcript` (since a time), `capture_now` and `set_threshold` (the
//! running `cht record`).
//!
//! **Resources:** `cht://sessions` (the list), `cht://sessions/{id}`,
//! `cht://sessions/{id}/timeline`, `cht://sessions/{id}/transcript` and
//! `cht://sessions/{id}/frames/{frame}.jpg`. While a session is recorded,
//! each new picture or transcript sends `notifications/resources/updated`
//! for the session and its timeline (or transcript) to clients that
//! subscribed (`resources/subscribe`, or `subscriptions/listen`), and an
//! `info` log message (`notifications/message`) to clients that set a
//! logging level; a new session sends `notifications/resources/list_changed`.
//!
//! It works on the session files (finished sessions and the one being
//! recorded alike, through `cht_api::Catalog`); what only the recorder may
//! change (marking pictures of the session it records, capturing, the
//! threshold) goes through the recorder's control API, whose address the
//! session's lock file names and whose token `cht record` wrote.

mod server;
mod sessions;

pub use server::{tools, ChtServer, WATCH_EVERY};
pub use sessions::{describe, McpOptions, NewPictures, Picture, Sessions, ToolError};

use rmcp::ServiceExt;

/// What stops the MCP server.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// The runtime could not start.
    #[error("cannot start the MCP server: {0}")]
    Start(#[source] std::io::Error),
    /// The client did not initialise the session.
    #[error("the MCP client did not initialise: {0}")]
    Initialize(String),
    /// The session ended with an error.
    #[error("the MCP session failed: {0}")]
    Session(String),
}

/// Serves MCP on stdin/stdout until the client closes stdin.
pub fn serve_stdio(options: McpOptions) -> Result<(), McpError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(McpError::Start)?;
    runtime.block_on(async move {
        let server = ChtServer::new(Sessions::new(options));
        let watcher = tokio::spawn(server.clone().watch());
        let running = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| McpError::Initialize(e.to_string()))?;
        let ended = running.waiting().await;
        watcher.abort();
        ended
            .map(|_| ())
            .map_err(|e| McpError::Session(e.to_string()))
    })
}
