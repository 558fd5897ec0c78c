//! The default detector: new screens, not frame differences.
//!
//! An agent watching a screen share needs one picture each time the screen
//! shows content it has not seen, showing that content finished. This
//! detector turns a stream of [`FrameSignature`]s into such pictures:
//!
//! - **Episodes.** A change begins when cells outside the active regions
//!   move (or slowly drift away from the settled screen). It ends when the
//!   screen has been still for [`ScreenOptions::settle`], or at
//!   [`ScreenOptions::bound`] in continuous motion; the picture is the frame
//!   at that point (`picture_time`), the event time is when the change
//!   began. A fade or a push transition is one episode, so one event.
//! - **Kinds of change.** The settled screen is compared with the screen
//!   before the change: replaced or removed content (a slide switch, even of
//!   the same template, a window or tab switch, navigation, a pager opening)
//!   is an *event*; content added on background (bullets appearing, typed
//!   code, command output) is not, unless it draws a shape (a box and its
//!   connector added to a diagram: a thin line of changed cells); a scroll
//!   is not unless it brings most of the view new (Page Down). See
//!   `compare`.
//! - **Updates.** When the settled screen differs enough from the last
//!   picture written, an *update* picture is written, so that the last
//!   picture of every scene shows its final content.
//! - **Overlays and the pointer.** A small change that returns the screen to
//!   what it was before the last small change that was no new screen (a
//!   notification, a menu or a tooltip going away), a small filled box in a
//!   corner (a notification appearing), and a compact change under a
//!   pointer that just moved (a hover highlight as it enters or leaves an
//!   element) are not new screens.
//! - **Activity.** Regions that keep changing (a video in a page, a chart,
//!   a clock, a caret) are learned over time and ignored, so their own
//!   changes (a video's shot cuts) are not events while a change around them
//!   still is. See `activity`.
//! - **Footage.** When most of the picture moves all the time (a film, a
//!   full-screen game), nothing settles: shot cuts are found as spikes of
//!   change against the neighbouring frames, and each gets its picture a
//!   moment after the cut.
//!
//! Time is the caller's presentation time in seconds, not a frame count, so
//! the detector works at any frame rate and when frames are skipped.

mod activity;
mod cells;
mod compare;
mod gradual;

use std::collections::VecDeque;
use std::sync::Arc;

use cells::{Cells, Frame};
use compare::{compare, Comparison, CELL_CHANGE};

use crate::signature::FrameSignature;

/// Settings of the screen-event detector.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenOptions {
    /// Seconds the screen must be still before a change is judged and its
    /// picture taken.
    pub settle: f64,
    /// Seconds after the start of a change when its picture is taken even
    /// if the screen still moves.
    pub bound: f64,
    /// Seconds of complete stillness before an update picture is taken.
    pub update_settle: f64,
    /// Sensitivity on ffmpeg's 0..=1 scale: 0.3 is the default, lower finds
    /// smaller changes (the area thresholds scale with it).
    pub threshold: f64,
}

impl Default for ScreenOptions {
    fn default() -> Self {
        ScreenOptions {
            settle: 0.4,
            bound: 1.5,
            update_settle: 2.0,
            threshold: 0.3,
        }
    }
}

/// Why a picture was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The first picture of a stream.
    Start,
    /// The picture size changed.
    ResolutionChange,
    /// Content was replaced: a slide, window, tab or page switch.
    ScreenChange,
    /// A scroll brought most of the view new (Page Down, Ctrl+End).
    ScrollJump,
    /// A shot cut in full-frame footage.
    ShotCut,
    /// A fade, dissolve or wipe in full-frame footage.
    Transition,
    /// The screen built up (added text, output, a scroll) since the last
    /// picture.
    Update,
}

impl Cause {
    /// A short lower-case description, e.g. for a log line.
    pub fn describe(self) -> &'static str {
        match self {
            Cause::Start => "first picture",
            Cause::ResolutionChange => "resolution change",
            Cause::ScreenChange => "screen change",
            Cause::ScrollJump => "scroll jump",
            Cause::ShotCut => "shot cut",
            Cause::Transition => "transition",
            Cause::Update => "update",
        }
    }

    /// A snake-case name, e.g. for JSON: `"screen_change"`.
    pub fn name(self) -> &'static str {
        match self {
            Cause::Start => "start",
            Cause::ResolutionChange => "resolution_change",
            Cause::ScreenChange => "screen_change",
            Cause::ScrollJump => "scroll_jump",
            Cause::ShotCut => "shot_cut",
            Cause::Transition => "transition",
            Cause::Update => "update",
        }
    }

    /// Whether this is a new screen (`true`) or an update of the last one.
    pub fn is_event(self) -> bool {
        self != Cause::Update
    }
}

/// Which frame a picture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureSource {
    /// The frame just pushed.
    Current,
    /// The frame pushed before it.
    Previous,
    /// The last frame the detector asked to keep ([`ScreenStep::keep_current`]):
    /// the still screen just before the change now being reported.
    Kept,
}

/// A picture to write.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScreenPicture {
    /// Why the picture is taken.
    pub cause: Cause,
    /// When the change began (the event's time); for an update, the time
    /// of the picture.
    pub event_time: f64,
    /// Which frame shows it.
    pub source: PictureSource,
    /// The time of the frame shown.
    pub picture_time: f64,
    /// Strength of the change, 0..=1 (share of the screen changed).
    pub score: f64,
}

/// What one pushed frame produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScreenStep {
    /// Pictures to write, in order (at most two: an update of the screen
    /// before a change, then the change's own picture).
    pub pictures: Vec<ScreenPicture>,
    /// Keep this frame: the screen is still, and a later picture may show
    /// it as [`PictureSource::Kept`] (the screen before a change). It
    /// replaces the frame kept before; write this step's pictures first.
    pub keep_current: bool,
    /// Share of the screen that moved in this frame (0..=1), for scores.
    pub motion: f64,
}

/// A hard cut changes at least this share of the picture strongly.
const WHOLE_SCREEN_CUT: f64 = 0.5;

