//! The browser view in a real browser: Debian's chromium, headless, driven
//! over the DevTools protocol (a websocket, JSON messages) by the small
//! client at the bottom of this file.
//!
//! What a person does, and what they must see: the sessions page lists a
//! recorded session; the session page plays it (the video's `currentTime`
//! advances and it has a picture size), plays its segments in order, seeks
//! when a picture or a transcript line is clicked, and moves between
//! pictures with the keyboard; the live view of `cht record --demo` plays
//! within 2 s of the sender and shows a new picture without a reload, and
//! keeps playing after the sender reconnects; the folder `cht export
//! --html` writes plays from `file://`.
//!
//! With `CHT_SCREENSHOTS=DIR` the tests also save the screenshots the
//! README shows (`docs/`).

#![allow(clippy::unwrap_used)]

use cht_suite::{cht_bin, free_tcp_port, Recorder, Served};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Duration;

use cdp::{Browser, Tab};

/// One browser test at a time: the live delay is measured on a machine
/// that is not also running two other browsers and recorders.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fake transcriber: the chunk's name, said back.
const TRANSCRIBER: &str = r#"sh -c 'echo "said in $(basename "$1" .wav)"' hook"#;

/// Records a demo session of two segments (the second one resumes it) and
/// returns its id.
fn record_demo_session(sessions: &Path) -> String {
    let mut id: Option<String> = None;
    for secs in ["9s", "6s"] {
        let mut args = vec![
            "--relay",
            "off",
            "--demo",
            "--demo-duration",
            secs,
            "--audio-chunk-secs",
            "3",
            "--on-audio-chunk",
            TRANSCRIBER,
        ];
        if let Some(id) = id.as_deref() {
            args.extend(["--session", id]);
        }
        let rec = Recorder::start(sessions, &args);
        let (status, log) = rec.wait(Duration::from_secs(60));
        assert!(status.success(), "{log}");
        id = Some(only_session(sessions));
    }
    id.expect("a session")
}

fn only_session(sessions: &Path) -> String {
    let ids: Vec<String> = std::fs::read_dir(sessions)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].clone()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn screenshot(tab: &mut Tab, name: &str) {
    if let Ok(dir) = std::env::var("CHT_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        tab.screenshot(&PathBuf::from(dir).join(name));
    }
}

/// Plays from where the video is, and waits until it has advanced by a
/// second with a picture size.
fn assert_plays(tab: &mut Tab) {
    let start = tab.eval("document.getElementById('video').currentTime");
    let start = start.as_f64().unwrap();
    tab.eval("document.getElementById('video').play().then(() => true)");
    tab.wait_for(
        "the video to play a second",
        &format!(
            "(() => {{ const v = document.getElementById('video');
                return v.currentTime > {start} + 1 && v.videoWidth > 0 && !v.paused; }})()"
        ),
        Duration::from_secs(20),
    );
}

/// The session time the page shows once the video has seeked (paused).
fn seeked_time(tab: &mut Tab, target: f64) -> f64 {
    tab.wait_for(
        &format!("the video to seek to {target:.2}"),
        &format!(
            "(() => {{ const v = document.getElementById('video');
                return !v.seeking && v.readyState >= 2
                    && Math.abs(chtPage.sessionTime() - {target}) < 0.15; }})()"
        ),
        Duration::from_secs(20),
    );
    tab.eval("chtPage.sessionTime()").as_f64().unwrap()
}

