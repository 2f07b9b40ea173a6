//! aws CLI v1's JMESPath: a port of jmespath.py 1.1 (the version aws CLI 1.46 ships), so that
//! `--query` accepts, evaluates and rejects expressions exactly as `aws` does, including the
//! legacy backtick literals that are not JSON (``[?Name==`nightly`]``), Python's number and
//! comparison semantics, and jmespath.py's error texts.

mod error;
mod functions;
mod interp;
mod lexer;
mod parser;

use serde_json::Value;

pub use error::JmesError;

/// A compiled expression (`jmespath.compile`).
#[derive(Debug, Clone)]
pub struct Expression {
    root: parser::Node,
}

impl Expression {
    /// `jmespath.compile(text)`.
    pub fn compile(text: &str) -> Result<Expression, JmesError> {
        Ok(Expression {
            root: parser::parse(text)?,
        })
    }

    /// `ParsedResult.search(value)`.
    pub fn search(&self, value: &Value) -> Result<Value, JmesError> {
        interp::visit(&self.root, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(expr: &str, doc: &Value) -> Result<Value, String> {
        Expression::compile(expr)
            .and_then(|e| e.search(doc))
            .map_err(|e| e.to_string())
    }

    /// jmespath.py reads a backtick literal that is not JSON as a string (JEP-12).
    #[test]
    fn legacy_literals_are_strings() {
        let doc = json!({"B": [{"N": "nightly", "A": 1}, {"N": "weekly", "A": 2}]});
        assert_eq!(run("B[?N==`nightly`].A", &doc), Ok(json!([1])));
        assert_eq!(run("`  x y`", &doc), Ok(json!("x y")));
        assert_eq!(run("`[1]`", &doc), Ok(json!([1])));
    }

    /// Python semantics: int sums stay ints, `1 == 1.0`, `1 != true` at the top level.
    #[test]
    fn python_numbers_and_equality() {
        let doc = json!({"n": [1, 2], "f": [1.5, 1]});
        assert_eq!(run("sum(n)", &doc), Ok(json!(3)));
        assert_eq!(run("sum(f)", &doc), Ok(json!(2.5)));
        assert_eq!(run("avg(n)", &doc), Ok(json!(1.5)));
        assert_eq!(run("`1` == `1.0`", &doc), Ok(json!(true)));
        assert_eq!(run("`1` == `true`", &doc), Ok(json!(false)));
        assert_eq!(
            run("`1` < 'a'", &doc),
            Err("'<' not supported between instances of 'int' and 'str'".into())
        );
    }

    #[test]
    fn error_texts_are_jmespath_py_s() {
        let doc = json!({});
        assert_eq!(
            run("a[", &doc),
            Err("Invalid jmespath expression: Incomplete expression:\n\"a[\"\n   ^".into())
        );
        assert_eq!(
            run("length(`1`)", &doc),
            Err("In function length(), invalid type for value: 1, expected one of: ['string', 'array', 'object'], received: \"number\"".into())
        );
        assert_eq!(run("nope(@)", &doc), Err("Unknown function: nope()".into()));
        assert!(
            run(&"!".repeat(10_000), &doc).is_err(),
            "nesting is bounded"
        );
    }
}
