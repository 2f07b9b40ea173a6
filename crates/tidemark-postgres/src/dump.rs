//! Consistent logical dumps from exported snapshots, and restores of databases and globals.

use std::path::{Path, PathBuf};
use std::process::Command;

use postgres::Client;

use crate::error::{PgError, Result};
use crate::fsutil::fsync_path;
use crate::instance::Instance;
use crate::proc::run_tool;
use crate::sql::{check_name, quote_ident, simple_rows};
use crate::template::SUPERUSER;

/// A snapshot exported by a connection that holds it: `REPEATABLE READ`, read only, after
/// `pg_export_snapshot()`. It can be imported (`pg_dump --snapshot`) only while this value
/// lives, so keep it until the dump that uses it has finished, then drop it.
pub struct HeldSnapshot {
    db: String,
    id: String,
    // Holding the connection keeps the exporting transaction, hence the snapshot, open.
    _client: Client,
}

impl std::fmt::Debug for HeldSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldSnapshot")
            .field("db", &self.db)
            .field("id", &self.id)
            .finish()
    }
}

impl HeldSnapshot {
    /// The database it sees.
    pub fn db(&self) -> &str {
        &self.db
    }

    /// The snapshot id for `SET TRANSACTION SNAPSHOT` / `pg_dump --snapshot`.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// What [`Instance::dump_cluster`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterDump {
    /// The databases dumped, sorted by name.
    pub databases: Vec<String>,
    /// Bytes in the dump directory (what the vault will read).
    pub bytes: u64,
}

/// Dumps this big or bigger are restored with [`BULK_LOAD_SETTINGS`] by default.
pub const BULK_LOAD_MIN_BYTES: u64 = 64 << 20;
/// The server's settings while [`Instance::restore_cluster_bulk`] loads.
const BULK_LOAD_SETTINGS: &[&str] = &["wal_level=minimal", "max_wal_senders=0"];

/// In a cluster dump: the roles (`pg_dumpall --globals-only`).
pub const GLOBALS_FILE: &str = "globals.sql";
/// In a cluster dump: one line per database, `<name> <owner>`, each hex-encoded (names may
/// hold any character).
pub const DATABASES_FILE: &str = "databases";

impl Instance {
    /// Exports a snapshot of `db` as of now (see [`HeldSnapshot`]).
    pub fn export_snapshot(&self, db: &str) -> Result<HeldSnapshot> {
        let client = self.connect(db)?;
        export(client, db)
    }

    /// One exported snapshot per connectable database, all taken together: connections are
    /// opened first, then each exports in turn, so the snapshots are as close to the request
    /// as possible (each database is its own transactional world). Holds one connection per
    /// database until the snapshots are dropped (the superuser may use the reserved slots).
    pub fn export_all_snapshots(&self) -> Result<Vec<HeldSnapshot>> {
        let dbs = self.databases()?;
        let clients = dbs
            .iter()
            .map(|db| self.connect(db).map(|c| (db, c)))
            .collect::<Result<Vec<_>>>()?;
        clients.into_iter().map(|(db, c)| export(c, db)).collect()
    }

    /// `pg_dump -Fd -Z0 --snapshot=<id>` of the snapshot's database into `out_dir` (which must
    /// not exist): uncompressed directory format, one file per table in physical order, so
    /// content-defined chunking finds unchanged pages again. pg_dump fsyncs what it wrote.
    pub fn dump_database(&self, snap: &HeldSnapshot, out_dir: &Path) -> Result<()> {
        let mut cmd = self.client_tool("pg_dump");
        cmd.args(["-Fd", "-Z0", "--no-password"])
            .arg(format!("--snapshot={}", snap.id))
            .arg("-f")
            .arg(out_dir)
            .arg("-d")
            .arg(&snap.db);
        run_tool(cmd, self.cfg.tool_timeout).map(drop)
    }

    /// `pg_dumpall --globals-only --no-role-passwords` into `out_file` (roles and their
    /// memberships; passwords belong to the Endpoint, not to PostgreSQL).
    pub fn dump_globals(&self, out_file: &Path) -> Result<()> {
        let mut cmd = self.client_tool("pg_dumpall");
        cmd.args([
            "--globals-only",
            "--no-role-passwords",
            "--no-password",
            "-f",
        ])
        .arg(out_file)
        .args(["-l", "postgres"]);
        run_tool(cmd, self.cfg.tool_timeout)?;
        fsync_path(out_file)
    }

    /// Everything needed to bring the cluster back, consistent per database as of the call:
    /// snapshots of every database are exported first, then the globals and each database are
    /// dumped under `out_dir` (created; must not exist). Writes continue meanwhile.
    pub fn dump_cluster(&self, out_dir: &Path) -> Result<ClusterDump> {
        let snaps = self.export_all_snapshots()?;
        self.dump_snapshots(snaps, out_dir)
    }

