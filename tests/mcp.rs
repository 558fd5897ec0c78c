//! `cht mcp` as an agent host runs it: a child process on stdin/stdout,
//! driven by a real MCP client library (rmcp's client, over the
//! `initialize` handshake clients use) while `cht record --demo` records,
//! with a fake transcriber.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]
#![allow(deprecated)] // logging notifications: deprecated in the newest revision, used by clients today

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use cht_suite::{cht_bin, free_tcp_port, Recorder};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientInfo, LoggingLevel,
    LoggingMessageNotificationParam, ProtocolVersion, ReadResourceRequestParams,
    ResourceUpdatedNotificationParam, SetLevelRequestParams, SubscribeRequestParams,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{json, Value};

/// What the client heard from the server unasked.
#[derive(Default)]
struct Heard {
    updated: Vec<String>,
    logged: Vec<Value>,
}

struct Client {
    heard: Arc<Mutex<Heard>>,
}

impl ClientHandler for Client {
    fn get_info(&self) -> ClientInfo {
        ClientInfo::default().with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.heard.lock().unwrap().updated.push(params.uri);
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.heard.lock().unwrap().logged.push(params.data);
    }
}

async fn call(
    client: &RunningService<RoleClient, Client>,
    tool: &str,
    args: Value,
) -> CallToolResult {
    let mut params = CallToolRequestParams::new(tool.to_string());
    if let Value::Object(map) = args {
        params = params.with_arguments(map);
    }
    let result = client
        .call_tool(params)
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert_ne!(
        result.is_error,
        Some(true),
        "{tool} failed: {:?}",
        result.content
    );
    result
}

/// The pictures of a result: (id, JPEG bytes), from the text before each
/// image and the image itself.
fn pictures(result: &CallToolResult) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut last_text = String::new();
    for block in &result.content {
        if let Some(text) = block.as_text() {
            last_text = text.text.clone();
        } else if let Some(image) = block.as_image() {
            assert_eq!(image.mime_type, "image/jpeg");
            let id = last_text.split(':').next().unwrap().to_string();
            assert!(
                id.starts_with('F'),
                "each image follows its description: {last_text:?}"
            );
            let jpeg = base64::engine::general_purpose::STANDARD
                .decode(&image.data)
                .unwrap();
            out.push((id, jpeg));
        }
    }
    out
}

fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|b| b.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn jpeg_width(bytes: &[u8]) -> u16 {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.decode().expect("a JPEG that decodes");
    decoder.info().unwrap().width
}

fn number(id: &str) -> u64 {
    id[1..].parse().unwrap()
}

