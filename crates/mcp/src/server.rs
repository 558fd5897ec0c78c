//! The MCP side: tools, resources and notifications over rmcp.

// Logging notifications and `resources/subscribe` are deprecated by the
// newest protocol revision (SEP-2577, subscriptions/listen), but the
// clients in use speak the revisions that have them: both are served.
#![allow(deprecated)]

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, LoggingLevel,
    LoggingMessageNotificationParam, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ResourceTemplate,
    ResourceUpdatedNotificationParam, ServerCapabilities, ServerConfig, SetLevelRequestParams,
    SubscribeRequestParams, SubscriptionFilter, Tool, ToolAnnotations, UnsubscribeRequestParams,
};
use rmcp::service::{RequestContext, SubscriptionContext, SubscriptionSink};
use rmcp::{ErrorData as McpError, Peer, RoleServer, ServerHandler};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::sessions::{describe, Picture, Sessions, ToolError};

/// How often the sessions being recorded are looked at for new pictures
/// and transcripts.
pub const WATCH_EVERY: Duration = Duration::from_millis(500);
/// The scheme of every resource.
const ROOT: &str = "cht://sessions";

/// The MCP server of `cht mcp`: cheap to clone.
#[derive(Clone)]
pub struct ChtServer {
    sessions: Sessions,
    listeners: Arc<Mutex<Listeners>>,
}

/// Who wants to hear of changes.
#[derive(Default)]
struct Listeners {
    /// The client, once it asked for something notifications go to.
    peer: Option<Peer<RoleServer>>,
    /// URIs subscribed to with `resources/subscribe`.
    subscribed: BTreeSet<String>,
    /// Set with `logging/setLevel`.
    level: Option<LoggingLevel>,
    /// `subscriptions/listen` streams.
    streams: HashMap<u64, SubscriptionSink>,
    next_stream: u64,
}

impl ChtServer {
    /// A server over these sessions.
    pub fn new(sessions: Sessions) -> Self {
        ChtServer {
            sessions,
            listeners: Arc::default(),
        }
    }

    fn remember_peer(&self, peer: &Peer<RoleServer>) {
        if let Ok(mut listeners) = self.listeners.lock() {
            listeners.peer = Some(peer.clone());
        }
    }

