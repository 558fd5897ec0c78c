//! Helpers shared by the workspace integration tests: the `cht` binary,
//! fixtures, free ports, and ffmpeg/ffprobe as independent oracles.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file of `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    workspace_root().join("tests/fixtures").join(name)
}

/// The `cht` binary, built once per test process (debug profile, like the tests).
pub fn cht_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(workspace_root())
            .args(["build", "--quiet", "-p", "cht", "--bin", "cht"])
            .status()
            .expect("cargo build -p cht");
        assert!(status.success(), "building cht failed");
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| workspace_root().join("target"));
        target.join("debug/cht")
    })
    .clone()
}

/// A port that was free a moment ago.
pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `cht record`, with its stderr collected line by line.
pub struct Recorder {
    /// The process.
    pub child: Child,
    /// The address it listens on (`127.0.0.1:PORT`).
    pub addr: String,
    /// Its stderr, line by line.
    pub lines: mpsc::Receiver<String>,
    /// The stderr lines read so far.
    pub log: Vec<String>,
}

impl Recorder {
    /// Starts `cht record --listen 127.0.0.1:0 --sessions-dir DIR ARGS..`
    /// and waits until it listens; `addr` is the port it got (asking the
    /// kernel, not guessing a free port, so parallel tests never collide).
    pub fn start(sessions: &Path, args: &[&str]) -> Recorder {
        Self::start_wrapped(&[], sessions, args)
    }

    /// Like [`Recorder::start`], run through `wrapper` (e.g. `prlimit
    /// --nofile=512`, which execs `cht`: the child is still cht itself).
    pub fn start_wrapped(wrapper: &[&str], sessions: &Path, args: &[&str]) -> Recorder {
        let addr = "127.0.0.1:0".to_string();
        // Tests run side by side: no two recorders may want the default
        // control port.
        let control = if args.contains(&"--control") {
            vec![]
        } else {
            vec!["--control", "off"]
        };
        let mut command = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(cht_bin());
                c
            }
            None => Command::new(cht_bin()),
        };
        let mut child = command
            .args(["record", "--listen", &addr, "--sessions-dir"])
            .arg(sessions)
            .args(control)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn cht record");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut rec = Recorder {
            child,
            addr,
            lines: rx,
            log: Vec::new(),
        };
        let line = rec.wait_for_line("listening", Duration::from_secs(60));
        let after = line
            .split("tcp://")
            .nth(1)
            .expect("the listening line names tcp://ADDR");
        rec.addr = after
            .split(|c: char| c.is_whitespace() || c == ';')
            .next()
            .unwrap()
            .to_string();
        rec
    }

    /// Reads stderr until a line containing `needle` (panics after `timeout`).
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line containing {needle:?} within {timeout:?}; log:\n{}",
                    self.log.join("\n")
                ),
            }
        }
    }

    /// The control API's token: `cht record` names its file at start (the
    /// file is in $XDG_RUNTIME_DIR/cht/ or `<sessions-dir>/.run/`).
    pub fn control_token(&mut self) -> String {
        let line = self.wait_for_line("its token is in ", Duration::from_secs(30));
        let path = line
            .split("its token is in ")
            .nth(1)
            .expect("the control line names the token file")
            .trim();
        let token = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read the token file {path}: {e}"));
        token.trim().to_string()
    }

    /// Waits for exit and returns the whole stderr.
    pub fn wait(mut self, timeout: Duration) -> (std::process::ExitStatus, String) {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.log.extend(self.lines.try_iter());
                std::thread::sleep(Duration::from_millis(50));
                self.log.extend(self.lines.try_iter());
                return (status, self.log.join("\n"));
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "cht record did not exit within {timeout:?}; log:\n{}",
                    self.log.join("\n")
                );
            }
            self.log.extend(self.lines.try_iter());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A test that fails half-way leaves no recorder running.
impl Drop for Recorder {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs a command and returns (success, stdout, stderr).
pub fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// (video packets, audio packets) as counted by ffprobe.
pub fn ffprobe_packet_counts(path: &Path) -> (u64, u64) {
    let (ok, out, err) = run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_packets",
            "-show_entries",
            "stream=codec_type,nb_read_packets",
            "-of",
            "json",
        ])
        .arg(path));
    assert!(ok, "ffprobe failed on {}: {err}", path.display());
    let json: serde_json::Value = serde_json::from_str(&out).expect("ffprobe json");
    let (mut v, mut a) = (0, 0);
    for stream in json["streams"].as_array().into_iter().flatten() {
        let n: u64 = stream["nb_read_packets"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        match stream["codec_type"].as_str() {
            Some("video") => v += n,
            Some("audio") => a += n,
            _ => {}
        }
    }
    (v, a)
}

/// Container duration in seconds as ffprobe reports it.
pub fn ffprobe_duration(path: &Path) -> f64 {
    let (ok, out, err) = run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path));
    assert!(ok, "ffprobe failed on {}: {err}", path.display());
    out.trim()
        .parse()
        .unwrap_or_else(|_| panic!("no duration for {}: {out:?}", path.display()))
}

/// What `ffmpeg -v error -i FILE -f null -` prints (empty when the file decodes cleanly).
pub fn ffmpeg_decode_errors(path: &Path) -> String {
    let (_, _, err) = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"]));
    err
}

/// The MD5 of every decoded video frame, in output order.
pub fn video_frame_md5s(path: &Path) -> Vec<String> {
    let (ok, out, err) = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:v:0", "-f", "framemd5", "-"]));
    assert!(ok, "ffmpeg framemd5 failed on {}: {err}", path.display());
    out.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next())
        .map(|s| s.trim().to_string())
        .collect()
}

/// Sends a TS file to `addr` with `ffmpeg -c copy -f mpegts` at full speed
/// and waits for it to finish.
pub fn ffmpeg_send(input: &Path, addr: &str) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(input)
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(format!("tcp://{addr}"))
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg sender failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A `cht serve --listen 127.0.0.1:0` over a sessions directory: the URL it
/// printed (token included); stopped with SIGTERM when dropped, also when a
/// test fails.
pub struct Served {
    child: Option<Child>,
    /// `http://ADDR/?token=…`, as printed.
    pub url: String,
}

impl Served {
    /// Starts it and waits for the URL it prints.
    pub fn start(sessions: &Path) -> Served {
        let mut child = Command::new(cht_bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--sessions-dir"])
            .arg(sessions)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("cht serve prints its URL").unwrap();
            if let Some(url) = line.split("open ").nth(1) {
                break url.trim().to_string();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Served {
            child: Some(child),
            url,
        }
    }

    /// The address (`host:port`) and the token of the printed URL.
    pub fn addr_and_token(&self) -> (String, String) {
        let rest = self.url.strip_prefix("http://").unwrap();
        let (addr, token) = rest.split_once("/?token=").unwrap();
        (addr.to_string(), token.to_string())
    }

    /// SIGTERM, then its exit status (killed after 5 s).
    pub fn stop(mut self) -> std::process::ExitStatus {
        terminate_within(self.child.take().unwrap(), Duration::from_secs(5))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            terminate_within(child, Duration::from_secs(5));
        }
    }
}

/// SIGTERM, and SIGKILL if it has not exited within `grace`.
fn terminate_within(mut child: Child, grace: Duration) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = std::time::Instant::now() + grace;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            return child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
