//! Certificates described the way OpenSSL prints them, which is what MySQL shows and compares:
//! one-line distinguished names (`X509_NAME_oneline`), validity times (`ASN1_TIME_print`) and
//! subjectAltName entries.
//!
//! Owns the text only. [`describe_cert`] turns a client certificate into the plain
//! [`PeerCert`] the core's REQUIRE check compares; it never evaluates REQUIRE itself, and never
//! verifies a certificate (rustls did that during the handshake).

use std::net::{Ipv4Addr, Ipv6Addr};

use x509_parser::asn1_rs::Tag;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;
use x509_parser::time::ASN1Time;
use x509_parser::x509::X509Name;

use super::TlsFileError;
use crate::handshake::PeerCert;

/// Printable facts about the server certificate: what `Ssl_server_not_before`,
/// `Ssl_server_not_after` show and the log prints (OpenSSL formats).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// `Ssl_server_not_before`, e.g. `Apr 23 07:59:47 2025 GMT`.
    pub not_before: String,
    /// `Ssl_server_not_after`.
    pub not_after: String,
    /// Subject in `X509_NAME_oneline` form.
    pub subject: String,
    /// Issuer in `X509_NAME_oneline` form.
    pub issuer: String,
}

impl CertInfo {
    /// The facts of a parsed certificate.
    pub(super) fn of(cert: &X509Certificate<'_>) -> CertInfo {
        CertInfo {
            not_before: format_openssl_time(cert.validity().not_before),
            not_after: format_openssl_time(cert.validity().not_after),
            subject: x509_name_oneline(cert.subject()),
            issuer: x509_name_oneline(cert.issuer()),
        }
    }
}

/// [`CertInfo`] of a DER certificate.
pub fn cert_info(der: &[u8]) -> Result<CertInfo, TlsFileError> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| TlsFileError::Parse(e.to_string()))?;
    Ok(CertInfo::of(&cert))
}

/// Describes a DER certificate (the peer's leaf) with the strings MySQL compares for
/// `REQUIRE ISSUER` / `REQUIRE SUBJECT` (`acl_check_ssl` in MySQL's
/// `sql/auth/sql_authentication.cc` compares `X509_NAME_oneline` output; MySQL 8.0 manual,
/// "CREATE USER Statement", SSL/TLS options) and TiDB for `REQUIRE SAN`.
///
/// subjectAltName entries come in certificate order: `DNS:x`, `IP:1.2.3.4`, `IP:::1`, `URI:…`,
/// `email:…`, `DirName:/CN=…`, `Registered ID:1.2.3`, `othername:1.2.3` (TiDB's REQUIRE SAN uses
/// the first four); entries that do not decode are left out.
pub fn describe_cert(der: &[u8]) -> Result<PeerCert, TlsFileError> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| TlsFileError::Parse(e.to_string()))?;
    let mut san = Vec::new();
    let ext = cert
        .subject_alternative_name()
        .map_err(|e| TlsFileError::Parse(e.to_string()))?;
    for name in ext.iter().flat_map(|ext| ext.value.general_names.iter()) {
        let entry = match name {
            GeneralName::DNSName(s) => format!("DNS:{s}"),
            GeneralName::IPAddress(bytes) => match format_ip(bytes) {
                Some(ip) => format!("IP:{ip}"),
                None => continue,
            },
            GeneralName::URI(s) => format!("URI:{s}"),
            GeneralName::RFC822Name(s) => format!("email:{s}"),
            GeneralName::DirectoryName(n) => format!("DirName:{}", x509_name_oneline(n)),
            GeneralName::RegisteredID(oid) => format!("Registered ID:{}", oid.to_id_string()),
            GeneralName::OtherName(oid, _) => format!("othername:{}", oid.to_id_string()),
            GeneralName::X400Address(_)
            | GeneralName::EDIPartyName(_)
            | GeneralName::Invalid(..) => continue,
        };
        san.push(entry);
    }
    Ok(PeerCert {
        subject: x509_name_oneline(cert.subject()),
        issuer: x509_name_oneline(cert.issuer()),
        san,
    })
}

