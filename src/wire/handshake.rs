//! Connection-phase messages (docs/protocol.md, "HandshakeV10 (the greeting)" to "AuthMoreData"):
//! `HandshakeV10`, `SSLRequest`, `HandshakeResponse41`, `AuthSwitchRequest`, `AuthMoreData`.

use super::capabilities::*;
use super::{put_lenenc_bytes, put_lenenc_int, put_nul_bytes, Reader, WireError};

/// MySQL rejects a connect-attributes block that declares more than this (docs/protocol.md,
/// "HandshakeResponse41").
pub const MAX_CONNECT_ATTRS_LEN: u64 = 65_535;
/// Longest user name field Vestibule reads; MySQL user names are ≤ 32 characters (≤ 128 bytes utf8mb4).
pub const MAX_USER_LEN: usize = 128;
/// Longest auth response accepted in a HandshakeResponse41 (an RSA-4096 ciphertext is 512).
pub const MAX_AUTH_RESPONSE_LEN: usize = 1024;

/// `Protocol::HandshakeV10`, the server greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeV10 {
    /// The version string (docs/protocol.md, "Server version string").
    pub server_version: Vec<u8>,
    /// The connection's id (`CONNECTION_ID()`).
    pub connection_id: u32,
    /// The 20-byte nonce; sent as 8 + 12 bytes and a NUL, `auth_plugin_data_len` = 21.
    pub nonce: [u8; 20],
    /// The capability flags offered, both halves.
    pub capabilities: u32,
    /// The server's collation id (255, `utf8mb4_0900_ai_ci`).
    pub character_set: u8,
    /// Status flags (`SERVER_STATUS_AUTOCOMMIT`).
    pub status_flags: u16,
    /// The plugin the greeting's nonce is for: the server's default plugin.
    pub auth_plugin_name: Vec<u8>,
}

impl HandshakeV10 {
    /// The greeting's payload, field by field as in docs/protocol.md, "HandshakeV10 (the
    /// greeting)": reserved bytes zero, nonce length 21.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        out.push(10);
        put_nul_bytes(&mut out, &self.server_version);
        out.extend_from_slice(&self.connection_id.to_le_bytes());
        let (n1, n2) = self.nonce.split_at(8);
        out.extend_from_slice(n1);
        out.push(0);
        out.extend_from_slice(&(self.capabilities as u16).to_le_bytes());
        out.push(self.character_set);
        out.extend_from_slice(&self.status_flags.to_le_bytes());
        out.extend_from_slice(&((self.capabilities >> 16) as u16).to_le_bytes());
        out.push(21);
        out.extend_from_slice(&[0u8; 10]);
        put_nul_bytes(&mut out, n2);
        put_nul_bytes(&mut out, &self.auth_plugin_name);
        out
    }

    /// Client-side parser (tests, fuzzing). Accepts exactly what [`encode`](Self::encode) writes:
    /// a 20-byte nonce and CLIENT_PLUGIN_AUTH.
    pub fn parse(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        if r.u8("protocol version")? != 10 {
            return Err(WireError::Unexpected("protocol version"));
        }
        let server_version = r.nul_bytes("server version")?.to_vec();
        let connection_id = r.u32("connection id")?;
        let n1: [u8; 8] = r.array("auth plugin data part 1")?;
        r.u8("filler")?;
        let cap_lo = r.u16("capability flags")?;
        let character_set = r.u8("character set")?;
        let status_flags = r.u16("status flags")?;
        let cap_hi = r.u16("capability flags")?;
        if r.u8("auth plugin data length")? != 21 {
            return Err(WireError::Unexpected("auth plugin data length"));
        }
        r.bytes(10, "reserved")?;
        let n2: [u8; 12] = r.array("auth plugin data part 2")?;
        if r.u8("auth plugin data terminator")? != 0 {
            return Err(WireError::Unexpected("auth plugin data terminator"));
        }
        let auth_plugin_name = r.nul_bytes("auth plugin name")?.to_vec();
        r.finish("HandshakeV10")?;
        let mut nonce = [0u8; 20];
        nonce[..8].copy_from_slice(&n1);
        nonce[8..].copy_from_slice(&n2);
        Ok(HandshakeV10 {
            server_version,
            connection_id,
            nonce,
            capabilities: u32::from(cap_lo) | (u32::from(cap_hi) << 16),
            character_set,
            status_flags,
            auth_plugin_name,
        })
    }
}

/// The 32-byte header common to SSLRequest and HandshakeResponse41 (docs/protocol.md, "SSLRequest
/// and TLS").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientHeader {
    /// The client's capability flags; they decide the layout of every later client packet.
    pub capabilities: u32,
    /// The largest packet the client will send (informational).
    pub max_packet_size: u32,
    /// The client's collation id.
    pub character_set: u8,
}

impl ClientHeader {
    fn parse(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let capabilities = r.u32("client flags")?;
        let max_packet_size = r.u32("max packet size")?;
        let character_set = r.u8("character set")?;
        // MariaDB clients put extended capabilities in the last 4 filler bytes: not required to be zero.
        r.bytes(23, "filler")?;
        Ok(ClientHeader {
            capabilities,
            max_packet_size,
            character_set,
        })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.capabilities.to_le_bytes());
        out.extend_from_slice(&self.max_packet_size.to_le_bytes());
        out.push(self.character_set);
        out.extend_from_slice(&[0u8; 23]);
    }
}

