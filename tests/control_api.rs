//! The loopback control API of a real `cht record` process, under a real
//! HTTP client (ureq), and the thin clients (`cht status`, ...).
//!
//! The stream is sent from the test itself: the committed fixture written in
//! paced chunks (so the recording is live while the API is queried), or the
//! built-in demo source.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use cht_suite::{cht_bin, fixture, free_tcp_port, run, Recorder};
use serde_json::{json, Value};

/// A blocking client of one control API, with its token.
struct Api {
    base: String,
    bearer: String,
    agent: ureq::Agent,
}

impl Api {
    fn new(addr: &str, token: &str) -> Api {
        Api {
            base: format!("http://{addr}"),
            bearer: format!("Bearer {token}"),
            agent: agent(Some(Duration::from_secs(20))),
        }
    }

    fn get(&self, path: &str) -> (u16, Value) {
        answer(
            self.agent
                .get(format!("{}{path}", self.base))
                .header("Authorization", &self.bearer)
                .call(),
        )
    }

    fn post(&self, path: &str, body: &str) -> (u16, Value) {
        answer(
            self.agent
                .post(format!("{}{path}", self.base))
                .header("Authorization", &self.bearer)
                .content_type("application/json")
                .send(body),
        )
    }

    fn put(&self, path: &str, body: &str) -> (u16, Value) {
        answer(
            self.agent
                .put(format!("{}{path}", self.base))
                .header("Authorization", &self.bearer)
                .content_type("application/json")
                .send(body),
        )
    }

    fn status(&self) -> Value {
        let (code, status) = self.get("/status");
        assert_eq!(code, 200, "{status}");
        status
    }
}

fn agent(timeout: Option<Duration>) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(timeout)
        .build()
        .into()
}

fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    let mut response = result.expect("the control API answers");
    let code = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("HTTP {code}: body is not JSON ({e}): {text:?}"));
    (code, value)
}

/// A 4xx answer whose body is `{"error": "<non-empty text>"}`.
fn assert_json_error(code: u16, body: &Value, expected: u16) {
    assert_eq!(code, expected, "{body}");
    let message = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message: {body}"));
    assert!(!message.is_empty());
}

/// `cht record --once` with the control API on a free port; returns it,
/// the control address and the API's token.
fn start_recorder(sessions: &Path) -> (Recorder, String, String) {
    let control = format!("127.0.0.1:{}", free_tcp_port());
    let mut rec = Recorder::start(
        sessions,
        &["--relay", "off", "--once", "--control", &control],
    );
    let token = rec.control_token();
    (rec, control, token)
}

/// Writes the fixture to the recorder in chunks spread over `secs`.
fn send_fixture_paced(addr: &str, secs: f64) -> thread::JoinHandle<()> {
    let addr: SocketAddr = addr.parse().unwrap();
    thread::spawn(move || {
        let bytes = std::fs::read(fixture("av_high.ts")).expect("fixture");
        let mut socket = TcpStream::connect(addr).expect("connect to cht record");
        let chunks = 50;
        let pause = Duration::from_secs_f64(secs / chunks as f64);
        for chunk in bytes.chunks(bytes.len().div_ceil(chunks)) {
            socket.write_all(chunk).expect("send");
            thread::sleep(pause);
        }
    })
}

fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

fn session_dir(sessions: &Path, status: &Value) -> PathBuf {
    sessions.join(status["session"].as_str().expect("status.session"))
}

fn read_index(session: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(session.join("frames/index.json")).expect("index.json");
    serde_json::from_str::<Vec<Value>>(&text).expect("index.json parses")
}

