//! Shorthand syntax parser (`Key=k,Value=v`, `a=b,c`, `[..]`, `{..}`), ported from
//! awscli v1 `awscli/shorthand.py` (`ShorthandParser` and `BackCompatVisitor`).
//!
//! The parser is model-free and yields strings, lists and objects; [`back_compat`] then
//! converts scalars to the model's types exactly as `BackCompatVisitor` does.

use serde_json::{Map, Value};

use crate::model::{Model, members, shape_type};

/// A shorthand parse error; `Display` is the message awscli prints after the parameter name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShorthandError(pub String);

struct Parser<'a> {
    input: &'a [char],
    index: usize,
    /// Set by `key@=`: values of this key are paramfile URIs to load (`_resolve_paramfiles`).
    resolve: bool,
}

fn error_location(value: &[char], index: usize) -> String {
    let s: String = value.iter().collect();
    let (mut consumed, mut remaining, mut num_spaces) = (s.clone(), String::new(), index);
    let before: String = value[..index.min(value.len())].iter().collect();
    if let Some(p) = before.rfind('\n') {
        num_spaces = index - before[..p].chars().count() - 1;
    }
    let after: String = value[index.min(value.len())..].iter().collect();
    if let Some(p) = after.find('\n') {
        let next = index + after[..p].chars().count();
        consumed = value[..next].iter().collect();
        remaining = value[next..].iter().collect();
    }
    format!("{consumed}\n{}^{remaining}", " ".repeat(num_spaces))
}

