//! PAT and PMT, parsed by the `mpeg2ts` crate one packet at a time.
//!
//! `mpeg2ts`'s reader learns which PIDs carry a PMT from the PATs it has
//! read, and refuses packets of PIDs it has not learnt. So one reader lives
//! as long as the demuxer and is fed only PAT and PMT packets, through a
//! one-packet slot: it keeps its PID map, and a bad packet costs one packet.
//! Tables repeat several times a second; a payload identical to the last one
//! parsed is not parsed again.
//!
//! Limits inherited from `mpeg2ts`: a table must fit one packet with
//! pointer_field 0. `mpeg2ts` refuses a whole PMT that names a stream_type it
//! does not know (OBS and broadcast muxers add such streams), so a PMT it
//! refuses is read again by [`parse_pmt_streams`], which checks the CRC and
//! only looks for the two stream types cht follows.

use std::cell::Cell;
use std::io::Read;

use mpeg2ts::ts::{ReadTsPacket, TsPacketReader, TsPayload};

use crate::error::PsiError;
use crate::packet::TS_PACKET_LEN;

const STREAM_TYPE_H264: u8 = 0x1b;
const STREAM_TYPE_ADTS_AAC: u8 = 0x0f;

/// The elementary streams of the program the demuxer follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ProgramMap {
    /// First H.264 stream.
    pub video_pid: Option<u16>,
    /// First AAC (ADTS) stream.
    pub audio_pid: Option<u16>,
}

/// A one-packet byte source the long-lived reader reads from.
#[derive(Debug)]
struct PacketSlot {
    bytes: Cell<[u8; TS_PACKET_LEN]>,
    pos: Cell<usize>,
}

impl PacketSlot {
    fn load(&self, packet: &[u8; TS_PACKET_LEN]) {
        self.bytes.set(*packet);
        self.pos.set(0);
    }
}

impl Read for PacketSlot {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let pos = *self.pos.get_mut();
        let rest = self.bytes.get_mut().get(pos..).unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        *self.pos.get_mut() = pos + n;
        Ok(n)
    }
}

pub(crate) struct PsiParser {
    reader: TsPacketReader<PacketSlot>,
    last_pat: Vec<u8>,
    last_pmt: Vec<u8>,
}

impl Default for PsiParser {
    fn default() -> Self {
        let slot = PacketSlot {
            bytes: Cell::new([0; TS_PACKET_LEN]),
            pos: Cell::new(0),
        };
        PsiParser {
            reader: TsPacketReader::new(slot),
            last_pat: Vec::new(),
            last_pmt: Vec::new(),
        }
    }
}

impl PsiParser {
    /// Parses a PAT packet: `Some(pmt_pid)` of the first program when the
    /// table is new, `None` when it repeats the last one.
    pub fn pat(
        &mut self,
        packet: &[u8; TS_PACKET_LEN],
        payload: &[u8],
        unit_start: bool,
    ) -> Result<Option<u16>, PsiError> {
        if !unit_start {
            return Err(PsiError::SectionContinuation);
        }
        if payload == self.last_pat.as_slice() {
            return Ok(None);
        }
        let TsPayload::Pat(pat) = self.read(packet)? else {
            return Err(PsiError::UnexpectedPayload("PAT"));
        };
        let program = pat
            .table
            .iter()
            .find(|p| p.program_num != 0)
            .ok_or(PsiError::NoProgram)?;
        remember(&mut self.last_pat, payload);
        Ok(Some(program.program_map_pid.as_u16()))
    }

