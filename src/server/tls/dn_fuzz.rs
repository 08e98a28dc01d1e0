//! The `dn` fuzz body: the one-line DN text of [`super::describe`] on arbitrary DER, and on
//! generated names whose text must read back to exactly what was encoded.
//!
//! Shared by the cargo-fuzz target `fuzz/fuzz_targets/dn.rs` (through [`crate::fuzzing`]) and
//! the corpus-replay test; it never touches files or the network.

use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

use super::{describe_cert, x509_name_oneline};

/// Fuzz body of the `dn` target. The first byte picks the mode:
/// - even: the rest as raw DER, read as a Name and as a certificate; the one-line forms (what
///   REQUIRE SUBJECT / ISSUER compare and the log shows) are printable ASCII only;
/// - odd: the rest drives `arbitrary` to build a Name (RDNs of one or more attributes: CN, C, O,
///   OU, emailAddress, DC or an unregistered OID; UTF8String, PrintableString or IA5String values
///   without `\`), encoded to DER here; it must parse, and its one-line form must read back to
///   exactly the attributes written: the escaping is unambiguous.
pub fn fuzz_dn(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok((_, name)) = X509Name::from_der(rest) {
            assert_printable(&x509_name_oneline(&name));
        }
        if let Ok(cert) = describe_cert(rest) {
            assert_printable(&cert.subject);
            assert_printable(&cert.issuer);
        }
        return;
    }
    let mut u = arbitrary::Unstructured::new(rest);
    let Ok(rdns) = model::arbitrary_name(&mut u) else {
        return;
    };
    let der = model::encode_name(&rdns);
    let (left, name) = X509Name::from_der(&der).expect("a well-formed Name parses");
    assert!(left.is_empty());
    let line = x509_name_oneline(&name);
    assert_printable(&line);
    let expected: Vec<model::Rdn> = rdns
        .iter()
        .map(|rdn| {
            rdn.iter()
                .map(|a| (a.attr.1.to_string(), a.value.clone()))
                .collect()
        })
        .collect();
    assert_eq!(model::read_oneline(&line), Some(expected), "{line}");
}

fn assert_printable(s: &str) {
    assert!(
        s.bytes().all(|b| (0x20..=0x7e).contains(&b)),
        "non-printable byte in {s:?}"
    );
}

/// The structured side of [`fuzz_dn`]: a DER encoder for Names and a reader of the one-line form,
/// both written from the specifications (X.501 Name; OpenSSL's escaping) independently of the
/// formatter under test.
mod model {
    use arbitrary::{Arbitrary, Unstructured};

    /// `(DER content of the OID, the name OpenSSL prints)`.
    pub type Attr = (&'static [u8], &'static str);