/// `HandshakeResponse41` (docs/protocol.md, "HandshakeResponse41").
#[derive(Clone, PartialEq, Eq)]
pub struct HandshakeResponse41 {
    /// The 32-byte header, shared with SSLRequest.
    pub header: ClientHeader,
    /// The user name (at most [`MAX_USER_LEN`] bytes).
    pub username: Vec<u8>,
    /// Plugin data of the client's first auth response (scramble, or empty for no password).
    pub auth_response: Vec<u8>,
    /// The default database, with CLIENT_CONNECT_WITH_DB.
    pub database: Option<Vec<u8>>,
    /// The plugin the client used for `auth_response`, with CLIENT_PLUGIN_AUTH.
    pub client_plugin: Option<Vec<u8>>,
    /// Connect attributes, with CLIENT_CONNECT_ATTRS (informational only).
    pub connect_attrs: Vec<(Vec<u8>, Vec<u8>)>,
    /// The zstd level, with CLIENT_ZSTD_COMPRESSION_ALGORITHM (never offered, so unused).
    pub zstd_level: Option<u8>,
}

impl std::fmt::Debug for HandshakeResponse41 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandshakeResponse41")
            .field("header", &self.header)
            .field("username", &String::from_utf8_lossy(&self.username))
            .field("auth_response_len", &self.auth_response.len())
            .field(
                "database",
                &self.database.as_deref().map(String::from_utf8_lossy),
            )
            .field(
                "client_plugin",
                &self.client_plugin.as_deref().map(String::from_utf8_lossy),
            )
            .field("connect_attrs", &self.connect_attrs.len())
            .finish()
    }
}

/// What the first client packet of the connection phase is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstClientPacket {
    /// An SSLRequest: TLS starts next on the same socket.
    SslRequest(ClientHeader),
    /// A HandshakeResponse41 in clear text.
    Response(HandshakeResponse41),
}

/// A HandshakeResponse41 borrowed from its payload: what the server's handshake machine reads,
/// without copying a field (the connect attributes stay one checked block).
#[derive(Clone, Copy)]
pub struct HandshakeResponse41Ref<'a> {
    /// The 32-byte header, shared with SSLRequest.
    pub header: ClientHeader,
    /// The user name (at most [`MAX_USER_LEN`] bytes).
    pub username: &'a [u8],
    /// Plugin data of the client's first auth response.
    pub auth_response: &'a [u8],
    /// The default database, with CLIENT_CONNECT_WITH_DB.
    pub database: Option<&'a [u8]>,
    /// The plugin the client used for `auth_response`, with CLIENT_PLUGIN_AUTH.
    pub client_plugin: Option<&'a [u8]>,
    /// The connect attribute pairs (lenenc key, lenenc value …), already checked to parse and to
    /// fill their block exactly; empty without CLIENT_CONNECT_ATTRS.
    pub connect_attrs: &'a [u8],
    /// The zstd level, with CLIENT_ZSTD_COMPRESSION_ALGORITHM.
    pub zstd_level: Option<u8>,
}

impl std::fmt::Debug for HandshakeResponse41Ref<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandshakeResponse41Ref")
            .field("header", &self.header)
            .field("username", &String::from_utf8_lossy(self.username))
            .field("auth_response_len", &self.auth_response.len())
            .finish_non_exhaustive()
    }
}

/// The first client packet, borrowed ([`HandshakeResponse41::parse_first_ref`]).
#[derive(Debug, Clone, Copy)]
pub enum FirstClientPacketRef<'a> {
    /// An SSLRequest: TLS starts next on the same socket.
    SslRequest(ClientHeader),
    /// A HandshakeResponse41 in clear text.
    Response(HandshakeResponse41Ref<'a>),
}

impl HandshakeResponse41Ref<'_> {
    /// The owned form (connect attributes split into pairs).
    pub fn to_owned(&self) -> Result<HandshakeResponse41, WireError> {
        let connect_attrs = if self.connect_attrs.is_empty() {
            Vec::new()
        } else {
            connect_attr_pairs(self.connect_attrs)?
        };
        Ok(HandshakeResponse41 {
            header: self.header,
            username: self.username.to_vec(),
            auth_response: self.auth_response.to_vec(),
            database: self.database.map(<[u8]>::to_vec),
            client_plugin: self.client_plugin.map(<[u8]>::to_vec),
            connect_attrs,
            zstd_level: self.zstd_level,
        })
    }
}

impl HandshakeResponse41 {
    /// Parses the first client packet: exactly 32 bytes with CLIENT_SSL is an SSLRequest; anything
    /// longer is a HandshakeResponse41 (inside TLS CLIENT_SSL stays set — docs/protocol.md,
    /// "SSLRequest and TLS").
    pub fn parse_first(payload: &[u8]) -> Result<FirstClientPacket, WireError> {
        Ok(match Self::parse_first_ref(payload)? {
            FirstClientPacketRef::SslRequest(h) => FirstClientPacket::SslRequest(h),
            FirstClientPacketRef::Response(r) => FirstClientPacket::Response(r.to_owned()?),
        })
    }

