//! Actors' key files: `accord keys new` writes an Ed25519 private key as PKCS#8 PEM
//! (RFC 8410: what `openssl pkey` and Python's `cryptography` read), readable by its
//! owner only, and prints the public key to register (`RegisterActor.public_key`).

use std::io::Write as _;
use std::path::Path;

use accord_kernel::signature::{hex, ActorKey};
use base64::Engine as _;

/// The DER of a PKCS#8 Ed25519 private key up to its 32-byte seed (RFC 8410 §7).
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
const PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const PEM_END: &str = "-----END PRIVATE KEY-----";

/// Why a key file cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} already exists; keys are never overwritten")]
    Exists { path: String },
    #[error("{path} is not a PKCS#8 PEM Ed25519 private key")]
    NotAKey { path: String },
}

/// The PEM text of `seed`'s private key.
pub fn pem_of(seed: &[u8; 32]) -> String {
    let mut der = PKCS8_PREFIX.to_vec();
    der.extend_from_slice(seed);
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    format!("{PEM_BEGIN}\n{body}\n{PEM_END}\n")
}

/// The key in PEM `text`.
pub fn key_of_pem(text: &str) -> Option<ActorKey> {
    let body: String = text
        .lines()
        .map(str::trim)
        .skip_while(|line| *line != PEM_BEGIN)
        .skip(1)
        .take_while(|line| *line != PEM_END)
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    let seed: [u8; 32] = der.strip_prefix(&PKCS8_PREFIX)?.try_into().ok()?;
    Some(ActorKey::from_seed(&seed))
}

/// Writes a new key to `path` (created with mode 0600, never over an existing file)
/// and returns it.
pub fn new_key_file(path: &Path) -> Result<ActorKey, KeyFileError> {
    let seed = random_seed()?;
    write_secret(path, &pem_of(&seed))?;
    Ok(ActorKey::from_seed(&seed))
}

fn random_seed() -> Result<[u8; 32], KeyFileError> {
    let mut seed = [0u8; 32];
    fill_random(&mut seed).map_err(|source| KeyFileError::Io {
        path: "/dev/urandom".into(),
        source,
    })?;
    Ok(seed)
}

/// Writes a secret to a new file at `path`: mode 0600, never over an existing file,
/// synced before it is reported written.
fn write_secret(path: &Path, text: &str) -> Result<(), KeyFileError> {
    let name = path.display().to_string();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyFileError::Exists { path: name.clone() }
        } else {
            KeyFileError::Io {
                path: name.clone(),
                source,
            }
        }
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|source| KeyFileError::Io { path: name, source })
}

/// Reads the key in `path`.
pub fn read_key_file(path: &Path) -> Result<ActorKey, KeyFileError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
        path: name.clone(),
        source,
    })?;
    key_of_pem(&text).ok_or(KeyFileError::NotAKey { path: name })
}

/// What `accord keys new` prints: the public key as `RegisterActor` takes it.
pub fn describe(actor: &str, key: &ActorKey, path: &Path) -> String {
    let public = key.public_key();
    format!(
        "actor {actor}\nprivate key written to {} (mode 0600)\npublic key (hex) {}\npublic key (base64, as publicKey in JSON) {}\n",
        path.display(),
        hex(&public),
        base64::engine::general_purpose::STANDARD.encode(public),
    )
}

fn fill_random(seed: &mut [u8; 32]) -> std::io::Result<()> {
    use std::io::Read as _;
    std::fs::File::open("/dev/urandom")?.read_exact(seed)
}

/// Writes a new evidence key to `path` (mode 0600, never over an existing file): a
/// witness's cosigner key (`witness`) or a log's note key, named `name`; answers
/// the public key string to configure.
pub fn new_evidence_key(name: &str, path: &Path, witness: bool) -> Result<String, KeyFileError> {
    let seed = random_seed()?;
    let invalid = |why: String| KeyFileError::Io {
        path: path.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, why),
    };
    let (secret, public) = if witness {
        let key = accord_evidence::cosignature::Cosigner::from_seed(name, seed)
            .map_err(|e| invalid(e.to_string()))?;
        (key.to_secret_string(), key.verifier().to_string())
    } else {
        let key = accord_evidence::note::NoteSigner::from_seed(name, seed)
            .map_err(|e| invalid(e.to_string()))?;
        (key.to_secret_string(), key.verifier().to_string())
    };
    write_secret(path, &format!("{secret}\n"))?;
    Ok(public)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_key_reads_back_and_is_the_owners_alone() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("ua-umerov.pem");
        let key = new_key_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let again = read_key_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(key.public_key(), again.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .unwrap_or_else(|e| panic!("{e}"))
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            new_key_file(&path),
            Err(KeyFileError::Exists { .. })
        ));
        std::fs::write(&path, "not a key").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            read_key_file(&path),
            Err(KeyFileError::NotAKey { .. })
        ));
    }

    #[test]
    fn the_pem_is_rfc_8410s_pkcs8() {
        // RFC 8410 §10.3's example private key.
        let pem = "-----BEGIN PRIVATE KEY-----\n\
                   MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
                   -----END PRIVATE KEY-----\n";
        let key = key_of_pem(pem).unwrap_or_else(|| panic!("RFC 8410's key"));
        let seed = accord_kernel::signature::from_hex32(
            "d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842",
        )
        .unwrap_or_else(|| panic!("RFC 8410's seed"));
        assert_eq!(key.public_key(), ActorKey::from_seed(&seed).public_key());
        assert_eq!(pem_of(&seed), pem.replace("                   ", ""));
    }
}
