//! Decoded pictures and how their samples map to colours.

/// The YUV -> RGB matrix a stream signals (`matrix_coefficients`, H.273).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatrixCoefficients {
    /// Not signalled: converted as BT.601, libswscale's default, which is
    /// how untagged streams were made.
    #[default]
    Unspecified,
    /// BT.709 (HD).
    Bt709,
    /// BT.601 (values 5 and 6, and FCC 4 which is close enough).
    Bt601,
    /// BT.2020 non-constant luminance.
    Bt2020,
    /// Anything else (RGB/YCgCo/SMPTE 240M...): treated as unspecified.
    Other(u8),
}

impl MatrixCoefficients {
    /// The matrix for an H.273 `matrix_coefficients` code, as H.264, HEVC
    /// and MPEG-2 video all signal it.
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Bt709,
            4..=6 => Self::Bt601,
            9 => Self::Bt2020,
            2 => Self::Unspecified,
            c => Self::Other(c),
        }
    }
}

/// How the samples of a picture map to colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ColourInfo {
    /// `video_full_range_flag`: 0..255 instead of 16..235 / 16..240.
    pub full_range: bool,
    /// The YUV -> RGB matrix.
    pub matrix: MatrixCoefficients,
}

/// One decoded picture, YUV 4:2:0 8-bit, in display order.
///
/// The planes are owned copies packed without padding (`y_stride == width`,
/// `uv_stride == (width + 1) / 2`), so a picture can be sent to other
/// threads and outlive the decoder. Samples are limited range (16..235)
/// BT.601/BT.709 unless [`Picture::colour`] says otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// Presentation time, 90 kHz, from the packet it was coded in.
    pub pts: i64,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Luma plane, `y_stride * height` bytes.
    pub y: Vec<u8>,
    /// Cb plane, `uv_stride * (height + 1) / 2` bytes.
    pub u: Vec<u8>,
    /// Cr plane, same size as `u`.
    pub v: Vec<u8>,
    /// Bytes per luma row.
    pub y_stride: usize,
    /// Bytes per chroma row.
    pub uv_stride: usize,
    /// Range and matrix signalled by the stream.
    pub colour: ColourInfo,
}

impl Picture {
    /// Width and height of the chroma planes.
    pub fn chroma_size(&self) -> (usize, usize) {
        (self.width.div_ceil(2), self.height.div_ceil(2))
    }
}