    /// Runs a blocking call (files, the recorder's API) off the runtime.
    async fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Sessions) -> Result<T, ToolError> + Send + 'static,
    ) -> Result<T, ToolError> {
        let sessions = self.sessions.clone();
        tokio::task::spawn_blocking(move || call(&sessions))
            .await
            .map_err(|e| ToolError::Other(e.to_string()))?
    }

    async fn run_tool(&self, name: &str, args: Value) -> Result<CallToolResult, ToolError> {
        let args: ToolArgs = serde_json::from_value(args)
            .map_err(|e| ToolError::Other(format!("bad arguments for {name}: {e}")))?;
        match name {
            "list_sessions" => {
                let list = self.blocking(Sessions::list).await?;
                let summary: Vec<Value> = list
                    .iter()
                    .map(|s| {
                        json!({
                            "id": s.id, "recording": s.recording, "started_at": s.started_at,
                            "duration": s.duration, "segments": s.segments.len(),
                            "frames": s.frames, "unsent_frames": s.unsent_frames,
                            "audio_chunks": s.audio_chunks, "transcripts": s.transcripts,
                        })
                    })
                    .collect();
                Ok(json_result(json!({ "sessions": summary })))
            }
            "session_timeline" => {
                let (session, since, until) = (args.session, args.since, args.until);
                let (id, entries) = self
                    .blocking(move |s| {
                        let id = s.resolve(session.as_deref())?;
                        let entries = s.timeline(&id, since, until)?;
                        Ok((id, entries))
                    })
                    .await?;
                Ok(json_result(json!({ "session": id, "timeline": entries })))
            }
            "new_pictures" => {
                let (session, max, width) = (args.session, args.max, args.width);
                let answer = self
                    .blocking(move |s| s.new_pictures(session.as_deref(), max, width))
                    .await?;
                let mut content = Vec::new();
                let head = match (answer.pictures.len(), answer.remaining) {
                    (0, _) => format!(
                        "No new pictures in session {} since the last call{}.",
                        answer.session,
                        if answer.recording { " (it is being recorded: call again later)" } else { "" }
                    ),
                    (n, 0) => format!("{n} new picture(s) of session {}, oldest first:", answer.session),
                    (n, left) => format!(
                        "{n} new picture(s) of session {}, oldest first; {left} more wait for the next call:",
                        answer.session
                    ),
                };
                content.push(ContentBlock::text(head));
                for picture in &answer.pictures {
                    content.extend(picture_blocks(picture));
                }
                let entries: Vec<_> = answer.pictures.iter().map(|p| &p.entry).collect();
                let mut result = CallToolResult::success(content);
                result.structured_content = Some(json!({
                    "session": answer.session, "recording": answer.recording,
                    "pictures": entries, "remaining": answer.remaining,
                }));
                Ok(result)
            }
            "get_picture" => {
                let Some(frame) = args.id else {
                    return Err(ToolError::Other(
                        "get_picture needs the picture's id (F0001...)".into(),
                    ));
                };
                let (session, width) = (args.session, args.width);
                let (_, picture) = self
                    .blocking(move |s| s.picture(session.as_deref(), &frame, width))
                    .await?;
                Ok(CallToolResult::success(picture_blocks(&picture)))
            }
            "transcript" => {
                let (session, since) = (args.session, args.since);
                let (id, text) = self
                    .blocking(move |s| s.transcript(session.as_deref(), since))
                    .await?;
                let text = if text.is_empty() {
                    format!(
                        "No transcript in session {id} yet{}.",
                        since
                            .map(|t| format!(" after {}", cht_api::clock(t)))
                            .unwrap_or_default()
                    )
                } else {
                    text
                };
                Ok(CallToolResult::success(vec![ContentBlock::text(text)]))
            }
            "capture_now" => {
                let width = args.width;
                let (_, picture) = self.blocking(move |s| s.capture_now(width)).await?;
                Ok(CallToolResult::success(picture_blocks(&picture)))
            }
            "set_threshold" => {
                let Some(threshold) = args.threshold else {
                    return Err(ToolError::Other(
                        "set_threshold needs a threshold between 0 and 1".into(),
                    ));
                };
                let answer = self.blocking(move |s| s.set_threshold(threshold)).await?;
                Ok(json_result(answer))
            }
            other => Err(ToolError::Other(format!("no tool {other:?}"))),
        }
    }

    async fn read(&self, uri: &str) -> Result<ReadResourceResult, McpError> {
        let not_found = || McpError::resource_not_found(format!("no resource {uri}"), None);
        let path = uri.strip_prefix(ROOT).ok_or_else(not_found)?;
        let parts: Vec<&str> = path.split('/').skip(1).collect();
        let owned: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        let uri_owned = uri.to_string();
        let contents = self
            .blocking(move |s| {
                let parts: Vec<&str> = owned.iter().map(String::as_str).collect();
                let catalog = s.catalog();
                let json_text = |value: Value| {
                    ResourceContents::text(value.to_string(), uri_owned.clone())
                        .with_mime_type("application/json")
                };
                Ok(match parts.as_slice() {
                    [] => json_text(serde_json::to_value(catalog.sessions()?).unwrap_or_default()),
                    [id] => {
                        json_text(serde_json::to_value(catalog.session(id)?).unwrap_or_default())
                    }
                    [id, "timeline"] => {
                        json_text(serde_json::to_value(catalog.timeline(id)?).unwrap_or_default())
                    }
                    [id, "transcript"] => ResourceContents::text(
                        cht_api::transcript_text(&catalog.transcript(id, None)?),
                        uri_owned.clone(),
                    )
                    .with_mime_type("text/plain"),
                    [id, "frames", file] => {
                        let frame = file.strip_suffix(".jpg").unwrap_or(file);
                        let jpeg = catalog.picture(id, frame)?;
                        ResourceContents::blob(
                            base64::engine::general_purpose::STANDARD.encode(jpeg),
                            uri_owned.clone(),
                        )
                        .with_mime_type("image/jpeg")
                    }
                    _ => return Err(ToolError::Other(String::new())),
                })
            })
            .await
            .map_err(|e| match e {
                ToolError::Other(m) if m.is_empty() => not_found(),
                ToolError::Catalog(
                    cht_api::CatalogError::NoSession(_) | cht_api::CatalogError::NoPicture { .. },
                ) => not_found(),
                other => McpError::invalid_params(other.to_string(), None),
            })?;
        Ok(ReadResourceResult::new(vec![contents]))
    }

    /// Tells the listeners what changed.
    async fn announce(&self, change: &Change) {
        let uris = &change.uris;
        let (peer, subscribed, level, streams) = match self.listeners.lock() {
            Ok(l) => (
                l.peer.clone(),
                uris.iter()
                    .filter(|u| l.subscribed.contains(*u))
                    .cloned()
                    .collect::<Vec<_>>(),
                l.level,
                l.streams.values().cloned().collect::<Vec<_>>(),
            ),
            Err(_) => return,
        };
        if let Some(peer) = &peer {
            for uri in subscribed {
                let _ = peer
                    .notify_resource_updated(ResourceUpdatedNotificationParam::new(uri))
                    .await;
            }
            if change.list_changed {
                let _ = peer.notify_resource_list_changed().await;
            }
            if let (Some(level), Some(data)) = (level, change.message.clone()) {
                if matches!(level, LoggingLevel::Debug | LoggingLevel::Info) {
                    let _ = peer
                        .notify_logging_message(
                            LoggingMessageNotificationParam::new(LoggingLevel::Info, data)
                                .with_logger("cht"),
                        )
                        .await;
                }
            }
        }
        for sink in streams {
            if change.list_changed && sink.accepted().resources_list_changed == Some(true) {
                let _ = sink.notify_resource_list_changed().await;
            }
            let accepted = sink
                .accepted()
                .resource_subscriptions
                .clone()
                .unwrap_or_default();
            for uri in uris.iter().filter(|u| accepted.contains(*u)) {
                let _ = sink.notify_resource_updated(uri.clone()).await;
            }
        }
    }

    /// Watches the sessions being recorded; a new picture or transcript
    /// updates the session's resources (and is logged), a new session
    /// changes the list. Runs until the server ends.
    pub async fn watch(self) {
        let seen = Arc::new(Mutex::new(Seen::default()));
        loop {
            let (sessions, seen) = (self.sessions.clone(), seen.clone());
            let looked = tokio::task::spawn_blocking(move || match seen.lock() {
                Ok(mut seen) => seen.look(&sessions),
                Err(_) => Vec::new(),
            })
            .await;
            let Ok(changes) = looked else { return };
            for change in changes {
                self.announce(&change).await;
            }
            tokio::time::sleep(WATCH_EVERY).await;
        }
    }
}

