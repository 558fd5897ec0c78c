//! A big-endian bit reader with Exp-Golomb support, for SPS and ADTS fields.

/// Reads bits MSB-first from a byte slice. Every read returns `None` past the
/// end, so parsers of untrusted input propagate exhaustion with `?`.
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    /// A reader at the first bit of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    /// Bits read so far.
    pub fn bit_position(&self) -> usize {
        self.pos
    }

    /// Bits not read yet.
    pub fn bits_left(&self) -> usize {
        self.data.len() * 8 - self.pos.min(self.data.len() * 8)
    }

    /// Reads one bit.
    pub fn read_bit(&mut self) -> Option<bool> {
        let byte = *self.data.get(self.pos / 8)?;
        let bit = (byte >> (7 - (self.pos % 8))) & 1;
        self.pos += 1;
        Some(bit == 1)
    }

    /// Reads up to 32 bits as an unsigned integer.
    pub fn read_bits(&mut self, n: u32) -> Option<u32> {
        debug_assert!(n <= 32);
        if self.bits_left() < n as usize {
            return None;
        }
        let mut v: u32 = 0;
        for _ in 0..n {
            v = (v << 1) | self.read_bit()? as u32;
        }
        Some(v)
    }

    /// Skips `n` bits; `None` (and nothing skipped) past the end.
    pub fn skip_bits(&mut self, n: usize) -> Option<()> {
        if self.bits_left() < n {
            return None;
        }
        self.pos += n;
        Some(())
    }

    /// Unsigned Exp-Golomb, `ue(v)`. Values wider than 32 bits are rejected
    /// rather than wrapped: they only appear in corrupt streams.
    pub fn read_ue(&mut self) -> Option<u32> {
        let mut zeros = 0u32;
        while !self.read_bit()? {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.read_bits(zeros)? as u64;
        u32::try_from((1u64 << zeros) - 1 + rest).ok()
    }

    /// Signed Exp-Golomb, `se(v)`.
    pub fn read_se(&mut self) -> Option<i32> {
        let k = self.read_ue()? as i64;
        let v = if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) };
        i32::try_from(v).ok()
    }
}

/// Writes bits MSB-first into bytes (the padding of the last byte is 0).
#[derive(Debug, Default)]
pub(crate) struct BitWriter {
    out: Vec<u8>,
    bits: u32,
    acc: u64,
}

impl BitWriter {
    /// Bits written so far.
    pub(crate) fn bit_position(&self) -> usize {
        self.out.len() * 8 + self.bits as usize
    }

    /// Writes the low `n` bits of `value` (n <= 32).
    pub(crate) fn put(&mut self, n: u32, value: u32) {
        if n == 0 {
            return;
        }
        let mask = if n == 32 { u32::MAX } else { (1u32 << n) - 1 };
        self.acc = (self.acc << n) | u64::from(value & mask);
        self.bits += n;
        while self.bits >= 8 {
            self.bits -= 8;
            self.out.push((self.acc >> self.bits) as u8);
        }
    }

    /// Pads with zeros to the next byte boundary.
    pub(crate) fn align(&mut self) {
        if self.bits > 0 {
            self.put(8 - self.bits, 0);
        }
    }

    /// The bytes, the last one padded.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.align();
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb() {
        // 1 | 010 | 011 | 00100 | 00101 -> ue 0,1,2,3 ; then se(4) = -2
        let data = [0b1010_0110, 0b0100_0010, 0b1000_0000];
        let mut r = BitReader::new(&data);
        assert_eq!(r.read_ue(), Some(0));
        assert_eq!(r.read_ue(), Some(1));
        assert_eq!(r.read_ue(), Some(2));
        assert_eq!(r.read_ue(), Some(3));
        assert_eq!(r.read_se(), Some(-2));
        assert_eq!(r.read_bits(8), None);
    }
}
