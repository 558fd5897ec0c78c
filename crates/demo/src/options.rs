//! What the caller can choose about the demo stream.

use std::time::Duration;

use crate::DemoError;

/// Picture size, frame rate, slide pacing and length of the demo.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Picture width in pixels (even, 64..=3840).
    pub width: u32,
    /// Picture height in pixels (even, 64..=2160).
    pub height: u32,
    /// Frames per second (1..=60).
    pub fps: u32,
    /// Seconds each slide stays on screen (at least one frame's worth).
    pub slide_secs: f64,
    /// Stop after this much media time; `None` runs until told to stop.
    pub duration: Option<Duration>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            width: 1280,
            height: 720,
            fps: 30,
            slide_secs: 4.0,
            duration: None,
        }
    }
}

impl DemoOptions {
    /// Rejects settings the renderer, encoder or muxer cannot honour.
    pub fn validate(&self) -> Result<(), DemoError> {
        let bad = |why: String| Err(DemoError::InvalidOptions(why));
        // Even sizes keep 4:2:0 chroma and the 2x2 drawing grid exact.
        if !(64..=3840).contains(&self.width) || self.width & 1 == 1 {
            return bad(format!(
                "width {} must be even and within 64..=3840",
                self.width
            ));
        }
        if !(64..=2160).contains(&self.height) || self.height & 1 == 1 {
            return bad(format!(
                "height {} must be even and within 64..=2160",
                self.height
            ));
        }
        if !(1..=60).contains(&self.fps) {
            return bad(format!("fps {} must be within 1..=60", self.fps));
        }
        if !self.slide_secs.is_finite() || self.slide_secs * (self.fps as f64) < 1.0 {
            return bad(format!(
                "slide_secs {} must last at least one frame",
                self.slide_secs
            ));
        }
        Ok(())
    }

    /// Frames per slide, rounded to whole frames so switches land on frames.
    pub fn frames_per_slide(&self) -> u64 {
        ((self.slide_secs * self.fps as f64).round() as u64).max(1)
    }

    /// Number of video frames to produce, `None` for an endless stream.
    pub fn total_frames(&self) -> Option<u64> {
        self.duration
            .map(|d| (d.as_secs_f64() * self.fps as f64).round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_720p30_with_4s_slides() {
        let o = DemoOptions::default();
        o.validate().expect("defaults are valid");
        assert_eq!(o.frames_per_slide(), 120);
        assert_eq!(o.total_frames(), None);
        let five = DemoOptions {
            duration: Some(Duration::from_secs(5)),
            ..o
        };
        assert_eq!(five.total_frames(), Some(150));
    }

    #[test]
    fn rejects_odd_sizes_and_zero_rates() {
        let o = DemoOptions::default();
        assert!(DemoOptions {
            width: 1279,
            ..o.clone()
        }
        .validate()
        .is_err());
        assert!(DemoOptions {
            height: 0,
            ..o.clone()
        }
        .validate()
        .is_err());
        assert!(DemoOptions {
            fps: 0,
            ..o.clone()
        }
        .validate()
        .is_err());
        assert!(DemoOptions {
            slide_secs: f64::NAN,
            ..o.clone()
        }
        .validate()
        .is_err());
        assert!(DemoOptions {
            slide_secs: 0.01,
            ..o
        }
        .validate()
        .is_err());
    }
}