    /// [`HandshakeResponse41::parse_first`], borrowing from `payload`.
    pub fn parse_first_ref(payload: &[u8]) -> Result<FirstClientPacketRef<'_>, WireError> {
        if payload.len() == 32 {
            let mut r = Reader::new(payload);
            let h = ClientHeader::parse(&mut r)?;
            if h.capabilities & CLIENT_SSL != 0 {
                return Ok(FirstClientPacketRef::SslRequest(h));
            }
        }
        Self::parse_ref(payload).map(FirstClientPacketRef::Response)
    }

    /// Parses a HandshakeResponse41 (the first packet, or the one inside TLS). CLIENT_PROTOCOL_41
    /// is required; a length past the packet, an over-long user name, auth response or
    /// attribute block is an error (1043 "Bad handshake"); missing trailing fields are `None`.
    pub fn parse(payload: &[u8]) -> Result<Self, WireError> {
        Self::parse_ref(payload)?.to_owned()
    }

    /// [`HandshakeResponse41::parse`], borrowing from `payload`: the same checks, no copies.
    pub fn parse_ref(payload: &[u8]) -> Result<HandshakeResponse41Ref<'_>, WireError> {
        let mut r = Reader::new(payload);
        let header = ClientHeader::parse(&mut r)?;
        let caps = header.capabilities;
        if caps & CLIENT_PROTOCOL_41 == 0 {
            return Err(WireError::Unexpected("CLIENT_PROTOCOL_41"));
        }
        let username = r.nul_bytes("username")?;
        if username.len() > MAX_USER_LEN {
            return Err(WireError::TooLong("username"));
        }
        let auth_response = if caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
            r.lenenc_bytes("auth response")?
        } else if caps & CLIENT_SECURE_CONNECTION != 0 {
            let n = r.u8("auth response length")?;
            r.bytes(usize::from(n), "auth response")?
        } else {
            r.nul_bytes("auth response")?
        };
        if auth_response.len() > MAX_AUTH_RESPONSE_LEN {
            return Err(WireError::TooLong("auth response"));
        }
        // Optional trailing fields: clients may stop after the last field they use.
        let database = if caps & CLIENT_CONNECT_WITH_DB != 0 && !r.is_empty() {
            Some(r.nul_bytes("database")?)
        } else {
            None
        };
        let client_plugin = if caps & CLIENT_PLUGIN_AUTH != 0 && !r.is_empty() {
            Some(r.nul_bytes("client plugin name")?)
        } else {
            None
        };
        let connect_attrs = if caps & CLIENT_CONNECT_ATTRS != 0 && !r.is_empty() {
            let block = connect_attrs_block(&mut r)?;
            check_connect_attrs(block)?;
            block
        } else {
            &[]
        };
        let zstd_level = if caps & CLIENT_ZSTD_COMPRESSION_ALGORITHM != 0 && !r.is_empty() {
            Some(r.u8("zstd compression level")?)
        } else {
            None
        };
        Ok(HandshakeResponse41Ref {
            header,
            username,
            auth_response,
            database,
            client_plugin,
            connect_attrs,
            zstd_level,
        })
    }

    /// Client-side encoder (tests, benches, fuzz round trips). Fields are written according to the
    /// header's capability flags, exactly as [`parse`](Self::parse) reads them.
    pub fn encode(&self) -> Vec<u8> {
        let caps = self.header.capabilities;
        let mut out = Vec::with_capacity(128);
        self.header.encode(&mut out);
        put_nul_bytes(&mut out, &self.username);
        if caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
            put_lenenc_bytes(&mut out, &self.auth_response);
        } else if caps & CLIENT_SECURE_CONNECTION != 0 {
            out.push(self.auth_response.len().min(255) as u8);
            out.extend(self.auth_response.iter().take(255));
        } else {
            put_nul_bytes(&mut out, &self.auth_response);
        }
        // Optional fields are positional: a field is written when it, or any later field, is
        // present, so the parser reads each one back in the same place (an empty attribute
        // block before a zstd level included).
        let has_zstd = caps & CLIENT_ZSTD_COMPRESSION_ALGORITHM != 0 && self.zstd_level.is_some();
        let has_attrs =
            caps & CLIENT_CONNECT_ATTRS != 0 && (!self.connect_attrs.is_empty() || has_zstd);
        let has_plugin = caps & CLIENT_PLUGIN_AUTH != 0
            && (self.client_plugin.is_some() || has_attrs || has_zstd);
        let has_db = caps & CLIENT_CONNECT_WITH_DB != 0
            && (self.database.is_some() || has_plugin || has_attrs || has_zstd);
        if has_db {
            put_nul_bytes(&mut out, self.database.as_deref().unwrap_or_default());
        }
        if has_plugin {
            put_nul_bytes(&mut out, self.client_plugin.as_deref().unwrap_or_default());
        }
        if has_attrs {
            write_connect_attrs(&mut out, &self.connect_attrs);
        }
        if let (true, Some(z)) = (has_zstd, self.zstd_level) {
            out.push(z);
        }
        out
    }
}

/// Key/value connect attributes, in the client's order.
pub type ConnectAttrs = Vec<(Vec<u8>, Vec<u8>)>;

/// Connect attributes (HandshakeResponse41 and COM_CHANGE_USER): a lenenc total length, at
/// most [`MAX_CONNECT_ATTRS_LEN`], then lenenc key/value pairs that must fill it exactly.
pub fn read_connect_attrs(r: &mut Reader<'_>) -> Result<ConnectAttrs, WireError> {
    connect_attr_pairs(connect_attrs_block(r)?)
}

