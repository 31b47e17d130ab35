//! Credentials at rest: sealed with XChaCha20-Poly1305 under a master key from
//! `BBAGENT_MASTER_KEY` (64 hex digits) or from `master.key` in the data folder, created with
//! mode 0600 on first run. Each sealed value is bound to its owner (project, user, toolkit)
//! as associated data, so a ciphertext moved to another row does not open.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;

/// The environment variable holding the master key.
pub const ENV_MASTER_KEY: &str = "BBAGENT_MASTER_KEY";
const KEY_FILE: &str = "master.key";
const NONCE_LEN: usize = 24;

/// Why the vault failed; never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("`{ENV_MASTER_KEY}` must be 64 hexadecimal digits (32 bytes)")]
    BadEnvKey,
    #[error("the master key file `{path}` must hold 64 hexadecimal digits")]
    BadKeyFile { path: String },
    #[error("cannot read or create the master key file `{path}`")]
    KeyFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "stored credentials cannot be opened: the master key differs from the one they were sealed with, or the data is damaged"
    )]
    Open,
    #[error("credentials could not be sealed")]
    Seal,
}

/// The cipher under the master key.
#[derive(Clone)]
pub struct Vault {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vault(..)")
    }
}

impl Vault {
    /// The master key from `env` (the value of `BBAGENT_MASTER_KEY`, if set), else the key
    /// file in `dir`, created when missing.
    pub fn open(dir: &Path, env: Option<&str>) -> Result<Self, VaultError> {
        let key = match env.map(str::trim).filter(|v| !v.is_empty()) {
            Some(hex) => decode_hex(hex).ok_or(VaultError::BadEnvKey)?,
            None => key_from_file(&dir.join(KEY_FILE))?,
        };
        Ok(Self::from_key(&key))
    }

    fn from_key(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// `nonce || ciphertext` of `plain`, bound to `owner`.
    pub fn seal(&self, plain: &[u8], owner: &str) -> Result<Vec<u8>, VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(out)
    }

    /// The plaintext of a value sealed for `owner`.
    pub fn open_sealed(&self, sealed: &[u8], owner: &str) -> Result<Vec<u8>, VaultError> {
        if sealed.len() < NONCE_LEN {
            return Err(VaultError::Open);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Open)
    }
}

fn key_from_file(path: &Path) -> Result<[u8; 32], VaultError> {
    let io = |source| VaultError::KeyFile {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => decode_hex(text.trim()).ok_or_else(|| VaultError::BadKeyFile {
            path: path.display().to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            rand::rng().fill_bytes(&mut key);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            match options.open(path) {
                Ok(mut file) => {
                    file.write_all(encode_hex(&key).as_bytes()).map_err(io)?;
                    file.sync_all().map_err(io)?;
                    Ok(key)
                }
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => key_from_file(path),
                Err(e) => Err(io(e)),
            }
        }
        Err(e) => Err(io(e)),
    }
}

fn decode_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(key)
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_for_the_same_owner_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path(), None).unwrap();
        let sealed = vault.seal(b"secret-token", "p/u/bitbucket").unwrap();
        assert!(!String::from_utf8_lossy(&sealed).contains("secret-token"));
        assert_eq!(
            vault.open_sealed(&sealed, "p/u/bitbucket").unwrap(),
            b"secret-token"
        );
        assert!(vault.open_sealed(&sealed, "p/other/bitbucket").is_err());
        // The same folder gives the same key; another key does not open it.
        let again = Vault::open(dir.path(), None).unwrap();
        assert!(again.open_sealed(&sealed, "p/u/bitbucket").is_ok());
        let other = Vault::open(dir.path(), Some(&"ab".repeat(32))).unwrap();
        assert!(other.open_sealed(&sealed, "p/u/bitbucket").is_err());
        assert!(vault.open_sealed(b"short", "p/u/bitbucket").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        Vault::open(dir.path(), None).unwrap();
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn bad_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Vault::open(dir.path(), Some("not-hex")),
            Err(VaultError::BadEnvKey)
        ));
        std::fs::write(dir.path().join(KEY_FILE), "zz").unwrap();
        assert!(matches!(
            Vault::open(dir.path(), None),
            Err(VaultError::BadKeyFile { .. })
        ));
    }
}
