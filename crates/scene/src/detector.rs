//! ffmpeg's `select` scene score as a stateful scorer (`--detector ffmpeg`).

use crate::error::SceneError;
use crate::ffmpeg::FfmpegScore;
use crate::kernel::Kernel;
use crate::plane::LumaPlane;
use crate::scan::{FrameDiff, FrameScanner, Measures};

/// Frames at least this large are split across rayon's pool when parallel
/// scanning is on; below it threads cost more than they save.
const PARALLEL_MIN_PIXELS: usize = 2560 * 1440;

/// Which rule picks the pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detector {
    /// New screens with settled pictures, and update pictures
    /// ([`ScreenEvents`](crate::ScreenEvents)).
    #[default]
    Default,
    /// ffmpeg's `select` scene score, to 1e-4, with its strict `>` threshold
    /// ([`SceneDetector`]): the frame at each cut.
    Ffmpeg,
}

/// What the scorer concluded about one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to compare with: the first frame, or the first after a size
    /// change or `reset`.
    FirstFrame,
    /// Below the threshold.
    BelowThreshold,
    /// A scene cut.
    Cut,
}

/// The result of pushing one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameScore {
    /// 0-based index of the frame since the scorer was created.
    pub index: u64,
    /// 0..=1, compared with the threshold.
    pub score: f64,
    /// The frame starts a new scene.
    pub is_cut: bool,
    /// Why it does or does not.
    pub verdict: Verdict,
}

/// Scores each pushed luma plane against the previous one as ffmpeg's
/// `select` filter does: the threshold means exactly what `gt(scene, t)`
/// means.
#[derive(Debug)]
pub struct SceneDetector {
    scanner: FrameScanner,
    parallel: bool,
    threshold: f64,
    ffmpeg: FfmpegScore,
    next_index: u64,
}

impl SceneDetector {
    /// ffmpeg's usual `select='gt(scene,0.3)'`.
    pub const DEFAULT_THRESHOLD: f64 = 0.3;

    /// `threshold` must be a number in 0..=1.
    pub fn new(threshold: f64) -> Result<Self, SceneError> {
        if !(0.0..=1.0).contains(&threshold) {
            return Err(SceneError::BadThreshold(threshold));
        }
        Ok(SceneDetector {
            scanner: FrameScanner::new(Kernel::best()).measuring(Measures::SadOnly),
            parallel: false,
            threshold,
            ffmpeg: FfmpegScore::default(),
            next_index: 0,
        })
    }

    /// Another kernel (for tests and benchmarks); an unavailable one falls
    /// back to a slower kernel that this CPU runs.
    pub fn with_kernel(mut self, kernel: Kernel) -> Self {
        self.scanner = FrameScanner::new(kernel).measuring(Measures::SadOnly);
        self
    }

    /// Splits frames of 1440p and larger across rayon's thread pool.
    pub fn with_parallel(mut self, parallel: bool) -> Self {
        self.parallel = parallel;
        self
    }

    /// The threshold in force.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Forgets the previous frame: the next one scores as a first frame.
    pub fn reset(&mut self) {
        self.scanner.reset();
    }

    /// Scores `plane` against the previous frame and keeps a copy of it.
    /// A plane that does not fit its buffer is refused and changes nothing.
    pub fn push(&mut self, plane: &LumaPlane<'_>) -> Result<FrameScore, SceneError> {
        self.scanner
            .set_parallel(self.parallel && plane.pixel_count() >= PARALLEL_MIN_PIXELS);
        let mafd = self.scanner.scan(plane)?.map(FrameDiff::mafd);
        Ok(self.conclude(mafd))
    }

    /// Like `push`, for callers that still hold the previous frame (owned
    /// decoded pictures): `cur` is scored against `prev` and no copy is made,
    /// which saves a third of the per-frame time at 1080p. Mixing with
    /// `push` restarts the comparison (the first `push` after this scores as
    /// a first frame).
    pub fn push_after(
        &mut self,
        prev: &LumaPlane<'_>,
        cur: &LumaPlane<'_>,
    ) -> Result<FrameScore, SceneError> {
        self.scanner
            .set_parallel(self.parallel && cur.pixel_count() >= PARALLEL_MIN_PIXELS);
        let mafd = self.scanner.scan_after(prev, cur)?.mafd();
        Ok(self.conclude(Some(mafd)))
    }

    /// Concludes a comparison made elsewhere (a [`FrameScanner`] on another
    /// thread, as the GOP-parallel offline analysis does); `None` means the
    /// frame has nothing to compare with. Scores exactly as `push` would.
    pub fn push_diff(&mut self, diff: Option<&FrameDiff>) -> FrameScore {
        self.conclude(diff.map(FrameDiff::mafd))
    }

    /// Turns a mean absolute frame difference (`None`: nothing to compare
    /// with) into a score.
    fn conclude(&mut self, mafd: Option<f64>) -> FrameScore {
        let index = self.next_index;
        self.next_index += 1;
        let score = self.ffmpeg.next(mafd);
        let verdict = match mafd {
            None => Verdict::FirstFrame,
            Some(_) if FfmpegScore::is_cut(score, self.threshold) => Verdict::Cut,
            Some(_) => Verdict::BelowThreshold,
        };
        FrameScore {
            index,
            score,
            is_cut: verdict == Verdict::Cut,
            verdict,
        }
    }
}
