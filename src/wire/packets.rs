//! Generic response packets: OK, ERR, EOF (docs/protocol.md, "OK, ERR and EOF packets").

use super::{put_lenenc_int, Reader, WireError};

/// `OK_Packet` without CLIENT_SESSION_TRACK (never advertised).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OkPacket {
    /// Rows the statement changed (`int<lenenc>`).
    pub affected_rows: u64,
    /// `LAST_INSERT_ID()` after the statement (`int<lenenc>`).
    pub last_insert_id: u64,
    /// `SERVER_STATUS_*` flags (autocommit, more results …).
    pub status_flags: u16,
    /// Warnings the statement raised (`SHOW WARNINGS`).
    pub warnings: u16,
    /// Human-readable info to the end of the packet (`Rows matched: …`), often empty.
    pub info: Vec<u8>,
}

impl OkPacket {
    /// An OK with these status flags and everything else zero or empty.
    pub fn with_status(status_flags: u16) -> Self {
        OkPacket {
            status_flags,
            ..Default::default()
        }
    }

    /// The payload with `header` as its first byte: 0x00, or 0xFE for the result-set
    /// terminator under CLIENT_DEPRECATE_EOF.
    pub fn encode_with_header(&self, header: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(7 + self.info.len());
        out.push(header);
        put_lenenc_int(&mut out, self.affected_rows);
        put_lenenc_int(&mut out, self.last_insert_id);
        out.extend_from_slice(&self.status_flags.to_le_bytes());
        out.extend_from_slice(&self.warnings.to_le_bytes());
        out.extend_from_slice(&self.info);
        out
    }

    /// The payload of an ordinary OK (header 0x00).
    pub fn encode(&self) -> Vec<u8> {
        self.encode_with_header(0x00)
    }

    /// Parses an OK with either header (client side; tests).
    pub fn parse(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        match r.u8("OK header")? {
            0x00 | 0xFE => {}
            _ => return Err(WireError::Unexpected("OK header")),
        }
        Ok(OkPacket {
            affected_rows: r.lenenc_int("affected rows")?,
            last_insert_id: r.lenenc_int("last insert id")?,
            status_flags: r.u16("status flags")?,
            warnings: r.u16("warnings")?,
            info: r.rest().to_vec(),
        })
    }
}

/// MySQL truncates error messages to 512 bytes.
pub const MAX_ERROR_MESSAGE: usize = 512;

/// `ERR_Packet`. `sql_state` is written (with the `#` marker) when the client speaks 4.1, which is
/// always true once a HandshakeResponse41 has been parsed; errors sent instead of the greeting
/// carry none (docs/protocol.md, "Errors before and during the connection phase").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrPacket {
    /// MySQL's error number (1045, 1064 …; docs/protocol.md, "Error codes").
    pub code: u16,
    /// The 5-character SQLSTATE; `None` only for an error sent instead of the greeting.
    pub sql_state: Option<[u8; 5]>,
    /// The message, cut to [`MAX_ERROR_MESSAGE`] bytes (at a character boundary) when encoded.
    pub message: String,
}

impl ErrPacket {
    /// An error with its SQLSTATE; a `sql_state` that is not 5 bytes long becomes `HY000`.
    pub fn new(code: u16, sql_state: &str, message: impl Into<String>) -> Self {
        let mut st = [b'H', b'Y', b'0', b'0', b'0'];
        if sql_state.len() == 5 {
            st.copy_from_slice(sql_state.as_bytes());
        }
        ErrPacket {
            code,
            sql_state: Some(st),
            message: message.into(),
        }
    }

    /// The payload: `FF`, the code, `#` and the SQLSTATE when there is one, the message.
    pub fn encode(&self) -> Vec<u8> {
        let msg = truncate_utf8(&self.message, MAX_ERROR_MESSAGE);
        let mut out = Vec::with_capacity(9 + msg.len());
        out.push(0xFF);
        out.extend_from_slice(&self.code.to_le_bytes());
        if let Some(st) = self.sql_state {
            out.push(b'#');
            out.extend_from_slice(&st);
        }
        out.extend_from_slice(msg.as_bytes());
        out
    }

    /// Parses a 4.1 ERR packet (client side; tests).
    pub fn parse(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        if r.u8("ERR header")? != 0xFF {
            return Err(WireError::Unexpected("ERR header"));
        }
        let code = r.u16("error code")?;
        let sql_state = if r.peek() == Some(b'#') {
            r.u8("sql state marker")?;
            Some(r.array::<5>("sql state")?)
        } else {
            None
        };
        Ok(ErrPacket {
            code,
            sql_state,
            message: String::from_utf8_lossy(r.rest()).into_owned(),
        })
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary.
pub fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// `EOF_Packet` (only without CLIENT_DEPRECATE_EOF): `FE`, warnings, status.
pub fn encode_eof(warnings: u16, status_flags: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(5);
    out.push(0xFE);
    out.extend_from_slice(&warnings.to_le_bytes());
    out.extend_from_slice(&status_flags.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_backs_off_to_a_character_boundary() {
        assert_eq!(truncate_utf8("a\u{e9}b", 2), "a");
        assert_eq!(truncate_utf8("a\u{e9}b", 3), "a\u{e9}");
        assert_eq!(truncate_utf8("\u{1F600}", 3), "");
        assert_eq!(truncate_utf8("abc", 3), "abc");
        assert_eq!(truncate_utf8("abcd", 3), "abc");
    }
    use proptest::prelude::*;

    #[test]
    fn ok_after_auth_matches_reference() {
        let ok = OkPacket::with_status(2);
        assert_eq!(
            crate::wire::frame::packet(4, &ok.encode()),
            [7, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0]
        );
    }

    #[test]
    fn err_1045_matches_reference() {
        let e = ErrPacket::new(
            1045,
            "28000",
            "Access denied for user 'app'@'localhost' (using password: YES)",
        );
        let wire = crate::wire::frame::packet(3, &e.encode());
        assert_eq!(
            &wire[..12],
            &[0x47, 0, 0, 3, 0xff, 0x15, 0x04, b'#', b'2', b'8', b'0', b'0']
        );
        assert_eq!(wire.len(), 0x47 + 4);
        assert_eq!(ErrPacket::parse(&e.encode()), Ok(e));
    }

    #[test]
    fn error_messages_are_cut_at_512_bytes_on_a_char_boundary() {
        let e = ErrPacket::new(1064, "42000", "é".repeat(400));
        let enc = e.encode();
        assert_eq!(enc.len(), 9 + 512);
        assert!(std::str::from_utf8(&enc[9..]).is_ok());
    }

    proptest! {
        #[test]
        fn ok_round_trips(a: u64, b: u64, s: u16, w: u16, info in proptest::collection::vec(any::<u8>(), 0..40)) {
            let ok = OkPacket { affected_rows: a, last_insert_id: b, status_flags: s, warnings: w, info };
            prop_assert_eq!(OkPacket::parse(&ok.encode()), Ok(ok));
        }

        #[test]
        fn err_round_trips(code: u16, st in "[0-9A-Z]{5}", msg in "\\PC{0,100}") {
            let e = ErrPacket::new(code, &st, msg);
            prop_assert_eq!(ErrPacket::parse(&e.encode()), Ok(e));
        }
    }
}
