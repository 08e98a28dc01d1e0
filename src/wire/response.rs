//! Where the reply to one command ends: [`Tracker`], the reply-boundary tracker of proxy mode
//! (docs/proxy.md §1 and §3.2).
//!
//! Owns: the shape of every command's reply, as far as it decides which backend packet is the
//! last one, and the server status flags that last packet carries. Never does: I/O, buffering,
//! allocation, clock reads, or anything that can panic. It looks at no more than the first bytes
//! of each frame and the frame's length; rows and column definitions are never parsed, so their
//! size does not matter. A reply that does not follow the shape ends tracking with a
//! [`TrackError`], which the proxy treats as an unparsable reply (docs/proxy.md §6.4: 1152 to
//! the client, the backend connection discarded).
//!
//! The proxy relays the reply physical frame by physical frame and feeds each frame's payload
//! to [`Tracker::frame`]. A frame whose payload is exactly 0xFFFFFF bytes is continued by the
//! next frame; the continuation's bytes are not a new packet, and the frame that ends the
//! logical packet may be empty (docs/protocol.md, "Packets and sequence ids"). A packet's kind
//! is decided on its first frame; its effect (the next state, or the end of the reply) takes
//! place on its last frame.
//!
//! # Reply shapes
//!
//! Sources, all files of MySQL 8.0 (<https://github.com/mysql/mysql-server>):
//!
//! * `sql/protocol_classic.cc`: `net_send_ok` writes the `FE` header only for an end-of-data OK
//!   under CLIENT_DEPRECATE_EOF, and refuses an OK longer than 0xFFFFFF bytes;
//!   `write_eof_packet` writes `FE`, warnings, status (5 bytes) under CLIENT_PROTOCOL_41, else
//!   the single byte `FE`; `Protocol_classic::send_eof` sends the `FE` OK under
//!   CLIENT_DEPRECATE_EOF and an EOF otherwise; `Protocol_classic::end_result_metadata` writes
//!   the EOF after column definitions only when the caller asks for one (`SEND_EOF`) and the
//!   client lacks CLIENT_DEPRECATE_EOF; `Protocol_classic::start_result_metadata` writes the
//!   column-count packet only with `SEND_NUM_ROWS`; `net_send_error` clears
//!   SERVER_MORE_RESULTS_EXISTS, so an ERR always ends the reply.
//! * `sql-common/client.cc`, `cli_safe_read_with_ok_complete`: how a client tells packets
//!   apart. `FF` is ERR. Under CLIENT_DEPRECATE_EOF an `FE` packet is an OK unless it is longer
//!   than 0xFFFFFF bytes (a row whose first value has an 8-byte length, hence at least
//!   2^24 + 9 bytes, so its first frame is a full 0xFFFFFF one); otherwise an `FE` packet is an
//!   EOF when it is shorter than 9 bytes.
//!
//! Per command:
//!
//! * **COM_QUERY, COM_STMT_EXECUTE**: OK (`00`), ERR, LOCAL INFILE request (`FB` + file name;
//!   COM_QUERY only, and only when CLIENT_LOCAL_FILES was negotiated: MySQL's
//!   `sql/sql_load.cc` refuses LOCAL otherwise), or a result set: the column count
//!   (`int<lenenc>`), that many column definitions, an EOF unless CLIENT_DEPRECATE_EOF, the
//!   rows (an ERR may replace a row and ends the reply), then EOF, or the `FE` OK under
//!   CLIENT_DEPRECATE_EOF. SERVER_MORE_RESULTS_EXISTS in the status of that final OK or EOF
//!   means another result (any of the four) follows. `FE` at the start of a result is an error.
//!   COM_STMT_EXECUTE rows are binary-protocol rows: header `00`.
//! * **COM_STMT_EXECUTE with a cursor** (`sql/sql_cursor.cc`):
//!   `Materialized_cursor::send_result_set_metadata` sends the column count and definitions
//!   with `SEND_NUM_ROWS` only (no metadata EOF of its own), then `Materialized_cursor::open`
//!   sets SERVER_STATUS_CURSOR_EXISTS and ends the statement with the one terminator
//!   `Protocol_classic::send_eof` writes. So without CLIENT_DEPRECATE_EOF the EOF right after
//!   the column definitions carries CURSOR_EXISTS and ends the reply; with it, the `FE` OK in
//!   the first row position does. The rows come with COM_STMT_FETCH. As MySQL Proxy does
//!   (`network-mysqld-packet.c`, which notes MySQL 5.5 setting both), an EOF carrying
//!   MORE_RESULTS_EXISTS along with CURSOR_EXISTS is not the end.
//! * **OUT parameters of a CALL via COM_STMT_EXECUTE** (`sql/protocol_classic.cc`,
//!   `Protocol_binary::send_parameters`): an extra result set whose metadata EOF carries
//!   SERVER_PS_OUT_PARAMS and MORE_RESULTS_EXISTS, one row, then the terminator and the CALL's
//!   own OK. Under CLIENT_DEPRECATE_EOF the `FE` OK carries both flags; without it the closing
//!   EOF is written after the flags were cleared, so it shows no MORE_RESULTS_EXISTS although
//!   the OK follows. The tracker remembers PS_OUT_PARAMS from the metadata EOF, as MySQL Proxy
//!   does.
//! * **COM_STMT_PREPARE** (`sql/sql_prepare.cc`, `send_statement`;
//!   `Protocol_classic::store_ps_status`): ERR, or OK `00`, statement id `int<4>`, column count
//!   `int<2>`, parameter count `int<2>`, filler, warnings `int<2>` (12 bytes). Then the
//!   parameter definitions if any, then the column definitions if any (no count packet), each
//!   group followed by an EOF unless CLIENT_DEPRECATE_EOF. The status reported at the end is
//!   that of the last EOF; under CLIENT_DEPRECATE_EOF, or with neither parameters nor columns,
//!   there is none ([`Tracker::final_status`] is `None`, `Done { status: 0 }`).
//! * **COM_STMT_FETCH** (`Materialized_cursor::fetch`): binary rows, then EOF (or the `FE` OK)
//!   with CURSOR_EXISTS or LAST_ROW_SENT; or ERR.
//! * **COM_FIELD_LIST** (`sql/sql_show.cc`, `mysqld_list_fields`): column definitions (with
//!   `SEND_DEFAULTS`, no count packet, no metadata EOF), then `my_eof`: EOF, or the `FE` OK
//!   under CLIENT_DEPRECATE_EOF. Or ERR.
//! * **COM_STATISTICS** (`sql/sql_parse.cc`, `dispatch_command`): one bare text packet.
//! * **COM_QUIT, COM_STMT_SEND_LONG_DATA, COM_STMT_CLOSE**: no reply ([`Tracker::for_command`]
//!   returns `None`).
//! * **Everything else** (COM_PING, COM_INIT_DB, COM_RESET_CONNECTION, COM_SET_OPTION,
//!   COM_STMT_RESET, COM_PROCESS_KILL, COM_DEBUG, COM_REFRESH, unknown bytes …): one OK, ERR or
//!   EOF (COM_SET_OPTION and COM_DEBUG answer with `my_eof`: EOF, or the `FE` OK).
//!
//! Status flags sit after the header and two `int<lenenc>` in an OK, and after the warnings in
//! an EOF; both are there only under CLIENT_PROTOCOL_41, which the door requires of clients
//! (docs/protocol.md, "Capability and status flags"), so the backend leg always has it.
//! Without it the status is unknown and reported as 0.
//!
//! Not supported, because the door never negotiates them (docs/proxy.md §3.1):
//! CLIENT_OPTIONAL_RESULTSET_METADATA (an extra byte in the column-count packet and no column
//! definitions when `resultset_metadata=NONE`) and MariaDB's metadata caching. The compressed
//! protocol is below this layer (the tracker sees decompressed payloads).
//!
//! # States
//!
//! ```text
//!  COM_QUERY, COM_STMT_EXECUTE
//!    ExpectResult ──OK───────────────────────────────────────────────▶ end of result
//!    ExpectResult ──FB──▶ (LocalInfile) ──infile_sent──▶ ExpectInfileResult ──OK──▶ end of result
//!    ExpectResult ──count n──▶ ExpectColumns (n times) ──▶ ExpectMetadataEof ──EOF──▶ ExpectRow
//!                                   └──(DEPRECATE_EOF)─────────────────────────────▶ ExpectRow
//!    ExpectRow ──row──▶ ExpectRow
//!    ExpectRow ──EOF / FE OK──▶ end of result
//!    end of result: MORE_RESULTS_EXISTS (or OUT parameters) ──▶ ExpectResult, else Done
//!    ExpectMetadataEof ──EOF with CURSOR_EXISTS (COM_STMT_EXECUTE)──▶ Done
//!    any state ──ERR──▶ Done
//!  COM_STMT_PREPARE
//!    ExpectPrepareOk ──▶ ExpectParams (p times) ──▶ ExpectParamsEof
//!                    ──▶ ExpectPrepareColumns (c times) ──▶ ExpectPrepareColumnsEof ──▶ Done
//!    (the EOF states only without DEPRECATE_EOF; a group of 0 definitions is skipped)
//!  COM_STMT_FETCH   ExpectRow (binary rows) ──EOF / FE OK──▶ Done
//!  COM_FIELD_LIST   ExpectFieldList ──definition──▶ ExpectFieldList ──EOF / FE OK──▶ Done
//!  COM_STATISTICS   ExpectStatistics ──any packet──▶ Done
//!  others           ExpectSimple ──OK / EOF / FE OK──▶ Done
//! ```
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

