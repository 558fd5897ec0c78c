//! Everything behind the framer: routes each packet by PID to the tables,
//! the continuity check and the elementary streams followed (one video
//! stream, every audio stream of every program), and turns finished PES
//! packets into items.

use bytes::Bytes;
use cht_core::{
    AnnouncedAudio, DemuxItem, Discontinuity, DiscontinuityKind, IgnoredStream, PtsUnwrapper,
    TrackList, VideoCodec, VideoPacket,
};

use crate::audio::{AudioOutput, AudioSplitter};
use crate::continuity::{Continuity, ContinuityTracker};
use crate::item::PTS_JUMP_TICKS;
use crate::packet::{TsPacket, NULL_PID, PAT_PID, PID_COUNT, TS_PACKET_LEN};
use crate::pes::{CompletePes, PesAssembler, PesHeader, PesOutput};
use crate::psi::{EsInfo, PsiParser};
use crate::sink::DemuxSink;
use crate::stats::DemuxStats;
use crate::streams::{AudioFraming, StreamKind, SEND_AAC};
use crate::video::VideoParser;

/// Audio tracks followed at most; more are named and left alone.
const MAX_AUDIO_TRACKS: usize = 16;

/// What a PID carries, as far as the demuxer follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PidRole {
    Ignored,
    Pat,
    Pmt,
    Video,
    /// An audio track, by track number.
    Audio(u8),
}

/// The PES assembly of one followed elementary stream.
#[derive(Debug)]
struct EsTrack {
    pid: u16,
    pes: PesAssembler,
    /// Last DTS (video) or PES PTS (audio), to notice timeline jumps.
    last_time: Option<i64>,
}

impl EsTrack {
    fn new(pid: u16) -> Self {
        EsTrack {
            pid,
            pes: PesAssembler::default(),
            last_time: None,
        }
    }
}

struct VideoTrack {
    es: EsTrack,
    parser: VideoParser,
}

struct AudioTrack {
    track: u8,
    framing: AudioFraming,
    es: EsTrack,
    splitter: AudioSplitter,
}

pub(crate) struct PacketRouter {
    roles: Box<[PidRole]>,
    continuity: ContinuityTracker,
    psi: PsiParser,
    /// PMT PIDs of the PAT's programs, in table order.
    pmt_pids: Vec<u16>,
    /// The streams of each PMT PID.
    programs: Vec<(u16, Vec<EsInfo>)>,
    video: Option<VideoTrack>,
    /// Followed audio tracks, in track order.
    audio: Vec<AudioTrack>,
    /// The PID each audio track number was given to (index: track).
    audio_pids: Vec<u16>,
    /// Private-data PIDs whose bytes showed no audio sync.
    not_audio: Vec<u16>,
    /// The track list announced last.
    announced: Option<TrackList>,
    /// A keyframe went out: from then on only IDRs and recovery points are.
    seen_keyframe: bool,
    /// One clock for all PIDs, so audio and video cross a wrap together.
    clock: PtsUnwrapper,
    packet_seq: u64,
    /// Packets of PIDs no table has named yet, kept until the first program
    /// map (`None` from then on): a damaged PAT or PMT at the start of a
    /// stream then does not cost its first pictures.
    early: Option<Vec<[u8; TS_PACKET_LEN]>>,
    /// The last video DTS as sent (33 bits), to tell which of a
    /// contradicting PTS and DTS is damaged.
    last_raw_dts: Option<u64>,
    /// Replaying `early` now.
    replaying: bool,
    pub stats: DemuxStats,
}

/// At most this many packets wait for the first program map (750 KB).
const EARLY_PACKETS: usize = 4096;