/// Calls `new_pictures` until it returns some (or panics after `timeout`).
async fn next_pictures(
    client: &RunningService<RoleClient, Client>,
    args: Value,
    timeout: Duration,
) -> Vec<(String, Vec<u8>)> {
    let deadline = Instant::now() + timeout;
    loop {
        let got = pictures(&call(client, "new_pictures", args.clone()).await);
        if !got.is_empty() {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "no new picture within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_mcp_client_follows_a_live_recording_through_cht_mcp() {
    let sessions = tempfile::tempdir().unwrap();
    let control = format!("127.0.0.1:{}", free_tcp_port());
    let mut rec = Recorder::start(
        sessions.path(),
        &[
            "--relay",
            "off",
            "--demo",
            "--control",
            &control,
            "--audio-chunk-secs",
            "2",
            "--on-audio-chunk",
            r#"sh -c 'echo "said in $(basename "$1" .wav)"' hook"#,
        ],
    );
    let token = rec.control_token();

    let mut command = tokio::process::Command::new(cht_bin());
    command
        .arg("mcp")
        .arg("--sessions-dir")
        .arg(sessions.path())
        .env("CHT_LOG", "warn");
    let transport = TokioChildProcess::new(command).unwrap();
    let heard = Arc::new(Mutex::new(Heard::default()));
    let client = Client {
        heard: heard.clone(),
    }
    .serve(transport)
    .await
    .expect("initialise");
    let server = client.peer_info().expect("the server introduced itself");
    assert_eq!(
        server.server_info.as_ref().map(|i| i.name.as_str()),
        Some("cht")
    );
    assert!(server.capabilities.tools.is_some() && server.capabilities.resources.is_some());

    let tools: BTreeSet<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    let expected: BTreeSet<String> = [
        "list_sessions",
        "session_timeline",
        "new_pictures",
        "get_picture",
        "transcript",
        "capture_now",
        "set_threshold",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(tools, expected);

    let listed = call(&client, "list_sessions", json!({})).await;
    let sessions_json = listed.structured_content.clone().unwrap();
    let session = &sessions_json["sessions"][0];
    assert_eq!(session["recording"], true, "{sessions_json}");
    let id = session["id"].as_str().unwrap().to_string();
    let uri = format!("cht://sessions/{id}");
    client
        .subscribe(SubscribeRequestParams::new(uri.clone()))
        .await
        .unwrap();
    client
        .set_level(SetLevelRequestParams::new(LoggingLevel::Info))
        .await
        .unwrap();

    // The first pictures, as images, smaller when asked.
    let first = next_pictures(&client, json!({ "width": 320 }), Duration::from_secs(60)).await;
    for (picture, jpeg) in &first {
        assert_eq!(jpeg_width(jpeg), 320, "{picture}");
    }
    let seen: Vec<u64> = first.iter().map(|(p, _)| number(p)).collect();
    // Called again: only newer ones, once the demo shows a new slide.
    let newer = next_pictures(&client, json!({}), Duration::from_secs(60)).await;
    let newest_seen = *seen.iter().max().unwrap();
    for (picture, jpeg) in &newer {
        assert!(
            number(picture) > newest_seen,
            "{picture} was already returned ({seen:?})"
        );
        assert_eq!(
            jpeg_width(jpeg),
            1280,
            "--picture-width 1280 by default, the demo's width"
        );
    }
    let structured = call(&client, "new_pictures", json!({ "max": 1 }))
        .await
        .structured_content
        .unwrap();
    assert_eq!(structured["session"], id.as_str());
    for picture in structured["pictures"].as_array().unwrap() {
        assert!(picture["session_time"].as_f64().is_some(), "{picture}");
    }

    // The recorder marked what was returned: its index says so.
    let index: Vec<Value> = serde_json::from_slice(
        &std::fs::read(sessions.path().join(&id).join("frames/index.json")).unwrap(),
    )
    .unwrap();
    let returned: BTreeSet<String> = first.iter().chain(&newer).map(|(p, _)| p.clone()).collect();
    for entry in &index {
        if returned.contains(entry["id"].as_str().unwrap()) {
            assert_eq!(entry["sent_to_agent"], true, "{entry}");
        }
    }

    // What was said.
    let deadline = Instant::now() + Duration::from_secs(60);
    let transcript = loop {
        let text = text_of(&call(&client, "transcript", json!({ "session": id })).await);
        if text.contains("said in chunk_") {
            break text;
        }
        assert!(Instant::now() < deadline, "no transcript: {text}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(transcript.starts_with("[00:0"), "{transcript}");
    let since_later = text_of(&call(&client, "transcript", json!({ "since": 1.0e6 })).await);
    assert!(!since_later.contains("said in"), "{since_later}");

    // The timeline and a picture by id.
    let timeline = call(&client, "session_timeline", json!({}))
        .await
        .structured_content
        .unwrap();
    let entries = timeline["timeline"].as_array().unwrap();
    assert!(entries
        .iter()
        .any(|e| e["type"] == "picture" && e["session_time"].is_number()));
    assert!(entries.iter().any(|e| e["type"] == "transcript"));
    let (picture, _) = &first[0];
    let one = pictures(
        &call(
            &client,
            "get_picture",
            json!({ "id": picture, "width": 160 }),
        )
        .await,
    );
    assert_eq!((one.len(), jpeg_width(&one[0].1)), (1, 160));

    // Steering the recorder.
    let captured = pictures(&call(&client, "capture_now", json!({})).await);
    assert_eq!(captured.len(), 1);
    let answer = call(&client, "set_threshold", json!({ "threshold": 0.45 })).await;
    assert_eq!(
        answer.structured_content,
        Some(json!({ "threshold": 0.45 }))
    );
    let status: Value = serde_json::from_str(
        &ureq::Agent::from(ureq::Agent::config_builder().proxy(None).build())
            .get(format!("http://{control}/status"))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(status["threshold"], 0.45, "the recorder's own status");
    let bad = client
        .call_tool(
            CallToolRequestParams::new("set_threshold")
                .with_arguments(json!({ "threshold": 3 }).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(bad.is_error, Some(true));

    // Resources, and the notifications of new pictures.
    let read = client
        .read_resource(ReadResourceRequestParams::new(format!("{uri}/transcript")))
        .await
        .unwrap();
    assert!(format!("{:?}", read.contents).contains("said in chunk_"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        {
            let heard = heard.lock().unwrap();
            let updated = heard.updated.contains(&uri);
            let logged = heard
                .logged
                .iter()
                .any(|l| l["event"] == "new_picture" && l["session"] == id.as_str());
            if updated && logged {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no notification of a new picture"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The recording ends; the session's files are all there is now.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &rec.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (exit, log) = rec.wait(Duration::from_secs(30));
    assert!(exit.success(), "{log}");
    let listed = call(&client, "list_sessions", json!({}))
        .await
        .structured_content
        .unwrap();
    assert_eq!(listed["sessions"][0]["recording"], false);
    let rest = call(
        &client,
        "new_pictures",
        json!({ "session": id, "max": 100, "width": 64 }),
    )
    .await;
    let rest_ids: Vec<String> = pictures(&rest).into_iter().map(|(p, _)| p).collect();
    assert_eq!(rest.structured_content.unwrap()["remaining"], 0);
    let none = call(&client, "new_pictures", json!({ "session": id })).await;
    assert!(pictures(&none).is_empty(), "{}", text_of(&none));
    let index: Vec<Value> = serde_json::from_slice(
        &std::fs::read(sessions.path().join(&id).join("frames/index.json")).unwrap(),
    )
    .unwrap();
    assert!(
        index.iter().all(|e| e["sent_to_agent"] == true),
        "the finished session's index is marked on disk ({} returned at the end)",
        rest_ids.len()
    );
    let refused = client
        .call_tool(CallToolRequestParams::new("capture_now"))
        .await
        .unwrap();
    assert_eq!(refused.is_error, Some(true));
    assert!(
        text_of(&refused).contains("nothing is being recorded"),
        "{}",
        text_of(&refused)
    );

    client.cancel().await.unwrap();
}
