//! Packet framing over a byte stream split at arbitrary points.
//!
//! Sync is acquired only when 0x47 shows up at three consecutive packet
//! positions, so a stray 0x47 in garbage does not lock. Once locked, a packet
//! is handed out only when the sync byte of the packet after it is also in
//! place: a torn packet (sender restart, inserted garbage) is then dropped
//! instead of being passed on with foreign bytes inside. Decisions wait for
//! the bytes they need, so the packets found never depend on how the stream
//! was split into reads.

use crate::packet::{SYNC_BYTE, TS_PACKET_LEN};

/// How packets sit in the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    /// Distance between packet starts.
    spacing: usize,
    /// Bytes before the sync byte (the M2TS timestamp).
    prefix: usize,
}

/// Plain TS, M2TS/BDAV (4-byte timestamp first), TS with 16 Reed-Solomon bytes.
const LAYOUTS: [Layout; 3] = [
    Layout {
        spacing: 188,
        prefix: 0,
    },
    Layout {
        spacing: 192,
        prefix: 4,
    },
    Layout {
        spacing: 204,
        prefix: 0,
    },
];

/// Bytes past a candidate start needed to judge every layout at it.
const HUNT_LOOKAHEAD: usize = 2 * 204 + 1;

/// The carry buffer is refilled up to this size before scanning: larger than
/// any lookahead, so every scan of a full window makes progress.
const CARRY_WINDOW: usize = 2048;

/// What the framer has counted so far.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FramingCounters {
    pub bytes: u64,
    pub packets: u64,
    pub skipped_bytes: u64,
    pub resyncs: u64,
    pub packet_size: u16,
}

#[derive(Debug, Default)]
pub(crate) struct PacketFramer {
    /// Bytes of an unfinished decision, kept until the next push.
    carry: Vec<u8>,
    lock: Option<Layout>,
    /// Bytes skipped since sync was last held; a lock after a skip is a resync.
    skipped_since_lock: bool,
    pub counters: FramingCounters,
}

impl PacketFramer {
    /// Frames `data`, calling `on_packet` with each 188-byte packet.
    pub fn push(&mut self, data: &[u8], on_packet: &mut impl FnMut(&[u8; TS_PACKET_LEN])) {
        self.counters.bytes += data.len() as u64;
        let mut data = data;
        while !self.carry.is_empty() {
            if data.is_empty() {
                return;
            }
            data = self.advance_carry(data, on_packet);
        }
        let consumed = self.scan(data, false, on_packet);
        self.carry.extend_from_slice(&data[consumed..]);
    }

    /// Frames what is left at end of stream, then forgets the sync.
    pub fn finish(&mut self, on_packet: &mut impl FnMut(&[u8; TS_PACKET_LEN])) {
        let carry = std::mem::take(&mut self.carry);
        let consumed = self.scan(&carry, true, on_packet);
        self.counters.skipped_bytes += (carry.len() - consumed) as u64;
        self.carry = carry;
        self.carry.clear();
        self.lock = None;
        self.skipped_since_lock = false;
    }

    /// Moves a window of `data` into the carry and scans it. Returns the part
    /// of `data` not yet looked at; once the carry is used up, that includes
    /// any of its bytes that went unconsumed.
    fn advance_carry<'d>(
        &mut self,
        data: &'d [u8],
        on_packet: &mut impl FnMut(&[u8; TS_PACKET_LEN]),
    ) -> &'d [u8] {
        let old_len = self.carry.len();
        let take = data.len().min(CARRY_WINDOW.saturating_sub(old_len).max(1));
        self.carry.extend_from_slice(&data[..take]);
        let mut carry = std::mem::take(&mut self.carry);
        let consumed = self.scan(&carry, false, on_packet);
        if consumed >= old_len {
            carry.clear();
            self.carry = carry;
            &data[consumed - old_len..]
        } else {
            carry.drain(..consumed);
            self.carry = carry;
            &data[take..]
        }
    }

    /// Emits every packet that can be decided in `buf`; returns bytes consumed.
    fn scan(
        &mut self,
        buf: &[u8],
        at_end: bool,
        on_packet: &mut impl FnMut(&[u8; TS_PACKET_LEN]),
    ) -> usize {
        let mut pos = 0;
        loop {
            let Some(layout) = self.lock else {
                match self.hunt(buf, pos, at_end) {
                    Hunt::Locked(start) => pos = start,
                    Hunt::Undecided(from) => return from,
                }
                continue;
            };
            let sync = pos + layout.prefix;
            let Some(packet) = buf.get(sync..sync + TS_PACKET_LEN) else {
                return pos;
            };
            let next_sync = sync + layout.spacing;
            let confirmed = match buf.get(next_sync) {
                Some(&b) => b == SYNC_BYTE,
                None if at_end => true,
                None => return pos,
            };
            if packet[0] != SYNC_BYTE || !confirmed {
                self.lose_sync(&mut pos);
                continue;
            }
            if let Ok(packet) = <&[u8; TS_PACKET_LEN]>::try_from(packet) {
                self.counters.packets += 1;
                on_packet(packet);
            }
            pos = (pos + layout.spacing).min(buf.len());
        }
    }

    fn lose_sync(&mut self, pos: &mut usize) {
        self.lock = None;
        self.skipped_since_lock = true;
        self.counters.skipped_bytes += 1;
        *pos += 1;
    }

    /// Looks for a packet start at or after `from`, skipping every position
    /// that can be ruled out.
    fn hunt(&mut self, buf: &[u8], from: usize, at_end: bool) -> Hunt {
        let mut i = from;
        while i < buf.len() && (at_end || i + HUNT_LOOKAHEAD < buf.len()) {
            if let Some(layout) = LAYOUTS.iter().find(|l| starts_packets(buf, i, l)) {
                self.skip(i - from);
                self.lock(*layout);
                return Hunt::Locked(i);
            }
            i += 1;
        }
        self.skip(i - from);
        Hunt::Undecided(i)
    }

    fn skip(&mut self, n: usize) {
        if n > 0 {
            self.counters.skipped_bytes += n as u64;
            self.skipped_since_lock = true;
        }
    }

    fn lock(&mut self, layout: Layout) {
        if self.skipped_since_lock {
            self.counters.resyncs += 1;
            self.skipped_since_lock = false;
        }
        self.lock = Some(layout);
        self.counters.packet_size = layout.spacing as u16;
    }
}

