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
//! refuses is read again by [`parse_pmt_streams`], which checks the CRC.
//! Every program of the PAT is followed; what each stream is, is decided by
//! `streams.rs` from its stream type and descriptors.

use std::cell::Cell;
use std::io::Read;

use mpeg2ts::ts::{ReadTsPacket, TsPacketReader, TsPayload};

use crate::error::PsiError;
use crate::packet::TS_PACKET_LEN;

/// One elementary stream of a PMT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EsInfo {
    pub stream_type: u8,
    pub pid: u16,
    /// (tag, payload) of each descriptor of the ES info loop.
    pub descriptors: Vec<(u8, Vec<u8>)>,
}

impl EsInfo {
    /// The payload of the first descriptor with `tag`.
    pub fn descriptor(&self, tag: u8) -> Option<&[u8]> {
        self.descriptors
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, d)| d.as_slice())
    }
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
    /// The last payload parsed, per PMT PID.
    last_pmt: Vec<(u16, Vec<u8>)>,
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
    /// Parses a PAT packet: `Some(pmt_pids)` of every program, in table
    /// order, when the table is new; `None` when it repeats the last one.
    pub fn pat(
        &mut self,
        packet: &[u8; TS_PACKET_LEN],
        payload: &[u8],
        unit_start: bool,
    ) -> Result<Option<Vec<u16>>, PsiError> {
        if !unit_start {
            return Err(PsiError::SectionContinuation);
        }
        if payload == self.last_pat.as_slice() {
            return Ok(None);
        }
        let TsPayload::Pat(pat) = self.read(packet)? else {
            return Err(PsiError::UnexpectedPayload("PAT"));
        };
        let mut pids: Vec<u16> = Vec::new();
        for program in pat.table.iter().filter(|p| p.program_num != 0) {
            let pid = program.program_map_pid.as_u16();
            if !pids.contains(&pid) {
                pids.push(pid);
            }
        }
        if pids.is_empty() {
            return Err(PsiError::NoProgram);
        }
        remember(&mut self.last_pat, payload);
        Ok(Some(pids))
    }

    /// Parses a PMT packet of `pid`: `Some(streams)` when the table is
    /// new, `None` when it repeats the last one of that PID.
    pub fn pmt(
        &mut self,
        pid: u16,
        packet: &[u8; TS_PACKET_LEN],
        payload: &[u8],
        unit_start: bool,
    ) -> Result<Option<Vec<EsInfo>>, PsiError> {
        if !unit_start {
            return Err(PsiError::SectionContinuation);
        }
        let last = self.last_pmt.iter().find(|(p, _)| *p == pid);
        if last.is_some_and(|(_, last)| payload == last.as_slice()) {
            return Ok(None);
        }
        if !program_info_fits(payload) {
            return Err(PsiError::ProgramInfoOverrun);
        }
        let streams: Vec<EsInfo> = match self.read(packet) {
            Ok(TsPayload::Pmt(pmt)) => pmt
                .es_info
                .into_iter()
                .map(|es| EsInfo {
                    stream_type: es.stream_type as u8,
                    pid: es.elementary_pid.as_u16(),
                    descriptors: es
                        .descriptors
                        .into_iter()
                        .map(|d| (d.tag, d.data))
                        .collect(),
                })
                .collect(),
            Ok(_) => return Err(PsiError::UnexpectedPayload("PMT")),
            Err(e) => parse_pmt_streams(payload).ok_or(e)?,
        };
        match self.last_pmt.iter_mut().find(|(p, _)| *p == pid) {
            Some((_, last)) => remember(last, payload),
            None => self.last_pmt.push((pid, payload.to_vec())),
        }
        Ok(Some(streams))
    }

    /// Forgets the PMTs of PIDs no longer announced, so a PMT that comes
    /// back is applied even if identical.
    pub fn keep_pmts(&mut self, pids: &[u16]) {
        self.last_pmt.retain(|(p, _)| pids.contains(p));
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

/// Every stream of a one-packet PMT section whose CRC is right, whatever
/// the stream types are.
fn parse_pmt_streams(payload: &[u8]) -> Option<Vec<EsInfo>> {
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
        let mut info = es.get(5..5 + info_len)?;
        let mut descriptors = Vec::new();
        while let [tag, len, rest @ ..] = info {
            let data = rest.get(..usize::from(*len))?;
            descriptors.push((*tag, data.to_vec()));
            info = &rest[data.len()..];
        }
        streams.push(EsInfo {
            stream_type: es[0],
            pid,
            descriptors,
        });
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
