//! The fast path: words that can start a Redshift-only construct.
//!
//! If no unquoted word of a text is one of these, the text needs no rewrite. The list errs on
//! the side of inclusion (`TEXT` or `VERSION` trigger a closer look that usually changes
//! nothing); that costs a few more microseconds, never a wrong answer.
//!
//! Two stages: [`may_need_rewrite`] scans the raw bytes (about a nanosecond per byte, no
//! allocation) and is conservative: it looks inside literals and comments too, so it can only
//! say "maybe" too often, never "no" wrongly. Only on "maybe" does sqlparser's tokenizer run,
//! and [`is_trigger`] then looks at real, unquoted words.

use crate::lexer::Tok;

const LONGEST: usize = 16;

/// False if no identifier-like run of `sql` is a trigger word: the text needs no rewrite.
///
/// Runs are split at every byte that cannot be part of an unquoted identifier (ASCII letters,
/// digits, `_`, and any non-ASCII byte continue a run), and leading digits are skipped, so that
/// every unquoted word sqlparser's tokenizer can produce is one of the runs checked.
pub(crate) fn may_need_rewrite(sql: &str) -> bool {
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'#' {
            // `#name`: a Redshift temporary table.
            return true;
        }
        if !is_ident_byte(b) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_ident_byte(bytes[i]) {
            i += 1;
        }
        let run = &bytes[start..i];
        let digits = run.iter().take_while(|c| c.is_ascii_digit()).count();
        if is_trigger_word(&run[digits..]) {
            return true;
        }
        // `WHERE 1 AND …`: Redshift takes an integer as a condition (sqlalchemy-redshift's
        // reflection queries rely on it). Any `WHERE` followed by `1` takes the closer look.
        if run.eq_ignore_ascii_case(b"WHERE") {
            let next = bytes[i..].iter().find(|b| !b.is_ascii_whitespace());
            if next == Some(&b'1') {
                return true;
            }
        }
    }
    false
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

pub(crate) fn is_trigger(tok: &Tok) -> bool {
    if tok.token == sqlparser::tokenizer::Token::Sharp {
        return true;
    }
    tok.bare_word()
        .is_some_and(|word| is_trigger_word(word.as_bytes()))
}

/// `WHERE 1` among the tokens (see `may_need_rewrite`).
pub(crate) fn has_where_one(toks: &[Tok]) -> bool {
    toks.windows(2).any(|w| {
        w[0].is_word("WHERE")
            && matches!(&w[1].token, sqlparser::tokenizer::Token::Number(n, _) if n == "1")
    })
}

fn is_trigger_word(bytes: &[u8]) -> bool {
    if bytes.len() < 3 || bytes.len() > LONGEST {
        return false;
    }
    let mut buf = [0u8; LONGEST];
    for (b, w) in buf.iter_mut().zip(bytes) {
        *b = w.to_ascii_uppercase();
    }
    matches!(
        &buf[..bytes.len()],
        // DDL clauses and types (`MAX` is not needed: `VARCHAR(MAX)` always comes with one
        // of the type words, and `max(x)` is common)
        b"DISTSTYLE" | b"DISTKEY" | b"SORTKEY" | b"ENCODE" | b"IDENTITY" | b"BACKUP"
            | b"SUPER" | b"NVARCHAR" | b"BPCHAR" | b"TEXT" | b"VARCHAR"
            | b"VARYING" | b"VARBYTE" | b"VARBINARY" | b"BINDING" | b"CASE_SENSITIVE"
            | b"CASE_INSENSITIVE"
            // functions and expression syntax
            | b"SYSDATE" | b"DATEADD" | b"DATEDIFF" | b"DATE_PART" | b"DATE_TRUNC"
            | b"EXTRACT" | b"TOP" | b"APPROXIMATE" | b"LISTAGG" | b"VERSION" | b"DECODE"
            | b"NVL" | b"NVL2" | b"CONVERT"
            // Redshift-only catalog columns (sqlalchemy-redshift's reflection)
            | b"ATTENCODINGTYPE" | b"ATTISDISTKEY" | b"ATTSORTKEYORD" | b"RELDISTSTYLE"
            | b"ADSRC"
            // catalog columns psql reads from servers older than PostgreSQL 12 (`\d`, `\df`)
            | b"RELHASOIDS" | b"PROISAGG" | b"PROISWINDOW"
            // system views the Endpoint prepares (its statement history)
            | b"STL_QUERY"
            // statements refused or reduced to no-ops
            | b"UNLOAD" | b"COPY" | b"EXTERNAL" | b"LIBRARY" | b"MODEL" | b"DATASHARE"
            | b"VACUUM" | b"COMPRESSION" | b"APPEND"
    )
}
