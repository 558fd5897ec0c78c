//! A minimal MPEG-TS muxer for one program with one H.264 and one AAC
//! (ADTS) stream, laid out the way ffmpeg's `mpegts` muxer does it: PAT on
//! PID 0, PMT on 0x1000, video on 0x100 carrying the PCR, audio on 0x101.
//!
//! Packets are built with the `mpeg2ts` crate's writer; this file only
//! decides what goes into each 188-byte packet and keeps the continuity
//! counters.

use mpeg2ts::es::{StreamId, StreamType};
use mpeg2ts::pes::PesHeader;
use mpeg2ts::time::{ClockReference, Timestamp};
use mpeg2ts::ts::payload::{Bytes, Pat, Pes, Pmt};
use mpeg2ts::ts::{
    AdaptationField, ContinuityCounter, EsInfo, Pid, ProgramAssociation,
    TransportScramblingControl, TsHeader, TsPacket, TsPacketWriter, TsPayload, VersionNumber,
    WriteTsPacket,
};

use crate::DemoError;

/// The PID of the program map table.
pub const PMT_PID: u16 = 0x1000;
/// The PID of the H.264 stream (it also carries the PCR).
pub const VIDEO_PID: u16 = 0x100;
/// The PID of the AAC stream.
pub const AUDIO_PID: u16 = 0x101;
const PROGRAM_NUMBER: u16 = 1;

/// 33-bit PTS/DTS/PCR-base arithmetic wraps here.
const TIMESTAMP_MASK: u64 = (1 << 33) - 1;
/// Payload bytes in a TS packet after the 4-byte header.
const PACKET_PAYLOAD: usize = TsPacket::SIZE - 4;
/// Adaptation field with flags and a PCR: length byte + flags + 6 bytes.
const PCR_FIELD_LEN: usize = 8;

/// One video access unit to mux.
#[derive(Debug, Clone, Copy)]
pub struct VideoPes<'a> {
    /// Presentation time, 90 kHz (no B-frames here, so it is also the DTS).
    pub pts: u64,
    /// Program clock reference to send with it, 90 kHz.
    pub pcr: u64,
    pub keyframe: bool,
    /// Annex-B access unit.
    pub data: &'a [u8],
}

/// Writes TS packets, keeping one continuity counter per PID.
#[derive(Debug, Default)]
pub struct TsMuxer {
    pat_cc: ContinuityCounter,
    pmt_cc: ContinuityCounter,
    video_cc: ContinuityCounter,
    audio_cc: ContinuityCounter,
}

impl TsMuxer {
    pub fn new() -> TsMuxer {
        TsMuxer::default()
    }

    /// Appends one PAT and one PMT packet.
    pub fn write_tables(&mut self, out: &mut Vec<u8>) -> Result<(), DemoError> {
        let pat = Pat {
            transport_stream_id: 1,
            version_number: VersionNumber::new(),
            table: vec![ProgramAssociation {
                program_num: PROGRAM_NUMBER,
                program_map_pid: pid(PMT_PID)?,
            }],
        };
        let pmt = Pmt {
            program_num: PROGRAM_NUMBER,
            pcr_pid: Some(pid(VIDEO_PID)?),
            version_number: VersionNumber::new(),
            program_info: vec![],
            es_info: vec![
                EsInfo {
                    stream_type: StreamType::H264,
                    elementary_pid: pid(VIDEO_PID)?,
                    descriptors: vec![],
                },
                EsInfo {
                    stream_type: StreamType::AdtsAac,
                    elementary_pid: pid(AUDIO_PID)?,
                    descriptors: vec![],
                },
            ],
        };
        let pat_header = header(0, &mut self.pat_cc)?;
        write(
            out,
            TsPacket {
                header: pat_header,
                adaptation_field: None,
                payload: Some(TsPayload::Pat(pat)),
            },
        )?;
        let pmt_header = header(PMT_PID, &mut self.pmt_cc)?;
        write(
            out,
            TsPacket {
                header: pmt_header,
                adaptation_field: None,
                payload: Some(TsPayload::Pmt(pmt)),
            },
        )
    }

    /// Appends one video PES (PTS and DTS, unbounded length as ffmpeg does
    /// for video) with a PCR in its first packet.
    pub fn write_video(&mut self, au: VideoPes<'_>, out: &mut Vec<u8>) -> Result<(), DemoError> {
        let pes_header = pes_header(StreamId::VIDEO_MIN, au.pts, true)?;
        let field = AdaptationField {
            discontinuity_indicator: false,
            random_access_indicator: au.keyframe,
            es_priority_indicator: false,
            pcr: Some(ClockReference::new((au.pcr & TIMESTAMP_MASK) * 300)?),
            opcr: None,
            splice_countdown: None,
            transport_private_data: vec![],
            extension: None,
        };
        let room = PACKET_PAYLOAD - PCR_FIELD_LEN - pes_header_bytes(&pes_header);
        self.write_pes(VIDEO_PID, pes_header, 0, Some(field), room, au.data, out)
    }

