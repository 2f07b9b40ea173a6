//! ListDatabases, ListSchemas, ListTables and DescribeTable: read the cluster's real catalog
//! over a short-lived login as the caller's `DbUser` (or secret user), with `%`/`_` patterns
//! (SQL LIKE) and paging. AWS answers these synchronously, so each reads one page in SQL
//! (`LIMIT`/`OFFSET`, never the whole catalog) under a statement timeout.

use tidemark_model::RequestContext;
use tidemark_model::redshift_data::*;

use crate::Inner;
use crate::auth::{self, Given};
use crate::backend::SqlSession;
use crate::columns::{Origin, column};
use crate::error::DataError;
use crate::params::quote_literal;
use crate::results::metadata;

/// Rows a page holds when MaxResults is absent or 0 (the model's largest MaxResults).
pub const PAGE: u32 = 1000;
/// How long one catalog read may take before it is a `QueryTimeoutException`.
pub const STATEMENT_TIMEOUT_MS: u32 = 30_000;
/// PostgreSQL's SQLSTATE for a statement cancelled by `statement_timeout`.
const QUERY_CANCELED: &str = "57014";
/// Schemas PostgreSQL keeps for itself: TOAST storage and other sessions' temporary tables,
/// which no login of the Data API can see into.
const HIDDEN_SCHEMAS: &str =
    "n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

fn invalid(m: impl Into<String>) -> DataError {
    DataError::Validation(m.into())
}

/// Logs in for a catalog read. The catalog read is `database`'s (PostgreSQL reads only the
/// catalog of the database it is connected to); a `connected` database that differs is
/// logged in to first, so a login that could not reach it fails as it would in Redshift.
fn login(
    inner: &Inner,
    ctx: &RequestContext,
    g: &Given<'_>,
    database: Option<&str>,
    connected: Option<&str>,
) -> Result<Box<dyn SqlSession>, DataError> {
    let database = database.ok_or_else(|| invalid("Database must be specified"))?;
    let target = auth::target(inner, ctx, g, database)?;
    if let Some(c) = connected.filter(|c| *c != database) {
        let mut there = target.clone();
        there.database = c.to_owned();
        inner
            .backend
            .connect(&there)
            .map_err(|e| DataError::Connection(e.to_string()))?;
    }
    let mut conn = inner
        .backend
        .connect(&target)
        .map_err(|e| DataError::Connection(e.to_string()))?;
    conn.run(&format!("SET statement_timeout = {STATEMENT_TIMEOUT_MS}"))
        .map_err(|e| DataError::Connection(e.message))?;
    Ok(conn)
}

/// Where a page starts and how many rows it holds, from `NextToken` and `MaxResults`. The
/// token names the operation, so one operation's token is refused by another.
struct Page {
    op: &'static str,
    offset: u64,
    size: u32,
}

impl Page {
    fn new(op: &'static str, max: Option<i32>, token: Option<&String>) -> Result<Self, DataError> {
        let size = match max {
            None | Some(0) => PAGE,
            Some(n) if (1..=1000).contains(&n) => n.unsigned_abs(),
            Some(n) => {
                return Err(invalid(format!(
                    "MaxResults must be between 0 and 1000, got {n}"
                )));
            }
        };
        let offset = match token {
            None => 0,
            Some(t) => t
                .strip_prefix(op)
                .and_then(|t| t.strip_prefix('/'))
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or_else(|| invalid("Invalid NextToken"))?,
        };
        Ok(Page { op, offset, size })
    }

    /// The SQL that reads one row beyond the page, to learn whether another page follows.
    fn clause(&self) -> String {
        format!("LIMIT {} OFFSET {}", u64::from(self.size) + 1, self.offset)
    }

    /// Trims the extra row and gives the next page's token when it was there.
    fn finish<T>(&self, mut rows: Vec<T>) -> (Vec<T>, Option<String>) {
        let size = self.size as usize;
        if rows.len() > size {
            rows.truncate(size);
            let next = self.offset + u64::from(self.size);
            (rows, Some(format!("{}/{next}", self.op)))
        } else {
            (rows, None)
        }
    }
}

