//! Redshift SQL on PostgreSQL 15: a rewriter for Redshift-only syntax and the compatibility SQL
//! (functions, aggregates, system views) installed once in each cluster's template database.
//!
//! [`rewrite`] is called by the Endpoint's proxy on every query text. The common case (nothing
//! Redshift-only) is decided by a byte scan, or failing that by sqlparser's tokens, and answers
//! `Ok(None)`: the text goes to PostgreSQL byte for byte. Otherwise only the tokens that need it
//! are replaced; every other byte of the statement (comments, spacing, literals) stays as sent.
//! See docs/redshift-sql.md.

mod aliases;
mod attrs;
mod datepart;
mod ddl;
mod edits;
mod exprs;
mod lexer;
mod precheck;
mod statement;
mod unsupported;

use edits::Edits;

/// SQL run once, as a superuser, in the template database (template1) of every cluster.
///
/// Functions, aggregates and views are created in `pg_catalog` (see the file's header for why);
/// it is not idempotent and expects a fresh `initdb`.
pub const COMPAT_SQL: &str = include_str!("compat.sql");

/// What `version()` answers through the Endpoint (the text AWS documents, with our build number).
pub const REDSHIFT_VERSION: &str = "PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 (Red Hat 3.4.2-6.fc3), Redshift 1.0.77467";

/// Texts longer than this are passed through without inspection: the proxy bounds messages
/// anyway, and a statement this large is data (bulk INSERT), not Redshift DDL.
pub const MAX_REWRITE_BYTES: usize = 4 << 20;

/// A statement the Endpoint refuses, to be sent to the client as a PostgreSQL ErrorResponse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (SQLSTATE {sqlstate})")]
pub struct SqlError {
    /// Five-character SQLSTATE, e.g. `0A000` (feature_not_supported).
    pub sqlstate: &'static str,
    /// Human-readable message naming the construct.
    pub message: String,
}

impl SqlError {
    pub(crate) fn unsupported(construct: &str, hint: &str) -> Self {
        SqlError {
            sqlstate: "0A000",
            message: format!("{construct} is not supported by tidemark's Redshift endpoint{hint}"),
        }
    }
}

/// Rewrites Redshift-only SQL into PostgreSQL 15 SQL.
///
/// `Ok(None)`: pass the text through unchanged (the common case). `Ok(Some(text))`: send `text`
/// instead; statements of a multi-statement text that need nothing are kept byte for byte.
/// `Err`: answer the client with the error instead of running anything.
///
/// Never panics; the work is linear in the text's length (a byte scan for trigger words; only
/// if one is found, one tokenizer pass, one parenthesis-matching pass, then passes that only
/// look at tokens near the ones they edit).
pub fn rewrite(sql: &str) -> Result<Option<String>, SqlError> {
    rewrite_seeing(sql, &mut Seen::default())
}

/// What [`rewrite_seeing`] noticed in a text, for the caller to prepare before it runs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Seen {
    /// An unquoted `STL_QUERY` (the Endpoint writes its statement history for the view).
    pub stl_query: bool,
}

/// [`rewrite`], also telling what in the text the caller must prepare for (found on the way,
/// at no cost to texts without a trigger word).
pub fn rewrite_seeing(sql: &str, seen: &mut Seen) -> Result<Option<String>, SqlError> {
    if sql.len() > MAX_REWRITE_BYTES || !precheck::may_need_rewrite(sql) {
        return Ok(None);
    }
    // Text that sqlparser's tokenizer cannot read is left for PostgreSQL to judge.
    let Some(toks) = lexer::tokenize(sql) else {
        return Ok(None);
    };
    seen.stl_query |= toks.iter().any(|t| t.is_word("STL_QUERY"));
    if !toks.iter().any(precheck::is_trigger) && !precheck::has_where_one(&toks) {
        return Ok(None);
    }
    let mut edits = Edits::new(sql.len());
    for range in statement::split(&toks) {
        let Some(stmt) = statement::Stmt::new(sql, &toks[range]) else {
            continue; // unbalanced parentheses: PostgreSQL reports the syntax error
        };
        unsupported::check(&stmt)?;
        ddl::rewrite(&stmt, &mut edits)?;
        exprs::rewrite(&stmt, &mut edits)?;
        aliases::rewrite(&stmt, &mut edits);
    }
    Ok(edits.apply(sql))
}

#[cfg(test)]
mod tests;
