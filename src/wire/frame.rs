//! Packet framing (docs/protocol.md, "Packets and sequence ids"): 3-byte length + 1-byte sequence
//! id, 0xFFFFFF continuation.
//!
//! [`encode`] splits any payload into wire packets. [`FrameDecoder`] turns a chunked byte stream
//! back into payloads, checking each header *before* its payload is buffered: a wrong sequence id
//! or a length over the limit is refused on the 4 header bytes alone, so an oversized or endless
//! packet is never buffered.

/// Largest payload of a single wire packet; a payload of this size continues in the next packet.
pub const MAX_PACKET_CHUNK: usize = 0xFF_FFFF;
/// Bytes of a packet header: a 3-byte payload length and a 1-byte sequence id.
pub const HEADER_LEN: usize = 4;

/// A wire packet's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Payload length of this packet (0..=[`MAX_PACKET_CHUNK`]).
    pub len: usize,
    /// Sequence id.
    pub seq: u8,
}

impl Header {
    /// Reads the 4 header bytes (any value is a header; the decoder judges it).
    pub fn parse(b: [u8; 4]) -> Header {
        let [a, b1, c, seq] = b;
        Header {
            len: u32::from_le_bytes([a, b1, c, 0]) as usize,
            seq,
        }
    }

    /// A TLS record header (`16 03 xx`) read as a MySQL header: the client started TLS without an
    /// SSLRequest (docs/protocol.md, "Packets and sequence ids"). Detected explicitly so a server
    /// never waits for 66 KB.
    pub fn looks_like_tls_client_hello(b: [u8; 4]) -> bool {
        b[0] == 0x16 && b[1] == 0x03
    }
}

/// Why a frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Sequence id differs from the expected one (MySQL: 1156 "Got packets out of order").
    #[error("got packets out of order (expected sequence id {expected}, got {got})")]
    OutOfOrder {
        /// The id the exchange is at.
        expected: u8,
        /// The id the packet carried.
        got: u8,
    },
    /// Total payload over the limit (MySQL: 1153 "Got a packet bigger than 'max_allowed_packet' bytes").
    #[error("packet of at least {len} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// The payload size so far, this packet included.
        len: usize,
        /// The decoder's limit.
        limit: usize,
    },
    /// A TLS ClientHello arrived where a MySQL packet was expected.
    #[error("TLS handshake without SSLRequest")]
    UnexpectedTls,
}

/// Appends `payload` as one or more wire packets starting at `seq`; returns the next sequence id.
/// A payload that is an exact multiple of 0xFFFFFF gets a terminating empty packet.
pub fn encode(seq: u8, payload: &[u8], out: &mut Vec<u8>) -> u8 {
    let mut seq = seq;
    let mut rest = payload;
    loop {
        let n = rest.len().min(MAX_PACKET_CHUNK);
        let (chunk, tail) = rest.split_at(n);
        out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        out.push(seq);
        out.extend_from_slice(chunk);
        seq = seq.wrapping_add(1);
        rest = tail;
        if n < MAX_PACKET_CHUNK {
            return seq;
        }
    }
}

/// Convenience: a single payload as a fresh byte vector.
pub fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + HEADER_LEN);
    encode(seq, payload, &mut out);
    out
}

/// Incremental decoder: push bytes in any chunking, pull complete payloads.
///
/// It checks the sequence id and the running payload size on each header, before buffering the
/// payload. The expected sequence id advances by one per wire packet; the caller resets it with
/// [`FrameDecoder::set_expected_seq`] where a new conversation starts (command phase).
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    expected_seq: u8,
    limit: usize,
    /// Payload of a multi-packet message collected so far.
    partial: Vec<u8>,
    check_tls: bool,
    /// Bytes of `buf`'s tail handed out by [`FrameDecoder::spare`] and not yet filled.
    spare: usize,
}

/// One logical payload, with the sequence id of its *first* wire packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Sequence id of the first wire packet.
    pub seq: u8,
    /// The payload, continuation packets joined.
    pub payload: Vec<u8>,
}

impl FrameDecoder {
    /// A decoder expecting sequence id `expected_seq` next and refusing payloads over `limit`
    /// bytes (the connection phase's 70 KiB, then `max_allowed_packet`).
    pub fn new(expected_seq: u8, limit: usize) -> Self {
        FrameDecoder {
            buf: Vec::new(),
            expected_seq,
            limit,
            partial: Vec::new(),
            check_tls: false,
            spare: 0,
        }
    }

    /// Refuse a TLS ClientHello header (used while waiting for the first client packet).
    pub fn detect_tls(&mut self, on: bool) {
        self.check_tls = on;
    }

    /// Sets the sequence id the next packet must carry (0 at the start of each command).
    pub fn set_expected_seq(&mut self, seq: u8) {
        self.expected_seq = seq;
    }

