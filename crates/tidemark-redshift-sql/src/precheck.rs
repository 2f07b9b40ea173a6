//! The fast path: words that can start a Redshift-only construct.
//!
//! If no unquoted word of a text is one of these, the text needs no rewrite. The list errs on
//! the side of inclusion (`TEXT` or `VERSION` trigger a closer look that usually changes
//! nothing); that costs a few more microseconds, never a wrong answer.

use crate::lexer::Tok;

const LONGEST: usize = 16;

pub(crate) fn is_trigger(tok: &Tok) -> bool {
    let Some(word) = tok.bare_word() else {
        return false;
    };
    let bytes = word.as_bytes();
    if bytes.len() < 3 || bytes.len() > LONGEST {
        return false;
    }
    let mut buf = [0u8; LONGEST];
    for (b, w) in buf.iter_mut().zip(bytes) {
        *b = w.to_ascii_uppercase();
    }
    matches!(
        &buf[..bytes.len()],
        // DDL clauses and types
        b"DISTSTYLE" | b"DISTKEY" | b"SORTKEY" | b"ENCODE" | b"IDENTITY" | b"BACKUP"
            | b"MAX" | b"SUPER" | b"NVARCHAR" | b"BPCHAR" | b"TEXT" | b"VARCHAR"
            | b"VARYING" | b"VARBYTE" | b"VARBINARY" | b"BINDING" | b"CASE_SENSITIVE"
            | b"CASE_INSENSITIVE"
            // functions and expression syntax
            | b"SYSDATE" | b"DATEADD" | b"DATEDIFF" | b"DATE_PART" | b"DATE_TRUNC"
            | b"EXTRACT" | b"TOP" | b"APPROXIMATE" | b"LISTAGG" | b"VERSION" | b"DECODE"
            | b"NVL" | b"NVL2"
            // statements refused or reduced to no-ops
            | b"UNLOAD" | b"COPY" | b"EXTERNAL" | b"LIBRARY" | b"MODEL" | b"DATASHARE"
            | b"VACUUM" | b"COMPRESSION" | b"APPEND"
    )
}