impl Default for PacketRouter {
    fn default() -> Self {
        let mut roles = vec![PidRole::Ignored; PID_COUNT].into_boxed_slice();
        roles[PAT_PID as usize] = PidRole::Pat;
        PacketRouter {
            roles,
            continuity: ContinuityTracker::default(),
            psi: PsiParser::default(),
            pmt_pids: Vec::new(),
            programs: Vec::new(),
            video: None,
            audio: Vec::new(),
            audio_pids: Vec::new(),
            not_audio: Vec::new(),
            announced: None,
            seen_keyframe: false,
            clock: PtsUnwrapper::new(),
            packet_seq: 0,
            early: Some(Vec::new()),
            last_raw_dts: None,
            replaying: false,
            stats: DemuxStats::default(),
        }
    }
}

impl PacketRouter {
    pub fn packet(&mut self, bytes: &[u8; TS_PACKET_LEN], sink: &mut impl DemuxSink) {
        self.packet_seq += 1;
        let packet = match TsPacket::parse(bytes) {
            Ok(p) if !p.transport_error => p,
            // Dropped here, the packet shows up as a continuity gap next.
            _ => {
                self.stats.transport_errors += 1;
                return;
            }
        };
        let role = self.roles[packet.pid as usize];
        if role == PidRole::Ignored || packet.scrambled || packet.pid == NULL_PID {
            match self.early.as_mut() {
                Some(early)
                    if role == PidRole::Ignored
                        && packet.pid != NULL_PID
                        && early.len() < EARLY_PACKETS =>
                {
                    early.push(*bytes)
                }
                _ => self.stats.ignored_packets += 1,
            }
            return;
        }
        if !self.check_continuity(&packet, role, sink) || packet.payload.is_empty() {
            return;
        }
        match role {
            PidRole::Pat => self.pat(bytes, &packet, sink),
            PidRole::Pmt => self.pmt(bytes, &packet, sink),
            PidRole::Video | PidRole::Audio(_) => self.es_payload(role, &packet, sink),
            PidRole::Ignored => {}
        }
    }

    /// Flushes what is under assembly, oldest PES first.
    pub fn finish(&mut self, sink: &mut impl DemuxSink) {
        let mut order: Vec<(u64, PidRole)> = self
            .audio
            .iter()
            .map(|a| (a.es.pes.started_at, PidRole::Audio(a.track)))
            .collect();
        if let Some(v) = &self.video {
            order.push((v.es.pes.started_at, PidRole::Video));
        }
        // Video first on a tie, as it always was.
        order.sort_by_key(|&(at, role)| (at, role != PidRole::Video));
        for (_, role) in order {
            self.flush_track(role, sink);
        }
        for a in &mut self.audio {
            self.stats.dropped_audio_bytes += a.splitter.discard() as u64;
        }
        self.continuity.forget_all();
    }

    /// Returns false when the packet must not be used (a duplicate).
    fn check_continuity(
        &mut self,
        packet: &TsPacket,
        role: PidRole,
        sink: &mut impl DemuxSink,
    ) -> bool {
        let pid = packet.pid;
        if packet.discontinuity {
            sink.item(discontinuity(pid, DiscontinuityKind::Indicator));
        }
        let found = packet.continuity_counter;
        match self
            .continuity
            .check(pid, found, packet.has_payload, packet.discontinuity)
        {
            Continuity::InOrder => true,
            Continuity::Duplicate => false,
            Continuity::Gap { expected } => {
                self.stats.cc_errors += 1;
                sink.item(discontinuity(
                    pid,
                    DiscontinuityKind::ContinuityError { expected, found },
                ));
                self.packets_lost(role);
                true
            }
        }
    }

    fn packets_lost(&mut self, role: PidRole) {
        match role {
            PidRole::Video => {
                if let Some(track) = &mut self.video {
                    track.es.pes.mark_damaged();
                }
            }
            PidRole::Audio(n) => {
                if let Some(track) = self.audio.iter_mut().find(|a| a.track == n) {
                    track.es.pes.mark_damaged();
                    // The carried frame's continuation may be what was lost.
                    self.stats.dropped_audio_bytes += track.splitter.discard() as u64;
                }
            }
            _ => {}
        }
    }