    /// Appends one audio PES (PTS only, exact length) holding `data`, one or
    /// more whole ADTS frames.
    pub fn write_audio(
        &mut self,
        pts: u64,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), DemoError> {
        let pes_header = pes_header(StreamId::AUDIO_MIN, pts, false)?;
        // PES_packet_length counts what follows the 6-byte start of the header.
        let after_length_field = pes_header_bytes(&pes_header) - 6 + data.len();
        let pes_len = u16::try_from(after_length_field).map_err(|_| {
            DemoError::Mux(format!("audio PES of {} bytes is too long", data.len()))
        })?;
        let room = PACKET_PAYLOAD - pes_header_bytes(&pes_header);
        self.write_pes(AUDIO_PID, pes_header, pes_len, None, room, data, out)
    }

    #[allow(clippy::too_many_arguments)]
    fn write_pes(
        &mut self,
        pid_value: u16,
        pes_header: PesHeader,
        pes_len: u16,
        field: Option<AdaptationField>,
        first_room: usize,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), DemoError> {
        let cc = match pid_value {
            VIDEO_PID => &mut self.video_cc,
            _ => &mut self.audio_cc,
        };
        let (first, rest) = data.split_at(first_room.min(data.len()));
        let pes = Pes {
            header: pes_header,
            pes_packet_len: pes_len,
            data: Bytes::new(first)?,
        };
        let start = TsPacket {
            header: header(pid_value, cc)?,
            adaptation_field: field,
            payload: Some(TsPayload::PesStart(pes)),
        };
        write(out, start)?;
        for piece in rest.chunks(PACKET_PAYLOAD) {
            // A short last piece gets stuffing from the writer's adaptation field.
            let payload = Some(TsPayload::PesContinuation(Bytes::new(piece)?));
            write(
                out,
                TsPacket {
                    header: header(pid_value, cc)?,
                    adaptation_field: None,
                    payload,
                },
            )?;
        }
        Ok(())
    }
}

/// Bytes the PES header occupies in the packet: start code, stream id,
/// length, flags, header length and the timestamps.
fn pes_header_bytes(h: &PesHeader) -> usize {
    6 + 3 + h.pts.map_or(0, |_| 5) + h.dts.map_or(0, |_| 5)
}

/// A PES header with a PTS, and a DTS equal to it when `with_dts` (the
/// demo's video has no B-frames, so decode order is display order).
fn pes_header(stream_id: u8, pts: u64, with_dts: bool) -> Result<PesHeader, DemoError> {
    let ts = timestamp(pts)?;
    Ok(PesHeader {
        stream_id: StreamId::new(stream_id),
        priority: false,
        data_alignment_indicator: true,
        copyright: false,
        original_or_copy: false,
        pts: Some(ts),
        dts: with_dts.then_some(ts),
        escr: None,
    })
}

fn timestamp(ticks: u64) -> Result<Timestamp, DemoError> {
    Ok(Timestamp::new(ticks & TIMESTAMP_MASK)?)
}

fn pid(value: u16) -> Result<Pid, DemoError> {
    Ok(Pid::new(value)?)
}

/// A header for the next packet of a PID, advancing its counter (every
/// packet we write carries payload, so every packet counts).
fn header(pid_value: u16, cc: &mut ContinuityCounter) -> Result<TsHeader, DemoError> {
    let header = TsHeader {
        transport_error_indicator: false,
        transport_priority: false,
        pid: pid(pid_value)?,
        transport_scrambling_control: TransportScramblingControl::NotScrambled,
        continuity_counter: *cc,
    };
    cc.increment();
    Ok(header)
}

