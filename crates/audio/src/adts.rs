//! Splitting a raw ADTS byte stream into whole frames.
//!
//! The TS demuxer already hands out whole frames; this is for everything that
//! reads ADTS bytes directly (offline tools, tests, the fuzz target). Bytes
//! arrive in arbitrary pieces: several frames per buffer, frames split across
//! buffers, CRC-protected (9-byte) headers, and garbage to resync over.

use bytes::Bytes;
use cht_core::aac::{AacConfig, AdtsError, AdtsHeader, FRAME_SAMPLES};
use cht_core::{AudioPacket, AudioParams, CLOCK_HZ};

/// One ADTS frame, header included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdtsFrame {
    /// The parsed header.
    pub header: AdtsHeader,
    /// The whole frame, header included.
    pub data: Bytes,
}

impl AdtsFrame {
    /// The frame as a demuxer hands it out: the raw AAC frame, its header
    /// removed.
    pub fn into_packet(self, pts: i64) -> AudioPacket {
        AudioPacket {
            track: 0,
            pts,
            samples: FRAME_SAMPLES * u32::from(self.header.raw_blocks),
            data: self.data.slice(self.header.header_len..),
        }
    }

    /// The codec parameters the header announces.
    pub fn params(&self) -> AudioParams {
        self.header.config.audio_params()
    }
}

/// What the framer had to throw away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FramerStats {
    /// Frames returned.
    pub frames: u64,
    /// Bytes skipped while looking for a sync word.
    pub bytes_skipped: u64,
    /// Times the framer lost sync and had to search for it.
    pub resyncs: u64,
}

/// Incremental ADTS framer: [`push`](Self::push) bytes, then pull frames with
/// [`next_frame`](Self::next_frame) until it returns `None`.
///
/// `0xFFF` occurs by chance in compressed data, so after a loss of sync a
/// header is only believed when the next header follows right after it with
/// the same configuration (or the stream has ended, see [`finish`](Self::finish)).
#[derive(Debug, Default)]
pub struct AdtsFramer {
    buf: Vec<u8>,
    pos: usize,
    /// The configuration of the last confirmed frame: while in sync, a frame
    /// with the same configuration needs no look-ahead confirmation.
    locked: Option<AacConfig>,
    at_end: bool,
    lost_sync: bool,
    stats: FramerStats,
}

/// Result of examining the bytes at the current position.
enum Probe {
    Frame(AdtsHeader),
    NeedMore,
    NotAFrame,
}

impl AdtsFramer {
    /// A framer that has seen nothing yet.
    pub fn new() -> Self {
        AdtsFramer::default()
    }

