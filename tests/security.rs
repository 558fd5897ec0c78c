//! The attacks of the README's threat model, made against a real `cht
//! record` the way a web page or a local peer makes them: raw requests with
//! the headers a browser sends (foreign Host after DNS rebinding, foreign
//! Origin, form and text/plain bodies, no token), an HTTP POST of a TS file
//! to the ingest port, a sender trickling bytes, a thousand half-open HTTP
//! connections under a low file limit, SIGTERM with hooks that hang. Each
//! test asserts the safe outcome: refused, nothing written, the real
//! sender's recording intact, the log bounded, the exit in time, nothing
//! left running.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use cht_suite::{
    cht_bin, ffmpeg_decode_errors, ffprobe_packet_counts, fixture, free_tcp_port, run,
    video_frame_md5s, Recorder,
};
use serde_json::Value;

const EVIL: &str = "http://evil.example";

/// An HTTP answer read off a raw socket.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Sends `request` (a whole HTTP/1.1 request, as bytes on the wire) and
/// reads one answer.
fn send_raw(addr: &str, request: &[u8]) -> Answer {
    let mut socket = TcpStream::connect(addr).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    socket.write_all(request).expect("send the request");
    let mut received = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut buf).expect("read the answer");
        assert!(
            n > 0,
            "closed without an answer: {:?}",
            String::from_utf8_lossy(&received)
        );
        received.extend_from_slice(&buf[..n]);
        if let Some(i) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while received.len() < head_end + length {
        let n = socket.read(&mut buf).expect("read the body");
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&received[head_end..]).into_owned();
    Answer { status, head, body }
}