/// Whether `next` follows `previous` across a hard cut, as the detector
/// judges one: most of the picture changed strongly at once.
pub fn hard_cut(previous: &FrameSignature, next: &FrameSignature) -> bool {
    if !previous.same_size(next) {
        return true;
    }
    let strong = previous
        .cells()
        .iter()
        .zip(next.cells())
        .filter(|(&a, &b)| a.abs_diff(b) >= cells::STRONG_CHANGE)
        .count();
    strong as f64 >= WHOLE_SCREEN_CUT * previous.cells().len().max(1) as f64
}
/// Changes of at most this share of the screen (a pointer, a caret, a
/// typed character) do not break stillness nor begin a change.
const SMALL_SHARE: f64 = 0.0015;
/// Motion is also measured against the frame this long ago, so that a slow
/// fade (a small step per frame) still counts as motion.
const LOOKBACK: f64 = 0.2;
/// Slow changes (fades, drifts below the motion step) are looked for this
/// often by comparing with the settled screen.
const DRIFT_EVERY: f64 = 0.25;
/// Footage: most of the picture keeps moving. The share of cells that moved
/// within the last `RECENT_MOTION` seconds must stay above `FOOTAGE_ENTER`
/// for `FOOTAGE_AFTER` seconds (longer than a slide transition, which is a
/// change to settle, not footage); below `FOOTAGE_LEAVE` the screen is back.
const RECENT_MOTION: f64 = 1.0;
const FOOTAGE_ENTER: f64 = 0.5;
const FOOTAGE_AFTER: f64 = 1.5;
const FOOTAGE_LEAVE: f64 = 0.3;
/// A change in motion for longer than this without a sudden part (a log
/// scrolling, a long animation) is activity, not a new screen.
const LONG_MOTION: f64 = 3.0;
/// Whether the change is a small filled box near a corner of the screen,
/// where desktops show notifications: within `CORNER` of the top or bottom
/// edge and of the left or right edge, covering at most `OVERLAY` of the
/// screen, `POPUP_FILL` of its cells changed (a popup paints its whole box;
/// text replaced in a corner, an editor's tab, leaves gaps).
fn in_notification_area(change: &Comparison, screen: &FrameSignature) -> bool {
    let Some((x0, y0, x1, y1)) = change.bounds else {
        return false;
    };
    if !is_filled_box(change) {
        return false;
    }
    let (w, h) = (screen.cells_x() as f64, screen.cells_y() as f64);
    let area = ((x1 - x0) * (y1 - y0)) as f64 / (w * h);
    let near_top = (y0 as f64) < CORNER * h;
    let near_bottom = (y1 as f64) > (1.0 - CORNER) * h;
    let near_left = (x0 as f64) < CORNER * w && (x1 as f64) < 0.5 * w;
    let near_right = (x1 as f64) > (1.0 - CORNER) * w && (x0 as f64) > 0.5 * w;
    area <= overlay_share(screen) && (near_top || near_bottom) && (near_left || near_right)
}

/// Whether the change draws a shape rather than text: a line one or two
/// cells wide (a connector, an arrow) at least `DRAWN_LINE` of the screen's height
/// long, in a change that covers at most `DRAWN_DENSITY` of its bounding
/// box (outlines and connectors, not lines of text). A box and an arrow
/// added to a diagram is a new screen; bullets appearing are not.
fn is_drawing(change: &Comparison) -> bool {
    let Some((x0, y0, x1, y1)) = change.bounds else {
        return false;
    };
    let rows = change.total / change.cells_x.max(1);
    let line = (DRAWN_LINE * rows as f64).round().max(4.0) as usize;
    let density = change.changed as f64 / ((x1 - x0) * (y1 - y0)) as f64;
    density <= DRAWN_DENSITY && change.thin_vertical_run() >= line
}

/// See `is_drawing`.
const DRAWN_LINE: f64 = 0.05;
const DRAWN_DENSITY: f64 = 0.25;

/// A hover effect covers at most this share of the screen with its
/// bounding box (or, on a small screen, `HOVER_PIXELS`: an element has a
/// size in pixels), within `POINTER_MARGIN` cells of a pointer motion at
/// most `HOVER_LEAD` seconds from the change's start.
const HOVER_BOX: f64 = 0.1;
const HOVER_PIXELS: f64 = 120_000.0;
/// A hover effect recolours at least this many cells per cell it draws.
const RECOLOURED: f64 = 0.4;
const POINTER_MARGIN: usize = 3;
const HOVER_LEAD: f64 = 0.25;

/// The largest share of `screen` an overlay (a notification, a menu, a
/// tooltip) covers: `OVERLAY`, or on a small screen `OVERLAY_PIXELS`
/// (overlays have a size in pixels: a notification is ~400x100 on any
/// screen, so it covers twice the share of a 1366x768 screen that it does
/// of a 1920x1080 one).
fn overlay_share(screen: &FrameSignature) -> f64 {
    let pixels = (screen.width() * screen.height()).max(1) as f64;
    at_default::OVERLAY.max(OVERLAY_PIXELS / pixels)
}

/// See `overlay_share`.
const OVERLAY_PIXELS: f64 = 48_000.0;

/// Whether most cells of the change's bounding box changed (`POPUP_FILL`):
/// a box painted whole, as a popup is.
fn is_filled_box(change: &Comparison) -> bool {
    change.bounds.is_some_and(|(x0, y0, x1, y1)| {
        change.changed as f64 >= POPUP_FILL * ((x1 - x0) * (y1 - y0)) as f64
    })
}

/// Share of a popup's box that its appearance changes.
const POPUP_FILL: f64 = 0.75;

/// How close to the edges a notification sits (share of the screen).
const CORNER: f64 = 0.2;

/// A change's first frame may lead its main part by this much (seconds).
const LEAD_IN: f64 = 0.07;
/// Frames whose change a spike is compared with (a second at 30 fps).
const RECENT_FRAMES: usize = 30;
/// A frame is compared with at most this many frame intervals of motion.
const MAX_INTERVALS: f64 = 3.0;
/// Cells this close to active or moving ones are judged with them.
const MASK_MARGIN: usize = 2;
/// A cell that moved this recently is still in motion when a picture is
/// taken at the bound: what it shows is activity, not a finished change.
const STILL_MOVING: f64 = 0.3;