#[test]
fn a_recorded_session_plays_in_the_browser_and_from_an_exported_folder() {
    let _turn = one_at_a_time();
    let sessions = tempfile::tempdir().unwrap();
    let id = record_demo_session(sessions.path());
    let session_dir = sessions.path().join(&id);
    let frames = read_json(&session_dir.join("frames/index.json"));
    let frames = frames.as_array().unwrap();
    let transcripts = read_json(&session_dir.join("transcript/index.json"));
    let transcripts = transcripts.as_array().unwrap();
    assert!(frames.len() >= 3 && transcripts.len() >= 3, "{frames:?}");
    let serve = Served::start(sessions.path());
    let url = serve.url.clone();
    let origin = url.split("/?token=").next().unwrap().to_string();

    let browser = Browser::launch();
    let mut tab = browser.tab();

    // The printed URL logs in (a cookie) and shows the sessions page.
    tab.navigate(&url);
    tab.wait_for(
        "the session in the list",
        &format!("!!document.querySelector('tr[data-session=\"{id}\"]')"),
        Duration::from_secs(10),
    );
    assert_eq!(
        tab.eval("location.href").as_str().unwrap(),
        format!("{origin}/"),
        "the token left the address bar"
    );
    let row = tab.eval(&format!(
        "document.querySelector('tr[data-session=\"{id}\"]').innerText"
    ));
    let row = row.as_str().unwrap();
    assert!(
        row.contains(&frames.len().to_string()) && row.contains("00:1"),
        "{row}"
    );

    // The session page: every picture in the strip, every transcript line.
    tab.eval(&format!(
        "document.querySelector('tr[data-session=\"{id}\"] a').click()"
    ));
    tab.wait_for(
        "every picture and transcript line",
        &format!(
            "document.querySelectorAll('.pic').length === {} && document.querySelectorAll('.line').length === {}",
            frames.len(),
            transcripts.len()
        ),
        Duration::from_secs(10),
    );
    let text = tab.eval("document.getElementById('transcript').innerText");
    assert!(
        text.as_str().unwrap().contains("said in chunk_0000"),
        "{text}"
    );
    let kinds =
        tab.eval("[...document.querySelectorAll('.pic')].map(p => p.className + ' ' + p.title)");
    for (frame, shown) in frames.iter().zip(kinds.as_array().unwrap()) {
        let shown = shown.as_str().unwrap();
        let kind = frame["kind"].as_str().unwrap();
        assert!(shown.starts_with(&format!("pic {kind}")), "{shown}");
        let score = format!("score {:.3}", frame["score"].as_f64().unwrap());
        assert!(shown.contains(&score), "the score on hover: {shown}");
    }
    assert_plays(&mut tab);
    screenshot(&mut tab, "session.png");

    // Clicking a picture of the second segment seeks there.
    tab.eval("document.getElementById('video').pause()");
    let later = frames
        .iter()
        .rev()
        .find(|f| f["segment"] == 1)
        .expect("a picture in the second segment");
    let target = later["session_picture_time"].as_f64().unwrap();
    tab.eval(&format!(
        "document.querySelector('.pic[data-id=\"{}\"]').click()",
        later["id"].as_str().unwrap()
    ));
    seeked_time(&mut tab, target);
    let src = tab.eval("document.getElementById('video').currentSrc");
    assert!(
        src.as_str().unwrap().ends_with("recording_001.mp4"),
        "{src}"
    );
    assert!(tab
        .eval("document.querySelector('.pic.current').dataset.id")
        .as_str()
        .is_some_and(|shown| shown == later["id"]));

    // A transcript line of the first segment seeks back into it.
    let first_line = transcripts[1]["session_start"].as_f64().unwrap();
    tab.eval("document.querySelectorAll('.line')[1].click()");
    seeked_time(&mut tab, first_line);
    tab.wait_for(
        "the transcript to follow playback",
        "document.querySelector('.line.current') === document.querySelectorAll('.line')[1]",
        Duration::from_secs(5),
    );
    let src = tab.eval("document.getElementById('video').currentSrc");
    assert!(
        src.as_str().unwrap().ends_with("recording_000.mp4"),
        "{src}"
    );

    // The keyboard: the next picture, then the previous one.
    let next = frames
        .iter()
        .map(|f| f["session_picture_time"].as_f64().unwrap())
        .find(|t| *t > first_line + 0.05)
        .expect("a picture after the line");
    tab.key("n");
    seeked_time(&mut tab, next);
    tab.key("ArrowUp");
    let previous = frames
        .iter()
        .map(|f| f["session_picture_time"].as_f64().unwrap())
        .rfind(|t| *t < next - 0.3)
        .expect("a picture before");
    seeked_time(&mut tab, previous);

    // Space plays and pauses where the picture left it (the focused
    // picture is not clicked again).
    tab.key(" ");
    tab.wait_for(
        "space to play",
        "!document.getElementById('video').paused",
        Duration::from_secs(5),
    );
    tab.key(" ");
    tab.wait_for(
        "space to pause",
        "document.getElementById('video').paused",
        Duration::from_secs(5),
    );
    let after_space = tab.eval("chtPage.sessionTime()").as_f64().unwrap();
    assert!(
        (previous..previous + 3.0).contains(&after_space),
        "{after_space} after {previous}"
    );
    // ArrowRight: five seconds on.
    tab.key("ArrowRight");
    seeked_time(&mut tab, after_space + 5.0);

    // The segments play one after the other.
    let first_end = read_json(&session_dir.join("stream/index.json"))[0]["duration"]
        .as_f64()
        .unwrap();
    tab.eval("document.querySelectorAll('.line')[0].click()");
    seeked_time(
        &mut tab,
        transcripts[0]["session_start"].as_f64().unwrap().max(0.0),
    );
    tab.eval(
        "(() => { const v = document.getElementById('video'); v.currentTime = v.duration - 0.6; return v.play().then(() => true); })()",
    );
    tab.wait_for(
        "the second segment to follow the first",
        &format!(
            "document.getElementById('video').currentSrc.endsWith('recording_001.mp4') && chtPage.sessionTime() > {first_end} + 0.5"
        ),
        Duration::from_secs(15),
    );
    // A phone-sized window: one column, nothing wider than the screen.
    tab.viewport(390, 844, true);
    tab.wait_for(
        "the phone layout",
        "(() => { const v = document.getElementById('video').getBoundingClientRect();
            const t = document.getElementById('transcript').getBoundingClientRect();
            return t.top >= v.bottom && v.width <= 390 && v.height > 100
                && document.documentElement.scrollWidth <= window.innerWidth; })()",
        Duration::from_secs(5),
    );
    tab.viewport(1366, 768, false);
    drop(serve);

    // The exported folder plays from file://, with no server.
    let export = tempfile::tempdir().unwrap();
    let folder = export.path().join("page");
    let out = Command::new(cht_bin())
        .args(["export", &id, "--html"])
        .arg(&folder)
        .arg("--sessions-dir")
        .arg(sessions.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tab.navigate(&format!("file://{}", folder.join("index.html").display()));
    tab.wait_for(
        "the exported pictures and transcript",
        &format!(
            "document.querySelectorAll('.pic').length === {} && document.querySelectorAll('.line').length === {}",
            frames.len(),
            transcripts.len()
        ),
        Duration::from_secs(10),
    );
    assert_plays(&mut tab);
    tab.eval(&format!(
        "document.getElementById('video').pause(); document.querySelector('.pic[data-id=\"{}\"]').click()",
        later["id"].as_str().unwrap()
    ));
    seeked_time(&mut tab, target);
    let images = tab.eval(
        "[...document.querySelectorAll('.pic img')].every(i => i.complete && i.naturalWidth > 0)",
    );
    assert_eq!(images, json!(true), "the exported pictures load");
    // Exporting into a folder with files in it changes nothing.
    let again = Command::new(cht_bin())
        .args(["export", &id, "--html"])
        .arg(&folder)
        .arg("--sessions-dir")
        .arg(sessions.path())
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}