/// Runs a catalog read; NULLs read as empty strings.
fn rows(conn: &mut dyn SqlSession, sql: &str) -> Result<Vec<Vec<String>>, DataError> {
    let out = conn.run(sql).map_err(|e| {
        if e.sqlstate == QUERY_CANCELED {
            DataError::QueryTimeout(format!(
                "The catalog read took longer than {} seconds",
                STATEMENT_TIMEOUT_MS / 1000
            ))
        } else {
            DataError::Connection(e.message)
        }
    })?;
    Ok(out
        .rows
        .into_iter()
        .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
        .collect())
}

/// A LIKE pattern as a literal; absent matches everything.
fn like(pattern: Option<&String>) -> String {
    quote_literal(pattern.map_or("%", String::as_str))
}

pub fn databases(
    inner: &Inner,
    ctx: &RequestContext,
    i: ListDatabasesRequest,
) -> Result<ListDatabasesResponse, DataError> {
    let page = Page::new("databases", i.max_results, i.next_token.as_ref())?;
    let given = Given {
        cluster: i.cluster_identifier.as_deref(),
        workgroup: i.workgroup_name.as_deref(),
        db_user: i.db_user.as_deref(),
        secret_arn: i.secret_arn.as_deref(),
    };
    let mut conn = login(inner, ctx, &given, i.database.as_deref(), None)?;
    // PostgreSQL's maintenance database and the scratch databases of table restores are
    // tidemark's, not the cluster's.
    let found = rows(
        conn.as_mut(),
        &format!(
            "SELECT datname::text FROM pg_catalog.pg_database WHERE NOT datistemplate \
             AND datname <> 'postgres' AND datname NOT LIKE 'tidemark\\_scratch\\_%' \
             ORDER BY datname {}",
            page.clause()
        ),
    )?;
    let (names, next) = page.finish(found.into_iter().filter_map(first).collect());
    Ok(ListDatabasesResponse {
        databases: Some(names),
        next_token: next,
    })
}

fn first(row: Vec<String>) -> Option<String> {
    row.into_iter().next()
}

pub fn schemas(
    inner: &Inner,
    ctx: &RequestContext,
    i: ListSchemasRequest,
) -> Result<ListSchemasResponse, DataError> {
    let page = Page::new("schemas", i.max_results, i.next_token.as_ref())?;
    let given = Given {
        cluster: i.cluster_identifier.as_deref(),
        workgroup: i.workgroup_name.as_deref(),
        db_user: i.db_user.as_deref(),
        secret_arn: i.secret_arn.as_deref(),
    };
    let mut conn = login(
        inner,
        ctx,
        &given,
        i.database.as_deref(),
        i.connected_database.as_deref(),
    )?;
    let found = rows(
        conn.as_mut(),
        &format!(
            "SELECT n.nspname::text FROM pg_catalog.pg_namespace n WHERE n.nspname LIKE {} \
             AND {HIDDEN_SCHEMAS} ORDER BY n.nspname {}",
            like(i.schema_pattern.as_ref()),
            page.clause()
        ),
    )?;
    let (names, next) = page.finish(found.into_iter().filter_map(first).collect());
    Ok(ListSchemasResponse {
        schemas: Some(names),
        next_token: next,
    })
}

pub fn tables(
    inner: &Inner,
    ctx: &RequestContext,
    i: ListTablesRequest,
) -> Result<ListTablesResponse, DataError> {
    let page = Page::new("tables", i.max_results, i.next_token.as_ref())?;
    let given = Given {
        cluster: i.cluster_identifier.as_deref(),
        workgroup: i.workgroup_name.as_deref(),
        db_user: i.db_user.as_deref(),
        secret_arn: i.secret_arn.as_deref(),
    };
    let mut conn = login(
        inner,
        ctx,
        &given,
        i.database.as_deref(),
        i.connected_database.as_deref(),
    )?;
    // Types as Redshift's driver names them: the system schemas' relations are SYSTEM TABLE
    // or SYSTEM VIEW; a materialized view is a VIEW; partitioned tables are TABLEs.
    let found = rows(
        conn.as_mut(),
        &format!(
            "SELECT c.relname::text, n.nspname::text, \
               CASE WHEN n.nspname IN ('pg_catalog', 'information_schema') THEN \
                      CASE WHEN c.relkind = 'v' THEN 'SYSTEM VIEW' ELSE 'SYSTEM TABLE' END \
                    WHEN c.relkind IN ('v', 'm') THEN 'VIEW' ELSE 'TABLE' END \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p', 'v', 'm') AND n.nspname LIKE {} AND c.relname LIKE {} \
               AND {HIDDEN_SCHEMAS} \
             ORDER BY n.nspname, c.relname {}",
            like(i.schema_pattern.as_ref()),
            like(i.table_pattern.as_ref()),
            page.clause()
        ),
    )?;
    let tables = found
        .into_iter()
        .map(|r| {
            let mut it = r.into_iter();
            let (name, schema, kind) = (it.next(), it.next(), it.next());
            TableMember {
                name,
                schema,
                r#type: kind,
            }
        })
        .collect();
    let (tables, next) = page.finish(tables);
    Ok(ListTablesResponse {
        tables: Some(tables),
        next_token: next,
    })
}