/// Thresholds at the default sensitivity (0.3), as shares of the screen.
mod at_default {
    /// Replaced or removed content that makes a new screen.
    pub const REPLACED: f64 = 0.006;
    /// The same, for a screen that never settled (judged at the bound): an
    /// animation keeps changing small parts of the screen.
    pub const REPLACED_IN_MOTION: f64 = 0.03;
    /// ...more than it adds (`REPLACING`: output below a prompt replaces
    /// little), of which at least this share is structure, not shade
    /// (unless `REPLACED_MUCH` is replaced).
    pub const REPLACING: f64 = 0.3;
    /// ...or replaces this share of the earlier content (an editor closing
    /// onto a shell full of earlier output).
    pub const REPLACED_OF_CONTENT: f64 = 0.4;
    pub const STRUCTURAL: f64 = 0.25;
    pub const REPLACED_MUCH: f64 = 0.03;
    /// ...or at least this much, when it is much of the content before and
    /// after (`CONTENT_CHANGED`) and replaces more than it adds.
    pub const REPLACED_SPARSE: f64 = 0.0015;
    pub const CONTENT_CHANGED: f64 = 0.35;
    /// ...or at least this much, replaced at once (`SUDDEN`: the share of
    /// the change made in one frame).
    pub const REPLACED_AT_ONCE: f64 = 0.0025;
    pub const SUDDEN: f64 = 0.5;
    /// ...or, replaced at once (`SUDDEN`), this share of the earlier content
    /// while `REDRAWN` of the screen is drawn anew (an editor or a pager
    /// opening over a short shell session: most of what it shows is drawn
    /// on background, and the prompt it covers goes away).
    pub const REDRAWN_OF_CONTENT: f64 = 0.25;
    pub const REDRAWN: f64 = 0.04;
    /// Shade changes alone (a highlight) make a new screen only over this
    /// much of it (a new window of another colour).
    pub const REPAINTED: f64 = 0.3;
    /// A change smaller than this that returns to the last new screen is an
    /// overlay going away.
    pub const OVERLAY: f64 = 0.03;
    /// A change of this much of the screen is a new screen, if structural.
    pub const MOST_CHANGED: f64 = 0.2;
    /// Added content that alone makes a new screen (a new window on an
    /// empty desktop, a page drawn on a blank one).
    pub const ADDED: f64 = 0.2;
    /// Scrolled: share of the region brought into view for a jump.
    pub const SCROLL_EXPOSED: f64 = 0.5;
    /// Coarse 64x64 blocks that must differ from the last picture for an
    /// update, and the share of the screen changed (a typed line, a bullet).
    pub const UPDATE_BLOCKS: usize = 3;
    pub const UPDATE_SHARE: f64 = 0.0015;
    /// Shot cut: mean cell change, and its ratio to the neighbours'.
    pub const CUT_MEAN: f64 = 10.0;
    pub const CUT_RATIO: f64 = 2.5;
}

/// A screen the detector remembers: its signature and when it was seen.
#[derive(Debug, Clone)]
struct Seen {
    signature: Arc<FrameSignature>,
    time: f64,
}

#[derive(Debug, Clone)]
enum State {
    /// The screen is settled (matches `reference`).
    Settled {
        last_drift_check: f64,
        /// Time of the last frame with motion (for update pictures).
        last_motion: f64,
        /// Some motion happened since the last update check.
        dirty: bool,
    },
    /// A change is under way.
    Changing(Episode),
}

#[derive(Debug, Clone)]
struct Episode {
    /// When the change began, and when the current judging window began
    /// (a bound that finds the change still under way opens a new window).
    began: f64,
    start: f64,
    /// Time of the last frame with motion.
    last_motion: f64,
    /// The start of the stream or a new size: always an event.
    forced: Option<Cause>,
    /// The last frame before the change (kept by the caller).
    before: Option<Seen>,
    /// A hard cut of the whole picture during the change.
    cut: Option<f64>,
    /// The last pointer-sized motion when the change began.
    pointer: Option<Pointer>,
}

/// Where and when (seconds) a pointer-sized change was seen.
type Pointer = (CellBox, f64);

/// A box of cells: x0, y0, x1, y1 (x1 and y1 exclusive), as
/// `Comparison::bounds`.
type CellBox = (usize, usize, usize, usize);

/// `b` with `margin` cells more on each side (not past the top left).
fn grown(b: CellBox, margin: usize) -> CellBox {
    let (x0, y0, x1, y1) = b;
    (
        x0.saturating_sub(margin),
        y0.saturating_sub(margin),
        x1 + margin,
        y1 + margin,
    )
}

/// Whether cell (`x`, `y`) is in `b`.
fn contains(b: CellBox, x: usize, y: usize) -> bool {
    (b.0..b.2).contains(&x) && (b.1..b.3).contains(&y)
}

/// Whether `a` and `b` share a cell.
fn overlaps(a: CellBox, b: CellBox) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// A spike of change: a hard cut.
#[derive(Debug, Clone, Copy)]
struct Cut {
    time: f64,
    mean_change: f64,
    /// Share of all cells that changed strongly.
    strong_share: f64,
}

/// Footage-regime state.
#[derive(Debug, Clone, Default)]
struct Footage {
    active: bool,
    /// Since when most of the picture has kept moving.
    busy_since: Option<f64>,
    /// Mean cell change of recent frames per frame interval (for cut
    /// spikes): a frame compared with the picture two intervals back (a
    /// disposable picture between was not decoded) moves twice as far.
    recent_means: VecDeque<f64>,
    /// The shortest time seen between two frames: the stream's frame
    /// interval.
    frame_interval: Option<f64>,
    /// A candidate cut at the previous frame.
    candidate: Option<Cut>,
    /// Fades and dissolves.
    gradual: gradual::Gradual,
}

/// The screen-event detector (see the module docs). Push one signature per
/// decoded frame, in presentation order.
#[derive(Debug, Clone)]
pub struct ScreenEvents {
    options: ScreenOptions,
    prev: Option<Seen>,
    /// Per-cell motion and activity.
    cells: Cells,
    /// The settled screen before the current change (kept by the caller).
    reference: Option<Seen>,
    /// The last frame with no change outside active regions (kept by the
    /// caller): the screen before a change that begins.
    still: Option<Seen>,
    /// The last screen a picture was written of, and the last one pictured
    /// as a new screen.
    published: Option<Seen>,
    last_event: Option<Seen>,
    /// The settled screen before the last change that was small and no
    /// new screen (an overlay appearing: a notification, a menu): when the
    /// next change returns to it, the overlay went away.
    overlay_base: Option<Seen>,
    /// Where and when a pointer-sized change was last seen (cells x0, y0,
    /// x1, y1 exclusive; seconds): hover effects appear under it.
    pointer: Option<Pointer>,
    /// `pointer` when the screen last settled: where the pointer rested in
    /// the reference screen.
    pointer_at_reference: Option<Pointer>,
    /// A notification shown since the screen last settled (cells x0, y0,
    /// x1, y1 exclusive): not compared for update pictures.
    popup: Option<CellBox>,
    state: State,
    footage: Footage,
    /// Cells of the frames of the last `LOOKBACK` seconds, oldest first.
    recent: VecDeque<(f64, Vec<u8>)>,
    /// A buffer of `recent` to reuse.
    spare: Option<Vec<u8>>,
    /// For each cell, when it first differed from the reference since the
    /// screen settled (ms; `i32::MAX`: not yet).
    first_change: Vec<i32>,
}

impl ScreenEvents {
    /// A detector with `options`.
    pub fn new(options: ScreenOptions) -> Self {
        ScreenEvents {
            options,
            prev: None,
            cells: Cells::default(),
            reference: None,
            published: None,
            last_event: None,
            overlay_base: None,
            pointer: None,
            pointer_at_reference: None,
            popup: None,
            still: None,
            state: State::Settled {
                last_drift_check: 0.0,
                last_motion: 0.0,
                dirty: false,
            },
            footage: Footage::default(),
            recent: VecDeque::new(),
            spare: None,
            first_change: Vec::new(),
        }
    }

