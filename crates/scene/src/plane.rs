//! 8-bit luma planes, borrowed from a decoder or owned by the detector.

use crate::error::SceneError;

/// A borrowed 8-bit luma plane. Rows are `stride` bytes apart and the first
/// `width` bytes of each row are pixels; decoders pad rows (1984 for 1920).
#[derive(Debug, Clone, Copy)]
pub struct LumaPlane<'a> {
    /// The samples, row after row.
    pub data: &'a [u8],
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Bytes from one row to the next (at least `width`).
    pub stride: usize,
}

impl<'a> LumaPlane<'a> {
    /// Checks the geometry once, so that row access never goes out of bounds.
    pub fn new(
        data: &'a [u8],
        width: usize,
        height: usize,
        stride: usize,
    ) -> Result<Self, SceneError> {
        let plane = LumaPlane {
            data,
            width,
            height,
            stride,
        };
        plane.validate()?;
        Ok(plane)
    }

    /// A tightly packed plane (`stride == width`).
    pub fn packed(data: &'a [u8], width: usize, height: usize) -> Result<Self, SceneError> {
        Self::new(data, width, height, width)
    }

    /// Fails unless every row `0..height` has `width` readable bytes.
    pub fn validate(&self) -> Result<(), SceneError> {
        if self.width == 0 || self.height == 0 {
            return Err(SceneError::EmptyPlane {
                width: self.width,
                height: self.height,
            });
        }
        if self.stride < self.width {
            return Err(SceneError::StrideTooSmall {
                stride: self.stride,
                width: self.width,
            });
        }
        let needed = (self.height - 1)
            .checked_mul(self.stride)
            .and_then(|n| n.checked_add(self.width))
            .ok_or(SceneError::PlaneTooLarge)?;
        if self.data.len() < needed {
            return Err(SceneError::ShortPlane {
                needed,
                got: self.data.len(),
            });
        }
        Ok(())
    }

    /// Rows `y0..y0 + rows` as a plane of their own (a view, no copy).
    pub fn rows(&self, y0: usize, rows: usize) -> Result<LumaPlane<'a>, SceneError> {
        let start = y0
            .checked_mul(self.stride)
            .ok_or(SceneError::PlaneTooLarge)?;
        let data = self.data.get(start..).ok_or(SceneError::ShortPlane {
            needed: start,
            got: self.data.len(),
        })?;
        LumaPlane::new(data, self.width, rows, self.stride)
    }

    /// The pixels of row `y` (without stride padding). Callers validate first.
    pub(crate) fn row(&self, y: usize) -> &'a [u8] {
        let start = y * self.stride;
        &self.data[start..start + self.width]
    }

    /// `width * height`.
    pub fn pixel_count(&self) -> usize {
        self.width * self.height
    }

    /// True when both planes have the same width and height.
    pub fn same_size(&self, other: &LumaPlane<'_>) -> bool {
        self.width == other.width && self.height == other.height
    }
}

/// An owned, tightly packed luma plane: the detector's copy of the previous
/// frame, and a convenient holder for test and benchmark pictures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedLumaPlane {
    /// The samples, rows packed (`stride == width`).
    pub data: Vec<u8>,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
}

impl OwnedLumaPlane {
    /// Copies `plane` without its stride padding.
    pub fn copy_from(plane: &LumaPlane<'_>) -> Self {
        let mut data = Vec::with_capacity(plane.pixel_count());
        for y in 0..plane.height {
            data.extend_from_slice(plane.row(y));
        }
        OwnedLumaPlane {
            data,
            width: plane.width,
            height: plane.height,
        }
    }

    /// Takes packed pixels; fails if `data` is not exactly `width * height`.
    pub fn from_packed(data: Vec<u8>, width: usize, height: usize) -> Result<Self, SceneError> {
        LumaPlane::packed(&data, width, height)?;
        if data.len() != width * height {
            return Err(SceneError::ShortPlane {
                needed: width * height,
                got: data.len(),
            });
        }
        Ok(OwnedLumaPlane {
            data,
            width,
            height,
        })
    }

    /// The plane, borrowed.
    pub fn as_plane(&self) -> LumaPlane<'_> {
        LumaPlane {
            data: &self.data,
            width: self.width,
            height: self.height,
            stride: self.width,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_planes_that_do_not_fit_their_buffer() {
        let data = vec![0u8; 100];
        assert!(LumaPlane::new(&data, 10, 10, 10).is_ok());
        // The last row needs only `width` bytes, not a whole stride.
        assert!(LumaPlane::new(&data, 8, 10, 11).is_err());
        assert!(LumaPlane::new(&data[..91], 1, 10, 10).is_ok());
        assert!(matches!(
            LumaPlane::new(&data, 11, 2, 10),
            Err(SceneError::StrideTooSmall { .. })
        ));
        assert!(matches!(
            LumaPlane::new(&data, 0, 2, 10),
            Err(SceneError::EmptyPlane { .. })
        ));
        assert!(matches!(
            LumaPlane::new(&data, 10, 11, 10),
            Err(SceneError::ShortPlane { .. })
        ));
        assert!(matches!(
            LumaPlane::new(&data, 10, usize::MAX, usize::MAX / 2),
            Err(SceneError::PlaneTooLarge)
        ));
    }

    #[test]
    fn row_views_stay_inside_the_plane() {
        let data: Vec<u8> = (0..40).collect();
        let plane = LumaPlane::new(&data, 3, 5, 8).unwrap();
        let band = plane.rows(2, 3).unwrap();
        assert_eq!((band.row(0), band.row(2)), (&data[16..19], &data[32..35]));
        assert!(plane.rows(3, 3).is_err());
        assert!(plane.rows(usize::MAX, 1).is_err());
    }

    #[test]
    fn owned_copy_drops_the_padding() {
        let data: Vec<u8> = (0..24).collect();
        let plane = LumaPlane::new(&data, 3, 3, 8).unwrap();
        let owned = OwnedLumaPlane::copy_from(&plane);
        assert_eq!(owned.data, [0, 1, 2, 8, 9, 10, 16, 17, 18]);
    }
}
