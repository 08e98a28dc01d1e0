//! Kills mutants of `src/wire/frame.rs` and `src/wire/handshake.rs` that the unit tests let
//! through (docs/assurance.md): the TLS-ClientHello sniff, the frame decoder's limit and buffer
//! accessors, and the HandshakeResponse41 field limits. Public API only.

use vestibule::wire::capabilities::*;
use vestibule::wire::frame::{encode, packet, FrameDecoder, FrameError, Header, MAX_PACKET_CHUNK};
use vestibule::wire::handshake::{
    encode_ssl_request, parse_auth_more_data, ClientHeader, HandshakeResponse41,
    MAX_AUTH_RESPONSE_LEN, MAX_USER_LEN,
};
use vestibule::wire::WireError;

// ---------------------------------------------------------------------------------------------
// frame.rs
// ---------------------------------------------------------------------------------------------

/// Both TLS record bytes must match: a MySQL packet of 22 bytes (`16 00 00`) or with 0x03 as its
/// second length byte is not a ClientHello.
#[test]
fn tls_sniff_needs_both_record_bytes() {
    assert!(Header::looks_like_tls_client_hello([
        0x16, 0x03, 0x01, 0x02
    ]));
    assert!(Header::looks_like_tls_client_hello([
        0x16, 0x03, 0x03, 0x00
    ]));
    assert!(!Header::looks_like_tls_client_hello([
        0x16, 0x00, 0x00, 0x01
    ]));
    assert!(!Header::looks_like_tls_client_hello([
        0x20, 0x03, 0x00, 0x01
    ]));
}

#[test]
fn decoder_with_tls_detection_still_decodes_mysql_packets() {
    // A 22-byte first packet: its header starts with 0x16 like a TLS record.
    let payload = [0x42u8; 22];
    let mut dec = FrameDecoder::new(1, 1024);
    dec.detect_tls(true);
    dec.push(&packet(1, &payload));
    let f = dec.next_frame().unwrap().unwrap();
    assert_eq!((f.seq, f.payload.as_slice()), (1, &payload[..]));
}

#[test]
fn decoder_without_tls_detection_reads_a_client_hello_as_a_header() {
    let hello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01];
    let mut dec = FrameDecoder::new(1, 1 << 20);
    dec.push(&hello);
    assert_eq!(
        dec.next_frame(),
        Err(FrameError::OutOfOrder {
            expected: 1,
            got: 2
        })
    );
    let mut dec = FrameDecoder::new(1, 1 << 20);
    dec.detect_tls(true);
    dec.push(&hello);
    assert_eq!(dec.next_frame(), Err(FrameError::UnexpectedTls));
}

#[test]
fn limit_is_inclusive_and_can_be_raised() {
    let mut dec = FrameDecoder::new(0, 10);
    dec.push(&packet(0, &[7; 10]));
    assert_eq!(dec.next_frame().unwrap().unwrap().payload, vec![7; 10]);

    let mut dec = FrameDecoder::new(0, 10);
    dec.push(&packet(0, &[7; 11]));
    assert_eq!(
        dec.next_frame(),
        Err(FrameError::TooLarge { len: 11, limit: 10 })
    );

    let mut dec = FrameDecoder::new(0, 10);
    dec.set_limit(100);
    dec.push(&packet(0, &[7; 50]));
    assert_eq!(dec.next_frame().unwrap().unwrap().payload, vec![7; 50]);
}