fn write(out: &mut Vec<u8>, packet: TsPacket) -> Result<(), DemoError> {
    TsPacketWriter::new(out).write_ts_packet(&packet)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpeg2ts::ts::{ReadTsPacket, TsPacketReader};
    use std::collections::HashMap;

    /// Reads every packet back with the `mpeg2ts` reader.
    fn read_back(stream: &[u8]) -> Vec<TsPacket> {
        assert_eq!(stream.len() % TsPacket::SIZE, 0);
        assert!(stream
            .chunks(TsPacket::SIZE)
            .all(|p| p[0] == TsPacket::SYNC_BYTE));
        let mut reader = TsPacketReader::new(stream);
        let mut packets = Vec::new();
        while let Some(p) = reader.read_ts_packet().expect("valid packet") {
            packets.push(p);
        }
        packets
    }

    /// PES payloads per PID, reassembled, with each PES's header.
    fn reassemble(packets: &[TsPacket]) -> HashMap<u16, Vec<(Pes, Vec<u8>)>> {
        let mut by_pid: HashMap<u16, Vec<(Pes, Vec<u8>)>> = HashMap::new();
        for p in packets {
            let list = by_pid.entry(p.header.pid.as_u16()).or_default();
            match &p.payload {
                Some(TsPayload::PesStart(pes)) => list.push((pes.clone(), pes.data.to_vec())),
                Some(TsPayload::PesContinuation(bytes)) => list
                    .last_mut()
                    .expect("start first")
                    .1
                    .extend_from_slice(bytes),
                _ => {}
            }
        }
        by_pid
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn tables_then_video_and_audio_round_trip() {
        let mut mux = TsMuxer::new();
        let mut out = Vec::new();
        let video = pattern(1000, 7);
        let audio = pattern(300, 9);
        mux.write_tables(&mut out).unwrap();
        mux.write_video(
            VideoPes {
                pts: 126_000,
                pcr: 63_000,
                keyframe: true,
                data: &video,
            },
            &mut out,
        )
        .unwrap();
        mux.write_audio(126_000, &audio, &mut out).unwrap();
        let packets = read_back(&out);

        assert!(matches!(packets[0].payload, Some(TsPayload::Pat(_))));
        let Some(TsPayload::Pmt(pmt)) = &packets[1].payload else {
            panic!("PMT second")
        };
        assert_eq!(pmt.pcr_pid, Some(Pid::new(VIDEO_PID).unwrap()));
        let types: Vec<_> = pmt
            .es_info
            .iter()
            .map(|e| (e.stream_type as u8, e.elementary_pid.as_u16()))
            .collect();
        assert_eq!(types, vec![(0x1b, VIDEO_PID), (0x0f, AUDIO_PID)]);

        let first_video = &packets[2];
        let field = first_video.adaptation_field.as_ref().expect("PCR field");
        assert_eq!(field.pcr.map(|p| p.as_u64()), Some(63_000 * 300));
        assert!(field.random_access_indicator);

        let pes = reassemble(&packets);
        let (vh, vdata) = &pes[&VIDEO_PID][0];
        assert_eq!(vdata, &video);
        assert_eq!(vh.header.pts.map(|t| t.as_u64()), Some(126_000));
        assert_eq!(vh.header.dts.map(|t| t.as_u64()), Some(126_000));
        assert_eq!(vh.pes_packet_len, 0);
        let (ah, adata) = &pes[&AUDIO_PID][0];
        assert_eq!(adata, &audio);
        assert_eq!(ah.header.dts, None);
        assert_eq!(ah.pes_packet_len as usize, 3 + 5 + audio.len());
    }

    #[test]
    fn payload_sizes_at_packet_edges_survive_and_counters_run_on() {
        let mut mux = TsMuxer::new();
        let mut out = Vec::new();
        // 157 fills the first video packet exactly, 184 a continuation.
        let sizes = [0, 1, 156, 157, 158, 157 + 183, 157 + 184, 157 + 185, 5000];
        for (i, &len) in sizes.iter().enumerate() {
            let pts = 126_000 + i as u64 * 3000;
            mux.write_video(
                VideoPes {
                    pts,
                    pcr: pts - 63_000,
                    keyframe: false,
                    data: &pattern(len, i as u8),
                },
                &mut out,
            )
            .unwrap();
            mux.write_audio(pts, &pattern(len % 700, 3), &mut out)
                .unwrap();
        }
        let mut reader_input = Vec::new();
        TsMuxer::new().write_tables(&mut reader_input).unwrap();
        reader_input.extend_from_slice(&out);
        let packets = read_back(&reader_input);

        let mut next_cc: HashMap<u16, u8> = HashMap::new();
        for p in &packets {
            let expected = next_cc.entry(p.header.pid.as_u16()).or_insert(0);
            assert_eq!(
                p.header.continuity_counter.as_u8(),
                *expected,
                "PID {:#x}",
                p.header.pid.as_u16()
            );
            *expected = (*expected + 1) % 16;
        }
        let pes = reassemble(&packets);
        for (i, &len) in sizes.iter().enumerate() {
            assert_eq!(
                pes[&VIDEO_PID][i].1,
                pattern(len, i as u8),
                "video PES of {len} bytes"
            );
            assert_eq!(
                pes[&AUDIO_PID][i].1,
                pattern(len % 700, 3),
                "audio PES of {} bytes",
                len % 700
            );
        }
    }

    #[test]
    fn timestamps_wrap_at_33_bits() {
        let mut mux = TsMuxer::new();
        let mut out = Vec::new();
        mux.write_tables(&mut out).unwrap();
        let pts = (1u64 << 33) + 5;
        mux.write_video(
            VideoPes {
                pts,
                pcr: pts,
                keyframe: false,
                data: &[1, 2, 3],
            },
            &mut out,
        )
        .unwrap();
        let pes = reassemble(&read_back(&out));
        assert_eq!(pes[&VIDEO_PID][0].0.header.pts.map(|t| t.as_u64()), Some(5));
    }
}