    /// Dumps snapshots exported earlier ([`Instance::export_all_snapshots`], e.g. when a
    /// Redshift snapshot was requested) and the globals under `out_dir` (created; must not
    /// exist), laid out as [`Instance::dump_cluster`] does. Each snapshot is released once its
    /// database is dumped.
    pub fn dump_snapshots(&self, snaps: Vec<HeldSnapshot>, out_dir: &Path) -> Result<ClusterDump> {
        let owners = self.query(
            "postgres",
            "SELECT datname, pg_get_userbyid(datdba) FROM pg_database",
        )?;
        let owner_of = |db: &str| {
            owners
                .iter()
                .find(|r| r.first().and_then(|n| n.as_deref()) == Some(db))
                .and_then(|r| r.get(1).cloned().flatten())
                .unwrap_or_else(|| SUPERUSER.to_owned())
        };
        std::fs::create_dir(out_dir).map_err(|e| PgError::io("create directory", out_dir, e))?;
        self.dump_globals(&out_dir.join(GLOBALS_FILE))?;
        let mut manifest = String::new();
        let mut databases = Vec::new();
        for snap in snaps {
            let dir = out_dir.join(db_dir_name(&snap.db));
            self.dump_database(&snap, &dir)?;
            manifest.push_str(&format!(
                "{} {}\n",
                hex(snap.db.as_bytes()),
                hex(owner_of(&snap.db).as_bytes())
            ));
            databases.push(snap.db.clone());
            drop(snap); // its dump is complete: release the snapshot before the next
        }
        let m = out_dir.join(DATABASES_FILE);
        std::fs::write(&m, manifest).map_err(|e| PgError::io("write", &m, e))?;
        fsync_path(&m)?;
        fsync_path(out_dir)?;
        Ok(ClusterDump {
            databases,
            bytes: tree_size(out_dir),
        })
    }

    /// Restores a [`Instance::dump_cluster`] into a fresh instance (one whose only database
    /// is `postgres`, as made from the template): globals, then every database with its
    /// owner. Fails on the first error; the caller discards the instance then.
    pub fn restore_cluster(&self, dump_dir: &Path) -> Result<ClusterDump> {
        self.restore_globals(&dump_dir.join(GLOBALS_FILE))?;
        let m = dump_dir.join(DATABASES_FILE);
        let manifest = std::fs::read_to_string(&m).map_err(|e| PgError::io("read", &m, e))?;
        let mut databases = Vec::new();
        let decode = |h: &str| unhex(h).and_then(|b| String::from_utf8(b).ok());
        for line in manifest.lines().filter(|l| !l.is_empty()) {
            let (name, owner) = line
                .split_once(' ')
                .and_then(|(n, o)| Some((decode(n)?, decode(o)?)))
                .ok_or_else(|| {
                    PgError::Unexpected(format!("bad line in {}: {line:?}", m.display()))
                })?;
            self.restore_database(&name, &dump_dir.join(db_dir_name(&name)))?;
            self.execute(
                "postgres",
                &format!(
                    "ALTER DATABASE {} OWNER TO {}",
                    quote_ident(&name),
                    quote_ident(&owner)
                ),
            )?;
            databases.push(name);
        }
        Ok(ClusterDump {
            databases,
            bytes: tree_size(dump_dir),
        })
    }

    /// [`Instance::restore_cluster`] for a dump of at least
    /// [`crate::InstanceConfig::bulk_load_min_bytes`] (default [`BULK_LOAD_MIN_BYTES`]): the
    /// server restarts with `wal_level=minimal` (and no WAL senders, which that requires) for
    /// the load, so each database's rows, copied in the one transaction that also creates
    /// their tables, skip the WAL and are fsynced once at commit instead of being written
    /// twice (about a quarter of a 200 MB restore's time); then it restarts with its usual
    /// settings, the fast shutdown's checkpoint making everything durable. Smaller dumps load
    /// as they are (two restarts cost more than they save). Takes `&mut` because the server
    /// restarts: connections opened before are broken.
    pub fn restore_cluster_bulk(&mut self, dump_dir: &Path) -> Result<ClusterDump> {
        if tree_size(dump_dir) < self.cfg.bulk_load_min_bytes {
            return self.restore_cluster(dump_dir);
        }
        self.relaunch_with(BULK_LOAD_SETTINGS)?;
        let restored = self.restore_cluster(dump_dir);
        // Back to the usual settings whatever happened (a failed load's instance is
        // discarded by the caller, but must not keep running without WAL for replicas).
        let back = self.relaunch_with(&[]);
        let restored = restored?;
        back?;
        Ok(restored)
    }

