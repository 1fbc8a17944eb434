//! The till's SAF-T signing key: RSA 1024-bit, PKCS#1 v1.5 over SHA-1, as
//! Skatteetaten's cash register rules specify. Generated on first use,
//! kept as a PKCS#8 PEM file with mode 0600 next to the database; its public
//! half (and the key version derived from it) can be exported so anyone can
//! check the signatures without being able to make new ones.
//!
//! Why RSA rather than HMAC-SHA1 (both allowed): an HMAC key must be handed
//! over for anyone to verify, and whoever holds it can forge; an RSA public
//! key can be published. The `rsa` crate is RustCrypto's, widely used;
//! its known timing side channel (RUSTSEC-2023-0071) needs an attacker who
//! can time many private-key operations, which a till's signing does not
//! offer. This module never logs or prints the private key.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The algorithm name stored with each public key.
pub const ALGORITHM: &str = "RSA-SHA1-1024";
const BITS: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the journal signing key {path} is readable by others (mode {mode:o}); \
         run `chmod 600 {path}` and start Luka again"
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error(
        "cannot read the journal signing key {path}: {reason}. Restore it from the backup; \
         if it is lost for good, move the file away and Luka makes a new key version \
         (earlier signatures stay checkable with the public keys kept in the database)"
    )]
    Unreadable { path: PathBuf, reason: String },
    #[error(
        "cannot create the journal signing key {path}: {reason}; check the folder's free space and permissions"
    )]
    Create { path: PathBuf, reason: String },
    #[error("cannot make an RSA key: {0}")]
    Generate(String),
}

/// The private key and what identifies it.
pub struct JournalKey {
    signing: SigningKey<Sha1>,
    public_pem: String,
    version: String,
}

impl std::fmt::Debug for JournalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalKey")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl JournalKey {
    /// Reads the key at `path`, or makes one there (0600) if there is none.
    /// Returns whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(JournalKey, bool), KeyError> {
        match std::fs::metadata(path) {
            Ok(meta) => {
                check_mode(path, &meta)?;
                let pem = std::fs::read_to_string(path).map_err(|e| unreadable(path, e))?;
                let key = RsaPrivateKey::from_pkcs8_pem(&pem).map_err(|e| unreadable(path, e))?;
                Ok((JournalKey::from_private(key)?, false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, BITS)
                    .map_err(|e| KeyError::Generate(e.to_string()))?;
                write_private(path, &key)?;
                tracing::info!(path = %path.display(), "created a new journal signing key");
                Ok((JournalKey::from_private(key)?, true))
            }
            Err(e) => Err(unreadable(path, e)),
        }
    }

    fn from_private(key: RsaPrivateKey) -> Result<JournalKey, KeyError> {
        let public = key.to_public_key();
        let public_pem = public
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        let version = key_version(&public)?;
        Ok(JournalKey {
            signing: SigningKey::<Sha1>::new(key),
            public_pem,
            version,
        })
    }

    /// Base64 of the RSA-SHA1 (PKCS#1 v1.5) signature of `message`'s UTF-8 bytes.
    pub fn sign(&self, message: &str) -> String {
        B64.encode(self.signing.sign(message.as_bytes()).to_bytes())
    }

    /// SAF-T `keyVersion`: the first 16 hex digits of the SHA-256 of the
    /// public key (DER), so a file names the exact key that checks it.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The public key as PEM (`BEGIN PUBLIC KEY`), for export.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }
}

fn key_version(public: &RsaPublicKey) -> Result<String, KeyError> {
    let der = public
        .to_public_key_der()
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    Ok(super::chain::hex(&Sha256::digest(der.as_bytes()))[..16].to_string())
}

/// Checks a signature with a public key PEM; false on any malformed input.
pub fn verify(public_pem: &str, message: &str, signature_b64: &str) -> bool {
    let Ok(public) = RsaPublicKey::from_public_key_pem(public_pem) else {
        return false;
    };
    let Ok(bytes) = B64.decode(signature_b64) else {
        return false;
    };
    let Ok(sig) = Signature::try_from(bytes.as_slice()) else {
        return false;
    };
    VerifyingKey::<Sha1>::new(public)
        .verify(message.as_bytes(), &sig)
        .is_ok()
}

/// The key version a public key PEM has, if it parses.
pub fn version_of_public_pem(public_pem: &str) -> Option<String> {
    RsaPublicKey::from_public_key_pem(public_pem)
        .ok()
        .and_then(|p| key_version(&p).ok())
}

fn unreadable(path: &Path, e: impl std::fmt::Display) -> KeyError {
    KeyError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

#[cfg(unix)]
fn check_mode(path: &Path, meta: &std::fs::Metadata) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_: &Path, _: &std::fs::Metadata) -> Result<(), KeyError> {
    Ok(())
}

/// Writes the key to a 0600 temporary file, syncs it, then renames it into
/// place, so a power cut never leaves half a key under the real name.
fn write_private(path: &Path, key: &RsaPrivateKey) -> Result<(), KeyError> {
    let create = |e: &dyn std::fmt::Display| KeyError::Create {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| create(&e))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| create(&e))?;
    }
    let tmp = path.with_extension("pem.tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(|e| create(&e))?;
    f.write_all(pem.as_bytes()).map_err(|e| create(&e))?;
    f.sync_all().map_err(|e| create(&e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| create(&e))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_0600_then_reloaded_and_signatures_verify() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k/journal-key.pem");
        let (key, created) = JournalKey::load_or_create(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let (again, created) = JournalKey::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(again.version(), key.version());
        assert_eq!(key.version().len(), 16);
        let sig = key.sign("0;2024-05-01;10:00:00;1;150.00;150.00");
        // PKCS#1 v1.5 is deterministic.
        assert_eq!(sig, again.sign("0;2024-05-01;10:00:00;1;150.00;150.00"));
        assert!(verify(
            key.public_pem(),
            "0;2024-05-01;10:00:00;1;150.00;150.00",
            &sig
        ));
        assert!(!verify(
            key.public_pem(),
            "0;2024-05-01;10:00:00;1;150.00;150.01",
            &sig
        ));
        assert_eq!(
            version_of_public_pem(key.public_pem()).as_deref(),
            Some(key.version())
        );
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_key_others_can_read() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal-key.pem");
        JournalKey::load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = JournalKey::load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }
}
