//! Decoding the committed x264 High (B-frames) fixture against ffmpeg.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

mod support;

use cht_core::Picture;
use cht_core::VideoPacket;
use cht_h264::H264Decoder;
use support::{av_high, psnr, Fixture};

fn decode_all(aus: &[VideoPacket]) -> (Vec<Picture>, cht_core::DecodeStats) {
    let mut decoder = H264Decoder::new().unwrap();
    let mut pictures = Vec::new();
    for au in aus {
        decoder.decode(au, &mut |p| pictures.push(p)).unwrap();
    }
    decoder.flush(&mut |p| pictures.push(p));
    (pictures, decoder.stats())
}

/// openh264 computes some B-slice deblocking strengths differently from the
/// standard (cisco/openh264#3269), so a few pixels per B-frame (and pictures
/// predicted from B-references) are off by 1..5 from ffmpeg: on this fixture
/// 267/300 pictures are bit-exact and the worst is 73.9 dB. Streams without
/// B-frames decode bit-exactly (see `generated_streams.rs`).
const MIN_BIT_EXACT_PERCENT: usize = 85;

/// Asserts strictly increasing PTS and that every picture shows what
/// ffmpeg shows at that PTS; returns how many matched bit-exactly.
fn assert_matches_ffmpeg(fixture: &Fixture, pictures: &[Picture]) -> usize {
    assert!(
        pictures.windows(2).all(|w| w[0].pts < w[1].pts),
        "display order"
    );
    let mut exact = 0;
    for p in pictures {
        assert_eq!(
            (p.width, p.height, p.y_stride),
            (fixture.width, fixture.height, fixture.width)
        );
        assert_eq!((p.u.len(), p.v.len()), (320 * 180, 320 * 180));
        let reference = fixture.reference_luma(p.pts);
        let db = psnr(&p.y, reference);
        assert!(
            db > 70.0,
            "pts {}: luma PSNR {db:.1} dB against ffmpeg",
            p.pts
        );
        exact += usize::from(p.y == reference);
    }
    exact
}

fn idr_indices(aus: &[VideoPacket]) -> Vec<usize> {
    aus.iter()
        .enumerate()
        .filter(|(_, a)| a.keyframe)
        .map(|(i, _)| i)
        .collect()
}

/// Decode index of the first IDR after `at`.
fn next_idr_after(aus: &[VideoPacket], at: usize) -> usize {
    idr_indices(aus)
        .into_iter()
        .find(|&i| i > at)
        .expect("an IDR after it")
}

/// PTS values shown from the IDR at decode index `idr` onwards.
fn pts_from(aus: &[VideoPacket], idr: usize) -> Vec<i64> {
    let mut pts: Vec<i64> = aus[idr..].iter().map(|a| a.pts).collect();
    pts.sort_unstable();
    pts
}

#[test]
fn decodes_every_picture_like_ffmpeg_in_display_order() {
    let fixture = av_high();
    assert_eq!(fixture.aus.len(), 300);
    let (pictures, stats) = decode_all(&fixture.aus);
    assert_eq!(pictures.len(), 300);
    let mut source_pts: Vec<i64> = fixture.aus.iter().map(|a| a.pts).collect();
    source_pts.sort_unstable();
    assert_eq!(
        pictures.iter().map(|p| p.pts).collect::<Vec<_>>(),
        source_pts
    );
    let exact = assert_matches_ffmpeg(fixture, &pictures);
    assert!(
        exact * 100 >= MIN_BIT_EXACT_PERCENT * 300,
        "only {exact}/300 bit-exact"
    );
    assert_eq!(stats.decoded, 300);
    assert_eq!(
        (
            stats.errors,
            stats.skipped_damaged,
            stats.skipped_until_idr,
            stats.lost
        ),
        (0, 0, 0, 0)
    );
}

#[test]
fn joining_mid_gop_waits_for_the_first_idr() {
    let fixture = av_high();
    let idrs = idr_indices(&fixture.aus);
    let (pictures, stats) = decode_all(&fixture.aus[10..]);
    assert_eq!(stats.skipped_until_idr, (idrs[1] - 10) as u64);
    assert_eq!(
        pictures.iter().map(|p| p.pts).collect::<Vec<_>>(),
        pts_from(&fixture.aus, idrs[1])
    );
    assert_matches_ffmpeg(fixture, &pictures);
}

