//! cht-ts against the committed ffmpeg-made fixture, with ffprobe as the
//! independent oracle, plus property tests on arbitrary read splits and
//! damaged input.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use cht_ts::{demux_all, DemuxItem, DemuxStats, Demuxed, TsDemuxer};
use proptest::prelude::*;

fn fixture() -> &'static [u8] {
    static DATA: OnceLock<Vec<u8>> = OnceLock::new();
    DATA.get_or_init(|| std::fs::read(fixture_path()).expect("tests/fixtures/av_high.ts"))
}

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/av_high.ts")
}

/// (pts, dts, size) of every packet of one stream, as ffprobe reports them.
#[derive(Debug, Default, PartialEq)]
struct ProbedPackets {
    video: Vec<(i64, i64, usize)>,
    audio: Vec<(i64, i64, usize)>,
}

fn ffprobe_packets() -> ProbedPackets {
    let output = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "packet=codec_type,pts,dts,size",
            "-of",
            "csv=p=0",
        ])
        .arg(fixture_path())
        .output()
        .expect("ffprobe must be installed: it is the oracle of this test");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut probed = ProbedPackets::default();
    // Side data adds a trailing field and an empty line per packet.
    for line in String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.is_empty())
    {
        let fields: Vec<&str> = line.split(',').collect();
        let [kind, pts, dts, size, ..] = fields[..] else {
            panic!("unexpected ffprobe line {line:?}")
        };
        let entry = (
            pts.parse().unwrap(),
            dts.parse().unwrap(),
            size.parse().unwrap(),
        );
        match kind {
            "video" => probed.video.push(entry),
            "audio" => probed.audio.push(entry),
            other => panic!("unexpected stream {other}"),
        }
    }
    probed
}

fn ours(items: &[DemuxItem]) -> ProbedPackets {
    let mut packets = ProbedPackets::default();
    for item in items {
        match item {
            DemuxItem::Video(v) => packets.video.push((v.pts, v.dts, v.data.len())),
            // ffprobe counts the 7-byte ADTS header (the fixture has no
            // CRC); an audio packet is the raw AAC frame.
            DemuxItem::Audio(a) => packets.audio.push((a.pts, a.pts, a.data.len() + 7)),
            _ => {}
        }
    }
    packets
}

#[test]
fn fixture_matches_ffprobe_packet_for_packet() {
    let Demuxed { items, stats } = demux_all(fixture());
    let ours = ours(&items);
    assert_eq!((ours.video.len(), ours.audio.len()), (300, 470));
    assert_eq!(ours, ffprobe_packets());

    let first_video = items.iter().find_map(|i| {
        if let DemuxItem::Video(v) = i {
            Some(v)
        } else {
            None
        }
    });
    assert!(first_video.is_some_and(|v| v.keyframe && !v.damaged));
    let video_configs: Vec<_> = items
        .iter()
        .filter_map(|i| {
            if let DemuxItem::VideoParams(c) = i {
                Some(c)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(video_configs.len(), 1);
    let v = video_configs[0];
    let sps = cht_core::h264::AvcDecoderConfig::parse(&v.extra_data)
        .ok()
        .and_then(|c| c.first_sps())
        .expect("the avcC record of the parameters holds the SPS");
    assert_eq!(
        (
            v.width,
            v.height,
            sps.profile_idc,
            sps.chroma_format_idc,
            sps.bit_depth_luma
        ),
        (640, 360, 100, 1, 8)
    );
    let audio_configs: Vec<_> = items
        .iter()
        .filter_map(|i| {
            if let DemuxItem::AudioParams(c) = i {
                Some(c)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(audio_configs.len(), 1);
    let a = cht_core::aac::AacConfig::of(audio_configs[0]).expect("AAC");
    assert_eq!((a.sample_rate, a.channels(), a.object_type), (48000, 2, 2));

    assert!(!items
        .iter()
        .any(|i| matches!(i, DemuxItem::Discontinuity(_))));
    let clean = DemuxStats {
        cc_errors: 0,
        transport_errors: 0,
        skipped_bytes: 0,
        resyncs: 0,
        pes_errors: 0,
        psi_errors: 0,
        dropped_audio_bytes: 0,
        damaged_video_units: 0,
        video_units_before_config: 0,
        ..stats.clone()
    };
    assert_eq!(stats, clean);
    assert_eq!(
        (stats.video_units, stats.audio_frames, stats.packet_size),
        (300, 470, 188)
    );
    assert_eq!(stats.bytes, fixture().len() as u64);
    assert_eq!(stats.packets * 188, stats.bytes);
}

#[test]
fn keyframes_are_the_idr_units_ffprobe_flags() {
    let output = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "packet=flags",
            "-of",
            "csv=p=0",
        ])
        .arg(fixture_path())
        .output()
        .expect("ffprobe");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let flagged: Vec<bool> = stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.starts_with('K'))
        .collect();
    let items = demux_all(fixture()).items;
    let ours: Vec<bool> = items
        .iter()
        .filter_map(|i| {
            if let DemuxItem::Video(v) = i {
                Some(v.keyframe)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(ours, flagged);
}

fn demux_in_chunks(data: &[u8], sizes: &[usize]) -> Demuxed {
    let mut demuxer = TsDemuxer::new();
    let mut items = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        demuxer.push(&rest[..n], &mut items);
        rest = &rest[n..];
        i += 1;
    }
    demuxer.finish(&mut items);
    Demuxed {
        items,
        stats: demuxer.stats().clone(),
    }
}

/// A prefix of the fixture (whole packets) keeps the mutation properties fast.
fn fixture_head() -> &'static [u8] {
    &fixture()[..188 * 1200]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_read_split_gives_the_same_items(sizes in prop::collection::vec(1usize..5000, 1..16)) {
        let whole = demux_all(fixture());
        let split = demux_in_chunks(fixture(), &sizes);
        prop_assert_eq!(split, whole);
    }

    #[test]
    fn garbage_before_the_stream_costs_nothing_after_resync(
        garbage in prop::collection::vec(any::<u8>(), 0..3000),
        sizes in prop::collection::vec(1usize..3000, 1..8),
    ) {
        let data = [&garbage[..], fixture_head()].concat();
        let clean = demux_all(fixture_head()).items;
        let Demuxed { items, stats } = demux_in_chunks(&data, &sizes);
        prop_assert_eq!(items, clean);
        prop_assert!(stats.skipped_bytes <= garbage.len() as u64);
    }

    #[test]
    fn damaged_input_never_panics(
        cut in 0usize..188 * 1200,
        flips in prop::collection::vec((0usize..188 * 1200, any::<u8>()), 0..40),
        inserts in prop::collection::vec((0usize..188 * 1200, prop::collection::vec(any::<u8>(), 1..400)), 0..6),
        sizes in prop::collection::vec(1usize..4000, 1..8),
    ) {
        let mut data = fixture_head().to_vec();
        for (at, mask) in flips {
            data[at] ^= mask;
        }
        for (at, bytes) in inserts {
            let at = at.min(data.len());
            data.splice(at..at, bytes);
        }
        data.truncate(cut.max(1));
        let Demuxed { items, stats } = demux_in_chunks(&data, &sizes);
        prop_assert_eq!(stats.bytes, data.len() as u64);
        let videos = items.iter().filter(|i| matches!(i, DemuxItem::Video(_))).count() as u64;
        prop_assert_eq!(videos, stats.video_units);
    }
}