    /// Replays a `pg_dumpall --globals-only` file. Roles that already exist (the superuser,
    /// in any instance made from the template) are not created again; everything else must
    /// succeed, in one transaction.
    pub fn restore_globals(&self, globals_file: &Path) -> Result<()> {
        let text = std::fs::read_to_string(globals_file)
            .map_err(|e| PgError::io("read", globals_file, e))?;
        let mut c = self.connect("postgres")?;
        let existing: Vec<String> = simple_rows(
            &mut c,
            "postgres",
            "SELECT 'CREATE ROLE ' || quote_ident(rolname) || ';' FROM pg_roles",
        )?
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect();
        // pg_dumpall writes each CREATE ROLE on a line of its own. Since 15.14 it also wraps
        // its output in psql's `\restrict KEY` / `\unrestrict KEY` (CVE-2025-8714), which are
        // psql commands, not SQL; any other backslash line is left in to fail loudly.
        let script: String = text
            .lines()
            .filter(|l| !l.starts_with("\\restrict ") && !l.starts_with("\\unrestrict "))
            .filter(|l| !existing.iter().any(|e| e == l))
            .flat_map(|l| [l, "\n"])
            .collect();
        c.batch_execute(&format!("BEGIN;\n{script}\nCOMMIT;"))
            .map_err(|e| PgError::sql("postgres", e))
    }

    /// Restores a [`Instance::dump_database`] directory into database `db`, creating it (owned
    /// by the superuser) from `template1` if missing, so that it has the setup SQL's objects
    /// (in `pg_catalog`, which `pg_dump` leaves out); the dump's own copies of the setup's
    /// event triggers are skipped. One transaction, stopping at the first error, so a failed
    /// restore leaves nothing half done.
    pub fn restore_database(&self, db: &str, dump_dir: &Path) -> Result<()> {
        check_name(db)?;
        if !self.databases()?.iter().any(|d| d == db) {
            // From template1, which carries the setup SQL: its objects live in pg_catalog,
            // which pg_dump leaves out, so a dump cannot bring them back itself.
            self.execute(
                "postgres",
                &format!(
                    "CREATE DATABASE {} TEMPLATE template1 OWNER {}",
                    quote_ident(db),
                    quote_ident(SUPERUSER)
                ),
            )?;
        }
        // Event triggers are dumped (they are not in pg_catalog) but the setup SQL already
        // made the same ones in the new database: restore every entry but those.
        let existing: Vec<String> = self
            .query(db, "SELECT evtname FROM pg_event_trigger")?
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect();
        let mut list = Command::new(self.bins.program("pg_restore"));
        list.arg("-l").arg(dump_dir);
        let toc = run_tool(list, self.cfg.tool_timeout)?.stdout;
        let kept: String = toc
            .lines()
            .filter(|l| {
                // `215; 3466 16390 EVENT TRIGGER - name owner`
                !l.split_once(" EVENT TRIGGER - ").is_some_and(|(_, rest)| {
                    let name = rest.split(' ').next().unwrap_or_default();
                    existing.iter().any(|e| e == name)
                })
            })
            .flat_map(|l| [l, "\n"])
            .collect();
        let list_file = tempfile::Builder::new()
            .prefix("tidemark-restore-list-")
            .tempfile()
            .map_err(|e| PgError::io("create temp file", std::env::temp_dir(), e))?;
        std::fs::write(list_file.path(), kept)
            .map_err(|e| PgError::io("write", list_file.path(), e))?;
        let mut cmd = self.client_tool("pg_restore");
        cmd.args([
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            "-L",
        ])
        .arg(list_file.path())
        .arg("-d")
        .arg(db)
        .arg(dump_dir);
        run_tool(cmd, self.cfg.tool_timeout).map(drop)
    }

    /// A client program pointed at this instance's socket as the superuser.
    pub(crate) fn client_tool(&self, name: &str) -> Command {
        let mut cmd = Command::new(self.bins.program(name));
        cmd.arg("-h")
            .arg(self.socket_dir())
            .args(["-p", "5432", "-U", SUPERUSER])
            // The caller's libpq settings must not redirect a tool to another server.
            .env_remove("PGHOST")
            .env_remove("PGPORT")
            .env_remove("PGSERVICE")
            .env_remove("PGOPTIONS")
            .current_dir("/");
        cmd
    }
}

fn export(mut client: Client, db: &str) -> Result<HeldSnapshot> {
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .map_err(|e| PgError::sql(db, e))?;
    let rows = simple_rows(&mut client, db, "SELECT pg_export_snapshot()")?;
    let id = rows
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten())
        .ok_or_else(|| PgError::Unexpected("pg_export_snapshot() returned no row".into()))?;
    Ok(HeldSnapshot {
        db: db.to_owned(),
        id,
        _client: client,
    })
}

/// The directory of database `db` in a [`Instance::dump_cluster`] dump (what
/// [`Instance::restore_table`] takes).
pub fn cluster_database_dir(dump_dir: &Path, db: &str) -> PathBuf {
    dump_dir.join(db_dir_name(db))
}

/// Total size of the files under `dir` (a dump is two levels deep; unreadable entries count 0).
fn tree_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|it| {
            it.flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => tree_size(&e.path()),
                    Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn db_dir_name(db: &str) -> PathBuf {
    PathBuf::from(format!("db-{}", hex(db.as_bytes())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 2 * 64 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{hex, unhex};

    #[test]
    fn hex_round_trips() {
        for s in ["dev", "", "a b\n\"c\"", "ünï"] {
            assert_eq!(unhex(&hex(s.as_bytes())).as_deref(), Some(s.as_bytes()));
        }
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("abc"), None);
    }
}