    /// The sequence id the next packet must carry.
    pub fn expected_seq(&self) -> u8 {
        self.expected_seq
    }

    /// Sets the largest payload accepted from now on.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// Bytes received but not yet part of a returned frame.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.spare + self.partial.len()
    }

    /// Takes the undecoded bytes out (e.g. bytes that followed an SSLRequest and belong to TLS).
    pub fn take_buffered(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// How many more bytes the packet in progress needs: the rest of its header, then the rest
    /// of its payload (0 once it is complete). A driver that never reads more than this never
    /// takes bytes that belong to what follows — a TLS handshake after an SSLRequest, or the
    /// next pipelined command.
    pub fn wanted(&self) -> usize {
        let Some(raw) = self.buf.get(..HEADER_LEN) else {
            return HEADER_LEN - self.buf.len();
        };
        let mut hdr = [0u8; HEADER_LEN];
        hdr.copy_from_slice(raw);
        (HEADER_LEN + Header::parse(hdr).len).saturating_sub(self.buf.len())
    }

    /// Space for reading up to `n` more bytes straight into the decoder's buffer; then
    /// [`FrameDecoder::filled`] says how many arrived. The buffer grows by `n` at most, so a
    /// driver that sizes `n` by what has arrived keeps memory proportional to it.
    pub fn spare(&mut self, n: usize) -> &mut [u8] {
        self.filled(0);
        let start = self.buf.len();
        self.buf.resize(start + n, 0);
        self.spare = n;
        self.buf.get_mut(start..).unwrap_or_default()
    }

    /// Keeps the first `got` bytes of the last [`FrameDecoder::spare`] (0 after a failed read).
    pub fn filled(&mut self, got: usize) {
        let unused = self.spare.saturating_sub(got);
        self.buf.truncate(self.buf.len().saturating_sub(unused));
        self.spare = 0;
    }

    /// Frees the buffers when they hold nothing (a long-lived decoder between messages).
    pub fn release_if_empty(&mut self) {
        self.filled(0);
        if self.buf.is_empty() {
            self.buf = Vec::new();
        }
        if self.partial.is_empty() {
            self.partial = Vec::new();
        }
    }

    /// Appends bytes read from the peer; [`FrameDecoder::next_frame`] decodes them.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Checks a header against the decoder's expectations without consuming anything.
    pub fn check_header(&self, raw: [u8; 4]) -> Result<Header, FrameError> {
        if self.check_tls && self.partial.is_empty() && Header::looks_like_tls_client_hello(raw) {
            return Err(FrameError::UnexpectedTls);
        }
        let h = Header::parse(raw);
        if h.seq != self.expected_seq {
            return Err(FrameError::OutOfOrder {
                expected: self.expected_seq,
                got: h.seq,
            });
        }
        let total = self.partial.len().saturating_add(h.len);
        if total > self.limit {
            return Err(FrameError::TooLarge {
                len: total,
                limit: self.limit,
            });
        }
        Ok(h)
    }

    /// Returns the next complete payload, `Ok(None)` if more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        self.filled(0);
        loop {
            let Some(raw) = self.buf.get(..HEADER_LEN) else {
                return Ok(None);
            };
            let mut hdr = [0u8; 4];
            hdr.copy_from_slice(raw);
            let h = self.check_header(hdr)?;
            if self.buf.len() < HEADER_LEN + h.len {
                return Ok(None);
            }
            let first_seq = self
                .expected_seq
                .wrapping_sub(self.partial.len().div_ceil(MAX_PACKET_CHUNK) as u8);
            let end = HEADER_LEN + h.len;
            self.expected_seq = self.expected_seq.wrapping_add(1);
            if h.len < MAX_PACKET_CHUNK && self.partial.is_empty() {
                // One packet, the common case: its payload leaves without being collected
                // into `partial`; when it is all the buffer holds, in the buffer itself.
                let payload = if self.buf.len() == end {
                    let mut b = std::mem::take(&mut self.buf);
                    b.drain(..HEADER_LEN);
                    b
                } else {
                    let b = self.buf.get(HEADER_LEN..end).unwrap_or_default().to_vec();
                    self.buf.drain(..end);
                    b
                };
                return Ok(Some(Frame {
                    seq: first_seq,
                    payload,
                }));
            }
            self.partial
                .extend_from_slice(self.buf.get(HEADER_LEN..end).unwrap_or_default());
            self.buf.drain(..end);
            if h.len < MAX_PACKET_CHUNK {
                let payload = std::mem::take(&mut self.partial);
                return Ok(Some(Frame {
                    seq: first_seq,
                    payload,
                }));
            }
        }
    }
}

