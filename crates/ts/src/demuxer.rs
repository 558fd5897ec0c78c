//! The public push-driven demuxer.

use crate::framing::PacketFramer;
use crate::router::PacketRouter;
use crate::sink::DemuxSink;
use crate::stats::DemuxStats;
use cht_core::DemuxItem;

/// Demuxes one MPEG-TS byte stream, pushed in pieces of any size.
///
/// ```
/// use cht_ts::{DemuxItem, TsDemuxer};
/// let mut demuxer = TsDemuxer::new();
/// let mut items: Vec<DemuxItem> = Vec::new();
/// demuxer.push(&[0x47, 0x1f, 0xff, 0x10], &mut items);
/// demuxer.finish(&mut items);
/// assert!(items.is_empty());
/// ```
#[derive(Default)]
pub struct TsDemuxer {
    framer: PacketFramer,
    router: PacketRouter,
}

impl TsDemuxer {
    /// A demuxer that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes `data`; items that became complete go to `sink` before return.
    pub fn push(&mut self, data: &[u8], sink: &mut impl DemuxSink) {
        let router = &mut self.router;
        self.framer
            .push(data, &mut |packet| router.packet(packet, sink));
        self.sync_framing_stats();
    }

    /// Ends the stream (EOF or disconnect): frames the bytes held back for
    /// lookahead, then flushes every PES under assembly (an unbounded video
    /// PES ends here). Tables, configs and the clock are kept, so the same
    /// demuxer may take the sender's next connection.
    pub fn finish(&mut self, sink: &mut impl DemuxSink) {
        let router = &mut self.router;
        self.framer
            .finish(&mut |packet| router.packet(packet, sink));
        self.router.finish(sink);
        self.sync_framing_stats();
    }

    /// Counters of everything seen so far.
    pub fn stats(&self) -> &DemuxStats {
        &self.router.stats
    }

    fn sync_framing_stats(&mut self) {
        let framing = self.framer.counters;
        let stats = &mut self.router.stats;
        stats.bytes = framing.bytes;
        stats.packets = framing.packets;
        stats.packet_size = framing.packet_size;
        stats.skipped_bytes = framing.skipped_bytes;
        stats.resyncs = framing.resyncs;
    }
}

/// A whole stream, demuxed.
#[derive(Debug, Clone, PartialEq)]
pub struct Demuxed {
    /// Every item, in arrival order.
    pub items: Vec<DemuxItem>,
    /// What the demuxer counted.
    pub stats: DemuxStats,
}

