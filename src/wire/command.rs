//! Command-phase requests (docs/protocol.md, "Command-phase requests"): the first payload byte of
//! a client packet with sequence id 0 names the command.

use super::capabilities::*;
use super::{put_nul_bytes, Reader, WireError};

/// COM_QUIT: the client is leaving; no reply.
pub const COM_QUIT: u8 = 0x01;
/// COM_INIT_DB: change the default database (the schema name runs to the end).
pub const COM_INIT_DB: u8 = 0x02;
/// COM_QUERY: a text query (to the end of the payload).
pub const COM_QUERY: u8 = 0x03;
/// COM_STATISTICS: a one-line status text, answered without an OK header.
pub const COM_STATISTICS: u8 = 0x09;
/// COM_PING: answered with OK.
pub const COM_PING: u8 = 0x0E;
/// COM_CHANGE_USER: re-authenticate as another account on the same connection.
pub const COM_CHANGE_USER: u8 = 0x11;
/// COM_RESET_CONNECTION: reset the session's state without re-authenticating.
pub const COM_RESET_CONNECTION: u8 = 0x1F;

/// A parsed client command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// [`COM_QUIT`].
    Quit,
    /// [`COM_INIT_DB`] with the schema name.
    InitDb(Vec<u8>),
    /// [`COM_QUERY`] with the query text, as sent (not necessarily UTF-8).
    Query(Vec<u8>),
    /// [`COM_STATISTICS`].
    Statistics,
    /// [`COM_PING`].
    Ping,
    /// [`COM_CHANGE_USER`], parsed.
    ChangeUser(ChangeUser),
    /// [`COM_RESET_CONNECTION`].
    ResetConnection,
    /// A command byte Vestibule does not implement (answered with 1047 "Unknown command").
    Unsupported(u8),
}

/// `COM_CHANGE_USER` (docs/protocol.md, "COM_CHANGE_USER"). The auth response always has a 1-byte
/// length here.
#[derive(Clone, PartialEq, Eq)]
pub struct ChangeUser {
    /// The account's user name.
    pub username: Vec<u8>,
    /// The first auth response (unused: the exchange restarts with an AuthSwitchRequest).
    pub auth_response: Vec<u8>,
    /// The new default database (empty: none).
    pub database: Vec<u8>,
    /// The collation id, when the packet goes that far.
    pub character_set: Option<u16>,
    /// The client plugin, with CLIENT_PLUGIN_AUTH and when the packet goes that far.
    pub client_plugin: Option<Vec<u8>>,
    /// Connect attributes (key, value), with CLIENT_CONNECT_ATTRS.
    pub connect_attrs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for ChangeUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeUser")
            .field("username", &String::from_utf8_lossy(&self.username))
            .field("auth_response_len", &self.auth_response.len())
            .field("database", &String::from_utf8_lossy(&self.database))
            .field("character_set", &self.character_set)
            .field(
                "client_plugin",
                &self.client_plugin.as_deref().map(String::from_utf8_lossy),
            )
            .finish()
    }
}

impl ChangeUser {
    /// Parses the body after the 0x11 byte, interpreting optional fields with the client's
    /// capability flags from its HandshakeResponse41.
    pub fn parse(body: &[u8], client_caps: u32) -> Result<Self, WireError> {
        let mut r = Reader::new(body);
        let username = r.nul_bytes("username")?.to_vec();
        if username.len() > super::handshake::MAX_USER_LEN {
            return Err(WireError::TooLong("username"));
        }
        let auth_response = if client_caps & CLIENT_SECURE_CONNECTION != 0 {
            let n = r.u8("auth response length")?;
            r.bytes(usize::from(n), "auth response")?.to_vec()
        } else {
            r.nul_bytes("auth response")?.to_vec()
        };
        let database = r.nul_bytes("schema")?.to_vec();
        let character_set = if r.remaining() >= 2 {
            Some(r.u16("character set")?)
        } else {
            None
        };
        let client_plugin = if client_caps & CLIENT_PLUGIN_AUTH != 0 && !r.is_empty() {
            Some(r.nul_bytes("client plugin name")?.to_vec())
        } else {
            None
        };
        let connect_attrs = if client_caps & CLIENT_CONNECT_ATTRS != 0 && !r.is_empty() {
            super::handshake::read_connect_attrs(&mut r)?
        } else {
            Vec::new()
        };
        // MySQL's parse_com_change_user_multipacket() (sql/auth/sql_authentication.cc) reads the
        // fields the flags call for and ignores whatever follows: mysql_async 0.37 ends the
        // packet with an empty connect-attributes block (`00`) without CLIENT_CONNECT_ATTRS.
        // A field cut short is still an error above.
        Ok(ChangeUser {
            username,
            auth_response,
            database,
            character_set,
            client_plugin,
            connect_attrs,
        })
    }

