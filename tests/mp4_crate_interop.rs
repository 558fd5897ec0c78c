//! The `mp4` crate, an independent MP4 parser, reads cht's fragmented
//! segments: same tracks, codec parameters and sample counts as cht's own
//! reader reports. (Sample bytes are not compared: mp4 0.14 locates
//! fragment samples from `tfhd.base_data_offset` alone and ignores the
//! `trun` data offset, so it cannot read any default-base-is-moof file's
//! samples, ffmpeg's included.)

use cht_suite::*;
use std::process::Command;

#[test]
fn the_mp4_crate_reads_chts_fragmented_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.mp4");
    let (ok, _, err) = run(Command::new(cht_bin())
        .arg("remux")
        .arg(fixture("av_high.ts"))
        .arg(&out));
    assert!(ok, "{err}");

    let bytes = std::fs::read(&out).unwrap();
    let reader = mp4::Mp4Reader::read_header(std::io::Cursor::new(&bytes), bytes.len() as u64)
        .expect("mp4 crate parses it");
    assert_eq!(reader.tracks().len(), 2);
    assert!(!reader.moofs.is_empty(), "fragmented");

    let items = cht_ts::demux_all(&std::fs::read(fixture("av_high.ts")).unwrap()).items;
    let video_config = items.iter().find_map(|i| match i {
        cht_ts::DemuxItem::VideoParams(c) => {
            cht_core::h264::AvcDecoderConfig::parse(&c.extra_data).ok()
        }
        _ => None,
    });
    let video_config = video_config.unwrap();

    let mut ours = cht_fmp4::Mp4Samples::open(&out).unwrap();
    let our_samples: Vec<cht_fmp4::Mp4Sample> = ours.by_ref().map(Result::unwrap).collect();
    for track in reader.tracks().values() {
        match track.media_type().unwrap() {
            mp4::MediaType::H264 => {
                assert_eq!((track.width(), track.height()), (640, 360));
                assert_eq!(
                    track.sequence_parameter_set().unwrap(),
                    &video_config.sps[0][..]
                );
                assert_eq!(
                    track.picture_parameter_set().unwrap(),
                    &video_config.pps[0][..]
                );
            }
            mp4::MediaType::AAC => {
                assert_eq!(track.sample_freq_index().unwrap().freq(), 48000);
                assert_eq!(track.channel_config().unwrap(), mp4::ChannelConfig::Stereo);
            }
            other => panic!("unexpected track {other:?}"),
        }
    }
    let ids: Vec<u32> = reader.tracks().keys().copied().collect();
    for id in ids {
        let count = reader.sample_count(id).unwrap();
        let mine: Vec<&cht_fmp4::Mp4Sample> =
            our_samples.iter().filter(|s| s.track_id == id).collect();
        assert_eq!(count as usize, mine.len(), "track {id} sample count");
        assert_eq!(
            count,
            if mine[0].kind == cht_fmp4::TrackKind::Video {
                300
            } else {
                470
            }
        );
    }
}