/// Demuxes a whole in-memory stream.
pub fn demux_all(data: &[u8]) -> Demuxed {
    let mut demuxer = TsDemuxer::new();
    let mut items = Vec::new();
    demuxer.push(data, &mut items);
    demuxer.finish(&mut items);
    Demuxed {
        items,
        stats: demuxer.stats().clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_stream::{adts_frame, video_au, StreamBuilder, AUDIO_PID, VIDEO_PID};
    use cht_core::{Discontinuity, DiscontinuityKind};

    const H264: u8 = 0x1b;
    const AAC: u8 = 0x0f;
    const WRAP: u64 = 1 << 33;

    /// PAT, PMT, then `n` video access units (the first a keyframe) each
    /// followed by an audio PES of two ADTS frames; SDT and null packets mixed in.
    fn av_stream(n: u64, start_pts: u64) -> StreamBuilder {
        let mut s = StreamBuilder::default();
        s.pat();
        s.pmt(0, &[(H264, VIDEO_PID), (AAC, AUDIO_PID)]);
        s.filler(0x11);
        for i in 0..n {
            let dts = (start_pts + i * 3000) % WRAP;
            s.video(
                (dts + 3000) % WRAP,
                dts,
                &video_au(i == 0, 500 + 37 * i as usize),
            );
            let audio: Vec<u8> = (0..2).flat_map(|_| adts_frame(48000, 300)).collect();
            s.audio((start_pts + i * 3840) % WRAP, &audio);
            s.filler(0x1fff);
        }
        s
    }

    fn videos(items: &[DemuxItem]) -> Vec<&cht_core::VideoPacket> {
        items
            .iter()
            .filter_map(|i| {
                if let DemuxItem::Video(v) = i {
                    Some(v)
                } else {
                    None
                }
            })
            .collect()
    }

    fn audios(items: &[DemuxItem]) -> Vec<&cht_core::AudioPacket> {
        items
            .iter()
            .filter_map(|i| {
                if let DemuxItem::Audio(a) = i {
                    Some(a)
                } else {
                    None
                }
            })
            .collect()
    }

    fn discontinuities(items: &[DemuxItem]) -> Vec<Discontinuity> {
        items
            .iter()
            .filter_map(|i| {
                if let DemuxItem::Discontinuity(d) = i {
                    Some(*d)
                } else {
                    None
                }
            })
            .collect()
    }

    fn position(items: &[DemuxItem], what: fn(&DemuxItem) -> bool) -> usize {
        items.iter().position(what).unwrap_or(usize::MAX)
    }

    #[test]
    fn packets_ahead_of_a_damaged_program_map_are_kept() {
        // The stream's first tables are lost (a damaged PAT/PMT): its first
        // access units come before any table names their PID.
        let clean = av_stream(4, 90_000);
        let mut s = StreamBuilder::default();
        s.packets = clean.packets[2..].to_vec();
        s.pat();
        s.pmt(0, &[(H264, VIDEO_PID), (AAC, AUDIO_PID)]);
        s.video(120_000, 117_000, &video_au(false, 100));
        let Demuxed { items, stats } = demux_all(&s.bytes());
        let v = videos(&items);
        assert_eq!(
            v.iter().map(|v| (v.dts, v.keyframe)).collect::<Vec<_>>(),
            vec![
                (90_000, true),
                (93_000, false),
                (96_000, false),
                (99_000, false),
                (117_000, false)
            ]
        );
        assert_eq!(audios(&items).len(), 8);
        assert_eq!(stats.ignored_packets, 5, "one SDT and four null packets");
    }

    #[test]
    fn a_pts_contradicting_its_dts_is_replaced() {
        let mut s = StreamBuilder::default();
        s.pat();
        s.pmt(0, &[(H264, VIDEO_PID)]);
        s.video(93_000, 90_000, &video_au(true, 100));
        // A bit error in the PTS: 2^30 ticks (3 h) after its DTS.
        s.video(96_000 + (1 << 30), 93_000, &video_au(false, 100));
        // One in the DTS: after its PTS.
        s.video(99_000, 96_000 + (1 << 31), &video_au(false, 100));
        s.video(102_000, 99_000, &video_au(false, 100));
        let Demuxed { items, stats } = demux_all(&s.bytes());
        assert_eq!(
            videos(&items)
                .iter()
                .map(|v| (v.pts, v.dts))
                .collect::<Vec<_>>(),
            vec![
                (93_000, 90_000),
                (93_000, 93_000),
                (99_000, 99_000),
                (102_000, 99_000)
            ]
        );
        assert_eq!(stats.damaged_timestamps, 2);
    }

    #[test]
    fn demuxes_a_clean_stream_in_order() {
        let s = av_stream(4, 90_000);
        let Demuxed { items, stats } = demux_all(&s.bytes());
        let video_config = position(
            &items,
            |i| matches!(i, DemuxItem::VideoParams(c) if (c.width, c.height) == (1920, 1080)),
        );
        let audio_config = position(
            &items,
            |i| matches!(i, DemuxItem::AudioParams(c) if c.sample_rate == 48000 && c.channels == 2),
        );
        assert!(video_config < position(&items, |i| matches!(i, DemuxItem::Video(_))));
        assert!(
            matches!(&items[0], DemuxItem::Tracks(t) if t.audio.len() == 1 && t.video.is_some())
        );
        assert_eq!(
            audio_config, 1,
            "audio PES are bounded: complete before the unbounded video PES"
        );
        let v = videos(&items);
        assert_eq!(
            v.iter()
                .map(|v| (v.dts, v.pts, v.keyframe))
                .collect::<Vec<_>>(),
            vec![
                (90_000, 93_000, true),
                (93_000, 96_000, false),
                (96_000, 99_000, false),
                (99_000, 102_000, false)
            ]
        );
        assert_eq!(&v[1].data[..], &video_au(false, 537)[..]);
        let a = audios(&items);
        assert_eq!(a.len(), 8);
        assert_eq!((a[0].pts, a[1].pts, a[2].pts), (90_000, 91_920, 93_840));
        assert_eq!(&a[0].data[..], &adts_frame(48000, 300)[7..]);
        assert!(discontinuities(&items).is_empty());
        assert_eq!((stats.video_units, stats.audio_frames), (4, 8));
        assert_eq!(stats.ignored_packets, 5, "one SDT and four null packets");
        assert_eq!(
            (
                stats.cc_errors,
                stats.skipped_bytes,
                stats.resyncs,
                stats.psi_errors
            ),
            (0, 0, 0, 0)
        );
        assert_eq!(stats.packets as usize, s.packets.len());
    }

    #[test]
    fn resyncs_after_garbage_prefix() {
        let s = av_stream(3, 0);
        let clean = demux_all(&s.bytes()).items;
        let mut data = vec![0x47, 0x00, 0x47, 0x12, 0x47, 0x99, 0x47];
        data.extend(s.bytes());
        let Demuxed { items, stats } = demux_all(&data);
        assert_eq!(items, clean);
        assert_eq!((stats.skipped_bytes, stats.resyncs), (7, 1));
    }

    #[test]
    fn torn_packet_is_dropped_and_its_unit_flagged() {
        let s = av_stream(3, 0);
        let clean = demux_all(&s.bytes()).items;
        // Packet 4 (inside the first access unit) is cut short by garbage.
        let mut data = Vec::new();
        for (i, p) in s.packets.iter().enumerate() {
            if i == 4 {
                data.extend_from_slice(&p[..100]);
                data.extend_from_slice(&[0x47, 0x01, 0x00, 0x10, 0x33]);
            } else {
                data.extend_from_slice(p);
            }
        }
        let Demuxed { items, stats } = demux_all(&data);
        assert_eq!(stats.resyncs, 1);
        assert_eq!(stats.skipped_bytes, 105);
        assert_eq!(stats.cc_errors, 1);
        assert_eq!(
            videos(&items).iter().map(|v| v.damaged).collect::<Vec<_>>(),
            vec![true, false, false]
        );
        assert_eq!(videos(&items)[1..], videos(&clean)[1..]);
        assert_eq!(audios(&items), audios(&clean));
    }

    #[test]
    fn reads_192_and_204_byte_packets() {
        let s = av_stream(3, 0);
        let clean = demux_all(&s.bytes()).items;
        for (prefix, suffix, size) in [(4, 0, 192), (0, 16, 204)] {
            let data: Vec<u8> = s
                .packets
                .iter()
                .enumerate()
                .flat_map(|(i, p)| {
                    let mut v = vec![i as u8; prefix];
                    v.extend_from_slice(p);
                    v.extend(std::iter::repeat_n(0x5a, suffix));
                    v
                })
                .collect();
            let Demuxed { items, stats } = demux_all(&data);
            assert_eq!(items, clean, "{size}");
            assert_eq!((stats.packet_size, stats.skipped_bytes), (size, 0));
        }
    }

    #[test]
    fn lost_video_packet_flags_the_unit_damaged() {
        let mut s = av_stream(3, 0);
        // The second access unit spans several packets; drop its second one.
        let first_of_second = s
            .packets
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                p[1] & 0x40 != 0 && u16::from(p[1] & 0x1f) << 8 | u16::from(p[2]) == VIDEO_PID
            })
            .nth(1)
            .map(|(i, _)| i)
            .unwrap();
        s.packets.remove(first_of_second + 1);
        let Demuxed { items, stats } = demux_all(&s.bytes());
        let v = videos(&items);
        assert_eq!(
            v.iter().map(|v| v.damaged).collect::<Vec<_>>(),
            vec![false, true, false]
        );
        assert_eq!((stats.cc_errors, stats.damaged_video_units), (1, 1));
        assert!(matches!(
            discontinuities(&items)[..],
            [Discontinuity {
                pid: VIDEO_PID,
                kind: DiscontinuityKind::ContinuityError { .. }
            }]
        ));
    }

    #[test]
    fn duplicate_packet_is_used_once() {
        let mut s = av_stream(2, 0);
        let clean = demux_all(&s.bytes()).items;
        let dup = s.packets[4];
        s.packets.insert(4, dup);
        let Demuxed { items, stats } = demux_all(&s.bytes());
        assert_eq!(items, clean);
        assert_eq!(stats.cc_errors, 0);
    }

    #[test]
    fn lost_audio_packet_drops_that_pes_only() {
        let mut s = StreamBuilder::default();
        s.pat();
        s.pmt(0, &[(AAC, AUDIO_PID)]);
        let frames: Vec<u8> = (0..3).flat_map(|_| adts_frame(48000, 150)).collect();
        for i in 0..3 {
            s.audio(i * 5760, &frames);
        }
        s.packets.remove(2 + 3 + 1); // second packet of the second PES
        let Demuxed { items, stats } = demux_all(&s.bytes());
        let pts: Vec<i64> = audios(&items).iter().map(|a| a.pts).collect();
        assert_eq!(pts, vec![0, 1920, 3840, 11520, 13440, 15360]);
        assert_eq!(stats.cc_errors, 1);
        assert_eq!(stats.dropped_audio_bytes, (frames.len() + 14 - 184) as u64);
    }

    #[test]
    fn pmt_update_adds_audio_later() {
        let mut s = StreamBuilder::default();
        s.pat();
        s.pmt(0, &[(H264, VIDEO_PID)]);
        s.video(3000, 0, &video_au(true, 400));
        s.audio(0, &adts_frame(44100, 100)); // not announced yet: ignored
        s.pmt(1, &[(H264, VIDEO_PID), (AAC, AUDIO_PID)]);
        s.video(6000, 3000, &video_au(false, 400));
        s.audio(3000, &adts_frame(44100, 100));
        let Demuxed { items, stats } = demux_all(&s.bytes());
        assert_eq!(videos(&items).len(), 2);
        assert_eq!(
            audios(&items).iter().map(|a| a.pts).collect::<Vec<_>>(),
            vec![3000]
        );
        assert_eq!(stats.ignored_packets, 1);
        assert!(items
            .iter()
            .any(|i| matches!(i, DemuxItem::AudioParams(c) if c.sample_rate == 44100)));
    }

    #[test]
    fn unbounded_pes_waits_for_finish() {
        let mut s = StreamBuilder::default();
        s.pat();
        s.pmt(0, &[(H264, VIDEO_PID)]);
        s.video(3000, 0, &video_au(true, 2000));
        let mut demuxer = TsDemuxer::new();
        let mut items = Vec::new();
        demuxer.push(&s.bytes(), &mut items);
        assert!(videos(&items).is_empty());
        demuxer.finish(&mut items);
        let v = videos(&items);
        assert_eq!(v.len(), 1);
        assert_eq!(&v[0].data[..], &video_au(true, 2000)[..]);
        assert!(!v[0].damaged);
    }

    #[test]
    fn unwraps_pts_once_for_audio_and_video() {
        let start = WRAP - 2 * 3000;
        let items = demux_all(&av_stream(5, start).bytes()).items;
        let v: Vec<i64> = videos(&items).iter().map(|v| v.dts).collect();
        assert_eq!(
            v,
            (0..5)
                .map(|i| (start + i * 3000) as i64)
                .collect::<Vec<_>>()
        );
        let a: Vec<i64> = audios(&items).iter().map(|a| a.pts).collect();
        let expected: Vec<i64> = (0..10).map(|k| start as i64 + k * 1920).collect();
        assert_eq!(a, expected);
        assert!(a.last().unwrap() > &(WRAP as i64));
        assert!(discontinuities(&items).is_empty(), "no jump at the wrap");
    }

    #[test]
    fn discontinuity_indicator_resets_continuity_and_is_reported() {
        let mut s = StreamBuilder::default();
        s.pat();
        s.pmt(0, &[(AAC, AUDIO_PID)]);
        s.audio(0, &adts_frame(48000, 100));
        s.packets.last_mut().unwrap()[3] ^= 0x05; // counter jumps...
        let pes =
            crate::test_stream::pes_bytes(0xc0, Some(900_000), None, &adts_frame(48000, 100), true);
        s.packetize(AUDIO_PID, &pes, true); // ...and the next packet says so
        let Demuxed { items, stats } = demux_all(&s.bytes());
        assert_eq!(stats.cc_errors, 0);
        let kinds: Vec<_> = discontinuities(&items).iter().map(|d| d.kind).collect();
        assert_eq!(
            kinds,
            vec![
                DiscontinuityKind::Indicator,
                DiscontinuityKind::PtsJump {
                    from: 0,
                    to: 900_000
                }
            ]
        );
        assert_eq!(audios(&items).len(), 2);
    }

    #[test]
    fn pmt_with_overrunning_program_info_is_refused() {
        let mut s = StreamBuilder::default();
        s.pat();
        // Valid CRC, but program_info_length (1023) runs past the section.
        let section = [
            0x02, 0xb0, 13, 0x00, 0x01, 0xc1, 0, 0, 0xe1, 0x00, 0xf3, 0xff,
        ];
        s.packets
            .push(crate::test_stream::raw_pmt_packet(&section, 15));
        // Followed by a good PMT, which still takes effect.
        s.pmt(1, &[(AAC, AUDIO_PID), (0x06, 0x102)]);
        s.audio(0, &adts_frame(48000, 64));
        let private = s.packet(0x102, true, &[0; 184], false);
        s.packets.push(private);
        let Demuxed { items, stats } = demux_all(&s.bytes());
        assert_eq!(stats.psi_errors, 1);
        assert_eq!(audios(&items).len(), 1);
        let tracks = items.iter().find_map(|i| match i {
            DemuxItem::Tracks(t) => Some(t),
            _ => None,
        });
        let probed: Vec<_> = tracks
            .unwrap()
            .audio
            .iter()
            .map(|a| (a.track, a.codec))
            .collect();
        assert_eq!(
            probed,
            [(0, Some(cht_core::AudioCodec::Aac)), (1, None)],
            "private data without a descriptor is probed as audio"
        );
        assert_eq!(stats.ignored_packets, 0);
        assert_eq!(
            stats.dropped_audio_bytes, 184,
            "its bytes are not even a PES"
        );
    }

    #[test]
    fn pmt_with_a_stream_type_mpeg2ts_does_not_know_is_still_followed() {
        let mut s = StreamBuilder::default();
        s.pat();
        // 0x1c (MPEG-4 text) on 0x102, then AAC on AUDIO_PID.
        let a = AUDIO_PID.to_be_bytes();
        let section = [
            0x02,
            0xb0,
            23,
            0x00,
            0x01,
            0xc1,
            0,
            0,
            0xe1,
            0x00,
            0xf0,
            0x00, //
            0x1c,
            0xe1,
            0x02,
            0xf0,
            0x00, //
            0x0f,
            0xe0 | a[0],
            a[1],
            0xf0,
            0x00,
        ];
        s.packets
            .push(crate::test_stream::raw_pmt_packet(&section, 0));
        s.audio(0, &adts_frame(48000, 64));
        let Demuxed { items, stats } = demux_all(&s.bytes());
        assert_eq!(stats.psi_errors, 0);
        assert_eq!(audios(&items).len(), 1);
    }

    #[test]
    fn demuxer_can_move_to_another_thread() {
        fn is_send<T: Send>() {}
        is_send::<TsDemuxer>();
    }
}
