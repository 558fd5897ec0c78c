//! `cht mcp`: the MCP server of `cht_mcp` on stdin/stdout. Logging goes to
//! stderr (stdout is the protocol's).

use crate::cli::McpArgs;
use std::path::PathBuf;

pub fn run(args: McpArgs, sessions_dir: PathBuf) -> anyhow::Result<()> {
    // The host starts us from anywhere: make the directory absolute once.
    let sessions_dir = std::path::absolute(&sessions_dir).unwrap_or(sessions_dir);
    let options = cht_mcp::McpOptions {
        sessions_dir,
        control: args.control.control,
        token_file: args.control.token_file,
        max_pictures: args.max_pictures as usize,
        picture_width: (args.picture_width > 0).then_some(args.picture_width),
    };
    Ok(cht_mcp::serve_stdio(options)?)
}