    /// Parses a PMT packet: `Some(map)` when the table is new, `None` when it
    /// repeats the last one.
    pub fn pmt(
        &mut self,
        packet: &[u8; TS_PACKET_LEN],
        payload: &[u8],
        unit_start: bool,
    ) -> Result<Option<ProgramMap>, PsiError> {
        if !unit_start {
            return Err(PsiError::SectionContinuation);
        }
        if payload == self.last_pmt.as_slice() {
            return Ok(None);
        }
        if !program_info_fits(payload) {
            return Err(PsiError::ProgramInfoOverrun);
        }
        let streams: Vec<(u8, u16)> = match self.read(packet) {
            Ok(TsPayload::Pmt(pmt)) => pmt
                .es_info
                .iter()
                .map(|es| (es.stream_type as u8, es.elementary_pid.as_u16()))
                .collect(),
            Ok(_) => return Err(PsiError::UnexpectedPayload("PMT")),
            Err(e) => parse_pmt_streams(payload).ok_or(e)?,
        };
        let mut map = ProgramMap::default();
        for (stream_type, pid) in streams {
            match stream_type {
                STREAM_TYPE_H264 if map.video_pid.is_none() => map.video_pid = Some(pid),
                STREAM_TYPE_ADTS_AAC if map.audio_pid.is_none() => map.audio_pid = Some(pid),
                _ => {}
            }
        }
        remember(&mut self.last_pmt, payload);
        Ok(Some(map))
    }

    /// Forgets the last PMT, so the next one is applied even if identical
    /// (a new PMT PID was announced).
    pub fn forget_pmt(&mut self) {
        self.last_pmt.clear();
    }

    fn read(&mut self, packet: &[u8; TS_PACKET_LEN]) -> Result<TsPayload, PsiError> {
        self.reader.stream().load(packet);
        let packet = self.reader.read_ts_packet()?;
        packet
            .and_then(|p| p.payload)
            .ok_or(PsiError::UnexpectedPayload("payload"))
    }
}

/// `mpeg2ts` 0.6.1 slices the PMT's program-info loop with `split_at` on the
/// length the section claims, which panics when the claim overruns the
/// section. Such a PMT (valid CRC, bad length) is refused here first.
fn program_info_fits(payload: &[u8]) -> bool {
    // pointer_field, table_id, section_length, then 5 bytes of table syntax.
    const TABLE_DATA: usize = 1 + 3 + 5;
    let Some(&[hi, lo]) = payload.get(2..4) else {
        return true;
    };
    let section_len = usize::from(u16::from_be_bytes([hi, lo]) & 0x03ff);
    // What mpeg2ts reads as table data: the section less its header and CRC.
    let end = (1 + 3 + section_len).saturating_sub(4).min(payload.len());
    let table_data = payload.get(TABLE_DATA..end).unwrap_or(&[]);
    match table_data.get(2..4) {
        Some(&[hi, lo]) => {
            usize::from(u16::from_be_bytes([hi, lo]) & 0x03ff) <= table_data.len() - 4
        }
        _ => true, // too short: mpeg2ts reports it without panicking
    }
}

/// (stream_type, elementary PID) of every stream of a one-packet PMT section
/// whose CRC is right, whatever the stream types are.
fn parse_pmt_streams(payload: &[u8]) -> Option<Vec<(u8, u16)>> {
    let pointer = usize::from(*payload.first()?);
    let section = payload.get(1 + pointer..)?;
    if *section.first()? != 0x02 {
        return None;
    }
    let section_len =
        usize::from(u16::from_be_bytes([*section.get(1)?, *section.get(2)?]) & 0x03ff);
    let section = section.get(..3 + section_len)?;
    if section_len < 13 || crc32_mpeg2(section) != 0 {
        return None;
    }
    let program_info_len = usize::from(u16::from_be_bytes([section[10], section[11]]) & 0x03ff);
    let mut es = section.get(12 + program_info_len..section.len() - 4)?;
    let mut streams = Vec::new();
    while es.len() >= 5 {
        let pid = u16::from_be_bytes([es[1], es[2]]) & 0x1fff;
        let info_len = usize::from(u16::from_be_bytes([es[3], es[4]]) & 0x03ff);
        streams.push((es[0], pid));
        es = es.get(5 + info_len..)?;
    }
    Some(streams)
}

/// CRC-32/MPEG-2 over a whole section including its CRC: 0 when intact.
pub(crate) fn crc32_mpeg2(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn remember(last: &mut Vec<u8>, payload: &[u8]) {
    last.clear();
    last.extend_from_slice(payload);
}
