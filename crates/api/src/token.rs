//! The per-run secret of an API server.
//!
//! `cht record` (and `cht serve`) draw 256 random bits at start and write
//! them, mode 0600, to a file only the user can read: `$XDG_RUNTIME_DIR/cht/`
//! (a per-user 0700 directory on systemd machines), or else
//! `<sessions-dir>/.run/` (created 0700). The file is named after the kind
//! of server and its address, so a thin client (`cht status --control
//! ADDR`, `cht mcp`) finds the token of the recorder it talks to; it is
//! removed when the server exits. `cht record` prints the token nowhere;
//! `cht serve` prints it in the URL a person opens, as Jupyter does.
//! Another local user cannot read the file and a web page cannot learn the
//! token, so neither can use the API.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Random bytes in a token (hex-encoded in the file and the header).
const TOKEN_BYTES: usize = 32;
/// Longest token file read (a token is 64 characters).
const MAX_TOKEN_FILE: u64 = 4096;

/// What went wrong with a token file.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The system's random source failed.
    #[error("cannot draw a random token: {0}")]
    Random(String),
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The directory is open to others.
    #[error("{0} is not a private directory (it must belong to you and be closed to others: chmod 700); refusing to keep the token there")]
    NotPrivate(PathBuf),
    /// The file is open to others.
    #[error("{0} is readable by others (chmod 600 it); refusing to use it as a token")]
    FileNotPrivate(PathBuf),
    /// No token file for that server.
    #[error("no control token for {addr}: looked for {looked}. Is `cht record` running with --control {addr}? Run this command with the same --sessions-dir (or XDG_RUNTIME_DIR), or pass --token-file")]
    NotFound {
        /// The server's address.
        addr: SocketAddr,
        /// The files looked for.
        looked: String,
    },
    /// The file is empty.
    #[error("{0} holds no token")]
    Empty(PathBuf),
}

/// Which server a token is for (the first part of its file's name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// The control API of `cht record` (`control-ADDR.token`).
    Control,
    /// `cht serve` (`serve-ADDR.token`).
    Serve,
}

impl TokenKind {
    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Control => "control",
            TokenKind::Serve => "serve",
        }
    }
}

impl TokenError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TokenError + '_ {
        move |source| TokenError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The token of a running API server and the file that holds it; the file
/// is removed on drop.
#[derive(Debug)]
pub struct ApiToken {
    secret: String,
    path: PathBuf,
}

