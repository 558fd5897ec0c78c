//! ffmpeg's `select` scene score, reproduced to the last bit that matters.
//!
//! libavfilter/vf_select.c (`get_scene_score`), 8-bit planar YUV or gray:
//! `mafd = sad / (w * h)` over the luma plane, `score = clip(min(mafd,
//! |mafd - prev_mafd|) / 100, 0, 1)`. The first frame has no previous picture:
//! it scores 0 and leaves `prev_mafd` at 0, so the second frame scores
//! `mafd / 100`. `prev_mafd` and the previous picture change on every frame,
//! and `gt(scene, t)` is a strict comparison.

/// The state `select` keeps between frames.
#[derive(Debug, Clone, Default)]
pub struct FfmpegScore {
    prev_mafd: f64,
}

impl FfmpegScore {
    /// Score of a frame whose mean absolute difference to the previous frame
    /// is `mafd`; `None` when there is no previous frame of the same size.
    pub fn next(&mut self, mafd: Option<f64>) -> f64 {
        let Some(mafd) = mafd else { return 0.0 };
        let diff = (mafd - self.prev_mafd).abs();
        self.prev_mafd = mafd;
        (mafd.min(diff) / 100.0).clamp(0.0, 1.0)
    }

    /// `gt(scene, threshold)`.
    pub fn is_cut(score: f64, threshold: f64) -> bool {
        score > threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_select_semantics() {
        let mut s = FfmpegScore::default();
        assert_eq!(s.next(None), 0.0);
        assert_eq!(s.next(Some(40.0)), 0.4); // prev_mafd still 0
        assert_eq!(s.next(Some(50.0)), 0.1); // min(50, 10)
        assert_eq!(s.next(Some(2.0)), 0.02); // min(2, 48)
        assert_eq!(s.next(Some(255.0)), 1.0); // clipped
        assert!(!FfmpegScore::is_cut(0.3, 0.3));
        assert!(FfmpegScore::is_cut(0.3000001, 0.3));
    }
}
