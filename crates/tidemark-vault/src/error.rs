//! The vault's error enum: one variant per way an operation can fail.

/// Errors from every vault operation.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The backend failed (after retries for transient errors).
    #[error("backend error on {op} {key}: {source}")]
    Backend {
        op: &'static str,
        key: String,
        #[source]
        source: object_store::Error,
    },
    /// An object's bytes do not match its name, or do not parse.
    #[error("corrupt object {object}: {detail}")]
    Corrupt { object: String, detail: String },
    /// An object the vault needs is missing.
    #[error("missing object {object}: {detail}")]
    Missing { object: String, detail: String },
    /// No such manifest in this account.
    #[error("manifest {id} not found in account {account}")]
    ManifestNotFound { account: String, id: String },
    /// The account name is not usable as a namespace.
    #[error("invalid account name {0:?}: need 1-64 characters of [0-9A-Za-z_-]")]
    InvalidAccount(String),
    /// A malformed manifest id was given.
    #[error("invalid manifest id {0:?}")]
    InvalidId(String),
    /// Another process holds a conflicting lock.
    #[error("account {account} is locked: {detail}")]
    Locked { account: String, detail: String },
    /// The vault URL or options are unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The vault has a format version this code does not know.
    #[error("unsupported vault format version {0}")]
    UnsupportedVersion(u32),
    /// A record larger than the framing allows.
    #[error("record of {0} bytes exceeds the 4 GiB - 1 limit")]
    RecordTooLarge(usize),
    /// Local I/O (CLI output, runtime creation).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Result alias used across the crate.
pub type Result<T, E = VaultError> = std::result::Result<T, E>;

impl VaultError {
    pub(crate) fn corrupt(object: impl Into<String>, detail: impl Into<String>) -> Self {
        VaultError::Corrupt {
            object: object.into(),
            detail: detail.into(),
        }
    }
}
