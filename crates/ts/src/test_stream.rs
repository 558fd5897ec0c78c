//! Synthetic transport streams for the unit tests: PAT/PMT written by
//! `mpeg2ts`'s writer, PES packetized by hand so tests control every field.

use std::collections::HashMap;

use mpeg2ts::es::StreamType;
use mpeg2ts::ts::payload::{Pat, Pmt};
use mpeg2ts::ts::{
    ContinuityCounter, EsInfo, Pid, ProgramAssociation, TransportScramblingControl, TsHeader,
    TsPacket, TsPacketWriter, TsPayload, VersionNumber, WriteTsPacket,
};

use crate::packet::TS_PACKET_LEN;

/// SPS of an x264 1920x1080 High@4.0 stream.
pub(crate) const SPS_1080P: &[u8] = &[
    0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00, 0x00, 0x03,
    0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc6, 0x58,
];
pub(crate) const PPS: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];

/// HEVC parameter sets of an x265 320x240 Main stream.
pub(crate) const HEVC_VPS: &[u8] = &[
    0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03,
    0x00, 0x00, 0x03, 0x00, 0x3c, 0x95, 0x98, 0x09,
];
pub(crate) const HEVC_SPS: &[u8] = &[
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03,
    0x00, 0x3c, 0xa0, 0x0a, 0x08, 0x0f, 0x16, 0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0, 0x5a, 0x02, 0x00,
    0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x32, 0x10,
];
pub(crate) const HEVC_PPS: &[u8] = &[0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40];

pub(crate) const PMT_PID: u16 = 0x1000;
pub(crate) const VIDEO_PID: u16 = 0x100;
pub(crate) const AUDIO_PID: u16 = 0x101;

/// An ADTS frame (AAC-LC stereo) with a payload that never looks like sync.
pub(crate) fn adts_frame(sample_rate: u32, payload_len: usize) -> Vec<u8> {
    let index = cht_core::aac::SAMPLE_RATES
        .iter()
        .position(|&r| r == sample_rate)
        .unwrap_or(3);
    let config = cht_core::aac::AacConfig {
        object_type: 2,
        sampling_index: index as u8,
        sample_rate,
        channel_config: 2,
    };
    let mut frame = Vec::new();
    cht_core::aac::write_adts_header(&config, payload_len, &mut frame);
    frame.extend((0..payload_len).map(|i| (i % 200) as u8 + 1));
    frame
}

/// An access unit: AUD, SPS+PPS on keyframes, one slice of `slice_len` bytes.
pub(crate) fn video_au(keyframe: bool, slice_len: usize) -> Vec<u8> {
    let mut au = vec![0, 0, 0, 1, 0x09, 0xf0];
    if keyframe {
        for nal in [SPS_1080P, PPS] {
            au.extend_from_slice(&[0, 0, 0, 1]);
            au.extend_from_slice(nal);
        }
    }
    au.extend_from_slice(&[0, 0, 1, if keyframe { 0x65 } else { 0x41 }]);
    au.extend((0..slice_len).map(|i| (i % 251) as u8 | 0x80));
    au
}

/// Writes packets one at a time, keeping continuity counters per PID.
#[derive(Default)]
pub(crate) struct StreamBuilder {
    pub packets: Vec<[u8; TS_PACKET_LEN]>,
    counters: HashMap<u16, u8>,
}

impl StreamBuilder {
    pub fn bytes(&self) -> Vec<u8> {
        self.packets.concat()
    }

    fn next_cc(&mut self, pid: u16) -> u8 {
        let cc = self.counters.entry(pid).or_insert(15);
        *cc = (*cc + 1) & 0x0f;
        *cc
    }

    fn psi(&mut self, pid: u16, payload: TsPayload) {
        let packet = TsPacket {
            header: TsHeader {
                transport_error_indicator: false,
                transport_priority: false,
                pid: Pid::new(pid).unwrap(),
                transport_scrambling_control: TransportScramblingControl::NotScrambled,
                continuity_counter: ContinuityCounter::from_u8(self.next_cc(pid)).unwrap(),
            },
            adaptation_field: None,
            payload: Some(payload),
        };
        let mut writer = TsPacketWriter::new(Vec::new());
        writer.write_ts_packet(&packet).unwrap();
        self.packets.push(writer.into_stream().try_into().unwrap());
    }

    pub fn pat(&mut self) {
        let table = vec![ProgramAssociation {
            program_num: 1,
            program_map_pid: Pid::new(PMT_PID).unwrap(),
        }];
        self.psi(
            0,
            TsPayload::Pat(Pat {
                transport_stream_id: 1,
                version_number: VersionNumber::new(),
                table,
            }),
        );
    }

