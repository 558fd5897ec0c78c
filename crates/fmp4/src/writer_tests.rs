//! Writer behaviour checked through the crate's own reader. Interop with
//! ffmpeg is tested in the workspace's `tests/fmp4.rs`.

use std::io::{self, Write};

use cht_core::aac::AacConfig;
use cht_core::h264::{annexb_to_avcc, AvcDecoderConfig};
use cht_core::{AudioPacket, AudioParams, PacketFormat, VideoPacket, VideoParams};

use super::*;
use crate::{probe_bytes, Mp4Samples, TrackKind};

/// SPS of an x264 1920x1080 High@4.0 stream, and a matching PPS.
const SPS: [u8; 27] = [
    0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00, 0x00, 0x03,
    0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc6, 0x58,
];
const PPS: [u8; 6] = [0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];

fn avc_config() -> AvcDecoderConfig {
    AvcDecoderConfig::from_parameter_sets(SPS.to_vec().into(), PPS.to_vec().into()).unwrap()
}

fn video_config() -> VideoParams {
    cht_core::h264::video_params(&avc_config(), PacketFormat::Elementary).unwrap()
}

fn aac_config() -> AacConfig {
    AacConfig {
        object_type: 2,
        sampling_index: 3,
        sample_rate: 48_000,
        channel_config: 2,
    }
}

fn audio_config() -> AudioParams {
    aac_config().audio_params()
}

/// Frame `n` at 30 fps starting at `start`, keyframe every `gop`; contents
/// differ per frame so data mix-ups show.
fn access_unit(n: i64, start: i64, gop: i64) -> VideoPacket {
    let keyframe = n % gop == 0;
    let mut data = vec![0, 0, 0, 1, 0x09, 0xf0];
    if keyframe {
        for nal in [&SPS[..], &PPS[..]] {
            data.extend_from_slice(&[0, 0, 1]);
            data.extend_from_slice(nal);
        }
    }
    data.extend_from_slice(&[0, 0, 0, 1, if keyframe { 0x65 } else { 0x41 }]);
    data.extend((0..40 + n % 7).map(|i| (n * 31 + i) as u8 | 0x80));
    let dts = start + n * 3000;
    VideoPacket {
        pts: dts + 6000,
        dts,
        keyframe,
        damaged: false,
        data: data.into(),
    }
}

fn audio_frame(n: i64, start: i64) -> AudioPacket {
    let payload: Vec<u8> = (0..20 + n % 5).map(|i| (n + i) as u8).collect();
    AudioPacket {
        track: 0,
        pts: start + n * 1920,
        samples: 1024,
        data: payload.into(),
    }
}

/// Pushes `seconds` of 30 fps video and 48 kHz audio in arrival order.
fn record<W: Write>(w: &mut FragmentWriter<W>, seconds: i64, gop: i64) -> Vec<FragmentInfo> {
    let (video_start, audio_start) = (900_000, 903_000);
    let mut infos = Vec::new();
    let mut a = 0;
    for v in 0..seconds * 30 {
        infos.extend(w.push_video(&access_unit(v, video_start, gop)).unwrap());
        while audio_start + a * 1920 <= video_start + v * 3000 {
            infos.extend(w.push_audio(&audio_frame(a, audio_start)).unwrap());
            a += 1;
        }
    }
    infos
}

fn writer(options: FragmentOptions) -> FragmentWriter<Vec<u8>> {
    FragmentWriter::new(
        Vec::new(),
        Some(&video_config()),
        std::slice::from_ref(&audio_config()),
        options,
    )
    .unwrap()
}

#[test]
fn samples_round_trip_with_timeline_from_the_origin() {
    let mut w = writer(FragmentOptions::default());
    record(&mut w, 3, 30);
    let (file, summary) = w.finish().unwrap();
    assert_eq!((summary.video_samples, summary.audio_samples), (90, 138));
    assert_eq!(summary.origin_90k, Some(900_000));
    assert_eq!(summary.bytes_written, file.len() as u64);

    let samples: Vec<_> = Mp4Samples::from_bytes(&file)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let video: Vec<_> = samples
        .iter()
        .filter(|s| s.kind == TrackKind::Video)
        .collect();
    let audio: Vec<_> = samples
        .iter()
        .filter(|s| s.kind == TrackKind::Audio)
        .collect();
    assert_eq!((video.len(), audio.len()), (90, 138));
    for (n, s) in video.iter().enumerate() {
        let au = access_unit(n as i64, 900_000, 30);
        let mut avcc = Vec::new();
        annexb_to_avcc(&au.data, &mut avcc);
        assert_eq!(s.data, avcc, "video sample {n}");
        assert_eq!(
            (s.dts, s.pts, s.duration),
            (n as i64 * 3000, n as i64 * 3000 + 6000, 3000)
        );
        assert_eq!(s.keyframe, n % 30 == 0);
    }
    for (n, s) in audio.iter().enumerate() {
        assert_eq!(
            s.data,
            &audio_frame(n as i64, 903_000).data[..],
            "audio sample {n}"
        );
        // 3000 ticks after the video origin = 1600 samples at 48 kHz.
        assert_eq!(
            (s.dts, s.pts, s.duration, s.timescale),
            (1600 + n as i64 * 1024, s.dts, 1024, 48_000)
        );
        assert!(s.keyframe);
    }
    // Decode order across tracks.
    assert!(samples
        .windows(2)
        .all(|w| w[0].dts_seconds() <= w[1].dts_seconds()));
}

