//! A private X desktop (Xvfb + openbox), the programs started on it, the
//! lossless x11grab capture and the xdotool driver the scenarios use.

use anyhow::{bail, Context};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Seconds since the epoch: the clock x11grab stamps its frames with.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

/// Openbox without decorations' animations and with a dialog-less Alt+Tab,
/// so that a window switch is one change of the screen, not a popup first.
const OPENBOX_RC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<openbox_config xmlns="http://openbox.org/3.4/rc">
  <focus><focusNew>yes</focusNew><followMouse>no</followMouse></focus>
  <placement><policy>Smart</policy></placement>
  <theme><name>Clearlooks</name><animateIconify>no</animateIconify></theme>
  <desktops><number>1</number></desktops>
  <keyboard>
    <keybind key="A-Tab">
      <action name="NextWindow"><dialog>no</dialog><bar>no</bar>
        <finalactions><action name="Focus"/><action name="Raise"/><action name="Unshade"/></finalactions>
      </action>
    </keybind>
  </keyboard>
  <applications>
    <application class="*"><decor>yes</decor></application>
    <application class="Chromium*"><maximized>yes</maximized></application>
    <application class="XTerm"><maximized>yes</maximized></application>
  </applications>
</openbox_config>
"#;

/// One X display with its window manager; everything started on it is
/// ended (by process group) when it drops.
pub struct Display {
    pub num: u32,
    pub width: u32,
    pub height: u32,
    pub work: PathBuf,
    /// The session bus of this desktop (notifications need one).
    bus: Option<String>,
    children: Vec<Child>,
}

impl Display {
    /// Starts Xvfb on a free display number and openbox on it (three tries:
    /// a display number can be taken between the check and the start).
    pub fn start(width: u32, height: u32, work: &Path) -> anyhow::Result<Display> {
        let mut last = None;
        for _ in 0..3 {
            match Display::try_start(width, height, work) {
                Ok(d) => return Ok(d),
                Err(e) => {
                    eprintln!("xtask: X display failed to start ({e:#}); trying again");
                    last = Some(e);
                    std::thread::sleep(Duration::from_secs(2));
                }
            }
        }
        Err(last.expect("tried"))
    }