/// IPv4 dotted, IPv6 in RFC 5952 form (`::1`, as Go and TiDB print it).
fn format_ip(bytes: &[u8]) -> Option<String> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(Ipv4Addr::from(v4).to_string());
    }
    <[u8; 16]>::try_from(bytes)
        .ok()
        .map(|v6| Ipv6Addr::from(v6).to_string())
}

/// OpenSSL 3's `X509_NAME_oneline`: each attribute as `/SN=value` in certificate order, `+`
/// instead of `/` between attributes of one multi-valued RDN, `/` and `+` inside values escaped
/// with `\`, bytes outside 0x20..=0x7E as `\xHH` (so UTF-8 and BMPString values show their raw
/// bytes), unknown attribute types as dotted OIDs, an empty name as "".
/// (OpenSSL 1.1 escaped nothing and never used `+`; MySQL shows whichever library it links.)
pub fn x509_name_oneline(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    for rdn in name.iter_rdn() {
        for (i, attr) in rdn.iter().enumerate() {
            out.push(if i == 0 { '/' } else { '+' });
            let oid = attr.attr_type().to_id_string();
            out.push_str(short_name(&oid).unwrap_or(&oid));
            out.push('=');
            let value = attr.as_slice();
            // OpenSSL's GeneralString special case: a value whose length is a multiple of 4 and
            // whose non-zero bytes all sit at offsets ≡ 3 (mod 4) is printed as those bytes only.
            let every_fourth = attr.attr_value().tag() == Tag::GeneralString
                && value.len() % 4 == 0
                && value.iter().enumerate().all(|(j, &b)| b == 0 || j % 4 == 3);
            for (j, &b) in value.iter().enumerate() {
                if every_fourth && j % 4 != 3 {
                    continue;
                }
                match b {
                    b'/' | b'+' => {
                        out.push('\\');
                        out.push(char::from(b));
                    }
                    0x20..=0x7e => out.push(char::from(b)),
                    _ => out.push_str(&format!("\\x{b:02X}")),
                }
            }
        }
    }
    out
}

/// OpenSSL's short names (`OBJ_nid2sn`) for attribute types seen in certificate names.
fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.14" => "searchGuide",
        "2.5.4.15" => "businessCategory",
        "2.5.4.16" => "postalAddress",
        "2.5.4.17" => "postalCode",
        "2.5.4.18" => "postOfficeBox",
        "2.5.4.19" => "physicalDeliveryOfficeName",
        "2.5.4.20" => "telephoneNumber",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.45" => "x500UniqueIdentifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.72" => "role",
        "2.5.4.97" => "organizationIdentifier",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "1.2.840.113549.1.9.2" => "unstructuredName",
        "1.2.840.113549.1.9.8" => "unstructuredAddress",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.3" => "mail",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return None,
    })
}

/// An ASN.1 time as OpenSSL's `ASN1_TIME_print` shows it (`Ssl_server_not_before`,
/// `Ssl_server_not_after`): `May  1 14:16:39 2017 GMT`.
pub fn format_openssl_time(t: ASN1Time) -> String {
    format_openssl_time_unix(t.timestamp())
}

