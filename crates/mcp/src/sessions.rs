//! What the tools do, blocking: read the sessions through the API's
//! [`Catalog`] (the files), and change a session being recorded through its
//! recorder's control API (the one writer of its index).

use std::net::SocketAddr;
use std::path::PathBuf;

use cht_api::client::{ControlClient, Method};
use cht_api::{Catalog, CatalogError, FrameQuery, SessionInfo, TimelineEntry};
use cht_frames::FrameEntry;
use cht_session::SessionsDir;
use serde_json::{json, Value};

/// Most bytes of pictures one `new_pictures` answer carries (clients read
/// messages of 16 MiB at most; base64 adds a third).
const MAX_ANSWER_BYTES: usize = 8 << 20;

/// How `cht mcp` was started.
#[derive(Debug, Clone)]
pub struct McpOptions {
    /// The sessions directory.
    pub sessions_dir: PathBuf,
    /// The control API to use when the recording session does not name its
    /// recorder's (`--control`).
    pub control: SocketAddr,
    /// The token file of that control API (`--token-file`).
    pub token_file: Option<PathBuf>,
    /// Pictures `new_pictures` returns at most per call.
    pub max_pictures: usize,
    /// Width pictures are scaled down to (`None`: as recorded).
    pub picture_width: Option<u32>,
}

