//! PES reassembly from transport payloads, and the PES header fields the
//! demuxer needs (PTS, DTS, where the elementary stream starts).

use crate::error::PesError;

/// Largest PES kept in memory; a bigger one is dropped (a 4K intra frame at
/// high quality stays well below this).
pub(crate) const MAX_PES_BYTES: usize = 16 << 20;

/// First allocation for a PES of unknown size.
const MIN_CAPACITY: usize = 4096;

/// A whole PES packet, header included.
#[derive(Debug)]
pub(crate) struct CompletePes {
    pub bytes: Vec<u8>,
    /// Packets of it were lost, or it ended before its declared length.
    pub damaged: bool,
    /// Leading bytes received before the first loss (all, when undamaged).
    pub intact_len: usize,
}

/// What became of payload bytes pushed into an assembler.
#[derive(Debug)]
pub(crate) enum PesOutput {
    Complete(CompletePes),
    /// Continuation bytes with no PES start to attach to.
    Orphan {
        bytes: usize,
        first_of_run: bool,
    },
    /// A PES outgrew [`MAX_PES_BYTES`] or did not start with a start code;
    /// its bytes so far were dropped and the rest is skipped.
    Dropped {
        bytes: usize,
    },
}

/// The PES length its header declares, once its first 6 bytes are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeclaredLength {
    NotYetKnown,
    /// `PES_packet_length == 0`: ends at the next unit start.
    Unbounded,
    /// Total bytes, the 6-byte prefix included.
    Total(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Assembly {
    Idle,
    /// `intact` is the length before the first loss, once packets were lost.
    Collecting {
        length: DeclaredLength,
        intact: Option<usize>,
    },
    /// Skipping until the next payload_unit_start.
    Discarding,
}

/// Reassembles the PES packets of one PID.
#[derive(Debug)]
pub(crate) struct PesAssembler {
    buf: Vec<u8>,
    state: Assembly,
    /// Size of the last PES, to allocate the next one in one go.
    size_hint: usize,
    /// Sequence number of the packet that started the PES under assembly,
    /// so flushes at end of stream keep arrival order across PIDs.
    pub started_at: u64,
}

impl Default for PesAssembler {
    fn default() -> Self {
        PesAssembler {
            buf: Vec::new(),
            state: Assembly::Idle,
            size_hint: MIN_CAPACITY,
            started_at: 0,
        }
    }
}

impl PesAssembler {
    /// Feeds one packet's payload. A payload-unit start ends the PES under
    /// assembly (the only end an unbounded video PES has).
    pub fn push(&mut self, unit_start: bool, payload: &[u8], out: &mut impl FnMut(PesOutput)) {
        if unit_start {
            self.flush(out);
            self.buf = Vec::with_capacity(self.size_hint.max(payload.len()));
            self.state = Assembly::Collecting {
                length: DeclaredLength::NotYetKnown,
                intact: None,
            };
        }
        match self.state {
            Assembly::Idle => {
                self.state = Assembly::Discarding;
                out(PesOutput::Orphan {
                    bytes: payload.len(),
                    first_of_run: true,
                })
            }
            Assembly::Discarding => out(PesOutput::Orphan {
                bytes: payload.len(),
                first_of_run: false,
            }),
            Assembly::Collecting { .. } => self.collect(payload, out),
        }
    }

    /// Marks the PES under assembly as missing packets.
    pub fn mark_damaged(&mut self) {
        if let Assembly::Collecting { intact, .. } = &mut self.state {
            intact.get_or_insert(self.buf.len());
        }
    }

    #[cfg(test)]
    pub fn is_collecting(&self) -> bool {
        matches!(self.state, Assembly::Collecting { .. })
    }

    /// Ends the PES under assembly, whole or not (end of stream, new PES).
    pub fn flush(&mut self, out: &mut impl FnMut(PesOutput)) {
        let state = std::mem::replace(&mut self.state, Assembly::Idle);
        if let Assembly::Collecting { length, intact } = state {
            let short = match length {
                DeclaredLength::Total(total) => self.buf.len() < total,
                DeclaredLength::NotYetKnown => true,
                DeclaredLength::Unbounded => false,
            };
            let intact = intact.or(short.then_some(self.buf.len()));
            self.emit(intact, out);
        }
    }

    fn collect(&mut self, payload: &[u8], out: &mut impl FnMut(PesOutput)) {
        if self.buf.len() + payload.len() > MAX_PES_BYTES {
            let bytes = self.buf.len() + payload.len();
            self.discard();
            out(PesOutput::Dropped { bytes });
            return;
        }
        self.buf.extend_from_slice(payload);
        let Assembly::Collecting { length, intact } = &mut self.state else {
            return;
        };
        if *length == DeclaredLength::NotYetKnown && self.buf.len() >= 6 {
            if self.buf[..3] != [0, 0, 1] {
                let bytes = self.buf.len();
                self.discard();
                out(PesOutput::Dropped { bytes });
                return;
            }
            *length = match u16::from_be_bytes([self.buf[4], self.buf[5]]) {
                0 => DeclaredLength::Unbounded,
                len => DeclaredLength::Total(6 + len as usize),
            };
        }
        if let DeclaredLength::Total(total) = *length {
            if self.buf.len() >= total {
                let intact = *intact;
                self.buf.truncate(total);
                self.state = Assembly::Idle;
                self.emit(intact, out);
            }
        }
    }

    fn emit(&mut self, intact: Option<usize>, out: &mut impl FnMut(PesOutput)) {
        let mut bytes = std::mem::take(&mut self.buf);
        self.size_hint = (bytes.len() + bytes.len() / 4).clamp(MIN_CAPACITY, MAX_PES_BYTES);
        // The packets cut from it keep the whole allocation alive while
        // they wait in a queue, and queues count packet bytes: no spare
        // capacity may ride along (4 KB behind a 200-byte audio frame).
        // Shrinking in place costs no copy.
        bytes.shrink_to_fit();
        let intact_len = intact.unwrap_or(bytes.len()).min(bytes.len());
        out(PesOutput::Complete(CompletePes {
            bytes,
            damaged: intact.is_some(),
            intact_len,
        }));
    }

    fn discard(&mut self) {
        self.buf = Vec::new();
        self.state = Assembly::Discarding;
    }
}

/// The fields of a PES header the demuxer uses. Timestamps are raw 33-bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PesHeader {
    pub pts: Option<u64>,
    pub dts: Option<u64>,
    /// Offset of the elementary-stream bytes.
    pub payload_offset: usize,
}