    /// The settings in use.
    pub fn options(&self) -> &ScreenOptions {
        &self.options
    }

    /// Changes the sensitivity for the frames to come.
    pub fn set_threshold(&mut self, threshold: f64) {
        self.options.threshold = threshold;
    }

    /// Forgets everything: the next frame starts a stream.
    pub fn restart(&mut self) {
        *self = ScreenEvents::new(self.options.clone());
    }

    /// Scale of the area thresholds: 1 at the default sensitivity.
    fn scale(&self) -> f64 {
        (self.options.threshold / 0.3).clamp(0.05, 3.0)
    }

    /// Takes in the next frame, shown at `time` seconds.
    pub fn push(&mut self, signature: Arc<FrameSignature>, time: f64) -> ScreenStep {
        let mut step = ScreenStep::default();
        let prev = match &self.prev {
            Some(p) if p.signature.same_size(&signature) => p.clone(),
            _ => {
                self.begin_stream(signature, time);
                return step;
            }
        };
        let frame = self.frame_change(&prev.signature, &signature, time);
        step.motion = frame.moving_share;
        let seen = Seen { signature, time };
        self.track_footage(&frame, &mut step, &seen);
        if !self.footage.active {
            self.screen_step(&seen, &frame, &mut step);
        }
        self.prev = Some(seen);
        step
    }

    /// Ends the stream: a change still under way is judged on the last
    /// frame pushed, which the step's pictures show as
    /// [`PictureSource::Current`].
    pub fn finish(&mut self) -> ScreenStep {
        let mut step = ScreenStep::default();
        let Some(last) = self.prev.take() else {
            return step;
        };
        // A cut at the very last frame has no next frame to confirm it.
        let last_cut = self
            .footage
            .candidate
            .take()
            .filter(|_| self.footage.active);
        if let Some(cut) = last_cut {
            step.pictures
                .push(self.cut_picture(cut.time, PictureSource::Current, &last));
        }
        match self.state.clone() {
            State::Changing(episode) => self.decide(&episode, &last, &mut step),
            // The last screen may have built up since the last picture.
            State::Settled { dirty: true, .. } if !self.footage.active => {
                self.update_check(&last, PictureSource::Current, &mut step)
            }
            State::Settled { .. } => {}
        }
        self.restart();
        step
    }

    fn begin_stream(&mut self, signature: Arc<FrameSignature>, time: f64) {
        let cause = if self.prev.is_some() {
            Cause::ResolutionChange
        } else {
            Cause::Start
        };
        let options = self.options.clone();
        *self = ScreenEvents::new(options);
        self.cells = Cells::new(signature.cells().len());
        self.first_change = vec![i32::MAX; signature.cells().len()];
        self.state = State::Changing(Episode {
            began: time,
            start: time,
            last_motion: time,
            forced: Some(cause),
            before: None,
            cut: None,
            pointer: None,
        });
        self.recent.push_back((time, signature.cells().to_vec()));
        self.prev = Some(Seen { signature, time });
    }
}

/// How a frame differs from the one before it.
#[derive(Debug, Clone, Copy, Default)]
struct FrameChange {
    /// Share of all cells that moved.
    moving_share: f64,
    /// Share of the cells outside active regions that moved.
    novel_share: f64,
    /// Mean absolute cell change over the whole picture.
    mean_change: f64,
    /// Share of all cells that moved within `RECENT_MOTION`.
    moved_recently: f64,
    /// Share of all cells that changed by `STRONG_CHANGE` or more.
    strong_share: f64,
}

impl ScreenEvents {
    fn frame_change(
        &mut self,
        prev: &FrameSignature,
        cur: &FrameSignature,
        time: f64,
    ) -> FrameChange {
        while self.recent.len() > 1 && self.recent[1].0 <= time - LOOKBACK {
            self.spare = self.recent.pop_front().map(|r| r.1);
        }
        let n = cur.cells().len();
        let frame = Frame {
            prev: prev.cells(),
            cur: cur.cells(),
            lookback: self.recent.front().map(|r| r.1.as_slice()),
            now: millis(time),
            recent_since: millis(time - RECENT_MOTION),
            max_teaching: (activity::MAX_TEACHING_SHARE * n as f64) as u32,
        };
        let counts = self.cells.pass(&frame);
        self.remember_recent(cur, time);
        let n = n.max(1) as f64;
        FrameChange {
            moving_share: counts.moving as f64 / n,
            novel_share: counts.novel.max(counts.novel_since_lookback) as f64 / n,
            mean_change: counts.total as f64 / n,
            moved_recently: counts.moved_recently as f64 / n,
            strong_share: counts.strong as f64 / n,
        }
    }

    /// Keeps this frame's cells for the lookback of later frames.
    fn remember_recent(&mut self, cur: &FrameSignature, time: f64) {
        let mut cells = self.spare.take().unwrap_or_default();
        cells.clear();
        cells.extend_from_slice(cur.cells());
        self.recent.push_back((time, cells));
    }

    /// Footage regime: entering, leaving, and its shot cuts.
    fn track_footage(&mut self, frame: &FrameChange, step: &mut ScreenStep, cur: &Seen) {
        let time = cur.time;
        let f = &mut self.footage;
        let was_active = f.active;
        if frame.moved_recently >= FOOTAGE_ENTER {
            let since = *f.busy_since.get_or_insert(time);
            f.active |= time - since >= FOOTAGE_AFTER;
        } else {
            f.busy_since = None;
        }
        if frame.moved_recently < FOOTAGE_LEAVE {
            f.active = false;
        }
        let cut = self.cut_at_previous_frame(frame, cur);
        if let Some(cut) = &cut {
            self.footage.gradual.cut(cut.time);
        }
        let transition = self.footage.gradual.push(time, cur.signature.cells());
        if let State::Changing(episode) = &mut self.state {
            // A hard cut of most of the picture, or a dissolve of all of it,
            // inside a change: the change began there, whatever moves after
            // it (a video that fills the screen in a screen share).
            let whole = cut
                .as_ref()
                .filter(|c| c.strong_share >= WHOLE_SCREEN_CUT)
                .map(|c| c.time);
            // (A transition found late, that began before this change did,
            // was part of a change already judged.)
            let transition = transition
                .map(|t| t.began)
                .filter(|&t| t >= episode.began - 0.1);
            if episode.forced.is_none() {
                if let Some(t) = whole.or(transition) {
                    episode.cut.get_or_insert(t);
                }
            }
        }
        if !self.footage.active {
            if was_active {
                // Back to a screen: it is settled from here on.
                self.settle_here(cur);
            }
            return;
        }
        if !was_active {
            // Footage began: a change under way is judged now, and the
            // screen regime waits for the footage to end.
            if let State::Changing(episode) = self.state.clone() {
                self.decide(&episode, cur, step);
            }
            self.settle_here(cur);
        }
        if let (Some(Cut { time: cut_time, .. }), Some(prev)) = (cut, self.prev.clone()) {
            // The cut frame itself (a keyframe, in encoders that place one
            // at cuts), confirmed by this frame.
            step.pictures
                .push(self.cut_picture(cut_time, PictureSource::Previous, &prev));
        }
        // (A change judged in this step already pictured the transition.)
        let pictured = step.pictures.iter().any(|p| p.cause.is_event());
        if let Some(transition) = transition.filter(|_| !pictured) {
            let mut picture = self.cut_picture(transition.began, PictureSource::Current, cur);
            picture.cause = Cause::Transition;
            step.pictures.push(picture);
        }
    }

