//! The MySQL wire codec: packet framing and every message of the connection phase and of the small
//! command-phase subset Vestibule answers.
//!
//! Owns: byte layouts (docs/protocol.md). One file per message family, each with a
//! `parse`/`encode` pair. Never does: I/O, allocation before a declared length has been checked
//! against the bytes actually present, or anything that can panic — every parser is a total
//! function from bytes to a value or a [`WireError`].
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod capabilities;
pub mod command;
pub mod frame;
pub mod handshake;
pub mod packets;
pub mod response;
pub mod resultset;

pub use capabilities::*;

/// Why a byte string is not the message it should be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The payload ended before a field that must be present.
    #[error("packet truncated while reading {0}")]
    Truncated(&'static str),
    /// A `string<NUL>` had no terminator before the end of the payload.
    #[error("missing NUL terminator in {0}")]
    Unterminated(&'static str),
    /// A length-encoded integer used a first byte that is not legal in an integer position (0xFB, 0xFF).
    #[error("invalid length-encoded integer (first byte {0:#04x})")]
    BadLenenc(u8),
    /// A declared length is larger than this field may ever be.
    #[error("{0} too long")]
    TooLong(&'static str),
    /// A fixed value (protocol version, command byte, marker) was not the expected one.
    #[error("unexpected value in {0}")]
    Unexpected(&'static str),
    /// Bytes left over after a message that must end exactly.
    #[error("trailing bytes after {0}")]
    Trailing(&'static str),
}

/// A bounds-checked cursor over a payload. Every read either succeeds or returns a [`WireError`]
/// and leaves the cursor unusable for meaningful data (callers stop at the first error).
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Whether everything has been read (an optional trailing field is then absent).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The next byte, not consumed.
    pub fn peek(&self) -> Option<u8> {
        self.buf.first().copied()
    }

    /// The next `n` bytes; [`WireError::Truncated`] naming `what` if fewer remain. Every other
    /// read goes through this one.
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        let (head, tail) = self
            .buf
            .split_at_checked(n)
            .ok_or(WireError::Truncated(what))?;
        self.buf = tail;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], WireError> {
        let b = self.bytes(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// `int<1>`.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, WireError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// `int<2>`, little-endian.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, WireError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    /// `int<3>`, little-endian.
    pub fn u24(&mut self, what: &'static str) -> Result<u32, WireError> {
        let [a, b, c] = self.array(what)?;
        Ok(u32::from_le_bytes([a, b, c, 0]))
    }

    /// `int<4>`, little-endian.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// `int<8>`, little-endian.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// `int<lenenc>` (docs/protocol.md, "Integers and strings"). 0xFB (NULL) and 0xFF are errors
    /// in an integer position.
    pub fn lenenc_int(&mut self, what: &'static str) -> Result<u64, WireError> {
        match self.u8(what)? {
            b @ 0x00..=0xFA => Ok(u64::from(b)),
            0xFC => Ok(u64::from(self.u16(what)?)),
            0xFD => Ok(u64::from(self.u24(what)?)),
            0xFE => self.u64(what),
            b => Err(WireError::BadLenenc(b)),
        }
    }

    /// `string<lenenc>`: the declared length is checked against the remaining bytes before use.
    pub fn lenenc_bytes(&mut self, what: &'static str) -> Result<&'a [u8], WireError> {
        let len = self.lenenc_int(what)?;
        let len = usize::try_from(len).map_err(|_| WireError::Truncated(what))?;
        self.bytes(len, what)
    }

    /// `string<NUL>`: bytes up to the terminator, which is consumed.
    pub fn nul_bytes(&mut self, what: &'static str) -> Result<&'a [u8], WireError> {
        let pos = self
            .buf
            .iter()
            .position(|&b| b == 0)
            .ok_or(WireError::Unterminated(what))?;
        let s = self.bytes(pos, what)?;
        self.bytes(1, what)?;
        Ok(s)
    }

    /// `string<EOF>`: everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// Checks that `what` ended exactly here ([`WireError::Trailing`] otherwise).
    pub fn finish(&self, what: &'static str) -> Result<(), WireError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(WireError::Trailing(what))
        }
    }
}

/// Appends `int<lenenc>` in its shortest form (251 is `FC FB 00`, never `FB`).
pub fn put_lenenc_int(out: &mut Vec<u8>, v: u64) {
    if v < 0xFB {
        out.push(v as u8);
    } else if v <= 0xFFFF {
        out.push(0xFC);
        out.extend_from_slice(&(v as u16).to_le_bytes());
    } else if v <= 0xFF_FFFF {
        out.push(0xFD);
        out.extend_from_slice(&(v as u32).to_le_bytes()[..3]);
    } else {
        out.push(0xFE);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Appends `string<lenenc>`: the length as [`put_lenenc_int`] writes it, then the bytes.
pub fn put_lenenc_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_lenenc_int(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Appends `string<NUL>`: the bytes, then 0x00 (`b` must not contain one to read back).
pub fn put_nul_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(b);
    out.push(0);
}

/// A readable hex dump (offset, 16 bytes per line) for snapshots and logs of non-secret packets.
pub fn hex_dump(bytes: &[u8]) -> String {
    let mut s = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        s.push_str(&format!("{:04x} ", i * 16));
        for b in chunk {
            s.push_str(&format!(" {b:02x}"));
        }
        s.push_str(&"   ".repeat(16 - chunk.len()));
        s.push_str("  |");
        for &b in chunk {
            s.push(if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            });
        }
        s.push_str("|\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lenenc_boundaries_use_shortest_form() {
        let cases: &[(u64, &[u8])] = &[
            (0, &[0]),
            (250, &[0xFA]),
            (251, &[0xFC, 0xFB, 0x00]),
            (0xFFFF, &[0xFC, 0xFF, 0xFF]),
            (0x1_0000, &[0xFD, 0x00, 0x00, 0x01]),
            (0xFF_FFFF, &[0xFD, 0xFF, 0xFF, 0xFF]),
            (0x100_0000, &[0xFE, 0, 0, 0, 1, 0, 0, 0, 0]),
        ];
        for (v, bytes) in cases {
            let mut out = Vec::new();
            put_lenenc_int(&mut out, *v);
            assert_eq!(&out, bytes, "encoding {v}");
            assert_eq!(Reader::new(bytes).lenenc_int("x"), Ok(*v));
        }
    }

    #[test]
    fn lenenc_rejects_null_and_err_markers() {
        assert_eq!(
            Reader::new(&[0xFB]).lenenc_int("x"),
            Err(WireError::BadLenenc(0xFB))
        );
        assert_eq!(
            Reader::new(&[0xFF]).lenenc_int("x"),
            Err(WireError::BadLenenc(0xFF))
        );
        assert_eq!(
            Reader::new(&[0xFC, 1]).lenenc_int("x"),
            Err(WireError::Truncated("x"))
        );
    }

    #[test]
    fn lenenc_bytes_checks_declared_length_before_use() {
        // Declares 2^56 bytes: must fail without allocating.
        let evil = [0xFE, 0, 0, 0, 0, 0, 0, 0, 1, b'a'];
        assert_eq!(
            Reader::new(&evil).lenenc_bytes("s"),
            Err(WireError::Truncated("s"))
        );
    }

    proptest! {
        #[test]
        fn lenenc_int_round_trips(v: u64) {
            let mut out = Vec::new();
            put_lenenc_int(&mut out, v);
            let mut r = Reader::new(&out);
            prop_assert_eq!(r.lenenc_int("v"), Ok(v));
            prop_assert!(r.is_empty());
        }

        #[test]
        fn lenenc_bytes_round_trip(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut out = Vec::new();
            put_lenenc_bytes(&mut out, &b);
            let mut r = Reader::new(&out);
            prop_assert_eq!(r.lenenc_bytes("b"), Ok(&b[..]));
            prop_assert!(r.is_empty());
        }
    }
}