use super::capabilities::{CLIENT_DEPRECATE_EOF, CLIENT_LOCAL_FILES, CLIENT_PROTOCOL_41};
use super::command::{COM_QUERY, COM_QUIT, COM_STATISTICS};
use super::frame::MAX_PACKET_CHUNK;
use super::{Reader, WireError};

/// COM_FIELD_LIST (MySQL `include/my_command.h`).
const COM_FIELD_LIST: u8 = 0x04;
/// COM_STMT_PREPARE.
const COM_STMT_PREPARE: u8 = 0x16;
/// COM_STMT_EXECUTE.
const COM_STMT_EXECUTE: u8 = 0x17;
/// COM_STMT_SEND_LONG_DATA: no reply.
const COM_STMT_SEND_LONG_DATA: u8 = 0x18;
/// COM_STMT_CLOSE: no reply.
const COM_STMT_CLOSE: u8 = 0x19;
/// COM_STMT_FETCH.
const COM_STMT_FETCH: u8 = 0x1C;

/// Status flag: another result follows this one (MySQL `include/mysql_com.h`).
const SERVER_MORE_RESULTS_EXISTS: u16 = 0x0008;
/// Status flag: COM_STMT_EXECUTE opened a cursor; the rows come with COM_STMT_FETCH.
const SERVER_STATUS_CURSOR_EXISTS: u16 = 0x0040;
/// Status flag: this result set holds the OUT parameters of a CALL.
const SERVER_PS_OUT_PARAMS: u16 = 0x1000;