#[test]
fn the_live_view_follows_the_recording_within_two_seconds() {
    let _turn = one_at_a_time();
    let sessions = tempfile::tempdir().unwrap();
    let control = format!("127.0.0.1:{}", free_tcp_port());
    let mut rec = Recorder::start(
        sessions.path(),
        &[
            "--relay",
            "off",
            "--demo",
            "--demo-duration",
            "25s",
            "--control",
            &control,
            "--audio-chunk-secs",
            "3",
            "--on-audio-chunk",
            TRANSCRIBER,
        ],
    );
    let token = rec.control_token();
    let id = only_session(sessions.path());
    // The demo sender sends in real time from the moment it connects, its
    // first picture a keyframe: that moment is media time 0 at the sender.
    let connected = rec.wait_for_line("sender connected", Duration::from_secs(20));
    let connected_at = connected.split_whitespace().next().unwrap().to_string();
    let browser = Browser::launch();
    let mut tab = browser.tab();
    tab.navigate(&format!("http://{control}/view/{id}?token={token}"));
    tab.wait_for(
        "the live view to play",
        "typeof chtLive === 'object' && chtLive.following() && chtLive.delay() !== null
            && document.getElementById('video').currentTime > 1 && !document.getElementById('video').paused",
        Duration::from_secs(20),
    );
    tab.eval("window.notReloaded = true");
    let pictures_before = tab.eval("document.querySelectorAll('.pic').length");
    let lines_before = tab.eval("document.querySelectorAll('.line').length");
    // The delay, sampled for 5 s, two ways: the page's own figure (the
    // segment's wall-clock start plus the media time since, minus the
    // picture shown), and the sender's: the time since it connected minus
    // the media time shown.
    let (mut page, mut sender) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        thread::sleep(Duration::from_millis(250));
        let both = tab.eval(&format!(
            "[chtLive.delay(), Date.now() / 1000 - Date.parse('{connected_at}') / 1000 - chtLive.shown()]"
        ));
        page.push(both[0].as_f64().unwrap());
        sender.push(both[1].as_f64().unwrap());
    }
    for (what, delays) in [("page", &page), ("sender", &sender)] {
        let max = delays.iter().cloned().fold(f64::MIN, f64::max);
        let mean = delays.iter().sum::<f64>() / delays.len() as f64;
        eprintln!(
            "live view delay ({what}'s clock): mean {mean:.2} s, max {max:.2} s over {} samples",
            delays.len()
        );
        assert!(max < 2.0, "the live view is {max:.2} s behind: {delays:?}");
        assert!(
            mean > 0.0,
            "a delay below zero measures nothing: {delays:?}"
        );
    }

    // New pictures come in as events, without a reload.
    tab.wait_for(
        "a new picture on the page",
        &format!(
            "document.querySelectorAll('.pic').length > {pictures_before} && window.notReloaded === true"
        ),
        Duration::from_secs(15),
    );
    // And transcript lines.
    tab.wait_for(
        "a new transcript line on the page",
        &format!(
            "document.querySelectorAll('.line').length > {lines_before} && window.notReloaded === true"
        ),
        Duration::from_secs(15),
    );
    screenshot(&mut tab, "live.png");
    let page_ids = tab.eval("[...document.querySelectorAll('.pic')].map(p => p.dataset.id)");
    let on_disk = read_json(&sessions.path().join(&id).join("frames/index.json"));
    for shown in page_ids.as_array().unwrap() {
        assert!(
            on_disk
                .as_array()
                .unwrap()
                .iter()
                .any(|f| &f["id"] == shown),
            "{shown} is a picture of the session"
        );
    }
    assert_eq!(tab.eval("window.notReloaded"), json!(true));
    // The sessions page of the recorder says which session it records.
    tab.navigate(&format!("http://{control}/"));
    tab.wait_for(
        "the session listed as live",
        &format!(
            "document.querySelector('tr[data-session=\"{id}\"] .rec').textContent.includes('recording now')"
        ),
        Duration::from_secs(10),
    );
    drop(tab);
    drop(browser);
    let _ = Command::new("kill")
        .args(["-INT", &rec.child.id().to_string()])
        .status();
    let (status, log) = rec.wait(Duration::from_secs(30));
    assert!(status.success(), "{log}");
}

