//! Finding the PostgreSQL server binaries (13 or newer) in a fixed, documented order.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::error::{PgError, Result};
use crate::proc::run_tool;

/// The oldest major version supported (pg_dump's `--snapshot`, `postmaster.pid`'s status line and
/// the catalog queries the proxy's clients send all work from 13 on).
pub const MIN_MAJOR: u32 = 13;

/// Programs a directory must hold to be used.
const REQUIRED: [&str; 5] = ["initdb", "postgres", "pg_dump", "pg_dumpall", "pg_restore"];

/// A `--version` call only prints a line; a slow one means a broken install.
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

/// A directory of PostgreSQL programs whose version was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgBinaries {
    dir: PathBuf,
    major: u32,
    version: String,
}

/// What discovery may look at; [`DiscoverEnv::from_process`] reads the real environment and
/// tests inject their own.
#[derive(Debug, Clone, Default)]
pub struct DiscoverEnv {
    /// `$TIDEMARK_POSTGRES_BIN`.
    pub tidemark_postgres_bin: Option<OsString>,
    /// `$PATH` (also used to find `pg_config`).
    pub path: Option<OsString>,
    /// Where distribution packages put versioned directories (`/usr/lib/postgresql`).
    pub versioned_root: PathBuf,
}

impl DiscoverEnv {
    /// The running process's environment.
    pub fn from_process() -> Self {
        DiscoverEnv {
            tidemark_postgres_bin: std::env::var_os("TIDEMARK_POSTGRES_BIN"),
            path: std::env::var_os("PATH"),
            versioned_root: PathBuf::from("/usr/lib/postgresql"),
        }
    }
}

impl PgBinaries {
    /// Finds the binaries: `explicit` (`serve --postgres-bin`), `$TIDEMARK_POSTGRES_BIN`,
    /// `pg_config --bindir`, a `PATH` directory holding `postgres` or `initdb`, then the newest
    /// `/usr/lib/postgresql/<N>/bin`.
    pub fn discover(explicit: Option<&Path>) -> Result<Self> {
        Self::discover_in(explicit, &DiscoverEnv::from_process())
    }

    /// [`PgBinaries::discover`] over an injected environment.
    pub fn discover_in(explicit: Option<&Path>, env: &DiscoverEnv) -> Result<Self> {
        // A directory the user named is either used or reported: silently falling back to
        // another PostgreSQL would hide their mistake.
        if let Some(dir) = explicit {
            return probe(dir).map_err(|reason| PgError::ExplicitDirUnusable {
                source_name: "--postgres-bin",
                dir: dir.to_owned(),
                reason,
            });
        }
        if let Some(dir) = env.tidemark_postgres_bin.as_ref().filter(|d| !d.is_empty()) {
            let dir = PathBuf::from(dir);
            return probe(&dir).map_err(|reason| PgError::ExplicitDirUnusable {
                source_name: "$TIDEMARK_POSTGRES_BIN",
                dir,
                reason,
            });
        }
        let mut tried = Vec::new();
        let attempt = |dir: PathBuf, tried: &mut Vec<String>| match probe(&dir) {
            Ok(b) => Some(b),
            Err(reason) => {
                tried.push(format!("{}: {reason}", dir.display()));
                None
            }
        };
        let path_dirs: Vec<PathBuf> = env
            .path
            .as_ref()
            .map(|p| {
                std::env::split_paths(p)
                    .filter(|d| d.is_absolute())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(pg_config) = find_in(&path_dirs, "pg_config")
            && let Some(dir) = pg_config_bindir(&pg_config)
            && let Some(b) = attempt(dir, &mut tried)
        {
            return Ok(b);
        }
        for dir in &path_dirs {
            for prog in ["postgres", "initdb"] {
                let exe = dir.join(prog);
                if !is_executable(&exe) {
                    continue;
                }
                if let Some(b) = attempt(dir.clone(), &mut tried) {
                    return Ok(b);
                }
                // Homebrew and similar link a few programs into PATH; the rest sit beside
                // the link's target.
                if let Some(real_dir) = exe
                    .canonicalize()
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_owned))
                    .filter(|d| d != dir)
                    && let Some(b) = attempt(real_dir, &mut tried)
                {
                    return Ok(b);
                }
                break;
            }
        }
        for dir in versioned_dirs(&env.versioned_root) {
            if let Some(b) = attempt(dir, &mut tried) {
                return Ok(b);
            }
        }
        Err(PgError::NotFound {
            tried: tried.join("; "),
        })
    }

    /// The directory holding the programs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The major version (15 for 15.18).
    pub fn major(&self) -> u32 {
        self.major
    }

    /// The full version string printed by `postgres --version`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The path of one of the programs.
    pub fn program(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `psql`, when installed beside the server.
    pub fn psql(&self) -> Option<PathBuf> {
        let p = self.dir.join("psql");
        is_executable(&p).then_some(p)
    }
}

/// Checks one candidate directory; the error says why it is not usable.
fn probe(dir: &Path) -> Result<PgBinaries, String> {
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|p| !is_executable(&dir.join(p)))
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing {}", missing.join(", ")));
    }
    let mut cmd = Command::new(dir.join("postgres"));
    cmd.arg("--version");
    let out = run_tool(cmd, VERSION_TIMEOUT).map_err(|e| e.to_string())?;
    let version = out.stdout.trim().to_owned();
    let major = parse_major(&version).ok_or_else(|| format!("unrecognised version {version:?}"))?;
    if major < MIN_MAJOR {
        return Err(format!(
            "version {major} is too old (PostgreSQL {MIN_MAJOR} or newer is required)"
        ));
    }
    Ok(PgBinaries {
        dir: dir.to_owned(),
        major,
        version,
    })
}

/// The major version in `postgres (PostgreSQL) 15.18 (Debian 15.18-1)` or `… 9.6.24` (9).
pub(crate) fn parse_major(version_line: &str) -> Option<u32> {
    let after = version_line.split(')').nth(1).unwrap_or(version_line);
    let word = after.split_whitespace().next()?;
    let digits: String = word.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn pg_config_bindir(pg_config: &Path) -> Option<PathBuf> {
    let mut cmd = Command::new(pg_config);
    cmd.arg("--bindir");
    let out = run_tool(cmd, VERSION_TIMEOUT).ok()?;
    let dir = PathBuf::from(out.stdout.trim());
    dir.is_absolute().then_some(dir)
}

fn find_in(dirs: &[PathBuf], prog: &str) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(prog)).find(|p| is_executable(p))
}

/// `<root>/<N>/bin` for every numeric `N`, newest first.
fn versioned_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n: u32 = e.file_name().to_str()?.parse().ok()?;
            Some((n, e.path().join("bin")))
        })
        .collect();
    found.sort_by_key(|d| std::cmp::Reverse(d.0));
    found.into_iter().map(|(_, d)| d).collect()
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::parse_major;

    #[test]
    fn majors() {
        assert_eq!(
            parse_major("postgres (PostgreSQL) 15.18 (Debian 15.18-1.pgdg120+1)"),
            Some(15)
        );
        assert_eq!(parse_major("postgres (PostgreSQL) 9.6.24"), Some(9));
        assert_eq!(parse_major("postgres (PostgreSQL) 17beta1"), Some(17));
        assert_eq!(parse_major("garbage"), None);
    }
}
