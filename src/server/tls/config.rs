//! What an embedder hands the server to set up TLS: [`TlsConfig`], whose server identity
//! ([`TlsIdentity`]), client-certificate CAs and CRLs each come from files or from memory, with
//! the TLS policy (`tls_version`, `ssl_cipher`, `tls_ciphersuites`).
//!
//! Owns the description only: in-memory inputs are parsed and checked when given, files are read
//! when a context is built ([`super::TlsState::new`] and every `ALTER INSTANCE RELOAD TLS`).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::RootCertStore;

use super::load::{add_root, add_roots_pem, crls_from_pem, Identity, Origin};
use super::{CertInfo, TlsFileError, TlsSettings};

/// The server's certificate chain and private key: two files (`ssl_cert`, `ssl_key`) or memory.
///
/// In-memory identities are checked when made, as MySQL checks the files before a context
/// becomes active: the chain holds a parseable leaf certificate, the key is an unencrypted key
/// aws-lc-rs can sign with (RSA, ECDSA P-256/P-384, Ed25519) and it belongs to the leaf.
#[derive(Clone)]
pub struct TlsIdentity(IdentitySource);

#[derive(Clone)]
enum IdentitySource {
    Files { cert: PathBuf, key: PathBuf },
    Memory(Arc<Identity>),
}

impl TlsIdentity {
    /// `ssl_cert` (PEM chain, leaf first) and `ssl_key` (unencrypted PKCS#1, PKCS#8 or SEC1 PEM).
    /// The files are read when a context is built, and again by every
    /// `ALTER INSTANCE RELOAD TLS` (then from the paths `SET GLOBAL ssl_cert` / `ssl_key` staged).
    pub fn from_files(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> TlsIdentity {
        TlsIdentity(IdentitySource::Files {
            cert: cert.into(),
            key: key.into(),
        })
    }

    /// A PEM certificate chain (leaf first; blocks other than certificates are skipped) and a
    /// PEM private key (unencrypted PKCS#1, PKCS#8 or SEC1), as the files would hold them.
    pub fn from_pem(cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<TlsIdentity, TlsFileError> {
        let identity = Identity::from_pem(cert_chain_pem, key_pem)?;
        Ok(TlsIdentity(IdentitySource::Memory(Arc::new(identity))))
    }

    /// A DER certificate chain (leaf first) and its private key, as rustls takes them.
    pub fn from_der(
        cert_chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<TlsIdentity, TlsFileError> {
        let identity = Identity::from_der(cert_chain, key)?;
        Ok(TlsIdentity(IdentitySource::Memory(Arc::new(identity))))
    }

    /// The leaf certificate's facts for an in-memory identity; `None` for files, which are not
    /// read before a context is built.
    pub fn cert_info(&self) -> Option<&CertInfo> {
        match &self.0 {
            IdentitySource::Files { .. } => None,
            IdentitySource::Memory(identity) => Some(&identity.server_cert),
        }
    }
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            IdentitySource::Files { cert, key } => f
                .debug_struct("TlsIdentity::Files")
                .field("cert", cert)
                .field("key", key)
                .finish(),
            IdentitySource::Memory(identity) => f
                .debug_tuple("TlsIdentity::Memory")
                .field(identity)
                .finish(),
        }
    }
}

/// The parts of a [`TlsConfig`] given in memory. They never change after the server starts:
/// every context, the first and each reload, is built from them.
#[derive(Clone, Default)]
pub(super) struct InMemory {
    /// Replaces `ssl_cert` / `ssl_key`.
    pub identity: Option<Arc<Identity>>,
    /// Replaces `ssl_ca` / `ssl_capath`.
    pub client_roots: Option<Arc<RootCertStore>>,
    /// Replaces `ssl_crl` / `ssl_crlpath`.
    pub crls: Option<Arc<Vec<CertificateRevocationListDer<'static>>>>,
}

impl InMemory {
    /// The settings as `Current_tls_*` show them for a context built from `settings` and these
    /// parts: the file variables of a part given in memory are empty.
    pub(super) fn shown(&self, settings: &TlsSettings) -> TlsSettings {
        let mut shown = settings.clone();
        if self.identity.is_some() {
            shown.ssl_cert = None;
            shown.ssl_key = None;
        }
        if self.client_roots.is_some() {
            shown.ssl_ca = None;
            shown.ssl_capath = None;
        }
        if self.crls.is_some() {
            shown.ssl_crl = None;
            shown.ssl_crlpath = None;
        }
        shown
    }
}

/// How a server's TLS is set up: its certificate chain and key, the CAs client certificates must
/// chain to (MySQL's verify mode 5: a certificate is requested, a client may send none, and one
/// that is sent must verify; an account's `REQUIRE X509` then demands one), the CRLs they are
/// checked against, and the TLS policy. Build the live state with
/// [`TlsState::new`](super::TlsState::new).
///
/// Each part comes from files or from memory; setting a part one way replaces the other.
///
/// `ALTER INSTANCE RELOAD TLS` rebuilds the context from the staged values, which start as this
/// configuration and change with `SET GLOBAL ssl_cert`, `tls_version` …: parts from files are
/// read again (from the staged paths). **A part given in memory is kept by every reload**: the
/// context is rebuilt from the same in-memory certificates, keys and CRLs (with the staged
/// policy), the `ssl_*` variables naming files for that part are not used, and
/// `Current_tls_cert` etc. show them empty.
///
/// ```
/// # use vestibule::server::tls::{TlsConfig, TlsIdentity};
/// let tls = TlsConfig::new(TlsIdentity::from_files("server-cert.pem", "server-key.pem"))
///     .with_client_ca_files(Some("ca.pem".into()), None)
///     .with_tls_version("TLSv1.3");
/// assert_eq!(tls.settings().tls_version, "TLSv1.3");
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    /// The file paths and the policy: the staged values the server starts with.
    pub(super) settings: TlsSettings,
    pub(super) memory: InMemory,
}

