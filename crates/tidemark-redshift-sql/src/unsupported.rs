//! Redshift-only statements the Endpoint refuses with SQLSTATE 0A000 (feature_not_supported).
//!
//! Each refusal names the construct, so that a user's test fails with a message saying what
//! tidemark does not do, rather than with a PostgreSQL syntax error about Redshift syntax.

use sqlparser::tokenizer::Token;

use crate::SqlError;
use crate::statement::Stmt;

pub(crate) fn check(s: &Stmt<'_>) -> Result<(), SqlError> {
    let first = |kw: &str| s.word_at(0, kw);
    if first("UNLOAD") {
        return Err(SqlError::unsupported(
            "UNLOAD",
            "; read the rows with SELECT or COPY … TO STDOUT",
        ));
    }
    if first("COPY") {
        return check_copy(s);
    }
    if first("CREATE") {
        // CREATE [OR REPLACE] EXTERNAL SCHEMA|TABLE|FUNCTION|VIEW, LIBRARY, MODEL, DATASHARE
        let mut i = 1;
        if s.word_at(1, "OR") && s.word_at(2, "REPLACE") {
            i = 3;
        }
        if s.word_at(i, "EXTERNAL") {
            let what = s.toks.get(i + 1).and_then(|t| t.bare_word()).unwrap_or("");
            return Err(SqlError::unsupported(
                &format!("CREATE EXTERNAL {}", what.to_ascii_uppercase()),
                " (no Redshift Spectrum)",
            ));
        }
        for kw in ["LIBRARY", "MODEL", "DATASHARE"] {
            if s.word_at(i, kw) {
                return Err(SqlError::unsupported(&format!("CREATE {kw}"), ""));
            }
        }
    }
    if first("ALTER") && s.word_at(1, "DATASHARE") {
        return Err(SqlError::unsupported("ALTER DATASHARE", ""));
    }
    if first("ALTER")
        && s.word_at(1, "TABLE")
        && (2..s.len()).any(|i| s.word_at(i, "APPEND") && s.word_at(i + 1, "FROM"))
    {
        return Err(SqlError::unsupported("ALTER TABLE … APPEND FROM", ""));
    }
    if first("VACUUM") {
        return check_vacuum(s);
    }
    if first("ANALYZE") && s.word_at(1, "COMPRESSION") {
        return Err(SqlError::unsupported("ANALYZE COMPRESSION", ""));
    }
    Ok(())
}

/// Redshift loads only from S3, EMR, DynamoDB or SSH; PostgreSQL's server-side files and
/// programs are not something a Redshift client may reach. `COPY … FROM STDIN` / `TO STDOUT`
/// pass (useful for tests, harmless).
fn check_copy(s: &Stmt<'_>) -> Result<(), SqlError> {
    for i in 1..s.len() {
        let dir = if s.word_at(i, "FROM") {
            "FROM"
        } else if s.word_at(i, "TO") {
            "TO"
        } else {
            continue;
        };
        if s.word_at(i + 1, "PROGRAM") {
            return Err(SqlError::unsupported(&format!("COPY … {dir} PROGRAM"), ""));
        }
        if let Some(Token::SingleQuotedString(src)) = s.toks.get(i + 1).map(|t| &t.token) {
            let scheme = src
                .split_once("://")
                .map_or("a server file", |(sch, _)| sch);
            let construct = if scheme == "a server file" {
                format!("COPY … {dir} {scheme}")
            } else {
                format!("COPY … {dir} '{scheme}://…'")
            };
            return Err(SqlError::unsupported(
                &construct,
                " yet; load with INSERT or COPY … FROM STDIN",
            ));
        }
    }
    Ok(())
}

/// PostgreSQL has VACUUM too; only Redshift's own options are refused.
fn check_vacuum(s: &Stmt<'_>) -> Result<(), SqlError> {
    for i in 1..s.len() {
        for kw in ["SORT", "DELETE", "REINDEX", "RECLUSTER", "BOOST"] {
            if s.word_at(i, kw) {
                return Err(SqlError::unsupported(&format!("VACUUM {kw}"), ""));
            }
        }
        if s.word_at(i, "TO") && s.word_at(i + 2, "PERCENT") {
            return Err(SqlError::unsupported("VACUUM … TO n PERCENT", ""));
        }
    }
    Ok(())
}