    fn pat(&mut self, bytes: &[u8; TS_PACKET_LEN], packet: &TsPacket, sink: &mut impl DemuxSink) {
        match self
            .psi
            .pat(bytes, packet.payload, packet.payload_unit_start)
        {
            Ok(Some(pids)) if pids != self.pmt_pids => {
                for old in std::mem::take(&mut self.pmt_pids) {
                    self.set_role(old, PidRole::Ignored);
                }
                // A program moved to another PMT PID: drop its streams
                // until its PMT says what they are.
                self.programs.retain(|(pid, _)| pids.contains(pid));
                self.psi.keep_pmts(&pids);
                for &pid in &pids {
                    self.set_role(pid, PidRole::Pmt);
                }
                self.pmt_pids = pids;
                self.apply_programs(sink);
            }
            Ok(_) => {}
            Err(_) => self.stats.psi_errors += 1,
        }
    }

    fn pmt(&mut self, bytes: &[u8; TS_PACKET_LEN], packet: &TsPacket, sink: &mut impl DemuxSink) {
        let pid = packet.pid;
        match self
            .psi
            .pmt(pid, bytes, packet.payload, packet.payload_unit_start)
        {
            Ok(Some(streams)) => {
                match self.programs.iter_mut().find(|(p, _)| *p == pid) {
                    Some((_, old)) => *old = streams,
                    None => self.programs.push((pid, streams)),
                }
                self.apply_programs(sink);
            }
            Ok(None) => {}
            Err(_) => self.stats.psi_errors += 1,
        }
    }

    /// Follows the streams the PMTs list: the first video stream and every
    /// audio stream, in program order. A stream whose PID stays is
    /// untouched; a stream that goes away is flushed first. The track list
    /// is announced when it changed.
    fn apply_programs(&mut self, sink: &mut impl DemuxSink) {
        let (video, audio, ignored) = self.select_streams();
        self.follow_video(video, sink);
        self.follow_audio(&audio, sink);
        let list = TrackList {
            video: self.video.as_ref().map(|v| v.parser.codec()),
            audio: self
                .audio
                .iter()
                .map(|a| AnnouncedAudio {
                    track: a.track,
                    codec: a.framing.codec(),
                })
                .collect(),
            ignored,
        };
        let nothing_yet = self.announced.is_none() && list == TrackList::default();
        if !nothing_yet && self.announced.as_ref() != Some(&list) {
            self.announced = Some(list.clone());
            sink.item(DemuxItem::Tracks(list));
        }
        self.replay_early(sink);
    }

    /// The video stream, the audio streams and the streams not followed,
    /// over all programs in PAT order.
    #[allow(clippy::type_complexity)]
    fn select_streams(
        &self,
    ) -> (
        Option<(u16, VideoCodec)>,
        Vec<(u16, AudioFraming)>,
        Vec<IgnoredStream>,
    ) {
        // A stream on a table PID would shadow the table: not followed.
        let usable = |pid: u16| pid != PAT_PID && pid != NULL_PID && !self.pmt_pids.contains(&pid);
        let mut video = None;
        let mut audio: Vec<(u16, AudioFraming)> = Vec::new();
        let mut ignored = Vec::new();
        let mut seen: Vec<u16> = Vec::new();
        let programs = self
            .pmt_pids
            .iter()
            .filter_map(|pid| self.programs.iter().find(|(p, _)| p == pid));
        for es in programs.flat_map(|(_, streams)| streams) {
            if !usable(es.pid) || seen.contains(&es.pid) {
                continue;
            }
            seen.push(es.pid);
            let at = format!("on PID {:#x}", es.pid);
            let mut ignore = |what: String, fix: Option<String>| {
                ignored.push(IgnoredStream {
                    id: u32::from(es.pid),
                    what,
                    fix,
                })
            };
            match StreamKind::of(es) {
                StreamKind::Video(codec) if video.is_none() => video = Some((es.pid, codec)),
                StreamKind::Video(codec) => ignore(
                    format!("a second video stream ({codec}, {at}); only the first is recorded"),
                    None,
                ),
                StreamKind::Audio(_) if self.not_audio.contains(&es.pid) => ignore(
                    format!(
                        "private data (stream type {:#04x}) {at} that is not AAC, MPEG audio, AC-3 or Opus",
                        es.stream_type
                    ),
                    Some(SEND_AAC.into()),
                ),
                StreamKind::Audio(framing) if audio.len() < MAX_AUDIO_TRACKS => {
                    audio.push((es.pid, framing))
                }
                StreamKind::Audio(_) => ignore(
                    format!("audio stream {at} (more than {MAX_AUDIO_TRACKS} audio tracks)"),
                    None,
                ),
                StreamKind::Other { what, fix } => ignore(format!("{what} {at}"), fix),
            }
        }
        (video, audio, ignored)
    }