    /// Appends bytes of the stream.
    pub fn push(&mut self, data: &[u8]) {
        // Compact before growing so the buffer holds at most one partial frame
        // plus the new bytes.
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Declares the end of the stream: the last frame no longer needs a
    /// following header to be believed.
    pub fn finish(&mut self) {
        self.at_end = true;
    }

    /// What was framed and skipped so far.
    pub fn stats(&self) -> FramerStats {
        self.stats
    }

    /// Bytes buffered but not yet returned as frames.
    pub fn pending_bytes(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next whole frame, or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<AdtsFrame> {
        while self.pos < self.buf.len() {
            match self.probe() {
                Probe::Frame(header) => return Some(self.take(header)),
                Probe::NeedMore => return None,
                Probe::NotAFrame => self.skip_to_next_sync(),
            }
        }
        None
    }

    fn probe(&self) -> Probe {
        let rest = &self.buf[self.pos..];
        let header = match AdtsHeader::parse(rest) {
            Ok(h) => h,
            Err(AdtsError::Incomplete) if !self.at_end => return Probe::NeedMore,
            Err(_) => return Probe::NotAFrame,
        };
        if rest.len() < header.frame_len {
            return if self.at_end {
                Probe::NotAFrame
            } else {
                Probe::NeedMore
            };
        }
        if self.locked == Some(header.config) {
            return Probe::Frame(header);
        }
        match AdtsHeader::parse(&rest[header.frame_len..]) {
            Ok(next) if next.config == header.config => Probe::Frame(header),
            Ok(_) => Probe::NotAFrame,
            Err(AdtsError::Incomplete) if !self.at_end => Probe::NeedMore,
            // Nothing after the last frame of the stream: believe it.
            Err(AdtsError::Incomplete) if rest.len() == header.frame_len => Probe::Frame(header),
            Err(_) => Probe::NotAFrame,
        }
    }

    fn take(&mut self, header: AdtsHeader) -> AdtsFrame {
        let data = Bytes::copy_from_slice(&self.buf[self.pos..self.pos + header.frame_len]);
        self.pos += header.frame_len;
        self.locked = Some(header.config);
        self.lost_sync = false;
        self.stats.frames += 1;
        AdtsFrame { header, data }
    }

    /// Skips at least one byte, up to the next `0xFF` (a possible sync word).
    fn skip_to_next_sync(&mut self) {
        if !self.lost_sync {
            self.stats.resyncs += 1;
            self.lost_sync = true;
        }
        self.locked = None;
        let rest = &self.buf[self.pos + 1..];
        let skip = 1 + rest.iter().position(|&b| b == 0xff).unwrap_or(rest.len());
        self.pos += skip;
        self.stats.bytes_skipped += skip as u64;
    }
}

/// A whole ADTS stream as a demuxer would hand it out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdtsTrack {
    /// The parameters of the first frame (`None`: no frame at all).
    pub params: Option<AudioParams>,
    /// The packets in those parameters, with contiguous timestamps.
    pub packets: Vec<AudioPacket>,
    /// Frames in another configuration, left out.
    pub other_config_frames: u64,
    /// What the framer read and skipped.
    pub framer: FramerStats,
}

/// Splits a whole ADTS file into packets with contiguous timestamps
/// starting at `first_pts` (90 kHz), as a TS demuxer would give them.
pub fn packets_from_adts(data: &[u8], first_pts: i64) -> AdtsTrack {
    let mut framer = AdtsFramer::new();
    framer.push(data);
    framer.finish();
    let mut track = AdtsTrack::default();
    let mut first_config = None;
    let mut samples: i64 = 0;
    while let Some(frame) = framer.next_frame() {
        let config = frame.header.config;
        let rate = config.sample_rate as i64;
        let pts = first_pts + samples * CLOCK_HZ as i64 / rate;
        samples += i64::from(FRAME_SAMPLES) * frame.header.raw_blocks as i64;
        if *first_config.get_or_insert(config) != config {
            track.other_config_frames += 1;
            continue;
        }
        track.params.get_or_insert_with(|| frame.params());
        track.packets.push(frame.into_packet(pts));
    }
    track.framer = framer.stats();
    track
}

#[cfg(test)]
mod tests {
    use super::*;
    use cht_core::aac::write_adts_header;

    const CONFIG: AacConfig = AacConfig {
        object_type: 2,
        sampling_index: 3,
        sample_rate: 48000,
        channel_config: 2,
    };

    fn frame(payload_len: usize, fill: u8) -> Vec<u8> {
        let mut out = Vec::new();
        write_adts_header(&CONFIG, payload_len, &mut out);
        out.extend(std::iter::repeat_n(fill, payload_len));
        out
    }

    /// The same frame with a CRC: protection_absent = 0 and two CRC bytes.
    fn crc_frame(payload_len: usize, fill: u8) -> Vec<u8> {
        let mut out = frame(payload_len + 2, fill);
        out[1] &= 0xfe;
        out[7] = 0x12;
        out[8] = 0x34;
        out
    }

    fn drain(framer: &mut AdtsFramer) -> Vec<AdtsFrame> {
        std::iter::from_fn(|| framer.next_frame()).collect()
    }