#[test]
fn init_segment_describes_both_codecs() {
    let w = writer(FragmentOptions::default());
    let (file, summary) = w.finish().unwrap();
    assert_eq!(summary.fragments, 0);
    let info = probe_bytes(&file).unwrap();
    assert!(info.fragmented && !info.truncated_tail);
    let video = info.video_track().unwrap();
    assert_eq!(
        (
            video.codec.as_str(),
            video.timescale,
            video.width,
            video.height
        ),
        ("avc1.640028", 90_000, Some(1920), Some(1080))
    );
    assert_eq!(video.avc.as_ref(), Some(&avc_config()));
    assert_eq!(
        video
            .video_params
            .as_ref()
            .map(|p| (p.width, p.height, p.format)),
        Some((1920, 1080, PacketFormat::LengthPrefixed { length_size: 4 }))
    );
    let audio = info.audio_track().unwrap();
    assert_eq!(
        (audio.codec.as_str(), audio.timescale, audio.channels),
        ("mp4a.40.2", 48_000, Some(2))
    );
    assert_eq!(audio.audio, Some(aac_config()));
    assert_eq!(audio.audio_params, Some(audio_config()));
    // High profile: avcC ends with the chroma/bit-depth extension.
    let at = file.windows(4).position(|w| w == b"avcC").unwrap();
    let size = u32::from_be_bytes(file[at - 4..at].try_into().unwrap()) as usize;
    let avcc_end = at - 4 + size;
    assert_eq!(&file[avcc_end - 4..avcc_end], &[0xfd, 0xf8, 0xf8, 0x00]);
}

#[test]
fn fragments_start_at_keyframes_and_respect_the_time_limit() {
    let mut w = writer(FragmentOptions::default());
    let infos = record(&mut w, 4, 15);
    assert!(infos.len() >= 7);
    for f in &infos {
        assert!(f.starts_with_keyframe, "{f:?}");
        assert_eq!(f.video_samples, 15);
    }
    let mut w = writer(FragmentOptions {
        fragment_ms: 400,
        ..FragmentOptions::default()
    });
    let infos = record(&mut w, 4, 300);
    assert!(infos.len() >= 9, "{} fragments", infos.len());
    for f in &infos {
        assert!(
            f.duration_seconds >= 0.4 && f.duration_seconds < 0.5,
            "{f:?}"
        );
    }
    assert!(infos
        .windows(2)
        .all(|w| w[1].sequence == w[0].sequence + 1 && w[1].offset == w[0].offset + w[0].bytes));
}

#[test]
fn buffered_bytes_force_a_cut() {
    let mut w = writer(FragmentOptions {
        fragment_ms: 60_000,
        max_fragment_bytes: 400,
    });
    let infos = record(&mut w, 2, 600);
    assert!(infos.len() > 8, "{} fragments", infos.len());
    assert!(infos.iter().all(|f| f.bytes < 1000), "{infos:?}");
}

/// Records how the writer uses its output.
#[derive(Default)]
struct CallLog {
    writes: Vec<usize>,
    flushed_after: Vec<usize>,
}

impl Write for CallLog {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes.push(buf.len());
        Ok(buf.len())
    }
    /// Like `File`: one `writev` takes every slice.
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let len = bufs.iter().map(|b| b.len()).sum();
        self.writes.push(len);
        Ok(len)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.flushed_after.push(self.writes.len());
        Ok(())
    }
}

#[test]
fn every_fragment_is_one_write_call_then_a_flush() {
    let mut w = FragmentWriter::new(
        CallLog::default(),
        Some(&video_config()),
        std::slice::from_ref(&audio_config()),
        FragmentOptions::default(),
    )
    .unwrap();
    let infos = record(&mut w, 3, 30);
    let (log, summary) = w.finish().unwrap();
    assert_eq!(log.writes.len(), 1 + summary.fragments as usize);
    assert_eq!(
        log.flushed_after,
        (1..=log.writes.len()).collect::<Vec<_>>()
    );
    for (info, &len) in infos.iter().zip(&log.writes[1..]) {
        assert_eq!(info.bytes, len as u64);
    }
}