    /// A PMT listing `streams` as (stream_type, pid).
    pub fn pmt(&mut self, version: u8, streams: &[(u8, u16)]) {
        let es_info = streams
            .iter()
            .map(|&(kind, pid)| EsInfo {
                stream_type: StreamType::from_u8(kind).unwrap(),
                elementary_pid: Pid::new(pid).unwrap(),
                descriptors: vec![],
            })
            .collect();
        let pmt = Pmt {
            program_num: 1,
            pcr_pid: Some(Pid::new(VIDEO_PID).unwrap()),
            version_number: VersionNumber::from_u8(version).unwrap(),
            program_info: vec![],
            es_info,
        };
        self.psi(PMT_PID, TsPayload::Pmt(pmt));
    }

    /// A video PES (unbounded, like every muxer sends video) with PTS and DTS.
    pub fn video(&mut self, pts: u64, dts: u64, au: &[u8]) {
        let pes = pes_bytes(0xe0, Some(pts), Some(dts), au, false);
        self.packetize(VIDEO_PID, &pes, false);
    }

    /// A bounded audio PES.
    pub fn audio(&mut self, pts: u64, es: &[u8]) {
        let pes = pes_bytes(0xc0, Some(pts), None, es, true);
        self.packetize(AUDIO_PID, &pes, false);
    }

    /// Splits PES bytes into packets; the last one is padded with adaptation
    /// stuffing. `discontinuity` flags the first packet.
    pub fn packetize(&mut self, pid: u16, pes: &[u8], discontinuity: bool) {
        // The flag needs two adaptation-field bytes in the first packet.
        let first = if discontinuity { 182 } else { 184 }.min(pes.len());
        let packet = self.packet(pid, true, &pes[..first], discontinuity);
        self.packets.push(packet);
        for chunk in pes[first..].chunks(184) {
            let packet = self.packet(pid, false, chunk, false);
            self.packets.push(packet);
        }
    }

    /// A packet carrying `payload` (at most 184 bytes, less with `discontinuity`).
    pub fn packet(
        &mut self,
        pid: u16,
        unit_start: bool,
        payload: &[u8],
        discontinuity: bool,
    ) -> [u8; TS_PACKET_LEN] {
        let mut p = [0xffu8; TS_PACKET_LEN];
        let cc = self.next_cc(pid);
        let stuffing = 184 - payload.len();
        let with_adaptation = stuffing > 0 || discontinuity;
        p[0] = 0x47;
        p[1] = (u8::from(unit_start) << 6) | (pid >> 8) as u8;
        p[2] = pid as u8;
        p[3] = (if with_adaptation { 0x30 } else { 0x10 }) | cc;
        let mut at = 4;
        if with_adaptation {
            let len = stuffing - 1;
            p[4] = len as u8;
            if len > 0 {
                p[5] = if discontinuity { 0x80 } else { 0 };
            }
            at = 5 + len;
        }
        p[at..at + payload.len()].copy_from_slice(payload);
        p
    }

    /// A packet on a PID the demuxer must ignore (SDT 0x11, null 0x1fff).
    pub fn filler(&mut self, pid: u16) {
        let packet = self.packet(pid, pid != 0x1fff, &[0x42; 184], false);
        self.packets.push(packet);
    }
}

pub(crate) fn pes_bytes(
    stream_id: u8,
    pts: Option<u64>,
    dts: Option<u64>,
    es: &[u8],
    bounded: bool,
) -> Vec<u8> {
    let mut fields = Vec::new();
    let flags = match (pts, dts) {
        (Some(p), Some(d)) => {
            fields.extend(timestamp(3, p));
            fields.extend(timestamp(1, d));
            0xc0
        }
        (Some(p), None) => {
            fields.extend(timestamp(2, p));
            0x80
        }
        _ => 0,
    };
    let len = if bounded {
        3 + fields.len() + es.len()
    } else {
        0
    };
    let mut pes = vec![
        0,
        0,
        1,
        stream_id,
        (len >> 8) as u8,
        len as u8,
        0x80,
        flags,
        fields.len() as u8,
    ];
    pes.extend(fields);
    pes.extend_from_slice(es);
    pes
}

/// A PES PTS/DTS field: 4-bit `prefix`, 33-bit `t`, marker bits.
pub(crate) fn timestamp(prefix: u8, t: u64) -> [u8; 5] {
    [
        prefix << 4 | ((t >> 29) & 0x0e) as u8 | 1,
        (t >> 22) as u8,
        ((t >> 14) & 0xfe) as u8 | 1,
        (t >> 7) as u8,
        ((t << 1) & 0xfe) as u8 | 1,
    ]
}

pub(crate) use crate::psi::crc32_mpeg2;

/// A PMT packet from raw section bytes (table_id up to the CRC, excluded).
pub(crate) fn raw_pmt_packet(section: &[u8], cc: u8) -> [u8; TS_PACKET_LEN] {
    let mut p = [0xffu8; TS_PACKET_LEN];
    p[..4].copy_from_slice(&[0x47, 0x40 | (PMT_PID >> 8) as u8, PMT_PID as u8, 0x10 | cc]);
    p[4] = 0; // pointer_field
    p[5..5 + section.len()].copy_from_slice(section);
    let crc = crc32_mpeg2(section).to_be_bytes();
    p[5 + section.len()..9 + section.len()].copy_from_slice(&crc);
    p
}
