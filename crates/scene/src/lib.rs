//! Which decoded pictures an agent should see, from 8-bit luma planes.
//!
//! What it is for: the caller *pushes* each decoded picture, in order, and
//! is told which ones to write. Two rules ([`Detector`]):
//! - [`ScreenEvents`] (the default): new screens, not frame differences. It
//!   works on each frame's [`FrameSignature`] (cell means and band row sums,
//!   one SIMD pass), learns the regions that keep changing, waits for a
//!   change to settle before taking its picture, tells replaced content
//!   (an event) from added content (an update), scrolls from jumps, and
//!   footage cuts and dissolves from screen activity (see `screen`).
//! - [`SceneDetector`]: ffmpeg's `select` scene score, to 1e-4, with its
//!   strict `>` threshold: the frame at each cut.
//!
//! What it is not for: decoding (planes come from a decoder), colour (luma
//! only), writing JPEGs.
//!
//! Speed at 1080p on one core: a signature costs ~18 µs and the default
//! detector's step ~25 µs; ffmpeg mode's SAD pass ~45 µs (`psadbw` kernels
//! chosen at run time, [`Kernel`]; every SIMD path is checked against the
//! scalar reference by property tests).

mod blocks;
mod detector;
mod error;
mod ffmpeg;
mod kernel;
mod plane;
pub mod scan;
mod screen;
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

pub use blocks::BLOCK;
pub use detector::{Detector, FrameScore, SceneDetector, Verdict};
pub use error::SceneError;
pub use kernel::Kernel;
pub use plane::{LumaPlane, OwnedLumaPlane};
pub use screen::{
    hard_cut, Cause, PictureSource, ScreenEvents, ScreenOptions, ScreenPicture, ScreenStep,
};
pub use signature::FrameSignature;
