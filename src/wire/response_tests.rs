//! Tests of the reply tracker: every reply shape with and without CLIENT_DEPRECATE_EOF,
//! multi-results, ERR mid-rows, cursors, OUT parameters, LOCAL INFILE, packets split at the
//! production 0xFFFFFF size, malformed replies, and a model-based property test that encodes
//! random replies with the crate's encoders and splits them at a small continuation size.

use super::*;
use crate::wire::capabilities::{
    CLIENT_TRANSACTIONS, SERVER_STATUS_AUTOCOMMIT, SERVER_STATUS_IN_TRANS,
};
use crate::wire::packets::{encode_eof, ErrPacket, OkPacket};
use crate::wire::put_lenenc_int;
use crate::wire::resultset::{encode_result_set, ColumnDefinition41};
use proptest::prelude::*;

/// Flags of a client without CLIENT_DEPRECATE_EOF (an old Connector/J, `mysql` 5.6 …).
const OLD: u32 = CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS;
/// The same with CLIENT_DEPRECATE_EOF (libmysqlclient 8.0, mysql_async, sqlx …).
const NEW: u32 = OLD | CLIENT_DEPRECATE_EOF;
const BOTH: [u32; 2] = [OLD, NEW];
const AC: u16 = SERVER_STATUS_AUTOCOMMIT;
const TRX: u16 = SERVER_STATUS_IN_TRANS | SERVER_STATUS_AUTOCOMMIT;
const MORE: u16 = SERVER_MORE_RESULTS_EXISTS;
const CURSOR: u16 = SERVER_STATUS_CURSOR_EXISTS;
/// SERVER_STATUS_LAST_ROW_SENT (MySQL `include/mysql_com.h`).
const LAST_ROW_SENT: u16 = 0x0080;

const QUERY: &[u8] = b"\x03SELECT 1";
const EXECUTE: &[u8] = &[0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0];
const EXECUTE_CURSOR: &[u8] = &[0x17, 1, 0, 0, 0, 1, 1, 0, 0, 0];
const PREPARE: &[u8] = b"\x16SELECT ?";
const FETCH: &[u8] = &[0x1C, 1, 0, 0, 0, 5, 0, 0, 0];
const FIELD_LIST: &[u8] = b"\x04t\0";
const STATISTICS: &[u8] = &[0x09];
const PING: &[u8] = &[0x0E];
const SET_OPTION: &[u8] = &[0x1B, 1, 0];
const RESET_STMT: &[u8] = &[0x1A, 1, 0, 0, 0];

fn ok(status: u16) -> Vec<u8> {
    OkPacket::with_status(status).encode()
}

fn err() -> Vec<u8> {
    ErrPacket::new(1146, "42S02", "Table 'test.t' doesn't exist").encode()
}

fn eof(status: u16) -> Vec<u8> {
    encode_eof(0, status)
}

/// The packet that ends a result set under `caps`: the `FE` OK or an EOF.
fn end(caps: u32, status: u16) -> Vec<u8> {
    if caps & CLIENT_DEPRECATE_EOF != 0 {
        OkPacket::with_status(status).encode_with_header(0xFE)
    } else {
        eof(status)
    }
}

fn column(name: &str) -> Vec<u8> {
    ColumnDefinition41::string(name, 10).encode()
}

fn count(n: u64) -> Vec<u8> {
    let mut v = Vec::new();
    put_lenenc_int(&mut v, n);
    v
}

/// Column count, `n` definitions and, without CLIENT_DEPRECATE_EOF, the metadata EOF.
fn metadata(caps: u32, n: usize, eof_status: u16) -> Vec<Vec<u8>> {
    let mut out = vec![count(n as u64)];
    out.extend((0..n).map(|i| column(&format!("c{i}"))));
    if caps & CLIENT_DEPRECATE_EOF == 0 {
        out.push(eof(eof_status));
    }
    out
}

/// A text result set of `rows` one-column rows, by the crate's own encoder.
fn text_set(caps: u32, rows: Vec<Option<Vec<u8>>>, status: u16) -> Vec<Vec<u8>> {
    let rows: Vec<Vec<Option<Vec<u8>>>> = rows.into_iter().map(|v| vec![v]).collect();
    encode_result_set(&[ColumnDefinition41::string("c", 10)], &rows, caps, status)
}

/// A binary-protocol row of one non-NULL TINYINT: header `00`, NULL bitmap, value.
fn binary_row(v: u8) -> Vec<u8> {
    vec![0x00, 0x00, v]
}

/// COM_STMT_PREPARE's OK.
fn prepare_ok(columns: u16, params: u16) -> Vec<u8> {
    let mut v = vec![0x00, 7, 0, 0, 0];
    v.extend_from_slice(&columns.to_le_bytes());
    v.extend_from_slice(&params.to_le_bytes());
    v.extend_from_slice(&[0, 0, 0]);
    v
}

/// A payload cut into physical frames of `chunk` bytes: a full frame is continued by the
/// next, and a payload that is a multiple of `chunk` ends with an empty frame.
fn frames(payload: &[u8], chunk: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = payload;
    loop {
        let (frame, tail) = rest.split_at(rest.len().min(chunk));
        out.push(frame);
        rest = tail;
        if frame.len() < chunk {
            return out;
        }
    }
}