#[test]
fn the_live_view_goes_on_with_the_next_segment_after_a_reconnect() {
    let _turn = one_at_a_time();
    let sessions = tempfile::tempdir().unwrap();
    let control = format!("127.0.0.1:{}", free_tcp_port());
    let mut rec = Recorder::start(
        sessions.path(),
        &["--relay", "off", "--control", &control, "--no-audio"],
    );
    let token = rec.control_token();
    let addr = rec.addr.clone();
    let sender = {
        let addr = addr.clone();
        thread::spawn(move || send_paced(&addr, 6))
    };
    rec.wait_for_line("recording ", Duration::from_secs(20));
    let id = only_session(sessions.path());
    let browser = Browser::launch();
    let mut tab = browser.tab();
    tab.navigate(&format!("http://{control}/view/{id}?token={token}"));
    tab.wait_for(
        "the first segment live",
        "typeof chtLive === 'object' && chtLive.segment() === 0 && document.getElementById('video').currentTime > 1",
        Duration::from_secs(20),
    );
    tab.eval("window.notReloaded = true");
    sender.join().unwrap();
    let sender = thread::spawn(move || send_paced(&addr, 6));
    tab.wait_for(
        "the second segment live, playing",
        "chtLive.segment() === 1 && chtLive.following() && document.getElementById('video').currentTime > 1
            && window.notReloaded === true",
        Duration::from_secs(20),
    );
    // A picture of the first segment takes the page out of the live view
    // into that recording; "Back to live" returns.
    tab.wait_for(
        "a picture of the first segment",
        "!!document.querySelector('.pic[data-id=\"F0001\"]')",
        Duration::from_secs(10),
    );
    tab.eval("document.querySelector('.pic[data-id=\"F0001\"]').click()");
    tab.wait_for(
        "the first segment's recording",
        "!chtLive.following() && document.getElementById('video').currentSrc.endsWith('recording_000.mp4')
            && document.getElementById('video').readyState >= 2",
        Duration::from_secs(10),
    );
    tab.eval("document.querySelector('.golive').click()");
    tab.wait_for(
        "the live view again",
        "chtLive.following() && chtLive.segment() === 1 && document.getElementById('video').currentTime > 0.5",
        Duration::from_secs(10),
    );
    sender.join().unwrap();
    drop(tab);
    drop(browser);
    let _ = Command::new("kill")
        .args(["-INT", &rec.child.id().to_string()])
        .status();
    let (status, log) = rec.wait(Duration::from_secs(30));
    assert!(status.success(), "{log}");
}

