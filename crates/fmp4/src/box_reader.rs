//! Reading ISO-BMFF boxes: top-level headers straight from a seekable
//! source, and fields/children of a box payload already in memory.
//!
//! Everything here treats input as untrusted: sizes are checked against
//! what is really there before anything is read or allocated.

use std::io::{self, Read, Seek, SeekFrom};

use crate::error::Fmp4Error;

/// Where a box sits in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BoxHeader {
    pub fourcc: [u8; 4],
    pub start: u64,
    pub header_len: u64,
    pub size: u64,
}

impl BoxHeader {
    pub(crate) fn end(&self) -> u64 {
        self.start.saturating_add(self.size)
    }

    pub(crate) fn payload_start(&self) -> u64 {
        self.start + self.header_len
    }

    pub(crate) fn payload_len(&self) -> u64 {
        self.size - self.header_len
    }
}

/// The outcome of looking for a box header at some offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderRead {
    Box(BoxHeader),
    /// Exactly at the end of the data.
    End,
    /// Some bytes remain, but not a whole header.
    Truncated,
    /// The bytes there cannot be a box header.
    Invalid(&'static str),
}

/// Box types are four printable ASCII characters (`©` types only occur
/// deep inside metadata, never where this reader looks).
fn is_plausible_fourcc(fourcc: &[u8; 4]) -> bool {
    fourcc.iter().all(|&c| (0x20..0x7f).contains(&c))
}

/// Reads the header of the box starting at `start` in a source `file_len` long.
pub(crate) fn read_box_header<R: Read + Seek>(
    src: &mut R,
    start: u64,
    file_len: u64,
) -> io::Result<HeaderRead> {
    let remaining = file_len.saturating_sub(start);
    if remaining == 0 {
        return Ok(HeaderRead::End);
    }
    if remaining < 8 {
        return Ok(HeaderRead::Truncated);
    }
    // Only the 8-byte header is read (16 with a 64-bit size): probing must
    // not pull in sample data.
    let mut head = [0u8; 8];
    src.seek(SeekFrom::Start(start))?;
    src.read_exact(&mut head)?;
    let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let fourcc = [head[4], head[5], head[6], head[7]];
    if !is_plausible_fourcc(&fourcc) {
        return Ok(HeaderRead::Invalid("box type is not printable"));
    }
    let (header_len, size) = match size32 {
        0 => (8, remaining),
        1 if remaining < 16 => return Ok(HeaderRead::Truncated),
        1 => {
            let mut large = [0u8; 8];
            src.read_exact(&mut large)?;
            (16, u64::from_be_bytes(large))
        }
        s => (8, u64::from(s)),
    };
    if size < header_len {
        return Ok(HeaderRead::Invalid("box smaller than its header"));
    }
    Ok(HeaderRead::Box(BoxHeader {
        fourcc,
        start,
        header_len,
        size,
    }))
}

/// Reads a whole box payload; the caller has checked it lies inside the file.
pub(crate) fn read_payload<R: Read + Seek>(src: &mut R, header: &BoxHeader) -> io::Result<Vec<u8>> {
    let len = usize::try_from(header.payload_len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "box too large for memory"))?;
    src.seek(SeekFrom::Start(header.payload_start()))?;
    let mut payload = vec![0u8; len];
    src.read_exact(&mut payload)?;
    Ok(payload)
}

/// Big-endian field reader over one box payload. Running past the end is a
/// typed error naming the box.
#[derive(Debug, Clone)]
pub(crate) struct FieldReader<'a> {
    data: &'a [u8],
    pos: usize,
    fourcc: [u8; 4],
}

impl<'a> FieldReader<'a> {
    pub(crate) fn new(fourcc: [u8; 4], data: &'a [u8]) -> Self {
        FieldReader {
            data,
            pos: 0,
            fourcc,
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], Fmp4Error> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end =
            end.ok_or_else(|| Fmp4Error::malformed(&self.fourcc, "field past the end of the box"))?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn skip(&mut self, n: usize) -> Result<(), Fmp4Error> {
        self.bytes(n).map(|_| ())
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let out = &self.data[self.pos..];
        self.pos = self.data.len();
        out
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Fmp4Error> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Fmp4Error> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, Fmp4Error> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Fmp4Error> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn i32(&mut self) -> Result<i32, Fmp4Error> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Fmp4Error> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub(crate) fn fourcc(&mut self) -> Result<[u8; 4], Fmp4Error> {
        self.array()
    }

    /// Version and flags of a full box.
    pub(crate) fn full_box_header(&mut self) -> Result<(u8, u32), Fmp4Error> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0x00ff_ffff))
    }

    /// A 32-bit field in version 0, 64-bit in version 1.
    pub(crate) fn u32_or_u64(&mut self, version: u8) -> Result<u64, Fmp4Error> {
        if version == 1 {
            self.u64()
        } else {
            self.u32().map(u64::from)
        }
    }
}

