//! The stateful scorer the pipeline pushes decoded frames into.

use crate::adaptive::{AdaptiveScorer, AdaptiveTuning, Cues};
use crate::error::SceneError;
use crate::ffmpeg::FfmpegScore;
use crate::kernel::Kernel;
use crate::measures::ChangeMeasures;
use crate::plane::LumaPlane;
use crate::scan::{FrameDiff, FrameScanner, Measures};

/// Frames at least this large are split across rayon's pool when parallel
/// scanning is on; below it threads cost more than they save.
const PARALLEL_MIN_PIXELS: usize = 2560 * 1440;

/// Which scoring rule to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detector {
    /// SAD + strong-block share + histogram against recent history, with
    /// fade, scroll and minimum-scene-length vetoes (see `adaptive`).
    #[default]
    Default,
    /// ffmpeg's `select` scene score, to 1e-4, with its strict `>` threshold.
    Ffmpeg,
}

/// What the detector concluded about one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to compare with: the first frame, or the first after a size
    /// change or `reset`.
    FirstFrame,
    /// Below the threshold.
    BelowThreshold,
    /// A scene cut.
    Cut,
    /// Above the threshold, within `min_scene_frames` of the last cut.
    TooSoon,
    /// Above the threshold, but one brightness shift explains it (a fade).
    Fade,
    /// Above the threshold, but the frame is the previous one scrolled.
    Scroll,
}

/// The result of pushing one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameScore {
    /// 0-based index of the frame since the detector was created.
    pub index: u64,
    /// 0..=1, compared with the threshold.
    pub score: f64,
    /// The frame starts a new scene.
    pub is_cut: bool,
    /// Why it does or does not.
    pub verdict: Verdict,
    /// The raw measurements (`None` for a first frame).
    pub measures: Option<ChangeMeasures>,
    /// The default detector's cues after subtracting their recent peaks.
    pub cues: Option<Cues>,
}

/// Scores each pushed luma plane against the previous one.
///
/// The threshold is on the 0..=1 scale of ffmpeg's `scene` for both
/// detectors. In `Ffmpeg` mode it means exactly what `gt(scene, t)` means.
/// In `Default` mode a frame passes `t` when `mafd` rises `100 t` above its
/// recent peak (ffmpeg's unit), or the share of strongly changed blocks
/// rises by `t / 5`, or the histogram distance rises by `2 t`. 0.3 is the
/// tuned value for both; lower is more sensitive.
#[derive(Debug)]
pub struct SceneDetector {
    scanner: FrameScanner,
    parallel: bool,
    scoring: Scoring,
}

/// Everything but the scanner, so that a scan result (borrowed from the
/// scanner) and the scoring state can be used side by side.
#[derive(Debug)]
struct Scoring {
    detector: Detector,
    threshold: f64,
    ffmpeg: FfmpegScore,
    adaptive: AdaptiveScorer,
    next_index: u64,
}

impl SceneDetector {
    /// ffmpeg's usual `select='gt(scene,0.3)'`.
    pub const DEFAULT_THRESHOLD: f64 = 0.3;

    /// `threshold` must be a number in 0..=1.
    pub fn new(detector: Detector, threshold: f64) -> Result<Self, SceneError> {
        if !(0.0..=1.0).contains(&threshold) {
            return Err(SceneError::BadThreshold(threshold));
        }
        Ok(SceneDetector {
            scanner: FrameScanner::new(Kernel::best()).measuring(Measures::for_detector(detector)),
            parallel: false,
            scoring: Scoring {
                detector,
                threshold,
                ffmpeg: FfmpegScore::default(),
                adaptive: AdaptiveScorer::new(AdaptiveTuning::default()),
                next_index: 0,
            },
        })
    }

    /// Another kernel (for tests and benchmarks); an unavailable one falls
    /// back to a slower kernel that this CPU runs.
    pub fn with_kernel(mut self, kernel: Kernel) -> Self {
        self.scanner = FrameScanner::new(kernel).measuring(self.scanner.measures());
        self
    }

    /// Splits frames of 1440p and larger across rayon's thread pool.
    pub fn with_parallel(mut self, parallel: bool) -> Self {
        self.parallel = parallel;
        self
    }