/// OK packet header (and the first byte of a binary-protocol row).
const OK: u8 = 0x00;
/// LOCAL INFILE request header (`NULL` in a lenenc position).
const LOCAL_INFILE: u8 = 0xFB;
/// EOF header, and that of the OK ending a result set under CLIENT_DEPRECATE_EOF.
const EOF: u8 = 0xFE;
/// ERR packet header.
const ERR: u8 = 0xFF;
/// An `FE` packet shorter than this is an EOF (it is 5 bytes, or 1 before protocol 4.1).
const EOF_LIMIT: usize = 9;

/// What the tracker says about the frame it was just fed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The reply goes on: relay this frame and feed the next one.
    More,
    /// This frame was the last of the reply. `status` holds the `SERVER_STATUS_*` flags of the
    /// final OK or EOF (SERVER_STATUS_IN_TRANS tells whether a transaction is open); 0 after an
    /// ERR, a COM_STATISTICS text, or a reply with no status (see [`Tracker::final_status`]).
    Done {
        /// Server status flags of the packet that ended the reply, 0 when it carried none.
        status: u16,
    },
    /// This frame ends a LOCAL INFILE request (`FB` + file name). Relay it, then relay the
    /// client's file packets up to and including the empty one, then call
    /// [`Tracker::infile_sent`] and go on feeding the server's frames: its OK or ERR follows.
    LocalInfile,
}

/// Why a reply does not follow the shape of its command. Every variant means the same to the
/// proxy: an unparsable reply, answered with 1152 (08S01) and a discarded backend connection
/// (docs/proxy.md §6.4).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackError {
    /// A packet whose first byte cannot start what the reply needs next (an `FE` where a result
    /// starts, a non-`00` binary row, a LOCAL INFILE request the client did not allow …).
    #[error("unexpected packet (header {header:#04x}) where {expected} was expected")]
    Unexpected {
        /// What the reply needed next.
        expected: &'static str,
        /// The packet's first byte.
        header: u8,
    },
    /// An empty frame that does not end a continued packet.
    #[error("empty packet where {expected} was expected")]
    Empty {
        /// What the reply needed next.
        expected: &'static str,
    },
    /// A frame longer than a physical packet can be (0xFFFFFF bytes).
    #[error("frame of {len} bytes is longer than a packet can be")]
    FrameTooLong {
        /// The frame's length.
        len: usize,
    },
    /// A packet of the right kind whose fields do not parse: a truncated OK or EOF, a short
    /// COM_STMT_PREPARE OK, a column count that is not a lone `int<lenenc>`.
    #[error("malformed {what}: {source}")]
    Malformed {
        /// The packet.
        what: &'static str,
        /// What is wrong with it.
        source: WireError,
    },
    /// A frame fed after the reply had ended.
    #[error("backend packet after the end of the reply")]
    AfterDone,
    /// A frame fed after [`Progress::LocalInfile`] and before [`Tracker::infile_sent`].
    #[error("backend packet while the client's LOCAL INFILE data is still being relayed")]
    InfilePending,
    /// A frame fed after an earlier error.
    #[error("backend packet after a reply error")]
    AfterError,
}

