//! The 4-byte transport packet header and the one adaptation-field bit the
//! demuxer acts on, parsed by hand: this runs for every packet.

use crate::error::PacketError;

pub(crate) const TS_PACKET_LEN: usize = 188;
pub(crate) const SYNC_BYTE: u8 = 0x47;
pub(crate) const PID_COUNT: usize = 0x2000;
pub(crate) const PAT_PID: u16 = 0x0000;
pub(crate) const NULL_PID: u16 = 0x1fff;

/// A transport packet, borrowed from the framer's buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TsPacket<'a> {
    pub pid: u16,
    pub transport_error: bool,
    pub payload_unit_start: bool,
    pub scrambled: bool,
    pub has_payload: bool,
    pub continuity_counter: u8,
    /// adaptation_field `discontinuity_indicator`.
    pub discontinuity: bool,
    /// Payload bytes after the adaptation field (empty when there is none).
    pub payload: &'a [u8],
}

impl<'a> TsPacket<'a> {
    pub fn parse(bytes: &'a [u8; TS_PACKET_LEN]) -> Result<TsPacket<'a>, PacketError> {
        let control = (bytes[3] >> 4) & 0x03;
        if control == 0 {
            return Err(PacketError::ReservedAdaptationControl);
        }
        let has_adaptation = control & 0x02 != 0;
        let has_payload = control & 0x01 != 0;
        let (payload_start, discontinuity) = if has_adaptation {
            let len = bytes[4];
            // With a payload the field leaves at least one payload byte.
            let max = if has_payload { 182 } else { 183 };
            if len > max {
                return Err(PacketError::AdaptationFieldTooLong(len));
            }
            (5 + len as usize, len > 0 && bytes[5] & 0x80 != 0)
        } else {
            (4, false)
        };
        Ok(TsPacket {
            pid: u16::from(bytes[1] & 0x1f) << 8 | u16::from(bytes[2]),
            transport_error: bytes[1] & 0x80 != 0,
            payload_unit_start: bytes[1] & 0x40 != 0,
            scrambled: bytes[3] & 0xc0 != 0,
            has_payload,
            continuity_counter: bytes[3] & 0x0f,
            discontinuity,
            payload: if has_payload {
                &bytes[payload_start..]
            } else {
                &[]
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(header: [u8; 4]) -> [u8; TS_PACKET_LEN] {
        let mut p = [0xffu8; TS_PACKET_LEN];
        p[..4].copy_from_slice(&header);
        p
    }

    #[test]
    fn reads_header_fields() {
        let p = packet([0x47, 0x41, 0x00, 0x1a]);
        let t = TsPacket::parse(&p).unwrap();
        assert_eq!(
            (t.pid, t.payload_unit_start, t.continuity_counter),
            (0x100, true, 0xa)
        );
        assert!(t.has_payload && !t.transport_error && !t.scrambled && !t.discontinuity);
        assert_eq!(t.payload.len(), 184);
    }

    #[test]
    fn reads_adaptation_field() {
        let mut p = packet([0x47, 0x01, 0x00, 0x33]);
        p[4] = 7;
        p[5] = 0x80;
        let t = TsPacket::parse(&p).unwrap();
        assert!(t.discontinuity);
        assert_eq!(t.payload.len(), 188 - 12);

        let mut only = packet([0x47, 0x01, 0x00, 0x23]);
        only[4] = 183;
        let t = TsPacket::parse(&only).unwrap();
        assert!(!t.has_payload && t.payload.is_empty());
    }

    #[test]
    fn rejects_impossible_layouts() {
        let mut p = packet([0x47, 0x01, 0x00, 0x33]);
        p[4] = 183;
        assert_eq!(
            TsPacket::parse(&p).unwrap_err(),
            PacketError::AdaptationFieldTooLong(183)
        );
        let p = packet([0x47, 0x01, 0x00, 0x03]);
        assert_eq!(
            TsPacket::parse(&p).unwrap_err(),
            PacketError::ReservedAdaptationControl
        );
    }
}
