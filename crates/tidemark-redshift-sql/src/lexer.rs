//! sqlparser's tokenizer with byte spans, so that edits splice the original text.
//!
//! sqlparser reports token positions as (line, column) in characters; the rewriter needs byte
//! offsets to keep every untouched byte as the client sent it. Tokens are visited in order, so
//! one forward-moving cursor converts all positions in O(n).

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Location, Token, Tokenizer, Word};

/// A significant (non-whitespace, non-comment) token and the bytes it covers in the input.
#[derive(Debug, Clone)]
pub(crate) struct Tok {
    pub token: Token,
    pub start: usize,
    pub end: usize,
}

impl Tok {
    /// The word's value, uppercased, if the token is an unquoted word.
    pub fn bare_word(&self) -> Option<&str> {
        match &self.token {
            Token::Word(Word {
                value,
                quote_style: None,
                ..
            }) => Some(value.as_str()),
            _ => None,
        }
    }

    /// True if this is the unquoted word `kw` (ASCII case-insensitive).
    pub fn is_word(&self, kw: &str) -> bool {
        self.bare_word().is_some_and(|w| w.eq_ignore_ascii_case(kw))
    }

    pub fn is(&self, t: &Token) -> bool {
        &self.token == t
    }
}

/// Tokenizes `sql` as PostgreSQL lexes it (dollar quotes, `E''` strings, nested comments) and
/// returns the significant tokens with byte spans. `None` if the tokenizer rejects the text or a
/// position cannot be mapped: the caller then passes the text through for PostgreSQL to judge.
pub(crate) fn tokenize(sql: &str) -> Option<Vec<Tok>> {
    let dialect = PostgreSqlDialect {};
    let raw = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .ok()?;
    let mut cursor = Cursor::new(sql);
    let mut starts = Vec::with_capacity(raw.len());
    for t in &raw {
        starts.push(cursor.byte_at(t.span.start)?);
    }
    let mut out = Vec::with_capacity(raw.len());
    for (i, t) in raw.into_iter().enumerate() {
        if matches!(t.token, Token::Whitespace(_) | Token::EOF) {
            continue;
        }
        let start = starts[i];
        let end = starts.get(i + 1).copied().unwrap_or(sql.len());
        // Guard against any disagreement between our byte mapping and the tokenizer: an
        // unquoted word must cover exactly its own text, otherwise give up (pass through).
        if let Token::Word(Word {
            value,
            quote_style: None,
            ..
        }) = &t.token
        {
            let text = sql.get(start..end)?.trim_end();
            if !text.eq_ignore_ascii_case(value) {
                return None;
            }
        }
        out.push(Tok {
            token: t.token,
            start,
            end: trimmed_end(sql, start, end),
        });
    }
    Some(out)
}

/// A token's span runs to the next token's start; trailing whitespace is not part of it.
fn trimmed_end(sql: &str, start: usize, end: usize) -> usize {
    match sql.get(start..end) {
        Some(s) => start + s.trim_end().len(),
        None => end,
    }
}

/// Converts (line, column) positions, visited in non-decreasing order, to byte offsets.
struct Cursor<'a> {
    sql: &'a str,
    line: u64,
    col: u64,
    byte: usize,
}

impl<'a> Cursor<'a> {
    fn new(sql: &'a str) -> Self {
        Cursor {
            sql,
            line: 1,
            col: 1,
            byte: 0,
        }
    }

    fn byte_at(&mut self, loc: Location) -> Option<usize> {
        if (loc.line, loc.column) < (self.line, self.col) {
            return None;
        }
        while (self.line, self.col) < (loc.line, loc.column) {
            let c = self.sql.get(self.byte..)?.chars().next()?;
            self.byte += c.len_utf8();
            if c == '\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
        }
        Some(self.byte)
    }
}

/// Index of the matching `)` for every `(` (and `usize::MAX` elsewhere); `None` if the
/// parentheses do not balance, in which case PostgreSQL will report the syntax error.
pub(crate) fn match_parens(toks: &[Tok]) -> Option<Vec<usize>> {
    let mut matches = vec![usize::MAX; toks.len()];
    let mut stack = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match t.token {
            Token::LParen => stack.push(i),
            Token::RParen => {
                let open = stack.pop()?;
                matches[open] = i;
                matches[i] = open;
            }
            _ => {}
        }
    }
    stack.is_empty().then_some(matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_byte_exact_with_multibyte_text_and_newlines() {
        let sql = "SELECT 'héllo',\n  \"ü\" /* ö */ FROM tä\r\nWHERE x = $1;";
        let toks = tokenize(sql).expect("tokenizes");
        let texts: Vec<&str> = toks.iter().map(|t| &sql[t.start..t.end]).collect();
        assert_eq!(
            texts,
            [
                "SELECT", "'héllo'", ",", "\"ü\"", "FROM", "tä", "WHERE", "x", "=", "$1", ";"
            ]
        );
    }

    #[test]
    fn dollar_quotes_and_nested_comments_are_single_tokens() {
        let sql = "SELECT $f$ a; ( $f$, /* a /* b */ ; */ 1";
        let toks = tokenize(sql).expect("tokenizes");
        let texts: Vec<&str> = toks.iter().map(|t| &sql[t.start..t.end]).collect();
        assert_eq!(texts, ["SELECT", "$f$ a; ( $f$", ",", "1"]);
    }

    #[test]
    fn unbalanced_parentheses_are_reported() {
        let toks = tokenize("SELECT (1").expect("tokenizes");
        assert!(match_parens(&toks).is_none());
        let toks = tokenize("SELECT (1))").expect("tokenizes");
        assert!(match_parens(&toks).is_none());
    }
}