/// [`format_openssl_time`] from seconds since the Unix epoch (UTC, proleptic Gregorian):
/// three-letter month, day padded with a space to two characters, `HH:MM:SS`, year, `GMT`.
pub fn format_openssl_time_unix(secs: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let month = usize::try_from(month)
        .ok()
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("???");
    format!(
        "{month} {day:>2} {:02}:{:02}:{:02} {year} GMT",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31), Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, year starting in March
    let mp = (5 * doy + 2) / 153; // 0..=11, March = 0
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::read_cert;
    use super::super::CLIENT_CERT_FILE;
    use super::*;
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    #[test]
    fn describe_generated_client_cert() {
        let peer = describe_cert(&read_cert(CLIENT_CERT_FILE)).unwrap();
        assert_eq!(
            peer.subject,
            "/CN=Vestibule_Auto_Generated_Client_Certificate"
        );
        assert_eq!(peer.issuer, "/CN=Vestibule_Auto_Generated_CA_Certificate");
        assert!(peer.san.is_empty());
    }

    #[test]
    fn describe_rcgen_cert_with_several_attributes_and_sans() {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["db.example.com".to_string()]).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "US");
        dn.push(DnType::OrganizationName, "Acme");
        dn.push(DnType::CommonName, "client");
        params.distinguished_name = dn;
        params.subject_alt_names.extend([
            SanType::IpAddress("192.0.2.7".parse().unwrap()),
            SanType::IpAddress("2001:db8::1".parse().unwrap()),
            SanType::URI("spiffe://acme/db".try_into().unwrap()),
            SanType::Rfc822Name("ops@acme.test".try_into().unwrap()),
        ]);
        let cert = params.self_signed(&key).unwrap();
        let peer = describe_cert(cert.der()).unwrap();
        assert_eq!(peer.subject, "/C=US/O=Acme/CN=client");
        assert_eq!(peer.issuer, "/C=US/O=Acme/CN=client");
        assert_eq!(
            peer.san,
            [
                "DNS:db.example.com",
                "IP:192.0.2.7",
                "IP:2001:db8::1",
                "URI:spiffe://acme/db",
                "email:ops@acme.test"
            ]
        );
        let info = cert_info(cert.der()).unwrap();
        assert_eq!(info.not_before, "Jan  1 00:00:00 1975 GMT");
        assert_eq!(info.not_after, "Jan  1 00:00:00 4096 GMT");
        assert_eq!(info.subject, peer.subject);
        assert_eq!(info.issuer, peer.issuer);
    }

    /// Made with OpenSSL 3.0.19 (`openssl req -x509 -multivalue-rdn -utf8 -subj …`, with an
    /// `oid_section` naming 1.2.3.4 so `req` accepts it): a `/` and a `+` in a value, UTF-8, a
    /// multi-valued RDN (CN+UID) and an attribute type OpenSSL does not know. The expected
    /// string is what OpenSSL 3.0.19's `X509_NAME_oneline` printed for it.
    const ODD_CERT: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIICAjCCAagCAQcwCgYIKoZIzj0EAwIwgYwxCzAJBgNVBAYTAlNFMRIwEAYDVQQI\n\
