//! The `config` object (vault-format.md §2.1) and the options a caller opens a vault with.

use crate::error::{Result, VaultError};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// FastCDC v2020 parameters; fixed per vault because deduplication depends on them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChunkerParams {
    pub algorithm: String,
    pub min_size: u32,
    pub avg_size: u32,
    pub max_size: u32,
    pub normalization: u32,
    pub seed: String,
}

impl Default for ChunkerParams {
    /// 16 KiB average suits 100–400 byte records (vault-format.md §2.1).
    fn default() -> Self {
        ChunkerParams {
            algorithm: "fastcdc-v2020".into(),
            min_size: 4096,
            avg_size: 16384,
            max_size: 65536,
            normalization: 1,
            seed: "per-account".into(),
        }
    }
}

/// The stored vault configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VaultConfig {
    pub format: String,
    pub version: u32,
    pub vault_id: String,
    pub secret: String,
    pub chunker: ChunkerParams,
    pub hash: String,
    pub compression: String,
    pub default_zstd_level: i32,
    pub pack_target_size: u64,
    pub record_framing: String,
}

impl VaultConfig {
    pub fn new(chunker: ChunkerParams, zstd_level: i32, pack_target_size: u64) -> Self {
        let secret: [u8; 32] = rand::random();
        let vault_id: [u8; 16] = rand::random();
        VaultConfig {
            format: "tidemark-vault".into(),
            version: 1,
            vault_id: hex(&vault_id),
            secret: hex(&secret),
            chunker,
            hash: "blake3-keyed".into(),
            compression: "zstd".into(),
            default_zstd_level: zstd_level,
            pack_target_size,
            record_framing: "u32le-length".into(),
        }
    }

    /// Parses and checks a stored config.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let c: VaultConfig = serde_json::from_slice(bytes)
            .map_err(|e| VaultError::corrupt("config", e.to_string()))?;
        if c.format != "tidemark-vault" {
            return Err(VaultError::corrupt("config", "not a tidemark vault"));
        }
        if c.version != 1 {
            return Err(VaultError::UnsupportedVersion(c.version));
        }
        let ch = &c.chunker;
        let sane = ch.algorithm == "fastcdc-v2020"
            && ch.normalization <= 3
            && (64..=1 << 20).contains(&ch.min_size)
            && ch.min_size <= ch.avg_size
            && ch.avg_size <= ch.max_size
            && (1024..=16 << 20).contains(&ch.max_size);
        if !sane || c.pack_target_size == 0 {
            return Err(VaultError::corrupt(
                "config",
                "unusable chunker or pack size",
            ));
        }
        c.secret_bytes()?;
        Ok(c)
    }

    pub fn secret_bytes(&self) -> Result<[u8; 32]> {
        crate::id::Id::from_hex(&self.secret)
            .map(|id| id.0)
            .ok_or_else(|| VaultError::corrupt("config", "bad secret"))
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// How a caller opens a vault. Chunker and pack size apply only when creating a new vault.
#[derive(Clone, Debug)]
pub struct VaultOptions {
    /// zstd level for new blobs (default 3).
    pub zstd_level: i32,
    /// Chunker for a new vault.
    pub chunker: ChunkerParams,
    /// Pack target size for a new vault (default 16 MiB).
    pub pack_target_size: u64,
    /// Retries of transient backend errors (default 3).
    pub retries: u32,
    /// Full packs uploading in the background while the next one fills (default 3). Each
    /// holds up to `pack_target_size` bytes in memory until its put returns, so a store's
    /// memory is bounded by `(1 + this) × pack_target_size` plus the pipeline's batches.
    /// `0` makes each pack's upload finish before the next pack starts filling, which keeps
    /// the memory of a large backup to that of a small one: right for a local directory,
    /// where a put is a write and an fsync (`pack_uploads_in_flight_for_url`).
    pub pack_uploads_in_flight: usize,
    /// gc repacks a pack when more than this fraction of its stored bytes is dead.
    pub gc_repack_dead_fraction: f64,
    /// Lock objects not refreshed for this long are ignored.
    pub lock_stale_after: Duration,
    /// Runtime to run backend futures on (must be multi-thread); `None` = own runtime.
    pub runtime: Option<tokio::runtime::Handle>,
    /// Create the vault when `config` is absent (false for maintenance commands, so a
    /// mistyped location is an error rather than a fresh, empty, "healthy" vault).
    pub create_if_missing: bool,
}

/// The `pack_uploads_in_flight` suited to a vault URL: none for a local directory (a put
/// is a local write, so overlapping them buys little and costs a pack's memory each), the
/// default for object stores, whose puts wait on the network.
pub fn pack_uploads_in_flight_for_url(url: &str) -> usize {
    if url.starts_with("file://") {
        0
    } else {
        VaultOptions::default().pack_uploads_in_flight
    }
}

impl Default for VaultOptions {
    fn default() -> Self {
        VaultOptions {
            zstd_level: 3,
            chunker: ChunkerParams::default(),
            pack_target_size: 16 << 20,
            retries: 3,
            pack_uploads_in_flight: 3,
            gc_repack_dead_fraction: 0.1,
            lock_stale_after: Duration::from_secs(3600),
            runtime: None,
            create_if_missing: true,
        }
    }
}
