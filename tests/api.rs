//! The HTTP API of `cht record` (live session and all sessions) and `cht
//! serve` (finished sessions), under a real HTTP client, every answer
//! checked against the OpenAPI document the server serves (with boon, an
//! independent JSON Schema validator), and SSE resumed with Last-Event-ID
//! across a forced disconnect.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use cht_suite::{fixture, free_tcp_port, Recorder, Served};
use serde_json::{json, Value};

/// One answer, whatever its type.
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {} is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client of one API server, with its token.
struct Api {
    addr: String,
    token: String,
    agent: ureq::Agent,
}

impl Api {
    fn new(addr: &str, token: &str) -> Api {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Api {
            addr: addr.to_string(),
            token: token.to_string(),
            agent,
        }
    }

    /// Sends a request with the token (and a JSON body for a change);
    /// `headers` are added or replace the defaults.
    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let url = format!("http://{}{path}", self.addr);
        let bearer = format!("Bearer {}", self.token);
        let mut all: Vec<(&str, &str)> = vec![("authorization", &bearer)];
        for (name, value) in headers {
            all.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            all.push((name, value));
        }
        all.retain(|(_, v)| !v.is_empty());
        let result = match method {
            "GET" => {
                let mut request = self.agent.get(&url);
                for (n, v) in &all {
                    request = request.header(*n, *v);
                }
                request.call()
            }
            _ => {
                let mut request = match method {
                    "PUT" => self.agent.put(&url),
                    _ => self.agent.post(&url),
                };
                for (n, v) in &all {
                    request = request.header(*n, *v);
                }
                if !all
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                {
                    request = request.header("content-type", "application/json");
                }
                request.send(body.unwrap_or("{}"))
            }
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        Answer {
            status: response.status().as_u16(),
            content_type: response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
            body: response
                .body_mut()
                .with_config()
                .limit(64 << 20)
                .read_to_vec()
                .unwrap(),
        }
    }

    fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None, &[])
    }
}

/// The OpenAPI document a server serves, as the judge of its answers.
struct OpenApi {
    doc: Value,
    /// (method, path template) answered with a success and checked.
    covered: BTreeSet<(String, String)>,
    checks: usize,
}

impl OpenApi {
    fn fetch(api: &Api) -> OpenApi {
        let answer = api.get("/openapi.json");
        assert_eq!(answer.status, 200);
        let doc = answer.json();
        let served =
            std::fs::read_to_string(cht_suite::workspace_root().join("crates/api/openapi.json"))
                .unwrap();
        assert_eq!(
            doc,
            serde_json::from_str::<Value>(&served).unwrap(),
            "the document served is the one in the tree"
        );
        let mut openapi = OpenApi {
            doc,
            covered: BTreeSet::new(),
            checks: 0,
        };
        openapi.check("GET", "/openapi.json", &answer);
        openapi
    }

    /// Asserts that `answer` is documented for this operation, with its
    /// media type, and that a JSON body validates against its schema.
    fn check(&mut self, method: &str, template: &str, answer: &Answer) {
        let op = &self.doc["paths"][template][method.to_lowercase()];
        assert!(op.is_object(), "{method} {template} is not documented");
        let mut response = op["responses"][answer.status.to_string()].clone();
        assert!(
            response.is_object(),
            "{method} {template}: HTTP {} is not documented: {}",
            answer.status,
            answer.text()
        );
        if let Some(reference) = response["$ref"].as_str() {
            response = self.doc.pointer(&reference[1..]).unwrap().clone();
        }
        let essence = answer
            .content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let media = &response["content"][&essence];
        assert!(
            media.is_object(),
            "{method} {template}: HTTP {} came as {essence:?}, documented as {:?}",
            answer.status,
            response["content"]
                .as_object()
                .map(|c| c.keys().cloned().collect::<Vec<_>>())
        );
        if essence == "application/json" {
            self.validate(
                &media["schema"],
                &answer.json(),
                &format!("{method} {template} {}", answer.status),
            );
        }
        if (200..300).contains(&answer.status) {
            self.covered
                .insert((method.to_string(), template.to_string()));
        }
    }