/// A writer that takes a few bytes per call still gets every byte, in order.
#[test]
fn short_writes_lose_nothing() {
    struct Dribble(Vec<u8>);
    impl Write for Dribble {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(7);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let opts = FragmentOptions::default();
    let mut a = FragmentWriter::new(
        Dribble(Vec::new()),
        Some(&video_config()),
        std::slice::from_ref(&audio_config()),
        opts.clone(),
    )
    .unwrap();
    let mut b = FragmentWriter::new(
        Vec::new(),
        Some(&video_config()),
        std::slice::from_ref(&audio_config()),
        opts,
    )
    .unwrap();
    record(&mut a, 3, 30);
    record(&mut b, 3, 30);
    let (a, _) = a.finish().unwrap();
    let (b, summary) = b.finish().unwrap();
    assert_eq!(a.0, b);
    assert_eq!(b.len() as u64, summary.bytes_written);
}

#[test]
fn bad_input_is_skipped_or_refused() {
    assert!(matches!(
        FragmentWriter::new(Vec::new(), None, &[], FragmentOptions::default()),
        Err(Fmp4Error::NoTracks)
    ));
    let mut video_only = FragmentWriter::new(
        Vec::new(),
        Some(&video_config()),
        &[],
        FragmentOptions::default(),
    )
    .unwrap();
    assert!(matches!(
        video_only.push_audio(&audio_frame(0, 0)),
        Err(Fmp4Error::NoSuchTrack("audio"))
    ));

    let mut w = writer(FragmentOptions::default());
    let mut empty = access_unit(0, 0, 1);
    empty.data = vec![1, 2, 3].into();
    assert_eq!(w.push_video(&empty).unwrap(), None);
    let mut nothing = audio_frame(0, 0);
    nothing.data = Default::default();
    assert_eq!(w.push_audio(&nothing).unwrap(), None);
    let mut bad_cto = access_unit(0, 0, 1);
    bad_cto.pts = i64::MAX;
    w.push_video(&bad_cto).unwrap();
    let (_, summary) = w.finish().unwrap();
    assert_eq!(
        (
            summary.skipped_samples,
            summary.bad_composition_offsets,
            summary.video_samples
        ),
        (2, 1, 1)
    );
}

#[test]
fn a_late_audio_track_never_gets_negative_times() {
    let mut w = writer(FragmentOptions {
        fragment_ms: 100,
        ..FragmentOptions::default()
    });
    for n in 0..10 {
        w.push_video(&access_unit(n, 900_000, 300)).unwrap();
    }
    // Audio shows up after the first fragment, stamped before the origin.
    for n in 0..10 {
        w.push_audio(&audio_frame(n, 800_000)).unwrap();
    }
    let (file, _) = w.finish().unwrap();
    let audio: Vec<_> = Mp4Samples::from_bytes(&file)
        .unwrap()
        .map(Result::unwrap)
        .filter(|s| s.kind == TrackKind::Audio)
        .collect();
    assert_eq!(audio.len(), 10);
    assert_eq!(audio[0].dts, 0);
    assert!(audio.windows(2).all(|w| w[1].dts == w[0].dts + 1024));
}

/// A byte buffer one side appends to while the other side reads it, like a
/// recording that an analyser follows on disk.
#[derive(Clone, Default)]
struct GrowingFile(std::rc::Rc<std::cell::RefCell<Vec<u8>>>, u64);

impl Write for GrowingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Read for GrowingFile {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let data = self.0.borrow();
        let start = (self.1 as usize).min(data.len());
        let n = out.len().min(data.len() - start);
        out[..n].copy_from_slice(&data[start..start + n]);
        self.1 += n as u64;
        Ok(n)
    }
}

impl io::Seek for GrowingFile {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        self.1 = match to {
            io::SeekFrom::Start(p) => p,
            io::SeekFrom::End(d) => (self.0.borrow().len() as i64 + d) as u64,
            io::SeekFrom::Current(d) => (self.1 as i64 + d) as u64,
        };
        Ok(self.1)
    }
}

#[test]
fn a_reader_can_follow_a_growing_recording() {
    let file = GrowingFile::default();
    let mut w = FragmentWriter::new(
        file.clone(),
        Some(&video_config()),
        &[],
        FragmentOptions::default(),
    )
    .unwrap();
    for n in 0..40 {
        w.push_video(&access_unit(n, 0, 15)).unwrap();
    }
    let mut reader = Mp4Samples::from_reader(file.clone()).unwrap();
    let first: Vec<_> = reader.by_ref().map(Result::unwrap).collect();
    assert_eq!(first.len(), 30, "two whole GOPs are on disk");
    // Half a fragment appended by hand: not returned yet, flagged as a tail.
    let (mut more, _) = {
        let mut w2 = FragmentWriter::new(
            Vec::new(),
            Some(&video_config()),
            &[],
            FragmentOptions::default(),
        )
        .unwrap();
        for n in 0..16 {
            w2.push_video(&access_unit(n, 0, 15)).unwrap();
        }
        w2.finish().unwrap()
    };
    more.drain(..w.summary().init_bytes as usize);
    file.0
        .borrow_mut()
        .extend_from_slice(&more[..more.len() / 2]);
    assert!(reader.next().is_none());
    assert!(reader.truncated_tail());
    file.0
        .borrow_mut()
        .truncate(w.summary().bytes_written as usize);
    for n in 40..60 {
        w.push_video(&access_unit(n, 0, 15)).unwrap();
    }
    w.finish().unwrap();
    let rest: Vec<_> = reader.by_ref().map(Result::unwrap).collect();
    assert_eq!(rest.len(), 30);
    assert_eq!(rest[0].dts, 30 * 3000);
    assert!(!reader.truncated_tail());
}