/// The command families whose replies differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// COM_QUERY: text rows, LOCAL INFILE possible.
    Query,
    /// COM_STMT_EXECUTE: binary rows, cursors, OUT parameters.
    Execute,
    /// COM_STMT_PREPARE.
    Prepare,
    /// COM_STMT_FETCH: binary rows of an open cursor.
    Fetch,
    /// COM_FIELD_LIST.
    FieldList,
    /// COM_STATISTICS.
    Statistics,
    /// Everything else: one OK, ERR or EOF.
    Simple,
}

/// What the reply needs next, named after what it expects (rustls style).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The first packet of a result: OK, ERR, LOCAL INFILE request or column count.
    ExpectResult,
    /// `left` more column definitions of a result set.
    ExpectColumns { left: u64 },
    /// The EOF after the column definitions (no CLIENT_DEPRECATE_EOF).
    ExpectMetadataEof,
    /// A row or the end of the result set. `out_params`: the metadata EOF carried
    /// SERVER_PS_OUT_PARAMS, so a result follows this one whatever the closing EOF says.
    ExpectRow { out_params: bool },
    /// The client's LOCAL INFILE data is being relayed; nothing may come from the server.
    ExpectInfileData,
    /// The server's OK or ERR after the LOCAL INFILE data.
    ExpectInfileResult,
    /// COM_STMT_PREPARE's OK or ERR.
    ExpectPrepareOk,
    /// `left` more parameter definitions, then `columns` column definitions.
    ExpectParams { left: u16, columns: u16 },
    /// The EOF after the parameter definitions.
    ExpectParamsEof { columns: u16 },
    /// `left` more column definitions of a prepared statement.
    ExpectPrepareColumns { left: u16 },
    /// The EOF after them.
    ExpectPrepareColumnsEof,
    /// COM_FIELD_LIST: a column definition or the end.
    ExpectFieldList,
    /// COM_STATISTICS: the text.
    ExpectStatistics,
    /// One OK, ERR or EOF.
    ExpectSimple,
    /// The reply has ended.
    Done,
    /// A [`TrackError`] was returned; every later frame is refused.
    Failed,
}

impl State {
    /// What this state is waiting for, for error messages.
    fn expecting(self) -> &'static str {
        match self {
            State::ExpectResult => "OK, ERR, LOCAL INFILE request or column count",
            State::ExpectColumns { .. } | State::ExpectPrepareColumns { .. } => "column definition",
            State::ExpectMetadataEof | State::ExpectPrepareColumnsEof => {
                "EOF after the column definitions"
            }
            State::ExpectRow { .. } => "row or end of result set",
            State::ExpectInfileData => "client LOCAL INFILE data",
            State::ExpectInfileResult => "OK or ERR after LOCAL INFILE data",
            State::ExpectPrepareOk => "COM_STMT_PREPARE OK or ERR",
            State::ExpectParams { .. } => "parameter definition",
            State::ExpectParamsEof { .. } => "EOF after the parameter definitions",
            State::ExpectFieldList => "column definition or EOF",
            State::ExpectStatistics => "statistics text",
            State::ExpectSimple => "OK, ERR or EOF",
            State::Done => "nothing",
            State::Failed => "nothing (failed)",
        }
    }
}

/// What a packet does once its last frame is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The reply goes on in this state.
    To(State),
    /// The reply ends, with the status flags of this packet if it has any.
    Finish(Option<u16>),
    /// A LOCAL INFILE request.
    LocalInfile,
}