    #[test]
    fn splits_several_frames_in_one_buffer() {
        let stream: Vec<u8> = [frame(10, 1), frame(20, 2), frame(30, 3)].concat();
        let mut framer = AdtsFramer::new();
        framer.push(&stream);
        framer.finish();
        let frames = drain(&mut framer);
        let lens: Vec<_> = frames.iter().map(|f| f.data.len()).collect();
        assert_eq!(lens, vec![17, 27, 37]);
        assert_eq!(frames[1].data[7], 2);
        assert_eq!(
            framer.stats(),
            FramerStats {
                frames: 3,
                bytes_skipped: 0,
                resyncs: 0
            }
        );
    }

    #[test]
    fn reassembles_frames_split_across_buffers_byte_by_byte() {
        let stream: Vec<u8> = [frame(10, 1), crc_frame(5, 2), frame(7, 3)].concat();
        let mut framer = AdtsFramer::new();
        let mut frames = Vec::new();
        for b in &stream {
            framer.push(std::slice::from_ref(b));
            frames.extend(drain(&mut framer));
        }
        framer.finish();
        frames.extend(drain(&mut framer));
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[1].header.header_len, 9);
        let packet = frames[1].clone().into_packet(0);
        assert_eq!(&packet.data[..], &[2u8; 5][..]);
        assert_eq!(framer.stats().bytes_skipped, 0);
    }

    #[test]
    fn resyncs_after_garbage_including_fake_sync_words() {
        // 0xFF 0xF1 inside the garbage looks like a header but is not followed
        // by another header, so it must not be taken as a frame.
        let garbage = [
            0x00, 0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc, 0x13, 0xff, 0x42,
        ];
        let stream: Vec<u8> = [
            frame(10, 1),
            frame(11, 4),
            garbage.to_vec(),
            frame(12, 2),
            frame(14, 3),
        ]
        .concat();
        let mut framer = AdtsFramer::new();
        framer.push(&stream);
        framer.finish();
        let frames = drain(&mut framer);
        let fills: Vec<_> = frames.iter().map(|f| f.data[7]).collect();
        assert_eq!(fills, vec![1, 4, 2, 3]);
        assert_eq!(framer.stats().bytes_skipped, garbage.len() as u64);
        assert_eq!(framer.stats().resyncs, 1);
    }

    #[test]
    fn waits_for_confirmation_before_trusting_a_first_header() {
        let mut framer = AdtsFramer::new();
        framer.push(&frame(10, 1));
        assert!(
            framer.next_frame().is_none(),
            "unconfirmed header needs the next one"
        );
        framer.push(&frame(10, 2)[..3]);
        assert!(framer.next_frame().is_none());
        framer.push(&frame(10, 2)[3..]);
        assert_eq!(framer.next_frame().map(|f| f.data[7]), Some(1));
        framer.finish();
        assert_eq!(framer.next_frame().map(|f| f.data[7]), Some(2));
        assert!(framer.next_frame().is_none());
    }

    #[test]
    fn truncated_tail_is_skipped_not_returned() {
        let mut stream = [frame(10, 1), frame(10, 2)].concat();
        stream.truncate(stream.len() - 4);
        let track = packets_from_adts(&stream, 0);
        assert_eq!(track.packets.len(), 1);
        assert_eq!(track.framer.bytes_skipped, 13);
    }

    #[test]
    fn assigns_contiguous_timestamps() {
        let stream: Vec<u8> = (0..4).flat_map(|i| frame(9, i)).collect();
        let track = packets_from_adts(&stream, 1000);
        let pts: Vec<_> = track.packets.iter().map(|f| f.pts).collect();
        assert_eq!(pts, vec![1000, 1000 + 1920, 1000 + 3840, 1000 + 5760]);
        assert_eq!(track.params, Some(CONFIG.audio_params()));
        let mut mono = CONFIG;
        mono.channel_config = 1;
        let mut other = stream.clone();
        write_adts_header(&mono, 9, &mut other);
        other.extend([0u8; 9]);
        let track = packets_from_adts(&other, 0);
        assert_eq!((track.packets.len(), track.other_config_frames), (4, 1));
    }
}
