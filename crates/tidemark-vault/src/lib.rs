//! tidemark-vault: a deduplicated, compressed, verifiable backup repository on any object
//! store. The format is specified in `docs/vault-format.md`.
//!
//! The API is blocking: call it from job threads or `spawn_blocking`, never from inside an
//! async task (the vault drives its own tokio runtime, or the multi-thread runtime handle
//! given in [`VaultOptions::runtime`]).

pub mod cli;
mod config;
mod delta;
mod error;
mod format;
mod gc;
mod id;
mod lock;
mod packer;
mod progress;
mod reader;
mod store;
mod vault;
mod verify;
mod writer;

pub use config::{ChunkerParams, VaultConfig, VaultOptions, pack_uploads_in_flight_for_url};
pub use error::{Result, VaultError};
pub use gc::GcReport;
pub use id::{Id, ManifestId};
pub use object_store::ObjectStore;
pub use progress::{Progress, ProgressHandle};
pub use reader::ManifestReader;
pub use store::backend_from_url;
pub use vault::{ManifestInfo, Vault, VaultStats};
pub use verify::{Problem, ProblemKind, VerifyReport, parse_label};
pub use writer::{ManifestWriter, StoreStats};