/// Follows one command's reply, frame by frame, and says where it ends.
///
/// Create one per relayed command with [`Tracker::for_command`], feed every physical frame of
/// the backend's reply to [`Tracker::frame`] in order, and stop reading at
/// [`Progress::Done`]. Sans-IO: the caller does all reading and writing.
#[derive(Debug, Clone)]
pub struct Tracker {
    kind: Kind,
    caps: u32,
    state: State,
    /// Set while a logical packet continues past a full frame: what it does when it ends.
    continuing: Option<Step>,
    /// Status flags of the packet that ended the reply, if it carried any.
    status: Option<u16>,
    /// A frame of this many bytes is continued by the next one: 0xFFFFFF in production.
    chunk: usize,
}

impl Tracker {
    /// A tracker for the reply to the command `payload` (the client's whole command packet,
    /// command byte first), read with the command-phase capability flags the client and the
    /// backend share. `None` for commands that get no reply: COM_QUIT (0x01),
    /// COM_STMT_SEND_LONG_DATA (0x18) and COM_STMT_CLOSE (0x19). An empty payload is tracked
    /// like an unknown command (MySQL reads it as COM_SLEEP and answers with an ERR).
    /// COM_CHANGE_USER (an authentication exchange) and the replication and clone commands (a
    /// stream) are owned by the door and never relayed (docs/proxy.md §3.4); a tracker for
    /// them would take their first packet for the whole reply.
    pub fn for_command(payload: &[u8], client_capabilities: u32) -> Option<Tracker> {
        Tracker::with_chunk(payload, client_capabilities, MAX_PACKET_CHUNK)
    }

    /// [`Tracker::for_command`] with a smaller continuation size, so tests and fuzzing reach
    /// split packets without 16 MiB frames.
    fn with_chunk(payload: &[u8], caps: u32, chunk: usize) -> Option<Tracker> {
        let (kind, state) = match payload.first().copied() {
            Some(COM_QUIT | COM_STMT_SEND_LONG_DATA | COM_STMT_CLOSE) => return None,
            Some(COM_QUERY) => (Kind::Query, State::ExpectResult),
            Some(COM_STMT_EXECUTE) => (Kind::Execute, State::ExpectResult),
            Some(COM_STMT_PREPARE) => (Kind::Prepare, State::ExpectPrepareOk),
            Some(COM_STMT_FETCH) => (Kind::Fetch, State::ExpectRow { out_params: false }),
            Some(COM_FIELD_LIST) => (Kind::FieldList, State::ExpectFieldList),
            Some(COM_STATISTICS) => (Kind::Statistics, State::ExpectStatistics),
            _ => (Kind::Simple, State::ExpectSimple),
        };
        Some(Tracker {
            kind,
            caps,
            state,
            continuing: None,
            status: None,
            chunk,
        })
    }

    /// Feeds the payload of the next physical frame of the reply (without its 4-byte header).
    /// Returns [`Progress::More`] while the reply goes on, [`Progress::Done`] on its last frame,
    /// [`Progress::LocalInfile`] on the last frame of a LOCAL INFILE request. After an error,
    /// after `Done`, and between `LocalInfile` and [`Tracker::infile_sent`], every frame is
    /// refused.
    pub fn frame(&mut self, payload: &[u8]) -> Result<Progress, TrackError> {
        match self.state {
            State::Done => return Err(TrackError::AfterDone),
            State::Failed => return Err(TrackError::AfterError),
            _ => {}
        }
        if payload.len() > self.chunk {
            return Err(self.fail(TrackError::FrameTooLong { len: payload.len() }));
        }
        let continued = payload.len() == self.chunk;
        if let Some(step) = self.continuing {
            if continued {
                return Ok(Progress::More);
            }
            self.continuing = None;
            return Ok(self.apply(step));
        }
        let step = match self.step(payload) {
            Ok(step) => step,
            Err(e) => return Err(self.fail(e)),
        };
        if continued {
            self.continuing = Some(step);
            Ok(Progress::More)
        } else {
            Ok(self.apply(step))
        }
    }

    /// Call after [`Progress::LocalInfile`], once the client's file packets up to and including
    /// the empty one have been relayed: the server's OK or ERR comes next. Does nothing in any
    /// other state.
    pub fn infile_sent(&mut self) {
        if self.state == State::ExpectInfileData {
            self.state = State::ExpectInfileResult;
        }
    }

    /// Whether the reply has ended ([`Progress::Done`] was returned).
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The status flags of the OK or EOF that ended the reply. `None` before the end, after an
    /// ERR, after a COM_STATISTICS text, after a COM_STMT_PREPARE reply with no EOF (under
    /// CLIENT_DEPRECATE_EOF, or with neither parameters nor columns), and without
    /// CLIENT_PROTOCOL_41. [`Progress::Done`] reports `None` as 0; this tells the two apart, so
    /// the proxy can keep its last known transaction state when the reply carried none.
    pub fn final_status(&self) -> Option<u16> {
        if self.is_done() {
            self.status
        } else {
            None
        }
    }