/// The child boxes inside a payload, as (type, payload). Iteration stops at
/// the first child that does not fit its parent.
pub(crate) fn child_boxes(payload: &[u8]) -> ChildBoxes<'_> {
    ChildBoxes {
        data: payload,
        pos: 0,
    }
}

pub(crate) struct ChildBoxes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for ChildBoxes<'a> {
    type Item = ([u8; 4], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.data.get(self.pos..)?;
        if rest.len() < 8 {
            return None;
        }
        let size32 = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let fourcc = [rest[4], rest[5], rest[6], rest[7]];
        let (header_len, size) = match size32 {
            0 => (8usize, rest.len() as u64),
            1 => {
                let large: [u8; 8] = rest.get(8..16)?.try_into().ok()?;
                (16, u64::from_be_bytes(large))
            }
            s => (8, u64::from(s)),
        };
        if size < header_len as u64 || size > rest.len() as u64 {
            self.pos = self.data.len();
            return None;
        }
        let size = size as usize;
        self.pos += size;
        Some((fourcc, &rest[header_len..size]))
    }
}

/// The payload of the first child of type `fourcc`.
pub(crate) fn find_child<'a>(payload: &'a [u8], fourcc: &[u8; 4]) -> Option<&'a [u8]> {
    child_boxes(payload)
        .find(|(t, _)| t == fourcc)
        .map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn reads_headers_and_flags_truncation() {
        let mut data = vec![0, 0, 0, 12, b'f', b'r', b'e', b'e', 1, 2, 3, 4];
        data.extend_from_slice(&[0, 0, 0, 1, b'm', b'd', b'a', b't', 0, 0, 0, 0, 0, 0, 0, 20]);
        let len = data.len() as u64;
        let mut src = Cursor::new(data);
        let HeaderRead::Box(free) = read_box_header(&mut src, 0, len).unwrap() else {
            panic!()
        };
        assert_eq!((free.fourcc, free.size, free.end()), (*b"free", 12, 12));
        let HeaderRead::Box(mdat) = read_box_header(&mut src, 12, len).unwrap() else {
            panic!()
        };
        assert_eq!((mdat.header_len, mdat.size), (16, 20));
        assert!(
            mdat.end() > len,
            "the caller sees the box runs past the end"
        );
        assert_eq!(
            read_box_header(&mut src, len, len).unwrap(),
            HeaderRead::End
        );
        assert_eq!(
            read_box_header(&mut src, len - 3, len).unwrap(),
            HeaderRead::Truncated
        );
    }

    #[test]
    fn rejects_garbage_headers() {
        let data = [
            0, 0, 0, 4, b'f', b'r', b'e', b'e', 0, 0, 0, 9, 0xff, 0, 0, 0,
        ];
        let mut src = Cursor::new(&data[..]);
        assert!(matches!(
            read_box_header(&mut src, 0, 16).unwrap(),
            HeaderRead::Invalid(_)
        ));
        assert!(matches!(
            read_box_header(&mut src, 8, 16).unwrap(),
            HeaderRead::Invalid(_)
        ));
    }

    #[test]
    fn child_iteration_stops_at_an_overlong_child() {
        let data = [
            0, 0, 0, 9, b'a', b'b', b'c', b'd', 7, 0, 0, 0, 99, b'e', b'f', b'g', b'h',
        ];
        let kids: Vec<_> = child_boxes(&data).collect();
        assert_eq!(kids, vec![(*b"abcd", &[7u8][..])]);
    }

    #[test]
    fn field_reader_reports_the_box() {
        let mut r = FieldReader::new(*b"tkhd", &[1, 2, 3]);
        assert_eq!(r.u16().unwrap(), 0x0102);
        let err = r.u32().unwrap_err().to_string();
        assert!(err.contains("tkhd"), "{err}");
    }
}