/// What the watcher knows: per session, the pictures and transcripts seen
/// (`None` before the first look: what exists then is not news), and the
/// state of the two index files they were counted from.
#[derive(Default)]
struct Seen {
    counts: Option<HashMap<String, (usize, usize)>>,
    indexes: HashMap<String, Vec<Option<(std::time::SystemTime, u64)>>>,
}

/// When and how big a file is (`None`: missing).
fn stamp(path: &std::path::Path) -> Option<(std::time::SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Something to tell the client.
struct Change {
    /// Resources whose content changed.
    uris: Vec<String>,
    /// The list of resources changed (a new session).
    list_changed: bool,
    /// A log message about it.
    message: Option<Value>,
}

impl Seen {
    /// The changes since the last look.
    fn look(&mut self, sessions: &Sessions) -> Vec<Change> {
        let catalog = sessions.catalog();
        let Ok(list) = catalog.dir().list() else {
            return Vec::new();
        };
        let first = self.counts.is_none();
        let counts = self.counts.get_or_insert_with(HashMap::new);
        let mut changes = Vec::new();
        if !first && list.iter().any(|s| !counts.contains_key(s.id.as_str())) {
            changes.push(Change {
                uris: vec![ROOT.to_string()],
                list_changed: true,
                message: None,
            });
        }
        for session in &list {
            let id = session.id.as_str();
            let known = counts.get(id).copied();
            // Only a session being recorded changes.
            if known.is_some() && session.layout().recorder().is_none() {
                continue;
            }
            let layout = session.layout();
            let indexes = vec![
                stamp(&cht_session::Layout::index_of(&layout.frames_dir())),
                stamp(&cht_session::Layout::index_of(&layout.transcript_dir())),
            ];
            if known.is_some() && self.indexes.get(id) == Some(&indexes) {
                continue;
            }
            self.indexes.insert(id.to_string(), indexes);
            let Ok(frames) = catalog.frames(id, cht_api::FrameQuery::default()) else {
                continue;
            };
            let transcripts = catalog.transcript_count(id);
            let (old_frames, old_transcripts) = match known {
                Some(known) => known,
                None if first => (frames.len(), transcripts),
                None => (0, 0),
            };
            counts.insert(id.to_string(), (frames.len(), transcripts));
            let base = format!("{ROOT}/{id}");
            for entry in frames.iter().skip(old_frames) {
                changes.push(Change {
                    uris: vec![base.clone(), format!("{base}/timeline")],
                    list_changed: false,
                    message: Some(json!({
                        "event": "new_picture", "session": id, "id": entry.id,
                        "session_time": entry.session_time,
                        "message": format!("new picture in session {id}: {}", describe(entry)),
                    })),
                });
            }
            if transcripts > old_transcripts {
                changes.push(Change {
                    uris: vec![format!("{base}/transcript"), format!("{base}/timeline")],
                    list_changed: false,
                    message: Some(json!({
                        "event": "new_transcript", "session": id,
                        "message": format!("{} new transcript(s) in session {id}", transcripts - old_transcripts),
                    })),
                });
            }
        }
        changes
    }
}

/// The arguments any tool takes (each uses some).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolArgs {
    session: Option<String>,
    since: Option<f64>,
    until: Option<f64>,
    max: Option<usize>,
    width: Option<u32>,
    id: Option<String>,
    threshold: Option<f64>,
}