/// Fuzz body: arbitrary bytes through the decoder in arbitrary chunks must never panic, never
/// return a payload over the limit, and re-encoding the returned frames must reproduce exactly
/// the consumed prefix of the input.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn fuzz_frames(data: &[u8]) {
    let (limit, rest) = match data.split_first() {
        Some((l, r)) => (usize::from(*l) * 64, r),
        None => return,
    };
    let mut dec = FrameDecoder::new(0, limit);
    let mut reencoded = Vec::new();
    let mut seq = 0u8;
    for chunk in rest.chunks(7) {
        dec.push(chunk);
        loop {
            match dec.next_frame() {
                Ok(Some(f)) => {
                    assert!(f.payload.len() <= limit);
                    assert_eq!(f.seq, seq);
                    seq = encode(seq, &f.payload, &mut reencoded);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    assert!(rest.starts_with(&reencoded));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_at_0xffffff_with_terminating_empty_packet() {
        let payload = vec![7u8; MAX_PACKET_CHUNK];
        let mut out = Vec::new();
        let next = encode(3, &payload, &mut out);
        assert_eq!(next, 5);
        assert_eq!(out.len(), MAX_PACKET_CHUNK + 8);
        assert_eq!(&out[..4], &[0xFF, 0xFF, 0xFF, 3]);
        assert_eq!(&out[out.len() - 4..], &[0, 0, 0, 4]);
        let mut dec = FrameDecoder::new(3, usize::MAX);
        dec.push(&out);
        let f = dec.next_frame().unwrap().unwrap();
        assert_eq!(f.seq, 3);
        assert_eq!(f.payload.len(), MAX_PACKET_CHUNK);
        assert_eq!(dec.expected_seq(), 5);
    }

    #[test]
    fn refuses_out_of_order_on_the_header() {
        let mut dec = FrameDecoder::new(1, 1024);
        dec.push(&[1, 0, 0, 2]);
        assert_eq!(
            dec.next_frame(),
            Err(FrameError::OutOfOrder {
                expected: 1,
                got: 2
            })
        );
    }

    #[test]
    fn refuses_oversized_before_buffering_the_payload() {
        let mut dec = FrameDecoder::new(0, 100);
        dec.push(&[0xFF, 0xFF, 0xFF, 0]);
        assert_eq!(
            dec.next_frame(),
            Err(FrameError::TooLarge {
                len: MAX_PACKET_CHUNK,
                limit: 100
            })
        );
    }

    #[test]
    fn detects_a_tls_client_hello_in_place_of_a_packet() {
        let mut dec = FrameDecoder::new(1, 100_000);
        dec.detect_tls(true);
        // ClientHello of 256..511 bytes: the seq byte is 0x01 and would pass the seq check.
        dec.push(&[0x16, 0x03, 0x01, 0x01, 0x00]);
        assert_eq!(dec.next_frame(), Err(FrameError::UnexpectedTls));
    }

    /// Both TLS record bytes must match: a MySQL packet of 22 bytes (`16 00 00`) or with 0x03 as
    /// its second length byte is not a ClientHello.
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
    fn reading_into_spare_space_never_passes_the_packet_in_progress() {
        let mut wire = packet(3, b"hello");
        wire.extend_from_slice(b"\x16\x03TLS");
        let mut dec = FrameDecoder::new(3, 100);
        let mut read = 0;
        loop {
            if let Some(f) = dec.next_frame().unwrap() {
                assert_eq!((f.seq, f.payload), (3, b"hello".to_vec()));
                break;
            }
            let want = dec.wanted().min(2);
            let space = dec.spare(want);
            let got = want.min(wire.len() - read);
            space[..got].copy_from_slice(&wire[read..read + got]);
            dec.filled(got);
            read += got;
        }
        // The TLS bytes after the packet were never read.
        assert_eq!(&wire[read..], b"\x16\x03TLS");
        assert_eq!((dec.buffered(), dec.wanted()), (0, HEADER_LEN));
        // Unfilled space is not counted and does not survive.
        let _ = dec.spare(10);
        dec.filled(3);
        assert_eq!(dec.buffered(), 3);
        let _ = dec.spare(10);
        assert_eq!(dec.next_frame(), Ok(None));
        assert_eq!(dec.buffered(), 3);
    }

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

    proptest! {
        #[test]
        fn decode_of_encode_is_identity_under_any_chunking(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..5),
            chunk in 1usize..50,
            start in any::<u8>(),
        ) {
            let mut wire = Vec::new();
            let mut seq = start;
            for p in &payloads {
                seq = encode(seq, p, &mut wire);
            }
            let mut dec = FrameDecoder::new(start, 1 << 20);
            let mut got = Vec::new();
            for c in wire.chunks(chunk) {
                dec.push(c);
                while let Some(f) = dec.next_frame().unwrap() {
                    got.push(f.payload);
                }
            }
            prop_assert_eq!(got, payloads);
            prop_assert_eq!(dec.expected_seq(), seq);
        }

        #[test]
        fn fuzz_body_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            fuzz_frames(&data);
        }
    }
}