/// Feeds every packet, frame by frame; the progress of each frame, or the first error.
fn feed(t: &mut Tracker, packets: &[Vec<u8>]) -> Result<Vec<Progress>, TrackError> {
    let mut out = Vec::new();
    for p in packets {
        for f in frames(p, t.chunk) {
            out.push(t.frame(f)?);
        }
    }
    Ok(out)
}

fn tracker(command: &[u8], caps: u32) -> Tracker {
    Tracker::for_command(command, caps).unwrap()
}

/// Asserts that the reply is `More` on every frame but the last, and `Done { status }` there.
#[track_caller]
fn assert_reply(command: &[u8], caps: u32, packets: &[Vec<u8>], status: u16) -> Tracker {
    let mut t = tracker(command, caps);
    let progress = feed(&mut t, packets).unwrap();
    let (last, before) = progress.split_last().unwrap();
    assert!(before.iter().all(|p| *p == Progress::More), "{progress:?}");
    assert_eq!(*last, Progress::Done { status }, "caps {caps:#x}");
    assert!(t.is_done());
    assert_eq!(t.frame(&ok(0)), Err(TrackError::AfterDone));
    assert!(t.is_done());
    t
}

#[test]
fn commands_without_reply_get_no_tracker() {
    for cmd in [
        &[0x01][..],
        &[0x18, 1, 0, 0, 0, 0, 0, b'x'],
        &[0x19, 1, 0, 0, 0],
    ] {
        assert!(Tracker::for_command(cmd, NEW).is_none());
    }
    for cmd in [QUERY, PING, STATISTICS, &[][..], &[0xEE]] {
        assert!(Tracker::for_command(cmd, NEW).is_some());
    }
}

#[test]
fn query_ok_and_err() {
    for caps in BOTH {
        let t = assert_reply(QUERY, caps, &[ok(TRX)], TRX);
        assert_eq!(t.final_status(), Some(TRX));
        let t = assert_reply(QUERY, caps, &[err()], 0);
        assert_eq!(t.final_status(), None);
    }
}

#[test]
fn query_text_result_set() {
    for caps in BOTH {
        // Rows starting with NULL (FB) and with an empty string (00) are rows.
        let set = text_set(
            caps,
            vec![Some(b"1".to_vec()), None, Some(vec![]), Some(vec![0xFE; 3])],
            TRX,
        );
        let t = assert_reply(QUERY, caps, &set, TRX);
        assert_eq!(t.final_status(), Some(TRX));
        // No rows at all.
        assert_reply(QUERY, caps, &text_set(caps, vec![], AC), AC);
        // Several columns.
        let mut packets = metadata(caps, 3, AC);
        packets.push(vec![1, b'a', 0xFB, 0]);
        packets.push(end(caps, AC));
        assert_reply(QUERY, caps, &packets, AC);
    }
}

#[test]
fn more_results_loop_until_a_status_without_the_flag() {
    for caps in BOTH {
        let mut packets = vec![ok(MORE | AC)];
        packets.extend(text_set(caps, vec![Some(b"x".to_vec())], MORE | TRX));
        packets.push(ok(MORE | TRX));
        packets.extend(text_set(caps, vec![], TRX));
        assert_reply(QUERY, caps, &packets, TRX);

        let mut packets = text_set(caps, vec![Some(b"x".to_vec())], MORE | AC);
        packets.push(ok(AC));
        assert_reply(QUERY, caps, &packets, AC);
    }
}

#[test]
fn an_err_ends_a_multi_result_reply_with_status_0() {
    for caps in BOTH {
        let mut packets = vec![ok(MORE | TRX)];
        packets.extend(text_set(caps, vec![Some(b"x".to_vec())], MORE | TRX));
        packets.push(err());
        let t = assert_reply(QUERY, caps, &packets, 0);
        assert_eq!(t.final_status(), None);
    }
}

#[test]
fn an_err_replaces_a_row() {
    for caps in BOTH {
        let mut packets = metadata(caps, 2, AC);
        packets.push(vec![1, b'a', 1, b'b']);
        packets.push(err());
        assert_reply(QUERY, caps, &packets, 0);
        // And in the binary protocol.
        let mut packets = metadata(caps, 1, AC);
        packets.push(binary_row(1));
        packets.push(err());
        assert_reply(EXECUTE, caps, &packets, 0);
        // Or a column definition.
        let mut packets = metadata(caps, 3, AC);
        packets.truncate(2);
        packets.push(err());
        assert_reply(QUERY, caps, &packets, 0);
    }
}

#[test]
fn local_infile_waits_for_the_client_data() {
    let request = b"\xFB/tmp/data.csv".to_vec();
    for caps in BOTH.map(|c| c | CLIENT_LOCAL_FILES) {
        let mut t = tracker(QUERY, caps);
        assert_eq!(t.frame(&request), Ok(Progress::LocalInfile));
        assert!(!t.is_done());
        t.infile_sent();
        assert_eq!(t.frame(&ok(TRX)), Ok(Progress::Done { status: TRX }));

        let mut t = tracker(QUERY, caps);
        assert_eq!(t.frame(&request), Ok(Progress::LocalInfile));
        t.infile_sent();
        assert_eq!(t.frame(&err()), Ok(Progress::Done { status: 0 }));

        // A multi-statement query: the LOAD DATA's OK announces more results.
        let mut t = tracker(QUERY, caps);
        assert_eq!(
            feed(&mut t, &[ok(MORE | AC), request.clone()]),
            Ok(vec![Progress::More, Progress::LocalInfile])
        );
        t.infile_sent();
        let mut rest = vec![ok(MORE | AC)];
        rest.extend(text_set(caps, vec![Some(b"1".to_vec())], AC));
        let progress = feed(&mut t, &rest).unwrap();
        assert_eq!(progress.last(), Some(&Progress::Done { status: AC }));

        // The server may not speak while the client's file is being relayed.
        let mut t = tracker(QUERY, caps);
        assert_eq!(t.frame(&request), Ok(Progress::LocalInfile));
        assert_eq!(t.frame(&ok(AC)), Err(TrackError::InfilePending));
        assert_eq!(t.frame(&ok(AC)), Err(TrackError::AfterError));
        t.infile_sent();
        assert_eq!(t.frame(&ok(AC)), Err(TrackError::AfterError));
    }
}

