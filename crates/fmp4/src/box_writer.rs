//! Appending ISO-BMFF boxes to a byte buffer: big-endian fields and boxes
//! whose size is patched in when they are closed.

/// Big-endian field writers for a growing buffer.
pub(crate) trait PutBe {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u32(&mut self, v: u32);
    fn put_u64(&mut self, v: u64);
    fn put_i32(&mut self, v: i32);
    fn put_zeros(&mut self, n: usize);
}

impl PutBe for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_i32(&mut self, v: i32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_zeros(&mut self, n: usize) {
        self.resize(self.len() + n, 0);
    }
}

/// Starts a box; returns its start offset for [`end_box`].
pub(crate) fn begin_box(buf: &mut Vec<u8>, fourcc: &[u8; 4]) -> usize {
    let start = buf.len();
    buf.put_u32(0);
    buf.extend_from_slice(fourcc);
    start
}

/// Starts a full box (version + 24-bit flags).
pub(crate) fn begin_full_box(
    buf: &mut Vec<u8>,
    fourcc: &[u8; 4],
    version: u8,
    flags: u32,
) -> usize {
    let start = begin_box(buf, fourcc);
    buf.put_u32((u32::from(version) << 24) | (flags & 0x00ff_ffff));
    start
}

/// Closes the box started at `start` by writing its size. Boxes built here
/// are init-segment and `moof` boxes, far below 4 GiB.
pub(crate) fn end_box(buf: &mut [u8], start: usize) {
    let size = (buf.len() - start) as u32;
    buf[start..start + 4].copy_from_slice(&size.to_be_bytes());
}

/// Overwrites a big-endian u32 written earlier (e.g. a `trun` data offset).
pub(crate) fn patch_u32(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_boxes_get_their_sizes() {
        let mut buf = Vec::new();
        let outer = begin_box(&mut buf, b"moov");
        let inner = begin_full_box(&mut buf, b"mvhd", 1, 0x020001);
        buf.put_u16(7);
        end_box(&mut buf, inner);
        end_box(&mut buf, outer);
        assert_eq!(&buf[..8], &[0, 0, 0, 22, b'm', b'o', b'o', b'v']);
        assert_eq!(
            &buf[8..20],
            &[0, 0, 0, 14, b'm', b'v', b'h', b'd', 1, 2, 0, 1]
        );
        assert_eq!(&buf[20..], &[0, 7]);
    }
}