/// A request as a browser writes it: `headers` are whole lines.
fn browser_request(method: &str, path: &str, headers: &[String], body: &str) -> Vec<u8> {
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    for h in headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    request.push_str(
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36\r\n\
         Accept: */*\r\nAccept-Language: en-US,en;q=0.9\r\nConnection: keep-alive\r\n",
    );
    let has_length = headers
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("content-length:"));
    if method != "GET" && method != "OPTIONS" && !has_length {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    request.into_bytes()
}

/// A well-formed request with the token (what the user's own tools send).
fn authorised(control: &str, token: &str, method: &str, path: &str, body: &str) -> Answer {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {control}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    send_raw(control, request.as_bytes())
}

fn status(control: &str, token: &str) -> Value {
    let answer = authorised(control, token, "GET", "/status", "");
    assert_eq!(answer.status, 200, "{answer:?}");
    serde_json::from_str(&answer.body).expect("status JSON")
}

/// Writes the fixture to `addr` in chunks spread over `secs`.
fn send_fixture_paced(addr: &str, secs: f64) -> thread::JoinHandle<()> {
    let addr: SocketAddr = addr.parse().unwrap();
    thread::spawn(move || {
        let bytes = std::fs::read(fixture("av_high.ts")).expect("fixture");
        let mut socket = TcpStream::connect(addr).expect("connect to cht record");
        let chunks = 60;
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

fn only_session(sessions: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(sessions)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

fn segments(session: &Path) -> Vec<PathBuf> {
    let mut segs: Vec<PathBuf> = std::fs::read_dir(session.join("stream"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "mp4"))
        .collect();
    segs.sort();
    segs
}

fn read_index(session: &Path) -> Vec<Value> {
    match std::fs::read_to_string(session.join("frames/index.json")) {
        Ok(text) => serde_json::from_str(&text).expect("index.json parses"),
        Err(_) => Vec::new(),
    }
}

fn sigterm(pid: u32) {
    // The shell's own kill: no procps needed.
    let (ok, _, err) = run(Command::new("sh").args(["-c", &format!("kill -TERM {pid}")]));
    assert!(ok, "kill -TERM {pid}: {err}");
}

/// Raises this test process's soft open-file limit to its hard limit (it
/// holds a thousand sockets).
fn raise_own_file_limit() -> u64 {
    let pid = std::process::id().to_string();
    let (ok, out, err) = run(Command::new("prlimit").args([
        "--pid",
        &pid,
        "--nofile",
        "--raw",
        "--noheadings",
        "--output=HARD",
    ]));
    assert!(ok, "prlimit: {err}");
    let hard = out.trim().to_string();
    let (ok, _, err) =
        run(Command::new("prlimit").args(["--pid", &pid, &format!("--nofile={hard}:")]));
    assert!(ok, "prlimit: {err}");
    hard.parse().unwrap_or(u64::MAX)
}

/// True when `GET /status` with the token gets a 200 (no panics: the
/// server may still be out of descriptors).
fn answers_status(control: &str, token: &str) -> bool {
    let Ok(mut socket) = TcpStream::connect(control) else {
        return false;
    };
    let _ = socket.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!(
        "GET /status HTTP/1.1\r\nHost: {control}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    let mut answer = [0u8; 12];
    socket.write_all(request.as_bytes()).is_ok()
        && socket.read_exact(&mut answer).is_ok()
        && answer.starts_with(b"HTTP/1.1 200")
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// A process still running (not gone, not a zombie waiting to be reaped).
fn is_running(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rsplit(')').next().unwrap_or("").trim_start();
        !state.starts_with('Z') && !state.starts_with('X')
    })
}

#[test]
fn a_web_page_can_neither_read_nor_change_anything() {
    let sessions = tempfile::tempdir().unwrap();
    let control = format!("127.0.0.1:{}", free_tcp_port());
    let port = control.rsplit(':').next().unwrap().to_string();
    let mut rec = Recorder::start(
        sessions.path(),
        &[
            "--relay",
            "off",
            "--once",
            "--control",
            &control,
            "--events",
            "json",
        ],
    );
    let token = rec.control_token();
    let events_out = {
        let mut stdout = rec.child.stdout.take().unwrap();
        thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        })
    };
    let sender = send_fixture_paced(&rec.addr, 6.0);
    // The first picture is written once the screen has settled.
    wait_until("a written picture", Duration::from_secs(20), || {
        let frames = authorised(&control, &token, "GET", "/frames", "").body;
        serde_json::from_str::<Vec<Value>>(&frames).is_ok_and(|f| !f.is_empty())
    });
    let session_id = status(&control, &token)["session"]
        .as_str()
        .unwrap()
        .to_string();
    let own = format!("Host: {control}");

    // DNS rebinding: the page's own name now points at 127.0.0.1, so the
    // browser sends it as Host and lets the page read the answer.
    let rebound = format!("Host: evil.example:{port}");
    let same_origin = "Sec-Fetch-Site: same-origin".to_string();
    for path in ["/status", "/events", "/frames"] {
        let answer = send_raw(
            &control,
            &browser_request("GET", path, &[rebound.clone(), same_origin.clone()], ""),
        );
        assert_eq!(answer.status, 403, "rebinding GET {path}: {answer:?}");
        assert!(
            !answer.body.contains(&session_id) && !answer.body.contains("127.0.0.1:"),
            "{answer:?}"
        );
        assert!(!answer.head.to_lowercase().contains("text/event-stream"));
    }
    // ... even if the page had the token somehow.
    let answer = send_raw(
        &control,
        &browser_request(
            "PUT",
            "/threshold",
            &[
                rebound.clone(),
                format!("Origin: http://evil.example:{port}"),
                "Content-Type: application/json".into(),
                format!("Authorization: Bearer {token}"),
            ],
            "0.01",
        ),
    );
    assert_eq!(answer.status, 403, "rebinding PUT /threshold: {answer:?}");

    // Cross-site requests that need no preflight: a form, a text/plain fetch.
    let cross_site = |content_type: &str| {
        vec![
            own.clone(),
            format!("Origin: {EVIL}"),
            format!("Content-Type: {content_type}"),
            "Sec-Fetch-Site: cross-site".into(),
            "Sec-Fetch-Mode: no-cors".into(),
            format!("Referer: {EVIL}/"),
        ]
    };
    let started = Instant::now();
    for _ in 0..200 {
        let answer = send_raw(
            &control,
            &browser_request(
                "POST",
                "/capture",
                &cross_site("application/x-www-form-urlencoded"),
                "",
            ),
        );
        assert_eq!(answer.status, 403, "{answer:?}");
    }
    let flood_secs = started.elapsed().as_secs_f64();
    let all_ids: Vec<String> = serde_json::from_str::<Vec<Value>>(
        &authorised(&control, &token, "GET", "/frames", "").body,
    )
    .unwrap()
    .iter()
    .map(|e| e["id"].as_str().unwrap().to_string())
    .collect();
    assert!(!all_ids.is_empty());
    let mark_all = serde_json::json!({ "ids": all_ids }).to_string();
    let answer = send_raw(
        &control,
        &browser_request(
            "POST",
            "/frames/sent",
            &cross_site("text/plain;charset=UTF-8"),
            &mark_all,
        ),
    );
    assert_eq!(
        answer.status, 403,
        "text/plain POST /frames/sent: {answer:?}"
    );
    // Older browsers send no Sec-Fetch-Site: the Origin alone is enough.
    let answer = send_raw(
        &control,
        &browser_request(
            "POST",
            "/frames/sent",
            &[
                own.clone(),
                format!("Origin: {EVIL}"),
                "Content-Type: text/plain".into(),
            ],
            &mark_all,
        ),
    );
    assert_eq!(answer.status, 403, "{answer:?}");

    // A CORS preflight gets no CORS headers, so the browser stops there.
    let answer = send_raw(
        &control,
        &browser_request(
            "OPTIONS",
            "/threshold",
            &[
                own.clone(),
                format!("Origin: {EVIL}"),
                "Access-Control-Request-Method: PUT".into(),
                "Access-Control-Request-Headers: authorization,content-type".into(),
                "Sec-Fetch-Mode: cors".into(),
                "Sec-Fetch-Site: cross-site".into(),
            ],
            "",
        ),
    );
    assert!(
        answer.header("access-control-allow-origin").is_none(),
        "{answer:?}"
    );
    assert!(!(200..300).contains(&answer.status), "{answer:?}");

    // A local process without the token (another user: it cannot read the file).
    for (method, path, content_type, body) in [
        ("GET", "/status", "application/json", ""),
        ("GET", "/events", "application/json", ""),
        ("POST", "/capture", "application/json", "{}"),
        ("PUT", "/threshold", "application/json", "0.01"),
        ("POST", "/frames/sent", "text/plain", mark_all.as_str()),
    ] {
        let answer = send_raw(
            &control,
            &browser_request(
                method,
                path,
                &[own.clone(), format!("Content-Type: {content_type}")],
                body,
            ),
        );
        assert_eq!(
            answer.status, 401,
            "{method} {path} without a token: {answer:?}"
        );
        assert_eq!(
            answer.header("www-authenticate"),
            Some("Bearer realm=\"cht\"")
        );
    }
    let wrong = format!("Authorization: Bearer {}", "0".repeat(token.len()));
    let answer = send_raw(
        &control,
        &browser_request("GET", "/status", &[own.clone(), wrong], ""),
    );
    assert_eq!(answer.status, 401);
    // With the token, a change still needs a JSON body.
    let answer = send_raw(
        &control,
        &browser_request(
            "POST",
            "/frames/sent",
            &[
                own.clone(),
                format!("Authorization: Bearer {token}"),
                "Content-Type: text/plain".into(),
            ],
            &mark_all,
        ),
    );
    assert_eq!(answer.status, 415, "{answer:?}");

    // Nothing changed.
    let after = status(&control, &token);
    assert_eq!(after["threshold"], 0.3, "{after}");
    sender.join().unwrap();
    let (exit, log) = rec.wait(Duration::from_secs(30));
    assert!(exit.success(), "{log}");
    let session = sessions.path().join(&session_id);
    let index = read_index(&session);
    assert!(!index.is_empty());
    assert!(
        index
            .iter()
            .all(|e| e["manual"] != true && e["sent_to_agent"] == false),
        "a refused request wrote or marked a frame: {index:?}"
    );
    // The token is printed nowhere, its file was private and is gone.
    let events = events_out.join().unwrap();
    assert!(!log.contains(&token) && !events.contains(&token));
    let token_file = log
        .split("its token is in ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap()
        .trim();
    assert!(
        !Path::new(token_file).exists(),
        "{token_file} outlived cht record"
    );
    // 200+ refusals, a handful of log lines.
    let refusal_lines = log.matches("refused a request").count();
    assert!(
        (1..=8).contains(&refusal_lines),
        "{refusal_lines} refusal lines:\n{log}"
    );
    eprintln!("200 cross-site POST /capture refused in {flood_secs:.2} s; {refusal_lines} log lines for all refusals");
}

#[test]
fn the_token_file_is_private_and_the_thin_clients_find_it() {
    let sessions = tempfile::tempdir().unwrap();
    let runtime = tempfile::tempdir().unwrap();
    let control = format!("127.0.0.1:{}", free_tcp_port());
    // With XDG_RUNTIME_DIR set, the token goes there ...
    let mut command = Command::new(cht_bin());
    command
        .env("XDG_RUNTIME_DIR", runtime.path())
        .args([
            "record",
            "--listen",
            "127.0.0.1:0",
            "--relay",
            "off",
            "--control",
            &control,
        ])
        .arg("--sessions-dir")
        .arg(sessions.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let port = control.rsplit(':').next().unwrap();
    let file = runtime
        .path()
        .join(format!("cht/control-127.0.0.1-{port}.token"));
    wait_until("the token file", Duration::from_secs(30), || file.exists());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(file.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    assert!(
        !sessions.path().join(".run").exists(),
        "one token file only"
    );
    // ... where `cht status` finds it, whatever the directory it runs in.
    let elsewhere = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(Command::new(cht_bin())
        .env("XDG_RUNTIME_DIR", runtime.path())
        .current_dir(elsewhere.path())
        .args(["status", "--control", &control]));
    assert!(ok, "{err}");
    assert!(serde_json::from_str::<Value>(&out).unwrap()["session"].is_string());
    // Without it, the client says where it looked.
    let (ok, _, err) = run(Command::new(cht_bin())
        .env_remove("XDG_RUNTIME_DIR")
        .current_dir(elsewhere.path())
        .args(["status", "--control", &control]));
    assert!(!ok);
    assert!(
        err.contains("refused without a token") && err.contains("--token-file"),
        "{err}"
    );
    let (ok, _, err) = run(Command::new(cht_bin())
        .env_remove("XDG_RUNTIME_DIR")
        .args(["status", "--control", &control, "--token-file"])
        .arg(&file));
    assert!(ok, "{err}");

    sigterm(child.id());
    assert!(child.wait().unwrap().success());
    assert!(!file.exists(), "the token file is removed at exit");
}

#[test]
fn an_http_post_of_a_ts_file_to_the_ingest_port_is_not_recorded() {
    let sessions = tempfile::tempdir().unwrap();
    let mut rec = Recorder::start(sessions.path(), &["--relay", "off", "--once"]);
    let source = fixture("av_high.ts");
    let ts = std::fs::read(&source).unwrap();
    // fetch("http://127.0.0.1:4444/", {method: "POST", mode: "no-cors", body: tsBlob})
    let head = browser_request(
        "POST",
        "/",
        &[
            format!("Host: {}", rec.addr),
            format!("Origin: {EVIL}"),
            "Content-Type: text/plain;charset=UTF-8".into(),
            format!("Content-Length: {}", ts.len()),
            "Sec-Fetch-Site: cross-site".into(),
            "Sec-Fetch-Mode: no-cors".into(),
        ],
        "",
    );
    let mut post = TcpStream::connect(&rec.addr).unwrap();
    post.write_all(&head).unwrap();
    let _ = post.write_all(&ts); // cht may close before the body is all sent
    post.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        matches!(post.read(&mut buf), Ok(0) | Err(_)),
        "closed by cht"
    );
    let line = rec.wait_for_line("looks like HTTP", Duration::from_secs(10));
    assert!(line.contains("cht takes MPEG-TS over TCP"), "{line}");

    // The real sender afterwards is recorded whole; the POST was not a
    // sender, so --once waits for this one.
    cht_suite::ffmpeg_send(&source, &rec.addr);
    let (exit, log) = rec.wait(Duration::from_secs(60));
    assert!(exit.success(), "{log}");
    assert_eq!(log.matches("looks like HTTP").count(), 1, "{log}");
    let session = only_session(sessions.path());
    let segs = segments(&session);
    assert_eq!(
        segs.len(),
        1,
        "only the real sender's segment: {segs:?}\n{log}"
    );
    assert_eq!(
        ffprobe_packet_counts(&segs[0]),
        ffprobe_packet_counts(&source)
    );
    assert_eq!(video_frame_md5s(&segs[0]), video_frame_md5s(&source));
}

#[test]
fn a_trickling_sender_gives_way_to_a_real_one_within_the_idle_timeout() {
    let sessions = tempfile::tempdir().unwrap();
    let mut rec = Recorder::start(sessions.path(), &["--relay", "off", "--idle-timeout", "2s"]);
    let source = fixture("av_high.ts");
    let ts = std::fs::read(&source).unwrap();
    let addr = rec.addr.clone();
    let trickler = thread::spawn(move || {
        let mut socket = TcpStream::connect(&addr).unwrap();
        let connected = Instant::now();
        // Real TS, so it passes for a sender: PAT, PMT, the start of a picture.
        socket.write_all(&ts[..2000]).unwrap();
        // Then a byte every 100 ms: bytes keep coming, media never does.
        for &byte in &ts[2000..2200] {
            if socket.write_all(&[byte]).is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(100));
        }
        connected.elapsed()
    });
    thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    cht_suite::ffmpeg_send(&source, &rec.addr);
    let sender_took = started.elapsed();
    let trickler_lasted = trickler.join().unwrap();
    rec.wait_for_line("disconnected", Duration::from_secs(10));
    sigterm(rec.child.id());
    let (exit, log) = rec.wait(Duration::from_secs(30));
    assert!(exit.success(), "{log}");
    assert!(
        log.contains("dropped: no complete video or audio frame for 2s"),
        "{log}"
    );
    assert!(log.contains("takes over"), "{log}");
    assert!(!log.contains("refused a second sender"), "{log}");
    // Writes fail once cht has closed: within the idle timeout plus a poll
    // and the kernel's buffers.
    assert!(
        trickler_lasted < Duration::from_secs(5),
        "trickler held on for {trickler_lasted:?}"
    );
    assert!(
        sender_took < Duration::from_secs(6),
        "the real sender took {sender_took:?}"
    );
    let session = only_session(sessions.path());
    let segs = segments(&session);
    // What the trickler sent is kept as what it is (the demuxer flushes its
    // unfinished first picture at the end): a tiny segment, if any.
    assert!((1..=2).contains(&segs.len()), "{segs:?}\n{log}");
    if let [trickled, _] = segs.as_slice() {
        let size = std::fs::metadata(trickled).unwrap().len();
        assert!(size < 8 << 10, "{} is {size} bytes", trickled.display());
    }
    let real = segs.last().unwrap();
    assert_eq!(ffprobe_packet_counts(real), ffprobe_packet_counts(&source));
    assert_eq!(video_frame_md5s(real), video_frame_md5s(&source));
    eprintln!(
        "trickler dropped after {:.2} s; the real sender (waiting meanwhile) done in {:.2} s",
        trickler_lasted.as_secs_f64(),
        sender_took.as_secs_f64()
    );
}

/// Opens a connection that sends half a request head and stops (giving up
/// quickly when the server's accept queue is full).
fn half_open(control: &str, port: &str) -> Option<TcpStream> {
    half_open_within(control, port, Duration::from_millis(300))
}

fn half_open_within(control: &str, port: &str, timeout: Duration) -> Option<TcpStream> {
    let addr: SocketAddr = control.parse().unwrap();
    let mut socket = TcpStream::connect_timeout(&addr, timeout).ok()?;
    socket
        .write_all(format!("GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n").as_bytes())
        .ok()?;
    Some(socket)
}

#[test]
fn a_thousand_half_open_connections_under_a_low_file_limit() {
    let hard = raise_own_file_limit();
    let attackers = 1000.min(hard.saturating_sub(200) as usize);
    assert!(
        attackers > 600,
        "this test needs ~1200 file descriptors (hard limit {hard})"
    );
    let sessions = tempfile::tempdir().unwrap();
    let control = format!("127.0.0.1:{}", free_tcp_port());
    let port = control.rsplit(':').next().unwrap().to_string();
    let mut rec = Recorder::start_wrapped(
        &["prlimit", "--nofile=512"],
        sessions.path(),
        &["--relay", "off", "--once", "--control", &control],
    );
    let token = rec.control_token();
    let log_before: usize = rec.log.iter().map(|l| l.len() + 1).sum();

    let started = Instant::now();
    let mut held: Vec<TcpStream> = (0..attackers)
        .filter_map(|_| half_open(&control, &port))
        .collect();
    let opened = held.len();
    let attack_secs = started.elapsed().as_secs_f64();
    assert!(opened > 512, "only {opened} connections opened");

    // During the attack: the person's `cht status` works ...
    let status_started = Instant::now();
    let (ok, out, err) = run(Command::new(cht_bin())
        .env("CHT_SESSIONS_DIR", sessions.path())
        .args(["status", "--control", &control]));
    let status_secs = status_started.elapsed().as_secs_f64();
    assert!(ok, "cht status under attack: {err}");
    assert!(serde_json::from_str::<Value>(&out).unwrap()["session"].is_string());
    assert!(
        answers_status(&control, &token),
        "GET /status with the token under attack"
    );
    // ... and a real sender is recorded whole, while the attack goes on.
    held.extend((0..100).filter_map(|_| half_open(&control, &port)));
    let source = fixture("av_high.ts");
    cht_suite::ffmpeg_send(&source, &rec.addr);
    let (exit, log) = rec.wait(Duration::from_secs(60));
    drop(held);
    assert!(exit.success(), "{log}");
    let session = only_session(sessions.path());
    let segs = segments(&session);
    assert_eq!(segs.len(), 1, "{segs:?}");
    assert_eq!(
        ffprobe_packet_counts(&segs[0]),
        ffprobe_packet_counts(&source)
    );
    assert_eq!(ffmpeg_decode_errors(&segs[0]), "");
    let attack_log = log.len().saturating_sub(log_before);
    assert!(
        attack_log < 16 << 10,
        "{attack_log} bytes of log during the attack:\n{log}"
    );
    eprintln!(
        "{opened} half-open connections in {attack_secs:.2} s under --nofile=512; cht status answered in {status_secs:.2} s; {attack_log} bytes of log"
    );
}

#[test]
fn out_of_file_descriptors_the_accept_loop_backs_off_and_recovers() {
    raise_own_file_limit();
    let sessions = tempfile::tempdir().unwrap();
    let control = format!("127.0.0.1:{}", free_tcp_port());
    let port = control.rsplit(':').next().unwrap().to_string();
    let mut rec = Recorder::start(sessions.path(), &["--relay", "off", "--control", &control]);
    let token = rec.control_token();
    let pid = rec.child.id();
    // Leave cht a dozen descriptors: its connection cap (set from the limit
    // at start) is now above what it can open, so accept fails with EMFILE.
    let base = open_fds(pid);
    let (ok, _, err) = run(Command::new("prlimit").args([
        "--pid",
        &pid.to_string(),
        &format!("--nofile={}:", base + 12),
    ]));
    assert!(ok, "{err}");
    // More than cht can take and its accept queue (129) holds; a connect
    // that finds the queue full gives up at once.
    let held: Vec<TcpStream> = (0..160)
        .filter_map(|_| half_open_within(&control, &port, Duration::from_millis(50)))
        .collect();
    assert!(held.len() > 130, "only {} connections", held.len());
    rec.wait_for_line("accepting connections fails", Duration::from_secs(10));
    // An exhausted table makes every accept fail at once: 3 s of that.
    thread::sleep(Duration::from_secs(3));
    let drained: Vec<String> = rec.lines.try_iter().collect();
    rec.log.extend(drained);
    let storm_log: usize = rec.log.iter().map(|l| l.len() + 1).sum();
    drop(held);
    // The header timeout frees the descriptors the attack held; then the
    // API answers again, and once accepting has worked for a while the
    // burst is reported over.
    wait_until("the API answering again", Duration::from_secs(20), || {
        answers_status(&control, &token)
    });
    wait_until(
        "the end of the burst in the log",
        Duration::from_secs(20),
        || {
            answers_status(&control, &token);
            let drained: Vec<String> = rec.lines.try_iter().collect();
            rec.log.extend(drained);
            rec.log
                .iter()
                .any(|l| l.contains("accepting connections again"))
        },
    );
    sigterm(pid);
    let (exit, log) = rec.wait(Duration::from_secs(30));
    assert!(exit.success(), "{log}");
    // One line per listener (the ingest's accept fails too: Linux takes a
    // descriptor before it looks for a connection).
    assert_eq!(
        log.matches("control API: accepting connections fails")
            .count(),
        1,
        "{log}"
    );
    assert!(
        log.matches("ingest: accepting connections fails").count() <= 1,
        "{log}"
    );
    assert!(log.len() < 16 << 10, "{} bytes of log:\n{log}", log.len());
    let recovered = log
        .lines()
        .find(|l| l.contains("accepting connections again"))
        .unwrap_or("");
    eprintln!(
        "EMFILE storm: {} bytes of log in all ({storm_log} by the end of 3 s of failing accepts); {recovered}",
        log.len()
    );
}

#[test]
fn sigterm_exits_in_time_with_hooks_that_hang_and_leaves_nothing_running() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let pids = tmp.path().join("pids");
    // Each hook starts a grandchild and waits for it: killing only the hook
    // would leave `sleep 60` behind.
    let hook = |tag: &str| {
        format!(
            "sh -c 'echo {tag} $$ >> {p}; sleep 60 & echo {tag} $! >> {p}; wait' hook",
            p = pids.display()
        )
    };
    let (on_frame, on_segment, on_chunk) = (hook("frame"), hook("segment"), hook("chunk"));
    let rec = Recorder::start(
        &sessions,
        &[
            "--relay",
            "off",
            "--on-frame",
            &on_frame,
            "--on-segment",
            &on_segment,
            "--on-audio-chunk",
            &on_chunk,
            "--audio-chunk-secs",
            "2",
        ],
    );
    let mut sender = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-re", "-i"])
        .arg(fixture("av_high.ts"))
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(format!("tcp://{}", rec.addr))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ffmpeg");
    let read_pids = || std::fs::read_to_string(&pids).unwrap_or_default();
    wait_until(
        "the frame and transcription hooks running",
        Duration::from_secs(30),
        || {
            let p = read_pids();
            p.matches("frame ").count() >= 2 && p.matches("chunk ").count() >= 2
        },
    );
    let signalled = Instant::now();
    sigterm(rec.child.id());
    let (exit, log) = rec.wait(Duration::from_secs(30));
    let took = signalled.elapsed();
    let _ = sender.kill();
    let _ = sender.wait();
    assert!(exit.success(), "{log}");
    assert!(
        took < Duration::from_secs(3),
        "SIGTERM took {took:?} to exit:\n{log}"
    );
    assert!(log.contains("at shutdown; killed"), "{log}");
    let started = read_pids();
    let pids: Vec<&str> = started
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    // SIGKILL takes effect when a process is next scheduled: a moment.
    let settle = Instant::now() + Duration::from_secs(1);
    while pids.iter().any(|p| is_running(p)) && Instant::now() < settle {
        thread::sleep(Duration::from_millis(10));
    }
    let still_running: Vec<&&str> = pids.iter().filter(|p| is_running(p)).collect();
    assert!(
        still_running.is_empty(),
        "left running: {still_running:?} of\n{started}"
    );
    // What was recorded is whole.
    let session = only_session(&sessions);
    let segs = segments(&session);
    assert_eq!(segs.len(), 1, "{segs:?}");
    assert_eq!(ffmpeg_decode_errors(&segs[0]), "");
    let (video, audio) = ffprobe_packet_counts(&segs[0]);
    assert!(
        video > 30 && audio > 30,
        "{video} video, {audio} audio packets"
    );
    eprintln!(
        "SIGTERM to exit with 3 hanging hooks: {:.2} s; {} hook processes started, none left",
        took.as_secs_f64(),
        started.lines().count()
    );
}

#[test]
fn sigterm_while_draining_transcriptions_still_exits_in_time() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let pids = tmp.path().join("pids");
    let hook = format!(
        "sh -c 'echo chunk $$ >> {p}; sleep 60 & echo chunk $! >> {p}; wait' hook",
        p = pids.display()
    );
    let mut rec = Recorder::start(
        &sessions,
        &[
            "--relay",
            "off",
            "--once",
            "--on-audio-chunk",
            &hook,
            "--audio-chunk-secs",
            "2",
        ],
    );
    cht_suite::ffmpeg_send(&fixture("av_high.ts"), &rec.addr);
    // --once: the sender is gone and cht waits for its transcriptions, one
    // of which hangs. A SIGTERM now must not wait for it.
    rec.wait_for_line("disconnected", Duration::from_secs(20));
    wait_until(
        "the transcription hook running",
        Duration::from_secs(20),
        || std::fs::read_to_string(&pids).is_ok_and(|p| p.lines().count() >= 2),
    );
    let signalled = Instant::now();
    sigterm(rec.child.id());
    let (_, log) = rec.wait(Duration::from_secs(30));
    let took = signalled.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "SIGTERM took {took:?} to exit:\n{log}"
    );
    // The watchdog, not the transcription, ended it.
    assert!(
        log.contains("still stopping after 2.5 s: exiting now"),
        "{log}"
    );
    let started = std::fs::read_to_string(&pids).unwrap();
    let pids: Vec<&str> = started
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    let settle = Instant::now() + Duration::from_secs(1);
    while pids.iter().any(|p| is_running(p)) && Instant::now() < settle {
        thread::sleep(Duration::from_millis(10));
    }
    let still_running: Vec<&&str> = pids.iter().filter(|p| is_running(p)).collect();
    assert!(still_running.is_empty(), "left running: {still_running:?}");
    let session = only_session(&sessions);
    let segs = segments(&session);
    assert_eq!(segs.len(), 1);
    assert_eq!(
        ffprobe_packet_counts(&segs[0]),
        ffprobe_packet_counts(&fixture("av_high.ts"))
    );
    eprintln!(
        "SIGTERM while draining a hanging transcription: exit in {:.2} s",
        took.as_secs_f64()
    );
}
