//! Why a plane or a setting was refused.

/// Errors of this crate. Bad planes are refused before any pixel is read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SceneError {
    #[error("empty plane ({width}x{height})")]
    EmptyPlane { width: usize, height: usize },
    #[error("stride {stride} is smaller than width {width}")]
    StrideTooSmall { stride: usize, width: usize },
    #[error("plane needs {needed} bytes, buffer has {got}")]
    ShortPlane { needed: usize, got: usize },
    #[error("plane geometry overflows usize")]
    PlaneTooLarge,
    #[error("planes differ in size: {a_width}x{a_height} vs {b_width}x{b_height}")]
    SizeMismatch {
        a_width: usize,
        a_height: usize,
        b_width: usize,
        b_height: usize,
    },
    #[error("threshold {0} is not a number in 0..=1")]
    BadThreshold(f64),
    #[error("row buffers differ in length or lane count")]
    RowMismatch,
}
