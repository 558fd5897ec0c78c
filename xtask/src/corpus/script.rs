//! The scenario driver: xdotool actions, each one stamped on the
//! capture's clock and marked as an event or an activity.

use super::x::{now, Capture, Display};
use anyhow::Context;
use std::path::Path;
use std::time::Duration;

/// What a scripted action is, as the labels will say.
#[derive(Clone, Debug)]
pub enum MarkKind {
    /// A new screen. `transition`: the change has a span (fade, push..).
    /// `settle`: the longest the change may take to finish, in seconds.
    Event { transition: bool, settle: f64 },
    /// Not a new screen, over [start, end].
    Activity,
}

/// One scripted action on the capture's clock (epoch seconds).
#[derive(Clone, Debug)]
pub struct Mark {
    pub kind: MarkKind,
    pub class: String,
    pub description: String,
    pub start: f64,
    pub end: f64,
}

/// Runs one scenario: its display, its capture and its marks.
pub struct Script {
    pub d: Display,
    pub capture: Option<Capture>,
    pub marks: Vec<Mark>,
    open: Vec<usize>,
}

impl Script {
    pub fn new(d: Display) -> Script {
        Script {
            d,
            capture: None,
            marks: Vec::new(),
            open: Vec::new(),
        }
    }

    /// Starts the lossless capture (after the scenario's setup).
    pub fn start_capture(&mut self, path: &Path) -> anyhow::Result<()> {
        self.capture = Some(Capture::start(&self.d, path)?);
        Ok(())
    }

    pub fn sleep(&self, secs: f64) {
        std::thread::sleep(Duration::from_secs_f64(secs));
    }

    /// An event: `action` makes a new screen appear at once.
    pub fn event(
        &mut self,
        class: &str,
        description: &str,
        action: impl FnOnce(&mut Script) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.mark(
            MarkKind::Event {
                transition: false,
                settle: 2.0,
            },
            class,
            description,
            action,
        )
    }

    /// An event that takes `secs` to complete (a fade, a push): one event
    /// labelled with its span.
    pub fn transition(
        &mut self,
        class: &str,
        description: &str,
        secs: f64,
        action: impl FnOnce(&mut Script) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.mark(
            MarkKind::Event {
                transition: true,
                settle: secs + 0.5,
            },
            class,
            description,
            action,
        )
    }

    /// Activity over the time `action` takes.
    pub fn activity(
        &mut self,
        class: &str,
        description: &str,
        action: impl FnOnce(&mut Script) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.mark(MarkKind::Activity, class, description, action)
    }

    fn mark(
        &mut self,
        kind: MarkKind,
        class: &str,
        description: &str,
        action: impl FnOnce(&mut Script) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let start = now();
        action(self).with_context(|| format!("{class}: {description}"))?;
        self.marks.push(Mark {
            kind,
            class: class.into(),
            description: description.into(),
            start,
            end: now(),
        });
        Ok(())
    }

    /// Activity that goes on in the background (a clock, a playing video)
    /// from now until [`Script::end_activity`] or the end of the capture.
    pub fn begin_activity(&mut self, class: &str, description: &str) -> usize {
        let t = now();
        self.marks.push(Mark {
            kind: MarkKind::Activity,
            class: class.into(),
            description: description.into(),
            start: t,
            end: f64::INFINITY,
        });
        self.open.push(self.marks.len() - 1);
        self.marks.len() - 1
    }

    pub fn end_activity(&mut self, id: usize) {
        self.marks[id].end = now();
        self.open.retain(|&i| i != id);
    }

    /// Closes the open activities, stops the capture; the marks.
    pub fn finish(mut self) -> anyhow::Result<(Vec<Mark>, f64)> {
        for id in self.open.clone() {
            self.end_activity(id);
        }
        let capture = self
            .capture
            .take()
            .context("the scenario never started its capture")?;
        let start = capture.start;
        capture.stop()?;
        Ok((self.marks, start))
    }

    // xdotool actions.

    pub fn key(&self, keys: &str) -> anyhow::Result<()> {
        self.d.xdo(&["key", "--clearmodifiers", keys])?;
        Ok(())
    }

    /// Types like a person (~`cps` characters a second).
    pub fn type_text(&self, text: &str, cps: u32) -> anyhow::Result<()> {
        let delay = (1000 / cps.max(1)).to_string();
        self.d.xdo(&["type", "--delay", &delay, text])?;
        Ok(())
    }

    /// Moves the pointer along a straight line in ~`secs`.
    pub fn glide(&self, x: i32, y: i32, secs: f64) -> anyhow::Result<()> {
        let loc = self.d.xdo(&["getmouselocation", "--shell"])?;
        let get = |k: &str| -> i32 {
            loc.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let (x0, y0) = (get("X"), get("Y"));
        let steps = ((secs * 30.0) as i32).max(1);
        for i in 1..=steps {
            let f = i as f64 / steps as f64;
            let xi = x0 + ((x - x0) as f64 * f) as i32;
            let yi = y0 + ((y - y0) as f64 * f) as i32;
            self.d
                .xdo(&["mousemove", &xi.to_string(), &yi.to_string()])?;
            std::thread::sleep(Duration::from_secs_f64(secs / steps as f64));
        }
        Ok(())
    }

    /// Wheel notches: positive scrolls down.
    pub fn wheel(&self, notches: i32) -> anyhow::Result<()> {
        let button = if notches > 0 { "5" } else { "4" };
        for _ in 0..notches.abs() {
            self.d.xdo(&["click", button])?;
        }
        Ok(())
    }

    pub fn focus(&self, window: &str) -> anyhow::Result<()> {
        self.d.xdo(&["windowactivate", "--sync", window])?;
        Ok(())
    }
}