impl TlsConfig {
    /// TLS with `identity`, MySQL 8.0's default policy (`tls_version=TLSv1.2,TLSv1.3`, the
    /// default `ssl_cipher` and `tls_ciphersuites` lists) and no client-certificate
    /// verification.
    pub fn new(identity: TlsIdentity) -> TlsConfig {
        let mut config = TlsConfig::from_settings(TlsSettings::default());
        match identity.0 {
            IdentitySource::Files { cert, key } => {
                config.settings.ssl_cert = Some(cert);
                config.settings.ssl_key = Some(key);
            }
            IdentitySource::Memory(identity) => config.memory.identity = Some(identity),
        }
        config
    }

    /// Everything from the values of the `ssl_*` and `tls_*` variables, all from files: what
    /// the server's options (`--ssl-cert` …) describe. Without `ssl_cert` and `ssl_key` no
    /// context can be built.
    pub fn from_settings(settings: TlsSettings) -> TlsConfig {
        TlsConfig {
            settings,
            memory: InMemory::default(),
        }
    }

    /// The values the server starts with as staged (file paths of the parts from files, and the
    /// policy); what `SHOW VARIABLES LIKE 'ssl%'` shows.
    pub fn settings(&self) -> &TlsSettings {
        &self.settings
    }

    /// Client-certificate CAs from `ssl_ca` (a PEM bundle) and `ssl_capath` (a directory of PEM
    /// files); both `None` turns client-certificate verification off. Replaces CAs given in
    /// memory.
    pub fn with_client_ca_files(mut self, ca: Option<PathBuf>, capath: Option<PathBuf>) -> Self {
        self.memory.client_roots = None;
        self.settings.ssl_ca = ca;
        self.settings.ssl_capath = capath;
        self
    }

    /// Adds the PEM CA certificates of `pem` (other PEM blocks are skipped; at least one
    /// certificate) to the client-certificate CAs held in memory. Replaces CA files.
    pub fn with_client_ca_pem(mut self, pem: &[u8]) -> Result<Self, TlsFileError> {
        let roots = self.memory_roots();
        if add_roots_pem(pem, Origin::Memory, roots)? == 0 {
            return Err(TlsFileError::CaInMemory {
                detail: "no PEM certificate found".into(),
            });
        }
        Ok(self)
    }

    /// Adds CA certificates (at least one) to the client-certificate CAs held in memory.
    /// Replaces CA files.
    pub fn with_client_ca_der(
        mut self,
        certs: impl IntoIterator<Item = CertificateDer<'static>>,
    ) -> Result<Self, TlsFileError> {
        let roots = self.memory_roots();
        let mut found = 0;
        for cert in certs {
            add_root(cert, Origin::Memory, roots)?;
            found += 1;
        }
        if found == 0 {
            return Err(TlsFileError::CaInMemory {
                detail: "no CA certificate given".into(),
            });
        }
        Ok(self)
    }

    /// The in-memory CA store, created empty (and the CA files cleared) on first use.
    fn memory_roots(&mut self) -> &mut RootCertStore {
        self.settings.ssl_ca = None;
        self.settings.ssl_capath = None;
        Arc::make_mut(
            self.memory
                .client_roots
                .get_or_insert_with(|| Arc::new(RootCertStore::empty())),
        )
    }

    /// CRLs from `ssl_crl` (a PEM file) and `ssl_crlpath` (a directory of PEM files). Replaces
    /// CRLs given in memory.
    pub fn with_crl_files(mut self, crl: Option<PathBuf>, crlpath: Option<PathBuf>) -> Self {
        self.memory.crls = None;
        self.settings.ssl_crl = crl;
        self.settings.ssl_crlpath = crlpath;
        self
    }

