//! Consistent logical dumps from exported snapshots, and restores of databases and globals.

use std::path::{Path, PathBuf};
use std::process::Command;

use postgres::Client;

use crate::error::{PgError, Result};
use crate::fsutil::fsync_path;
use crate::instance::Instance;
use crate::proc::run_tool;
use crate::sql::{check_name, quote_ident, quote_literal, simple_rows};
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
}

/// In a cluster dump: the roles (`pg_dumpall --globals-only`).
pub const GLOBALS_FILE: &str = "globals.sql";
/// In a cluster dump: one line per database, its name hex-encoded (names may hold any byte).
pub const DATABASES_FILE: &str = "databases";

impl Instance {
    /// Exports a snapshot of `db` as of now (see [`HeldSnapshot`]).
    pub fn export_snapshot(&self, db: &str) -> Result<HeldSnapshot> {
        let client = self.connect(db)?;
        export(client, db)
    }

    /// One exported snapshot per connectable database, all taken together: connections are
    /// opened first, then each exports in turn, so the snapshots are as close to the request
    /// as possible (each database is its own transactional world).
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

    /// Dumps snapshots exported earlier ([`Instance::export_all_snapshots`], when a snapshot
    /// was requested) and the globals under `out_dir` (created; must not exist), as
    /// [`Instance::dump_cluster`] lays them out. Each snapshot is released once its database
    /// is dumped.
    pub fn dump_snapshots(&self, snaps: Vec<HeldSnapshot>, out_dir: &Path) -> Result<ClusterDump> {
        std::fs::create_dir(out_dir).map_err(|e| PgError::io("create directory", out_dir, e))?;
        self.dump_globals(&out_dir.join(GLOBALS_FILE))?;
        let mut manifest = String::new();
        let mut databases = Vec::new();
        for snap in snaps {
            let dir = out_dir.join(db_dir_name(&snap.db));
            self.dump_database(&snap, &dir)?;
            manifest.push_str(&hex(snap.db.as_bytes()));
            manifest.push('\n');
            databases.push(snap.db.clone());
            drop(snap); // its dump is complete: release the snapshot before the next
        }
        let m = out_dir.join(DATABASES_FILE);
        std::fs::write(&m, manifest).map_err(|e| PgError::io("write", &m, e))?;
        fsync_path(&m)?;
        fsync_path(out_dir)?;
        Ok(ClusterDump { databases })
    }

    /// Restores a [`Instance::dump_cluster`] into this (fresh) instance: globals, then every
    /// database. Fails on the first error.
    pub fn restore_cluster(&self, dump_dir: &Path) -> Result<ClusterDump> {
        self.restore_globals(&dump_dir.join(GLOBALS_FILE))?;
        let m = dump_dir.join(DATABASES_FILE);
        let manifest = std::fs::read_to_string(&m).map_err(|e| PgError::io("read", &m, e))?;
        let mut databases = Vec::new();
        for line in manifest.lines().filter(|l| !l.is_empty()) {
            let name = unhex(line)
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| PgError::InvalidName(line.to_owned()))?;
            self.restore_database(&name, &dump_dir.join(db_dir_name(&name)))?;
            databases.push(name);
        }
        Ok(ClusterDump { databases })
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
    /// by the superuser) if missing. One transaction, stopping at the first error, so a failed
    /// restore leaves nothing half done.
    pub fn restore_database(&self, db: &str, dump_dir: &Path) -> Result<()> {
        check_name(db)?;
        self.ensure_database(db, SUPERUSER)?;
        let mut cmd = self.client_tool("pg_restore");
        cmd.args([
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            "-d",
        ])
        .arg(db)
        .arg(dump_dir);
        run_tool(cmd, self.cfg.tool_timeout).map(drop)
    }