    /// A spike of change at the previous frame, confirmed by this frame
    /// changing much less (a cut, not the start of fast motion).
    fn cut_at_previous_frame(&mut self, frame: &FrameChange, cur: &Seen) -> Option<Cut> {
        let time = cur.time;
        let intervals = self.intervals_since_previous(time);
        let spike = self.is_spike(frame, intervals) && !self.scrolled(cur);
        let f = &mut self.footage;
        let confirmed = f
            .candidate
            .take()
            .filter(|cut| frame.mean_change <= 0.6 * cut.mean_change);
        if spike {
            f.candidate = Some(Cut {
                time,
                mean_change: frame.mean_change,
                strong_share: frame.strong_share,
            });
        }
        if confirmed.is_some() {
            // The cut is not the footage's motion: it must not raise the
            // bar for the next cut.
            if let Some(last) = f.recent_means.back_mut() {
                *last = frame.mean_change / intervals;
            }
        }
        f.recent_means.push_back(frame.mean_change / intervals);
        if f.recent_means.len() > RECENT_FRAMES {
            f.recent_means.pop_front();
        }
        confirmed
    }

    /// Whether this frame changed far more than any frame of the last
    /// second (the most, not the mean: an animation that steps every few
    /// frames makes a spike of each step against the still frames between).
    fn is_spike(&self, frame: &FrameChange, intervals: f64) -> bool {
        let recent = &self.footage.recent_means;
        let baseline = if recent.len() < 3 {
            f64::INFINITY
        } else {
            recent.iter().copied().fold(0.0, f64::max) * intervals
        };
        frame.mean_change >= at_default::CUT_MEAN * self.scale()
            && frame.mean_change >= at_default::CUT_RATIO * baseline.max(1.0)
    }

    /// How many frame intervals lie between the previous frame and `time`
    /// (1 when every picture is decoded; 2 across a skipped disposable
    /// picture), bounded so that a pause in a variable-rate stream does not
    /// hide a cut.
    fn intervals_since_previous(&mut self, time: f64) -> f64 {
        let Some(prev) = &self.prev else {
            return 1.0;
        };
        let gap = time - prev.time;
        if gap <= 1e-4 {
            return 1.0;
        }
        let interval = self
            .footage
            .frame_interval
            .map_or(gap, |known| known.min(gap));
        self.footage.frame_interval = Some(interval);
        (gap / interval).round().clamp(1.0, MAX_INTERVALS)
    }

    /// Whether `cur` is the previous frame scrolled (a burst of terminal
    /// output or a wheel scroll changes most of the picture at once, and is
    /// no cut).
    fn scrolled(&self, cur: &Seen) -> bool {
        let Some(prev) = &self.prev else {
            return false;
        };
        let c = compare(&prev.signature, &cur.signature, &self.cells.active, true);
        c.scroll.is_some()
    }

    fn cut_picture(&mut self, cut: f64, source: PictureSource, seen: &Seen) -> ScreenPicture {
        self.published = Some(seen.clone());
        ScreenPicture {
            cause: Cause::ShotCut,
            event_time: cut,
            source,
            picture_time: seen.time,
            score: 1.0,
        }
    }

    /// Screen regime: episodes, their pictures, and update pictures.
    fn screen_step(&mut self, seen: &Seen, frame: &FrameChange, step: &mut ScreenStep) {
        let (cur, time) = (&seen.signature, seen.time);
        // A still frame of a settled screen is the screen before the next
        // change (kept after this step's decisions, which may show the one
        // kept before).
        let still = frame.novel_share == 0.0 && matches!(self.state, State::Settled { .. });
        self.note_first_changes(cur, time);
        let moving = frame.novel_share > SMALL_SHARE;
        if frame.novel_share > 0.0 && !moving {
            if let Some(bounds) = self.novel_bounds(cur.cells_x()) {
                self.pointer = Some((bounds, time));
            }
        }
        match &mut self.state {
            State::Settled {
                last_drift_check,
                last_motion,
                dirty,
            } => {
                // Motion for update pictures: anything more than a pointer or
                // a caret that is not yet known as activity.
                if frame.novel_share > 0.0 {
                    *dirty = true;
                }
                if frame.novel_share > SMALL_SHARE / 2.0 {
                    *last_motion = time;
                }
                let drift_due = time - *last_drift_check >= DRIFT_EVERY;
                if drift_due {
                    *last_drift_check = time;
                }
                let (quiet_for, was_dirty) = (time - *last_motion, *dirty);
                if moving || (drift_due && self.drifted(cur)) {
                    self.state = State::Changing(Episode {
                        began: time,
                        start: time,
                        last_motion: time,
                        forced: None,
                        before: self.still.clone(),
                        cut: None,
                        pointer: self.pointer,
                    });
                } else if was_dirty && quiet_for >= self.options.update_settle {
                    if let State::Settled { dirty, .. } = &mut self.state {
                        *dirty = false;
                    }
                    self.update_check(seen, PictureSource::Current, step);
                }
            }
            State::Changing(episode) => {
                if moving {
                    episode.last_motion = time;
                }
                let settled = time - episode.last_motion >= self.options.settle;
                let bounded = time - episode.start >= self.options.bound;
                if settled || bounded {
                    if let State::Changing(episode) = self.state.clone() {
                        self.decide(&episode, seen, step);
                    }
                }
            }
        }
        if still && matches!(self.state, State::Settled { .. }) {
            self.keep_as_still(seen, step);
        }
    }

    /// `seen` is the screen before the next change: the caller keeps its
    /// frame, which `still` stands for.
    fn keep_as_still(&mut self, seen: &Seen, step: &mut ScreenStep) {
        self.still = Some(seen.clone());
        step.keep_current = true;
    }

    /// Whether the screen drifted from the settled one (a slow fade).
    fn drifted(&self, cur: &FrameSignature) -> bool {
        let Some(reference) = &self.reference else {
            return false;
        };
        let changed: u32 = reference
            .signature
            .cells()
            .iter()
            .zip(cur.cells())
            .zip(&self.cells.active)
            .map(|((&r, &c), &act)| (r.abs_diff(c) >= CELL_CHANGE && !act) as u32)
            .sum();
        changed as f64 > SMALL_SHARE * cur.cells().len() as f64
    }

