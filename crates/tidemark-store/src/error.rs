//! The store's one error enum.

use std::path::PathBuf;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "the data directory {path} holds a tidemark store in format version {found}, but this \
         build reads versions up to {supported}; use the tidemark release that wrote it (or a newer one)"
    )]
    UnsupportedFormat {
        path: PathBuf,
        found: String,
        supported: u32,
    },

    #[error("{path} is not a tidemark store (a redb file without tidemark's format record)")]
    NotATidemarkStore { path: PathBuf },

    #[error("cannot open the store at {path}: {source}")]
    Open {
        path: PathBuf,
        source: redb::DatabaseError,
    },

    #[error("table name {0:?} is reserved for the store itself")]
    ReservedTable(String),

    /// A failure inside redb while running `op`.
    #[error("store {op} failed: {source}")]
    Backend {
        op: &'static str,
        source: redb::Error,
    },

    /// The write-ahead log (`catalog.wal`) could not be read or written.
    #[error("write-ahead log: {op} failed: {source}")]
    Log {
        op: &'static str,
        source: std::io::Error,
    },

    /// A log record whose checksum holds but whose changes this build cannot decode.
    #[error("write-ahead log record {seq} does not decode; refusing to guess its changes")]
    LogRecord { seq: u64 },

    /// An earlier I/O error (a full or failing disk) stopped the store's writes; it reopens
    /// itself in the background and accepts writes again once the files can be written.
    #[error("the store is unavailable after an I/O error ({reason}); retrying")]
    Unavailable { reason: String },
}

impl StoreError {
    /// Whether this is the disk failing (a full disk, EIO), as opposed to a refusal or a bug:
    /// the store then stops writing until it has reopened its files.
    pub(crate) fn is_io_fault(&self) -> bool {
        match self {
            StoreError::Log { .. } => true,
            StoreError::Backend { source, .. } => matches!(
                source,
                redb::Error::Io(_) | redb::Error::PreviousIo | redb::Error::DatabaseClosed
            ),
            StoreError::Open { source, .. } => matches!(
                source,
                redb::DatabaseError::Storage(
                    redb::StorageError::Io(_)
                        | redb::StorageError::PreviousIo
                        | redb::StorageError::DatabaseClosed
                )
            ),
            _ => false,
        }
    }

    /// Wraps an I/O error on the write-ahead log while doing `op`.
    pub(crate) fn log(op: &'static str) -> impl FnOnce(std::io::Error) -> StoreError {
        move |source| StoreError::Log { op, source }
    }

    /// Wraps a redb error raised while doing `op`.
    pub(crate) fn backend<E: Into<redb::Error>>(op: &'static str) -> impl FnOnce(E) -> StoreError {
        move |source| StoreError::Backend {
            op,
            source: source.into(),
        }
    }
}