    /// Adds the PEM CRLs of `pem` (other PEM blocks are skipped; at least one CRL) to the CRLs
    /// held in memory. Replaces CRL files.
    ///
    /// With any CRL, client certificates are checked as MySQL does (OpenSSL's `CRL_CHECK_ALL`):
    /// every certificate of the chain needs a current CRL from its issuer and must not be
    /// listed. CRLs only matter with client-certificate CAs. A CRL that is not a valid X.509
    /// CRL is reported when the context is built.
    pub fn with_crl_pem(self, pem: &[u8]) -> Result<Self, TlsFileError> {
        let crls = crls_from_pem(pem)?;
        Ok(self.with_crl_der(crls))
    }

    /// Adds DER CRLs to the CRLs held in memory (see [`TlsConfig::with_crl_pem`]). Replaces CRL
    /// files.
    pub fn with_crl_der(
        mut self,
        crls: impl IntoIterator<Item = CertificateRevocationListDer<'static>>,
    ) -> Self {
        self.settings.ssl_crl = None;
        self.settings.ssl_crlpath = None;
        Arc::make_mut(self.memory.crls.get_or_insert_with(Default::default)).extend(crls);
        self
    }

    /// `tls_version`: the permitted protocol versions, e.g. `TLSv1.2,TLSv1.3` (a list with a
    /// hole is refused; versions the TLS library lacks are dropped with a warning; `""`
    /// disables TLS).
    pub fn with_tls_version(mut self, list: impl Into<String>) -> Self {
        self.settings.tls_version = list.into();
        self
    }

    /// `ssl_cipher`: the TLS 1.2 cipher suites, OpenSSL names, in preference order. Without it,
    /// MySQL's default list.
    pub fn with_ssl_cipher(mut self, list: impl Into<String>) -> Self {
        self.settings.ssl_cipher = Some(list.into());
        self
    }