    /// Client-side encoder (tests): the full packet payload including the 0x11 byte.
    pub fn encode(&self, client_caps: u32) -> Vec<u8> {
        let mut out = vec![COM_CHANGE_USER];
        put_nul_bytes(&mut out, &self.username);
        if client_caps & CLIENT_SECURE_CONNECTION != 0 {
            let n = self.auth_response.len().min(255);
            out.push(n as u8);
            out.extend(self.auth_response.iter().take(n));
        } else {
            put_nul_bytes(&mut out, &self.auth_response);
        }
        put_nul_bytes(&mut out, &self.database);
        if let Some(cs) = self.character_set {
            out.extend_from_slice(&cs.to_le_bytes());
            if client_caps & CLIENT_PLUGIN_AUTH != 0 {
                if let Some(p) = &self.client_plugin {
                    put_nul_bytes(&mut out, p);
                    if client_caps & CLIENT_CONNECT_ATTRS != 0 && !self.connect_attrs.is_empty() {
                        super::handshake::write_connect_attrs(&mut out, &self.connect_attrs);
                    }
                }
            }
        }
        out
    }
}

impl Command {
    /// Parses a command-phase payload by its first byte; `client_caps` (the client's
    /// HandshakeResponse41 flags) decide COM_CHANGE_USER's optional fields. An unknown command
    /// byte is [`Command::Unsupported`]; an empty payload or a malformed COM_CHANGE_USER is an
    /// error (both are answered with 1047 "Unknown command").
    pub fn parse(payload: &[u8], client_caps: u32) -> Result<Command, WireError> {
        let (&cmd, body) = payload
            .split_first()
            .ok_or(WireError::Truncated("command"))?;
        Ok(match cmd {
            COM_QUIT => Command::Quit,
            COM_INIT_DB => Command::InitDb(body.to_vec()),
            COM_QUERY => Command::Query(body.to_vec()),
            COM_STATISTICS => Command::Statistics,
            COM_PING => Command::Ping,
            COM_CHANGE_USER => Command::ChangeUser(ChangeUser::parse(body, client_caps)?),
            COM_RESET_CONNECTION => Command::ResetConnection,
            other => Command::Unsupported(other),
        })
    }
}

