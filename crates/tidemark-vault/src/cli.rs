//! `tidemark vault …`: verify, stats and gc for operators. Exit codes: 0 fine, 1 damage found.

use crate::config::VaultOptions;
use crate::error::Result;
use crate::store::backend_from_url;
use crate::vault::Vault;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Where the vault is: `--vault URL` or `--data-dir DIR` (= `file://DIR/vault`).
#[derive(clap::Args, Debug, Clone, PartialEq)]
#[group(required = true, multiple = false)]
pub struct VaultLocation {
    /// Vault URL: file:///dir, s3://bucket/prefix (AWS_* env vars) or memory://.
    #[arg(long)]
    pub vault: Option<String>,
    /// tidemark data directory; the vault is its `vault` sub-directory. Without either
    /// option: the default data directory's vault, as `tidemark serve` uses it.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

impl VaultLocation {
    pub fn url(&self) -> String {
        match (&self.vault, &self.data_dir) {
            (Some(u), _) => u.clone(),
            (None, Some(d)) => format!("file://{}", d.join("vault").display()),
            (None, None) => format!(
                "file://{}",
                tidemark_core::default_data_dir().join("vault").display()
            ),
        }
    }
}

/// The vault maintenance commands.
#[derive(clap::Subcommand, Debug, Clone, PartialEq)]
pub enum VaultCommand {
    /// Check the vault's structure; with --read-data also every byte of every pack.
    Verify {
        #[command(flatten)]
        at: VaultLocation,
        #[arg(long)]
        read_data: bool,
    },
    /// Print object counts and sizes.
    Stats {
        #[command(flatten)]
        at: VaultLocation,
    },
    /// Delete data no backup references and repack sparse packs.
    Gc {
        #[command(flatten)]
        at: VaultLocation,
    },
}

/// Runs one command, writing its report to `out`; returns the process exit code.
pub fn run(cmd: VaultCommand, out: &mut dyn Write) -> Result<i32> {
    let at = match &cmd {
        VaultCommand::Verify { at, .. } | VaultCommand::Stats { at } | VaultCommand::Gc { at } => {
            at
        }
    };
    let url = at.url();
    if let Some(dir) = url.strip_prefix("file://")
        && !std::path::Path::new(dir).is_dir()
    {
        return Err(crate::VaultError::Config(format!("no vault at {url}")));
    }
    let opts = VaultOptions {
        create_if_missing: false,
        ..VaultOptions::default()
    };
    let vault = Vault::open(backend_from_url(&url)?, opts)?;
    match cmd {
        VaultCommand::Verify { read_data, .. } => {
            let bar = std::io::stderr().is_terminal().then(|| {
                let b = indicatif::ProgressBar::new_spinner();
                b.enable_steady_tick(std::time::Duration::from_millis(120));
                b
            });
            let mut tick = |obj: &str| {
                if let Some(b) = &bar {
                    b.set_message(obj.to_string());
                }
            };
            let r = vault.verify_with(read_data, &mut tick)?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            writeln!(
                out,
                "checked {} account(s), {} manifest(s), {} index(es), {} pack(s); {} chunk(s), {} byte(s) read",
                r.accounts, r.manifests, r.indexes, r.packs, r.chunks_checked, r.bytes_read
            )?;
            for p in &r.unreferenced_packs {
                writeln!(out, "unreferenced (gc reclaims): {p}")?;
            }
            for p in &r.problems {
                writeln!(out, "{:?}: {}: {}", p.kind, p.object, p.detail)?;
                for m in &p.affected_manifests {
                    writeln!(out, "  affects backup {m}")?;
                }
            }
            writeln!(
                out,
                "{}",
                if r.ok {
                    "no errors found"
                } else {
                    "ERRORS FOUND"
                }
            )?;
            Ok(if r.ok { 0 } else { 1 })
        }
        VaultCommand::Stats { .. } => {
            let s = vault.stats()?;
            writeln!(out, "accounts: {}", s.accounts)?;
            writeln!(out, "manifests: {}", s.manifests)?;
            writeln!(out, "packs: {} ({} bytes)", s.packs, s.pack_bytes)?;
            writeln!(out, "indexes: {}", s.indexes)?;
            writeln!(
                out,
                "unique chunks: {} ({} bytes, {} stored)",
                s.unique_chunks, s.unique_raw_bytes, s.unique_stored_bytes
            )?;
            Ok(0)
        }
        VaultCommand::Gc { .. } => {
            let g = vault.gc()?;
            writeln!(
                out,
                "accounts collected: {}; live manifests: {}; packs deleted: {}, repacked: {}, written: {}; bytes deleted: {}, written: {}",
                g.accounts,
                g.live_manifests,
                g.packs_deleted,
                g.packs_repacked,
                g.packs_written,
                g.bytes_deleted,
                g.bytes_written
            )?;
            for s in &g.skipped {
                writeln!(out, "skipped {s}")?;
            }
            Ok(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: VaultCommand,
    }

    #[test]
    fn parses_and_runs_on_a_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let cli = Cli::try_parse_from(["t", "verify", "--data-dir", d]).unwrap();
        assert!(run(cli.cmd, &mut Vec::new()).is_err(), "no vault there yet");
        assert!(!dir.path().join("vault").exists(), "and none was created");
        let url = format!("file://{d}/vault");
        let v = Vault::open(backend_from_url(&url).unwrap(), VaultOptions::default()).unwrap();
        let mut w = v
            .writer("123456789012", serde_json::json!({}), None)
            .unwrap();
        w.write_record(b"item").unwrap();
        w.finish().unwrap();
        let cli = Cli::try_parse_from(["t", "verify", "--data-dir", d, "--read-data"]).unwrap();
        let mut out = Vec::new();
        assert_eq!(run(cli.cmd, &mut out).unwrap(), 0);
        assert!(String::from_utf8(out).unwrap().contains("no errors found"));
        assert!(
            Cli::try_parse_from(["t", "gc"]).is_err(),
            "a location is required"
        );
        let cli =
            Cli::try_parse_from(["t", "stats", "--vault", &format!("file://{d}/vault")]).unwrap();
        let mut out = Vec::new();
        assert_eq!(run(cli.cmd, &mut out).unwrap(), 0);
        assert!(String::from_utf8(out).unwrap().contains("accounts: 1"));
        let cli = Cli::try_parse_from(["t", "gc", "--vault", &url]).unwrap();
        let mut out = Vec::new();
        assert_eq!(run(cli.cmd, &mut out).unwrap(), 0);
        assert!(
            String::from_utf8(out)
                .unwrap()
                .contains("live manifests: 1")
        );
        // Damage: verify --read-data exits 1 and names the backup.
        let packs = dir.path().join("vault/accounts/123456789012/packs");
        let pack = std::fs::read_dir(&packs)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let mut bytes = std::fs::read(&pack).unwrap();
        bytes[16] ^= 0xff;
        std::fs::write(&pack, bytes).unwrap();
        let cli = Cli::try_parse_from(["t", "verify", "--vault", &url, "--read-data"]).unwrap();
        let mut out = Vec::new();
        assert_eq!(run(cli.cmd, &mut out).unwrap(), 1);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("ERRORS FOUND") && text.contains("affects backup 123456789012/"),
            "{text}"
        );
    }
}