    /// Restores one table's definition and rows from a database dump into `db` as
    /// `target_schema.target_table`, which must not exist (its schema must). The table goes
    /// through a scratch database, where it is renamed, then is dumped again and restored
    /// here: names are never spliced into dumped SQL text. Owned by the superuser; grants,
    /// indexes other than constraints and identity sequences are not carried.
    pub fn restore_table(
        &self,
        db: &str,
        dump_dir: &Path,
        schema: &str,
        table: &str,
        target_schema: &str,
        target_table: &str,
    ) -> Result<()> {
        for n in [db, schema, table, target_schema, target_table] {
            check_name(n)?;
        }
        let mut c = self.connect(db)?;
        let schema_exists = !simple_rows(
            &mut c,
            db,
            &format!(
                "SELECT 1 FROM pg_namespace WHERE nspname = {}",
                quote_literal(target_schema)
            ),
        )?
        .is_empty();
        if !schema_exists {
            return Err(PgError::SchemaMissing {
                db: db.to_owned(),
                schema: target_schema.to_owned(),
            });
        }
        if relation_exists(&mut c, db, target_schema, target_table)? {
            return Err(PgError::TargetExists {
                db: db.to_owned(),
                schema: target_schema.to_owned(),
                table: target_table.to_owned(),
            });
        }
        if !self.dump_has_table(dump_dir, schema, table)? {
            return Err(PgError::TableNotInDump {
                dump: dump_dir.to_owned(),
                schema: schema.to_owned(),
                table: table.to_owned(),
            });
        }
        let scratch = ScratchDb::create(self)?;
        let moved = self.stage_in_scratch(
            &scratch.name,
            dump_dir,
            schema,
            table,
            target_schema,
            target_table,
        )?;
        // `moved` is a custom-format dump of exactly the renamed table.
        let mut cmd = self.client_tool("pg_restore");
        cmd.args([
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-password",
            "-d",
        ])
        .arg(db)
        .arg(moved.path());
        run_tool(cmd, self.cfg.tool_timeout).map(drop)
    }

    fn stage_in_scratch(
        &self,
        scratch: &str,
        dump_dir: &Path,
        schema: &str,
        table: &str,
        target_schema: &str,
        target_table: &str,
    ) -> Result<tempfile::NamedTempFile> {
        self.execute(
            scratch,
            &format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema)),
        )?;
        let mut cmd = self.client_tool("pg_restore");
        cmd.args([
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            "--no-password",
        ])
        .args(["-n", schema, "-t", table, "-d", scratch])
        .arg(dump_dir);
        run_tool(cmd, self.cfg.tool_timeout)?;
        let (s, t, ts, tt) = (
            quote_ident(schema),
            quote_ident(table),
            quote_ident(target_schema),
            quote_ident(target_table),
        );
        let mut sql = String::from("BEGIN;");
        if table != target_table {
            sql.push_str(&format!("ALTER TABLE {s}.{t} RENAME TO {tt};"));
        }
        if schema != target_schema {
            sql.push_str(&format!(
                "CREATE SCHEMA IF NOT EXISTS {ts}; ALTER TABLE {s}.{tt} SET SCHEMA {ts};"
            ));
        }
        sql.push_str("COMMIT;");
        self.execute(scratch, &sql)?;
        let out = tempfile::Builder::new()
            .prefix("tidemark-restore-table-")
            .tempfile()
            .map_err(|e| PgError::io("create temp file", std::env::temp_dir(), e))?;
        let mut cmd = self.client_tool("pg_dump");
        cmd.args(["-Fc", "-Z0", "--no-password", "--strict-names", "-t"])
            .arg(format!("{ts}.{tt}"))
            .arg("-f")
            .arg(out.path())
            .args(["-d", scratch]);
        run_tool(cmd, self.cfg.tool_timeout)?;
        Ok(out)
    }

    /// Whether the dump's table of contents lists `schema.table` as a table.
    fn dump_has_table(&self, dump_dir: &Path, schema: &str, table: &str) -> Result<bool> {
        let mut cmd = Command::new(self.bins.program("pg_restore"));
        cmd.arg("-l").arg(dump_dir);
        let toc = run_tool(cmd, self.cfg.tool_timeout)?.stdout;
        // Lines look like `215; 1259 16386 TABLE public t rdsdb`.
        let want = format!("{schema} {table} ");
        Ok(toc.lines().any(|l| {
            l.split_once(" TABLE ")
                .is_some_and(|(head, rest)| head.split(' ').count() == 3 && rest.starts_with(&want))
        }))
    }

    /// A client program pointed at this instance's socket as the superuser.
    fn client_tool(&self, name: &str) -> Command {
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

fn relation_exists(c: &mut Client, db: &str, schema: &str, name: &str) -> Result<bool> {
    let sql = format!(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = {} AND c.relname = {}",
        quote_literal(schema),
        quote_literal(name)
    );
    Ok(!simple_rows(c, db, &sql)?.is_empty())
}

/// A throwaway database, dropped (forcibly) when this value goes.
struct ScratchDb<'a> {
    inst: &'a Instance,
    name: String,
}

impl<'a> ScratchDb<'a> {
    fn create(inst: &'a Instance) -> Result<Self> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "tidemark_scratch_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        inst.execute(
            "postgres",
            &format!("CREATE DATABASE {}", quote_ident(&name)),
        )?;
        Ok(ScratchDb { inst, name })
    }
}

impl Drop for ScratchDb<'_> {
    fn drop(&mut self) {
        let sql = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&self.name)
        );
        if let Err(e) = self.inst.execute("postgres", &sql) {
            tracing::warn!("dropping scratch database {}: {e}", self.name);
        }
    }
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