    fn follow_video(&mut self, video: Option<(u16, VideoCodec)>, sink: &mut impl DemuxSink) {
        let current = self.video.as_ref().map(|v| (v.es.pid, v.parser.codec()));
        if current == video {
            return;
        }
        self.flush_track(PidRole::Video, sink);
        if let Some(old) = self.video.take() {
            self.set_role(old.es.pid, PidRole::Ignored);
        }
        if let Some((pid, codec)) = video {
            self.set_role(pid, PidRole::Video);
            self.video = Some(VideoTrack {
                es: EsTrack::new(pid),
                parser: VideoParser::new(codec),
            });
        }
    }

    fn follow_audio(&mut self, audio: &[(u16, AudioFraming)], sink: &mut impl DemuxSink) {
        let gone: Vec<u8> = self
            .audio
            .iter()
            .filter(|a| !audio.contains(&(a.es.pid, a.framing)))
            .map(|a| a.track)
            .collect();
        for track in gone {
            self.flush_track(PidRole::Audio(track), sink);
            if let Some(at) = self.audio.iter().position(|a| a.track == track) {
                let mut old = self.audio.remove(at);
                self.stats.dropped_audio_bytes += old.splitter.discard() as u64;
                self.set_role(old.es.pid, PidRole::Ignored);
            }
        }
        for &(pid, framing) in audio {
            if self.audio.iter().any(|a| a.es.pid == pid) {
                continue;
            }
            let track = match self.audio_pids.iter().position(|&p| p == pid) {
                Some(n) => n,
                None => {
                    self.audio_pids.push(pid);
                    self.audio_pids.len() - 1
                }
            };
            let Ok(track) = u8::try_from(track) else {
                continue;
            };
            self.set_role(pid, PidRole::Audio(track));
            let at = self.audio.partition_point(|a| a.track < track);
            self.audio.insert(
                at,
                AudioTrack {
                    track,
                    framing,
                    es: EsTrack::new(pid),
                    splitter: AudioSplitter::new(track, framing),
                },
            );
        }
    }

    /// The first program map is known: the packets that came before it on
    /// its streams are demuxed now, in order; the rest are ignored.
    fn replay_early(&mut self, sink: &mut impl DemuxSink) {
        if self.replaying || (self.video.is_none() && self.audio.is_empty()) {
            return;
        }
        let Some(early) = self.early.take() else {
            return;
        };
        self.replaying = true;
        for bytes in &early {
            let pid = (u16::from(bytes[1] & 0x1f) << 8) | u16::from(bytes[2]);
            match self.roles[pid as usize] {
                PidRole::Video | PidRole::Audio(_) => self.packet(bytes, sink),
                _ => self.stats.ignored_packets += 1,
            }
        }
        self.replaying = false;
    }

    fn set_role(&mut self, pid: u16, role: PidRole) {
        if let Some(slot) = self.roles.get_mut(pid as usize) {
            *slot = role;
        }
        self.continuity.forget(pid);
    }