fn is_whitespace(c: char) -> bool {
    // Python's string.whitespace.
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// `_FIRST_FOLLOW_CHARS`: everything but `"` `'` `,` `]` `}` (and controls).
fn first_follow(c: char) -> bool {
    is_whitespace(c)
        || c == '!'
        || ('#'..='&').contains(&c)
        || ('('..='+').contains(&c)
        || ('-'..='\\').contains(&c)
        || ('^'..='|').contains(&c)
        || ('~'..='\u{ffff}').contains(&c)
}

/// `_SECOND_FOLLOW_CHARS`: everything but `"` `'` `,` `=` (and controls).
fn second_follow(c: char) -> bool {
    is_whitespace(c)
        || c == '!'
        || ('#'..='&').contains(&c)
        || ('('..='+').contains(&c)
        || ('-'..='<').contains(&c)
        || ('>'..='\u{ffff}').contains(&c)
}

/// Parses one shorthand value into an object (awscli `ShorthandParser.parse`).
pub fn parse(value: &str) -> Result<Value, ShorthandError> {
    let chars: Vec<char> = value.chars().collect();
    let mut p = Parser {
        input: &chars,
        index: 0,
        resolve: false,
    };
    p.parameter()
}

impl Parser<'_> {
    fn syntax(&self, expected: &str, actual: &str) -> ShorthandError {
        ShorthandError(format!(
            "Expected: '{expected}', received: '{actual}' for input:\n{}",
            error_location(self.input, self.index)
        ))
    }

    fn current(&self) -> Option<char> {
        self.input.get(self.index).copied()
    }

    fn at_eof(&self) -> bool {
        self.index >= self.input.len()
    }

    fn consume_whitespace(&mut self) {
        while self.current().is_some_and(is_whitespace) {
            self.index += 1;
        }
    }

    fn expect(&mut self, c: char, ws: bool) -> Result<(), ShorthandError> {
        if ws {
            self.consume_whitespace();
        }
        match self.current() {
            None => return Err(self.syntax(&c.to_string(), "EOF")),
            Some(a) if a != c => return Err(self.syntax(&c.to_string(), &a.to_string())),
            Some(_) => self.index += 1,
        }
        if ws {
            self.consume_whitespace();
        }
        Ok(())
    }

    fn parameter(&mut self) -> Result<Value, ShorthandError> {
        let mut params = Map::new();
        let (k, v) = self.keyval()?;
        params.insert(k, v);
        let mut last_index = self.index;
        while self.index < self.input.len() {
            self.expect(',', true)?;
            let (k, v) = self.keyval()?;
            if params.contains_key(&k) {
                return Err(ShorthandError(format!(
                    "Second instance of key \"{k}\" encountered for input:\n{}\nThis is often because there is a preceding \",\" instead of a space.",
                    error_location(self.input, last_index + 1)
                )));
            }
            params.insert(k, v);
            last_index = self.index;
        }
        Ok(Value::Object(params))
    }

    fn keyval(&mut self) -> Result<(String, Value), ShorthandError> {
        let key = self.key();
        self.at_sign();
        self.expect('=', true)?;
        Ok((key, self.values()?))
    }

    fn key(&mut self) -> String {
        let start = self.index;
        while let Some(c) = self.current() {
            if !(c.is_ascii_alphanumeric() || "-_.#/:".contains(c)) {
                break;
            }
            self.index += 1;
        }
        self.input[start..self.index].iter().collect()
    }

    fn values(&mut self) -> Result<Value, ShorthandError> {
        match self.current() {
            None => Ok(Value::String(String::new())),
            Some('[') => self.explicit_list(),
            Some('{') => self.hash_literal(),
            Some(_) => self.csv_value(),
        }
    }

    fn csv_value(&mut self) -> Result<Value, ShorthandError> {
        let first = self.first_value()?;
        self.consume_whitespace();
        if self.at_eof() || self.current() != Some(',') {
            return Ok(Value::String(first));
        }
        self.expect(',', true)?;
        let mut list = vec![first.clone()];
        loop {
            let current = self.second_value()?;
            self.consume_whitespace();
            if self.at_eof() {
                list.push(current);
                break;
            }
            match self.expect(',', true) {
                Ok(()) => list.push(current),
                Err(e) => {
                    if self.at_eof() {
                        return Err(e);
                    }
                    // _backtrack_to(','): the failed item was the next key.
                    while self.index > 0 && self.input.get(self.index) != Some(&',') {
                        self.index -= 1;
                    }
                    break;
                }
            }
        }
        if list.len() == 1 {
            return Ok(Value::String(first));
        }
        Ok(Value::Array(list.into_iter().map(Value::String).collect()))
    }

    fn consume_while(&mut self, pred: fn(char) -> bool) -> String {
        let mut out = String::new();
        while let Some(c) = self.current() {
            if c == '\\' && self.input.get(self.index + 1) == Some(&',') {
                out.push_str("\\,");
                self.index += 2;
            } else if pred(c) {
                out.push(c);
                self.index += 1;
            } else {
                break;
            }
        }
        out.replace("\\,", ",").trim_end().to_string()
    }

    /// `key@=`: the following values are loaded from `file://` / `fileb://` URIs.
    fn at_sign(&mut self) {
        let save = self.index;
        self.resolve = self.expect('@', true).is_ok();
        if !self.resolve {
            self.index = save;
        }
    }

    fn finish(&self, v: String) -> Result<String, ShorthandError> {
        if !self.resolve {
            return Ok(v);
        }
        match crate::params::get_paramfile(&v).map_err(ShorthandError)? {
            Some(crate::params::Loaded::Text(t)) => Ok(t),
            Some(crate::params::Loaded::Bytes(b)) => Ok(String::from_utf8_lossy(&b).into_owned()),
            None => Ok(v),
        }
    }

    fn value(&mut self) -> Result<String, ShorthandError> {
        let v = self.consume_while(first_follow);
        self.finish(v)
    }

    fn second_value(&mut self) -> Result<String, ShorthandError> {
        match self.current() {
            Some('\'') => self.quoted('\''),
            Some('"') => self.quoted('"'),
            _ => {
                let v = self.consume_while(second_follow);
                self.finish(v)
            }
        }
    }

    fn first_value(&mut self) -> Result<String, ShorthandError> {
        match self.current() {
            Some('\'') => self.quoted('\''),
            Some('"') => self.quoted('"'),
            _ => self.value(),
        }
    }

    fn quoted(&mut self, q: char) -> Result<String, ShorthandError> {
        // regex: q (?:\\q|[^q])* q
        let start = self.index;
        let mut i = start + 1;
        loop {
            match self.input.get(i) {
                None => {
                    let name = if q == '\'' {
                        "singled quoted"
                    } else {
                        "double quoted"
                    };
                    return Err(self.syntax(&format!("<{name}>"), "<none>"));
                }
                Some('\\') if self.input.get(i + 1) == Some(&q) => i += 2,
                Some(&c) if c == q => break,
                Some(_) => i += 1,
            }
        }
        let inner: String = self.input[start + 1..i].iter().collect();
        self.index = i + 1;
        let v = inner
            .replace(&format!("\\{q}"), &q.to_string())
            .replace("\\\\", "\\");
        self.finish(v)
    }

    fn explicit_list(&mut self) -> Result<Value, ShorthandError> {
        self.expect('[', true)?;
        let mut values = Vec::new();
        while self.current() != Some(']') {
            if self.at_eof() {
                return Err(self.syntax("]", "EOF"));
            }
            values.push(self.explicit_values()?);
            self.consume_whitespace();
            if self.current() != Some(']') {
                self.expect(',', false)?;
                self.consume_whitespace();
            }
        }
        self.expect(']', false)?;
        Ok(Value::Array(values))
    }

    fn explicit_values(&mut self) -> Result<Value, ShorthandError> {
        match self.current() {
            Some('[') => self.explicit_list(),
            Some('{') => self.hash_literal(),
            _ => Ok(Value::String(self.first_value()?)),
        }
    }

    fn hash_literal(&mut self) -> Result<Value, ShorthandError> {
        self.expect('{', true)?;
        let mut kv = Map::new();
        while self.current() != Some('}') {
            if self.at_eof() {
                return Err(self.syntax("}", "EOF"));
            }
            let key = self.key();
            self.at_sign();
            self.expect('=', true)?;
            let v = self.explicit_values()?;
            self.consume_whitespace();
            if self.current() != Some('}') {
                self.expect(',', false)?;
                self.consume_whitespace();
            }
            kv.insert(key, v);
        }
        self.expect('}', false)?;
        Ok(Value::Object(kv))
    }
}