fn assert_jpeg(session: &Path, entry: &Value) {
    let path = session.join(entry["path"].as_str().expect("entry.path"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.starts_with(&[0xFF, 0xD8]) && bytes.ends_with(&[0xFF, 0xD9]),
        "{} is not a JPEG",
        path.display()
    );
}

fn exits_cleanly(rec: Recorder) {
    let (status, log) = rec.wait(Duration::from_secs(30));
    assert!(status.success(), "cht record failed:\n{log}");
}

#[test]
fn the_api_under_a_real_client_while_streaming() {
    let sessions = tempfile::tempdir().unwrap();
    let (rec, control, token) = start_recorder(sessions.path());
    let api = Api::new(&control, &token);

    let (code, body) = api.post("/capture", "");
    assert_json_error(code, &body, 409);

    let sender = send_fixture_paced(&rec.addr, 5.0);
    wait_until("a decoded picture", Duration::from_secs(20), || {
        let s = api.status();
        s["connected"] == true && s["video"]["pictures"].as_u64() > Some(0)
    });
    let status = api.status();
    assert_eq!(
        status["peer"].as_str().map(|p| p.starts_with("127.0.0.1:")),
        Some(true),
        "{status}"
    );
    let session = session_dir(sessions.path(), &status);

    let (code, captured) = api.post("/capture", "");
    assert_eq!(code, 201, "{captured}");
    assert_eq!(captured["manual"], true);
    assert_jpeg(&session, &captured);
    let id = captured["id"].as_str().unwrap().to_string();

    let (code, body) = api.put("/threshold", r#"{"threshold": 0.2}"#);
    assert_eq!((code, &body), (200, &json!({"threshold": 0.2})));
    assert_eq!(api.status()["threshold"], 0.2);
    let (code, _) = api.put("/threshold", "0.35");
    assert_eq!(code, 200);
    assert_eq!(api.status()["threshold"], 0.35);
    for bad in [
        "2.0",
        r#"{"threshold": -0.1}"#,
        "garbage",
        "",
        r#"{"threshold": "0.2"}"#,
        "[0.2]",
    ] {
        let (code, body) = api.put("/threshold", bad);
        assert_json_error(code, &body, 400);
    }
    assert_eq!(
        api.status()["threshold"],
        0.35,
        "rejected bodies change nothing"
    );

    let (code, all) = api.get("/frames");
    assert_eq!(code, 200);
    let all = all.as_array().expect("frames array").clone();
    assert!(all.iter().any(|e| e["id"] == id.as_str()), "{all:?}");
    let (code, body) = api.post("/frames/sent", &json!({ "ids": [id] }).to_string());
    assert_eq!((code, body), (200, json!({"updated": 1})));
    let (_, body) = api.post("/frames/sent", &json!({ "ids": [id, "F9999"] }).to_string());
    assert_eq!(
        body,
        json!({"updated": 0}),
        "already sent, unknown id: nothing changes"
    );
    let (code, unsent) = api.get("/frames?unsent=true");
    assert_eq!(code, 200);
    let unsent = unsent.as_array().unwrap();
    assert!(
        unsent
            .iter()
            .all(|e| e["sent_to_agent"] == false && e["id"] != id.as_str()),
        "{unsent:?}"
    );

    sender.join().unwrap();
    exits_cleanly(rec);
    let index = read_index(&session);
    let entry = index
        .iter()
        .find(|e| e["id"] == id.as_str())
        .expect("captured frame in index.json");
    assert_eq!(
        (entry["manual"].clone(), entry["sent_to_agent"].clone()),
        (json!(true), json!(true))
    );
}

#[test]
fn bad_requests_get_json_errors_and_the_server_keeps_working() {
    let sessions = tempfile::tempdir().unwrap();
    let (rec, control, token) = start_recorder(sessions.path());
    let api = Api::new(&control, &token);
    let cases: [(&str, &str, &str, u16); 8] = [
        ("POST", "/frames/sent", "not json", 400),
        ("POST", "/frames/sent", r#"{"ids": "F0001"}"#, 400),
        ("POST", "/frames/sent", r#"{"ids": [1, 2]}"#, 400),
        ("POST", "/frames/sent", r#"{"id": ["F0001"]}"#, 400),
        ("GET", "/frames?unsent=maybe", "", 400),
        ("GET", "/nowhere", "", 404),
        ("POST", "/status", "", 405),
        ("PUT", "/capture", "{}", 405),
    ];
    for (method, path, body, expected) in cases {
        let (code, answer) = match method {
            "GET" => api.get(path),
            "POST" => api.post(path, body),
            _ => api.put(path, body),
        };
        assert_json_error(code, &answer, expected);
        assert_eq!(
            api.status()["connected"],
            false,
            "still answering after {method} {path}"
        );
    }
    // A request cut off mid-body does not take the server down either.
    let mut raw = TcpStream::connect(&control).unwrap();
    raw.write_all(
        format!(
            "POST /frames/sent HTTP/1.1\r\nHost: {control}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"ids\""
        )
        .as_bytes(),
    )
    .unwrap();
    drop(raw);
    let (code, frames) = api.get("/frames");
    assert_eq!((code, frames), (200, json!([])));

    send_fixture_paced(&rec.addr, 0.5).join().unwrap();
    exits_cleanly(rec);
}

/// Reads SSE lines on a thread; the channel closes when the stream ends.
fn read_sse(control: &str, token: &str) -> mpsc::Receiver<String> {
    let response = agent(None)
        .get(format!("http://{control}/events"))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .expect("GET /events");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(response.into_body().into_reader())
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn sse_delivers_frame_events_and_ends_at_shutdown() {
    let sessions = tempfile::tempdir().unwrap();
    let (rec, control, token) = start_recorder(sessions.path());
    let lines = read_sse(&control, &token);
    // A client that never reads must not hold the recording up.
    let mut stalled = TcpStream::connect(&control).unwrap();
    stalled
        .write_all(
            format!(
                "GET /events HTTP/1.1\r\nHost: {control}\r\nAuthorization: Bearer {token}\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    let session = session_dir(sessions.path(), &Api::new(&control, &token).status());

    let sender = send_fixture_paced(&rec.addr, 3.0);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut kind = String::new();
    let frame = loop {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a frame event in time");
        if let Some(k) = line.strip_prefix("event: ") {
            kind = k.to_string();
        } else if let Some(data) = line.strip_prefix("data: ") {
            let event: Value = serde_json::from_str(data).expect("data is JSON");
            assert_eq!(
                event["event"].as_str(),
                Some(kind.as_str()),
                "event: line names the kind"
            );
            assert!(event["time"].as_f64() > Some(1.6e9), "{event}");
            if kind == "frame" {
                break event;
            }
        }
    };
    assert!(
        frame["id"].as_str().is_some_and(|id| id.starts_with('F')),
        "{frame}"
    );
    assert_jpeg(&session, &frame);

    sender.join().unwrap();
    let started = Instant::now();
    exits_cleanly(rec);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "shutdown with open SSE streams took {:?}",
        started.elapsed()
    );
    let stream_end = Instant::now() + Duration::from_secs(5);
    loop {
        match lines.recv_timeout(stream_end.saturating_duration_since(Instant::now())) {
            Ok(_) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("the SSE stream outlived the server"),
        }
    }
    drop(stalled);
}

#[test]
fn marking_sent_while_frames_arrive_loses_no_entry() {
    let sessions = tempfile::tempdir().unwrap();
    let (rec, control, token) = start_recorder(sessions.path());
    let stop_demo = Arc::new(AtomicBool::new(false));
    let demo = {
        let (addr, stop) = (rec.addr.parse().unwrap(), stop_demo.clone());
        let opts = cht_demo::DemoOptions {
            width: 640,
            height: 360,
            slide_secs: 1.0,
            ..Default::default()
        };
        thread::spawn(move || cht_demo::send_demo(addr, opts, &stop))
    };
    let api = Arc::new(Api::new(&control, &token));
    wait_until("a decoded picture", Duration::from_secs(20), || {
        api.status()["video"]["pictures"].as_u64() > Some(0)
    });
    let session = session_dir(sessions.path(), &api.status());

    let running = Arc::new(AtomicBool::new(true));
    let captured = Arc::new(Mutex::new(Vec::<String>::new()));
    let capturer = {
        let (api, running, captured) = (api.clone(), running.clone(), captured.clone());
        thread::spawn(move || {
            while running.load(Ordering::SeqCst) {
                let (code, entry) = api.post("/capture", "");
                assert_eq!(code, 201, "{entry}");
                captured
                    .lock()
                    .unwrap()
                    .push(entry["id"].as_str().unwrap().to_string());
                thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let marker = {
        let (api, running, session) = (api.clone(), running.clone(), session.clone());
        thread::spawn(move || {
            let (mut marked, mut updated) = (BTreeSet::new(), 0);
            while running.load(Ordering::SeqCst) {
                let (_, unsent) = api.get("/frames?unsent=true");
                // Every other frame, so untouched entries can be checked too.
                let ids: Vec<String> = unsent
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|e| e["id"].as_str())
                    .filter(|id| id[1..].parse::<u64>().is_ok_and(|n| n % 2 == 0))
                    .map(str::to_string)
                    .collect();
                let (code, body) = api.post("/frames/sent", &json!({ "ids": ids }).to_string());
                assert_eq!(code, 200, "{body}");
                updated += body["updated"].as_u64().unwrap();
                marked.extend(ids);
                read_index(&session); // readers never see a half-written index
            }
            (marked, updated)
        })
    };
    thread::sleep(Duration::from_secs(4));
    running.store(false, Ordering::SeqCst);
    capturer.join().expect("capturer");
    let (marked, updated) = marker.join().expect("marker");
    stop_demo.store(true, Ordering::SeqCst);
    let _ = demo.join();
    exits_cleanly(rec);

    let index = read_index(&session);
    let ids: Vec<&str> = index.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate ids: {ids:?}");
    let numbers: Vec<u64> = ids.iter().map(|id| id[1..].parse().unwrap()).collect();
    assert_eq!(
        numbers,
        (1..=ids.len() as u64).collect::<Vec<_>>(),
        "ids run on without gaps"
    );
    let captured = captured.lock().unwrap();
    assert!(captured.len() >= 20, "only {} captures", captured.len());
    assert!(
        captured.iter().all(|id| unique.contains(id.as_str())),
        "a captured frame is missing from index.json"
    );
    assert!(marked.len() >= 10, "only {} frames marked", marked.len());
    assert_eq!(
        updated,
        marked.len() as u64,
        "each marked id flipped exactly once"
    );
    for entry in &index {
        let id = entry["id"].as_str().unwrap();
        assert_eq!(
            entry["sent_to_agent"],
            json!(marked.contains(id)),
            "{entry}"
        );
        assert_jpeg(&session, entry);
    }
}

/// Runs a thin client as a person would next to `cht record`: with the
/// same sessions directory (where it finds the token, unless
/// $XDG_RUNTIME_DIR holds it).
fn cht(sessions: &Path, args: &[&str]) -> (bool, String, String) {
    run(Command::new(cht_bin())
        .args(args)
        .env("CHT_SESSIONS_DIR", sessions)
        .stdin(Stdio::null()))
}

#[test]
fn thin_clients_talk_to_a_running_recorder() {
    let sessions = tempfile::tempdir().unwrap();
    let (rec, control, token) = start_recorder(sessions.path());
    let sender = send_fixture_paced(&rec.addr, 4.0);
    let api = Api::new(&control, &token);
    wait_until("a decoded picture", Duration::from_secs(20), || {
        api.status()["video"]["pictures"].as_u64() > Some(0)
    });

    let (ok, out, err) = cht(sessions.path(), &["status", "--control", &control]);
    assert!(ok, "{err}");
    assert!(out.lines().count() > 5, "pretty JSON: {out}");
    let status: Value = serde_json::from_str(&out).expect("status JSON");
    assert_eq!(status["session"], api.status()["session"]);

    let (ok, out, err) = cht(
        sessions.path(),
        &["threshold", "0.2", "--control", &control],
    );
    assert!(ok, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!({"threshold": 0.2})
    );
    assert_eq!(api.status()["threshold"], 0.2);
    let (ok, _, err) = cht(sessions.path(), &["threshold", "2", "--control", &control]);
    assert!(!ok && err.contains("outside 0..1"), "{err}");

    let (ok, out, err) = cht(sessions.path(), &["capture", "--control", &control]);
    assert!(ok, "{err}");
    let entry: Value = serde_json::from_str(&out).expect("capture JSON");
    assert_eq!(entry["manual"], true);
    assert_jpeg(&session_dir(sessions.path(), &status), &entry);
    let id = entry["id"].as_str().unwrap();

    let (ok, out, err) = cht(
        sessions.path(),
        &["frames", "sent", id, "--control", &control],
    );
    assert!(ok, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!({"updated": 1})
    );
    let (ok, out, err) = cht(
        sessions.path(),
        &["frames", "--unsent", "--control", &control],
    );
    assert!(ok, "{err}");
    let unsent: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(unsent.iter().all(|e| e["id"] != id), "{out}");

    sender.join().unwrap();
    exits_cleanly(rec);
}

#[test]
fn thin_client_with_nothing_listening_says_so() {
    let addr = format!("127.0.0.1:{}", free_tcp_port());
    let nowhere = tempfile::tempdir().unwrap();
    let (ok, out, err) = cht(nowhere.path(), &["status", "--control", &addr]);
    assert!(!ok);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains(&format!(
            "no cht record running with a control API on {addr}"
        )),
        "{err}"
    );
}

/// Runs `cht record` expected to fail at start; returns its stderr.
fn record_fails_to_start(control: &str) -> String {
    let sessions = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_tcp_port());
    let mut child = Command::new(cht_bin())
        .args([
            "record",
            "--listen",
            &listen,
            "--relay",
            "off",
            "--control",
            control,
            "--sessions-dir",
        ])
        .arg(sessions.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("cht record --control {control} kept running");
        }
        thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn record_refuses_a_taken_port_and_a_non_loopback_address() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = record_fails_to_start(&addr);
    assert!(
        err.contains(&format!("cannot listen for the control API on {addr}")),
        "{err}"
    );

    let err = record_fails_to_start(&format!("0.0.0.0:{}", free_tcp_port()));
    assert!(err.contains("only listens on loopback"), "{err}");
}
