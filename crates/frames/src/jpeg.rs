//! Pictures to JPEG bytes.

use cht_core::Picture;
use jpeg_encoder::{ColorType, Encoder};

use crate::error::FramesError;
use crate::yuv_to_rgb::{yuv420_to_rgb, YuvMatrix};

/// Good enough to read text on a shared screen, about 100-200 KB at 1080p.
pub const DEFAULT_QUALITY: u8 = 85;

/// Encodes a picture as a baseline JFIF JPEG (4:2:0 below quality 90).
pub fn encode_jpeg(picture: &Picture, quality: u8) -> Result<Vec<u8>, FramesError> {
    let too_big = |n: usize| {
        u16::try_from(n)
            .map_err(|_| FramesError::BadPicture(format!("{n} pixels is too large for JPEG")))
    };
    let (width, height) = (too_big(picture.width)?, too_big(picture.height)?);
    let mut rgb = Vec::new();
    yuv420_to_rgb(picture, &YuvMatrix::for_picture(picture), &mut rgb)?;
    let mut jpeg = Vec::with_capacity(rgb.len() / 10);
    Encoder::new(&mut jpeg, quality.clamp(1, 100)).encode(&rgb, width, height, ColorType::Rgb)?;
    Ok(jpeg)
}