    /// Validates `value` against `schema` (whose `$ref`s point into the
    /// document's components) with boon.
    fn validate(&mut self, schema: &Value, value: &Value, what: &str) {
        self.checks += 1;
        let url = format!("http://cht.test/check-{}.json", self.checks);
        let document = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"],
            "allOf": [schema],
        });
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V2020_12);
        compiler.add_resource(&url, document).unwrap();
        let mut schemas = boon::Schemas::new();
        let index = compiler
            .compile(&url, &mut schemas)
            .unwrap_or_else(|e| panic!("{what}: the schema does not compile: {e:#}"));
        if let Err(e) = schemas.validate(value, index) {
            panic!("{what}: the answer does not match the document: {e:#}\n{value:#}");
        }
    }

    /// Every documented operation was answered with a success and checked.
    fn assert_all_covered(&self) {
        let mut documented = BTreeSet::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
        let missing: Vec<_> = documented.difference(&self.covered).collect();
        assert!(missing.is_empty(), "operations never checked: {missing:?}");
    }
}

/// A fake transcriber: the chunk's name, said back.
const TRANSCRIBER: &str = r#"sh -c 'echo "said in $(basename "$1" .wav)"' hook"#;

/// Sends the fixture on one connection (paced over `secs`, or at once) and
/// closes it.
fn send_fixture(addr: &str, secs: f64) -> thread::JoinHandle<()> {
    let addr: SocketAddr = addr.parse().unwrap();
    thread::spawn(move || {
        let bytes = std::fs::read(fixture("av_high.ts")).unwrap();
        let mut socket = TcpStream::connect(addr).unwrap();
        let chunks = 40;
        for chunk in bytes.chunks(bytes.len().div_ceil(chunks)) {
            socket.write_all(chunk).unwrap();
            thread::sleep(Duration::from_secs_f64(secs / chunks as f64));
        }
    })
}

fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(100));
    }
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn jpeg_size(bytes: &[u8]) -> (u16, u16) {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.decode().expect("a JPEG that decodes");
    let info = decoder.info().unwrap();
    (info.width, info.height)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.0015
}