impl ApiToken {
    /// Draws a new token for the server on `addr` and writes it to its file.
    pub fn create(
        kind: TokenKind,
        addr: SocketAddr,
        sessions_dir: &Path,
    ) -> Result<Self, TokenError> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
        let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let fallback = fallback_dir(sessions_dir);
        let dirs = runtime_dir().into_iter().chain([fallback]);
        let mut last_error = None;
        for dir in dirs {
            let path = dir.join(file_name(kind, addr));
            match private_dir(&dir).and_then(|()| write_private(&path, secret.as_bytes())) {
                Ok(()) => return Ok(ApiToken { secret, path }),
                Err(e) => {
                    tracing::debug!("control token not kept in {}: {e}", dir.display());
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.unwrap_or(TokenError::Empty(PathBuf::new())))
    }

    /// The secret itself.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Where the token is, for the user (the path, never the token).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ApiToken {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The token of the control API on `addr`: from `explicit` when given,
/// else from the runtime dir, else from `<sessions-dir>/.run/`.
pub fn find(
    addr: SocketAddr,
    sessions_dir: &Path,
    explicit: Option<&Path>,
) -> Result<String, TokenError> {
    if let Some(path) = explicit {
        return read_private(path);
    }
    let candidates: Vec<PathBuf> = runtime_dir()
        .into_iter()
        .chain([fallback_dir(sessions_dir)])
        .map(|dir| dir.join(file_name(TokenKind::Control, addr)))
        .collect();
    for path in &candidates {
        match read_private(path) {
            Err(TokenError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {}
            other => return other,
        }
    }
    Err(TokenError::NotFound {
        addr,
        looked: candidates
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" and "),
    })
}

/// Compares a presented token with the secret in time that does not depend
/// on where they differ.
pub fn matches(presented: &[u8], secret: &[u8]) -> bool {
    if presented.len() != secret.len() {
        return false;
    }
    let diff = presented
        .iter()
        .zip(secret)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(diff) == 0
}

/// `$XDG_RUNTIME_DIR/cht`, when the variable names an absolute path.
fn runtime_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR")?);
    dir.is_absolute().then(|| dir.join("cht"))
}

fn fallback_dir(sessions_dir: &Path) -> PathBuf {
    sessions_dir.join(".run")
}

/// `control-127.0.0.1-4446.token`, `serve-[::1]-8765.token`.
fn file_name(kind: TokenKind, addr: SocketAddr) -> String {
    let host = match addr {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    };
    format!("{}-{host}-{}.token", kind.prefix(), addr.port())
}

/// Creates `dir` (mode 0700) or checks that it is ours and closed to others.
fn private_dir(dir: &Path) -> Result<(), TokenError> {
    match DirBuilder::new().recursive(true).mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(TokenError::io(dir)(e)),
    }
    let meta = std::fs::symlink_metadata(dir).map_err(TokenError::io(dir))?;
    let ours = meta.uid() == rustix::process::getuid().as_raw();
    if !meta.is_dir() || !ours || meta.mode() & 0o077 != 0 {
        return Err(TokenError::NotPrivate(dir.to_path_buf()));
    }
    Ok(())
}

/// Writes `path` atomically with mode 0600 (a reader never sees it half
/// written, nor with looser permissions).
fn write_private(path: &Path, contents: &[u8]) -> Result<(), TokenError> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(TokenError::io(&tmp))?;
    let written = file
        .write_all(contents)
        .and_then(|_| file.sync_all())
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(TokenError::io(path)(e));
    }
    Ok(())
}

fn read_private(path: &Path) -> Result<String, TokenError> {
    let file = File::open(path).map_err(TokenError::io(path))?;
    let meta = file.metadata().map_err(TokenError::io(path))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(TokenError::FileNotPrivate(path.to_path_buf()));
    }
    let mut text = String::new();
    file.take(MAX_TOKEN_FILE)
        .read_to_string(&mut text)
        .map_err(TokenError::io(path))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(TokenError::Empty(path.to_path_buf()));
    }
    Ok(token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison_is_a_comparison() {
        assert!(matches(b"abc", b"abc"));
        assert!(!matches(b"abd", b"abc"));
        assert!(!matches(b"ab", b"abc"));
        assert!(!matches(b"", b"abc"));
    }

    #[test]
    fn file_names_say_which_api() {
        assert_eq!(
            file_name(TokenKind::Control, "127.0.0.1:4446".parse().unwrap()),
            "control-127.0.0.1-4446.token"
        );
        assert_eq!(
            file_name(TokenKind::Serve, "[::1]:9".parse().unwrap()),
            "serve-[::1]-9.token"
        );
    }

    #[test]
    fn a_token_is_private_found_and_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let sessions = tmp.path().join("sessions");
        let addr: SocketAddr = "127.0.0.1:4999".parse().unwrap();
        // The fallback directory, whatever the environment has.
        let dir = fallback_dir(&sessions);
        private_dir(&dir).unwrap();
        let path = dir.join(file_name(TokenKind::Control, addr));
        write_private(&path, b"0123abcd").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(read_private(&path).unwrap(), "0123abcd");
        assert_eq!(find(addr, &sessions, Some(&path)).unwrap(), "0123abcd");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            read_private(&path),
            Err(TokenError::FileNotPrivate(_))
        ));
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(matches!(private_dir(&dir), Err(TokenError::NotPrivate(_))));
    }
}
