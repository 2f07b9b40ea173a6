//! Tokens of a JMESPath expression, exactly as jmespath.py 1.1 `lexer.py` cuts them,
//! including its legacy backtick literals (text that is not JSON becomes a string).

use serde_json::Value;

use super::error::JmesError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dot,
    Star,
    Rbracket,
    Comma,
    Colon,
    Current,
    Lparen,
    Rparen,
    Lbrace,
    Rbrace,
    UnquotedIdentifier,
    QuotedIdentifier,
    Flatten,
    Filter,
    Lbracket,
    Literal,
    Or,
    Pipe,
    And,
    Expref,
    Number,
    Lte,
    Lt,
    Gte,
    Gt,
    Ne,
    Not,
    Eq,
    Eof,
}

impl Kind {
    /// jmespath.py's token type name (errors print it upper-cased).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Dot => "dot",
            Kind::Star => "star",
            Kind::Rbracket => "rbracket",
            Kind::Comma => "comma",
            Kind::Colon => "colon",
            Kind::Current => "current",
            Kind::Lparen => "lparen",
            Kind::Rparen => "rparen",
            Kind::Lbrace => "lbrace",
            Kind::Rbrace => "rbrace",
            Kind::UnquotedIdentifier => "unquoted_identifier",
            Kind::QuotedIdentifier => "quoted_identifier",
            Kind::Flatten => "flatten",
            Kind::Filter => "filter",
            Kind::Lbracket => "lbracket",
            Kind::Literal => "literal",
            Kind::Or => "or",
            Kind::Pipe => "pipe",
            Kind::And => "and",
            Kind::Expref => "expref",
            Kind::Number => "number",
            Kind::Lte => "lte",
            Kind::Lt => "lt",
            Kind::Gte => "gte",
            Kind::Gt => "gt",
            Kind::Ne => "ne",
            Kind::Not => "not",
            Kind::Eq => "eq",
            Kind::Eof => "eof",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Token {
    pub kind: Kind,
    /// Identifier name, literal value (a JSON value), or number.
    pub value: Value,
    /// Position in characters (Python string index).
    pub start: usize,
}

impl Token {
    /// The token's value as Python's `%s` prints it in error messages.
    pub fn display(&self) -> String {
        crate::pyfmt::py_str(&self.value)
    }
}

fn simple(c: char) -> Option<Kind> {
    Some(match c {
        '.' => Kind::Dot,
        '*' => Kind::Star,
        ']' => Kind::Rbracket,
        ',' => Kind::Comma,
        ':' => Kind::Colon,
        '@' => Kind::Current,
        '(' => Kind::Lparen,
        ')' => Kind::Rparen,
        '{' => Kind::Lbrace,
        '}' => Kind::Rbrace,
        _ => return None,
    })
}

fn is_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Python `int(buff)` for a lexed digit run: saturates (a huge index or slice bound behaves
/// the same as `i64::MAX`: out of range, or clamped).
fn int_value(buff: &str) -> Value {
    match buff.parse::<i64>() {
        Ok(n) => Value::from(n),
        Err(_) if buff.starts_with('-') => Value::from(i64::MIN),
        Err(_) => Value::from(i64::MAX),
    }
}

/// Python `json.loads` for a literal: serde_json plus the NaN/Infinity forms Python accepts
/// (mapped to null: a JSON document cannot hold them).
fn json_loads(s: &str) -> Option<Value> {
    match s.trim_matches([' ', '\t', '\n', '\r']) {
        "NaN" | "Infinity" | "-Infinity" => Some(Value::Null),
        _ => serde_json::from_str(s).ok(),
    }
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn cur(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        if self.pos < self.chars.len() {
            self.pos += 1;
        }
        self.cur()
    }

    fn rest_from(&self, start: usize) -> String {
        self.chars[start..].iter().collect()
    }

    /// `_consume_until`: a backslash keeps itself and the next character.
    fn consume_until(&mut self, delim: char) -> Result<String, JmesError> {
        let start = self.pos;
        let mut buff = String::new();
        self.next();
        while self.cur() != Some(delim) {
            if self.cur() == Some('\\') {
                buff.push('\\');
                self.next();
            }
            let Some(c) = self.cur() else {
                return Err(JmesError::lexer(
                    start,
                    self.rest_from(start),
                    format!("Unclosed {delim} delimiter"),
                ));
            };
            buff.push(c);
            self.next();
        }
        self.next();
        Ok(buff)
    }

    fn consume_number(&mut self) -> String {
        let mut buff = String::new();
        if let Some(c) = self.cur() {
            buff.push(c);
        }
        while let Some(c) = self.next().filter(char::is_ascii_digit) {
            buff.push(c);
        }
        buff
    }

    fn match_or_else(&mut self, expected: char, yes: Kind, no: Kind) -> Token {
        let start = self.pos;
        let current = self.cur().unwrap_or_default();
        if self.next() == Some(expected) {
            self.next();
            return Token {
                kind: yes,
                value: Value::String(format!("{current}{expected}")),
                start,
            };
        }
        Token {
            kind: no,
            value: Value::String(current.to_string()),
            start,
        }
    }
}

/// `Lexer.tokenize`, collected (the parser needs two tokens of lookahead anyway).
pub fn tokenize(expression: &str) -> Result<Vec<Token>, JmesError> {
    if expression.is_empty() {
        return Err(JmesError::Empty);
    }
    let mut lx = Lexer {
        chars: expression.chars().collect(),
        pos: 0,
    };
    let mut out = Vec::new();
    while let Some(c) = lx.cur() {
        let start = lx.pos;
        if let Some(kind) = simple(c) {
            out.push(Token {
                kind,
                value: Value::String(c.to_string()),
                start,
            });
            lx.next();
        } else if is_start(c) {
            let mut buff = c.to_string();
            while let Some(n) = lx.next().filter(|&n| is_ident(n)) {
                buff.push(n);
            }
            out.push(Token {
                kind: Kind::UnquotedIdentifier,
                value: Value::String(buff),
                start,
            });
        } else if matches!(c, ' ' | '\t' | '\n' | '\r') {
            lx.next();
        } else if c == '[' {
            let (kind, text) = match lx.next() {
                Some(']') => {
                    lx.next();
                    (Kind::Flatten, "[]")
                }
                Some('?') => {
                    lx.next();
                    (Kind::Filter, "[?")
                }
                _ => (Kind::Lbracket, "["),
            };
            out.push(Token {
                kind,
                value: Value::String(text.into()),
                start,
            });
        } else if c == '\'' {
            let lexeme = lx.consume_until('\'')?.replace("\\'", "'");
            out.push(Token {
                kind: Kind::Literal,
                value: Value::String(lexeme),
                start,
            });
        } else if c == '|' {
            out.push(lx.match_or_else('|', Kind::Or, Kind::Pipe));
        } else if c == '&' {
            out.push(lx.match_or_else('&', Kind::And, Kind::Expref));
        } else if c == '`' {
            let lexeme = lx.consume_until('`')?.replace("\\`", "`");
            // JEP-12 deprecation period: text that is not JSON is taken as a JSON string.
            let value = match json_loads(&lexeme) {
                Some(v) => v,
                None => {
                    let quoted = format!("\"{}\"", lexeme.trim_start());
                    serde_json::from_str::<Value>(&quoted).map_err(|_| {
                        JmesError::lexer(start, lx.rest_from(start), format!("Bad token {lexeme}"))
                    })?
                }
            };
            out.push(Token {
                kind: Kind::Literal,
                value,
                start,
            });
        } else if c.is_ascii_digit() {
            let buff = lx.consume_number();
            out.push(Token {
                kind: Kind::Number,
                value: int_value(&buff),
                start,
            });
        } else if c == '-' {
            let buff = lx.consume_number();
            if buff.chars().count() > 1 {
                out.push(Token {
                    kind: Kind::Number,
                    value: int_value(&buff),
                    start,
                });
            } else {
                return Err(JmesError::lexer(
                    start,
                    buff.clone(),
                    format!("Unknown token '{buff}'"),
                ));
            }
        } else if c == '"' {
            let lexeme = format!("\"{}\"", lx.consume_until('"')?);
            let value = serde_json::from_str::<Value>(&lexeme)
                .map_err(|e| JmesError::lexer(start, lexeme.clone(), python_json_error(&e)))?;
            out.push(Token {
                kind: Kind::QuotedIdentifier,
                value,
                start,
            });
        } else if c == '<' {
            out.push(lx.match_or_else('=', Kind::Lte, Kind::Lt));
        } else if c == '>' {
            out.push(lx.match_or_else('=', Kind::Gte, Kind::Gt));
        } else if c == '!' {
            out.push(lx.match_or_else('=', Kind::Ne, Kind::Not));
        } else if c == '=' {
            if lx.next() == Some('=') {
                out.push(Token {
                    kind: Kind::Eq,
                    value: Value::String("==".into()),
                    start,
                });
                lx.next();
            } else {
                // jmespath.py reports the position of the `=` itself.
                return Err(JmesError::lexer(
                    start,
                    "=".into(),
                    "Unknown token '='".into(),
                ));
            }
        } else {
            return Err(JmesError::lexer(
                start,
                c.to_string(),
                format!("Unknown token {c}"),
            ));
        }
    }
    out.push(Token {
        kind: Kind::Eof,
        value: Value::String(String::new()),
        start: lx.chars.len(),
    });
    Ok(out)
}

/// The part of Python's `json.JSONDecodeError` text before the first `:` that jmespath.py
/// reports for a bad quoted identifier.
fn python_json_error(e: &serde_json::Error) -> String {
    let m = e.to_string();
    if m.contains("escape") {
        "Invalid \\escape".into()
    } else if m.contains("control character") {
        "Invalid control character at".into()
    } else {
        "Expecting value".into()
    }
}
