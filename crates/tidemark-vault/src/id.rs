//! Ids (32-byte keyed BLAKE3 hashes), account keys and account-name validation.

use crate::error::{Result, VaultError};
use std::fmt;

/// A 32-byte id: the keyed BLAKE3 hash of a chunk or of a whole object.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub [u8; 32]);

/// The id of a backup (its manifest object).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ManifestId(pub Id);

impl Id {
    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    /// Parse 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Id> {
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Id(out))
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", &self.to_hex()[..16])
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Display for ManifestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for ManifestId {
    type Err = VaultError;
    fn from_str(s: &str) -> Result<Self> {
        Id::from_hex(s)
            .map(ManifestId)
            .ok_or_else(|| VaultError::InvalidId(s.to_string()))
    }
}

impl serde::Serialize for ManifestId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for ManifestId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Per-account secrets derived from the vault secret (see vault-format.md §1, §2.1).
#[derive(Clone)]
pub struct AccountKeys {
    key: [u8; 32],
    /// XORed into the FastCDC gear table so chunk boundaries are per-account.
    pub gear_seed: u64,
}

impl AccountKeys {
    pub fn derive(secret: &[u8; 32], account: &str) -> AccountKeys {
        let mut material = secret.to_vec();
        material.extend_from_slice(account.as_bytes());
        let key = blake3::derive_key("tidemark-vault v1 account key", &material);
        let seed = blake3::derive_key("tidemark-vault v1 gear seed", &material);
        let mut s = [0u8; 8];
        s.copy_from_slice(&seed[..8]);
        AccountKeys {
            key,
            gear_seed: u64::from_le_bytes(s),
        }
    }

    /// The keyed hash naming a chunk or an object of this account.
    pub fn hash(&self, data: &[u8]) -> Id {
        Id(*blake3::keyed_hash(&self.key, data).as_bytes())
    }
}

/// Accounts become key prefixes, so only a safe alphabet is accepted.
pub fn validate_account(account: &str) -> Result<()> {
    let ok = !account.is_empty()
        && account.len() <= 64
        && account
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(VaultError::InvalidAccount(account.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_rejects_bad_input() {
        let id = Id([0xab; 32]);
        assert_eq!(Id::from_hex(&id.to_hex()), Some(id));
        assert_eq!(Id::from_hex("zz"), None);
        let m = ManifestId(id);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, format!("\"{}\"", id.to_hex()));
        assert_eq!(serde_json::from_str::<ManifestId>(&json).unwrap(), m);
        assert!(validate_account("123456789012").is_ok());
        assert!(validate_account("../x").is_err());
        assert!(validate_account("").is_err());
    }

    #[test]
    fn account_keys_differ_per_account() {
        let a = AccountKeys::derive(&[1; 32], "a");
        let b = AccountKeys::derive(&[1; 32], "b");
        assert_ne!(a.hash(b"x"), b.hash(b"x"));
        assert_ne!(a.gear_seed, b.gear_seed);
    }
}