#[test]
fn local_infile_is_refused_unless_negotiated_and_for_queries_only() {
    let request = b"\xFBdata.csv".to_vec();
    for caps in BOTH {
        let mut t = tracker(QUERY, caps);
        assert!(matches!(
            t.frame(&request),
            Err(TrackError::Unexpected { header: 0xFB, .. })
        ));
        let mut t = tracker(EXECUTE, caps | CLIENT_LOCAL_FILES);
        assert!(matches!(
            t.frame(&request),
            Err(TrackError::Unexpected { header: 0xFB, .. })
        ));
        // Not after a result either.
        let mut t = tracker(QUERY, caps | CLIENT_LOCAL_FILES);
        assert!(matches!(t.frame(&request), Ok(Progress::LocalInfile)));
        t.infile_sent();
        assert!(matches!(
            t.frame(&request),
            Err(TrackError::Unexpected { header: 0xFB, .. })
        ));
        // infile_sent elsewhere changes nothing.
        let mut t = tracker(QUERY, caps);
        t.infile_sent();
        assert_reply(QUERY, caps, &[ok(AC)], AC);
        assert_eq!(t.frame(&ok(AC)), Ok(Progress::Done { status: AC }));
    }
}

#[test]
fn execute_binary_result_set() {
    for caps in BOTH {
        let mut packets = metadata(caps, 1, AC);
        packets.extend([binary_row(1), binary_row(0xFE), binary_row(0xFF)]);
        packets.push(end(caps, TRX));
        assert_reply(EXECUTE, caps, &packets, TRX);
        assert_reply(EXECUTE, caps, &[ok(TRX)], TRX);
        assert_reply(EXECUTE, caps, &[err()], 0);

        // A binary row must start with 00.
        let mut t = tracker(EXECUTE, caps);
        feed(&mut t, &metadata(caps, 1, AC)).unwrap();
        assert!(matches!(
            t.frame(&[1, b'x']),
            Err(TrackError::Unexpected { header: 1, .. })
        ));
    }
}

#[test]
fn a_cursor_ends_the_execute_reply_after_the_metadata() {
    // Without DEPRECATE_EOF the metadata EOF carries CURSOR_EXISTS.
    let mut packets = metadata(OLD, 2, CURSOR | AC);
    let t = assert_reply(EXECUTE_CURSOR, OLD, &packets, CURSOR | AC);
    assert_eq!(t.final_status(), Some(CURSOR | AC));
    // With it, the FE OK in the first row position does.
    packets = metadata(NEW, 2, 0);
    packets.push(end(NEW, CURSOR | TRX));
    assert_reply(EXECUTE_CURSOR, NEW, &packets, CURSOR | TRX);
    // CURSOR_EXISTS along with MORE_RESULTS_EXISTS in a metadata EOF is not the end.
    let mut packets = metadata(OLD, 1, CURSOR | MORE | AC);
    packets.push(binary_row(3));
    packets.push(eof(AC));
    assert_reply(EXECUTE, OLD, &packets, AC);
    // COM_QUERY has no cursors: the flag in its metadata EOF changes nothing.
    let mut packets = metadata(OLD, 1, CURSOR | AC);
    packets.push(vec![1, b'x']);
    packets.push(eof(AC));
    assert_reply(QUERY, OLD, &packets, AC);
}

#[test]
fn out_parameters_are_followed_by_the_calls_ok() {
    // Without DEPRECATE_EOF the closing EOF lacks MORE_RESULTS_EXISTS
    // (Protocol_binary::send_parameters); the metadata EOF's PS_OUT_PARAMS says more follows.
    let mut packets = metadata(OLD, 1, SERVER_PS_OUT_PARAMS | MORE | AC);
    packets.push(binary_row(42));
    packets.push(eof(AC));
    packets.push(ok(AC));
    assert_reply(EXECUTE, OLD, &packets, AC);
    // With it, the FE OK says so itself.
    let mut packets = metadata(NEW, 1, 0);
    packets.push(binary_row(42));
    packets.push(end(NEW, SERVER_PS_OUT_PARAMS | MORE | AC));
    packets.push(ok(AC));
    assert_reply(EXECUTE, NEW, &packets, AC);
    // A CALL with a result set and OUT parameters.
    let mut packets = metadata(OLD, 1, MORE | AC);
    packets.push(binary_row(1));
    packets.push(eof(MORE | AC));
    packets.extend(metadata(OLD, 2, SERVER_PS_OUT_PARAMS | MORE | AC));
    packets.push(vec![0, 0, 1, 2]);
    packets.push(eof(AC));
    packets.push(ok(TRX));
    assert_reply(EXECUTE, OLD, &packets, TRX);
}

