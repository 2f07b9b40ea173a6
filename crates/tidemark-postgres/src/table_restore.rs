//! Restoring one table of a database dump under a new name, through a scratch database.

use std::path::Path;
use std::process::Command;

use postgres::Client;

use crate::admin::SCRATCH_PREFIX;
use crate::error::{PgError, Result};
use crate::instance::Instance;
use crate::proc::run_tool;
use crate::sql::{check_name, quote_ident, quote_literal, simple_rows};

impl Instance {
    /// Restores one table's definition and rows from a database dump into `db` as
    /// `target_schema.target_table`, which must not exist (its schema must). The table goes
    /// through a scratch database, where it is renamed, then is dumped again and restored
    /// here: names are never spliced into dumped SQL text. Columns, defaults, identity and
    /// serial sequences, constraints and indexes come along (indexes and sequences renamed
    /// after the new table); foreign keys and grants do not, and the superuser owns it.
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
        drop(c);
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

    /// Puts the table, renamed, into the scratch database and dumps it from there.
    ///
    /// The schema's definitions (no rows) are restored first so that the table's column
    /// types, sequences, defaults, constraints and indexes come along; objects of that schema
    /// that depend on other schemas may fail there, which is tolerated because only this one
    /// table is taken out. Its rows are restored strictly. Then, in the scratch database, its
    /// foreign keys are dropped (their targets are not restored), its indexes and owned
    /// sequences get names derived from the new table name (so they cannot collide with the
    /// original's in the same schema), and it is renamed and moved.
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
        // `only`: restore strictly just these relations (the table and its sequences);
        // otherwise the whole schema's section, tolerating errors.
        let restore = |section: &str, only: Option<&[String]>| {
            let mut cmd = self.client_tool("pg_restore");
            cmd.args([
                "--no-owner",
                "--no-privileges",
                "--no-password",
                "-d",
                scratch,
                "-n",
                schema,
            ])
            .arg(format!("--section={section}"));
            if let Some(names) = only {
                cmd.args(["--exit-on-error", "--single-transaction"]);
                for n in names {
                    cmd.arg("-t").arg(n);
                }
            }
            cmd.arg(dump_dir);
            match run_tool(cmd, self.cfg.tool_timeout) {
                Err(PgError::ToolFailed { stderr, .. }) if only.is_none() => {
                    tracing::debug!(
                        "restore_table: tolerated errors in the scratch copy: {stderr}"
                    );
                    Ok(())
                }
                other => other.map(drop),
            }
        };
        restore("pre-data", None)?;

        let (s, t, ts, tt) = (
            quote_ident(schema),
            quote_ident(table),
            quote_ident(target_schema),
            quote_ident(target_table),
        );
        let mut c = self.connect(scratch)?;
        let rel = quote_literal(&format!("{s}.{t}"));
        if simple_rows(&mut c, scratch, &format!("SELECT to_regclass({rel})"))?
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .is_none()
        {
            return Err(PgError::Unexpected(format!(
                "table {schema}.{table} could not be recreated from the dump"
            )));
        }
        // Serial and identity sequences: their current values are data (`SEQUENCE SET`).
        let mut with_sequences = vec![table.to_owned()];
        with_sequences.extend(
            simple_rows(
                &mut c,
                scratch,
                &format!(
                    "SELECT c.relname FROM pg_depend d JOIN pg_class c ON c.oid = d.objid \
                     WHERE c.relkind = 'S' AND d.refobjid = {rel}::regclass AND d.deptype IN ('a', 'i')"
                ),
            )?
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten()),
        );
        restore("data", Some(&with_sequences))?;
        restore("post-data", None)?;

        let mut sql = String::from("BEGIN;");
        for r in simple_rows(
            &mut c,
            scratch,
            &format!(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid = {rel}::regclass"
            ),
        )? {
            if let Some(name) = r.into_iter().next().flatten() {
                sql.push_str(&format!(
                    "ALTER TABLE {s}.{t} DROP CONSTRAINT {};",
                    quote_ident(&name)
                ));
            }
        }
        if table != target_table {
            let owned = format!(
                "SELECT 'INDEX', c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                   WHERE i.indrelid = {rel}::regclass \
                 UNION ALL \
                 SELECT 'SEQUENCE', c.relname FROM pg_depend d JOIN pg_class c ON c.oid = d.objid \
                   WHERE c.relkind = 'S' AND d.refobjid = {rel}::regclass AND d.deptype IN ('a', 'i')"
            );
            for r in simple_rows(&mut c, scratch, &owned)? {
                let mut it = r.into_iter();
                let (Some(Some(kind)), Some(Some(name))) = (it.next(), it.next()) else {
                    continue;
                };
                let new = derived_name(&name, table, target_table);
                sql.push_str(&format!(
                    "ALTER {kind} {s}.{} RENAME TO {};",
                    quote_ident(&name),
                    quote_ident(&new)
                ));
            }
            sql.push_str(&format!("ALTER TABLE {s}.{t} RENAME TO {tt};"));
        }
        if schema != target_schema {
            sql.push_str(&format!(
                "CREATE SCHEMA IF NOT EXISTS {ts}; ALTER TABLE {s}.{tt} SET SCHEMA {ts};"
            ));
        }
        sql.push_str("COMMIT;");
        c.batch_execute(&sql)
            .map_err(|e| PgError::sql(scratch, e))?;
        drop(c);

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
        drop_stale_scratch(inst)?;
        let name = format!(
            "{SCRATCH_PREFIX}{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        inst.execute(
            "postgres",
            // From template0: the dump brings what the source got from template1, and a
            // copy of template1 could hold objects whose names collide with the table's.
            &format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(&name)),
        )?;
        Ok(ScratchDb { inst, name })
    }
}

/// Drops scratch databases of tidemark processes that died during a table restore.
fn drop_stale_scratch(inst: &Instance) -> Result<()> {
    for row in inst.query("postgres", "SELECT datname FROM pg_database")? {
        let Some(name) = row.into_iter().next().flatten() else {
            continue;
        };
        let Some(pid) = name
            .strip_prefix(SCRATCH_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if pid as u32 != std::process::id() && !crate::orphan::is_alive(pid) {
            inst.execute(
                "postgres",
                &format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote_ident(&name)
                ),
            )?;
        }
    }
    Ok(())
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

/// `orders_pkey` of table `orders` becomes `orders_back_pkey` for `orders_back`; other names
/// get the new table name as a prefix. At most 63 bytes, cut on a character boundary.
fn derived_name(name: &str, old_table: &str, new_table: &str) -> String {
    let mut n = match name.strip_prefix(old_table) {
        Some(rest) => format!("{new_table}{rest}"),
        None => format!("{new_table}_{name}"),
    };
    while n.len() > 63 {
        n.pop();
    }
    n
}

#[cfg(test)]
mod tests {
    use super::derived_name;

    #[test]
    fn derived_names() {
        assert_eq!(
            derived_name("orders_pkey", "orders", "orders_back"),
            "orders_back_pkey"
        );
        assert_eq!(derived_name("o_total", "orders", "b"), "b_o_total");
        let long = derived_name("t_pkey", "t", &"é".repeat(40));
        assert!(long.len() <= 63 && long.starts_with('é'));
    }
}