impl PesHeader {
    pub fn parse(pes: &[u8]) -> Result<PesHeader, PesError> {
        if pes.len() < 6 {
            return Err(PesError::Truncated);
        }
        if pes[..3] != [0, 0, 1] {
            return Err(PesError::NoStartCode);
        }
        if !has_optional_header(pes[3]) {
            return Ok(PesHeader {
                pts: None,
                dts: None,
                payload_offset: 6,
            });
        }
        if pes.len() < 9 {
            return Err(PesError::Truncated);
        }
        if pes[6] & 0xc0 != 0x80 {
            return Err(PesError::NotMpeg2Header);
        }
        let flags = pes[7] >> 6;
        let payload_offset = 9 + pes[8] as usize;
        let fields = pes.get(9..payload_offset).ok_or(PesError::Truncated)?;
        let pts = if flags & 0b10 != 0 {
            Some(read_timestamp(fields)?)
        } else {
            None
        };
        let dts = if flags == 0b11 {
            Some(read_timestamp(fields.get(5..).unwrap_or(&[]))?)
        } else {
            None
        };
        Ok(PesHeader {
            pts,
            dts,
            payload_offset,
        })
    }
}

/// Stream ids whose PES has no optional header (13818-1 Table 2-21).
fn has_optional_header(stream_id: u8) -> bool {
    !matches!(
        stream_id,
        0xbc | 0xbe | 0xbf | 0xf0 | 0xf1 | 0xf2 | 0xf8 | 0xff
    )
}