#[test]
fn fetch_rows_then_the_end() {
    for caps in BOTH {
        let packets = [binary_row(1), binary_row(2), end(caps, CURSOR | AC)];
        assert_reply(FETCH, caps, &packets, CURSOR | AC);
        assert_reply(
            FETCH,
            caps,
            &[end(caps, LAST_ROW_SENT | AC)],
            LAST_ROW_SENT | AC,
        );
        assert_reply(FETCH, caps, &[binary_row(1), err()], 0);
        // MORE_RESULTS_EXISTS has no meaning here.
        assert_reply(FETCH, caps, &[end(caps, MORE | AC)], MORE | AC);
        let mut t = tracker(FETCH, caps);
        assert!(t.frame(b"x").is_err());
    }
}

#[test]
fn prepare_replies() {
    // Neither parameters nor columns: the OK is the whole reply, with no status.
    for caps in BOTH {
        let t = assert_reply(PREPARE, caps, &[prepare_ok(0, 0)], 0);
        assert_eq!(t.final_status(), None);
        assert_reply(PREPARE, caps, &[err()], 0);
    }
    // Two parameters and one column.
    let p = || column("?");
    let packets = [prepare_ok(1, 2), p(), p(), eof(AC), column("a"), eof(TRX)];
    let t = assert_reply(PREPARE, OLD, &packets, TRX);
    assert_eq!(t.final_status(), Some(TRX));
    let t = assert_reply(PREPARE, NEW, &[prepare_ok(1, 2), p(), p(), column("a")], 0);
    assert_eq!(t.final_status(), None);
    // Parameters only, columns only.
    assert_reply(PREPARE, OLD, &[prepare_ok(0, 1), p(), eof(AC)], AC);
    assert_reply(PREPARE, NEW, &[prepare_ok(0, 1), p()], 0);
    assert_reply(
        PREPARE,
        OLD,
        &[prepare_ok(2, 0), column("a"), column("b"), eof(AC)],
        AC,
    );
    assert_reply(
        PREPARE,
        NEW,
        &[prepare_ok(2, 0), column("a"), column("b")],
        0,
    );
    // An EOF too early is an error.
    let mut t = tracker(PREPARE, OLD);
    assert!(feed(&mut t, &[prepare_ok(0, 2), p(), eof(AC)]).is_err());
    // The OK must be whole.
    let mut t = tracker(PREPARE, NEW);
    assert!(matches!(
        t.frame(&prepare_ok(1, 1)[..9]),
        Err(TrackError::Malformed {
            what: "COM_STMT_PREPARE OK",
            ..
        })
    ));
    // MySQL with CLIENT_OPTIONAL_RESULTSET_METADATA adds a byte; trailing bytes are fine.
    let mut long = prepare_ok(0, 0);
    long.push(1);
    assert_reply(PREPARE, NEW, &[long], 0);
}

#[test]
fn field_list_definitions_then_the_end() {
    for caps in BOTH {
        assert_reply(
            FIELD_LIST,
            caps,
            &[column("a"), column("b"), end(caps, TRX)],
            TRX,
        );
        assert_reply(FIELD_LIST, caps, &[end(caps, AC)], AC);
        assert_reply(FIELD_LIST, caps, &[err()], 0);
    }
}

#[test]
fn statistics_is_one_packet_whatever_it_holds() {
    for caps in BOTH {
        let text = b"Uptime: 5  Threads: 1  Questions: 3".to_vec();
        let t = assert_reply(STATISTICS, caps, &[text], 0);
        assert_eq!(t.final_status(), None);
        assert_reply(STATISTICS, caps, &[vec![0xFE]], 0);
        assert_reply(STATISTICS, caps, &[ok(AC)], 0);
    }
}

#[test]
fn other_commands_get_one_ok_err_or_eof() {
    for caps in BOTH {
        for cmd in [PING, RESET_STMT, &[0x02, b'd', b'b'], &[0x1F], &[0xEE], &[]] {
            assert_reply(cmd, caps, &[ok(TRX)], TRX);
            assert_reply(cmd, caps, &[err()], 0);
        }
        // COM_SET_OPTION answers with my_eof: an EOF, or the FE OK.
        assert_reply(SET_OPTION, caps, &[end(caps, AC)], AC);
        let mut t = tracker(PING, caps);
        assert!(matches!(
            t.frame(&[0x01]),
            Err(TrackError::Unexpected { header: 1, .. })
        ));
        // No result sets here.
        let mut t = tracker(PING, caps);
        assert!(t.frame(&count(1)).is_err());
    }
}

#[test]
fn an_fe_packet_cannot_start_a_result() {
    for caps in BOTH {
        for first in [end(caps, AC), eof(AC), vec![0xFE]] {
            let mut t = tracker(QUERY, caps);
            assert!(matches!(
                t.frame(&first),
                Err(TrackError::Unexpected { header: 0xFE, .. })
            ));
            assert_eq!(t.frame(&ok(AC)), Err(TrackError::AfterError));
            assert!(!t.is_done());
        }
    }
}