fn json_result(value: Value) -> CallToolResult {
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(value);
    result
}

/// A picture as content: its description, then the image.
fn picture_blocks(picture: &Picture) -> Vec<ContentBlock> {
    vec![
        ContentBlock::text(describe(&picture.entry)),
        ContentBlock::image(
            base64::engine::general_purpose::STANDARD.encode(&picture.jpeg),
            "image/jpeg",
        ),
    ]
}

fn schema(value: Value) -> Arc<JsonObject> {
    Arc::new(match value {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    })
}

const SESSION: &str =
    "A session id from list_sessions; default: the session being recorded now, else the newest.";

/// The tools, as `tools/list` shows them.
pub fn tools() -> Vec<Tool> {
    let session = json!({ "type": "string", "description": SESSION });
    let width = json!({ "type": "integer", "minimum": 0, "description": "Scale pictures down to this width in pixels (0: as recorded; default: cht mcp's --picture-width)." });
    let read_only = || ToolAnnotations::new().read_only(true);
    vec![
        Tool::new(
            "list_sessions",
            "Lists the recorded sessions, newest first: whether each is being recorded now, its length, and how many pictures (and not yet seen ones), audio chunks and transcripts it has.",
            schema(json!({ "type": "object", "properties": {}, "additionalProperties": false })),
        )
        .annotate(read_only()),
        Tool::new(
            "session_timeline",
            "Everything in a session in time order: segments (one per sender connection), pictures of new screens, audio chunks and their transcripts. Each entry has `time` (seconds on its segment's clock) and `session_time` (seconds into the session).",
            schema(json!({ "type": "object", "additionalProperties": false, "properties": {
                "session": session,
                "since": { "type": "number", "description": "Only entries at or after this session time (seconds)." },
                "until": { "type": "number", "description": "Only entries at or before this session time (seconds)." },
            }})),
        )
        .annotate(read_only()),
        Tool::new(
            "new_pictures",
            "The pictures of the screen share you have not seen yet, oldest first, as images with their times; they are then marked as seen, so the next call returns only newer ones. Call it again while a session is recorded to follow it.",
            schema(json!({ "type": "object", "additionalProperties": false, "properties": {
                "session": session,
                "max": { "type": "integer", "minimum": 1, "maximum": 100, "description": "At most this many pictures (default: cht mcp's --max-pictures); the rest wait for the next call." },
                "width": width,
            }})),
        )
        .annotate(ToolAnnotations::new().read_only(false).destructive(false).idempotent(false)),
        Tool::new(
            "get_picture",
            "One picture by id (F0001...), as an image with its times. It is not marked as seen.",
            schema(json!({ "type": "object", "additionalProperties": false, "required": ["id"], "properties": {
                "session": session,
                "id": { "type": "string", "description": "The picture's id, e.g. F0007." },
                "width": width,
            }})),
        )
        .annotate(read_only()),
        Tool::new(
            "transcript",
            "What was said in a session (the transcripts of its audio chunks), one paragraph per chunk headed by its session time [mm:ss.s].",
            schema(json!({ "type": "object", "additionalProperties": false, "properties": {
                "session": session,
                "since": { "type": "number", "description": "Only chunks that end after this session time (seconds)." },
            }})),
        )
        .annotate(read_only()),
        Tool::new(
            "capture_now",
            "Takes a picture of the screen share now (the running cht record's latest decoded frame) and returns it.",
            schema(json!({ "type": "object", "additionalProperties": false, "properties": { "width": width } })),
        )
        .annotate(ToolAnnotations::new().read_only(false).destructive(false)),
        Tool::new(
            "set_threshold",
            "Changes how big a change of the screen must be to make a new picture (0-1; lower finds smaller changes; default 0.3), for the running cht record.",
            schema(json!({ "type": "object", "additionalProperties": false, "required": ["threshold"], "properties": {
                "threshold": { "type": "number", "minimum": 0, "maximum": 1 },
            }})),
        )
        .annotate(ToolAnnotations::new().read_only(false).destructive(false).idempotent(true)),
    ]
}