/// A 33-bit timestamp in its 5-byte PES form; marker bits are not checked,
/// as other demuxers do not either.
fn read_timestamp(b: &[u8]) -> Result<u64, PesError> {
    let b: &[u8; 5] = b
        .get(..5)
        .and_then(|s| s.try_into().ok())
        .ok_or(PesError::Truncated)?;
    Ok((u64::from(b[0] >> 1) & 0x07) << 30
        | u64::from(b[1]) << 22
        | u64::from(b[2] >> 1) << 15
        | u64::from(b[3]) << 7
        | u64::from(b[4] >> 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_stream::timestamp;

    fn pes(len_field: u16, pts: u64, body: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 1, 0xe0];
        v.extend_from_slice(&len_field.to_be_bytes());
        v.extend_from_slice(&[0x80, 0x80, 5]);
        v.extend_from_slice(&timestamp(0x2, pts));
        v.extend_from_slice(body);
        v
    }

    fn collect(asm: &mut PesAssembler, unit_start: bool, payload: &[u8]) -> Vec<PesOutput> {
        let mut out = Vec::new();
        asm.push(unit_start, payload, &mut |o| out.push(o));
        out
    }

    #[test]
    fn parses_pts_and_dts() {
        let p = pes(0, (1 << 33) - 5, b"xy");
        let h = PesHeader::parse(&p).unwrap();
        assert_eq!(h.pts, Some((1 << 33) - 5));
        assert_eq!(&p[h.payload_offset..], b"xy");
        let mut p2 = vec![0, 0, 1, 0xe0, 0, 0, 0x80, 0xc0, 10];
        p2.extend_from_slice(&timestamp(3, 9000));
        p2.extend_from_slice(&timestamp(1, 6000));
        let h = PesHeader::parse(&p2).unwrap();
        assert_eq!(
            (h.pts, h.dts, h.payload_offset),
            (Some(9000), Some(6000), 19)
        );
        assert_eq!(PesHeader::parse(&p2[..12]), Err(PesError::Truncated));
    }

    #[test]
    fn bounded_pes_completes_at_its_length() {
        let p = pes(8 + 300, 1, &[7; 300]);
        let mut asm = PesAssembler::default();
        assert!(collect(&mut asm, true, &p[..184]).is_empty());
        let out = collect(&mut asm, false, &p[184..]);
        assert!(matches!(&out[..], [PesOutput::Complete(c)] if c.bytes == p && !c.damaged));
        assert!(!asm.is_collecting());
    }

    #[test]
    fn unbounded_pes_ends_at_next_start_or_flush() {
        let p = pes(0, 1, &[7; 500]);
        let mut asm = PesAssembler::default();
        collect(&mut asm, true, &p[..184]);
        collect(&mut asm, false, &p[184..]);
        let out = collect(&mut asm, true, &p[..184]);
        assert!(matches!(&out[..], [PesOutput::Complete(c)] if c.bytes == p));
        let mut out = Vec::new();
        asm.flush(&mut |o| out.push(o));
        assert!(matches!(&out[..], [PesOutput::Complete(c)] if c.bytes == p[..184]));
    }

    #[test]
    fn short_bounded_pes_is_damaged_and_orphans_are_reported() {
        let p = pes(8 + 300, 1, &[7; 300]);
        let mut asm = PesAssembler::default();
        assert!(matches!(
            collect(&mut asm, false, &[1; 10])[..],
            [PesOutput::Orphan { bytes: 10, .. }]
        ));
        collect(&mut asm, true, &p[..184]);
        let out = collect(&mut asm, true, &p[..184]);
        assert!(matches!(&out[..], [PesOutput::Complete(c)] if c.damaged));
    }

    #[test]
    fn garbage_pes_is_dropped() {
        let mut asm = PesAssembler::default();
        let out = collect(&mut asm, true, &[9; 184]);
        assert!(matches!(out[..], [PesOutput::Dropped { bytes: 184 }]));
        assert!(matches!(
            collect(&mut asm, false, &[9; 184])[..],
            [PesOutput::Orphan {
                first_of_run: false,
                ..
            }]
        ));
    }
}