    /// `tls_ciphersuites`: the TLS 1.3 cipher suites, IANA names, in preference order; `""`
    /// allows no TLS 1.3 suite. Without it, MySQL's default list.
    pub fn with_tls_ciphersuites(mut self, list: impl Into<String>) -> Self {
        self.settings.tls_ciphersuites = Some(list.into());
        self
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("settings", &self.settings)
            .field("identity_in_memory", &self.memory.identity)
            .field(
                "client_roots_in_memory",
                &self.memory.client_roots.as_ref().map(|r| r.len()),
            )
            .field(
                "crls_in_memory",
                &self.memory.crls.as_ref().map(|c| c.len()),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{client_config, generated, handshake, pki, server_config_of};
    use super::super::{describe_cert, TlsSettings, TlsState, TlsVersion};
    use super::*;
    use rustls::ProtocolVersion;

    /// Identity and client CA as PEM bytes: the context verifies a client certificate (and
    /// accepts a client without one, MySQL's verify mode 5), and shows no file paths.
    #[test]
    fn in_memory_pem_identity_and_client_ca_complete_a_handshake() {
        let pki = pki();
        let identity = TlsIdentity::from_pem(
            pki.server.pem().as_bytes(),
            pki.server_key.serialize_pem().as_bytes(),
        )
        .unwrap();
        assert_eq!(
            identity.cert_info().unwrap().subject,
            "/CN=in-memory server"
        );
        assert!(
            !format!("{identity:?}").contains("Pkcs8"),
            "key not printed"
        );
        let config = TlsConfig::new(identity)
            .with_client_ca_pem(pki.ca.pem().as_bytes())
            .unwrap();
        let state = TlsState::new(config).unwrap();
        let active = state.current().unwrap();
        assert!(active.client_verification);
        assert_eq!(active.cert.subject, "/CN=in-memory server");
        assert_eq!(active.cert.issuer, "/CN=In-memory CA");
        assert_eq!(active.settings, TlsSettings::default(), "no paths shown");
        assert_eq!(active.versions, [TlsVersion::V1_2, TlsVersion::V1_3]);

        let server = handshake(server_config_of(&state), pki.client(true), "localhost").unwrap();
        assert_eq!(server.protocol_version(), Some(ProtocolVersion::TLSv1_3));
        let peer = server.peer_certificates().unwrap();
        assert_eq!(
            describe_cert(&peer[0]).unwrap().subject,
            "/CN=in-memory client"
        );
        let server = handshake(server_config_of(&state), pki.client(false), "localhost").unwrap();
        assert!(server.peer_certificates().is_none());
        // A client certificate from another CA is refused.
        let err = handshake(
            server_config_of(&state),
            client_config(Some(generated())),
            "localhost",
        );
        assert!(
            matches!(err, Err(rustls::Error::InvalidCertificate(_))),
            "{err:?}"
        );
    }

    /// Identity and client CA as rustls types, under a TLS 1.2-only policy.
    #[test]
    fn in_memory_der_identity_completes_a_handshake() {
        let pki = pki();
        let identity = TlsIdentity::from_der(
            vec![pki.server.der().clone(), pki.ca_der()],
            pki.server_key_der(),
        )
        .unwrap();
        let config = TlsConfig::new(identity.clone())
            .with_client_ca_der([pki.ca_der()])
            .unwrap()
            .with_tls_version("TLSv1.2");
        let state = TlsState::new(config).unwrap();
        assert_eq!(state.current().unwrap().versions, [TlsVersion::V1_2]);
        let server = handshake(server_config_of(&state), pki.client(true), "localhost").unwrap();
        assert_eq!(server.protocol_version(), Some(ProtocolVersion::TLSv1_2));
        assert!(server.peer_certificates().is_some());

        // Without client CAs no certificate is requested.
        let state = TlsState::new(TlsConfig::new(identity)).unwrap();
        assert!(!state.current().unwrap().client_verification);
        let server = handshake(server_config_of(&state), pki.client(true), "localhost").unwrap();
        assert!(server.peer_certificates().is_none());
    }

    /// CRLs from memory: a revoked client certificate is refused in the handshake.
    #[test]
    fn in_memory_crls_refuse_a_revoked_client() {
        let pki = pki();
        let identity =
            || TlsIdentity::from_der(vec![pki.server.der().clone()], pki.server_key_der()).unwrap();
        let with_crl = |serials: &[u8]| {
            let config = TlsConfig::new(identity())
                .with_client_ca_der([pki.ca_der()])
                .unwrap()
                .with_crl_pem(pki.crl_pem(serials).as_bytes())
                .unwrap();
            server_config_of(&TlsState::new(config).unwrap())
        };
        let err = handshake(with_crl(&[7]), pki.client(true), "localhost").unwrap_err();
        assert!(
            matches!(
                err,
                rustls::Error::InvalidCertificate(rustls::CertificateError::Revoked)
            ),
            "{err}"
        );
        handshake(with_crl(&[7]), pki.client(false), "localhost").unwrap();
        handshake(with_crl(&[8]), pki.client(true), "localhost").unwrap();
    }

    /// In-memory inputs get the checks files get, with errors that say "memory".
    #[test]
    fn in_memory_inputs_are_checked() {
        let pki = pki();
        let server_pem = pki.server.pem();
        let key_pem = pki.server_key.serialize_pem();
        let err = TlsIdentity::from_pem(b"junk", key_pem.as_bytes()).unwrap_err();
        assert!(
            matches!(err, TlsFileError::CertificateInMemory { .. }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "Unable to get certificate from memory: no PEM certificate found"
        );
        let err = TlsIdentity::from_pem(server_pem.as_bytes(), server_pem.as_bytes()).unwrap_err();
        assert!(matches!(err, TlsFileError::KeyInMemory { .. }), "{err}");
        let client_key = pki.client_key.serialize_pem();
        let err = TlsIdentity::from_pem(server_pem.as_bytes(), client_key.as_bytes()).unwrap_err();
        assert!(matches!(err, TlsFileError::KeyMismatchInMemory), "{err}");
        assert!(err
            .to_string()
            .starts_with("Private key does not match the certificate public key"));
        let err = TlsIdentity::from_der(Vec::new(), pki.server_key_der()).unwrap_err();
        assert!(
            matches!(err, TlsFileError::CertificateInMemory { .. }),
            "{err}"
        );
        let err = TlsIdentity::from_der(
            vec![CertificateDer::from(vec![1, 2, 3])],
            pki.server_key_der(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("invalid certificate"), "{err}");

        let config = || TlsConfig::new(TlsIdentity::from_files("cert.pem", "key.pem"));
        let err = config().with_client_ca_pem(key_pem.as_bytes()).unwrap_err();
        assert!(matches!(err, TlsFileError::CaInMemory { .. }), "{err}");
        let err = config().with_client_ca_der([]).unwrap_err();
        assert!(matches!(err, TlsFileError::CaInMemory { .. }), "{err}");
        let err = config()
            .with_client_ca_der([CertificateDer::from(vec![1, 2, 3])])
            .unwrap_err();
        assert!(matches!(err, TlsFileError::CaInMemory { .. }), "{err}");
        let err = config().with_crl_pem(server_pem.as_bytes()).unwrap_err();
        assert!(matches!(err, TlsFileError::CrlInMemory { .. }), "{err}");
    }
}