    const ATTRS: [Attr; 7] = [
        (&[0x55, 0x04, 0x03], "CN"),
        (&[0x55, 0x04, 0x06], "C"),
        (&[0x55, 0x04, 0x0a], "O"),
        (&[0x55, 0x04, 0x0b], "OU"),
        (
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
            "emailAddress",
        ),
        (
            &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19],
            "DC",
        ),
        // 1.3.6.1.4.1.99999.1: no short name, printed dotted.
        (
            &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8d, 0x1f, 0x01],
            "1.3.6.1.4.1.99999.1",
        ),
    ];

    const PRINTABLE: &[u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?";

    /// One RDN as read back: `(type as printed, value bytes)` per attribute.
    pub type Rdn = Vec<(String, Vec<u8>)>;

    pub struct Attribute {
        pub attr: Attr,
        pub tag: u8,
        pub value: Vec<u8>,
    }

    pub fn arbitrary_name(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<Vec<Attribute>>> {
        let rdn_count = u.int_in_range(0..=6)?;
        let mut rdns = Vec::with_capacity(rdn_count);
        for _ in 0..rdn_count {
            let attr_count = u.int_in_range(1..=3)?;
            let mut rdn = Vec::with_capacity(attr_count);
            for _ in 0..attr_count {
                let attr = *u.choose(&ATTRS)?;
                let (tag, value) = match u.int_in_range(0..=2)? {
                    0 => {
                        let s = String::arbitrary(u)?;
                        let s: String = s.chars().filter(|&c| c != '\\').take(60).collect();
                        (0x0c, s.into_bytes())
                    }
                    1 => {
                        let n = u.int_in_range(0..=40)?;
                        let v = (0..n)
                            .map(|_| u.choose(PRINTABLE).copied())
                            .collect::<arbitrary::Result<Vec<u8>>>()?;
                        (0x13, v)
                    }
                    _ => {
                        let v = Vec::<u8>::arbitrary(u)?;
                        let v = v.into_iter().map(|b| b & 0x7f).filter(|&b| b != b'\\');
                        (0x16, v.take(200).collect())
                    }
                };
                rdn.push(Attribute { attr, tag, value });
            }
            rdns.push(rdn);
        }
        Ok(rdns)
    }

    fn tlv(tag: u8, content: &[u8], out: &mut Vec<u8>) {
        out.push(tag);
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else if len <= 0xff {
            out.extend_from_slice(&[0x81, len as u8]);
        } else {
            out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
        }
        out.extend_from_slice(content);
    }

    /// Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }.
    pub fn encode_name(rdns: &[Vec<Attribute>]) -> Vec<u8> {
        let mut seq = Vec::new();
        for rdn in rdns {
            let mut set = Vec::new();
            for a in rdn {
                let mut atv = Vec::new();
                tlv(0x06, a.attr.0, &mut atv);
                tlv(a.tag, &a.value, &mut atv);
                tlv(0x30, &atv, &mut set);
            }
            tlv(0x31, &set, &mut seq);
        }
        let mut out = Vec::new();
        tlv(0x30, &seq, &mut out);
        out
    }

    /// Reads `/T=v+T=v/T=v` back: `\/`, `\+` and `\xHH` are the only escapes.
    pub fn read_oneline(line: &str) -> Option<Vec<Rdn>> {
        let b = line.as_bytes();
        let mut rdns: Vec<Rdn> = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let sep = b[i];
            i += 1;
            let eq = i + b[i..].iter().position(|&c| c == b'=')?;
            let ty = String::from_utf8(b[i..eq].to_vec()).ok()?;
            i = eq + 1;
            let mut value = Vec::new();
            while i < b.len() && b[i] != b'/' && b[i] != b'+' {
                if b[i] == b'\\' {
                    match b.get(i + 1)? {
                        c @ (b'/' | b'+') => {
                            value.push(*c);
                            i += 2;
                        }
                        b'x' => {
                            let hex = std::str::from_utf8(b.get(i + 2..i + 4)?).ok()?;
                            value.push(u8::from_str_radix(hex, 16).ok()?);
                            i += 4;
                        }
                        _ => return None,
                    }
                } else {
                    value.push(b[i]);
                    i += 1;
                }
            }
            match sep {
                b'/' => rdns.push(vec![(ty, value)]),
                b'+' => rdns.last_mut()?.push((ty, value)),
                _ => return None,
            }
        }
        Some(rdns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dn_fuzz_body_holds_on_generated_names() {
        use proptest::prelude::*;
        proptest!(ProptestConfig::with_cases(512), |(mut data in proptest::collection::vec(any::<u8>(), 0..400), raw in any::<bool>())| {
            data.insert(0, u8::from(!raw));
            fuzz_dn(&data);
        });
        // The reader is strict: an unknown escape or a missing '=' is not a name.
        assert_eq!(model::read_oneline("/CN=a\\q"), None);
        assert_eq!(model::read_oneline("/CN"), None);
        assert_eq!(
            model::read_oneline("/CN=a\\/b+O=\\xC3\\xA9/C=x"),
            Some(vec![
                vec![
                    ("CN".into(), b"a/b".to_vec()),
                    ("O".into(), vec![0xc3, 0xa9])
                ],
                vec![("C".into(), b"x".to_vec())],
            ])
        );
    }
}