enum Hunt {
    /// Sync found: packets start here.
    Locked(usize),
    /// Positions from here on need more bytes to judge.
    Undecided(usize),
}

/// True when a whole packet starts at `start` and the next two packet
/// positions hold sync bytes (positions past the end of `buf` are not held
/// against it: the caller only asks that at end of stream).
fn starts_packets(buf: &[u8], start: usize, layout: &Layout) -> bool {
    let sync = start + layout.prefix;
    if sync + TS_PACKET_LEN > buf.len() {
        return false;
    }
    (0..3).all(|k| {
        buf.get(sync + k * layout.spacing)
            .is_none_or(|&b| b == SYNC_BYTE)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packets(n: usize, layout: Layout) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            out.extend(std::iter::repeat_n(0xaa, layout.prefix));
            let mut p = [i as u8; TS_PACKET_LEN];
            p[0] = SYNC_BYTE;
            out.extend_from_slice(&p);
            out.extend(std::iter::repeat_n(
                0xbb,
                layout.spacing - layout.prefix - TS_PACKET_LEN,
            ));
        }
        out
    }

    fn frame(chunks: &[&[u8]]) -> (Vec<u8>, FramingCounters) {
        let mut framer = PacketFramer::default();
        let mut ids = Vec::new();
        for chunk in chunks {
            framer.push(chunk, &mut |p| ids.push(p[1]));
        }
        framer.finish(&mut |p| ids.push(p[1]));
        (ids, framer.counters)
    }

    #[test]
    fn frames_all_layouts() {
        for layout in LAYOUTS {
            let data = packets(10, layout);
            let (ids, c) = frame(&[&data]);
            assert_eq!(ids, (0..10).collect::<Vec<u8>>(), "{layout:?}");
            assert_eq!((c.skipped_bytes, c.resyncs), (0, 0));
            assert_eq!(c.packet_size as usize, layout.spacing);
        }
    }

    #[test]
    fn resyncs_after_garbage_and_drops_torn_packet() {
        let good = packets(8, LAYOUTS[0]);
        let mut data = vec![0x47, 1, 2, 0x47, 9];
        data.extend_from_slice(&good[..3 * 188 + 100]); // packet 3 torn
        data.extend_from_slice(&good[4 * 188..]);
        let (ids, c) = frame(&[&data]);
        assert_eq!(ids, vec![0, 1, 2, 4, 5, 6, 7]);
        assert_eq!(c.resyncs, 2);
        assert_eq!(c.skipped_bytes, 5 + 100);
    }

    #[test]
    fn byte_by_byte_equals_whole() {
        let mut data = vec![7u8; 33];
        data.extend(packets(6, LAYOUTS[1]));
        for size in [1, 7, 200, 500] {
            let chunks: Vec<&[u8]> = data.chunks(size).collect();
            let (split, split_counters) = frame(&chunks);
            let (whole, whole_counters) = frame(&[&data]);
            assert_eq!((split.len(), &split), (6, &whole));
            assert_eq!(split_counters.skipped_bytes, 33);
            assert_eq!(
                (split_counters.skipped_bytes, split_counters.resyncs),
                (whole_counters.skipped_bytes, whole_counters.resyncs)
            );
        }
    }
}