    fn note_first_changes(&mut self, cur: &FrameSignature, time: f64) {
        let Some(reference) = &self.reference else {
            return;
        };
        let now = millis(time);
        for ((first, &r), &c) in self
            .first_change
            .iter_mut()
            .zip(reference.signature.cells())
            .zip(cur.cells())
        {
            // Branch-free, so that it vectorises: the earliest time wins.
            let changed = -((r.abs_diff(c) >= CELL_CHANGE) as i32);
            *first = (*first).min((now & changed) | (i32::MAX & !changed));
        }
    }

    /// Judges a finished change on the settled screen `seen`.
    fn decide(&mut self, episode: &Episode, seen: &Seen, step: &mut ScreenStep) {
        let settled = seen.time - episode.last_motion >= self.options.settle;
        if let Some(cause) = episode.forced {
            self.publish(
                ScreenPicture {
                    cause,
                    event_time: episode.start,
                    source: PictureSource::Current,
                    picture_time: seen.time,
                    score: 1.0,
                },
                seen,
                step,
            );
            self.settle_here(seen);
            return;
        }
        let Some(reference) = self.reference.clone() else {
            self.settle_here(seen);
            return;
        };
        if let Some(cut) = episode.cut {
            let cause = if settled {
                Cause::ScreenChange
            } else {
                Cause::ShotCut
            };
            if let Some(before) = &episode.before {
                self.update_check(before, PictureSource::Kept, step);
            }
            let picture = ScreenPicture {
                cause,
                event_time: cut,
                source: PictureSource::Current,
                picture_time: seen.time,
                score: 1.0,
            };
            self.publish(picture, seen, step);
            self.settle_here(seen);
            return;
        }
        let mask = self.settled_mask(seen.time);
        let change = compare(&reference.signature, &seen.signature, &mask, true);
        // When each cell of the change first changed.
        let times: Vec<i32> = change
            .cells
            .iter()
            .map(|&c| self.first_change[c as usize])
            .collect();
        let sudden = suddenness(&times);
        // Seconds of motion before it settled: a log scrolling for seconds
        // ends far from where it began, and is still activity.
        let lasted = seen.time - episode.began;
        let cause = self.event_cause(&change, settled, sudden);
        let cause = cause.filter(|_| lasted < LONG_MOTION || sudden >= at_default::SUDDEN);
        // A small overlay that went away (a notification, a menu, a
        // tooltip) leaves the screen the agent was last shown as new.
        let cause = cause.filter(|_| {
            change.changed_share() >= overlay_share(&seen.signature)
                || !(self.back_to(self.last_event.as_ref(), seen)
                    || self.back_to(self.overlay_base.as_ref(), seen))
        });
        // A small box in a corner of the screen over unchanged content is
        // a notification (every desktop puts them there): not a new screen.
        let notification = in_notification_area(&change, &seen.signature);
        let cause = cause.filter(|_| !notification);
        let cause = cause.filter(|_| !self.under_pointer(&change, episode, &reference, seen));
        if let Some(cause) = cause {
            // The screen before the change may hold content the agent has
            // not seen (a build finished just before a switch).
            if let Some(before) = &episode.before {
                self.update_check(before, PictureSource::Kept, step);
            }
            let event_time = match cause {
                Cause::ScrollJump => episode.start,
                _ => event_time(&times, episode.start),
            };
            self.publish(
                ScreenPicture {
                    cause,
                    event_time,
                    source: PictureSource::Current,
                    picture_time: seen.time,
                    score: change.changed_share().min(1.0),
                },
                seen,
                step,
            );
        } else if settled || change.scroll.is_some() {
            // Not a new screen: it may have built up. Its update picture
            // waits for the screen to stay still (`update_settle`) or for
            // the next change (which pictures the screen before it), so
            // that a build in steps is pictured once, finished.
            // A scroll (not to another screenful) that explains the change
            // settles it too, even while something else still moves: a
            // video or an animation carried along by the page, not yet
            // known as activity where it is now. The scrolled screen is the
            // reference from here on, so that what moves is judged against
            // it, not against the page before the scroll, which no shift
            // explains once the moving region is no longer masked where it
            // was.
            let overlay =
                change.changed_share() < overlay_share(&seen.signature) && change.scroll.is_none();
            let base = self.reference.clone().filter(|_| overlay);
            // A notification (a small filled box in a corner) is no
            // content built up: no update picture shows it (it is masked
            // from their comparison until the screen settles elsewhere).
            let popup = change.bounds.filter(|_| overlay && notification);
            self.settle_here(seen);
            // The screen it settled on is the one before the next change,
            // even if something keeps moving and no still frame follows (a
            // video carried along by a scroll).
            self.keep_as_still(seen, step);
            self.overlay_base = base;
            self.popup = popup;
            if let State::Settled { dirty, .. } = &mut self.state {
                *dirty = popup.is_none();
            }
            return;
        } else if self.still_moving_outside_activity(seen.time) {
            // At the bound, a change that is still under way is not judged
            // (nor pictured: an animation would be pictured again and
            // again): the screen before it stays the reference, and it is
            // judged when it settles or at the next bound.
            if let State::Changing(open) = &mut self.state {
                open.start = seen.time;
            }
            return;
        }
        self.settle_here(seen);
    }

    /// The bounding box of the cells that moved in the last frame outside
    /// active regions (cells; x1, y1 exclusive).
    fn novel_bounds(&self, cells_x: usize) -> Option<CellBox> {
        let (changed, active) = (&self.cells.changed, &self.cells.active);
        let novel = |i: usize| changed[i] && !active[i];
        // Whole chunks first (a branch-free fold the compiler vectorises):
        // this runs on every frame with a pointer-sized motion.
        const CHUNK: usize = 64;
        let any = |c: usize| {
            let range = c * CHUNK..((c + 1) * CHUNK).min(changed.len());
            changed[range.clone()]
                .iter()
                .zip(&active[range])
                .fold(false, |acc, (&c, &a)| acc | (c & !a))
        };
        let chunks = changed.len().div_ceil(CHUNK);
        let first_chunk = (0..chunks).find(|&c| any(c))?;
        let last_chunk = (first_chunk..chunks).rev().find(|&c| any(c))?;
        let first = (first_chunk * CHUNK..).find(|&i| novel(i))?;
        let last = (first..((last_chunk + 1) * CHUNK).min(changed.len()))
            .rev()
            .find(|&i| novel(i))?;
        let (y0, y1) = (first / cells_x, last / cells_x + 1);
        let (mut x0, mut x1) = (cells_x, 0);
        for y in y0..y1 {
            for x in 0..cells_x {
                if novel(y * cells_x + x) {
                    (x0, x1) = (x0.min(x), x1.max(x + 1));
                }
            }
        }
        Some((x0, y0, x1, y1))
    }