impl ServerHandler for ChtServer {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_resources_subscribe()
            .enable_resources_list_changed()
            .enable_logging()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("cht", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "cht records a live screen share into sessions: a picture of every new screen, audio chunks and their transcripts. \
                 Call new_pictures to see the screens you have not seen yet (again and again while a session is recorded), \
                 transcript for what was said, session_timeline to place everything in time. \
                 Times are seconds into the session (session_time).",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools().into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        self.remember_peer(&context.peer);
        if self.get_tool(&request.name).is_none() {
            return Err(McpError::invalid_params(
                format!("no tool {:?}", request.name),
                None,
            ));
        }
        let args = Value::Object(request.arguments.unwrap_or_default());
        Ok(match self.run_tool(&request.name, args).await {
            Ok(result) => result,
            Err(e) => CallToolResult::error(vec![ContentBlock::text(e.to_string())]),
        }
        .into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let sessions = self
            .blocking(Sessions::list)
            .await
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        let mut resources = vec![Resource::new(ROOT, "sessions")
            .with_description("Every session, newest first (JSON).")
            .with_mime_type("application/json")];
        for s in sessions {
            let base = format!("{ROOT}/{}", s.id);
            let now = if s.recording {
                ", being recorded now"
            } else {
                ""
            };
            resources.push(
                Resource::new(&base, format!("session {}", s.id))
                    .with_description(format!(
                        "Session {}: {:.0} s, {} pictures ({} unseen){now} (JSON).",
                        s.id, s.duration, s.frames, s.unsent_frames
                    ))
                    .with_mime_type("application/json"),
            );
            resources.push(
                Resource::new(format!("{base}/timeline"), format!("timeline of {}", s.id))
                    .with_description(
                        "Segments, pictures, chunks and transcripts in time order (JSON).",
                    )
                    .with_mime_type("application/json"),
            );
            resources.push(
                Resource::new(
                    format!("{base}/transcript"),
                    format!("transcript of {}", s.id),
                )
                .with_description("What was said, by session time (text).")
                .with_mime_type("text/plain"),
            );
        }
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        let templates = vec![
            ResourceTemplate::new(format!("{ROOT}/{{id}}"), "session")
                .with_description("A session: segments, duration, counts (JSON).")
                .with_mime_type("application/json"),
            ResourceTemplate::new(format!("{ROOT}/{{id}}/timeline"), "timeline")
                .with_description("A session's timeline (JSON).")
                .with_mime_type("application/json"),
            ResourceTemplate::new(format!("{ROOT}/{{id}}/transcript"), "transcript")
                .with_description("A session's transcript (text).")
                .with_mime_type("text/plain"),
            ResourceTemplate::new(format!("{ROOT}/{{id}}/frames/{{frame}}.jpg"), "picture")
                .with_description("A picture of a session (JPEG).")
                .with_mime_type("image/jpeg"),
        ];
        Ok(ListResourceTemplatesResult::with_all_items(templates))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        self.remember_peer(&context.peer);
        Ok(self.read(&request.uri).await?.into())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if !request.uri.starts_with(ROOT) {
            return Err(McpError::resource_not_found(
                format!("no resource {}", request.uri),
                None,
            ));
        }
        if let Ok(mut listeners) = self.listeners.lock() {
            listeners.peer = Some(context.peer.clone());
            listeners.subscribed.insert(request.uri);
        }
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if let Ok(mut listeners) = self.listeners.lock() {
            listeners.subscribed.remove(&request.uri);
        }
        Ok(())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        let mut accepted = SubscriptionFilter::new();
        accepted.resources_list_changed = requested.resources_list_changed;
        accepted.resource_subscriptions = requested.resource_subscriptions.as_ref().map(|uris| {
            uris.iter()
                .filter(|u| u.starts_with(ROOT))
                .cloned()
                .collect()
        });
        Some(accepted)
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        let key = match self.listeners.lock() {
            Ok(mut listeners) => {
                let key = listeners.next_stream;
                listeners.next_stream += 1;
                listeners.streams.insert(key, context.sink().clone());
                key
            }
            Err(_) => return Ok(()),
        };
        context.cancelled().await;
        if let Ok(mut listeners) = self.listeners.lock() {
            listeners.streams.remove(&key);
        }
        Ok(())
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if let Ok(mut listeners) = self.listeners.lock() {
            listeners.peer = Some(context.peer.clone());
            listeners.level = Some(request.level);
        }
        Ok(())
    }
}