/// Decode index of a reference (non-B) P picture in the middle of a GOP:
/// losing it breaks every later picture of the GOP.
fn reference_au_mid_gop(fixture: &Fixture) -> usize {
    let idrs = idr_indices(&fixture.aus);
    (idrs[1] + 20..idrs[2])
        .find(|&i| {
            cht_core::h264::annexb_nals(&fixture.aus[i].data)
                .any(|n| n[0] & 0x1f == 1 && n[0] & 0x60 != 0)
        })
        .expect("a P picture")
}

/// Damage is concealed, as ffmpeg does: every access unit still gives its
/// picture, in display order with its own PTS; the pictures before the
/// damage and from the next IDR on are exactly ffmpeg's.
fn assert_concealed(fixture: &Fixture, pictures: &[Picture], damaged_at: usize, fed: &[i64]) {
    let mut expected: Vec<i64> = fed.to_vec();
    expected.sort_unstable();
    let shown: Vec<i64> = pictures.iter().map(|p| p.pts).collect();
    assert_eq!(shown, expected, "every access unit is a picture, in order");
    let next_idr = next_idr_after(&fixture.aus, damaged_at);
    let gop_start = *idr_indices(&fixture.aus)
        .iter()
        .rev()
        .find(|&&i| i <= damaged_at)
        .unwrap();
    let clean: Vec<Picture> = pictures
        .iter()
        .filter(|p| p.pts < fixture.aus[gop_start].pts || p.pts >= fixture.aus[next_idr].pts)
        .cloned()
        .collect();
    assert!(clean.len() > 200);
    assert_matches_ffmpeg(fixture, &clean);
    // The concealed pictures still resemble ffmpeg's (a damaged slice
    // costs its macroblocks, not the picture).
    for p in pictures
        .iter()
        .filter(|p| p.pts >= fixture.aus[damaged_at].pts && p.pts < fixture.aus[next_idr].pts)
    {
        let db = psnr(&p.y, fixture.reference_luma(p.pts));
        assert!(db > 10.0, "pts {}: {db:.1} dB", p.pts);
    }
}

#[test]
fn a_truncated_access_unit_is_concealed_and_the_gop_goes_on() {
    let fixture = av_high();
    let at = reference_au_mid_gop(fixture);
    let mut aus = fixture.aus.clone();
    // Transport loss: the second half of the picture never arrived.
    aus[at].data = aus[at].data.slice(..aus[at].data.len() / 2);
    aus[at].damaged = true;
    let (pictures, stats) = decode_all(&aus);
    assert_eq!(stats.decoded, 300, "{stats:?}");
    assert!(stats.concealed >= 1, "{stats:?}");
    assert_eq!(
        (stats.errors, stats.skipped_until_idr, stats.lost),
        (0, 0, 0)
    );
    let fed: Vec<i64> = aus.iter().map(|a| a.pts).collect();
    assert_concealed(fixture, &pictures, at, &fed);
}

#[test]
fn a_lost_reference_picture_costs_only_itself() {
    let fixture = av_high();
    let at = reference_au_mid_gop(fixture);
    let mut aus = fixture.aus.clone();
    aus.remove(at);
    let (pictures, stats) = decode_all(&aus);
    // The next pictures find their reference missing and are concealed
    // from the last one decoded; none is skipped.
    assert_eq!(stats.decoded, 299, "{stats:?}");
    assert!(stats.concealed >= 1, "{stats:?}");
    assert_eq!((stats.errors, stats.skipped_until_idr), (0, 0), "{stats:?}");
    let fed: Vec<i64> = aus.iter().map(|a| a.pts).collect();
    assert_concealed(fixture, &pictures, at, &fed);
}