    /// Replaces the default detector's constants.
    pub fn with_tuning(mut self, tuning: AdaptiveTuning) -> Self {
        self.scoring.adaptive = AdaptiveScorer::new(tuning);
        self
    }

    /// Which rule it applies.
    pub fn detector(&self) -> Detector {
        self.scoring.detector
    }

    /// The threshold in force.
    pub fn threshold(&self) -> f64 {
        self.scoring.threshold
    }

    /// The default detector's constants.
    pub fn tuning(&self) -> &AdaptiveTuning {
        self.scoring.adaptive.tuning()
    }

    /// Forgets the previous frame: the next one scores as a first frame.
    pub fn reset(&mut self) {
        self.scanner.reset();
        self.scoring.adaptive.restart();
    }

    /// Scores `plane` against the previous frame and keeps a copy of it.
    /// A plane that does not fit its buffer is refused and changes nothing.
    pub fn push(&mut self, plane: &LumaPlane<'_>) -> Result<FrameScore, SceneError> {
        self.scanner
            .set_parallel(self.parallel && plane.pixel_count() >= PARALLEL_MIN_PIXELS);
        let diff = self.scanner.scan(plane)?;
        Ok(self.scoring.conclude(diff))
    }

    /// Like `push`, for callers that still hold the previous frame (owned
    /// decoded pictures): `cur` is scored against `prev` and no copy is made,
    /// which saves a third of the per-frame time at 1080p. `prev` should be
    /// the frame given last; if it is not, it is profiled first (one extra
    /// pass) and the comparison is still exact. Mixing with `push` restarts
    /// the comparison (the first `push` after this scores as a first frame).
    pub fn push_after(
        &mut self,
        prev: &LumaPlane<'_>,
        cur: &LumaPlane<'_>,
    ) -> Result<FrameScore, SceneError> {
        self.scanner
            .set_parallel(self.parallel && cur.pixel_count() >= PARALLEL_MIN_PIXELS);
        if !self.scanner.continues_with(cur) {
            // A new size or a new stream: history from before means nothing.
            self.scoring.adaptive.restart();
        }
        let diff = self.scanner.scan_after(prev, cur)?;
        Ok(self.scoring.conclude(Some(diff)))
    }
}

impl SceneDetector {
    /// Concludes a comparison made elsewhere (a [`FrameScanner`] on another
    /// thread, as the GOP-parallel offline analysis does); `None` means the
    /// frame has nothing to compare with. Scores exactly as `push` would,
    /// given a scan that measured what this detector reads
    /// ([`Measures::for_detector`]).
    ///
    /// [`Measures::for_detector`]: crate::scan::Measures::for_detector
    ///
    /// [`FrameScanner`]: crate::scan::FrameScanner
    pub fn push_diff(&mut self, diff: Option<&FrameDiff>) -> FrameScore {
        self.scoring.conclude(diff)
    }
}

impl Scoring {
    /// Turns a scan (`None`: nothing to compare with) into a score.
    fn conclude(&mut self, diff: Option<&FrameDiff>) -> FrameScore {
        let index = self.next_index;
        self.next_index += 1;
        let mut result = FrameScore {
            index,
            score: 0.0,
            is_cut: false,
            verdict: Verdict::FirstFrame,
            measures: None,
            cues: None,
        };
        match (self.detector, diff) {
            (Detector::Ffmpeg, diff) => {
                result.score = self.ffmpeg.next(diff.map(|d| d.mafd()));
                if diff.is_some() {
                    result.verdict = if FfmpegScore::is_cut(result.score, self.threshold) {
                        Verdict::Cut
                    } else {
                        Verdict::BelowThreshold
                    };
                }
            }
            (Detector::Default, None) => self.adaptive.restart(),
            (Detector::Default, Some(diff)) => {
                let (score, cues, verdict, measures) = self.adaptive.score(diff, self.threshold);
                result = FrameScore {
                    score,
                    verdict,
                    measures: Some(measures),
                    cues: Some(cues),
                    ..result
                };
            }
        }
        result.is_cut = result.verdict == Verdict::Cut;
        result
    }
}