    fn es_track(&mut self, role: PidRole) -> Option<&mut EsTrack> {
        match role {
            PidRole::Video => self.video.as_mut().map(|v| &mut v.es),
            PidRole::Audio(n) => self
                .audio
                .iter_mut()
                .find(|a| a.track == n)
                .map(|a| &mut a.es),
            _ => None,
        }
    }

    fn flush_track(&mut self, role: PidRole, sink: &mut impl DemuxSink) {
        let Some(track) = self.es_track(role) else {
            return;
        };
        let mut done = None;
        track.pes.flush(&mut |out| done = Some(out));
        if let Some(out) = done {
            self.pes_output(role, out, sink);
        }
    }

    fn es_payload(&mut self, role: PidRole, packet: &TsPacket, sink: &mut impl DemuxSink) {
        let seq = self.packet_seq;
        let Some(track) = self.es_track(role) else {
            return;
        };
        if packet.payload_unit_start {
            track.pes.started_at = seq;
        }
        // At most two outputs: the PES a unit start ends, and a PES that
        // fits in this one packet.
        let mut outputs: [Option<PesOutput>; 2] = [None, None];
        track
            .pes
            .push(packet.payload_unit_start, packet.payload, &mut |out| {
                if let Some(slot) = outputs.iter_mut().find(|s| s.is_none()) {
                    *slot = Some(out);
                }
            });
        for out in outputs.into_iter().flatten() {
            self.pes_output(role, out, sink);
        }
    }

    fn pes_output(&mut self, role: PidRole, out: PesOutput, sink: &mut impl DemuxSink) {
        let is_audio = matches!(role, PidRole::Audio(_));
        match (out, role) {
            (PesOutput::Complete(pes), PidRole::Audio(n)) => self.audio_pes(n, pes, sink),
            (PesOutput::Complete(pes), _) => self.video_pes(pes, sink),
            (PesOutput::Orphan { bytes, .. }, _) if is_audio => {
                self.stats.dropped_audio_bytes += bytes as u64
            }
            (PesOutput::Orphan { first_of_run, .. }, _) => {
                self.stats.pes_errors += u64::from(first_of_run)
            }
            (PesOutput::Dropped { bytes, .. }, _) => {
                self.stats.pes_errors += 1;
                if is_audio {
                    self.stats.dropped_audio_bytes += bytes as u64;
                }
            }
        }
    }

    fn video_pes(&mut self, pes: CompletePes, sink: &mut impl DemuxSink) {
        let Some((header, data)) = split_pes(pes.bytes) else {
            self.stats.pes_errors += 1;
            return;
        };
        let (Some(raw_pts), false) = (header.pts, data.is_empty()) else {
            self.stats.pes_errors += 1;
            return;
        };
        let (raw_pts, raw_dts) = self.plausible_times(raw_pts, header.dts.unwrap_or(raw_pts));
        let dts = self.clock.extend(raw_dts);
        let pts = self.clock.extend(raw_pts);
        self.note_time(PidRole::Video, dts, sink);
        let Some(video) = self.video.as_mut() else {
            return;
        };
        let head = video.parser.scan(&data);
        // Parameter sets are trusted only from bytes received before a loss.
        let intact = pes.intact_len.saturating_sub(header.payload_offset);
        if let Some(params) = video.parser.update(&data, &head, intact) {
            sink.item(DemuxItem::VideoParams(params));
        }
        if video.parser.params().is_none() {
            self.stats.video_units_before_config += 1;
            return;
        }
        self.stats.video_units += 1;
        self.stats.damaged_video_units += u64::from(pes.damaged);
        // Joined mid-GOP (a long GOP, no keyframe yet): an I picture is
        // where decoding can begin.
        let keyframe = head.keyframe || (head.intra && !self.seen_keyframe);
        self.seen_keyframe |= keyframe;
        sink.item(DemuxItem::Video(VideoPacket {
            pts,
            dts,
            keyframe,
            damaged: pes.damaged,
            data,
        }));
    }

