//! Recursive-descent parser core shared by all expression kinds: token cursor, syntax errors in
//! DynamoDB's `token/near` format, document paths, operands and function calls, and DynamoDB's
//! error precedence (a syntax error anywhere wins; otherwise semantic errors are reported by
//! category in the order DynamoDB uses, as reconstructed by dynalite's grammars).
//!
//! Hand-written rather than a parser crate: the grammar is small, and DynamoDB's error texts
//! need exact control over which token is "bad" and what is "near" it.

use super::ast::{Path, PathElem};
use super::context::ExpressionContext;
use super::error::{Detail, ExprError, ExprKind};
use super::lexer::{Tok, Token, tokenize};
use super::reserved::is_reserved;
use crate::attr::{AttrType, AttributeValue};

/// Longest expression DynamoDB accepts, in UTF-8 bytes (Developer Guide, expression limits).
pub(crate) const MAX_EXPRESSION_BYTES: usize = 4096;

/// Most operators and functions in one expression (Developer Guide, expression limits).
pub(crate) const MAX_OPERATORS: usize = 300;

/// Deepest nesting of parentheses, NOTs and function calls the parser recurses into. A paren
/// level costs ~12.6 KiB of stack in a debug build (measured: 100 levels used 1.26 MiB), and
/// the server's release build aborted at 449 levels on its 2 MiB tokio workers (so at most
/// ~4.6 KiB a level). 64 levels use at most ~0.8 MiB in debug and ~0.3 MiB in release: far from
/// any 2 MiB thread stack. DynamoDB documents no nesting limit; 64 levels is far beyond any
/// expression written by hand or by a mapper, and a deeper one is refused, never a crash.
pub(crate) const MAX_NESTING: usize = 64;

/// Most steps in a document path: items nest 32 levels, so a longer path reaches nothing.
pub(crate) const MAX_PATH_STEPS: usize = 32;

/// Categories of semantic errors; the first error of each category is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cat {
    Parens,
    UnknownFunction,
    MisusedFunction,
    Reserved,
    Section,
    Name,
    Value,
    Overlap,
    Conflict,
    Operand,
    Distinct,
    Function,
}

const CATS: usize = 12;

/// Which category wins when several are present, per expression kind (dynalite `checkErrors`).
fn precedence(kind: ExprKind) -> &'static [Cat] {
    use Cat::*;
    match kind {
        ExprKind::Condition | ExprKind::Filter | ExprKind::KeyCondition => &[
            Parens,
            UnknownFunction,
            MisusedFunction,
            Reserved,
            Name,
            Value,
            Operand,
            Distinct,
            Function,
        ],
        ExprKind::Update => &[
            Reserved,
            UnknownFunction,
            MisusedFunction,
            Section,
            Name,
            Value,
            Overlap,
            Conflict,
            Operand,
            Function,
        ],
        ExprKind::Projection => &[Reserved, Name, Overlap, Conflict],
    }
}

/// A parsed operand before it is checked against the functions its context allows.
#[derive(Debug, Clone)]
pub(crate) enum PExpr {
    Path(Path),
    /// `None` when the placeholder was undefined (already reported).
    Value(Option<AttributeValue>),
    Call {
        name: String,
        args: Vec<PExpr>,
    },
}

impl PExpr {
    /// The type DynamoDB can tell before evaluation: literal values, and `size` (a number).
    pub(crate) fn known_type(&self) -> Option<AttrType> {
        match self {
            PExpr::Value(Some(v)) => Some(v.attr_type()),
            PExpr::Call { name, .. } if name == "size" => Some(AttrType::N),
            _ => None,
        }
    }
}

pub(crate) struct Parser<'s, 'c, 'a> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    pub(crate) kind: ExprKind,
    pub(crate) ctx: &'c mut ExpressionContext<'a>,
    deferred: [Option<Detail>; CATS],
    /// Operators and functions parsed so far (see `MAX_OPERATORS`).
    operators: usize,
    /// Current nesting of parentheses, NOTs and function calls (see `MAX_NESTING`).
    depth: usize,
    /// Words that are operators in this kind of expression and so can never be operands.
    keywords: &'static [&'static str],
}

/// Saved parser position for backtracking.
pub(crate) struct Mark {
    pos: usize,
    deferred: [Option<Detail>; CATS],
    operators: usize,
}

