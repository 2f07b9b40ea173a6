//! One statement's tokens, with the structure the passes need: matching parentheses and
//! top-level argument lists.

use std::ops::Range;

use sqlparser::tokenizer::Token;

use crate::lexer::{Tok, match_parens};

/// Splits a token list at top-level semicolons; each range excludes its `;`.
pub(crate) fn split(toks: &[Tok]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::SemiColon if depth == 0 => {
                if start < i {
                    out.push(start..i);
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < toks.len() {
        out.push(start..toks.len());
    }
    out
}

pub(crate) struct Stmt<'a> {
    pub sql: &'a str,
    pub toks: &'a [Tok],
    /// For each `(` the index of its `)` and vice versa; `usize::MAX` for other tokens.
    pub parens: Vec<usize>,
    /// For each token, the index of the innermost `(` around it; `usize::MAX` at top level.
    enclosing: Vec<usize>,
}

impl<'a> Stmt<'a> {
    /// `None` if the statement's parentheses do not balance.
    pub fn new(sql: &'a str, toks: &'a [Tok]) -> Option<Self> {
        let parens = match_parens(toks)?;
        let mut enclosing = Vec::with_capacity(toks.len());
        let mut stack = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            if t.token == Token::RParen {
                stack.pop();
            }
            enclosing.push(stack.last().copied().unwrap_or(usize::MAX));
            if t.token == Token::LParen {
                stack.push(i);
            }
        }
        Some(Stmt {
            sql,
            toks,
            parens,
            enclosing,
        })
    }

    /// The innermost `(` around token `i`, if any.
    pub fn enclosing_open(&self, i: usize) -> Option<usize> {
        self.enclosing.get(i).copied().filter(|&o| o != usize::MAX)
    }

    pub fn len(&self) -> usize {
        self.toks.len()
    }

    pub fn word_at(&self, i: usize, kw: &str) -> bool {
        self.toks.get(i).is_some_and(|t| t.is_word(kw))
    }

    pub fn tok_is(&self, i: usize, t: &Token) -> bool {
        self.toks.get(i).is_some_and(|x| x.is(t))
    }

    /// If token `i` is `(`, the index of its `)`.
    pub fn close_of(&self, i: usize) -> Option<usize> {
        if self.tok_is(i, &Token::LParen) {
            self.parens.get(i).copied().filter(|&c| c != usize::MAX)
        } else {
            None
        }
    }

    /// The original text of tokens `a..b` (`b` exclusive, `a < b`), comments included.
    pub fn text(&self, a: usize, b: usize) -> &'a str {
        match (
            self.toks.get(a),
            b.checked_sub(1).and_then(|l| self.toks.get(l)),
        ) {
            (Some(first), Some(last)) if a < b => self.sql.get(first.start..last.end).unwrap_or(""),
            _ => "",
        }
    }

    /// The top-level, comma-separated arguments between the `(` at `open` and its `)`, as token
    /// index ranges, and the indices of the separating commas. Empty for `()`.
    pub fn args(&self, open: usize) -> Option<(Vec<Range<usize>>, Vec<usize>)> {
        let close = self.close_of(open)?;
        let mut args = Vec::new();
        let mut commas = Vec::new();
        let mut start = open + 1;
        let mut i = open + 1;
        while i < close {
            if let Some(c) = self.close_of(i) {
                i = c + 1;
                continue;
            }
            if self.tok_is(i, &Token::Comma) {
                args.push(start..i);
                commas.push(i);
                start = i + 1;
            }
            i += 1;
        }
        if start < close || !commas.is_empty() {
            args.push(start..close);
        }
        Some((args, commas))
    }

    /// Index just past the end of the query level that contains token `i`: the `)` closing the
    /// innermost parenthesis around `i`, or the statement's end.
    pub fn level_end(&self, i: usize) -> usize {
        let mut j = i;
        while j < self.len() {
            if let Some(c) = self.close_of(j) {
                j = c + 1;
                continue;
            }
            if self.tok_is(j, &Token::RParen) {
                return j;
            }
            j += 1;
        }
        self.len()
    }

    /// End of token `i` plus the blanks after it, if only blanks separate it from the next
    /// token (a replacement then carries its own spacing; comments are never swallowed).
    pub fn through_space(&self, i: usize) -> usize {
        let end = self.toks[i].end;
        match self.toks.get(i + 1) {
            Some(next)
                if self
                    .sql
                    .get(end..next.start)
                    .is_some_and(|g| g.trim().is_empty()) =>
            {
                next.start
            }
            _ => end,
        }
    }

    /// If token `i` starts a Redshift `#name` (a session's temporary table): the name.
    pub fn sharp_name(&self, i: usize) -> Option<&'a str> {
        let (sharp, word) = (self.toks.get(i)?, self.toks.get(i + 1)?);
        if sharp.token != Token::Sharp || sharp.end != word.start {
            return None;
        }
        // After an operand, `#` is PostgreSQL's XOR (`a#b`), not a name.
        if let Some(prev) = i.checked_sub(1).and_then(|p| self.toks.get(p)) {
            let operand = match &prev.token {
                Token::Word(w) => w.keyword == sqlparser::keywords::Keyword::NoKeyword,
                Token::Number(..) | Token::RParen | Token::SingleQuotedString(_) => true,
                _ => false,
            };
            if operand {
                return None;
            }
        }
        word.bare_word()
    }

    /// Index of the next comma at the nesting level of token `i` (or the level's end).
    pub fn next_top_comma(&self, i: usize) -> usize {
        let mut j = i;
        while j < self.len() {
            if let Some(c) = self.close_of(j) {
                j = c + 1;
                continue;
            }
            if self.tok_is(j, &Token::RParen) || self.tok_is(j, &Token::Comma) {
                return j;
            }
            j += 1;
        }
        self.len()
    }
}
