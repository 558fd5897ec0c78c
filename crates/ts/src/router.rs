//! Everything behind the framer: routes each packet by PID to the tables,
//! the continuity check and the two elementary streams, and turns finished
//! PES packets into items.

use bytes::Bytes;
use cht_core::{DemuxItem, Discontinuity, DiscontinuityKind, PtsUnwrapper, VideoPacket};

use crate::audio::{AdtsSplitter, AudioOutput};
use crate::continuity::{Continuity, ContinuityTracker};
use crate::item::PTS_JUMP_TICKS;
use crate::packet::{TsPacket, NULL_PID, PAT_PID, PID_COUNT, TS_PACKET_LEN};
use crate::pes::{CompletePes, PesAssembler, PesHeader, PesOutput};
use crate::psi::{ProgramMap, PsiParser};
use crate::sink::DemuxSink;
use crate::stats::DemuxStats;
use crate::video::{AccessUnitHead, ParameterSets};

/// What a PID carries, as far as the demuxer follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PidRole {
    Ignored,
    Pat,
    Pmt,
    Video,
    Audio,
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

pub(crate) struct PacketRouter {
    roles: Box<[PidRole]>,
    continuity: ContinuityTracker,
    psi: PsiParser,
    pmt_pid: Option<u16>,
    video: Option<EsTrack>,
    audio: Option<EsTrack>,
    parameter_sets: ParameterSets,
    /// A keyframe went out: from then on only IDRs and recovery points are.
    seen_keyframe: bool,
    adts: AdtsSplitter,
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
            pmt_pid: None,
            video: None,
            audio: None,
            parameter_sets: ParameterSets::default(),
            seen_keyframe: false,
            adts: AdtsSplitter::default(),
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
            PidRole::Video | PidRole::Audio => self.es_payload(role, &packet, sink),
            PidRole::Ignored => {}
        }
    }

    /// Flushes what is under assembly, oldest PES first.
    pub fn finish(&mut self, sink: &mut impl DemuxSink) {
        let video_first = match (&self.video, &self.audio) {
            (Some(v), Some(a)) => v.pes.started_at <= a.pes.started_at,
            _ => true,
        };
        let order = if video_first {
            [PidRole::Video, PidRole::Audio]
        } else {
            [PidRole::Audio, PidRole::Video]
        };
        for role in order {
            self.flush_track(role, sink);
        }
        self.stats.dropped_audio_bytes += self.adts.discard() as u64;
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
                    track.pes.mark_damaged();
                }
            }
            PidRole::Audio => {
                if let Some(track) = &mut self.audio {
                    track.pes.mark_damaged();
                }
                // The carried frame's continuation may be what was lost.
                self.stats.dropped_audio_bytes += self.adts.discard() as u64;
            }
            _ => {}
        }
    }

    fn pat(&mut self, bytes: &[u8; TS_PACKET_LEN], packet: &TsPacket, sink: &mut impl DemuxSink) {
        match self
            .psi
            .pat(bytes, packet.payload, packet.payload_unit_start)
        {
            Ok(Some(pmt_pid)) if Some(pmt_pid) != self.pmt_pid => {
                if let Some(old) = self.pmt_pid.take() {
                    self.set_role(old, PidRole::Ignored);
                }
                // A program moved to another PMT PID: drop the old streams
                // until its PMT says what they are.
                self.apply_program_map(ProgramMap::default(), sink);
                self.psi.forget_pmt();
                self.set_role(pmt_pid, PidRole::Pmt);
                self.pmt_pid = Some(pmt_pid);
            }
            Ok(_) => {}
            Err(_) => self.stats.psi_errors += 1,
        }
    }

    fn pmt(&mut self, bytes: &[u8; TS_PACKET_LEN], packet: &TsPacket, sink: &mut impl DemuxSink) {
        match self
            .psi
            .pmt(bytes, packet.payload, packet.payload_unit_start)
        {
            Ok(Some(map)) => self.apply_program_map(map, sink),
            Ok(None) => {}
            Err(_) => self.stats.psi_errors += 1,
        }
    }

    /// Follows the streams a (new version of the) PMT lists. A stream whose
    /// PID stays is untouched; a stream that goes away is flushed first.
    fn apply_program_map(&mut self, map: ProgramMap, sink: &mut impl DemuxSink) {
        // A stream on a table PID would shadow the table: not followed.
        let pmt_pid = self.pmt_pid;
        let usable = |pid: &u16| *pid != PAT_PID && *pid != NULL_PID && Some(*pid) != pmt_pid;
        let streams = [
            (PidRole::Video, map.video_pid.filter(usable)),
            (PidRole::Audio, map.audio_pid.filter(usable)),
        ];
        for (role, pid) in streams {
            let track = if role == PidRole::Video {
                &self.video
            } else {
                &self.audio
            };
            if track.as_ref().map(|t| t.pid) == pid {
                continue;
            }
            self.flush_track(role, sink);
            let slot = if role == PidRole::Video {
                &mut self.video
            } else {
                &mut self.audio
            };
            let old = std::mem::replace(slot, pid.map(EsTrack::new));
            if let Some(old) = old {
                self.set_role(old.pid, PidRole::Ignored);
            }
            if let Some(pid) = pid {
                self.set_role(pid, role);
            }
        }
        self.replay_early(sink);
    }

    /// The first program map is known: the packets that came before it on
    /// its streams are demuxed now, in order; the rest are ignored.
    fn replay_early(&mut self, sink: &mut impl DemuxSink) {
        if self.replaying || (self.video.is_none() && self.audio.is_none()) {
            return;
        }
        let Some(early) = self.early.take() else {
            return;
        };
        self.replaying = true;
        for bytes in &early {
            let pid = (u16::from(bytes[1] & 0x1f) << 8) | u16::from(bytes[2]);
            match self.roles[pid as usize] {
                PidRole::Video | PidRole::Audio => self.packet(bytes, sink),
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

    fn flush_track(&mut self, role: PidRole, sink: &mut impl DemuxSink) {
        let track = if role == PidRole::Video {
            &mut self.video
        } else {
            &mut self.audio
        };
        let Some(track) = track else { return };
        let mut done = None;
        track.pes.flush(&mut |out| done = Some(out));
        if let Some(out) = done {
            self.pes_output(role, out, sink);
        }
    }

    fn es_payload(&mut self, role: PidRole, packet: &TsPacket, sink: &mut impl DemuxSink) {
        let track = if role == PidRole::Video {
            &mut self.video
        } else {
            &mut self.audio
        };
        let Some(track) = track else { return };
        if packet.payload_unit_start {
            track.pes.started_at = self.packet_seq;
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
        let is_audio = role == PidRole::Audio;
        match out {
            PesOutput::Complete(pes) if is_audio => self.audio_pes(pes, sink),
            PesOutput::Complete(pes) => self.video_pes(pes, sink),
            PesOutput::Orphan { bytes, .. } if is_audio => {
                self.stats.dropped_audio_bytes += bytes as u64
            }
            PesOutput::Orphan { first_of_run, .. } => {
                self.stats.pes_errors += u64::from(first_of_run)
            }
            PesOutput::Dropped { bytes, .. } => {
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

        let head = AccessUnitHead::scan(&data);
        // Parameter sets are trusted only from bytes received before a loss.
        let intact = pes.intact_len.saturating_sub(header.payload_offset);
        if let Some(params) = self.parameter_sets.update(&data, &head, intact) {
            sink.item(DemuxItem::VideoParams(params));
        }
        if self.parameter_sets.params().is_none() {
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

    fn audio_pes(&mut self, pes: CompletePes, sink: &mut impl DemuxSink) {
        let total = pes.bytes.len();
        let parsed = split_pes(pes.bytes);
        let (header, es) = match parsed {
            Some(parsed) if !pes.damaged => parsed,
            _ => {
                self.stats.pes_errors += u64::from(parsed.is_none());
                self.stats.dropped_audio_bytes += (total + self.adts.discard()) as u64;
                return;
            }
        };
        let pts = header.pts.map(|raw| self.clock.extend(raw));
        if let Some(pts) = pts {
            self.note_time(PidRole::Audio, pts, sink);
        }
        let stats = &mut self.stats;
        self.adts.push(es, pts, &mut |out| match out {
            AudioOutput::Params(params) => sink.item(DemuxItem::AudioParams(params)),
            AudioOutput::Packet(frame) => {
                stats.audio_frames += 1;
                sink.item(DemuxItem::Audio(frame));
            }
            AudioOutput::Dropped(bytes) => stats.dropped_audio_bytes += bytes as u64,
        });
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
        let track = if role == PidRole::Video {
            &mut self.video
        } else {
            &mut self.audio
        };
        let Some(track) = track else { return };
        if let Some(from) = track.last_time.replace(time) {
            if (time - from).abs() > PTS_JUMP_TICKS {
                sink.item(discontinuity(
                    track.pid,
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