/// Fuzz body for COM_* parsing: never panics; a parsed COM_CHANGE_USER re-encodes to itself.
#[allow(clippy::panic)]
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn fuzz_command(data: &[u8]) {
    let Some((&caps_byte, rest)) = data.split_first() else {
        return;
    };
    let caps = CLIENT_PROTOCOL_41
        | if caps_byte & 1 != 0 {
            CLIENT_SECURE_CONNECTION
        } else {
            0
        }
        | if caps_byte & 2 != 0 {
            CLIENT_PLUGIN_AUTH
        } else {
            0
        }
        | if caps_byte & 4 != 0 {
            CLIENT_CONNECT_ATTRS
        } else {
            0
        };
    if let Ok(Command::ChangeUser(cu)) = Command::parse(rest, caps) {
        let enc = cu.encode(caps);
        if let Ok(Command::ChangeUser(again)) = Command::parse(&enc, caps) {
            // The encoder drops fields the flags cannot carry; compare what both sides keep.
            assert_eq!(again.username, cu.username);
            assert_eq!(again.database, cu.database);
        } else {
            panic!("re-encoded COM_CHANGE_USER failed to parse");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CAPS: u32 =
        CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS;

    /// `bob`, a 20-byte scramble (length-prefixed or NUL-terminated by the flag), `db`, charset.
    fn change_user_body(secure: bool) -> Vec<u8> {
        let mut b = b"bob\0".to_vec();
        if secure {
            b.push(20);
            b.extend_from_slice(&[7; 20]);
        } else {
            b.extend_from_slice(b"scramble\0");
        }
        b.extend_from_slice(b"db\0");
        b.extend_from_slice(&255u16.to_le_bytes());
        b
    }

    /// COM_CHANGE_USER's optional fields exist only under their capability flags, on both sides.
    #[test]
    fn change_user_fields_follow_the_flags() {
        let p41 = CLIENT_PROTOCOL_41;
        let secure = p41 | CLIENT_SECURE_CONNECTION;
        let plugin = secure | CLIENT_PLUGIN_AUTH;

        // The first auth response: NUL-terminated without CLIENT_SECURE_CONNECTION.
        let body = change_user_body(false);
        let cu = ChangeUser::parse(&body, p41).unwrap();
        assert_eq!(cu.auth_response, b"scramble");
        assert_eq!(cu.character_set, Some(255));
        assert_eq!(cu.encode(p41)[1..], body[..]);
        let body = change_user_body(true);
        let cu = ChangeUser::parse(&body, secure).unwrap();
        assert_eq!(cu.auth_response, [7; 20]);
        assert_eq!(cu.encode(secure)[1..], body[..]);

        // CLIENT_PLUGIN_AUTH with nothing after the charset: no plugin, not an error.
        let cu = ChangeUser::parse(&body, plugin).unwrap();
        assert_eq!(cu.client_plugin, None);

        // The plugin name is a field only under CLIENT_PLUGIN_AUTH, and so is it when encoding.
        let mut with_plugin = body.clone();
        with_plugin.extend_from_slice(b"caching_sha2_password\0");
        // Without the flag the name is not a field: ignored, as MySQL ignores bytes past the
        // fields it reads.
        assert_eq!(
            ChangeUser::parse(&with_plugin, secure).map(|c| c.client_plugin),
            Ok(None)
        );
        let cu = ChangeUser::parse(&with_plugin, plugin).unwrap();
        assert_eq!(
            cu.client_plugin.as_deref(),
            Some(&b"caching_sha2_password"[..])
        );
        assert_eq!(cu.encode(plugin)[1..], with_plugin[..]);
        assert_eq!(cu.encode(secure)[1..], body[..]);

        // Connect attributes only under CLIENT_CONNECT_ATTRS; an empty list writes no block.
        let all = plugin | CLIENT_CONNECT_ATTRS;
        assert_eq!(cu.encode(all)[1..], with_plugin[..]);
        let mut with_attrs = with_plugin.clone();
        crate::wire::handshake::write_connect_attrs(
            &mut with_attrs,
            &[(b"_client_name".to_vec(), b"libmysql".to_vec())],
        );
        assert_eq!(
            ChangeUser::parse(&with_attrs, plugin).map(|c| c.connect_attrs),
            Ok(Vec::new())
        );
        // Under the flag a block cut short is still refused.
        let cut = &with_attrs[..with_attrs.len() - 1];
        assert!(ChangeUser::parse(cut, all).is_err());
        let cu = ChangeUser::parse(&with_attrs, all).unwrap();
        assert_eq!(cu.connect_attrs.len(), 1);
        assert_eq!(cu.encode(all)[1..], with_attrs[..]);
        assert_eq!(cu.encode(plugin)[1..], with_plugin[..]);
    }

    /// COM_CHANGE_USER is read field by field as the capability flags call for, and bytes past
    /// the last field are ignored, as MySQL's parse_com_change_user_multipacket() does
    /// (mysql_async 0.37 sends an empty connect-attributes block without CLIENT_CONNECT_ATTRS).
    #[test]
    fn change_user_ignores_bytes_past_its_fields() {
        let caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;
        let mut body = change_user_body(true);
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

    #[test]
    fn change_user_name_limit_is_inclusive() {
        let caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;
        let body = |n: usize| {
            let mut b = vec![b'u'; n];
            b.extend_from_slice(&change_user_body(true)[3..]);
            b
        };
        let max = crate::wire::handshake::MAX_USER_LEN;
        assert_eq!(
            ChangeUser::parse(&body(max), caps).map(|c| c.username.len()),
            Ok(max)
        );
        assert_eq!(
            ChangeUser::parse(&body(max + 1), caps).map(|c| c.username.len()),
            Err(WireError::TooLong("username"))
        );
    }

    #[test]
    fn change_user_debug_redacts_the_auth_response() {
        let cu = ChangeUser::parse(&change_user_body(true), CAPS).unwrap();
        assert_eq!(
            format!("{cu:?}"),
            "ChangeUser { username: \"bob\", auth_response_len: 20, database: \"db\", \
             character_set: Some(255), client_plugin: None }"
        );
    }

    #[test]
    fn parses_simple_commands() {
        assert_eq!(Command::parse(&[0x01], CAPS), Ok(Command::Quit));
        assert_eq!(Command::parse(&[0x0E], CAPS), Ok(Command::Ping));
        assert_eq!(
            Command::parse(b"\x03SELECT 1", CAPS),
            Ok(Command::Query(b"SELECT 1".to_vec()))
        );
        assert_eq!(
            Command::parse(b"\x02test", CAPS),
            Ok(Command::InitDb(b"test".to_vec()))
        );
        assert_eq!(
            Command::parse(&[0x16, 1], CAPS),
            Ok(Command::Unsupported(0x16))
        );
        assert_eq!(
            Command::parse(&[], CAPS),
            Err(WireError::Truncated("command"))
        );
    }

    #[test]
    fn change_user_with_empty_auth_data_as_connector_c_sends_it() {
        let mut p = vec![COM_CHANGE_USER];
        p.extend_from_slice(b"bob\0\0test\0");
        p.extend_from_slice(&255u16.to_le_bytes());
        p.extend_from_slice(b"caching_sha2_password\0");
        let Command::ChangeUser(cu) = Command::parse(&p, CAPS).unwrap() else {
            panic!()
        };
        assert_eq!(cu.username, b"bob");
        assert!(cu.auth_response.is_empty());
        assert_eq!(cu.database, b"test");
        assert_eq!(cu.character_set, Some(255));
        assert_eq!(
            cu.client_plugin.as_deref(),
            Some(&b"caching_sha2_password"[..])
        );
    }

    #[test]
    fn truncated_change_user_is_an_error() {
        assert!(Command::parse(b"\x11bob\0\x20abc", CAPS).is_err());
        assert!(Command::parse(b"\x11bob", CAPS).is_err());
    }

    proptest! {
        #[test]
        fn change_user_round_trips(
            user in proptest::collection::vec(1u8..=255, 0..20),
            auth in proptest::collection::vec(any::<u8>(), 0..64),
            db in proptest::collection::vec(1u8..=255, 0..20),
            cs: u16,
            plugin in proptest::collection::vec(1u8..=255, 0..25),
            attrs in proptest::collection::vec((proptest::collection::vec(any::<u8>(), 0..10), proptest::collection::vec(any::<u8>(), 0..10)), 0..3),
        ) {
            let cu = ChangeUser { username: user, auth_response: auth, database: db, character_set: Some(cs), client_plugin: Some(plugin), connect_attrs: attrs };
            prop_assert_eq!(Command::parse(&cu.encode(CAPS), CAPS), Ok(Command::ChangeUser(cu)));
        }

        #[test]
        fn command_parser_is_total(data in proptest::collection::vec(any::<u8>(), 0..120)) {
            fuzz_command(&data);
        }
    }
}