/// ffmpeg sends `secs` of a test picture at its real pace (no B-frames, a
/// keyframe a second), as a screen share would.
fn send_paced(addr: &str, secs: u32) {
    let status = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg(format!("testsrc2=size=640x360:rate=30:duration={secs}"))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
            "-g",
            "30",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "mpegts",
        ])
        .arg(format!("tcp://{addr}"))
        .status()
        .expect("ffmpeg");
    assert!(status.success());
}

/// A small client of the Chrome DevTools protocol: launch a headless
/// chromium, open a tab, evaluate JavaScript, press keys, take screenshots.
mod cdp {
    use base64::Engine;
    use serde_json::{json, Value};
    use std::io::{BufRead, BufReader};
    use std::net::TcpStream;
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};
    use tungstenite::{Message, WebSocket};

    /// The browser; stopped (TERM, then KILL) when dropped.
    pub struct Browser {
        child: Child,
        port: u16,
        _profile: tempfile::TempDir,
    }

    impl Browser {
        pub fn launch() -> Browser {
            let profile = tempfile::tempdir().unwrap();
            let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
            let mut child = Command::new(&binary)
                .args([
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--mute-audio",
                    "--autoplay-policy=no-user-gesture-required",
                    "--remote-debugging-port=0",
                    "--window-size=1366,768",
                ])
                .arg(format!("--user-data-dir={}", profile.path().display()))
                .arg("about:blank")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start {binary} (apt-get install chromium): {e}")
                });
            let stderr = child.stderr.take().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut sent = false;
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if !sent && line.contains("DevTools listening on ws://") {
                        let _ = tx.send(line);
                        sent = true;
                    }
                }
            });
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .expect("chromium prints its DevTools address");
            let port = line
                .split("ws://127.0.0.1:")
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .and_then(|p| p.parse().ok())
                .expect("a DevTools port");
            Browser {
                child,
                port,
                _profile: profile,
            }
        }

        /// A new tab.
        pub fn tab(&self) -> Tab {
            let answer = http(self.port, "PUT", "/json/new?about:blank");
            let target: Value = serde_json::from_str(&answer).expect("a target");
            let url = target["webSocketDebuggerUrl"]
                .as_str()
                .expect("its websocket");
            let (socket, _) = tungstenite::connect(url).expect("the tab's websocket");
            let mut tab = Tab { socket, next_id: 1 };
            tab.call("Page.enable", json!({}));
            tab.call("Runtime.enable", json!({}));
            tab.viewport(1366, 768, false);
            tab
        }
    }

    impl Drop for Browser {
        fn drop(&mut self) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while self.child.try_wait().ok().flatten().is_none() {
                if Instant::now() > deadline {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// A request to the DevTools port's HTTP side.
    fn http(port: u16, method: &str, path: &str) -> String {
        let url = format!("http://127.0.0.1:{port}{path}");
        let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
        let answer = match method {
            "PUT" => agent.put(&url).send_empty(),
            _ => agent.get(&url).call(),
        };
        answer
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
            .body_mut()
            .read_to_string()
            .expect("a body")
    }

    /// One tab, driven over its websocket.
    pub struct Tab {
        socket: WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>,
        next_id: u64,
    }

    impl Tab {
        /// Calls a method and returns its result (events in between are
        /// dropped).
        pub fn call(&mut self, method: &str, params: Value) -> Value {
            let id = self.next_id;
            self.next_id += 1;
            let message = json!({"id": id, "method": method, "params": params}).to_string();
            self.socket.send(Message::text(message)).expect("send");
            loop {
                let message = self.socket.read().expect("a DevTools message");
                let Message::Text(text) = message else {
                    continue;
                };
                let value: Value = serde_json::from_str(&text).expect("JSON");
                if value["id"] == id {
                    if let Some(error) = value.get("error") {
                        panic!("{method}: {error}");
                    }
                    return value["result"].clone();
                }
            }
        }

        /// Opens `url` and waits until the document has loaded.
        pub fn navigate(&mut self, url: &str) {
            self.call("Page.navigate", json!({"url": url}));
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let ready = self.try_eval(
                    "document.readyState === 'complete' && location.href !== 'about:blank'",
                );
                if ready == Some(json!(true)) {
                    return;
                }
                assert!(Instant::now() < deadline, "{url} did not load");
                std::thread::sleep(Duration::from_millis(50));
            }
        }

        fn try_eval(&mut self, expression: &str) -> Option<Value> {
            let result = self.call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            );
            if result.get("exceptionDetails").is_some() {
                return None;
            }
            Some(result["result"]["value"].clone())
        }

        /// The value of a JavaScript expression (a promise is awaited).
        pub fn eval(&mut self, expression: &str) -> Value {
            let result = self.call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            );
            if let Some(details) = result.get("exceptionDetails") {
                panic!("{expression}: {details}");
            }
            result["result"]["value"].clone()
        }

        /// Waits until `expression` is true (exceptions count as false).
        pub fn wait_for(&mut self, what: &str, expression: &str, timeout: Duration) {
            let deadline = Instant::now() + timeout;
            loop {
                if self.try_eval(expression) == Some(json!(true)) {
                    return;
                }
                if Instant::now() > deadline {
                    let state = self.try_eval(
                        "JSON.stringify({href: location.href, text: document.body.innerText.slice(0, 500),
                            video: (v => v && {t: v.currentTime, w: v.videoWidth, paused: v.paused, src: v.currentSrc,
                            ready: v.readyState, error: v.error && v.error.message})(document.getElementById('video'))})",
                    );
                    panic!("timed out waiting for {what}; page: {state:?}");
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }

        /// Presses a key as a person does (keydown and keyup).
        pub fn key(&mut self, key: &str) {
            let text = if key.chars().count() == 1 { key } else { "" };
            let code = match key {
                "ArrowUp" => 38,
                "ArrowDown" => 40,
                "ArrowLeft" => 37,
                "ArrowRight" => 39,
                " " => 32,
                k => k.to_ascii_uppercase().bytes().next().map_or(0, i64::from),
            };
            for kind in ["keyDown", "keyUp"] {
                self.call(
                    "Input.dispatchKeyEvent",
                    json!({"type": kind, "key": key, "text": if kind == "keyDown" { text } else { "" },
                           "windowsVirtualKeyCode": code}),
                );
            }
        }

        /// Sets the window's size (and whether it is a phone).
        pub fn viewport(&mut self, width: u32, height: u32, mobile: bool) {
            self.call(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
            );
        }

        /// Saves a PNG of the tab.
        pub fn screenshot(&mut self, path: &Path) {
            let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
            let png = base64::engine::general_purpose::STANDARD
                .decode(shot["data"].as_str().expect("data"))
                .expect("base64");
            std::fs::write(path, png).unwrap();
        }
    }
}