#[test]
fn fe_rows_of_nine_bytes_or_more_are_rows_without_deprecate_eof() {
    let mut packets = metadata(OLD, 1, AC);
    packets.push(vec![0xFE, 1, 0, 0, 0, 0, 0, 0, 0]);
    packets.push([vec![0xFE], vec![0x20; 30]].concat());
    packets.push(eof(TRX));
    assert_reply(QUERY, OLD, &packets, TRX);
    // An FE packet of fewer than 9 bytes in a row position is the EOF.
    let mut packets = metadata(OLD, 1, AC);
    packets.push(vec![0xFE, 0, 0, 2, 0, 0, 0, 0]);
    assert_reply(QUERY, OLD, &packets, 2);
    // Under DEPRECATE_EOF an FE row is at least 2^24 + 9 bytes (see the split tests), so a
    // shorter FE packet is the OK that ends the result set, as MySQL's client reads it.
    let mut packets = metadata(NEW, 1, AC);
    packets.push(vec![0xFE, 0, 0, 3, 0, 0, 0, 0, 0, 0]);
    assert_reply(QUERY, NEW, &packets, 3);
}

#[test]
fn split_rows_of_16_mib_and_more() {
    let max = MAX_PACKET_CHUNK;
    // A text row whose only value is 0xFFFFFF + 4 bytes long: FE + 8-byte length, the value.
    let mut fe_row = vec![0xFE];
    fe_row.extend_from_slice(&((max + 4) as u64).to_le_bytes());
    fe_row.resize(9 + max + 4, b'z');
    // A row of exactly 0xFFFFFF bytes: FD + 3-byte length + value, then an empty frame.
    let mut exact = vec![0xFD];
    exact.extend_from_slice(&((max - 4) as u32).to_le_bytes()[..3]);
    exact.resize(max, b'y');
    // Exactly two frames' worth: full, full, empty.
    let mut double = vec![0xFE];
    double.extend_from_slice(&((2 * max - 9) as u64).to_le_bytes());
    double.resize(2 * max, b'x');
    for caps in BOTH {
        let mut packets = metadata(caps, 1, AC);
        let meta = packets.len();
        packets.extend([fe_row.clone(), exact.clone(), double.clone(), vec![1, b'a']]);
        packets.push(end(caps, TRX));
        let mut t = tracker(QUERY, caps);
        let progress = feed(&mut t, &packets).unwrap();
        // 2 + 2 + 3 frames for the big rows.
        assert_eq!(progress.len(), meta + 7 + 2);
        let (last, before) = progress.split_last().unwrap();
        assert!(before.iter().all(|p| *p == Progress::More));
        assert_eq!(*last, Progress::Done { status: TRX });
        // A binary row split the same way.
        let mut bin = vec![0u8; max + 10];
        bin[2] = 0xFE;
        let mut packets = metadata(caps, 1, AC);
        packets.extend([bin, end(caps, AC)]);
        assert_reply(EXECUTE, caps, &packets, AC);
    }
    // The continuation's bytes are never read as packets: an FE or FF there changes nothing.
    let mut t = tracker(QUERY, NEW);
    feed(&mut t, &metadata(NEW, 1, AC)).unwrap();
    assert_eq!(t.frame(&exact), Ok(Progress::More));
    assert_eq!(t.frame(&err()), Ok(Progress::More));
    assert_eq!(t.frame(&end(NEW, AC)), Ok(Progress::Done { status: AC }));
    // A last packet that spans frames ends on its last frame.
    let mut t = tracker(STATISTICS, NEW);
    assert_eq!(t.frame(&exact), Ok(Progress::More));
    assert!(!t.is_done());
    assert_eq!(t.frame(&[]), Ok(Progress::Done { status: 0 }));
}

#[test]
fn empty_frames_only_end_a_continued_packet() {
    for caps in BOTH {
        let mut t = tracker(QUERY, caps);
        assert!(matches!(t.frame(&[]), Err(TrackError::Empty { .. })));
        assert_eq!(t.frame(&ok(0)), Err(TrackError::AfterError));
        let mut t = tracker(QUERY, caps);
        feed(&mut t, &metadata(caps, 1, AC)).unwrap();
        assert!(matches!(t.frame(&[]), Err(TrackError::Empty { .. })));
    }
}

#[test]
fn frames_longer_than_a_packet_are_refused() {
    let mut t = Tracker::with_chunk(QUERY, NEW, 16).unwrap();
    assert_eq!(t.frame(&[0; 17]), Err(TrackError::FrameTooLong { len: 17 }));
    assert_eq!(t.frame(&ok(0)), Err(TrackError::AfterError));
}