/// The attribute block: its lenenc length (at most [`MAX_CONNECT_ATTRS_LEN`]), then that many
/// bytes.
fn connect_attrs_block<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], WireError> {
    let total = r.lenenc_int("connect attributes length")?;
    if total > MAX_CONNECT_ATTRS_LEN {
        return Err(WireError::TooLong("connect attributes"));
    }
    r.bytes(total as usize, "connect attributes")
}

/// Checks that `block` is lenenc key/value pairs filling it exactly, copying nothing.
fn check_connect_attrs(block: &[u8]) -> Result<(), WireError> {
    let mut a = Reader::new(block);
    while !a.is_empty() {
        a.lenenc_bytes("connect attribute key")?;
        a.lenenc_bytes("connect attribute value")?;
    }
    Ok(())
}

/// The pairs of an attribute block.
fn connect_attr_pairs(block: &[u8]) -> Result<ConnectAttrs, WireError> {
    let mut a = Reader::new(block);
    let mut attrs = Vec::new();
    while !a.is_empty() {
        let k = a.lenenc_bytes("connect attribute key")?;
        let v = a.lenenc_bytes("connect attribute value")?;
        attrs.push((k.to_vec(), v.to_vec()));
    }
    Ok(attrs)
}

/// Writes connect attributes as [`read_connect_attrs`] reads them.
pub fn write_connect_attrs(out: &mut Vec<u8>, attrs: &[(Vec<u8>, Vec<u8>)]) {
    let mut block = Vec::new();
    for (k, v) in attrs {
        put_lenenc_bytes(&mut block, k);
        put_lenenc_bytes(&mut block, v);
    }
    put_lenenc_int(out, block.len() as u64);
    out.extend_from_slice(&block);
}

/// Encodes an SSLRequest (client side; tests).
pub fn encode_ssl_request(h: &ClientHeader) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    h.encode(&mut out);
    out
}

/// `AuthSwitchRequest` (docs/protocol.md, "Plugin selection and AuthSwitchRequest"): `FE`, plugin
/// name NUL, plugin data. For the three password plugins the data is the 20-byte nonce **followed
/// by a NUL** (C clients strip it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSwitchRequest {
    /// The plugin the client must restart with.
    pub plugin_name: Vec<u8>,
    /// Its data: the nonce and a NUL for the password plugins.
    pub plugin_data: Vec<u8>,
}

impl AuthSwitchRequest {
    /// A switch to `plugin_name` carrying `nonce` and the NUL C clients expect (21 bytes).
    pub fn with_nonce(plugin_name: &str, nonce: &[u8; 20]) -> Self {
        let mut plugin_data = nonce.to_vec();
        plugin_data.push(0);
        AuthSwitchRequest {
            plugin_name: plugin_name.as_bytes().to_vec(),
            plugin_data,
        }
    }

    /// The packet's payload: `FE`, the name and its NUL, the data.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.plugin_name.len() + self.plugin_data.len() + 2);
        out.push(0xFE);
        put_nul_bytes(&mut out, &self.plugin_name);
        out.extend_from_slice(&self.plugin_data);
        out
    }

    /// Client-side parser (tests): the data is everything after the name's NUL.
    pub fn parse(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        if r.u8("auth switch marker")? != 0xFE {
            return Err(WireError::Unexpected("auth switch marker"));
        }
        let plugin_name = r.nul_bytes("plugin name")?.to_vec();
        Ok(AuthSwitchRequest {
            plugin_name,
            plugin_data: r.rest().to_vec(),
        })
    }
}

/// First byte of an AuthMoreData packet.
pub const AUTH_MORE_DATA: u8 = 0x01;

/// `AuthMoreData` (docs/protocol.md, "AuthMoreData"): `01` + plugin data.
pub fn encode_auth_more_data(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 1);
    out.push(AUTH_MORE_DATA);
    out.extend_from_slice(data);
    out
}

/// The plugin data of an AuthMoreData payload (client side; tests).
pub fn parse_auth_more_data(payload: &[u8]) -> Result<&[u8], WireError> {
    match payload.split_first() {
        Some((0x01, rest)) => Ok(rest),
        Some(_) => Err(WireError::Unexpected("AuthMoreData marker")),
        None => Err(WireError::Truncated("AuthMoreData")),
    }
}

/// caching_sha2_password's AuthMoreData body after a fast-path hit: the OK follows
/// (docs/protocol.md, "caching_sha2_password: fast path and full authentication").
pub const FAST_AUTH_SUCCESS: u8 = 0x03;
/// caching_sha2_password's AuthMoreData body on a cache miss: the client must send the
/// password (clear over a secure transport, else RSA-encrypted).
pub const PERFORM_FULL_AUTHENTICATION: u8 = 0x04;
/// Client byte asking for the RSA public key: caching_sha2_password.
pub const CACHING_SHA2_REQUEST_PUBLIC_KEY: u8 = 0x02;
/// Client byte asking for the RSA public key: sha256_password.
pub const SHA256_REQUEST_PUBLIC_KEY: u8 = 0x01;

