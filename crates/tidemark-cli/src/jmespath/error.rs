//! jmespath.py's exceptions and their exact `str()` text (`jmespath/exceptions.py`), which
//! aws CLI v1 prints: compile errors after "Bad value for --query EXPR: ", search errors bare.

#[derive(Debug, Clone, thiserror::Error)]
pub enum JmesError {
    /// `EmptyExpressionError`.
    #[error("Invalid JMESPath expression: cannot be empty.")]
    Empty,
    /// `LexerError`.
    #[error("Bad jmespath expression: {message}:\n{expression}\n{}^", " ".repeat(*position))]
    Lexer {
        position: usize,
        value: String,
        message: String,
        expression: String,
    },
    /// `ParseError`.
    #[error(
        "{message}: Parse error at column {position}, token \"{value}\" ({kind}), for expression:\n\"{expression}\"\n{}^",
        " ".repeat(*position + 1)
    )]
    Parse {
        position: usize,
        value: String,
        /// Upper-cased token type.
        kind: String,
        message: String,
        expression: String,
    },
    /// `IncompleteExpressionError`.
    #[error("Invalid jmespath expression: Incomplete expression:\n\"{expression}\"\n{}^", " ".repeat(expression.chars().count() + 1))]
    Incomplete { expression: String },
    /// `ArityError` / `VariadictArityError`.
    #[error("Expected {}{expected} {} for function {name}(), received {actual}", if *variadic { "at least " } else { "" }, if *expected == 1 { "argument" } else { "arguments" })]
    Arity {
        expected: usize,
        actual: usize,
        name: String,
        variadic: bool,
    },
    /// `JMESPathTypeError`.
    #[error(
        "In function {function}(), invalid type for value: {value}, expected one of: {expected}, received: \"{actual}\""
    )]
    Type {
        function: String,
        value: String,
        expected: String,
        actual: String,
    },
    /// `UnknownFunctionError`.
    #[error("Unknown function: {0}()")]
    UnknownFunction(String),
    /// A Python exception jmespath.py lets through (`TypeError`, `ValueError`), by its text.
    #[error("{0}")]
    Python(String),
}

impl JmesError {
    pub fn lexer(position: usize, value: String, message: String) -> JmesError {
        JmesError::Lexer {
            position,
            value,
            message,
            expression: String::new(),
        }
    }

    /// Fills in the expression, as `Parser._do_parse` does before re-raising.
    pub fn with_expression(self, expr: &str) -> JmesError {
        match self {
            JmesError::Lexer {
                position,
                value,
                message,
                ..
            } => JmesError::Lexer {
                position,
                value,
                message,
                expression: expr.to_string(),
            },
            JmesError::Parse {
                position,
                value,
                kind,
                message,
                ..
            } => JmesError::Parse {
                position,
                value,
                kind,
                message,
                expression: expr.to_string(),
            },
            JmesError::Incomplete { .. } => JmesError::Incomplete {
                expression: expr.to_string(),
            },
            other => other,
        }
    }
}
