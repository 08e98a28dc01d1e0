//! Text result sets (docs/protocol.md, "Text result sets"): column count, `ColumnDefinition41`s,
//! rows, and the terminator — an OK packet with header 0xFE under CLIENT_DEPRECATE_EOF, else EOF
//! packets.

use super::capabilities::*;
use super::packets::{encode_eof, OkPacket};
use super::{put_lenenc_bytes, put_lenenc_int, Reader, WireError};

/// Column type `BIGINT` (MySQL `include/field_types.h`).
pub const MYSQL_TYPE_LONGLONG: u8 = 0x08;
/// Column type `VARCHAR` as computed expressions report it.
pub const MYSQL_TYPE_VAR_STRING: u8 = 0xFD;
/// Column type of a bare `NULL` literal.
pub const MYSQL_TYPE_NULL: u8 = 0x06;

/// Column flag: the value cannot be NULL (MySQL `include/mysql_com.h`).
pub const NOT_NULL_FLAG: u16 = 0x0001;
/// Column flag: binary collation.
pub const BINARY_FLAG: u16 = 0x0080;
/// Column flag: a number.
pub const NUM_FLAG: u16 = 0x8000;

/// `ColumnDefinition41`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDefinition41 {
    /// The column's schema (empty for a computed column).
    pub schema: Vec<u8>,
    /// The table as the query named it (alias).
    pub table: Vec<u8>,
    /// The table's real name.
    pub org_table: Vec<u8>,
    /// The column as the query named it (alias): what clients show.
    pub name: Vec<u8>,
    /// The column's real name.
    pub org_name: Vec<u8>,
    /// Collation id of the values.
    pub character_set: u16,
    /// Maximum display length, in bytes.
    pub column_length: u32,
    /// `MYSQL_TYPE_*`.
    pub column_type: u8,
    /// Column flags (`NOT_NULL_FLAG` …).
    pub flags: u16,
    /// Decimal digits (31 for a computed string).
    pub decimals: u8,
}

impl ColumnDefinition41 {
    /// A computed string column (`SELECT 'x'`, `@@var`, SHOW output): utf8mb4, VAR_STRING, decimals 31.
    pub fn string(name: &str, max_chars: u32) -> Self {
        ColumnDefinition41 {
            schema: Vec::new(),
            table: Vec::new(),
            org_table: Vec::new(),
            name: name.as_bytes().to_vec(),
            org_name: Vec::new(),
            character_set: u16::from(UTF8MB4_0900_AI_CI),
            column_length: max_chars.saturating_mul(4),
            column_type: MYSQL_TYPE_VAR_STRING,
            flags: 0,
            decimals: 0x1F,
        }
    }

    /// A computed integer column (`SELECT 1`, `CONNECTION_ID()`): binary collation, LONGLONG.
    pub fn integer(name: &str, display_len: u32) -> Self {
        ColumnDefinition41 {
            schema: Vec::new(),
            table: Vec::new(),
            org_table: Vec::new(),
            name: name.as_bytes().to_vec(),
            org_name: Vec::new(),
            character_set: BINARY_COLLATION,
            column_length: display_len,
            column_type: MYSQL_TYPE_LONGLONG,
            flags: NOT_NULL_FLAG | BINARY_FLAG | NUM_FLAG,
            decimals: 0,
        }
    }

    /// The payload: catalog `def`, the names, `0x0C`, the fixed-length fields, two zero bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.name.len());
        put_lenenc_bytes(&mut out, b"def");
        put_lenenc_bytes(&mut out, &self.schema);
        put_lenenc_bytes(&mut out, &self.table);
        put_lenenc_bytes(&mut out, &self.org_table);
        put_lenenc_bytes(&mut out, &self.name);
        put_lenenc_bytes(&mut out, &self.org_name);
        put_lenenc_int(&mut out, 0x0C);
        out.extend_from_slice(&self.character_set.to_le_bytes());
        out.extend_from_slice(&self.column_length.to_le_bytes());
        out.push(self.column_type);
        out.extend_from_slice(&self.flags.to_le_bytes());
        out.push(self.decimals);
        out.extend_from_slice(&[0, 0]);
        out
    }

    /// Client-side parser (tests): accepts exactly what [`encode`](Self::encode) writes.
    pub fn parse(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        if r.lenenc_bytes("catalog")? != b"def" {
            return Err(WireError::Unexpected("catalog"));
        }
        let schema = r.lenenc_bytes("schema")?.to_vec();
        let table = r.lenenc_bytes("table")?.to_vec();
        let org_table = r.lenenc_bytes("org_table")?.to_vec();
        let name = r.lenenc_bytes("name")?.to_vec();
        let org_name = r.lenenc_bytes("org_name")?.to_vec();
        if r.lenenc_int("fixed length")? != 0x0C {
            return Err(WireError::Unexpected("fixed length"));
        }
        let c = ColumnDefinition41 {
            schema,
            table,
            org_table,
            name,
            org_name,
            character_set: r.u16("character set")?,
            column_length: r.u32("column length")?,
            column_type: r.u8("type")?,
            flags: r.u16("flags")?,
            decimals: r.u8("decimals")?,
        };
        r.bytes(2, "reserved")?;
        r.finish("column definition")?;
        Ok(c)
    }
}