    /// Whether a change looks like a hover effect: a compact, recoloured
    /// region, with
    /// a pointer-sized motion inside or next to it just before it began (a
    /// highlight drawn under the pointer as it enters or leaves an element).
    fn under_pointer(
        &self,
        change: &Comparison,
        episode: &Episode,
        reference: &Seen,
        seen: &Seen,
    ) -> bool {
        let screen = &seen.signature;
        let Some((pointer, at)) = episode.pointer else {
            return false;
        };
        let pointers = [self.pointer_at_reference, episode.pointer, self.pointer];
        let (before, after) = (reference.signature.cells(), screen.cells());
        // Cells that changed clearly: an encoder coding text again (a
        // keyframe) moves cells all over the screen a little.
        let clear = |i: usize| before[i].abs_diff(after[i]) >= 2 * CELL_CHANGE;
        let Some(region) = bounds_besides(change, screen.cells_x(), &pointers, clear) else {
            return false;
        };
        let (x0, y0, x1, y1) = region;
        let total = (screen.cells_x() * screen.cells_y()).max(1) as f64;
        let pixels = (screen.width() * screen.height()).max(1) as f64;
        let hover_box = HOVER_BOX.max(HOVER_PIXELS / pixels);
        let compact = ((x1 - x0) * (y1 - y0)) as f64 / total <= hover_box;
        let near = overlaps(pointer, grown(region, POINTER_MARGIN));
        // The pointer moved just before the change, or moved off where it
        // rested as the change began (leaving an element un-highlights it
        // in the pointer's first step).
        let cells_x = screen.cells_x();
        let left = || {
            change
                .cells
                .iter()
                .any(|&i| contains(pointer, i as usize % cells_x, i as usize / cells_x))
        };
        let moved = at >= episode.began - HOVER_LEAD || left();
        // A highlight mostly recolours (a border drawn around it replaces a
        // little): a pointer-sized change is also where typing happens, and
        // what an editor then draws over it, adding and replacing, is no
        // hover.
        let drawn = change.replaced + change.removed + change.added;
        let recoloured = change.shaded as f64 >= RECOLOURED * drawn as f64;
        recoloured && compact && near && moved
    }

    /// Whether `seen` shows `earlier` again (outside activity).
    fn back_to(&self, earlier: Option<&Seen>, seen: &Seen) -> bool {
        let Some(last) = earlier else {
            return false;
        };
        if !last.signature.same_size(&seen.signature) {
            return false;
        }
        let mask = self.settled_mask(seen.time);
        compare(&last.signature, &seen.signature, &mask, false).changed_share() <= SMALL_SHARE
    }

    /// Whether cells outside active regions moved within `STILL_MOVING`.
    fn still_moving_outside_activity(&self, time: f64) -> bool {
        let recent = millis(time - STILL_MOVING);
        let moving = self
            .cells
            .active
            .iter()
            .zip(&self.cells.last_moved)
            .filter(|(&active, &moved)| !active && moved > recent)
            .count();
        moving as f64 > SMALL_SHARE * self.cells.active.len() as f64
    }

    /// Cells not to judge a change on: active regions, and cells still
    /// moving (a picture taken at the bound, in continuous motion).
    fn settled_mask(&self, time: f64) -> Vec<bool> {
        let recent = millis(time - STILL_MOVING);
        let moving: Vec<bool> = self
            .cells
            .active
            .iter()
            .zip(&self.cells.last_moved)
            .map(|(&active, &moved)| active || moved > recent)
            .collect();
        let (cx, cy) = self
            .prev
            .as_ref()
            .map_or((0, 0), |p| (p.signature.cells_x(), p.signature.cells_y()));
        dilate(&moving, cx, cy, MASK_MARGIN)
    }

    /// Whether a settled change makes a new screen, and why.
    fn event_cause(&self, change: &Comparison, settled: bool, sudden: f64) -> Option<Cause> {
        let scale = self.scale();
        let replaced = change.replaced_share();
        // How much of the change is new structure rather than a shade laid
        // over the same content (a hover highlight).
        let structural = replaced / (replaced + change.shaded_share()).max(f64::MIN_POSITIVE);
        if change.scroll.is_some() {
            // A jump brings other content: mostly new structure. (Rows of
            // look-alike boxes, highlighted one after the other under a
            // pointer, can also match a shift.)
            return (change.exposed_share() >= at_default::SCROLL_EXPOSED
                && change.changed_share() >= 10.0 * at_default::REPLACED * scale
                && structural >= 0.5)
                .then_some(Cause::ScrollJump);
        }
        // How much of the change replaced content rather than adding to it.
        let replacing = replaced / (replaced + change.added_share()).max(f64::MIN_POSITIVE);
        let most_changed = change.changed_share() >= at_default::MOST_CHANGED;
        let event = if settled {
            // Most of the screen changed (a window switch); much of the
            // screen's content replaced; or, on a sparse screen
            // (a slide with a few lines), most of its content; or a small
            // part replaced at once (a tab of an editor, a renamed box).
            (most_changed && structural >= at_default::STRUCTURAL)
                || (replaced >= at_default::REPLACED * scale
                    && (replacing >= at_default::REPLACING
                        || change.replaced_of_content() >= at_default::REPLACED_OF_CONTENT)
                    && (structural >= at_default::STRUCTURAL
                        || replaced >= at_default::REPLACED_MUCH))
                || (replaced >= at_default::REPLACED_SPARSE * scale
                    && change.content_changed() >= at_default::CONTENT_CHANGED
                    && replacing >= 0.5
                    && structural >= at_default::STRUCTURAL)
                || (replaced >= at_default::REPLACED_AT_ONCE * scale
                    && sudden >= at_default::SUDDEN
                    && replacing >= 0.5
                    && structural >= at_default::STRUCTURAL)
                || (replaced >= at_default::REPLACED * scale
                    && sudden >= at_default::SUDDEN
                    && change.replaced_of_content() >= at_default::REDRAWN_OF_CONTENT
                    && replaced + change.added_share() >= at_default::REDRAWN * scale)
                || (change.changed_share() >= at_default::REPLACED * scale
                    && sudden >= at_default::SUDDEN
                    && is_drawing(change))
        } else {
            replaced >= at_default::REPLACED_IN_MOTION * scale
        };
        let added = change.added_share() >= at_default::ADDED * scale;
        let repainted = change.shaded_share() >= at_default::REPAINTED;
        (event || added || repainted).then_some(Cause::ScreenChange)
    }

