//! The credentials (accounts) file: access keys mapped to secret, account id and a name.
//!
//! Format (TOML), one `[[credential]]` table per access key:
//!
//! ```toml
//! [[credential]]
//! access_key_id = "AKIDALICE0000000001"
//! secret_access_key = "alice-secret"
//! account_id = "111111111111"
//! name = "alice"
//!
//! [[credential]]
//! access_key_id = "AKIDBOB00000000002"
//! secret_access_key = "bob-secret"
//! account_id = "222222222222"
//! name = "bob"
//!
//! [[credential]]
//! access_key_id = "AKIDOPS000000000003"
//! secret_access_key = "ops-secret"
//! account_id = "111111111111"
//! name = "ops"
//! admin = true
//! ```
//!
//! `admin` (default `false`) marks a credential that may call the admin API
//! (`/_tidemark/*`, `/moto-api/reset`) of a strict server; see [`crate::authorize_admin`].
//!
//! Invariants checked at load: at least one credential; every field non-empty; access key ids
//! are printable ASCII without whitespace, `/` or `,` (they appear inside the SigV4
//! `Credential=` value); account ids are exactly 12 digits; access key ids are unique.
//! Unknown keys are rejected so a misspelt field is not silently ignored.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;
use tidemark_core::AccountId;

/// One access key and what it stands for.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account_id: AccountId,
    pub name: String,
    /// May call the admin API in strict mode.
    pub admin: bool,
}

impl fmt::Debug for Credential {
    // The secret never reaches logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("account_id", &self.account_id)
            .field("name", &self.name)
            .field("admin", &self.admin)
            .finish()
    }
}

/// A validated credentials file, indexed by access key id.
#[derive(Clone, Debug, Default)]
pub struct CredentialsFile {
    by_key: HashMap<String, Credential>,
}

