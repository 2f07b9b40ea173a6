//! Redshift's table attributes (DISTSTYLE, DISTKEY, SORTKEY, ENCODE) across a snapshot and
//! its restore. They live in `pg_catalog.redshift_table_attrs` (see compat.sql), keyed by
//! table OID: out of users' sight (no listing of schemas, tables or comments shows them, as
//! in Redshift), but also out of `pg_dump`'s, which skips `pg_catalog`. So a snapshot reads
//! them by schema and table name, through the snapshot's own exported PostgreSQL snapshot
//! (exactly as of the request, like the rows), into one file beside the dump, and a restore
//! files them again under the restored tables' new OIDs.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tidemark_postgres::{HeldSnapshot, Instance, quote_literal};

/// In a snapshot's dump: `{database: [table attributes…]}`. Snapshots taken before it
/// existed have no such file and restore without attributes, as they did.
pub const FILE: &str = "redshift-table-attrs.json";

/// One table's attributes, named as `redshift_table_attrs` holds them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(crate) struct TableAttrs {
    pub schema: String,
    pub table: String,
    pub diststyle: String,
    pub distkey: Option<String>,
    pub sortkey: Vec<String>,
    pub interleaved: bool,
    pub encodings: serde_json::Value,
}

type ByDatabase = BTreeMap<String, Vec<TableAttrs>>;

fn bad(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

/// The attributes of every table of each snapshot's database, as that snapshot sees them.
pub(crate) fn read(i: &Instance, snaps: &[HeldSnapshot]) -> Result<Vec<u8>, String> {
    let mut all = ByDatabase::new();
    for s in snaps {
        // Databases not made from the template (e.g. `postgres`) have no attributes table.
        let has = i
            .query(
                s.db(),
                "SELECT to_regclass('pg_catalog.redshift_table_attrs') IS NOT NULL",
            )
            .map_err(|e| bad("reading table attributes", e))?;
        if has.first().and_then(|r| r.first()).cloned().flatten() != Some("t".into()) {
            continue;
        }
        let rows = i
            .query(
                s.db(),
                &format!(
                    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
                     SET TRANSACTION SNAPSHOT {};
                     SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'schema', n.nspname, 'table', c.relname, 'diststyle', t.diststyle,
                       'distkey', t.distkey, 'sortkey', to_jsonb(t.sortkey),
                       'interleaved', t.interleaved, 'encodings', t.encodings)
                       ORDER BY n.nspname, c.relname), '[]')::text
                     FROM pg_catalog.redshift_table_attrs t
                     JOIN pg_catalog.pg_class c ON c.oid = t.relid
                     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.relpersistence <> 't';
                     COMMIT",
                    quote_literal(s.id())
                ),
            )
            .map_err(|e| bad("reading table attributes", e))?;
        let text = rows
            .first()
            .and_then(|r| r.first())
            .cloned()
            .flatten()
            .ok_or("reading table attributes: no result")?;
        let tables: Vec<TableAttrs> =
            serde_json::from_str(&text).map_err(|e| bad("reading table attributes", e))?;
        if !tables.is_empty() {
            all.insert(s.db().to_owned(), tables);
        }
    }
    serde_json::to_vec(&all).map_err(|e| bad("encoding table attributes", e))
}

/// Writes what [`read`] gave into the dump directory (made by then).
pub(crate) fn write(dump_dir: &Path, json: &[u8]) -> Result<(), String> {
    std::fs::write(dump_dir.join(FILE), json).map_err(|e| bad("writing table attributes", e))
}

/// The attributes in a staged dump, if it has any.
fn load(dump_dir: &Path) -> Result<ByDatabase, String> {
    match std::fs::read(dump_dir.join(FILE)) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map_err(|e| bad("the snapshot's table attributes", e))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ByDatabase::new()),
        Err(e) => Err(bad("reading the snapshot's table attributes", e)),
    }
}

/// After a whole-cluster restore: every database's tables get their attributes back.
pub(crate) fn apply_all(i: &Instance, dump_dir: &Path) -> Result<(), String> {
    for (db, tables) in load(dump_dir)? {
        apply(i, &db, &tables)?;
    }
    Ok(())
}

/// After RestoreTableFromClusterSnapshot: the restored table gets the source's attributes.
pub(crate) fn apply_renamed(
    i: &Instance,
    dump_dir: &Path,
    source: (&str, &str, &str),
    target: (&str, &str, &str),
) -> Result<(), String> {
    let (db, schema, table) = source;
    let found = load(dump_dir)?.remove(db).and_then(|ts| {
        ts.into_iter()
            .find(|t| t.schema == schema && t.table == table)
    });
    let Some(mut t) = found else {
        return Ok(());
    };
    t.schema = target.1.to_owned();
    t.table = target.2.to_owned();
    apply(i, target.0, &[t])
}

/// Files `tables` under the OIDs their names have in database `db` now (names that name no
/// table are skipped: nothing else to attach them to).
fn apply(i: &Instance, db: &str, tables: &[TableAttrs]) -> Result<(), String> {
    if tables.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_string(tables).map_err(|e| bad("encoding table attributes", e))?;
    i.execute(
        db,
        &format!(
            "INSERT INTO pg_catalog.redshift_table_attrs
               (relid, diststyle, distkey, sortkey, interleaved, encodings)
             SELECT c.oid, r.diststyle, r.distkey, r.sortkey, r.interleaved,
                    coalesce(r.encodings, '{{}}')
             FROM jsonb_to_recordset({}::jsonb) AS r(schema text, \"table\" text,
                    diststyle text, distkey name, sortkey name[], interleaved boolean,
                    encodings jsonb)
             JOIN pg_catalog.pg_namespace n ON n.nspname = r.schema
             JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = r.\"table\"
             ON CONFLICT (relid) DO UPDATE SET diststyle = EXCLUDED.diststyle,
               distkey = EXCLUDED.distkey, sortkey = EXCLUDED.sortkey,
               interleaved = EXCLUDED.interleaved, encodings = EXCLUDED.encodings",
            quote_literal(&json)
        ),
    )
    .map_err(|e| bad("restoring table attributes", e))
}