/// The columns of `Schema`.`Table` (exact names), in table order. Without `Schema`, the
/// columns of every schema's table of that name; without `Table`, of every table, as AWS
/// documents. An unknown table has no columns.
pub fn describe(
    inner: &Inner,
    ctx: &RequestContext,
    i: DescribeTableRequest,
) -> Result<DescribeTableResponse, DataError> {
    let page = Page::new("columns", i.max_results, i.next_token.as_ref())?;
    let given = Given {
        cluster: i.cluster_identifier.as_deref(),
        workgroup: i.workgroup_name.as_deref(),
        db_user: i.db_user.as_deref(),
        secret_arn: i.secret_arn.as_deref(),
    };
    let mut conn = login(
        inner,
        ctx,
        &given,
        i.database.as_deref(),
        i.connected_database.as_deref(),
    )?;
    let mut filter = String::new();
    if let Some(s) = &i.schema {
        filter.push_str(&format!(" AND n.nspname = {}", quote_literal(s)));
    }
    if let Some(t) = &i.table {
        filter.push_str(&format!(" AND c.relname = {}", quote_literal(t)));
    }
    let found = rows(
        conn.as_mut(),
        &format!(
            "SELECT a.attname::text, a.atttypid::int8::text, t.typname::text, a.atttypmod::text, \
                    a.attnotnull::text, n.nspname::text, c.relname::text, \
                    pg_catalog.pg_get_expr(d.adbin, d.adrelid) \
             FROM pg_catalog.pg_attribute a \
             JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm') \
               AND {HIDDEN_SCHEMAS}{filter} \
             ORDER BY n.nspname, c.relname, a.attnum {}",
            page.clause()
        ),
    )?;
    let columns: Vec<_> = found
        .into_iter()
        .map(|r| {
            let [
                name,
                oid,
                type_name,
                typmod,
                not_null,
                schema,
                table,
                default,
            ] = <[String; 8]>::try_from(r).unwrap_or_default();
            let origin = Origin {
                typmod: typmod.parse().unwrap_or(-1),
                not_null: not_null == "true" || not_null == "t",
                schema,
                table,
                // pg_get_expr is NULL (read as empty) when the column has no default.
                default: (!default.is_empty()).then_some(default),
            };
            column(&name, oid.parse().unwrap_or(0), &type_name, Some(&origin))
        })
        .collect();
    let (columns, next) = page.finish(columns);
    Ok(DescribeTableResponse {
        table_name: i.table,
        column_list: Some(columns.iter().map(metadata).collect()),
        next_token: next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_carry_their_operation_and_offset() {
        let p = Page::new("tables", Some(2), None).unwrap();
        assert_eq!(p.clause(), "LIMIT 3 OFFSET 0");
        let (rows, next) = p.finish(vec![1, 2, 3]);
        assert_eq!((rows, next.as_deref()), (vec![1, 2], Some("tables/2")));
        let token = "tables/2".to_owned();
        let p = Page::new("tables", Some(2), Some(&token)).unwrap();
        assert_eq!(p.clause(), "LIMIT 3 OFFSET 2");
        assert_eq!(p.finish(vec![3]), (vec![3], None));
        // Another operation's token, or a forged one, is refused.
        assert!(Page::new("schemas", None, Some(&token)).is_err());
        assert!(Page::new("tables", None, Some(&"tables/x".to_owned())).is_err());
        assert!(Page::new("tables", Some(1001), None).is_err());
        assert!(Page::new("tables", Some(-1), None).is_err());
        assert_eq!(Page::new("tables", Some(0), None).unwrap().size, PAGE);
    }
}