/// Fuzz body: the server-side parsers of client connection-phase packets never panic, and what
/// they parse re-encodes to something that parses to the same value.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn fuzz_client_packets(data: &[u8]) {
    if let Ok(FirstClientPacket::Response(resp)) = HandshakeResponse41::parse_first(data) {
        let again = HandshakeResponse41::parse(&resp.encode());
        assert_eq!(again.as_ref(), Ok(&resp));
    }
    if let Ok(sw) = AuthSwitchRequest::parse(data) {
        assert_eq!(AuthSwitchRequest::parse(&sw.encode()), Ok(sw));
    }
    let _ = parse_auth_more_data(data);
    if let Ok(g) = HandshakeV10::parse(data) {
        assert_eq!(HandshakeV10::parse(&g.encode()), Ok(g));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NONCE: [u8; 20] = [
        0x0a, 0x2f, 0x4a, 0x6f, 0x4b, 0x49, 0x22, 0x30, 0x58, 0x4c, 0x72, 0x4a, 0x25, 0x0d, 0x03,
        0x50, 0x52, 0x02, 0x17, 0x15,
    ];

    #[test]
    fn greeting_matches_reference_example() {
        let g = HandshakeV10 {
            server_version: b"8.0.40-vestibule".to_vec(),
            connection_id: 7,
            nonce: NONCE,
            capabilities: 0x017F_AE0F,
            character_set: 255,
            status_flags: 2,
            auth_plugin_name: b"caching_sha2_password".to_vec(),
        };
        let wire = crate::wire::frame::packet(0, &g.encode());
        let expected: &[u8] = &[
            0x54, 0x00, 0x00, 0x00, 0x0a, 0x38, 0x2e, 0x30, 0x2e, 0x34, 0x30, 0x2d, 0x76, 0x65,
            0x73, 0x74, 0x69, 0x62, 0x75, 0x6c, 0x65, 0x00, 0x07, 0x00, 0x00, 0x00, 0x0a, 0x2f,
            0x4a, 0x6f, 0x4b, 0x49, 0x22, 0x30, 0x00, 0x0f, 0xae, 0xff, 0x02, 0x00, 0x7f, 0x01,
            0x15, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x58, 0x4c, 0x72,
            0x4a, 0x25, 0x0d, 0x03, 0x50, 0x52, 0x02, 0x17, 0x15, 0x00, 0x63, 0x61, 0x63, 0x68,
            0x69, 0x6e, 0x67, 0x5f, 0x73, 0x68, 0x61, 0x32, 0x5f, 0x70, 0x61, 0x73, 0x73, 0x77,
            0x6f, 0x72, 0x64, 0x00,
        ];
        assert_eq!(wire, expected);
        assert_eq!(HandshakeV10::parse(&g.encode()), Ok(g));
    }

    #[test]
    fn parses_reference_handshake_response() {
        let wire: &[u8] = &[
            0x76, 0x00, 0x00, 0x02, 0x0d, 0xaa, 0x3f, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x61, 0x70, 0x70, 0x00, 0x20, 0xf4,
            0x90, 0xe7, 0x6f, 0x66, 0xd9, 0xd8, 0x66, 0x65, 0xce, 0x54, 0xd9, 0x8c, 0x78, 0xd0,
            0xac, 0xfe, 0x2f, 0xb0, 0xb0, 0x8b, 0x42, 0x3d, 0xa8, 0x07, 0x14, 0x48, 0x73, 0xd3,
            0x0b, 0x31, 0x2c, 0x74, 0x65, 0x73, 0x74, 0x00, 0x63, 0x61, 0x63, 0x68, 0x69, 0x6e,
            0x67, 0x5f, 0x73, 0x68, 0x61, 0x32, 0x5f, 0x70, 0x61, 0x73, 0x73, 0x77, 0x6f, 0x72,
            0x64, 0x00, 0x15, 0x0c, 0x5f, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x5f, 0x6e, 0x61,
            0x6d, 0x65, 0x07, 0x6c, 0x69, 0x62, 0x6d, 0x79, 0x73, 0x71,
        ];
        let r = HandshakeResponse41::parse(&wire[4..]).unwrap();
        assert_eq!(r.header.capabilities, 0x013F_AA0D);
        assert_eq!(r.header.character_set, 255);
        assert_eq!(r.username, b"app");
        assert_eq!(r.auth_response.len(), 32);
        assert_eq!(r.auth_response[0], 0xf4);
        assert_eq!(r.database.as_deref(), Some(&b"test"[..]));
        assert_eq!(
            r.client_plugin.as_deref(),
            Some(&b"caching_sha2_password"[..])
        );
        assert_eq!(
            r.connect_attrs,
            vec![(b"_client_name".to_vec(), b"libmysq".to_vec())]
        );
        // Our encoder reproduces the client's bytes exactly.
        assert_eq!(crate::wire::frame::packet(2, &r.encode()), wire);
    }

    #[test]
    fn ssl_request_is_recognised_and_encoded() {
        let h = ClientHeader {
            capabilities: 0x013F_AA0D,
            max_packet_size: 0x0100_0000,
            character_set: 255,
        };
        let p = encode_ssl_request(&h);
        assert_eq!(p.len(), 32);
        assert_eq!(
            HandshakeResponse41::parse_first(&p),
            Ok(FirstClientPacket::SslRequest(h))
        );
        // 32 bytes without CLIENT_SSL are a truncated response, not an SSLRequest.
        let h2 = ClientHeader {
            capabilities: 0x013F_A20D,
            ..h
        };
        assert!(HandshakeResponse41::parse_first(&encode_ssl_request(&h2)).is_err());
    }

    #[test]
    fn rejects_oversized_connect_attrs_and_overruns() {
        let h = ClientHeader {
            capabilities: 0x013F_A20D | CLIENT_CONNECT_ATTRS,
            max_packet_size: 0,
            character_set: 255,
        };
        let mut p = encode_ssl_request(&h);
        p.extend_from_slice(b"u\0\0\0caching_sha2_password\0");
        let mut big = p.clone();
        big.extend_from_slice(&[0xFD, 0x00, 0x00, 0x01]);
        assert_eq!(
            HandshakeResponse41::parse(&big),
            Err(WireError::TooLong("connect attributes"))
        );
        let mut overrun = p.clone();
        overrun.extend_from_slice(&[10, 1, b'a']);
        assert_eq!(
            HandshakeResponse41::parse(&overrun),
            Err(WireError::Truncated("connect attributes"))
        );
        let mut lenenc_overrun = encode_ssl_request(&h);
        lenenc_overrun.extend_from_slice(b"u\0\x20abc");
        assert_eq!(
            HandshakeResponse41::parse(&lenenc_overrun),
            Err(WireError::Truncated("auth response"))
        );
    }

    #[test]
    fn auth_switch_carries_nonce_and_nul() {
        let sw = AuthSwitchRequest::with_nonce("caching_sha2_password", &NONCE);
        let wire = crate::wire::frame::packet(2, &sw.encode());
        let expected: &[u8] = &[
            0x2c, 0x00, 0x00, 0x02, 0xfe, 0x63, 0x61, 0x63, 0x68, 0x69, 0x6e, 0x67, 0x5f, 0x73,
            0x68, 0x61, 0x32, 0x5f, 0x70, 0x61, 0x73, 0x73, 0x77, 0x6f, 0x72, 0x64, 0x00, 0x0a,
            0x2f, 0x4a, 0x6f, 0x4b, 0x49, 0x22, 0x30, 0x58, 0x4c, 0x72, 0x4a, 0x25, 0x0d, 0x03,
            0x50, 0x52, 0x02, 0x17, 0x15, 0x00,
        ];
        assert_eq!(wire, expected);
    }

    /// Client side of AuthMoreData (`01` + data): what the fuzz target and test clients rely on.
    #[test]
    fn auth_more_data_is_its_marker_then_the_data() {
        assert_eq!(parse_auth_more_data(&[0x01, 0x03]), Ok(&[0x03][..]));
        assert_eq!(
            parse_auth_more_data(b"\x01-----BEGIN"),
            Ok(&b"-----BEGIN"[..])
        );
        assert_eq!(parse_auth_more_data(&[0x01]), Ok(&[][..]));
        assert_eq!(
            parse_auth_more_data(&[0xFE, 0x01]),
            Err(WireError::Unexpected("AuthMoreData marker"))
        );
        assert_eq!(
            parse_auth_more_data(&[]),
            Err(WireError::Truncated("AuthMoreData"))
        );
    }

    fn arb_response() -> impl Strategy<Value = HandshakeResponse41> {
        (
            any::<u32>(),
            any::<u32>(),
            any::<u8>(),
            proptest::collection::vec(1u8..=255, 0..40),
            proptest::collection::vec(any::<u8>(), 0..300),
            proptest::option::of(proptest::collection::vec(1u8..=255, 0..20)),
            proptest::option::of(proptest::collection::vec(1u8..=255, 0..30)),
            proptest::collection::vec(
                (
                    proptest::collection::vec(any::<u8>(), 0..20),
                    proptest::collection::vec(any::<u8>(), 0..20),
                ),
                0..4,
            ),
            proptest::option::of(any::<u8>()),
        )
            .prop_map(|(caps, max, cs, user, auth, db, plugin, attrs, zstd)| {
                let caps = caps | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;
                let auth = if caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
                    auth
                } else {
                    auth.into_iter().take(255).collect()
                };
                // What a parser can see: a field the flags disable is absent; a field followed
                // by a present field is present (possibly empty).
                let zstd = zstd.filter(|_| caps & CLIENT_ZSTD_COMPRESSION_ALGORITHM != 0);
                let attrs = if caps & CLIENT_CONNECT_ATTRS != 0 {
                    attrs
                } else {
                    Vec::new()
                };
                let attrs_present =
                    caps & CLIENT_CONNECT_ATTRS != 0 && (!attrs.is_empty() || zstd.is_some());
                let later = attrs_present || zstd.is_some();
                let plugin = match (caps & CLIENT_PLUGIN_AUTH != 0, later) {
                    (false, _) => None,
                    (true, true) => Some(plugin.unwrap_or_default()),
                    (true, false) => plugin,
                };
                let db = match (
                    caps & CLIENT_CONNECT_WITH_DB != 0,
                    later || plugin.is_some(),
                ) {
                    (false, _) => None,
                    (true, true) => Some(db.unwrap_or_default()),
                    (true, false) => db,
                };
                HandshakeResponse41 {
                    header: ClientHeader {
                        capabilities: caps,
                        max_packet_size: max,
                        character_set: cs,
                    },
                    username: user,
                    auth_response: auth,
                    database: db,
                    client_plugin: plugin,
                    connect_attrs: attrs,
                    zstd_level: zstd,
                }
            })
    }

    /// Regression (found by fuzzing; fuzz/artifacts/client_packets/
    /// crash-zstd-after-empty-connect-attrs): an empty connect-attribute block followed by a zstd
    /// level was dropped by the encoder, so the level was re-read as the block's length.
    #[test]
    fn empty_connect_attrs_before_zstd_level_round_trip() {
        let caps = CLIENT_PROTOCOL_41
            | CLIENT_PLUGIN_AUTH
            | CLIENT_CONNECT_ATTRS
            | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
            | CLIENT_ZSTD_COMPRESSION_ALGORITHM;
        let mut wire = Vec::new();
        ClientHeader {
            capabilities: caps,
            max_packet_size: 0,
            character_set: 255,
        }
        .encode(&mut wire);
        // user "", auth response (lenenc) empty, plugin "", attribute block of 0 bytes, level 0x77.
        wire.extend_from_slice(&[0, 0, 0, 0, 0x77]);
        let r = HandshakeResponse41::parse(&wire).unwrap();
        assert_eq!(r.connect_attrs, vec![]);
        assert_eq!(r.zstd_level, Some(0x77));
        assert_eq!(r.client_plugin.as_deref(), Some(&b""[..]));
        assert_eq!(r.encode(), wire);

        // The fuzzer's minimised input (non-zero filler, CLIENT_SSL also set).
        let artifact =
            hex_bytes("010a382e302e34302d7665737469010000584c724a250d03505273776f776f010000000077");
        fuzz_client_packets(&artifact);
        let r = HandshakeResponse41::parse(&artifact).unwrap();
        assert_eq!(r.zstd_level, Some(0x77));
        assert_eq!(HandshakeResponse41::parse(&r.encode()), Ok(r));
    }

    fn hex_bytes(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    proptest! {
        #[test]
        fn handshake_response_round_trips(r in arb_response()) {
            prop_assert_eq!(HandshakeResponse41::parse(&r.encode()), Ok(r));
        }

        #[test]
        fn client_packet_parsers_are_total(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            fuzz_client_packets(&data);
        }
    }

    /// HandshakeResponse41 field by field: which fields are read under which capability flag, how
    /// the first auth response is framed, the inclusive length limits, and the redacting `Debug`.
    mod response41_fields {
        use super::*;

        const CAPS: u32 = CLIENT_PROTOCOL_41
            | CLIENT_SECURE_CONNECTION
            | CLIENT_PLUGIN_AUTH
            | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;

        fn response(caps: u32, user: &[u8], auth: &[u8]) -> HandshakeResponse41 {
            HandshakeResponse41 {
                header: ClientHeader {
                    capabilities: caps,
                    max_packet_size: 1 << 24,
                    character_set: 255,
                },
                username: user.to_vec(),
                auth_response: auth.to_vec(),
                database: None,
                client_plugin: Some(b"caching_sha2_password".to_vec()),
                connect_attrs: vec![],
                zstd_level: None,
            }
        }

        /// `response(caps, "app", …)` encoded, then `tail` appended after the client plugin name.
        fn with_tail(caps: u32, tail: &[u8]) -> Vec<u8> {
            let mut r = response(caps, b"app", &[1; 32]);
            r.header.capabilities = caps;
            let mut wire = r.encode();
            wire.extend_from_slice(tail);
            wire
        }

        /// The 32-byte client header, then `rest`.
        fn header_then(caps: u32, rest: &[u8]) -> Vec<u8> {
            let mut wire = encode_ssl_request(&ClientHeader {
                capabilities: caps,
                max_packet_size: 0,
                character_set: 255,
            });
            wire.extend_from_slice(rest);
            wire
        }

        #[test]
        fn pre_4_1_clients_are_refused() {
            let r = response(CAPS & !CLIENT_PROTOCOL_41, b"app", &[1; 20]);
            assert_eq!(
                HandshakeResponse41::parse(&r.encode()),
                Err(WireError::Unexpected("CLIENT_PROTOCOL_41"))
            );
            let ok = response(CAPS, b"app", &[1; 20]);
            assert_eq!(HandshakeResponse41::parse(&ok.encode()), Ok(ok));
        }

        #[test]
        fn user_name_limit_is_inclusive() {
            let at = response(CAPS, &[b'u'; MAX_USER_LEN], &[1; 32]);
            assert_eq!(HandshakeResponse41::parse(&at.encode()), Ok(at));
            let over = response(CAPS, &[b'u'; MAX_USER_LEN + 1], &[1; 32]);
            assert_eq!(
                HandshakeResponse41::parse(&over.encode()),
                Err(WireError::TooLong("username"))
            );
        }

        #[test]
        fn auth_response_limit_is_inclusive() {
            let at = response(CAPS, b"app", &[7; MAX_AUTH_RESPONSE_LEN]);
            assert_eq!(HandshakeResponse41::parse(&at.encode()), Ok(at));
            let over = response(CAPS, b"app", &[7; MAX_AUTH_RESPONSE_LEN + 1]);
            assert_eq!(
                HandshakeResponse41::parse(&over.encode()),
                Err(WireError::TooLong("auth response"))
            );
        }

        /// Debug shows what a log needs and never the scramble or the attribute values.
        #[test]
        fn handshake_response_debug_redacts_the_auth_response() {
            let mut r = response(
                CAPS | CLIENT_CONNECT_ATTRS,
                b"app",
                b"SCRAMBLE-BYTES-0123456789abcdef",
            );
            r.connect_attrs = vec![(b"_pid".to_vec(), b"4242".to_vec())];
            let shown = format!("{r:?}");
            assert_eq!(
                shown,
                format!(
                    "HandshakeResponse41 {{ header: ClientHeader {{ capabilities: {}, max_packet_size: \
                     16777216, character_set: 255 }}, username: \"app\", auth_response_len: 31, \
                     database: None, client_plugin: Some(\"caching_sha2_password\"), connect_attrs: 1 }}",
                    CAPS | CLIENT_CONNECT_ATTRS
                )
            );
        }

        /// Optional trailing fields are read only under their capability flag; bytes a flag does
        /// not announce are ignored, as MySQL does.
        #[test]
        fn connect_attrs_and_zstd_level_are_read_only_under_their_flags() {
            let attrs_block = [0x03, 0x01, b'k', 0x00];
            let r = HandshakeResponse41::parse(&with_tail(CAPS, &attrs_block)).unwrap();
            assert_eq!(r.connect_attrs, vec![]);
            assert_eq!(r.zstd_level, None);

            let r =
                HandshakeResponse41::parse(&with_tail(CAPS | CLIENT_CONNECT_ATTRS, &attrs_block))
                    .unwrap();
            assert_eq!(r.connect_attrs, vec![(b"k".to_vec(), Vec::new())]);

            let zstd = CAPS | CLIENT_ZSTD_COMPRESSION_ALGORITHM;
            let r = HandshakeResponse41::parse(&with_tail(zstd, &[])).unwrap();
            assert_eq!(r.zstd_level, None, "a flag without its field is allowed");
            let r = HandshakeResponse41::parse(&with_tail(zstd, &[3])).unwrap();
            assert_eq!(r.zstd_level, Some(3));
            let r = HandshakeResponse41::parse(&with_tail(CAPS, &[3])).unwrap();
            assert_eq!(r.zstd_level, None);
        }

        #[test]
        fn connect_attrs_block_limit_is_inclusive() {
            // One attribute filling the whole block: key "k" (2 bytes), value with a 3-byte length.
            let block = |total: usize| {
                let mut b = vec![0xFC];
                b.extend_from_slice(&(total as u16).to_le_bytes());
                let mut kv = vec![0x01, b'k', 0xFC];
                let value_len = total - kv.len() - 2;
                kv.extend_from_slice(&(value_len as u16).to_le_bytes());
                kv.extend(std::iter::repeat_n(b'v', value_len));
                assert_eq!(kv.len(), total);
                b.extend(kv);
                b
            };
            let caps = CAPS | CLIENT_CONNECT_ATTRS;
            let r = HandshakeResponse41::parse(&with_tail(caps, &block(65_535))).unwrap();
            assert_eq!(r.connect_attrs.len(), 1);
            assert_eq!(r.connect_attrs[0].1.len(), 65_535 - 5);

            let mut over = vec![0xFD];
            over.extend_from_slice(&65_536u32.to_le_bytes()[..3]);
            over.extend(std::iter::repeat_n(0u8, 65_536));
            assert_eq!(
                HandshakeResponse41::parse(&with_tail(caps, &over)),
                Err(WireError::TooLong("connect attributes"))
            );
        }

        /// The client-side encoder writes the plugin name only under CLIENT_PLUGIN_AUTH.
        #[test]
        fn encoder_omits_the_plugin_without_plugin_auth() {
            let caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;
            let with_plugin = response(caps, b"app", &[1; 20]);
            let without = HandshakeResponse41 {
                client_plugin: None,
                ..with_plugin.clone()
            };
            assert_eq!(with_plugin.encode(), without.encode());
            assert_eq!(
                HandshakeResponse41::parse(&with_plugin.encode()),
                Ok(without)
            );
        }

        /// The first auth response is NUL-terminated (neither flag), prefixed by one length byte
        /// (CLIENT_SECURE_CONNECTION) or length-encoded (CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA);
        /// parser and encoder agree byte for byte. 251 bytes is where a one-byte length and a
        /// lenenc length differ.
        #[test]
        fn auth_response_encodings_follow_the_flags() {
            let old = header_then(CLIENT_PROTOCOL_41, b"app\0abc\0");
            let r = HandshakeResponse41::parse(&old).unwrap();
            assert_eq!(r.auth_response, b"abc");
            assert_eq!(r.encode(), old);

            let mut rest = b"app\0".to_vec();
            rest.push(251);
            rest.extend_from_slice(&[0x61; 251]);
            let one_byte = header_then(CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION, &rest);
            let r = HandshakeResponse41::parse(&one_byte).unwrap();
            assert_eq!(r.auth_response, vec![0x61; 251]);
            assert_eq!(r.encode(), one_byte);

            let mut rest = b"app\0".to_vec();
            rest.extend_from_slice(&[0xFC, 251, 0]);
            rest.extend_from_slice(&[0x61; 251]);
            let lenenc = header_then(
                CLIENT_PROTOCOL_41
                    | CLIENT_SECURE_CONNECTION
                    | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
                &rest,
            );
            let r = HandshakeResponse41::parse(&lenenc).unwrap();
            assert_eq!(r.auth_response, vec![0x61; 251]);
            assert_eq!(r.encode(), lenenc);
        }

        #[test]
        fn plugin_name_is_read_only_under_plugin_auth() {
            let rest = b"app\0\0mysql_native_password\0";
            let caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;
            let r = HandshakeResponse41::parse(&header_then(caps, rest)).unwrap();
            assert_eq!(r.client_plugin, None);
            let r =
                HandshakeResponse41::parse(&header_then(caps | CLIENT_PLUGIN_AUTH, rest)).unwrap();
            assert_eq!(r.client_plugin, Some(b"mysql_native_password".to_vec()));
        }
    }
}
