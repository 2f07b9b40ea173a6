//! Select-list aliases referenced in `WHERE 1 AND …`, as sqlalchemy-redshift's reflection
//! queries write them (`… AS "table_name" … WHERE 1 AND table_name = 't'`).
//!
//! Redshift lets a WHERE clause name a select-list alias; PostgreSQL does not. Substituting
//! aliases in general would change the meaning of valid PostgreSQL (`SELECT upper(name) AS
//! name … WHERE name = 'x'` means the column there), so this pass only runs on statements
//! containing `WHERE 1 AND`, which PostgreSQL refuses anyway: no valid PostgreSQL statement
//! changes meaning. (sqlalchemy-redshift's UNIONs have it in some branches, alias references
//! in all.) It runs after the other expression edits so that the alias's expression is copied
//! as already rewritten.

use sqlparser::tokenizer::Token;

use crate::attrs::ident;
use crate::edits::Edits;
use crate::statement::Stmt;

/// Keywords that end a WHERE clause at its own level.
const CLAUSE_END: [&str; 7] = [
    "ORDER",
    "GROUP",
    "UNION",
    "LIMIT",
    "HAVING",
    "EXCEPT",
    "INTERSECT",
];

pub(crate) fn rewrite(s: &Stmt<'_>, e: &mut Edits) {
    let where_one_and = (0..s.len()).any(|w| {
        s.word_at(w, "WHERE")
            && matches!(s.toks.get(w + 1).map(|t| &t.token), Some(Token::Number(n, _)) if n == "1")
            && s.word_at(w + 2, "AND")
    });
    if !where_one_and {
        return;
    }
    for w in 0..s.len() {
        if s.word_at(w, "WHERE") {
            substitute(s, w, e);
        }
    }
}

fn substitute(s: &Stmt<'_>, where_at: usize, e: &mut Edits) {
    let Some((select, from)) = select_list(s, where_at) else {
        return;
    };
    let aliases = aliases(s, select + 1, from);
    if aliases.is_empty() {
        return;
    }
    let mut i = where_at + 1;
    while i < s.len() {
        if let Some(c) = s.close_of(i) {
            i = c + 1;
            continue;
        }
        if s.tok_is(i, &Token::RParen) || CLAUSE_END.iter().any(|kw| s.word_at(i, kw)) {
            return;
        }
        let qualified = (i > 0 && s.tok_is(i - 1, &Token::Period))
            || s.tok_is(i + 1, &Token::Period)
            || s.tok_is(i + 1, &Token::LParen);
        let alias = (!qualified && s.toks[i].bare_word().is_some())
            .then(|| ident(&s.toks[i]))
            .flatten()
            .and_then(|name| aliases.iter().find(|(n, _, _)| *n == name));
        if let Some((_, a, b)) = alias
            && let Some(expr) = e.render(s.sql, s.toks[*a].start, s.toks[*b - 1].end)
        {
            e.replace(s.toks[i].start, s.toks[i].end, format!("({expr})"));
        }
        i += 1;
    }
}

/// The `SELECT` whose WHERE is at `where_at`, and the `FROM` ending its select list.
fn select_list(s: &Stmt<'_>, where_at: usize) -> Option<(usize, usize)> {
    let mut from = None;
    let mut i = where_at;
    while i > 0 {
        i -= 1;
        if s.tok_is(i, &Token::RParen) {
            // Skip the parenthesised group backwards.
            i = s.parens.get(i).copied().filter(|&o| o != usize::MAX)?;
            continue;
        }
        if s.tok_is(i, &Token::LParen) {
            return None;
        }
        if s.word_at(i, "FROM") {
            from = Some(i);
        }
        if s.word_at(i, "SELECT") {
            return Some((i, from?));
        }
    }
    None
}

/// `(alias, first token, end token)` of each `expr AS alias` item between `a` and `b`.
fn aliases(s: &Stmt<'_>, a: usize, b: usize) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut start = a;
    let mut i = a;
    while i <= b {
        if let Some(c) = s.close_of(i).filter(|&c| c < b) {
            i = c + 1;
            continue;
        }
        if i == b || s.tok_is(i, &Token::Comma) {
            if i >= start + 3
                && s.word_at(i - 2, "AS")
                && let Some(name) = ident(&s.toks[i - 1])
            {
                out.push((name, start, i - 2));
            }
            start = i + 1;
        }
        i += 1;
    }
    out
}