#[test]
fn the_api_of_every_session_matches_its_openapi_document() {
    let sessions = tempfile::tempdir().unwrap();
    let control = format!("127.0.0.1:{}", free_tcp_port());
    let mut rec = Recorder::start(
        sessions.path(),
        &[
            "--relay",
            "off",
            "--control",
            &control,
            "--audio-chunk-secs",
            "2",
            "--on-audio-chunk",
            TRANSCRIBER,
        ],
    );
    let api = Api::new(&control, &rec.control_token());
    let mut doc = OpenApi::fetch(&api);
    let status = api.get("/status");
    doc.check("GET", "/status", &status);
    let id = status.json()["session"].as_str().unwrap().to_string();
    let session_dir = sessions.path().join(&id);

    // Two finished segments, then a third recorded while the API is used.
    for n in 1..=2 {
        send_fixture(&rec.addr, 0.0).join().unwrap();
        wait_until("the segment to finish", Duration::from_secs(60), || {
            let s = api.get(&format!("/sessions/{id}")).json();
            let segments = s["segments"].as_array().unwrap();
            segments.len() == n && segments.iter().all(|seg| seg["finished"] == true)
        });
    }
    wait_until(
        "transcripts of the second segment",
        Duration::from_secs(60),
        || {
            std::fs::read(session_dir.join("transcript/index.json"))
                .ok()
                .and_then(|b| serde_json::from_slice::<Vec<Value>>(&b).ok())
                .is_some_and(|t| t.iter().any(|e| e["segment"] == 1))
        },
    );
    let live = send_fixture(&rec.addr, 6.0);
    wait_until(
        "pictures of the third segment",
        Duration::from_secs(30),
        || {
            let frames = api.get(&format!("/sessions/{id}/frames")).json();
            frames.as_array().unwrap().iter().any(|f| f["segment"] == 2)
        },
    );

    // Sessions and the session: placed on the timeline.
    let list = api.get("/sessions");
    doc.check("GET", "/sessions", &list);
    let listed = list.json();
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(
        (listed[0]["recording"].clone(), listed[0]["live"].clone()),
        (json!(true), json!(true))
    );
    let info = api.get(&format!("/sessions/{id}"));
    doc.check("GET", "/sessions/{id}", &info);
    let info = info.json();
    let segments = info["segments"].as_array().unwrap().clone();
    assert_eq!(segments.len(), 3);
    let starts: Vec<f64> = segments
        .iter()
        .map(|s| s["start"].as_f64().unwrap())
        .collect();
    let durations: Vec<f64> = segments
        .iter()
        .map(|s| s["duration"].as_f64().unwrap())
        .collect();
    assert_eq!(starts[0], 0.0);
    assert!(durations[0] > 9.0, "{durations:?}");
    assert!(
        close(starts[1], durations[0]),
        "segment 1 starts where 0 ends: {starts:?} {durations:?}"
    );
    assert!(close(starts[2], starts[1] + durations[1]));
    assert!(segments
        .iter()
        .all(|s| s["started_at"].as_f64() > Some(1.6e9)));
    // Where each segment's clock starts in its file, as ffprobe reads the
    // first picture's presentation time (the fixture's B-frames put it
    // after the file's first decode time).
    for segment in &segments[..2] {
        let file = session_dir.join(segment["path"].as_str().unwrap());
        let out = Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
            .args([
                "packet=pts_time",
                "-read_intervals",
                "%+#1",
                "-of",
                "csv=p=0",
            ])
            .arg(&file)
            .output()
            .unwrap();
        let first: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        let media_start = segment["media_start"].as_f64().unwrap();
        assert!(
            (media_start - first).abs() < 0.002 && media_start > 0.0,
            "media_start {media_start}, ffprobe {first}"
        );
    }

    // The timeline: in order, every picture placed by its segment's start.
    let timeline = api.get(&format!("/sessions/{id}/timeline"));
    doc.check("GET", "/sessions/{id}/timeline", &timeline);
    let timeline = timeline.json();
    let entries = timeline.as_array().unwrap();
    let times: Vec<f64> = entries
        .iter()
        .map(|e| e["session_time"].as_f64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");
    let mut kinds = BTreeMap::new();
    for entry in entries {
        *kinds
            .entry(entry["type"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
        let segment = entry["segment"].as_u64().unwrap() as usize;
        let expected = starts[segment] + entry["time"].as_f64().unwrap();
        assert!(
            close(entry["session_time"].as_f64().unwrap(), expected),
            "{entry}"
        );
        if entry["type"] == "picture" {
            let shown = starts[segment] + entry["picture_time"].as_f64().unwrap();
            assert!(
                close(entry["session_picture_time"].as_f64().unwrap(), shown),
                "{entry}"
            );
        }
        if entry["type"] == "transcript" {
            let text = format!("said in {}", entry["id"].as_str().unwrap());
            assert_eq!(entry["text"], text.as_str());
        }
    }
    assert_eq!(kinds["segment"], 3);
    assert!(
        kinds["picture"] >= 3 && kinds["chunk"] >= 4 && kinds["transcript"] >= 2,
        "{kinds:?}"
    );

    // Frames: all, unsent, since; the index on disk has the same times.
    let frames = api.get(&format!("/sessions/{id}/frames"));
    doc.check("GET", "/sessions/{id}/frames", &frames);
    let frames = frames.json().as_array().unwrap().clone();
    let on_disk: Vec<Value> =
        serde_json::from_slice(&std::fs::read(session_dir.join("frames/index.json")).unwrap())
            .unwrap();
    for (served, written) in frames.iter().zip(&on_disk) {
        assert_eq!(
            served["session_time"], written["session_time"],
            "written with session times"
        );
        assert_eq!(
            served["session_picture_time"],
            written["session_picture_time"]
        );
    }
    let later = frames.iter().find(|f| f["segment"] == 1).unwrap();
    let since = later["session_time"].as_f64().unwrap();
    let answer = api.get(&format!("/sessions/{id}/frames?since={since}"));
    doc.check("GET", "/sessions/{id}/frames", &answer);
    let since_list = answer.json();
    assert!(since_list
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["session_time"].as_f64().unwrap() >= since));
    assert_eq!(since_list[0]["id"], later["id"]);
    let audio: Vec<Value> =
        serde_json::from_slice(&std::fs::read(session_dir.join("audio/index.json")).unwrap())
            .unwrap();
    assert!(audio.iter().all(|c| close(
        c["session_start"].as_f64().unwrap(),
        starts[c["segment"].as_u64().unwrap() as usize] + c["start"].as_f64().unwrap()
    )));
    let transcripts: Vec<Value> =
        serde_json::from_slice(&std::fs::read(session_dir.join("transcript/index.json")).unwrap())
            .unwrap();
    assert!(
        transcripts.iter().any(|t| t["segment"] == 1),
        "transcript/index.json carries the segment"
    );

    // Pictures, whole and smaller.
    let first = frames[0]["id"].as_str().unwrap().to_string();
    let picture = api.get(&format!("/sessions/{id}/frames/{first}.jpg"));
    doc.check("GET", "/sessions/{id}/frames/{frame}.jpg", &picture);
    assert_eq!(jpeg_size(&picture.body), (640, 360));
    let small = api.get(&format!("/sessions/{id}/frames/{first}.jpg?width=160"));
    doc.check("GET", "/sessions/{id}/frames/{frame}.jpg", &small);
    assert_eq!(jpeg_size(&small.body), (160, 90));
    assert!(
        small.body.len() * 3 < picture.body.len(),
        "{} vs {}",
        small.body.len(),
        picture.body.len()
    );
    for (path, code) in [
        (format!("/sessions/{id}/frames/F9999.jpg"), 404),
        (format!("/sessions/{id}/frames/{first}.png"), 404),
        (format!("/sessions/{id}/frames/{first}.jpg?width=4"), 400),
        (format!("/sessions/{id}/frames/{first}.jpg?width=wide"), 400),
        ("/sessions/nope/frames/F0001.jpg".to_string(), 404),
        ("/sessions/a%20b".to_string(), 400),
    ] {
        let answer = api.get(&path);
        assert_eq!(answer.status, code, "{path}: {}", answer.text());
        let template = if path.ends_with(".jpg") || path.contains(".jpg?") || path.ends_with(".png")
        {
            "/sessions/{id}/frames/{frame}.jpg"
        } else {
            "/sessions/{id}"
        };
        doc.check("GET", template, &answer);
    }

    // The transcript, as text, since a time.
    let text = api.get(&format!("/sessions/{id}/transcript"));
    doc.check("GET", "/sessions/{id}/transcript", &text);
    let all_text = text.text();
    assert!(
        all_text.lines().next().unwrap().starts_with("[00:0"),
        "{all_text}"
    );
    assert!(all_text.contains("said in chunk_0000"), "{all_text}");
    let tail = api.get(&format!("/sessions/{id}/transcript?since={}", starts[2]));
    doc.check("GET", "/sessions/{id}/transcript", &tail);
    assert!(!tail.text().contains("said in chunk_0000") && tail.text().len() < all_text.len());

    // The segment files, whole and in byte ranges (what <video> asks).
    let first_segment = std::fs::read(session_dir.join("stream/recording_000.mp4")).unwrap();
    let whole = api.get(&format!("/sessions/{id}/stream/recording_000.mp4"));
    doc.check("GET", "/sessions/{id}/stream/{segment}.mp4", &whole);
    assert_eq!((whole.status, &whole.body), (200, &first_segment));
    let part = api.send(
        "GET",
        &format!("/sessions/{id}/stream/recording_000.mp4"),
        None,
        &[("range", "bytes=100-1099")],
    );
    doc.check("GET", "/sessions/{id}/stream/{segment}.mp4", &part);
    assert_eq!(
        (part.status, &part.body[..]),
        (206, &first_segment[100..1100])
    );
    let tail = api.send(
        "GET",
        &format!("/sessions/{id}/stream/recording_000.mp4"),
        None,
        &[("range", "bytes=-50")],
    );
    assert_eq!(&tail.body[..], &first_segment[first_segment.len() - 50..]);
    let past = format!("bytes={}-", first_segment.len());
    for (path, range, code) in [
        (
            format!("/sessions/{id}/stream/recording_000.mp4"),
            past.as_str(),
            416,
        ),
        (format!("/sessions/{id}/stream/recording_009.mp4"), "", 404),
        (format!("/sessions/{id}/stream/index.json"), "", 404),
        (
            format!("/sessions/{id}/stream/..%2Fframes%2FF0001.jpg"),
            "",
            404,
        ),
    ] {
        let answer = api.send("GET", &path, None, &[("range", range)]);
        assert_eq!(answer.status, code, "{path}: {}", answer.text());
        doc.check("GET", "/sessions/{id}/stream/{segment}.mp4", &answer);
    }
    // The segment being recorded: a range from 0 has what is on disk now.
    let growing = api.send(
        "GET",
        &format!("/sessions/{id}/stream/recording_002.mp4"),
        None,
        &[("range", "bytes=0-")],
    );
    assert_eq!(growing.status, 206);
    assert_eq!(&growing.body[4..8], b"ftyp", "starts with the init segment");

    // The live endpoints.
    let captured = api.send("POST", "/capture", Some("{}"), &[]);
    doc.check("POST", "/capture", &captured);
    assert_eq!(captured.status, 201);
    let captured = captured.json();
    assert!(close(
        captured["session_time"].as_f64().unwrap(),
        starts[2] + captured["timestamp"].as_f64().unwrap()
    ));
    let threshold = api.send("PUT", "/threshold", Some(r#"{"threshold": 0.25}"#), &[]);
    doc.check("PUT", "/threshold", &threshold);
    assert_eq!(api.get("/status").json()["threshold"], 0.25);
    let live_frames = api.get("/frames?unsent=true");
    doc.check("GET", "/frames", &live_frames);
    let marked = api.send(
        "POST",
        "/frames/sent",
        Some(&json!({"ids": [captured["id"]]}).to_string()),
        &[],
    );
    doc.check("POST", "/frames/sent", &marked);
    assert_eq!(marked.json(), json!({"updated": 1}));
    let marked = api.send(
        "POST",
        &format!("/sessions/{id}/frames/sent"),
        Some(&json!({"ids": [first]}).to_string()),
        &[],
    );
    doc.check("POST", "/sessions/{id}/frames/sent", &marked);
    assert_eq!(
        marked.json(),
        json!({"updated": 1}),
        "the live session, through the recorder"
    );
    let (event_id, event) = first_event(&control, &api.token);
    assert!(event_id.contains('-'), "{event_id}");
    doc.validate(
        &doc.doc["paths"]["/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]
            ["schema"]
            .clone(),
        &event,
        "an SSE event",
    );
    doc.covered.insert(("GET".into(), "/events".into()));

    // Refusals are documented too.
    for (method, path, body, headers, code, template) in [
        (
            "GET",
            "/sessions/nope".to_string(),
            None,
            vec![],
            404,
            "/sessions/{id}",
        ),
        (
            "POST",
            format!("/sessions/{id}/frames/sent"),
            Some("{}"),
            vec![],
            400,
            "/sessions/{id}/frames/sent",
        ),
        (
            "POST",
            format!("/sessions/{id}/frames/sent"),
            Some("{\"ids\":[]}"),
            vec![("content-type", "text/plain")],
            415,
            "/sessions/{id}/frames/sent",
        ),
        (
            "GET",
            "/sessions".to_string(),
            None,
            vec![("authorization", "")],
            401,
            "/sessions",
        ),
        (
            "GET",
            "/sessions".to_string(),
            None,
            vec![("origin", "http://evil.example")],
            403,
            "/sessions",
        ),
        (
            "PUT",
            "/threshold".to_string(),
            Some("2"),
            vec![],
            400,
            "/threshold",
        ),
    ] {
        let answer = api.send(method, &path, body, &headers);
        assert_eq!(answer.status, code, "{method} {path}: {}", answer.text());
        doc.check(method, template, &answer);
    }

    live.join().unwrap();
    wait_until(
        "the third segment to finish",
        Duration::from_secs(60),
        || api.get(&format!("/sessions/{id}")).json()["segments"][2]["finished"] == true,
    );
    terminate(&rec.child);
    let (exit, log) = rec.wait(Duration::from_secs(30));
    assert!(exit.success(), "{log}");

    // The finished session, through `cht serve`.
    let serve = Served::start(sessions.path());
    let (addr, token) = serve.addr_and_token();
    let served = Api::new(&addr, &token);
    let list = served.get("/sessions");
    doc.check("GET", "/sessions", &list);
    assert_eq!(list.json()[0]["recording"], false);
    let not_live = served.get("/status");
    doc.check("GET", "/status", &not_live);
    assert_eq!(not_live.status, 404);
    let unsent = served.get(&format!("/sessions/{id}/frames?unsent=true"));
    doc.check("GET", "/sessions/{id}/frames", &unsent);
    let ids: Vec<Value> = unsent
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].clone())
        .collect();
    assert!(ids.len() >= 2, "{ids:?}");
    let marked = served.send(
        "POST",
        &format!("/sessions/{id}/frames/sent"),
        Some(&json!({"ids": ids}).to_string()),
        &[],
    );
    doc.check("POST", "/sessions/{id}/frames/sent", &marked);
    assert_eq!(marked.json(), json!({"updated": ids.len()}));
    let index: Vec<Value> =
        serde_json::from_slice(&std::fs::read(session_dir.join("frames/index.json")).unwrap())
            .unwrap();
    assert!(
        index.iter().all(|f| f["sent_to_agent"] == true),
        "every picture is marked on disk"
    );
    let again = served.send(
        "POST",
        &format!("/sessions/{id}/frames/sent"),
        Some(&json!({"ids": ids}).to_string()),
        &[],
    );
    assert_eq!(again.json(), json!({"updated": 0}));
    // A browser opens the printed URL: the token becomes a cookie.
    let login = served.send(
        "GET",
        &format!("/sessions?token={token}"),
        None,
        &[("authorization", "")],
    );
    assert_eq!(login.status, 303);
    // The pages are behind the same guard, and only their own origin may
    // use or frame them.
    for path in ["/", &format!("/view/{id}"), "/assets/cht.js"] {
        let anonymous = served.send("GET", path, None, &[("authorization", "")]);
        assert_eq!(anonymous.status, 401, "{path}");
        let foreign = served.send("GET", path, None, &[("origin", "http://evil.example")]);
        assert_eq!(foreign.status, 403, "{path}");
        let page = served.get(path);
        assert_eq!(page.status, 200, "{path}");
    }
    let page = served.get("/");
    assert!(page.content_type.starts_with("text/html"));
    assert!(page.text().contains("/assets/cht.js"));
    // A person's browser with no login yet is told how to get one (a page,
    // holding no secret); a script still gets the API's JSON refusal.
    let navigating = served.send(
        "GET",
        &format!("/view/{id}"),
        None,
        &[("authorization", ""), ("accept", "text/html,*/*;q=0.8")],
    );
    assert_eq!(navigating.status, 401);
    assert!(navigating.content_type.starts_with("text/html"));
    assert!(navigating.text().contains("?token="));
    assert!(!navigating.text().contains(&token));
    let scripted = served.send(
        "GET",
        "/sessions",
        None,
        &[("authorization", ""), ("accept", "application/json")],
    );
    assert_eq!(scripted.status, 401);
    assert!(scripted.json()["error"].is_string());

    // A session another process records: `cht serve` sends changes there.
    let other_control = format!("127.0.0.1:{}", free_tcp_port());
    let mut resumed = Recorder::start(
        sessions.path(),
        &[
            "--relay",
            "off",
            "--session",
            &id,
            "--control",
            &other_control,
        ],
    );
    let resumed_api = Api::new(&other_control, &resumed.control_token());
    let refused = served.send(
        "POST",
        &format!("/sessions/{id}/frames/sent"),
        Some(r#"{"ids":["F0001"]}"#),
        &[],
    );
    doc.check("POST", "/sessions/{id}/frames/sent", &refused);
    assert_eq!(refused.status, 409);
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .contains(&other_control),
        "{}",
        refused.text()
    );
    assert_eq!(served.get("/sessions").json()[0]["recording"], true);
    let through_recorder = resumed_api.send(
        "POST",
        &format!("/sessions/{id}/frames/sent"),
        Some(r#"{"ids":["F0001"]}"#),
        &[],
    );
    assert_eq!(through_recorder.status, 200, "{}", through_recorder.text());
    terminate(&resumed.child);
    assert!(resumed.wait(Duration::from_secs(30)).0.success());
    assert!(serve.stop().success());

    doc.assert_all_covered();
}

/// The first event of `GET /events`: its id and its data.
fn first_event(control: &str, token: &str) -> (String, Value) {
    let lines = read_sse(control, token, None).0;
    let mut id = String::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("an event");
        if let Some(value) = line.strip_prefix("id: ") {
            id = value.to_string();
        } else if let Some(data) = line.strip_prefix("data: ") {
            return (id, serde_json::from_str(data).unwrap());
        }
    }
}

/// Reads `GET /events` (with `Last-Event-ID`, if given) on a thread, line
/// by line. Dropping the flag closes the connection.
fn read_sse(
    control: &str,
    token: &str,
    last_id: Option<&str>,
) -> (mpsc::Receiver<String>, Arc<AtomicBool>) {
    let mut socket = TcpStream::connect(control).unwrap();
    let resume = last_id
        .map(|id| format!("Last-Event-ID: {id}\r\n"))
        .unwrap_or_default();
    write!(
        socket,
        "GET /events HTTP/1.1\r\nHost: {control}\r\nAuthorization: Bearer {token}\r\n{resume}\r\n"
    )
    .unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let open = Arc::new(AtomicBool::new(true));
    let still_open = open.clone();
    thread::spawn(move || {
        let mut reader = BufReader::new(socket.try_clone().unwrap());
        let mut line = String::new();
        while still_open.load(Ordering::SeqCst) {
            match reader.read_line(&mut line) {
                Ok(0) => break,
                Ok(_) => {
                    // Chunked transfer: size lines and blank lines are noise here.
                    let text = line.trim_end().to_string();
                    line.clear();
                    if tx.send(text).is_err() {
                        break;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break,
            }
        }
        // A forced disconnect: the socket goes away without a goodbye.
        let _ = socket.shutdown(std::net::Shutdown::Both);
    });
    (rx, open)
}

/// Frame events read from an SSE stream until `enough` of them came (or
/// the stream stayed silent for `quiet`): (event id, frame id) in order,
/// and the other kinds seen.
fn read_frames(
    lines: &mpsc::Receiver<String>,
    enough: usize,
    quiet: Duration,
) -> (Vec<(String, String)>, Vec<String>) {
    let (mut frames, mut kinds) = (Vec::new(), Vec::new());
    let (mut id, mut kind) = (String::new(), String::new());
    while frames.len() < enough {
        let Ok(line) = lines.recv_timeout(quiet) else {
            break;
        };
        if let Some(value) = line.strip_prefix("id: ") {
            id = value.to_string();
        } else if let Some(value) = line.strip_prefix("event: ") {
            kind = value.to_string();
        } else if let Some(data) = line.strip_prefix("data: ") {
            let event: Value = serde_json::from_str(data).unwrap();
            assert_eq!(event["event"].as_str(), Some(kind.as_str()));
            if kind == "frame" {
                frames.push((id.clone(), event["id"].as_str().unwrap().to_string()));
            } else {
                kinds.push(kind.clone());
            }
        }
    }
    (frames, kinds)
}

fn seq(event_id: &str) -> u64 {
    event_id.rsplit_once('-').unwrap().1.parse().unwrap()
}

#[test]
fn sse_resumes_with_last_event_id_across_a_forced_disconnect() {
    let sessions = tempfile::tempdir().unwrap();
    let control = format!("127.0.0.1:{}", free_tcp_port());
    let mut rec = Recorder::start(
        sessions.path(),
        &["--relay", "off", "--control", &control, "--no-audio"],
    );
    let token = rec.control_token();
    let api = Api::new(&control, &token);
    let id = api.get("/status").json()["session"]
        .as_str()
        .unwrap()
        .to_string();
    let (lines, open) = read_sse(&control, &token, None);

    // Pictures keep coming: new slides every second and captures besides.
    let stop = Arc::new(AtomicBool::new(false));
    let demo = {
        let (addr, stop) = (rec.addr.parse().unwrap(), stop.clone());
        let opts = cht_demo::DemoOptions {
            width: 640,
            height: 360,
            slide_secs: 1.0,
            ..Default::default()
        };
        thread::spawn(move || cht_demo::send_demo(addr, opts, &stop))
    };
    wait_until("a decoded picture", Duration::from_secs(30), || {
        api.get("/status").json()["video"]["pictures"].as_u64() > Some(0)
    });
    let capturer = {
        let (api, stop) = (Api::new(&control, &token), stop.clone());
        thread::spawn(move || {
            let mut taken = 0;
            while !stop.load(Ordering::SeqCst) {
                assert_eq!(api.send("POST", "/capture", Some("{}"), &[]).status, 201);
                taken += 1;
                thread::sleep(Duration::from_millis(40));
            }
            taken
        })
    };

    let (before, _) = read_frames(&lines, 10, Duration::from_secs(20));
    assert_eq!(before.len(), 10, "frames before the disconnect");
    let last_id = before.last().unwrap().0.clone();
    open.store(false, Ordering::SeqCst);
    drop(lines);
    // Pictures arrive while the client is away.
    let index_len = || {
        api.get(&format!("/sessions/{id}/frames"))
            .json()
            .as_array()
            .unwrap()
            .len()
    };
    let at_disconnect = index_len();
    wait_until(
        "pictures while disconnected",
        Duration::from_secs(20),
        || index_len() >= at_disconnect + 15,
    );

    let (lines, open) = read_sse(&control, &token, Some(&last_id));
    let (mut after, _) = read_frames(&lines, 20, Duration::from_secs(20));
    stop.store(true, Ordering::SeqCst);
    let captures = capturer.join().unwrap();
    let _ = demo.join();
    // The segment's last pictures are written once the sender has gone.
    let mut settled = (index_len(), Instant::now());
    wait_until("the last pictures", Duration::from_secs(30), || {
        let now = index_len();
        if now != settled.0 {
            settled = (now, Instant::now());
        }
        settled.1.elapsed() > Duration::from_secs(2)
    });
    let (rest, _) = read_frames(&lines, usize::MAX, Duration::from_secs(3));
    after.extend(rest);
    open.store(false, Ordering::SeqCst);

    let delivered: Vec<&(String, String)> = before.iter().chain(&after).collect();
    let seqs: Vec<u64> = delivered.iter().map(|(event, _)| seq(event)).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "ids only go forward: {seqs:?}"
    );
    let received: Vec<&str> = delivered.iter().map(|(_, frame)| frame.as_str()).collect();
    let unique: HashSet<&str> = received.iter().copied().collect();
    assert_eq!(
        unique.len(),
        received.len(),
        "a frame delivered twice: {received:?}"
    );
    let index: Vec<String> = api
        .get(&format!("/sessions/{id}/frames"))
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    let first = index.iter().position(|f| f == received[0]).unwrap();
    assert_eq!(
        received,
        index[first..].iter().map(String::as_str).collect::<Vec<_>>(),
        "every picture after the first one read, exactly once, in order (connected at {at_disconnect})"
    );
    assert!(
        captures >= 10 && index.len() - first >= 30,
        "{captures} captures, {} pictures from the first one read",
        index.len() - first
    );

    // An id of another run: the stream says events were lost, then goes on.
    let (lines, open) = read_sse(&control, &token, Some("0ther-5"));
    let mut lost = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while lost.is_none() && Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_secs(5)) {
            if let Some(data) = line.strip_prefix("data: ") {
                lost = Some(serde_json::from_str::<Value>(data).unwrap());
            }
        }
    }
    open.store(false, Ordering::SeqCst);
    let lost = lost.expect("an events_lost event first");
    assert_eq!(
        (lost["event"].clone(), lost["missed"].clone()),
        (json!("events_lost"), Value::Null)
    );
    let bad = api.send("GET", "/events", None, &[("last-event-id", "not an id")]);
    assert_eq!(bad.status, 400);

    terminate(&rec.child);
    let (exit, log) = rec.wait(Duration::from_secs(30));
    assert!(exit.success(), "{log}");
}

/// The repository's copy of the document is what the crate embeds.
#[test]
fn the_document_lists_the_routes_of_the_implementation() {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(cht_suite::workspace_root().join("crates/api/openapi.json"))
            .unwrap(),
    )
    .unwrap();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = cht_api::ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert_eq!(documented, routed);
}