#[test]
fn malformed_packets_are_errors() {
    for caps in BOTH {
        let bad_counts: [&[u8]; 4] = [&[0xFC, 1], &[1, 2], &[0xFC, 0, 0], &[0xFD, 1, 0]];
        for bad in bad_counts {
            let mut t = tracker(QUERY, caps);
            assert!(
                matches!(
                    t.frame(bad),
                    Err(TrackError::Malformed {
                        what: "column count",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
        // A column count in a longer form is fine.
        let mut packets = vec![vec![0xFC, 1, 0], column("a")];
        packets.extend(metadata(caps, 0, AC).into_iter().skip(1));
        packets.push(end(caps, AC));
        assert_reply(QUERY, caps, &packets, AC);
        // A truncated OK, a truncated terminator.
        let mut t = tracker(PING, caps);
        assert!(matches!(
            t.frame(&[0, 0, 0, 2]),
            Err(TrackError::Malformed {
                what: "OK packet",
                ..
            })
        ));
        let mut t = tracker(FETCH, caps);
        assert!(matches!(
            t.frame(&[0xFE, 0, 0]),
            Err(TrackError::Malformed { .. })
        ));
    }
    // A metadata EOF that is not one.
    let mut t = tracker(QUERY, OLD);
    feed(&mut t, &metadata(NEW, 1, AC)).unwrap();
    assert!(matches!(
        t.frame(&[1, b'x']),
        Err(TrackError::Unexpected { header: 1, .. })
    ));
    // An FE where a column definition belongs.
    let mut t = tracker(QUERY, NEW);
    t.frame(&count(2)).unwrap();
    assert!(matches!(
        t.frame(&eof(0)),
        Err(TrackError::Unexpected { header: 0xFE, .. })
    ));
}

#[test]
fn without_protocol_41_the_status_is_unknown() {
    let t = assert_reply(QUERY, 0, &[vec![0x00, 0, 0]], 0);
    assert_eq!(t.final_status(), None);
    let mut packets = metadata(0, 1, 0);
    *packets.last_mut().unwrap() = vec![0xFE];
    packets.push(vec![1, b'x']);
    packets.push(vec![0xFE]);
    assert_reply(QUERY, 0, &packets, 0);
}

#[test]
fn errors_name_what_was_expected() {
    let mut t = tracker(QUERY, NEW);
    let e = t.frame(&[0xFE]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unexpected packet (header 0xfe) where OK, ERR, LOCAL INFILE request or column count was expected"
    );
    let mut t = tracker(PING, NEW);
    let e = t.frame(&[0, 0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "malformed OK packet: packet truncated while reading last insert id"
    );
}

/// The committed seeds reach the end of their reply, so the fuzzer starts from deep states.
#[test]
fn committed_seeds_reach_done() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/response_tracker");
    let mut seeds = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        fuzz_response_tracker(&data);
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("seed_")
        {
            assert!(
                run_fuzz_input(&data),
                "{} does not reach Done",
                path.display()
            );
            seeds += 1;
        }
    }
    assert!(seeds >= 5);
}

// ---- the model ----

/// A row of the model.
#[derive(Debug, Clone)]
enum RowSpec {
    /// A short row with these bytes (the first adjusted to be legal).
    Plain(Vec<u8>),
    /// A text row starting with FE: at least 9 bytes, and at least one full frame under
    /// DEPRECATE_EOF; `extra` more bytes.
    Fe(u16),
    /// A row of exactly `k` full frames (then an empty one), starting with `first`.
    Frames(u8, u8),
}

/// One result of a COM_QUERY or COM_STMT_EXECUTE reply.
#[derive(Debug, Clone)]
enum ResultSpec {
    Ok,
    /// A result set: column-name lengths, rows, the metadata EOF's status.
    Set(Vec<u8>, Vec<RowSpec>, u16),
    /// LOCAL INFILE (COM_QUERY with CLIENT_LOCAL_FILES; an OK otherwise), file-name length.
    Infile(u8),
}

/// How the reply ends.
#[derive(Debug, Clone, Copy)]
enum Ending {
    /// The last result carries no MORE_RESULTS_EXISTS.
    Normal,
    /// An ERR follows the last result.
    ErrAfter,
    /// An ERR replaces the next row of the last result set (or follows the last result).
    ErrInRows,
    /// COM_STMT_EXECUTE: a cursor opens after the results (else as Normal); its column count.
    Cursor(u8),
}

#[derive(Debug, Clone)]
enum CommandSpec {
    QueryOrExecute {
        execute: bool,
        results: Vec<ResultSpec>,
        ending: Ending,
    },
    Prepare {
        params: u8,
        columns: u8,
        err: bool,
    },
    Fetch(Vec<RowSpec>, bool),
    FieldList(Vec<u8>, bool),
    Statistics(Vec<u8>),
    Simple(u8),
}

#[derive(Debug, Clone)]
struct Spec {
    command: CommandSpec,
    deprecate_eof: bool,
    local_files: bool,
    chunk: usize,
    /// Status flags to draw from, one per use.
    statuses: Vec<u16>,
}

/// What the last frame of a packet must produce.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    More,
    Infile,
    Done(u16),
}

struct Encoder<'a> {
    spec: &'a Spec,
    caps: u32,
    next_status: usize,
    out: Vec<(Vec<u8>, Expect)>,
}

impl Encoder<'_> {
    /// A random status without the flags that steer the reply.
    fn status(&mut self) -> u16 {
        let s = self
            .spec
            .statuses
            .get(self.next_status)
            .copied()
            .unwrap_or(AC);
        self.next_status += 1;
        s & !(MORE | CURSOR | SERVER_PS_OUT_PARAMS)
    }

    fn push(&mut self, p: Vec<u8>) {
        self.out.push((p, Expect::More));
    }

    fn finish(&mut self, p: Vec<u8>, status: u16) {
        self.out.push((p, Expect::Done(status)));
    }

    fn deprecate(&self) -> bool {
        self.caps & CLIENT_DEPRECATE_EOF != 0
    }

    fn row(&self, r: &RowSpec, binary: bool) -> Vec<u8> {
        let chunk = self.spec.chunk;
        match r {
            RowSpec::Plain(v) => {
                let mut v = v.clone();
                if binary {
                    v[0] = 0;
                } else if v[0] >= 0xFE {
                    v[0] = 0xFB;
                }
                v
            }
            RowSpec::Fe(extra) => {
                let min = if self.deprecate() { chunk } else { 9 };
                let len = min + usize::from(*extra) % (2 * chunk);
                let mut v = vec![0x5A; len];
                v[0] = if binary { 0 } else { 0xFE };
                v
            }
            RowSpec::Frames(k, first) => {
                let mut v = vec![0x33; usize::from(*k) * chunk];
                v[0] = if binary {
                    0
                } else if *first >= 0xFE {
                    1
                } else {
                    *first
                };
                v
            }
        }
    }

    fn columns(&mut self, names: &[u8]) {
        for n in names {
            self.push(column(&"n".repeat(usize::from(*n))));
        }
    }

    /// A result set up to (not including) its terminator.
    fn set_body(&mut self, names: &[u8], rows: &[RowSpec], meta_status: u16, binary: bool) {
        self.push(count(names.len() as u64));
        self.columns(names);
        if !self.deprecate() {
            self.push(eof(meta_status));
        }
        for r in rows {
            let row = self.row(r, binary);
            self.push(row);
        }
    }

    fn encode(mut self) -> Vec<(Vec<u8>, Expect)> {
        let caps = self.caps;
        match self.spec.command.clone() {
            CommandSpec::QueryOrExecute {
                execute,
                results,
                ending,
            } => {
                let ending = match ending {
                    Ending::Cursor(_) if !execute => Ending::Normal,
                    e => e,
                };
                let last = results.len() - 1;
                for (i, r) in results.iter().enumerate() {
                    let more = i < last || !matches!(ending, Ending::Normal);
                    let status = self.status();
                    let flag = if more { MORE } else { 0 };
                    let terminator = match r {
                        ResultSpec::Infile(len) if !execute && caps & CLIENT_LOCAL_FILES != 0 => {
                            let mut request = vec![0xFB];
                            request.extend(std::iter::repeat_n(b'f', usize::from(*len)));
                            self.out.push((request, Expect::Infile));
                            ok(status | flag)
                        }
                        ResultSpec::Ok | ResultSpec::Infile(_) => ok(status | flag),
                        ResultSpec::Set(names, rows, meta) => {
                            let meta = *meta & !(CURSOR | SERVER_PS_OUT_PARAMS);
                            self.set_body(names, rows, meta, execute);
                            if i == last && matches!(ending, Ending::ErrInRows) {
                                self.finish(err(), 0);
                                return self.out;
                            }
                            end(caps, status | flag)
                        }
                    };
                    if more {
                        self.push(terminator);
                    } else {
                        self.finish(terminator, status);
                    }
                }
                match ending {
                    Ending::Normal => {}
                    Ending::ErrAfter | Ending::ErrInRows => self.finish(err(), 0),
                    Ending::Cursor(n) => {
                        let names = vec![3; usize::from(n)];
                        self.push(count(names.len() as u64));
                        self.columns(&names);
                        let status = self.status() | CURSOR;
                        self.finish(end(caps, status), status);
                    }
                }
            }
            CommandSpec::Prepare {
                params,
                columns,
                err: true,
            } => {
                let _ = (params, columns);
                self.finish(err(), 0);
            }
            CommandSpec::Prepare {
                params,
                columns,
                err: false,
            } => {
                let mut last_status = None;
                self.push(prepare_ok(u16::from(columns), u16::from(params)));
                for (n, name) in [(params, "?"), (columns, "c")] {
                    if n == 0 {
                        continue;
                    }
                    for _ in 0..n {
                        self.push(column(name));
                    }
                    if !self.deprecate() {
                        let s = self.status();
                        self.push(eof(s));
                        last_status = Some(s);
                    }
                }
                let (p, expect) = self.out.pop().unwrap();
                assert_eq!(expect, Expect::More);
                self.finish(p, last_status.unwrap_or(0));
            }
            CommandSpec::Fetch(rows, error) => {
                for r in &rows {
                    let row = self.row(r, true);
                    self.push(row);
                }
                if error {
                    self.finish(err(), 0);
                } else {
                    let s = self.status() | CURSOR;
                    self.finish(end(caps, s), s);
                }
            }
            CommandSpec::FieldList(names, error) => {
                self.columns(&names);
                if error {
                    self.finish(err(), 0);
                } else {
                    let s = self.status();
                    self.finish(end(caps, s), s);
                }
            }
            CommandSpec::Statistics(text) => {
                let text = if text.is_empty() { vec![b'U'] } else { text };
                self.finish(text, 0);
            }
            CommandSpec::Simple(kind) => {
                let s = self.status();
                match kind % 3 {
                    0 => self.finish(ok(s), s),
                    1 => self.finish(end(caps, s), s),
                    _ => self.finish(err(), 0),
                }
            }
        }
        self.out
    }
}

impl Spec {
    fn caps(&self) -> u32 {
        let mut caps = OLD;
        if self.deprecate_eof {
            caps |= CLIENT_DEPRECATE_EOF;
        }
        if self.local_files {
            caps |= CLIENT_LOCAL_FILES;
        }
        caps
    }

    fn command_bytes(&self) -> &'static [u8] {
        match &self.command {
            CommandSpec::QueryOrExecute { execute: true, .. } => EXECUTE,
            CommandSpec::QueryOrExecute { .. } => QUERY,
            CommandSpec::Prepare { .. } => PREPARE,
            CommandSpec::Fetch(..) => FETCH,
            CommandSpec::FieldList(..) => FIELD_LIST,
            CommandSpec::Statistics(_) => STATISTICS,
            CommandSpec::Simple(_) => PING,
        }
    }

    fn packets(&self) -> Vec<(Vec<u8>, Expect)> {
        Encoder {
            spec: self,
            caps: self.caps(),
            next_status: 0,
            out: Vec::new(),
        }
        .encode()
    }
}

