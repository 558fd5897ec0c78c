//! Why a plane or a setting was refused.

/// Errors of this crate. Bad planes are refused before any pixel is read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SceneError {
    /// A plane with no pixel.
    #[error("empty plane ({width}x{height})")]
    EmptyPlane {
        /// Its width.
        width: usize,
        /// Its height.
        height: usize,
    },
    /// Rows overlap.
    #[error("stride {stride} is smaller than width {width}")]
    StrideTooSmall {
        /// Bytes from row to row.
        stride: usize,
        /// Pixels per row.
        width: usize,
    },
    /// The buffer is shorter than the plane.
    #[error("plane needs {needed} bytes, buffer has {got}")]
    ShortPlane {
        /// Bytes the geometry needs.
        needed: usize,
        /// Bytes given.
        got: usize,
    },
    /// Width, height and stride do not fit in memory sizes.
    #[error("plane geometry overflows usize")]
    PlaneTooLarge,
    /// Two planes compared have different sizes.
    #[error("planes differ in size: {a_width}x{a_height} vs {b_width}x{b_height}")]
    SizeMismatch {
        /// Width of the first.
        a_width: usize,
        /// Height of the first.
        a_height: usize,
        /// Width of the second.
        b_width: usize,
        /// Height of the second.
        b_height: usize,
    },
    /// A threshold outside 0..=1.
    #[error("threshold {0} is not a number in 0..=1")]
    BadThreshold(f64),
    /// Row buffers of different lengths.
    #[error("row buffers differ in length or lane count")]
    RowMismatch,
}