DAlTdG9ja2hvbG0xDjAMBgNVBAoMBUEvQitDMSAwDAYDVQQDDAVjYWbDqTAQBgoJ\n\
kiaJk/IsZAEBDAJ1MTEUMBIGCSqGSIb3DQEJARYFeEB5LnoxDDAKBgMqAwQMA29k\n\
ZDETMBEGCgmSJomT8ixkARkWA29yZzAeFw0yNjExMjEyMDQwMzhaFw0yNjExMjIy\n\
MDQwMzhaMIGMMQswCQYDVQQGEwJTRTESMBAGA1UECAwJU3RvY2tob2xtMQ4wDAYD\n\
VQQKDAVBL0IrQzEgMAwGA1UEAwwFY2Fmw6kwEAYKCZImiZPyLGQBAQwCdTExFDAS\n\
BgkqhkiG9w0BCQEWBXhAeS56MQwwCgYDKgMEDANvZGQxEzARBgoJkiaJk/IsZAEZ\n\
FgNvcmcwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQHWfFDW5+oKL0ktN7jpWNn\n\
IzVRnWjIJmLo5rbiiT/9ybwGUloI64PFc10rqwmHfOKcXuc2DOVjKN4JSqmYpckd\n\
MAoGCCqGSM49BAMCA0gAMEUCIHtmYB8BlR+5kyrKJWjEKdoEsVMD2qjES+px2cWR\n\
9CGTAiEAjhotq8yaY4UgPN72Kv0zsEeT34Jjky2GM0ARhUHZwEY=\n\
-----END CERTIFICATE-----\n\
";
    const ODD_ONELINE: &str = "/C=SE/ST=Stockholm/O=A\\/B\\+C/CN=caf\\xC3\\xA9+UID=u1\
                               /emailAddress=x@y.z/1.2.3.4=odd/DC=org";

    #[test]
    fn oneline_matches_openssl_3_for_awkward_names() {
        let der = CertificateDer::from_pem_slice(ODD_CERT.as_bytes()).unwrap();
        let peer = describe_cert(&der).unwrap();
        assert_eq!(peer.subject, ODD_ONELINE);
        assert_eq!(peer.issuer, ODD_ONELINE);
    }

    #[test]
    fn oneline_shows_raw_bytes_of_wide_strings_like_openssl() {
        // Expected output checked against OpenSSL 3.0.19's X509_NAME_oneline on the same cert.
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        let bmp = rcgen::DnValue::BmpString("H\u{e9}/x".try_into().unwrap());
        dn.push(DnType::CommonName, bmp);
        let universal = rcgen::DnValue::UniversalString("\u{dc}".try_into().unwrap());
        dn.push(DnType::OrganizationName, universal);
        dn.push(DnType::CustomDnType(vec![2, 5, 4, 97]), "VATSE-1");
        dn.push(DnType::CustomDnType(vec![2, 5, 4, 5]), "tab\there");
        params.distinguished_name = dn;
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(
            describe_cert(cert.der()).unwrap().subject,
            "/CN=\\x00H\\x00\\xE9\\x00\\/\\x00x/O=\\x00\\x00\\x00\\xDC\
             /organizationIdentifier=VATSE-1/serialNumber=tab\\x09here"
        );
    }

    #[test]
    fn describe_rejects_garbage() {
        assert!(matches!(
            describe_cert(b"nope"),
            Err(TlsFileError::Parse(_))
        ));
        assert!(matches!(describe_cert(&[]), Err(TlsFileError::Parse(_))));
        assert!(matches!(cert_info(b"nope"), Err(TlsFileError::Parse(_))));
    }

    #[test]
    fn openssl_time_format() {
        let cases = [
            (0, "Jan  1 00:00:00 1970 GMT"),
            (1_493_648_199, "May  1 14:16:39 2017 GMT"),
            (1_745_395_187, "Apr 23 07:59:47 2025 GMT"),
            (1_745_395_187 + 3650 * 86_400, "Apr 21 07:59:47 2035 GMT"),
            (951_782_400, "Feb 29 00:00:00 2000 GMT"), // leap year divisible by 400
            (1_709_251_199, "Feb 29 23:59:59 2024 GMT"),
            (1_709_251_200, "Mar  1 00:00:00 2024 GMT"),
            (4_107_542_400, "Mar  1 00:00:00 2100 GMT"), // 2100 is not a leap year
            (4_107_542_399, "Feb 28 23:59:59 2100 GMT"),
            (253_402_300_799, "Dec 31 23:59:59 9999 GMT"),
            (-1, "Dec 31 23:59:59 1969 GMT"),
        ];
        for (secs, want) in cases {
            assert_eq!(format_openssl_time_unix(secs), want, "{secs}");
        }
        // Extremes do not panic.
        format_openssl_time_unix(i64::MIN);
        format_openssl_time_unix(i64::MAX);
    }

    #[test]
    fn civil_conversion_agrees_with_the_time_crate_over_centuries() {
        let mut secs = -2_208_988_800i64; // 1900-01-01
        while secs < 7_258_118_400 {
            // 2200-01-01
            let want = ASN1Time::from_timestamp(secs).unwrap().to_datetime();
            let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
            assert_eq!(
                (y, m, d),
                (
                    i64::from(want.year()),
                    i64::from(u8::from(want.month())),
                    i64::from(want.day())
                ),
                "{secs}"
            );
            secs += 86_400 * 7 + 3_601;
        }
    }
}