    /// Writes an update picture of `seen` if it differs enough from the last
    /// picture written.
    fn update_check(&mut self, seen: &Seen, source: PictureSource, step: &mut ScreenStep) {
        let Some(published) = &self.published else {
            return;
        };
        if !published.signature.same_size(&seen.signature) {
            return;
        }
        // A still frame from before the last picture (the screen has not
        // been still since, e.g. a video plays in it) is older content,
        // not the scene's final one: shown after that picture, it would be
        // the scene's last.
        if seen.time < published.time {
            return;
        }
        let mask = self.mask_popup(&self.cells.active, seen.signature.cells_x());
        let c = compare(&published.signature, &seen.signature, &mask, false);
        let needed = ((at_default::UPDATE_BLOCKS as f64) * self.scale())
            .round()
            .max(1.0) as usize;
        // A pointer that moved, or a caret, is not content to show again.
        let enough = c.changed_share() >= at_default::UPDATE_SHARE * self.scale();
        if c.coarse_blocks >= needed && enough {
            self.publish(
                ScreenPicture {
                    cause: Cause::Update,
                    event_time: seen.time,
                    source,
                    picture_time: seen.time,
                    score: c.changed_share().min(1.0),
                },
                seen,
                step,
            );
        }
    }

    /// `mask` with the notification's box (and a cell around it) masked.
    fn mask_popup(&self, mask: &[bool], cells_x: usize) -> Vec<bool> {
        let mut out = mask.to_vec();
        if let Some(popup) = self.popup {
            let (x0, y0, x1, y1) = grown(popup, 1);
            let rows = out.len() / cells_x.max(1);
            for y in y0..y1.min(rows) {
                for x in x0..x1.min(cells_x) {
                    out[y * cells_x + x] = true;
                }
            }
        }
        out
    }

    fn publish(&mut self, picture: ScreenPicture, seen: &Seen, step: &mut ScreenStep) {
        self.published = Some(seen.clone());
        if picture.cause.is_event() {
            self.last_event = Some(seen.clone());
        }
        step.pictures.push(picture);
    }

    /// The screen is settled at `seen`: it becomes the reference.
    fn settle_here(&mut self, seen: &Seen) {
        let time = seen.time;
        self.reference = Some(seen.clone());
        self.overlay_base = None;
        self.popup = None;
        self.pointer_at_reference = self.pointer;
        self.first_change.fill(i32::MAX);
        self.state = State::Settled {
            last_drift_check: time,
            last_motion: time,
            dirty: false,
        };
    }
}

/// The cells within `margin` of a masked cell (a video's edges, softened by
/// the encoder, change with it without being learned as active).
fn dilate(mask: &[bool], cells_x: usize, cells_y: usize, margin: usize) -> Vec<bool> {
    if cells_x * cells_y != mask.len() || margin == 0 {
        return mask.to_vec();
    }
    // Rows, then columns: a square neighbourhood.
    let mut rows = vec![false; mask.len()];
    for y in 0..cells_y {
        let row = &mask[y * cells_x..(y + 1) * cells_x];
        for (x, out) in rows[y * cells_x..(y + 1) * cells_x].iter_mut().enumerate() {
            let (lo, hi) = (x.saturating_sub(margin), (x + margin + 1).min(cells_x));
            *out = row[lo..hi].iter().any(|&m| m);
        }
    }
    let mut out = vec![false; mask.len()];
    for y in 0..cells_y {
        let (lo, hi) = (y.saturating_sub(margin), (y + margin + 1).min(cells_y));
        for x in 0..cells_x {
            out[y * cells_x + x] = (lo..hi).any(|yy| rows[yy * cells_x + x]);
        }
    }
    out
}

/// The bounding box (cells, x1 and y1 exclusive) of a change's cells
/// that `counts` besides those within two cells of where the pointer was
/// (`pointers`): the pointer that moved leaves cells at its old and new
/// places.
fn bounds_besides(
    change: &Comparison,
    cells_x: usize,
    pointers: &[Option<Pointer>],
    counts: impl Fn(usize) -> bool,
) -> Option<CellBox> {
    let boxes: Vec<CellBox> = pointers.iter().flatten().map(|p| grown(p.0, 2)).collect();
    let near_pointer = |x: usize, y: usize| boxes.iter().any(|&b| contains(b, x, y));
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for &i in &change.cells {
        let (x, y) = (i as usize % cells_x, i as usize / cells_x);
        if counts(i as usize) && !near_pointer(x, y) {
            (x0, y0) = (x0.min(x), y0.min(y));
            (x1, y1) = (x1.max(x + 1), y1.max(y + 1));
        }
    }
    (x1 > 0).then_some((x0, y0, x1, y1))
}

/// The largest share of a change's cells that changed in one frame: 1 for
/// a switch, small for typing or a fade.
fn suddenness(first_change: &[i32]) -> f64 {
    let mut times: Vec<i32> = first_change
        .iter()
        .copied()
        .filter(|&t| t != i32::MAX)
        .collect();
    if times.is_empty() {
        return 0.0;
    }
    times.sort_unstable();
    let (mut best, mut run) = (1, 1);
    for w in times.windows(2) {
        run = if w[0] == w[1] { run + 1 } else { 1 };
        best = best.max(run);
    }
    best as f64 / times.len() as f64
}

/// Seconds as whole milliseconds (per-cell times are kept as 32-bit
/// integers so that the per-frame loops vectorise; they span ±24 days).
fn millis(seconds: f64) -> i32 {
    (seconds * 1000.0).round() as i32
}

/// When a change began. The cells of the change first differed from the
/// screen before it at various times (a pointer crossing the region, then a
/// click redrawing it; or the frames of a fade): the change began at the
/// frame where most of them changed, or earlier if the frames before it
/// kept changing many cells too (a transition, counted from its start).
fn event_time(first_change: &[i32], fallback: f64) -> f64 {
    let mut times: Vec<f64> = first_change
        .iter()
        .filter(|&&t| t != i32::MAX)
        .map(|&t| t as f64 / 1000.0)
        .collect();
    times.sort_by(f64::total_cmp);
    let mut counts: Vec<(f64, usize)> = Vec::new();
    for t in times {
        match counts.last_mut() {
            Some((last, n)) if *last == t => *n += 1,
            _ => counts.push((t, 1)),
        }
    }
    let Some(peak) = counts
        .iter()
        .enumerate()
        .max_by_key(|(_, c)| c.1)
        .map(|(i, _)| i)
    else {
        return fallback;
    };
    // Walk back over the frames that changed many cells too (a transition),
    // then to a first, smaller change just before (the shell's newline
    // before vim draws, a menu closing before the page changes).
    let floor = (counts[peak].1 / 10).max(1);
    let mut start = peak;
    while start > 0 && counts[start - 1].1 >= floor {
        start -= 1;
    }
    let lead_floor = (counts[peak].1 / 100).max(3);
    let lead_from = counts[start].0 - LEAD_IN;
    counts[..start]
        .iter()
        .find(|&&(t, n)| t >= lead_from && n >= lead_floor)
        .map_or(counts[start].0, |&(t, _)| t)
}

#[cfg(test)]
mod tests;
