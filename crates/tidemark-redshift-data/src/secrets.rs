//! The Secrets Manager secrets that `SecretArn` names. tidemark serves no Secrets Manager, so
//! a secret is registered through the admin route `/_tidemark/redshift-data/secrets` (the
//! binary's `redshift_data_admin.rs`) and kept per account and region; with a data directory
//! the registry is also a JSON file there, written whole and atomically on every change and
//! read at start, so a registered secret survives a restart.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde_json::{Value, json};
use thiserror::Error;

/// Secrets Manager's limit on a `SecretString`.
pub const MAX_SECRET_BYTES: usize = 65_536;
/// Secrets one server keeps: bounds the registry's memory and its file.
pub const MAX_SECRETS: usize = 1_000;
/// Secrets Manager's limit on a secret's name.
pub const MAX_NAME_CHARS: usize = 512;
/// The largest registry file read at start (every secret at its largest, with room for keys).
const MAX_FILE_BYTES: u64 = (MAX_SECRETS as u64) * (MAX_SECRET_BYTES as u64 + 4096);
/// The registry's file name inside the data directory.
pub const FILE_NAME: &str = "redshift-data-secrets.json";

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SecretError {
    /// The request is wrong (a bad name, a value too large, too many secrets): a 400.
    #[error("{0}")]
    Invalid(String),
    /// The registry file could not be read or written: a 500; nothing changed.
    #[error("{0}")]
    Io(String),
}

/// One registered secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secret {
    pub account: String,
    pub region: String,
    pub name: String,
    /// `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>`, as AWS
    /// makes them.
    pub arn: String,
    pub secret_string: String,
}

/// (account, region, name).
type Key = (String, String, String);

#[derive(Default)]
struct Registry {
    entries: BTreeMap<Key, Secret>,
    /// Where the registry is persisted; `None` keeps it in memory only (`--in-memory`).
    file: Option<PathBuf>,
}

#[derive(Default)]
pub struct Secrets {
    inner: Mutex<Registry>,
}

fn valid_name(name: &str) -> Result<(), SecretError> {
    // Secrets Manager's rule: 1-512 of ASCII letters, digits and /_+=.@-.
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(SecretError::Invalid(format!(
            "Name must be 1 to {MAX_NAME_CHARS} of the characters a-z A-Z 0-9 / _ + = . @ -, got {name:?}"
        )))
    }
}

impl Secrets {
    fn lock(&self) -> Result<MutexGuard<'_, Registry>, SecretError> {
        self.inner
            .lock()
            .map_err(|_| SecretError::Io("the secrets registry lock was poisoned".into()))
    }

    /// Keeps the registry in `path` from now on, after loading what it holds (a missing file
    /// is an empty registry).
    pub fn open(&self, path: &Path) -> Result<(), SecretError> {
        let mut reg = self.lock()?;
        reg.entries = load(path)?;
        reg.file = Some(path.to_owned());
        Ok(())
    }

    /// Registers `name` with `secret_string`, or replaces the value of the secret of that
    /// name (keeping its ARN, as PutSecretValue does). Returns the secret's ARN.
    pub fn put(
        &self,
        account: &str,
        region: &str,
        name: &str,
        secret_string: &str,
    ) -> Result<String, SecretError> {
        valid_name(name)?;
        if secret_string.len() > MAX_SECRET_BYTES {
            return Err(SecretError::Invalid(format!(
                "SecretString must be at most {MAX_SECRET_BYTES} bytes"
            )));
        }
        let mut reg = self.lock()?;
        let key = (account.to_owned(), region.to_owned(), name.to_owned());
        let arn = match reg.entries.get(&key) {
            Some(s) => s.arn.clone(),
            None if reg.entries.len() >= MAX_SECRETS => {
                return Err(SecretError::Invalid(format!(
                    "tidemark keeps at most {MAX_SECRETS} secrets; delete one first"
                )));
            }
            None => {
                let suffix: String = uuid::Uuid::new_v4().simple().to_string()[..6].to_owned();
                format!("arn:aws:secretsmanager:{region}:{account}:secret:{name}-{suffix}")
            }
        };
        let secret = Secret {
            account: account.to_owned(),
            region: region.to_owned(),
            name: name.to_owned(),
            arn: arn.clone(),
            secret_string: secret_string.to_owned(),
        };
        let mut next = reg.entries.clone();
        next.insert(key, secret);
        // Written before it is kept, so a failed write changes nothing.
        if let Some(path) = &reg.file {
            save(path, &next)?;
        }
        reg.entries = next;
        Ok(arn)
    }

    /// Forgets the secret `id` (name or ARN) names; `false` when there is none.
    pub fn delete(&self, account: &str, region: &str, id: &str) -> Result<bool, SecretError> {
        let mut reg = self.lock()?;
        let Some(key) = find(&reg.entries, account, region, id)
            .map(|s| (s.account.clone(), s.region.clone(), s.name.clone()))
        else {
            return Ok(false);
        };
        let mut next = reg.entries.clone();
        next.remove(&key);
        if let Some(path) = &reg.file {
            save(path, &next)?;
        }
        reg.entries = next;
        Ok(true)
    }

    /// The names and ARNs of an account's secrets in a region (never their values).
    pub fn list(&self, account: &str, region: &str) -> Result<Vec<(String, String)>, SecretError> {
        Ok(self
            .lock()?
            .entries
            .values()
            .filter(|s| s.account == account && s.region == region)
            .map(|s| (s.name.clone(), s.arn.clone()))
            .collect())
    }

    /// The secret `id` names for a caller in `account` and `region`: its full ARN, its ARN
    /// without the random suffix, or its name, as Secrets Manager accepts. Another account's
    /// or region's secret is not found.
    pub fn get(
        &self,
        account: &str,
        region: &str,
        id: &str,
    ) -> Result<Option<Secret>, SecretError> {
        Ok(find(&self.lock()?.entries, account, region, id).cloned())
    }

    /// Forgets every secret (admin reset), in the file too.
    pub fn clear(&self) -> Result<(), SecretError> {
        let mut reg = self.lock()?;
        if let Some(path) = &reg.file {
            save(path, &BTreeMap::new())?;
        }
        reg.entries.clear();
        Ok(())
    }
}