    /// Records an error: every later frame is refused.
    fn fail(&mut self, e: TrackError) -> TrackError {
        self.state = State::Failed;
        self.continuing = None;
        e
    }

    /// Carries out a packet's effect on its last frame.
    fn apply(&mut self, step: Step) -> Progress {
        match step {
            Step::To(state) => {
                self.state = state;
                Progress::More
            }
            Step::Finish(status) => {
                self.state = State::Done;
                self.status = status;
                Progress::Done {
                    status: status.unwrap_or(0),
                }
            }
            Step::LocalInfile => {
                self.state = State::ExpectInfileData;
                Progress::LocalInfile
            }
        }
    }

    fn deprecate_eof(&self) -> bool {
        self.caps & CLIENT_DEPRECATE_EOF != 0
    }

    /// Decides what the packet starting with this frame is, from its first byte and length.
    fn step(&self, payload: &[u8]) -> Result<Step, TrackError> {
        if self.state == State::ExpectInfileData {
            return Err(TrackError::InfilePending);
        }
        let expected = self.state.expecting();
        let Some(&header) = payload.first() else {
            return Err(TrackError::Empty { expected });
        };
        let unexpected = TrackError::Unexpected { expected, header };
        if self.state == State::ExpectStatistics {
            return Ok(Step::Finish(None));
        }
        // An ERR ends every reply, wherever it comes (`net_send_error`).
        if header == ERR {
            return Ok(Step::Finish(None));
        }
        let eof = header == EOF && payload.len() < EOF_LIMIT;
        match self.state {
            State::ExpectResult => match header {
                OK => Ok(self.end_of_result(ok_status(payload, self.caps)?, false)),
                LOCAL_INFILE if self.kind == Kind::Query && self.caps & CLIENT_LOCAL_FILES != 0 => {
                    Ok(Step::LocalInfile)
                }
                LOCAL_INFILE | EOF => Err(unexpected),
                _ => Ok(Step::To(State::ExpectColumns {
                    left: column_count(payload)?,
                })),
            },
            State::ExpectColumns { left } => {
                if header == EOF {
                    return Err(unexpected);
                }
                Ok(Step::To(match left.saturating_sub(1) {
                    0 if self.deprecate_eof() => State::ExpectRow { out_params: false },
                    0 => State::ExpectMetadataEof,
                    left => State::ExpectColumns { left },
                }))
            }
            State::ExpectMetadataEof => {
                if !eof {
                    return Err(unexpected);
                }
                let status = eof_status(payload, self.caps)?.unwrap_or(0);
                let execute = self.kind == Kind::Execute;
                if execute
                    && status & SERVER_STATUS_CURSOR_EXISTS != 0
                    && status & SERVER_MORE_RESULTS_EXISTS == 0
                {
                    return Ok(Step::Finish(Some(status)));
                }
                Ok(Step::To(State::ExpectRow {
                    out_params: execute && status & SERVER_PS_OUT_PARAMS != 0,
                }))
            }
            State::ExpectRow { out_params } => {
                if self.is_terminator(payload) {
                    return Ok(self.end_of_result(self.terminator_status(payload)?, out_params));
                }
                if matches!(self.kind, Kind::Execute | Kind::Fetch) && header != OK {
                    return Err(TrackError::Unexpected {
                        expected: "binary row (header 0x00) or end of result set",
                        header,
                    });
                }
                Ok(Step::To(self.state))
            }
            State::ExpectInfileResult => match header {
                OK => Ok(self.end_of_result(ok_status(payload, self.caps)?, false)),
                _ => Err(unexpected),
            },
            State::ExpectPrepareOk => match header {
                OK => self.prepare_ok(payload),
                _ => Err(unexpected),
            },
            State::ExpectParams { left, columns } => {
                if header == EOF {
                    return Err(unexpected);
                }
                Ok(match left.saturating_sub(1) {
                    0 if self.deprecate_eof() => after_params(columns),
                    0 => Step::To(State::ExpectParamsEof { columns }),
                    left => Step::To(State::ExpectParams { left, columns }),
                })
            }
            State::ExpectParamsEof { columns } => {
                if !eof {
                    return Err(unexpected);
                }
                let status = eof_status(payload, self.caps)?;
                Ok(match columns {
                    0 => Step::Finish(status),
                    left => Step::To(State::ExpectPrepareColumns { left }),
                })
            }
            State::ExpectPrepareColumns { left } => {
                if header == EOF {
                    return Err(unexpected);
                }
                Ok(match left.saturating_sub(1) {
                    0 if self.deprecate_eof() => Step::Finish(None),
                    0 => Step::To(State::ExpectPrepareColumnsEof),
                    left => Step::To(State::ExpectPrepareColumns { left }),
                })
            }
            State::ExpectPrepareColumnsEof => {
                if !eof {
                    return Err(unexpected);
                }
                Ok(Step::Finish(eof_status(payload, self.caps)?))
            }
            State::ExpectFieldList => {
                if self.is_terminator(payload) {
                    return Ok(Step::Finish(self.terminator_status(payload)?));
                }
                Ok(Step::To(State::ExpectFieldList))
            }
            State::ExpectSimple => {
                if header == OK {
                    return Ok(Step::Finish(ok_status(payload, self.caps)?));
                }
                if self.is_terminator(payload) {
                    return Ok(Step::Finish(self.terminator_status(payload)?));
                }
                Err(unexpected)
            }
            State::ExpectStatistics | State::ExpectInfileData | State::Done | State::Failed => {
                Err(unexpected)
            }
        }
    }