#[test]
fn flipped_bytes_never_panic_and_cost_no_pictures() {
    let fixture = av_high();
    let at = reference_au_mid_gop(fixture);
    let mut aus = fixture.aus.clone();
    let mut data = aus[at].data.to_vec();
    let mid = data.len() / 2;
    for b in &mut data[mid..mid + 64] {
        *b ^= 0x5a;
    }
    aus[at].data = data.into();
    let (pictures, stats) = decode_all(&aus);
    assert_eq!(stats.decoded as usize, pictures.len());
    assert!(stats.concealed >= 1, "{stats:?}");
    let fed: Vec<i64> = aus.iter().map(|a| a.pts).collect();
    assert_concealed(fixture, &pictures, at, &fed);
}

#[test]
fn garbage_and_truncated_access_units_are_counted_not_fatal() {
    let fixture = av_high();
    let mut decoder = H264Decoder::new().unwrap();
    let mut pictures = Vec::new();
    let idr = &fixture.aus[0];
    let mut seed = 7u32;
    let noise: Vec<u8> = (0..4000)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 24) as u8
        })
        .collect();
    let mut garbage = vec![0, 0, 0, 1, 0x65];
    garbage.extend_from_slice(&noise);
    let half_idr = idr.data.slice(..idr.data.len() / 2);
    let junk = [
        garbage.into(),
        half_idr,
        bytes::Bytes::new(),
        bytes::Bytes::from_static(&[0, 0, 1]),
    ];
    for (i, data) in junk.into_iter().enumerate() {
        let pts = -1000 * (i as i64 + 1);
        let au = VideoPacket {
            keyframe: true,
            data,
            pts,
            dts: pts,
            damaged: false,
        };
        decoder.decode(&au, &mut |p| pictures.push(p)).unwrap();
    }
    // Then the real stream still decodes from its first IDR.
    for au in &fixture.aus[..60] {
        decoder.decode(au, &mut |p| pictures.push(p)).unwrap();
    }
    decoder.flush(&mut |p| pictures.push(p));
    let stats = decoder.stats();
    assert!(stats.errors >= 1, "{stats:?}");
    // Junk may or may not yield a (garbage) picture; the real GOP is whole.
    let real: Vec<Picture> = pictures.into_iter().filter(|p| p.pts >= 0).collect();
    let mut expected: Vec<i64> = fixture.aus[..60].iter().map(|a| a.pts).collect();
    expected.sort_unstable();
    assert_eq!(real.iter().map(|p| p.pts).collect::<Vec<_>>(), expected);
    assert_matches_ffmpeg(fixture, &real);
}

#[test]
fn decoder_and_pictures_can_move_to_other_threads() {
    fn assert_send<T: Send + 'static>() {}
    assert_send::<H264Decoder>();
    assert_send::<Picture>();
}

/// MP4 stores H.264 as length-prefixed NAL units with the parameter sets in
/// `avcC`: the decoder takes that layout from the track's parameters and
/// gives the very pictures it gives for the Annex-B stream.
#[test]
fn length_prefixed_packets_decode_like_annexb() {
    use cht_core::h264::{
        annexb_nals, annexb_to_avcc, nal_type, nal_unit_type, video_params, AvcDecoderConfig,
    };
    use cht_core::PacketFormat;

    let fixture = av_high();
    let first = &fixture.aus[0].data;
    let find = |kind| {
        annexb_nals(first)
            .find(|n| nal_unit_type(n) == kind)
            .map(bytes::Bytes::copy_from_slice)
            .expect("the first access unit carries SPS and PPS")
    };
    let config = AvcDecoderConfig::from_parameter_sets(find(nal_type::SPS), find(nal_type::PPS))
        .expect("x264 parameter sets");
    let params = video_params(&config, PacketFormat::LengthPrefixed { length_size: 4 })
        .expect("parsable SPS");
    // As an MP4 sample: no parameter sets in band, 4-byte lengths.
    let samples: Vec<VideoPacket> = fixture
        .aus
        .iter()
        .map(|au| {
            let mut sample = Vec::new();
            let slices = annexb_nals(&au.data)
                .filter(|n| !matches!(nal_unit_type(n), nal_type::SPS | nal_type::PPS));
            for nal in slices {
                let mut one = vec![0, 0, 0, 1];
                one.extend_from_slice(nal);
                annexb_to_avcc(&one, &mut sample);
            }
            VideoPacket {
                data: sample.into(),
                ..au.clone()
            }
        })
        .collect();
    let mut decoder = H264Decoder::for_params(&params).unwrap();
    let mut pictures = Vec::new();
    for sample in &samples {
        decoder.decode(sample, &mut |p| pictures.push(p)).unwrap();
    }
    decoder.flush(&mut |p| pictures.push(p));
    let (annexb, _) = decode_all(&fixture.aus);
    assert_eq!(pictures.len(), 300);
    assert!(pictures == annexb, "same pictures from both layouts");
    assert_eq!(decoder.stats().errors, 0);
}