/// `buffered` counts undecoded bytes and the collected part of a multi-packet payload;
/// `take_buffered` hands back exactly the undecoded bytes (what followed an SSLRequest).
#[test]
fn buffered_bytes_are_counted_and_handed_back_exactly() {
    let mut dec = FrameDecoder::new(1, 1 << 20);
    assert_eq!(dec.buffered(), 0);
    let mut wire = packet(1, &[9; 32]);
    wire.extend_from_slice(&[0x16, 0x03, 0x01, 0x00, 0xC8, 0x01]);
    dec.push(&wire);
    assert_eq!(dec.buffered(), wire.len());
    assert_eq!(dec.next_frame().unwrap().unwrap().payload, vec![9; 32]);
    assert_eq!(dec.buffered(), 6);
    assert_eq!(
        dec.take_buffered(),
        vec![0x16, 0x03, 0x01, 0x00, 0xC8, 0x01]
    );
    assert_eq!(dec.buffered(), 0);
    assert_eq!(dec.take_buffered(), Vec::<u8>::new());

    // A payload of 0xFFFFFF + 3 bytes: after the first wire packet, its 0xFFFFFF bytes wait in
    // the decoder together with the first byte of the second packet's header.
    let big = vec![0x5A; MAX_PACKET_CHUNK + 3];
    let mut wire = Vec::new();
    assert_eq!(encode(0, &big, &mut wire), 2);
    let mut dec = FrameDecoder::new(0, usize::MAX);
    dec.push(&wire[..4 + MAX_PACKET_CHUNK + 1]);
    assert_eq!(dec.next_frame(), Ok(None));
    assert_eq!(dec.buffered(), MAX_PACKET_CHUNK + 1);
    dec.push(&wire[4 + MAX_PACKET_CHUNK + 1..]);
    let f = dec.next_frame().unwrap().unwrap();
    assert_eq!((f.seq, f.payload.len()), (0, big.len()));
    assert_eq!(dec.buffered(), 0);
}

// ---------------------------------------------------------------------------------------------
// handshake.rs: HandshakeResponse41
// ---------------------------------------------------------------------------------------------

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

/// `response(caps, "app", …)` encoded, then `tail` appended after the client plugin name.
fn with_tail(caps: u32, tail: &[u8]) -> Vec<u8> {
    let mut r = response(caps, b"app", &[1; 32]);
    r.header.capabilities = caps;
    let mut wire = r.encode();
    wire.extend_from_slice(tail);
    wire
}

/// Optional trailing fields are read only under their capability flag; bytes a flag does not
/// announce are ignored, as MySQL does.
#[test]
fn connect_attrs_and_zstd_level_are_read_only_under_their_flags() {
    let attrs_block = [0x03, 0x01, b'k', 0x00];
    let r = HandshakeResponse41::parse(&with_tail(CAPS, &attrs_block)).unwrap();
    assert_eq!(r.connect_attrs, vec![]);
    assert_eq!(r.zstd_level, None);

    let r =
        HandshakeResponse41::parse(&with_tail(CAPS | CLIENT_CONNECT_ATTRS, &attrs_block)).unwrap();
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

/// The first auth response is NUL-terminated (neither flag), prefixed by one length byte
/// (CLIENT_SECURE_CONNECTION) or length-encoded (CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA); parser and
/// encoder agree byte for byte. 251 bytes is where a one-byte length and a lenenc length differ.
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
        CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
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
    let r = HandshakeResponse41::parse(&header_then(caps | CLIENT_PLUGIN_AUTH, rest)).unwrap();
    assert_eq!(r.client_plugin, Some(b"mysql_native_password".to_vec()));
}

/// COM_CHANGE_USER is read field by field as the capability flags call for, and bytes past the
/// last field are ignored, as MySQL's parse_com_change_user_multipacket() does (mysql_async 0.37
/// sends an empty connect-attributes block without CLIENT_CONNECT_ATTRS).
#[test]
fn change_user_ignores_bytes_past_its_fields() {
    use vestibule::wire::command::ChangeUser;
    let caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;
    let mut body = b"bob\0".to_vec();
    body.push(20);
    body.extend_from_slice(&[7; 20]);
    body.extend_from_slice(b"db\0");
    body.extend_from_slice(&255u16.to_le_bytes());
    let cu = ChangeUser::parse(&body, caps).unwrap();
    assert_eq!(cu.username, b"bob");
    assert_eq!(cu.character_set, Some(255));
    assert_eq!(cu.client_plugin, None);
    // Without CLIENT_PLUGIN_AUTH a plugin name is not a field: ignored.
    body.extend_from_slice(b"caching_sha2_password\0");
    let cu = ChangeUser::parse(&body, caps).unwrap();
    assert_eq!((cu.client_plugin, cu.auth_response), (None, vec![7; 20]));
    let cu = ChangeUser::parse(&body, caps | CLIENT_PLUGIN_AUTH).unwrap();
    assert_eq!(cu.client_plugin, Some(b"caching_sha2_password".to_vec()));
    // A field the flags call for that is cut short is still refused.
    let cut = &body[..body.len() - 1];
    assert!(ChangeUser::parse(cut, caps | CLIENT_PLUGIN_AUTH).is_err());
    assert!(ChangeUser::parse(&body[..10], caps).is_err());
}