    /// Whether an `FE` packet starting with this frame ends a result set: under
    /// CLIENT_DEPRECATE_EOF every `FE` packet that fits one frame (a row starting with `FE` is
    /// longer), otherwise an EOF (shorter than 9 bytes).
    fn is_terminator(&self, payload: &[u8]) -> bool {
        payload.first() == Some(&EOF)
            && if self.deprecate_eof() {
                payload.len() < self.chunk
            } else {
                payload.len() < EOF_LIMIT
            }
    }

    /// The status of an `FE` terminator: an OK layout under CLIENT_DEPRECATE_EOF, else an EOF.
    /// (`Protocol_classic::end_partial_result_set` sends a real EOF even under
    /// CLIENT_DEPRECATE_EOF; with its warning count of 0 it reads the same either way.)
    fn terminator_status(&self, payload: &[u8]) -> Result<Option<u16>, TrackError> {
        if self.deprecate_eof() {
            ok_status(payload, self.caps)
        } else {
            eof_status(payload, self.caps)
        }
    }

    /// The end of one result of COM_QUERY or COM_STMT_EXECUTE: another follows when the status
    /// says SERVER_MORE_RESULTS_EXISTS (or the result held OUT parameters).
    fn end_of_result(&self, status: Option<u16>, out_params: bool) -> Step {
        let more = out_params || status.is_some_and(|s| s & SERVER_MORE_RESULTS_EXISTS != 0);
        if more && matches!(self.kind, Kind::Query | Kind::Execute) {
            Step::To(State::ExpectResult)
        } else {
            Step::Finish(status)
        }
    }

    /// COM_STMT_PREPARE's OK: the parameter and column counts decide what follows.
    fn prepare_ok(&self, payload: &[u8]) -> Result<Step, TrackError> {
        let malformed = |source| TrackError::Malformed {
            what: "COM_STMT_PREPARE OK",
            source,
        };
        let mut r = Reader::new(payload);
        r.u8("OK header").map_err(malformed)?;
        r.u32("statement id").map_err(malformed)?;
        let columns = r.u16("column count").map_err(malformed)?;
        let params = r.u16("parameter count").map_err(malformed)?;
        r.u8("filler").map_err(malformed)?;
        r.u16("warning count").map_err(malformed)?;
        Ok(match params {
            0 => after_params(columns),
            left => Step::To(State::ExpectParams { left, columns }),
        })
    }
}

/// What follows a prepared statement's parameter definitions (and their EOF, if any).
fn after_params(columns: u16) -> Step {
    match columns {
        0 => Step::Finish(None),
        left => Step::To(State::ExpectPrepareColumns { left }),
    }
}

/// The status flags of an OK packet (either header): after the header and two `int<lenenc>`,
/// under CLIENT_PROTOCOL_41 (`net_send_ok`).
fn ok_status(payload: &[u8], caps: u32) -> Result<Option<u16>, TrackError> {
    let malformed = |source| TrackError::Malformed {
        what: "OK packet",
        source,
    };
    if caps & CLIENT_PROTOCOL_41 == 0 {
        return Ok(None);
    }
    let mut r = Reader::new(payload);
    r.u8("OK header").map_err(malformed)?;
    r.lenenc_int("affected rows").map_err(malformed)?;
    r.lenenc_int("last insert id").map_err(malformed)?;
    r.u16("status flags").map(Some).map_err(malformed)
}