fn row_spec() -> impl Strategy<Value = RowSpec> {
    prop_oneof![
        6 => proptest::collection::vec(any::<u8>(), 1..40).prop_map(RowSpec::Plain),
        1 => any::<u16>().prop_map(RowSpec::Fe),
        1 => (1u8..=2, any::<u8>()).prop_map(|(k, b)| RowSpec::Frames(k, b)),
    ]
}

fn names() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(0u8..40, 1..5)
}

fn result_spec() -> impl Strategy<Value = ResultSpec> {
    prop_oneof![
        2 => Just(ResultSpec::Ok),
        4 => (names(), proptest::collection::vec(row_spec(), 0..6), any::<u16>())
            .prop_map(|(n, r, s)| ResultSpec::Set(n, r, s)),
        1 => (0u8..40).prop_map(ResultSpec::Infile),
    ]
}

fn ending() -> impl Strategy<Value = Ending> {
    prop_oneof![
        4 => Just(Ending::Normal),
        1 => Just(Ending::ErrAfter),
        1 => Just(Ending::ErrInRows),
        1 => (1u8..4).prop_map(Ending::Cursor),
    ]
}

fn command_spec() -> impl Strategy<Value = CommandSpec> {
    prop_oneof![
        6 => (any::<bool>(), proptest::collection::vec(result_spec(), 1..5), ending())
            .prop_map(|(execute, results, ending)| CommandSpec::QueryOrExecute { execute, results, ending }),
        1 => (0u8..4, 0u8..4, proptest::bool::weighted(0.2))
            .prop_map(|(params, columns, err)| CommandSpec::Prepare { params, columns, err }),
        1 => (proptest::collection::vec(row_spec(), 0..6), proptest::bool::weighted(0.2))
            .prop_map(|(r, e)| CommandSpec::Fetch(r, e)),
        1 => (proptest::collection::vec(0u8..40, 0..5), proptest::bool::weighted(0.2))
            .prop_map(|(n, e)| CommandSpec::FieldList(n, e)),
        1 => proptest::collection::vec(any::<u8>(), 0..70).prop_map(CommandSpec::Statistics),
        1 => any::<u8>().prop_map(CommandSpec::Simple),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        command_spec(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(16usize), Just(64), Just(1000)],
        proptest::collection::vec(any::<u16>(), 16),
    )
        .prop_map(
            |(command, deprecate_eof, local_files, chunk, statuses)| Spec {
                command,
                deprecate_eof,
                local_files,
                chunk,
                statuses,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every frame of a modelled reply but the last is `More` (a LOCAL INFILE request's last
    /// frame is `LocalInfile`), and the last is `Done` with the final status.
    #[test]
    fn modelled_replies_end_exactly_at_their_last_frame(spec in spec()) {
        let caps = spec.caps();
        let mut t = Tracker::with_chunk(spec.command_bytes(), caps, spec.chunk).unwrap();
        let packets = spec.packets();
        let n = packets.len();
        for (i, (p, expect)) in packets.into_iter().enumerate() {
            let fs = frames(&p, spec.chunk);
            for (j, f) in fs.iter().enumerate() {
                let got = t.frame(f).map_err(|e| {
                    TestCaseError::fail(format!("packet {i} frame {j} ({:02x?}): {e}", &f[..f.len().min(12)]))
                })?;
                let want = match expect {
                    _ if j + 1 < fs.len() => Progress::More,
                    Expect::More => Progress::More,
                    Expect::Infile => Progress::LocalInfile,
                    Expect::Done(status) => Progress::Done { status },
                };
                prop_assert_eq!(got, want, "packet {} of {}, frame {}", i, n, j);
                if got == Progress::LocalInfile {
                    t.infile_sent();
                }
            }
        }
        prop_assert!(t.is_done());
        prop_assert_eq!(t.frame(&ok(0)), Err(TrackError::AfterDone));
    }

    /// Arbitrary frames never panic a production tracker, whatever the command and flags.
    #[test]
    fn arbitrary_frames_never_panic(
        command in any::<u8>(),
        caps in any::<u32>(),
        frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..20),
    ) {
        if let Some(mut t) = Tracker::for_command(&[command], caps) {
            for f in &frames {
                let _ = t.frame(f);
                if f.first() == Some(&0) {
                    t.infile_sent();
                }
            }
        }
    }

    /// Arbitrary input never breaks the fuzz body's invariants.
    #[test]
    fn fuzz_body_on_arbitrary_input(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        fuzz_response_tracker(&data);
    }

    /// Nor does input made of well-formed packets with random framing.
    #[test]
    fn fuzz_body_on_modelled_input(spec in spec(), flags in any::<u8>()) {
        let mut data = vec![spec.command_bytes()[0], (flags & 0x40) | 1 | if spec.deprecate_eof { 2 } else { 0 } | 4];
        for (p, _) in spec.packets() {
            for f in frames(&p, 16) {
                data.push(f.len() as u8);
                data.extend_from_slice(f);
            }
        }
        fuzz_response_tracker(&data);
    }
}