fn find<'a>(
    entries: &'a BTreeMap<Key, Secret>,
    account: &str,
    region: &str,
    id: &str,
) -> Option<&'a Secret> {
    if id.starts_with("arn:") {
        return entries.values().find(|s| {
            s.account == account
                && s.region == region
                && (s.arn == id || s.arn.rsplit_once('-').is_some_and(|(p, _)| p == id))
        });
    }
    entries.get(&(account.to_owned(), region.to_owned(), id.to_owned()))
}

fn load(path: &Path) -> Result<BTreeMap<Key, Secret>, SecretError> {
    let io = |e: std::io::Error| SecretError::Io(format!("reading {}: {e}", path.display()));
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(io(e)),
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(SecretError::Io(format!(
            "{} is larger than {MAX_FILE_BYTES} bytes",
            path.display()
        )));
    }
    let text = std::fs::read(path).map_err(io)?;
    let bad = |m: String| SecretError::Io(format!("{}: {m}", path.display()));
    let v: Value = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
    let list = v
        .get("Secrets")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("expected {\"Secrets\": [...]}".into()))?;
    if list.len() > MAX_SECRETS {
        return Err(bad(format!("more than {MAX_SECRETS} secrets")));
    }
    let mut out = BTreeMap::new();
    for item in list {
        let field = |k: &str| {
            item.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad(format!("a secret without the string {k}")))
        };
        let s = Secret {
            account: field("Account")?,
            region: field("Region")?,
            name: field("Name")?,
            arn: field("ARN")?,
            secret_string: field("SecretString")?,
        };
        valid_name(&s.name).map_err(|e| bad(e.to_string()))?;
        out.insert((s.account.clone(), s.region.clone(), s.name.clone()), s);
    }
    Ok(out)
}

/// Writes the registry beside its file, syncs it and renames it over the old one: a crash
/// leaves the old file or the new one, never half of one. Only the server's user may read it
/// (it holds passwords).
fn save(path: &Path, entries: &BTreeMap<Key, Secret>) -> Result<(), SecretError> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |e: std::io::Error| SecretError::Io(format!("writing {}: {e}", path.display()));
    let list: Vec<Value> = entries
        .values()
        .map(|s| {
            json!({"Account": s.account, "Region": s.region, "Name": s.name, "ARN": s.arn,
                   "SecretString": s.secret_string})
        })
        .collect();
    let body = serde_json::to_vec_pretty(&json!({ "Secrets": list }))
        .map_err(|e| SecretError::Io(e.to_string()))?;
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    f.write_all(&body).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "123456789012";
    const R: &str = "us-east-1";

    #[test]
    fn a_secret_is_found_by_name_full_arn_and_partial_arn_in_its_own_account_only() {
        let s = Secrets::default();
        let arn = s.put(A, R, "prod/rs", r#"{"username":"u"}"#).unwrap();
        assert!(arn.starts_with("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/rs-"));
        assert_eq!(
            arn.len(),
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/rs-".len() + 6
        );
        for id in [arn.as_str(), "prod/rs", &arn[..arn.len() - 7]] {
            assert_eq!(
                s.get(A, R, id).unwrap().map(|x| x.arn),
                Some(arn.clone()),
                "{id}"
            );
        }
        assert_eq!(s.get("210987654321", R, "prod/rs").unwrap(), None);
        assert_eq!(s.get(A, "eu-west-1", &arn).unwrap(), None);
        // Replacing the value keeps the ARN.
        assert_eq!(s.put(A, R, "prod/rs", "{}").unwrap(), arn);
        assert_eq!(s.get(A, R, "prod/rs").unwrap().unwrap().secret_string, "{}");
        assert!(s.delete(A, R, &arn).unwrap());
        assert!(!s.delete(A, R, &arn).unwrap());
    }

    #[test]
    fn bad_names_and_oversized_values_are_refused() {
        let s = Secrets::default();
        assert!(matches!(
            s.put(A, R, "", "{}"),
            Err(SecretError::Invalid(_))
        ));
        assert!(matches!(
            s.put(A, R, "a b", "{}"),
            Err(SecretError::Invalid(_))
        ));
        let big = "x".repeat(MAX_SECRET_BYTES + 1);
        assert!(matches!(
            s.put(A, R, "n", &big),
            Err(SecretError::Invalid(_))
        ));
        assert_eq!(s.list(A, R).unwrap(), vec![]);
    }

    #[test]
    fn the_registry_survives_a_restart_through_its_file() {
        let dir = std::env::temp_dir().join(format!("tm-secrets-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE_NAME);
        let s = Secrets::default();
        s.open(&path).unwrap();
        let arn = s
            .put(A, R, "kept", r#"{"username":"u","password":"p"}"#)
            .unwrap();
        let again = Secrets::default();
        again.open(&path).unwrap();
        assert_eq!(again.get(A, R, &arn).unwrap().unwrap().name, "kept");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        again.clear().unwrap();
        let third = Secrets::default();
        third.open(&path).unwrap();
        assert_eq!(third.list(A, R).unwrap(), vec![]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