/// A tool's failure, said to the agent.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The session or picture asked for, or the request itself.
    #[error("{0}")]
    Catalog(#[from] CatalogError),
    /// The recorder's control API refused or cannot be reached.
    #[error("{0}")]
    Recorder(#[from] cht_api::client::ClientError),
    /// Anything else, with its explanation.
    #[error("{0}")]
    Other(String),
}

/// A picture handed to the agent.
#[derive(Debug, Clone)]
pub struct Picture {
    /// Its index entry, with session times.
    pub entry: FrameEntry,
    /// The JPEG (scaled if asked).
    pub jpeg: Vec<u8>,
}

/// The answer of `new_pictures`.
#[derive(Debug)]
pub struct NewPictures {
    /// The session.
    pub session: String,
    /// The pictures, oldest first, now marked as sent.
    pub pictures: Vec<Picture>,
    /// Unsent pictures left for the next call.
    pub remaining: usize,
    /// The session is being recorded now.
    pub recording: bool,
}

/// The sessions, as the tools see them.
#[derive(Clone)]
pub struct Sessions {
    catalog: Catalog,
    options: McpOptions,
}

impl Sessions {
    /// The sessions of `options.sessions_dir`.
    pub fn new(options: McpOptions) -> Self {
        Sessions {
            catalog: Catalog::new(SessionsDir::new(&options.sessions_dir)),
            options,
        }
    }

    /// The catalog read.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The options.
    pub fn options(&self) -> &McpOptions {
        &self.options
    }

    /// The session named, or else the one being recorded now, or else the
    /// newest.
    pub fn resolve(&self, session: Option<&str>) -> Result<String, ToolError> {
        if let Some(id) = session.filter(|s| !s.is_empty()) {
            self.catalog.open(id)?;
            return Ok(id.to_string());
        }
        let sessions = self
            .catalog
            .dir()
            .list()
            .map_err(|e| ToolError::Other(e.to_string()))?;
        let recording = sessions.iter().find(|s| s.layout().recorder().is_some());
        recording
            .or(sessions.first())
            .map(|s| s.id.to_string())
            .ok_or_else(|| {
                ToolError::Other(format!(
                    "there are no sessions in {} yet: start one with `cht record`",
                    self.options.sessions_dir.display()
                ))
            })
    }

    /// Every session, newest first.
    pub fn list(&self) -> Result<Vec<SessionInfo>, ToolError> {
        Ok(self.catalog.sessions()?)
    }

    /// A session's timeline between `since` and `until` (session times).
    pub fn timeline(
        &self,
        id: &str,
        since: Option<f64>,
        until: Option<f64>,
    ) -> Result<Vec<TimelineEntry>, ToolError> {
        let mut entries = self.catalog.timeline(id)?;
        entries.retain(|e| {
            since.is_none_or(|t| e.session_time() >= t)
                && until.is_none_or(|t| e.session_time() <= t)
        });
        Ok(entries)
    }

    /// The pictures not yet given to the agent, oldest first, `max` at most
    /// (and no more than fit one answer); they are marked as sent.
    pub fn new_pictures(
        &self,
        session: Option<&str>,
        max: Option<usize>,
        width: Option<u32>,
    ) -> Result<NewPictures, ToolError> {
        let id = self.resolve(session)?;
        let unsent = self.catalog.frames(
            &id,
            FrameQuery {
                unsent: true,
                since: None,
            },
        )?;
        let max = max.unwrap_or(self.options.max_pictures).max(1);
        let mut pictures = Vec::new();
        let mut bytes = 0;
        for entry in unsent.iter().take(max) {
            let jpeg = self.jpeg(&id, &entry.id, width)?;
            if !pictures.is_empty() && bytes + jpeg.len() > MAX_ANSWER_BYTES {
                break;
            }
            bytes += jpeg.len();
            pictures.push(Picture {
                entry: entry.clone(),
                jpeg,
            });
        }
        let ids: Vec<String> = pictures.iter().map(|p| p.entry.id.clone()).collect();
        if !ids.is_empty() {
            self.mark_sent(&id, &ids)?;
        }
        let recording = self.catalog.session(&id)?.recording;
        Ok(NewPictures {
            remaining: unsent.len() - pictures.len(),
            session: id,
            pictures,
            recording,
        })
    }

    /// One picture (not marked as sent).
    pub fn picture(
        &self,
        session: Option<&str>,
        frame: &str,
        width: Option<u32>,
    ) -> Result<(String, Picture), ToolError> {
        let id = self.resolve(session)?;
        let entry = self
            .catalog
            .frames(&id, FrameQuery::default())?
            .into_iter()
            .find(|f| f.id == frame)
            .ok_or_else(|| CatalogError::NoPicture {
                session: id.clone(),
                frame: frame.to_string(),
            })?;
        let jpeg = self.jpeg(&id, frame, width)?;
        Ok((id, Picture { entry, jpeg }))
    }

    /// The transcript text since `since` (session time).
    pub fn transcript(
        &self,
        session: Option<&str>,
        since: Option<f64>,
    ) -> Result<(String, String), ToolError> {
        let id = self.resolve(session)?;
        let lines = self.catalog.transcript(&id, since)?;
        Ok((id, cht_api::transcript_text(&lines)))
    }

    /// Asks the running recorder for a picture now; it is given to the
    /// agent, so it is marked as sent.
    pub fn capture_now(&self, width: Option<u32>) -> Result<(String, Picture), ToolError> {
        let (id, client) = self.recorder()?;
        let entry: FrameEntry =
            serde_json::from_value(client.call(Method::Post, "/capture", None)?).map_err(|e| {
                ToolError::Other(format!("the recorder's answer is not a picture: {e}"))
            })?;
        let jpeg = self.jpeg(&id, &entry.id, width)?;
        client.call(
            Method::Post,
            &format!("/sessions/{id}/frames/sent"),
            Some(json!({ "ids": [entry.id] })),
        )?;
        Ok((id, Picture { entry, jpeg }))
    }

    /// Changes the running recorder's scene threshold.
    pub fn set_threshold(&self, threshold: f64) -> Result<Value, ToolError> {
        if !(0.0..=1.0).contains(&threshold) {
            return Err(ToolError::Other(format!(
                "threshold must be between 0 and 1, not {threshold}"
            )));
        }
        let (_, client) = self.recorder()?;
        Ok(client.call(
            Method::Put,
            "/threshold",
            Some(json!({ "threshold": threshold })),
        )?)
    }

    /// The session being recorded and a client of its recorder's control
    /// API (the address the session's lock names, else `--control`).
    fn recorder(&self) -> Result<(String, ControlClient), ToolError> {
        let sessions = self
            .catalog
            .dir()
            .list()
            .map_err(|e| ToolError::Other(e.to_string()))?;
        let (session, recorder) = sessions
            .iter()
            .find_map(|s| s.layout().recorder().map(|r| (s.id.to_string(), r)))
            .ok_or_else(|| {
                ToolError::Other(format!(
                    "nothing is being recorded in {}: start `cht record` (or `cht record --demo`)",
                    self.options.sessions_dir.display()
                ))
            })?;
        let addr = match recorder.control.as_deref() {
            Some(text) => text.parse().unwrap_or(self.options.control),
            None => {
                return Err(ToolError::Other(format!(
                    "session {session} is recorded by cht process {} without a control API (--control off): it cannot be steered",
                    recorder.pid
                )))
            }
        };
        Ok((
            session,
            ControlClient::find(
                addr,
                &self.options.sessions_dir,
                self.options.token_file.as_deref(),
            ),
        ))
    }

    /// Marks pictures as sent: on the files, or through the recorder of a
    /// session being recorded.
    fn mark_sent(&self, id: &str, ids: &[String]) -> Result<usize, ToolError> {
        match self.catalog.mark_sent(id, ids) {
            Err(CatalogError::Busy { recorder, .. }) => {
                let Some(addr) = recorder
                    .as_ref()
                    .and_then(|r| r.control.as_deref())
                    .and_then(|c| c.parse::<SocketAddr>().ok())
                else {
                    return Err(ToolError::Other(format!(
                        "session {id} is being recorded without a control API (--control off): its pictures cannot be marked as sent while it records"
                    )));
                };
                let client = ControlClient::find(
                    addr,
                    &self.options.sessions_dir,
                    self.options.token_file.as_deref(),
                );
                let answer = client.call(
                    Method::Post,
                    &format!("/sessions/{id}/frames/sent"),
                    Some(json!({ "ids": ids })),
                )?;
                Ok(answer["updated"].as_u64().unwrap_or(0) as usize)
            }
            other => Ok(other?),
        }
    }

    fn jpeg(&self, id: &str, frame: &str, width: Option<u32>) -> Result<Vec<u8>, ToolError> {
        let jpeg = self.catalog.picture(id, frame)?;
        match width.or(self.options.picture_width).filter(|w| *w > 0) {
            Some(width) => cht_frames::scale_jpeg(&jpeg, width.max(cht_frames::MIN_WIDTH))
                .map_err(|e| ToolError::Other(format!("{frame}: {e}"))),
            None => Ok(jpeg),
        }
    }
}

/// One line about a picture: what it is and where it is in time.
pub fn describe(entry: &FrameEntry) -> String {
    let what = match entry.kind {
        Some(cht_frames::FrameKind::Event) => "new screen",
        Some(cht_frames::FrameKind::Update) => "the same screen, built further",
        Some(cht_frames::FrameKind::Manual) => "captured on request",
        None => "picture",
    };
    let cause = entry
        .cause
        .as_deref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    let session_time = entry.session_time.unwrap_or(entry.timestamp);
    format!(
        "{}: {what}{cause} at {} of the session (segment {}, {:.3} s); it shows {}",
        entry.id,
        cht_api::clock(session_time),
        entry.segment.unwrap_or(0),
        entry.timestamp,
        cht_api::clock(entry.session_picture_time.unwrap_or(session_time)),
    )
}