/// Why a credentials file was refused. Entries are numbered from 1 in file order.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("cannot read credentials file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("credentials file is not valid TOML for this format: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("credentials file has no [[credential]] entries")]
    Empty,
    #[error("credential #{index}: field `{field}` is empty")]
    EmptyField { index: usize, field: &'static str },
    #[error(
        "credential #{index}: access_key_id {access_key_id:?} must be printable ASCII without spaces, '/' or ','"
    )]
    InvalidAccessKey { index: usize, access_key_id: String },
    #[error(
        "credential #{index} ({access_key_id}): account_id {account_id:?} is not a 12-digit number"
    )]
    InvalidAccount {
        index: usize,
        access_key_id: String,
        account_id: String,
    },
    #[error(
        "credential #{index}: access_key_id {access_key_id} is already used by credential #{first}"
    )]
    DuplicateAccessKey {
        index: usize,
        first: usize,
        access_key_id: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    credential: Vec<RawCredential>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCredential {
    access_key_id: String,
    secret_access_key: String,
    account_id: String,
    name: String,
    #[serde(default)]
    admin: bool,
}

fn valid_access_key(akid: &str) -> bool {
    akid.bytes()
        .all(|b| b.is_ascii_graphic() && b != b'/' && b != b',')
}

impl CredentialsFile {
    /// Reads and validates the file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, LoadError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses and validates the TOML text of a credentials file.
    pub fn parse(text: &str) -> Result<Self, LoadError> {
        let raw: RawFile = toml::from_str(text)?;
        if raw.credential.is_empty() {
            return Err(LoadError::Empty);
        }
        let mut by_key: HashMap<String, Credential> = HashMap::new();
        let mut first_index: HashMap<String, usize> = HashMap::new();
        for (i, c) in raw.credential.into_iter().enumerate() {
            let index = i + 1;
            for (field, value) in [
                ("access_key_id", &c.access_key_id),
                ("secret_access_key", &c.secret_access_key),
                ("account_id", &c.account_id),
                ("name", &c.name),
            ] {
                if value.is_empty() {
                    return Err(LoadError::EmptyField { index, field });
                }
            }
            if !valid_access_key(&c.access_key_id) {
                return Err(LoadError::InvalidAccessKey {
                    index,
                    access_key_id: c.access_key_id,
                });
            }
            let Some(account_id) = AccountId::parse(&c.account_id) else {
                return Err(LoadError::InvalidAccount {
                    index,
                    access_key_id: c.access_key_id,
                    account_id: c.account_id,
                });
            };
            if let Some(&first) = first_index.get(&c.access_key_id) {
                return Err(LoadError::DuplicateAccessKey {
                    index,
                    first,
                    access_key_id: c.access_key_id,
                });
            }
            first_index.insert(c.access_key_id.clone(), index);
            by_key.insert(
                c.access_key_id.clone(),
                Credential {
                    access_key_id: c.access_key_id,
                    secret_access_key: c.secret_access_key,
                    account_id,
                    name: c.name,
                    admin: c.admin,
                },
            );
        }
        Ok(Self { by_key })
    }

    /// The credential for `access_key_id`, if the file has one.
    pub fn lookup(&self, access_key_id: &str) -> Option<&Credential> {
        self.by_key.get(access_key_id)
    }

    /// Number of credentials in the file.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether the file has no credentials (never true for a loaded file).
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[[credential]]
access_key_id = "AKIDALICE0000000001"
secret_access_key = "alice-secret"
account_id = "111111111111"
name = "alice"

[[credential]]
access_key_id = "AKIDBOB00000000002"
secret_access_key = "bob-secret"
account_id = "222222222222"
name = "bob"

[[credential]]
access_key_id = "AKIDOPS000000000003"
secret_access_key = "ops-secret"
account_id = "111111111111"
name = "ops"
admin = true
"#;

    #[test]
    fn documented_example_parses() {
        let file = CredentialsFile::parse(EXAMPLE).unwrap();
        assert_eq!(file.len(), 3);
        let alice = file.lookup("AKIDALICE0000000001").unwrap();
        assert!(!alice.admin, "admin defaults to false");
        assert!(file.lookup("AKIDOPS000000000003").unwrap().admin);
        assert_eq!(alice.secret_access_key, "alice-secret");
        assert_eq!(alice.account_id.as_str(), "111111111111");
        assert_eq!(alice.name, "alice");
        assert_eq!(
            file.lookup("AKIDBOB00000000002")
                .unwrap()
                .account_id
                .as_str(),
            "222222222222"
        );
        assert!(file.lookup("AKIDNOBODY").is_none());
        assert!(!format!("{alice:?}").contains("alice-secret"));
    }

    #[test]
    fn module_doc_example_is_the_tested_example() {
        // The `//!` block documents the format; keep it identical to EXAMPLE.
        let doc: String = include_str!("credentials.rs")
            .lines()
            .skip_while(|l| *l != "//! ```toml")
            .skip(1)
            .take_while(|l| *l != "//! ```")
            .map(|l| format!("{}\n", l.trim_start_matches("//!").trim_start()))
            .collect();
        assert_eq!(doc.trim(), EXAMPLE.trim());
    }

    fn entry(akid: &str, account: &str) -> String {
        format!(
            "[[credential]]\naccess_key_id = \"{akid}\"\nsecret_access_key = \"s\"\naccount_id = \"{account}\"\nname = \"n\"\n"
        )
    }

    #[test]
    fn rejects_bad_files_with_clear_errors() {
        let err = CredentialsFile::parse("").unwrap_err();
        assert!(matches!(err, LoadError::Empty), "{err}");

        let err = CredentialsFile::parse(&entry("AK1", "12345")).unwrap_err();
        assert!(
            matches!(err, LoadError::InvalidAccount { index: 1, .. }),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("\"12345\" is not a 12-digit number")
        );

        let err = CredentialsFile::parse(&entry("AK1", "11111111111a")).unwrap_err();
        assert!(matches!(err, LoadError::InvalidAccount { .. }), "{err}");

        let two = format!(
            "{}{}",
            entry("AK1", "111111111111"),
            entry("AK1", "222222222222")
        );
        let err = CredentialsFile::parse(&two).unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::DuplicateAccessKey {
                    index: 2,
                    first: 1,
                    ..
                }
            ),
            "{err}"
        );

        let err = CredentialsFile::parse(&entry("AK 1", "111111111111")).unwrap_err();
        assert!(matches!(err, LoadError::InvalidAccessKey { .. }), "{err}");

        let err = CredentialsFile::parse(&entry("", "111111111111")).unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::EmptyField {
                    index: 1,
                    field: "access_key_id"
                }
            ),
            "{err}"
        );

        let missing =
            "[[credential]]\naccess_key_id = \"AK\"\naccount_id = \"111111111111\"\nname = \"n\"\n";
        let err = CredentialsFile::parse(missing).unwrap_err();
        assert!(matches!(err, LoadError::Toml(_)), "{err}");
        assert!(err.to_string().contains("secret_access_key"), "{err}");

        let unknown = format!("{}region = \"us-east-1\"\n", entry("AK", "111111111111"));
        let err = CredentialsFile::parse(&unknown).unwrap_err();
        assert!(matches!(err, LoadError::Toml(_)), "{err}");

        let admin_not_bool = format!("{}admin = \"yes\"\n", entry("AK", "111111111111"));
        let err = CredentialsFile::parse(&admin_not_bool).unwrap_err();
        assert!(matches!(err, LoadError::Toml(_)), "{err}");

        let err = CredentialsFile::load("/nonexistent/tidemark-credentials.toml").unwrap_err();
        assert!(matches!(err, LoadError::Io { .. }), "{err}");
    }
}
