//! HTTPS for the listener: a rustls server configuration from PEM files, or from a
//! self-signed certificate authority and server certificate generated into a directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
pub use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why HTTPS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: rustls_pki_types::pem::Error,
    },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    #[error("generating a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The files of a generated certificate: clients trust `ca`; the server presents `cert`.
#[derive(Clone, Debug)]
pub struct SelfSigned {
    /// The certificate authority to give clients (`aws --ca-bundle`, boto3 `verify=`).
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A server configuration from a PEM certificate chain and a PEM private key (PKCS#8,
/// PKCS#1 or SEC1). Only HTTP/1.1 is offered by ALPN: it is what the SDKs speak to these
/// services, and HTTP/2 over TLS would be a second code path to harden for no client.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(read_error(cert))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_error(cert))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: cert.to_owned(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(read_error(key))?;
    // aws-lc-rs explicitly, not the process default: the binary links no other provider,
    // and naming it keeps the choice independent of which crates enable which features.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Generates, into `dir`, a certificate authority and a server certificate for `hostname`
/// and 127.0.0.1, unless `dir` already holds a set made for the same name (so clients that
/// trust the CA keep trusting it across restarts).
pub fn self_signed(dir: &Path, hostname: &str) -> Result<SelfSigned, TlsError> {
    let files = SelfSigned {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    };
    let names_file = dir.join("hostnames");
    let names = subject_names(hostname);
    let wanted = names.join("\n");
    let complete = [&files.ca, &files.cert, &files.key]
        .iter()
        .all(|p| p.is_file());
    if complete && std::fs::read_to_string(&names_file).is_ok_and(|n| n == wanted) {
        return Ok(files);
    }

    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "tidemark local CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    // A CA plus a leaf rather than one self-signed leaf: webpki (rustls clients) refuses a
    // CA certificate as the server's own, and OpenSSL's strict mode (Python 3.13+) wants
    // the leaf to name its issuer's key, which rcgen writes for a leaf signed by an issuer.
    let mut params = CertificateParams::new(names)?;
    params.distinguished_name.push(DnType::CommonName, hostname);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;

    std::fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.to_owned(),
        source,
    })?;
    write_private(&files.key, key.serialize_pem().as_bytes())?;
    write_file(&files.cert, cert.pem().as_bytes())?;
    write_file(&files.ca, ca_cert.pem().as_bytes())?;
    write_file(&names_file, wanted.as_bytes())?;
    Ok(files)
}

/// The names a generated certificate covers: the stated host name, plus 127.0.0.1 so that
/// `https://127.0.0.1:PORT` verifies too.
fn subject_names(hostname: &str) -> Vec<String> {
    let mut names = vec![hostname.to_owned()];
    if hostname != "127.0.0.1" {
        names.push("127.0.0.1".to_owned());
    }
    names
}

fn read_error(path: &Path) -> impl Fn(rustls_pki_types::pem::Error) -> TlsError + '_ {
    move |source| TlsError::Read {
        path: path.to_owned(),
        source,
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    std::fs::write(path, bytes).map_err(|source| TlsError::Write {
        path: path.to_owned(),
        source,
    })
}

/// The private key is readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let error = |source| TlsError::Write {
        path: path.to_owned(),
        source,
    };
    let mut file = options.open(path).map_err(error)?;
    file.write_all(bytes).map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_make_a_config_and_are_reused_for_the_same_name() {
        let dir = std::env::temp_dir().join(format!("tidemark-tls-{}", std::process::id()));
        let first = self_signed(&dir, "localhost").expect("generates");
        server_config(&first.cert, &first.key).expect("loads");
        let ca = std::fs::read(&first.ca).expect("ca");
        self_signed(&dir, "localhost").expect("reuses");
        assert_eq!(std::fs::read(&first.ca).expect("ca"), ca, "same CA kept");
        self_signed(&dir, "example.test").expect("regenerates");
        assert_ne!(
            std::fs::read(&first.ca).expect("ca"),
            ca,
            "new name, new CA"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        let dir = std::env::temp_dir().join(format!("tidemark-tls-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, b"").expect("write");
        assert!(matches!(
            server_config(&empty, &empty),
            Err(TlsError::NoCertificate { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