/// The status flags of an EOF packet: `FE`, warnings, status under CLIENT_PROTOCOL_41
/// (`write_eof_packet`); a bare `FE` otherwise.
fn eof_status(payload: &[u8], caps: u32) -> Result<Option<u16>, TrackError> {
    let malformed = |source| TrackError::Malformed {
        what: "EOF packet",
        source,
    };
    if caps & CLIENT_PROTOCOL_41 == 0 {
        return Ok(None);
    }
    let mut r = Reader::new(payload);
    r.u8("EOF header").map_err(malformed)?;
    r.u16("warnings").map_err(malformed)?;
    r.u16("status flags").map(Some).map_err(malformed)
}

/// A result set's column-count packet: exactly one non-zero `int<lenenc>`.
fn column_count(payload: &[u8]) -> Result<u64, TrackError> {
    let malformed = |source| TrackError::Malformed {
        what: "column count",
        source,
    };
    let mut r = Reader::new(payload);
    let n = r.lenenc_int("column count").map_err(malformed)?;
    r.finish("column count").map_err(malformed)?;
    if n == 0 {
        // `FC 00 00`: a zero count in a longer form; a real empty result is an OK.
        return Err(malformed(WireError::Unexpected("column count")));
    }
    Ok(n)
}

/// Fuzz body for [`Tracker`]: never panics, and keeps its contract on any input. Input: the
/// command byte, a flags byte (bit 0 CLIENT_PROTOCOL_41, bit 1 CLIENT_DEPRECATE_EOF, bit 2
/// CLIENT_LOCAL_FILES, bit 6 feed a frame before `infile_sent`, bit 7 the production 0xFFFFFF
/// continuation size instead of 16), then frames, each a length byte (taken modulo 18 with the
/// small size, so full frames and too-long ones occur) and that many bytes. Panics when the
/// contract breaks: a frame accepted after an error or after `Done`, `Done` twice, `is_done`
/// or `final_status` disagreeing with what `frame` said, a frame accepted while LOCAL INFILE
/// data is pending.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn fuzz_response_tracker(data: &[u8]) {
    run_fuzz_input(data);
}

/// The fuzz body's work; returns whether the reply reached [`Progress::Done`] (the committed
/// seeds are checked to do so).
#[allow(clippy::panic)] // Panicking on a broken invariant is this function's purpose.
#[cfg(any(test, feature = "fuzzing"))]
fn run_fuzz_input(data: &[u8]) -> bool {
    let [command, flags, rest @ ..] = data else {
        return false;
    };
    let caps = [
        (1, CLIENT_PROTOCOL_41),
        (2, CLIENT_DEPRECATE_EOF),
        (4, CLIENT_LOCAL_FILES),
    ]
    .iter()
    .filter(|(bit, _)| flags & bit != 0)
    .fold(0, |caps, (_, flag)| caps | flag);
    let chunk = if flags & 0x80 != 0 {
        MAX_PACKET_CHUNK
    } else {
        16
    };
    let Some(mut t) = Tracker::with_chunk(&[*command], caps, chunk) else {
        assert!(matches!(
            *command,
            COM_QUIT | COM_STMT_SEND_LONG_DATA | COM_STMT_CLOSE
        ));
        return false;
    };
    let mut rest = rest;
    let mut done = false;
    let mut failed = false;
    while let Some((&len, tail)) = rest.split_first() {
        let len = if chunk == MAX_PACKET_CHUNK {
            usize::from(len)
        } else {
            usize::from(len) % (chunk + 2)
        };
        let (frame, tail) = tail.split_at(len.min(tail.len()));
        rest = tail;
        let result = t.frame(frame);
        if failed {
            assert!(result.is_err(), "frame accepted after an error");
            continue;
        }
        if done {
            assert_eq!(
                result,
                Err(TrackError::AfterDone),
                "frame accepted after Done"
            );
            assert!(t.is_done());
            continue;
        }
        match result {
            Ok(Progress::More) => assert!(!t.is_done()),
            Ok(Progress::Done { status }) => {
                assert!(t.is_done());
                assert_eq!(t.final_status().unwrap_or(0), status);
                done = true;
            }
            Ok(Progress::LocalInfile) => {
                assert!(!t.is_done());
                if flags & 0x40 != 0 {
                    assert_eq!(t.frame(b"x"), Err(TrackError::InfilePending));
                    failed = true;
                } else {
                    t.infile_sent();
                }
            }
            Err(_) => {
                assert!(!t.is_done());
                assert_eq!(t.final_status(), None);
                failed = true;
            }
        }
    }
    done
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