/// The access units of each GOP, from each IDR to the next.
fn gops(aus: &[VideoPacket]) -> Vec<&[VideoPacket]> {
    let starts = idr_indices(aus);
    let mut ends = starts[1..].to_vec();
    ends.push(aus.len());
    starts.iter().zip(ends).map(|(&s, e)| &aus[s..e]).collect()
}

#[test]
fn one_decoder_ending_each_gop_gives_the_pictures_of_a_fresh_one_per_gop() {
    let aus = &av_high().aus;
    let gops = gops(aus);
    assert!(gops.len() >= 3, "the fixture has {} GOPs", gops.len());
    let mut fresh = Vec::new();
    for gop in &gops {
        let mut decoder = H264Decoder::new().unwrap();
        for au in *gop {
            decoder.decode(au, &mut |p| fresh.push(p)).unwrap();
        }
        decoder.flush(&mut |p| fresh.push(p));
    }
    let mut reused = Vec::new();
    let mut decoder = H264Decoder::new().unwrap();
    // Backwards: the GOPs a decoding thread gets are not consecutive.
    let order: Vec<usize> = (0..gops.len()).rev().collect();
    for &g in &order {
        let mut gop_pictures = Vec::new();
        for au in gops[g] {
            decoder.decode(au, &mut |p| gop_pictures.push(p)).unwrap();
        }
        decoder.end_gop(&mut |p| gop_pictures.push(p));
        reused.push((g, gop_pictures));
    }
    reused.sort_by_key(|(g, _)| *g);
    let reused: Vec<Picture> = reused.into_iter().flat_map(|(_, p)| p).collect();
    assert_eq!(reused.len(), aus.len(), "a picture per access unit");
    assert_eq!(fresh.len(), reused.len());
    for (a, b) in fresh.iter().zip(&reused) {
        assert_eq!(a.pts, b.pts);
        assert!(a.y == b.y && a.u == b.u && a.v == b.v, "pts {}", a.pts);
    }
    let stats = decoder.stats();
    assert_eq!(stats.decoded, aus.len() as u64);
    assert_eq!((stats.errors, stats.concealed, stats.lost), (0, 0, 0));
}

#[test]
fn after_the_end_of_a_gop_decoding_resumes_at_a_keyframe() {
    let aus = &av_high().aus;
    let gops = gops(aus);
    let mut decoder = H264Decoder::new().unwrap();
    let mut pictures = Vec::new();
    for au in gops[0] {
        decoder.decode(au, &mut |p| pictures.push(p)).unwrap();
    }
    decoder.end_gop(&mut |p| pictures.push(p));
    assert_eq!(pictures.len(), gops[0].len());
    // The second GOP without its IDR: nothing to predict from.
    let (idr, rest) = gops[1].split_first().unwrap();
    for au in rest {
        decoder.decode(au, &mut |p| pictures.push(p)).unwrap();
    }
    assert_eq!(pictures.len(), gops[0].len(), "no picture without the IDR");
    assert_eq!(decoder.stats().skipped_until_idr, rest.len() as u64);
    for au in std::iter::once(idr).chain(rest) {
        decoder.decode(au, &mut |p| pictures.push(p)).unwrap();
    }
    decoder.end_gop(&mut |p| pictures.push(p));
    assert_eq!(pictures.len(), gops[0].len() + gops[1].len());
}