/// `BackCompatVisitor`: wraps lone values in lists where the model wants a list and converts
/// scalar strings to integers, floats and booleans.
pub fn back_compat(
    model: &Model,
    shape: &serde_json::Value,
    value: &mut Value,
) -> Result<(), ShorthandError> {
    match shape_type(shape) {
        "structure" => {
            if let Value::Object(obj) = value {
                for (name, mref) in members(shape) {
                    let Some(mshape) = model.resolve(mref) else {
                        continue;
                    };
                    if let Some(v) = obj.get_mut(name.as_str()) {
                        visit_member(model, mshape, v)?;
                    }
                }
            }
        }
        "list" => {
            if let Value::Array(items) = value
                && let Some(m) = shape.get("member").and_then(|r| model.resolve(r))
            {
                for item in items.iter_mut() {
                    visit_member(model, m, item)?;
                }
            }
        }
        "map" => {
            if let Value::Object(obj) = value
                && let Some(m) = shape.get("value").and_then(|r| model.resolve(r))
            {
                for (_, v) in obj.iter_mut() {
                    visit_member(model, m, v)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn visit_member(
    model: &Model,
    shape: &serde_json::Value,
    v: &mut Value,
) -> Result<(), ShorthandError> {
    let t = shape_type(shape);
    if t == "list" && !v.is_array() && !v.is_null() {
        let inner = v.take();
        *v = Value::Array(vec![inner]);
    }
    match t {
        "structure" | "list" | "map" => back_compat(model, shape, v),
        _ => {
            if let Value::String(s) = v {
                *v = convert_scalar(t, s).map_err(ShorthandError)?;
            }
            Ok(())
        }
    }
}

/// Python `int(value)` / `float(value)` / `'true'|'false'` conversion of a shorthand scalar.
pub fn convert_scalar(t: &str, s: &str) -> Result<Value, String> {
    Ok(match t {
        "integer" | "long" => Value::from(
            crate::pyfmt::py_int(s)
                .ok_or_else(|| format!("invalid literal for int() with base 10: '{s}'"))?,
        ),
        "double" | "float" => crate::pyfmt::py_float(s)
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("could not convert string to float: '{s}'"))?,
        "boolean" if s.eq_ignore_ascii_case("true") => Value::Bool(true),
        "boolean" if s.eq_ignore_ascii_case("false") => Value::Bool(false),
        _ => Value::String(s.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn simple_pairs_and_lists() {
        assert_eq!(parse("a=b").unwrap(), json!({"a": "b"}));
        assert_eq!(parse("a=b,c").unwrap(), json!({"a": ["b", "c"]}));
        assert_eq!(
            parse("Key=k,Value=v").unwrap(),
            json!({"Key": "k", "Value": "v"})
        );
        assert_eq!(
            parse("a=b,c,d=e").unwrap(),
            json!({"a": ["b", "c"], "d": "e"})
        );
        assert_eq!(
            parse("a=[1,2],b={c=d,e=[f]}").unwrap(),
            json!({"a": ["1", "2"], "b": {"c": "d", "e": ["f"]}})
        );
        assert_eq!(
            parse("a='x,y',b=\"q\\\"r\"").unwrap(),
            json!({"a": "x,y", "b": "q\"r"})
        );
        assert_eq!(parse("a=x\\,y").unwrap(), json!({"a": "x,y"}));
        assert_eq!(parse("a=").unwrap(), json!({"a": ""}));
    }

    #[test]
    fn at_sign_loads_paramfiles() {
        let path =
            std::env::temp_dir().join(format!("tidemark-shorthand-{}.txt", std::process::id()));
        std::fs::write(&path, "from file").unwrap();
        let v = parse(&format!("a@=file://{},b=file://x", path.display())).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(v, json!({"a": "from file", "b": "file://x"}));
        assert!(
            parse("a@=file:///nonexistent/tidemark")
                .unwrap_err()
                .0
                .starts_with("Unable to load paramfile")
        );
    }

    #[test]
    fn errors_match_awscli() {
        let e = parse("a").unwrap_err();
        assert_eq!(e.0, "Expected: '=', received: 'EOF' for input:\na\n ^");
        let e = parse("a=b,a=c").unwrap_err();
        assert!(e.0.starts_with("Second instance of key \"a\""), "{e}");
    }
}
