//! jmespath.py 1.1's top-down operator-precedence parser (`parser.py`), token for token, so
//! that the same expressions parse to the same trees and fail with the same messages
//! (including its quirks, e.g. `a[0][1:2]` extends the index expression instead of
//! projecting, and function arguments need no comma between them).

use serde_json::Value;

use super::error::JmesError;
use super::lexer::{Kind, Token, tokenize};

/// Deepest nesting the parser accepts; Python's own recursion limit (1000 frames) stops
/// jmespath.py at a similar depth, and the bound keeps our stack small.
const MAX_DEPTH: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Lte,
    Gte,
}

#[derive(Debug, Clone)]
pub enum Node {
    Identity,
    Current,
    Field(String),
    Literal(Value),
    Subexpression(Vec<Node>),
    IndexExpression(Vec<Node>),
    Index(i64),
    Slice([Option<i64>; 3]),
    Projection(Box<Node>, Box<Node>),
    ValueProjection(Box<Node>, Box<Node>),
    FilterProjection(Box<Node>, Box<Node>, Box<Node>),
    Flatten(Box<Node>),
    Comparator(Cmp, Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Pipe(Box<Node>, Box<Node>),
    MultiSelectList(Vec<Node>),
    MultiSelectDict(Vec<(String, Node)>),
    Function(String, Vec<Node>),
    Expref(Box<Node>),
}

fn binding_power(k: Kind) -> u8 {
    match k {
        Kind::Pipe => 1,
        Kind::Or => 2,
        Kind::And => 3,
        Kind::Eq | Kind::Gt | Kind::Lt | Kind::Gte | Kind::Lte | Kind::Ne => 5,
        Kind::Flatten => 9,
        Kind::Star => 20,
        Kind::Filter => 21,
        Kind::Dot => 40,
        Kind::Not => 45,
        Kind::Lbrace => 50,
        Kind::Lbracket => 55,
        Kind::Lparen => 60,
        _ => 0,
    }
}

const PROJECTION_STOP: u8 = 10;

struct Parser {
    tokens: Vec<Token>,
    index: usize,
    depth: usize,
}

fn parse_error(t: &Token, message: impl Into<String>) -> JmesError {
    JmesError::Parse {
        position: t.start,
        value: t.display(),
        kind: t.kind.name().to_uppercase(),
        message: message.into(),
        expression: String::new(),
    }
}

/// Python's `repr` of a list of token type names, as `Expecting: %s` prints it.
fn py_list(names: &[&str]) -> String {
    let items: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    format!("[{}]", items.join(", "))
}

impl Parser {
    fn tok(&self, n: isize) -> &Token {
        let i = (self.index as isize + n).clamp(0, self.tokens.len() as isize - 1) as usize;
        &self.tokens[i]
    }

    fn cur(&self) -> Kind {
        self.tok(0).kind
    }

    fn advance(&mut self) {
        if self.index + 1 < self.tokens.len() {
            self.index += 1;
        }
    }

    fn error_maybe_eof(&self, expected: String) -> JmesError {
        let t = self.tok(0);
        if t.kind == Kind::Eof {
            return JmesError::Incomplete {
                expression: String::new(),
            };
        }
        parse_error(t, format!("Expecting: {expected}, got: {}", t.kind.name()))
    }

    fn expect(&mut self, k: Kind) -> Result<(), JmesError> {
        if self.cur() == k {
            self.advance();
            Ok(())
        } else {
            Err(self.error_maybe_eof(k.name().to_string()))
        }
    }