    fn audio_pes(&mut self, n: u8, pes: CompletePes, sink: &mut impl DemuxSink) {
        let total = pes.bytes.len();
        let parsed = split_pes(pes.bytes);
        let (header, es) = match parsed {
            Some(parsed) if !pes.damaged => parsed,
            _ => {
                self.stats.pes_errors += u64::from(parsed.is_none());
                let carried = self
                    .audio
                    .iter_mut()
                    .find(|a| a.track == n)
                    .map_or(0, |a| a.splitter.discard());
                self.stats.dropped_audio_bytes += (total + carried) as u64;
                return;
            }
        };
        let pts = header.pts.map(|raw| self.clock.extend(raw));
        if let Some(pts) = pts {
            self.note_time(PidRole::Audio(n), pts, sink);
        }
        let stats = &mut self.stats;
        let Some(track) = self.audio.iter_mut().find(|a| a.track == n) else {
            return;
        };
        track.splitter.push(es, pts, &mut |out| match out {
            AudioOutput::Params(params) => sink.item(DemuxItem::AudioParams(params)),
            AudioOutput::Packet(frame) => {
                stats.audio_frames += 1;
                sink.item(DemuxItem::Audio(frame));
            }
            AudioOutput::Dropped(bytes) => stats.dropped_audio_bytes += bytes as u64,
        });
        if track.splitter.is_not_audio() {
            let pid = track.es.pid;
            self.not_audio.push(pid);
            self.apply_programs(sink);
        }
    }

    /// A video PES header's (PTS, DTS), raw. A picture is shown at most a
    /// few seconds after it is decoded, never before: a pair that says
    /// otherwise has a bit error in one of them, and the one far from the
    /// previous DTS is replaced by the other (ffmpeg shows such pictures;
    /// a wild PTS would hold back every picture after it).
    fn plausible_times(&mut self, pts: u64, dts: u64) -> (u64, u64) {
        const WRAP: u64 = 1 << 33;
        const MAX_LEAD: u64 = 3 * 90_000;
        let near = |a: u64, b: u64| {
            let d = a.wrapping_sub(b) & (WRAP - 1);
            d <= MAX_LEAD || WRAP - d <= MAX_LEAD
        };
        let lead = pts.wrapping_sub(dts) & (WRAP - 1);
        let (pts, dts) = if lead <= MAX_LEAD {
            (pts, dts)
        } else {
            self.stats.damaged_timestamps += 1;
            match self.last_raw_dts {
                Some(last) if !near(dts, last) && near(pts, last) => (pts, pts),
                _ => (dts, dts),
            }
        };
        self.last_raw_dts = Some(dts);
        (pts, dts)
    }

    /// Reports a jump of a track's timeline.
    fn note_time(&mut self, role: PidRole, time: i64, sink: &mut impl DemuxSink) {
        let Some(track) = self.es_track(role) else {
            return;
        };
        if let Some(from) = track.last_time.replace(time) {
            if (time - from).abs() > PTS_JUMP_TICKS {
                let pid = track.pid;
                sink.item(discontinuity(
                    pid,
                    DiscontinuityKind::PtsJump { from, to: time },
                ));
            }
        }
    }
}

/// Parses the PES header and returns the elementary-stream bytes without a copy.
fn split_pes(bytes: Vec<u8>) -> Option<(PesHeader, Bytes)> {
    let header = PesHeader::parse(&bytes).ok()?;
    let data = Bytes::from(bytes);
    let es = data
        .get(header.payload_offset..)
        .map(|_| data.slice(header.payload_offset..))?;
    Some((header, es))
}

fn discontinuity(pid: u16, kind: DiscontinuityKind) -> DemuxItem {
    DemuxItem::Discontinuity(Discontinuity { pid, kind })
}
