//! Scene-change scoring on 8-bit luma planes.
//!
//! What it is for: deciding, frame by frame, whether a decoded picture starts
//! a new scene, so that the pipeline keeps a JPEG of it. The caller *pushes*
//! one luma plane at a time into a stateful [`SceneDetector`] and gets a
//! [`FrameScore`] back at once (no look-ahead, no lag); the detector keeps
//! its own copy of the previous frame, so planes can be borrowed from a
//! decoder's buffers with any stride.
//!
//! Two rules: [`Detector::Ffmpeg`] reproduces ffmpeg's `select` scene score
//! (to 1e-4); [`Detector::Default`] is built for screen sharing as well as
//! camera footage: it also sees slide switches where only text changes, and
//! ignores cursors, typing, pop-ups, scrolling and fades (see `adaptive`).
//!
//! What it is not for: decoding (planes come from the H.264 crate), colour
//! (luma only), writing JPEGs, or shot-boundary detection that needs future
//! frames (dissolves, flashes shorter than the minimum scene length are
//! reported at their start).
//!
//! Speed: every measurement comes from one pass over the two planes
//! ([`scan`]), with `psadbw` kernels chosen at run time ([`Kernel`]). At
//! 1080p on one core, with [`SceneDetector::push_after`] (no copy), the
//! default detector's score costs ~55-62 µs (the bare SAD, i.e. the memory
//! traffic, is ~44 µs of it; the rest is block SADs, row profiles and the
//! histogram), and ffmpeg mode, which needs only the SAD
//! ([`scan::Measures::SadOnly`]), ~45 µs. [`SceneDetector::push`] also
//! copies the frame (~35 µs more). Every SIMD path is checked against
//! [`scalar`] by property tests.
//!
//! Thresholds are on ffmpeg's 0..=1 `scene` scale for both rules; 0.3 is the
//! default (see [`SceneDetector`] for what it means in each).

mod adaptive;
mod blocks;
mod detector;
mod error;
mod ffmpeg;
mod kernel;
mod measures;
mod plane;
pub mod scan;
mod screen;
mod scroll;
mod signature;
mod simd_wide;
#[cfg(target_arch = "x86_64")]
mod simd_x86;

// Not part of the API: the scalar reference kernels, the histogram and the
// synthetic screens are this crate's test scaffolding, public only for its
// property tests, benches and examples.
#[doc(hidden)]
pub mod histogram;
#[doc(hidden)]
pub mod scalar;
#[doc(hidden)]
pub mod synthetic;

pub use adaptive::{AdaptiveTuning, Cues};
pub use blocks::BLOCK;
pub use detector::{Detector, FrameScore, SceneDetector, Verdict};
pub use error::SceneError;
pub use kernel::Kernel;
pub use measures::ChangeMeasures;
pub use plane::{LumaPlane, OwnedLumaPlane};
pub use screen::{Cause, PictureSource, ScreenEvents, ScreenOptions, ScreenPicture, ScreenStep};
pub use signature::FrameSignature;