    fn try_start(width: u32, height: u32, work: &Path) -> anyhow::Result<Display> {
        std::fs::create_dir_all(work)?;
        let num = (140..240)
            .find(|n| {
                !Path::new(&format!("/tmp/.X{n}-lock")).exists()
                    && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            })
            .context("no free X display number in 140..240")?;
        let mut d = Display {
            num,
            width,
            height,
            work: work.to_path_buf(),
            bus: None,
            children: Vec::new(),
        };
        d.spawn(
            Command::new("Xvfb")
                .arg(format!(":{num}"))
                .args(["-screen", "0", &format!("{width}x{height}x24")])
                .args(["-nolisten", "tcp", "-dpi", "96"]),
            "xvfb",
        )?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while d.xdo(&["getdisplaygeometry"]).is_err() {
            if Instant::now() > deadline {
                bail!("Xvfb :{num} did not come up");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let rc = work.join("openbox-rc.xml");
        std::fs::write(&rc, OPENBOX_RC)?;
        d.spawn(
            Command::new("openbox").arg("--config-file").arg(&rc),
            "openbox",
        )?;
        // openbox sets _NET_SUPPORTING_WM_CHECK once it manages the screen.
        let deadline = Instant::now() + Duration::from_secs(20);
        while !d.sh_ok("wmctrl -m >/dev/null 2>&1") {
            if Instant::now() > deadline {
                bail!("openbox did not start on :{num}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // A plain grey root, like a desktop without wallpaper.
        d.sh_ok("xsetroot -solid '#3a4a5a' 2>/dev/null");
        Ok(d)
    }

    /// Starts a D-Bus session bus for the programs started after it
    /// (dunst and notify-send talk over it).
    pub fn start_session_bus(&mut self) -> anyhow::Result<()> {
        let socket = self.work.join("session-bus");
        let _ = std::fs::remove_file(&socket);
        let address = format!("unix:path={}", socket.display());
        self.spawn(
            Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--nopidfile"])
                .arg(format!("--address={address}")),
            "dbus",
        )?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            if Instant::now() > deadline {
                bail!("dbus-daemon did not start");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.bus = Some(address);
        Ok(())
    }

    pub fn display(&self) -> String {
        format!(":{}", self.num)
    }

    /// Starts a program on this display in its own process group; its
    /// output goes to `<work>/<log>.log`.
    pub fn spawn(&mut self, cmd: &mut Command, log: &str) -> anyhow::Result<()> {
        let out = std::fs::File::create(self.work.join(format!("{log}.log")))?;
        if let Some(bus) = &self.bus {
            cmd.env("DBUS_SESSION_BUS_ADDRESS", bus);
        }
        let child = cmd
            .env("DISPLAY", self.display())
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {cmd:?}"))?;
        self.children.push(child);
        Ok(())
    }

    /// Runs xdotool with these arguments; its stdout.
    pub fn xdo(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", self.display())
            .stderr(Stdio::null())
            .output()?;
        if !out.status.success() {
            bail!("xdotool {args:?} failed");
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// A shell command on this display; whether it succeeded.
    pub fn sh_ok(&self, script: &str) -> bool {
        let mut cmd = Command::new("sh");
        if let Some(bus) = &self.bus {
            cmd.env("DBUS_SESSION_BUS_ADDRESS", bus);
        }
        cmd.args(["-c", script])
            .env("DISPLAY", self.display())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Waits for a visible window whose class (or name) matches, returns its id.
    pub fn wait_window(&self, how: &str, pattern: &str, secs: u64) -> anyhow::Result<String> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Ok(ids) = self.xdo(&["search", "--onlyvisible", how, pattern]) {
                if let Some(id) = ids.lines().last() {
                    return Ok(id.to_string());
                }
            }
            if Instant::now() > deadline {
                bail!("no window {how} {pattern:?} within {secs} s");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until the screen has not changed for `still` (screenshots
    /// compared), at most `limit`: programs have finished drawing.
    pub fn wait_still(&self, still: f64, limit: f64) {
        let start = Instant::now();
        let mut last = Vec::new();
        let mut since = Instant::now();
        while start.elapsed().as_secs_f64() < limit {
            let shot = Command::new("sh")
                .args(["-c", "xwd -root -silent | md5sum"])
                .env("DISPLAY", self.display())
                .output()
                .map(|o| o.stdout)
                .unwrap_or_default();
            if shot != last {
                last = shot;
                since = Instant::now();
            } else if since.elapsed().as_secs_f64() >= still {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        // Newest first: programs, then openbox, then the X server.
        for child in self.children.iter_mut().rev() {
            let pgid = child.id() as i32;
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{pgid}")])
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(3);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pgid}")])
                .stderr(Stdio::null())
                .status();
            let _ = child.wait();
        }
    }
}

/// A running lossless capture of a display.
pub struct Capture {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Epoch seconds of the first captured frame (x11grab's clock).
    pub start: f64,
    log: PathBuf,
}

pub const FPS: f64 = 30.0;

impl Capture {
    /// Starts `ffmpeg -f x11grab` at 30 fps, constant frame rate, into a
    /// lossless RGB H.264 (qp 0) Matroska file, and waits for its first frame.
    pub fn start(d: &Display, path: &Path) -> anyhow::Result<Capture> {
        let log = path.with_extension("log");
        let mut child = Command::new("ffmpeg")
            .args(["-hide_banner", "-y", "-f", "x11grab", "-draw_mouse", "1"])
            .args(["-framerate", "30", "-video_size"])
            .arg(format!("{}x{}", d.width, d.height))
            .args(["-i", &d.display()])
            .args(["-fps_mode", "cfr", "-r", "30"])
            .args(["-c:v", "libx264rgb", "-qp", "0", "-preset", "ultrafast"])
            .arg(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start ffmpeg x11grab")?;
        let stdin = child.stdin.take();
        let stderr = child.stderr.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        let log_path = log.clone();
        std::thread::spawn(move || {
            let mut logf = std::fs::File::create(&log_path).ok();
            let mut sent = false;
            for line in BufReader::new(stderr).split(b'\r').flatten() {
                let line = String::from_utf8_lossy(&line).to_string();
                if let Some(f) = logf.as_mut() {
                    let _ = writeln!(f, "{line}");
                }
                if !sent {
                    if let Some(start) = line
                        .split("start: ")
                        .nth(1)
                        .and_then(|s| s.split(',').next())
                        .and_then(|s| s.trim().parse::<f64>().ok())
                    {
                        let _ = tx.send(start);
                        sent = true;
                    }
                }
            }
        });
        let start = rx
            .recv_timeout(Duration::from_secs(20))
            .context("x11grab did not report its start time")?;
        // Let the encoder get going before anything happens on screen.
        std::thread::sleep(Duration::from_millis(1500));
        Ok(Capture {
            child,
            stdin,
            start,
            log,
        })
    }

    /// Stops the capture cleanly (ffmpeg's `q`) and waits for the file.
    pub fn stop(mut self) -> anyhow::Result<()> {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"q");
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("capture failed ({status}); see {}", self.log.display());
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                bail!("capture did not stop; see {}", self.log.display());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