    fn expression(&mut self, bp: u8) -> Result<Node, JmesError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(JmesError::Python(
                "maximum recursion depth exceeded while parsing the expression".into(),
            ));
        }
        let r = self.expression_inner(bp);
        self.depth -= 1;
        r
    }

    fn expression_inner(&mut self, bp: u8) -> Result<Node, JmesError> {
        let left_token = self.tok(0).clone();
        self.advance();
        let mut left = self.nud(&left_token)?;
        while bp < binding_power(self.cur()) {
            let k = self.cur();
            if !matches!(
                k,
                Kind::Dot
                    | Kind::Pipe
                    | Kind::Or
                    | Kind::And
                    | Kind::Lparen
                    | Kind::Filter
                    | Kind::Eq
                    | Kind::Ne
                    | Kind::Gt
                    | Kind::Gte
                    | Kind::Lt
                    | Kind::Lte
                    | Kind::Flatten
                    | Kind::Lbracket
            ) {
                return Err(parse_error(self.tok(0), "invalid token"));
            }
            self.advance();
            left = self.led(k, left)?;
        }
        Ok(left)
    }

    fn nud(&mut self, t: &Token) -> Result<Node, JmesError> {
        match t.kind {
            Kind::Literal => Ok(Node::Literal(t.value.clone())),
            Kind::UnquotedIdentifier => Ok(Node::Field(t.display())),
            Kind::QuotedIdentifier => {
                if self.cur() == Kind::Lparen {
                    let n = self.tok(0);
                    return Err(JmesError::Parse {
                        position: 0,
                        value: n.display(),
                        kind: n.kind.name().to_uppercase(),
                        message: "Quoted identifier not allowed for function names.".into(),
                        expression: String::new(),
                    });
                }
                Ok(Node::Field(
                    t.value.as_str().unwrap_or_default().to_string(),
                ))
            }
            Kind::Star => {
                let right = if self.cur() == Kind::Rbracket {
                    Node::Identity
                } else {
                    self.projection_rhs(binding_power(Kind::Star))?
                };
                Ok(Node::ValueProjection(
                    Box::new(Node::Identity),
                    Box::new(right),
                ))
            }
            Kind::Filter => self.led_filter(Node::Identity),
            Kind::Lbrace => self.multi_select_hash(),
            Kind::Lparen => {
                let e = self.expression(0)?;
                self.expect(Kind::Rparen)?;
                Ok(e)
            }
            Kind::Flatten => {
                let left = Node::Flatten(Box::new(Node::Identity));
                let right = self.projection_rhs(binding_power(Kind::Flatten))?;
                Ok(Node::Projection(Box::new(left), Box::new(right)))
            }
            Kind::Not => {
                let e = self.expression(binding_power(Kind::Not))?;
                Ok(Node::Not(Box::new(e)))
            }
            Kind::Lbracket => {
                if matches!(self.cur(), Kind::Number | Kind::Colon) {
                    let right = self.index_expression()?;
                    self.project_if_slice(Node::Identity, right)
                } else if self.cur() == Kind::Star && self.tok(1).kind == Kind::Rbracket {
                    self.advance();
                    self.advance();
                    let right = self.projection_rhs(binding_power(Kind::Star))?;
                    Ok(Node::Projection(Box::new(Node::Identity), Box::new(right)))
                } else {
                    self.multi_select_list()
                }
            }
            Kind::Current => Ok(Node::Current),
            Kind::Expref => {
                let e = self.expression(binding_power(Kind::Expref))?;
                Ok(Node::Expref(Box::new(e)))
            }
            Kind::Eof => Err(JmesError::Incomplete {
                expression: String::new(),
            }),
            _ => Err(parse_error(t, "invalid token")),
        }
    }

    fn led(&mut self, k: Kind, left: Node) -> Result<Node, JmesError> {
        match k {
            Kind::Dot => {
                if self.cur() != Kind::Star {
                    let right = self.dot_rhs(binding_power(Kind::Dot))?;
                    Ok(match left {
                        Node::Subexpression(mut c) => {
                            c.push(right);
                            Node::Subexpression(c)
                        }
                        other => Node::Subexpression(vec![other, right]),
                    })
                } else {
                    self.advance();
                    let right = self.projection_rhs(binding_power(Kind::Dot))?;
                    Ok(Node::ValueProjection(Box::new(left), Box::new(right)))
                }
            }
            Kind::Pipe => {
                let right = self.expression(binding_power(Kind::Pipe))?;
                Ok(Node::Pipe(Box::new(left), Box::new(right)))
            }
            Kind::Or => {
                let right = self.expression(binding_power(Kind::Or))?;
                Ok(Node::Or(Box::new(left), Box::new(right)))
            }
            Kind::And => {
                let right = self.expression(binding_power(Kind::And))?;
                Ok(Node::And(Box::new(left), Box::new(right)))
            }
            Kind::Lparen => {
                let Node::Field(name) = left else {
                    let prev = self.tok(-2);
                    return Err(parse_error(
                        prev,
                        format!("Invalid function name '{}'", prev.display()),
                    ));
                };
                let mut args = Vec::new();
                while self.cur() != Kind::Rparen {
                    let e = self.expression(0)?;
                    if self.cur() == Kind::Comma {
                        self.expect(Kind::Comma)?;
                    }
                    args.push(e);
                }
                self.expect(Kind::Rparen)?;
                Ok(Node::Function(name, args))
            }
            Kind::Filter => self.led_filter(left),
            Kind::Eq | Kind::Ne | Kind::Gt | Kind::Gte | Kind::Lt | Kind::Lte => {
                let cmp = match k {
                    Kind::Eq => Cmp::Eq,
                    Kind::Ne => Cmp::Ne,
                    Kind::Gt => Cmp::Gt,
                    Kind::Gte => Cmp::Gte,
                    Kind::Lt => Cmp::Lt,
                    _ => Cmp::Lte,
                };
                let right = self.expression(binding_power(k))?;
                Ok(Node::Comparator(cmp, Box::new(left), Box::new(right)))
            }
            Kind::Flatten => {
                let left = Node::Flatten(Box::new(left));
                let right = self.projection_rhs(binding_power(Kind::Flatten))?;
                Ok(Node::Projection(Box::new(left), Box::new(right)))
            }
            _ => {
                // Kind::Lbracket
                if matches!(self.cur(), Kind::Number | Kind::Colon) {
                    let right = self.index_expression()?;
                    match left {
                        Node::IndexExpression(mut c) => {
                            c.push(right);
                            Ok(Node::IndexExpression(c))
                        }
                        other => self.project_if_slice(other, right),
                    }
                } else {
                    self.expect(Kind::Star)?;
                    self.expect(Kind::Rbracket)?;
                    let right = self.projection_rhs(binding_power(Kind::Star))?;
                    Ok(Node::Projection(Box::new(left), Box::new(right)))
                }
            }
        }
    }

    fn led_filter(&mut self, left: Node) -> Result<Node, JmesError> {
        let condition = self.expression(0)?;
        self.expect(Kind::Rbracket)?;
        let right = if self.cur() == Kind::Flatten {
            Node::Identity
        } else {
            self.projection_rhs(binding_power(Kind::Filter))?
        };
        Ok(Node::FilterProjection(
            Box::new(left),
            Box::new(right),
            Box::new(condition),
        ))
    }

    fn index_expression(&mut self) -> Result<Node, JmesError> {
        if self.cur() == Kind::Colon || self.tok(1).kind == Kind::Colon {
            return self.slice_expression();
        }
        let n = self.tok(0).value.as_i64().unwrap_or_default();
        self.advance();
        self.expect(Kind::Rbracket)?;
        Ok(Node::Index(n))
    }

    fn slice_expression(&mut self) -> Result<Node, JmesError> {
        let mut parts = [None, None, None];
        let mut index = 0;
        while self.cur() != Kind::Rbracket && index < 3 {
            match self.cur() {
                Kind::Colon => {
                    index += 1;
                    if index == 3 {
                        return Err(parse_error(self.tok(0), "syntax error"));
                    }
                    self.advance();
                }
                Kind::Number => {
                    parts[index] = self.tok(0).value.as_i64();
                    self.advance();
                }
                _ => return Err(parse_error(self.tok(0), "syntax error")),
            }
        }
        self.expect(Kind::Rbracket)?;
        Ok(Node::Slice(parts))
    }

    fn project_if_slice(&mut self, left: Node, right: Node) -> Result<Node, JmesError> {
        let is_slice = matches!(right, Node::Slice(_));
        let index_expr = Node::IndexExpression(vec![left, right]);
        if is_slice {
            let rhs = self.projection_rhs(binding_power(Kind::Star))?;
            Ok(Node::Projection(Box::new(index_expr), Box::new(rhs)))
        } else {
            Ok(index_expr)
        }
    }

    fn multi_select_list(&mut self) -> Result<Node, JmesError> {
        let mut items = Vec::new();
        loop {
            items.push(self.expression(0)?);
            if self.cur() == Kind::Rbracket {
                break;
            }
            self.expect(Kind::Comma)?;
        }
        self.expect(Kind::Rbracket)?;
        Ok(Node::MultiSelectList(items))
    }

    fn multi_select_hash(&mut self) -> Result<Node, JmesError> {
        let mut pairs = Vec::new();
        loop {
            let key = self.tok(0).clone();
            if !matches!(key.kind, Kind::QuotedIdentifier | Kind::UnquotedIdentifier) {
                return Err(
                    self.error_maybe_eof(py_list(&["quoted_identifier", "unquoted_identifier"]))
                );
            }
            self.advance();
            self.expect(Kind::Colon)?;
            let value = self.expression(0)?;
            pairs.push((key.display(), value));
            if self.cur() == Kind::Comma {
                self.expect(Kind::Comma)?;
            } else if self.cur() == Kind::Rbrace {
                self.expect(Kind::Rbrace)?;
                break;
            }
        }
        Ok(Node::MultiSelectDict(pairs))
    }

    fn projection_rhs(&mut self, bp: u8) -> Result<Node, JmesError> {
        let k = self.cur();
        if binding_power(k) < PROJECTION_STOP {
            Ok(Node::Identity)
        } else if matches!(k, Kind::Lbracket | Kind::Filter) {
            self.expression(bp)
        } else if k == Kind::Dot {
            self.expect(Kind::Dot)?;
            self.dot_rhs(bp)
        } else {
            Err(parse_error(self.tok(0), "syntax error"))
        }
    }

    fn dot_rhs(&mut self, bp: u8) -> Result<Node, JmesError> {
        match self.cur() {
            Kind::QuotedIdentifier | Kind::UnquotedIdentifier | Kind::Star => self.expression(bp),
            Kind::Lbracket => {
                self.expect(Kind::Lbracket)?;
                self.multi_select_list()
            }
            Kind::Lbrace => {
                self.expect(Kind::Lbrace)?;
                self.multi_select_hash()
            }
            other => {
                let allowed = py_list(&[
                    "quoted_identifier",
                    "unquoted_identifier",
                    "lbracket",
                    "lbrace",
                ]);
                Err(parse_error(
                    self.tok(0),
                    format!("Expecting: {allowed}, got: {}", other.name()),
                ))
            }
        }
    }
}

/// `Parser.parse`: tokens, tree, and the error with its expression filled in.
pub fn parse(expression: &str) -> Result<Node, JmesError> {
    let run = || {
        let tokens = tokenize(expression)?;
        let mut p = Parser {
            tokens,
            index: 0,
            depth: 0,
        };
        let node = p.expression(0)?;
        if p.cur() != Kind::Eof {
            let t = p.tok(0);
            return Err(parse_error(t, format!("Unexpected token: {}", t.display())));
        }
        Ok(node)
    };
    run().map_err(|e| e.with_expression(expression))
}