/// Encodes a whole text result set as payloads (sequence ids are the caller's: one per payload).
/// `rows` hold `None` for SQL NULL.
pub fn encode_result_set(
    columns: &[ColumnDefinition41],
    rows: &[Vec<Option<Vec<u8>>>],
    client_caps: u32,
    status_flags: u16,
) -> Vec<Vec<u8>> {
    let deprecate_eof = client_caps & CLIENT_DEPRECATE_EOF != 0;
    let mut out = Vec::with_capacity(columns.len() + rows.len() + 3);
    let mut count = Vec::new();
    put_lenenc_int(&mut count, columns.len() as u64);
    out.push(count);
    out.extend(columns.iter().map(ColumnDefinition41::encode));
    if !deprecate_eof {
        out.push(encode_eof(0, status_flags));
    }
    for row in rows {
        let mut p = Vec::new();
        for v in row {
            match v {
                Some(b) => put_lenenc_bytes(&mut p, b),
                None => p.push(0xFB),
            }
        }
        out.push(p);
    }
    if deprecate_eof {
        out.push(OkPacket::with_status(status_flags).encode_with_header(0xFE));
    } else {
        out.push(encode_eof(0, status_flags));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed integers are sent as MySQL sends `SELECT 1`: NOT NULL, BINARY, NUM (0x8081).
    #[test]
    fn integer_columns_carry_mysqls_flags() {
        assert_eq!(ColumnDefinition41::integer("1", 1).flags, 0x8081);
    }
    use proptest::prelude::*;

    fn wire(payloads: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut seq = 1u8;
        for p in payloads {
            seq = crate::wire::frame::encode(seq, p, &mut out);
        }
        out
    }

    #[test]
    fn select_1_matches_reference_with_deprecate_eof() {
        let col = ColumnDefinition41 {
            flags: NOT_NULL_FLAG | BINARY_FLAG,
            ..ColumnDefinition41::integer("1", 1)
        };
        let p = encode_result_set(
            &[col],
            &[vec![Some(b"1".to_vec())]],
            CLIENT_DEPRECATE_EOF,
            2,
        );
        let expected: &[u8] = &[
            0x01, 0x00, 0x00, 0x01, 0x01, 0x17, 0x00, 0x00, 0x02, 0x03, 0x64, 0x65, 0x66, 0x00,
            0x00, 0x00, 0x01, 0x31, 0x00, 0x0c, 0x3f, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x81,
            0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x03, 0x01, 0x31, 0x07, 0x00, 0x00, 0x04,
            0xfe, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
        ];
        assert_eq!(wire(&p), expected);
    }

    #[test]
    fn select_1_matches_reference_without_deprecate_eof() {
        let col = ColumnDefinition41 {
            flags: NOT_NULL_FLAG | BINARY_FLAG,
            ..ColumnDefinition41::integer("1", 1)
        };
        let p = encode_result_set(&[col], &[vec![Some(b"1".to_vec())]], 0, 2);
        let expected: &[u8] = &[
            0x01, 0x00, 0x00, 0x01, 0x01, 0x17, 0x00, 0x00, 0x02, 0x03, 0x64, 0x65, 0x66, 0x00,
            0x00, 0x00, 0x01, 0x31, 0x00, 0x0c, 0x3f, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x81,
            0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x03, 0xfe, 0x00, 0x00, 0x02, 0x00, 0x02,
            0x00, 0x00, 0x04, 0x01, 0x31, 0x05, 0x00, 0x00, 0x05, 0xfe, 0x00, 0x00, 0x02, 0x00,
        ];
        assert_eq!(wire(&p), expected);
    }

    proptest! {
        #[test]
        fn column_definition_round_trips(name in "\\PC{0,30}", cs: u16, len: u32, ty: u8, flags: u16, dec: u8) {
            let c = ColumnDefinition41 { character_set: cs, column_length: len, column_type: ty, flags, decimals: dec, ..ColumnDefinition41::string(&name, 1) };
            prop_assert_eq!(ColumnDefinition41::parse(&c.encode()), Ok(c));
        }
    }
}