impl<'s, 'c, 'a> Parser<'s, 'c, 'a> {
    /// Starts parsing; an empty expression is rejected at once.
    pub(crate) fn new(
        src: &'s str,
        kind: ExprKind,
        ctx: &'c mut ExpressionContext<'a>,
    ) -> Result<Self, ExprError> {
        if src.trim().is_empty() {
            return Err(ExprError::invalid(kind, Detail::Empty));
        }
        if src.len() > MAX_EXPRESSION_BYTES {
            return Err(ExprError::invalid(kind, Detail::TooLarge(src.len())));
        }
        let keywords: &'static [&'static str] = match kind {
            ExprKind::Update => &["SET", "REMOVE", "ADD", "DELETE"],
            ExprKind::Projection => &[],
            _ => &["AND", "OR", "NOT", "BETWEEN", "IN"],
        };
        Ok(Parser {
            src,
            toks: tokenize(src),
            pos: 0,
            kind,
            ctx,
            deferred: Default::default(),
            operators: 0,
            depth: 0,
            keywords,
        })
    }

    pub(crate) fn cur(&self) -> Token {
        self.toks[self.pos.min(self.toks.len() - 1)]
    }

    pub(crate) fn peek(&self, n: usize) -> Token {
        self.toks[(self.pos + n).min(self.toks.len() - 1)]
    }

    pub(crate) fn text(&self, t: Token) -> &'s str {
        &self.src[t.start..t.end]
    }

    pub(crate) fn advance(&mut self) {
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
    }

    pub(crate) fn at(&self, tok: Tok) -> bool {
        self.cur().tok == tok
    }

    pub(crate) fn at_keyword(&self, kw: &str) -> bool {
        let t = self.cur();
        t.tok == Tok::Ident && self.text(t).eq_ignore_ascii_case(kw)
    }

    pub(crate) fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            deferred: self.deferred.clone(),
            operators: self.operators,
        }
    }

    pub(crate) fn reset(&mut self, m: Mark) {
        self.pos = m.pos;
        self.deferred = m.deferred;
        self.operators = m.operators;
    }

    /// Counts one operator or function; the 301st ends the parse.
    pub(crate) fn count_operator(&mut self) -> Result<(), ExprError> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(ExprError::invalid(
                self.kind,
                Detail::TooManyOperators(self.operators),
            ));
        }
        Ok(())
    }

    /// Runs `f` one nesting level deeper, refusing to go past `MAX_NESTING` so that no input
    /// can recurse until the thread's stack overflows.
    pub(crate) fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, ExprError>,
    ) -> Result<T, ExprError> {
        if self.depth >= MAX_NESTING {
            return Err(ExprError::invalid(
                self.kind,
                Detail::TooDeep(self.depth + 1),
            ));
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }

    /// `Syntax error; token: "<tok>", near: "<prev tok … next tok>"` at the current token.
    pub(crate) fn syntax_error(&self) -> ExprError {
        let cur = self.cur();
        let token = if cur.tok == Tok::Eof {
            "<EOF>".to_string()
        } else {
            self.text(cur).to_string()
        };
        let start = if self.pos > 0 {
            self.toks[self.pos - 1].start
        } else {
            cur.start
        };
        let next = self.peek(1);
        let end = if cur.tok == Tok::Eof {
            // Trailing whitespace is not part of any token, so it is not "near" anything.
            if self.pos > 0 {
                self.toks[self.pos - 1].end
            } else {
                cur.end
            }
        } else if next.tok != Tok::Eof {
            next.end
        } else {
            cur.end
        };
        let near = self.src[start..end.max(start)].to_string();
        ExprError::invalid(self.kind, Detail::Syntax { token, near })
    }

    pub(crate) fn expect(&mut self, tok: Tok) -> Result<(), ExprError> {
        if self.at(tok) {
            self.advance();
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    pub(crate) fn expect_keyword(&mut self, kw: &str) -> Result<(), ExprError> {
        if self.at_keyword(kw) {
            self.advance();
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    /// Records a semantic error unless one of its category is already recorded.
    pub(crate) fn defer(&mut self, cat: Cat, detail: Detail) {
        let slot = &mut self.deferred[cat as usize];
        if slot.is_none() {
            *slot = Some(detail);
        }
    }

    /// Ends the parse: trailing tokens are a syntax error, then deferred errors by precedence.
    pub(crate) fn finish(self) -> Result<(), ExprError> {
        if !self.at(Tok::Eof) {
            return Err(self.syntax_error());
        }
        let kind = self.kind;
        let mut deferred = self.deferred;
        for cat in precedence(kind) {
            if let Some(d) = deferred[*cat as usize].take() {
                return Err(ExprError::invalid(kind, d));
            }
        }
        Ok(())
    }

    fn is_operator_keyword(&self, t: Token) -> bool {
        t.tok == Tok::Ident
            && self
                .keywords
                .iter()
                .any(|k| self.text(t).eq_ignore_ascii_case(k))
    }

    /// One path step name: `#n` resolved, bare names checked against the reserved words.
    fn path_name(&mut self, t: Token) -> Result<String, ExprError> {
        let text = self.text(t);
        match t.tok {
            Tok::Ident if !self.is_operator_keyword(t) => {
                if is_reserved(text) {
                    self.defer(Cat::Reserved, Detail::Reserved(text.to_string()));
                }
                Ok(text.to_string())
            }
            Tok::Name => match self.ctx.lookup_name(text) {
                Some(name) => Ok(name),
                None => {
                    self.defer(Cat::Name, Detail::UndefinedName(text.to_string()));
                    Ok(text.to_string())
                }
            },
            _ => Err(self.syntax_error()),
        }
    }

    /// `name ( '.' name | '[' int ']' )*`
    pub(crate) fn parse_path(&mut self) -> Result<Path, ExprError> {
        let first = self.cur();
        let name = self.path_name(first)?;
        self.advance();
        let mut elems = vec![PathElem::Attr(name)];
        loop {
            if self.at(Tok::Dot) {
                self.advance();
                let t = self.cur();
                let name = self.path_name(t)?;
                self.advance();
                elems.push(PathElem::Attr(name));
            } else if self.at(Tok::LBracket) {
                self.advance();
                let t = self.cur();
                let index = match t.tok {
                    Tok::Int => self.text(t).parse::<u32>().ok(),
                    _ => None,
                };
                let Some(index) = index else {
                    return Err(self.syntax_error());
                };
                self.advance();
                self.expect(Tok::RBracket)?;
                elems.push(PathElem::Index(index as usize));
            } else {
                return Ok(Path(elems));
            }
            if elems.len() > MAX_PATH_STEPS {
                return Err(ExprError::invalid(
                    self.kind,
                    Detail::PathTooDeep(elems.len()),
                ));
            }
        }
    }

    pub(crate) fn parse_value(&mut self) -> Result<Option<AttributeValue>, ExprError> {
        let t = self.cur();
        if t.tok != Tok::Value {
            return Err(self.syntax_error());
        }
        let text = self.text(t);
        self.advance();
        let v = self.ctx.lookup_value(text);
        if v.is_none() {
            self.defer(Cat::Value, Detail::UndefinedValue(text.to_string()));
        }
        Ok(v)
    }

    /// `'(' operand ')' | ident '(' operand (',' operand)* ')' | :value | path`
    pub(crate) fn parse_operand(&mut self) -> Result<PExpr, ExprError> {
        let t = self.cur();
        match t.tok {
            Tok::LParen => self.nested(Self::paren_operand),
            Tok::Ident if self.peek(1).tok == Tok::LParen && !self.is_operator_keyword(t) => {
                self.count_operator()?;
                self.nested(Self::call_operand)
            }
            Tok::Value => Ok(PExpr::Value(self.parse_value()?)),
            Tok::Ident | Tok::Name => Ok(PExpr::Path(self.parse_path()?)),
            _ => Err(self.syntax_error()),
        }
    }

    /// `'(' operand ')'`; kept out of `parse_operand` so each nesting level costs little stack.
    fn paren_operand(&mut self) -> Result<PExpr, ExprError> {
        self.advance();
        let nested = self.at(Tok::LParen);
        let inner = self.parse_operand()?;
        self.expect(Tok::RParen)?;
        if nested && matches!(self.toks.get(self.pos - 2), Some(t) if t.tok == Tok::RParen) {
            self.defer(Cat::Parens, Detail::RedundantParens);
        }
        Ok(inner)
    }

    /// `ident '(' operand (',' operand)* ')'`
    fn call_operand(&mut self) -> Result<PExpr, ExprError> {
        let name = self.text(self.cur()).to_string();
        self.advance();
        self.advance();
        let mut args = vec![self.parse_operand()?];
        while self.at(Tok::Comma) {
            self.advance();
            args.push(self.parse_operand()?);
        }
        self.expect(Tok::RParen)?;
        Ok(PExpr::Call { name, args })
    }

    /// Records the first overlap and the first conflict among paths, comparing each path with
    /// every earlier one (dynalite `checkPath`).
    pub(crate) fn check_overlaps(&mut self, paths: &[&Path]) {
        for (j, later) in paths.iter().enumerate() {
            for earlier in &paths[..j] {
                match relation(earlier, later) {
                    Relation::Overlap => self.defer(
                        Cat::Overlap,
                        Detail::PathOverlap {
                            one: earlier.to_string(),
                            two: later.to_string(),
                        },
                    ),
                    Relation::Conflict => self.defer(
                        Cat::Conflict,
                        Detail::PathConflict {
                            one: earlier.to_string(),
                            two: later.to_string(),
                        },
                    ),
                    Relation::Disjoint => {}
                }
            }
        }
    }
}

enum Relation {
    Disjoint,
    Overlap,
    Conflict,
}

/// Overlap: one path is a prefix of (or equal to) the other. Conflict: at the first step where
/// they differ in kind, one indexes a list and the other names a map key.
fn relation(a: &Path, b: &Path) -> Relation {
    for (x, y) in a.0.iter().zip(&b.0) {
        match (x, y) {
            (PathElem::Attr(p), PathElem::Attr(q)) if p == q => {}
            (PathElem::Index(p), PathElem::Index(q)) if p == q => {}
            (PathElem::Attr(_), PathElem::Attr(_)) | (PathElem::Index(_), PathElem::Index(_)) => {
                return Relation::Disjoint;
            }
            _ => return Relation::Conflict,
        }
    }
    Relation::Overlap
}
