//! Named parameters: `:name` in the SQL text becomes the parameter's value as a quoted SQL
//! literal. Values arrive as strings and a quoted literal has PostgreSQL's "unknown" type,
//! so it takes the type its context needs (`id = :id` compares as an integer), which is how
//! the Data API's string-valued parameters behave.
//!
//! One linear pass; `:name` inside quotes, quoted identifiers, comments and dollar-quoted
//! strings is left alone, and `::type` casts are not parameters.

use std::collections::HashMap;

/// Why the parameters do not fit the SQL (answered as `ValidationException`).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ParamError {
    #[error("Parameter {0} is used in the SQL but not provided")]
    Missing(String),
    #[error("Parameter {0} is provided but not used in the SQL")]
    Unused(String),
    #[error("Parameter {0} is provided more than once")]
    Duplicate(String),
}

/// `'value'` with quotes doubled; an `E''` string when it holds a backslash, so the value
/// is taken literally whatever `standard_conforming_strings` says.
pub fn quote_literal(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 3);
    if v.contains('\\') {
        out.push('E');
    }
    out.push('\'');
    for c in v.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Substitutes `params` into `sql`. Every parameter must be used and every `:name` given.
pub fn bind(sql: &str, params: &[(String, String)]) -> Result<String, ParamError> {
    let mut values: HashMap<&str, (&str, bool)> = HashMap::with_capacity(params.len());
    for (n, v) in params {
        if values.insert(n.as_str(), (v.as_str(), false)).is_some() {
            return Err(ParamError::Duplicate(n.clone()));
        }
    }
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                let q = b[i];
                i += 1;
                while i < b.len() {
                    if b[i] == q {
                        if b.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
            }
            b'$' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => i += 1,
            b'$' => {
                // `$tag$ … $tag$`, the tag empty or an identifier.
                let mut j = i + 1;
                while j < b.len() && is_name_byte(b[j]) {
                    j += 1;
                }
                if j < b.len() && b[j] == b'$' {
                    let tag = &sql[i..=j];
                    i = match sql[j + 1..].find(tag) {
                        Some(end) => j + 1 + end + tag.len(),
                        None => b.len(),
                    };
                } else {
                    i += 1;
                }
            }
            b':' if b.get(i + 1) == Some(&b':') => i += 2,
            b':' if b.get(i + 1).is_some_and(|&c| is_name_byte(c)) => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && is_name_byte(b[j]) {
                    j += 1;
                }
                let name = &sql[start..j];
                let Some(entry) = values.get_mut(name) else {
                    return Err(ParamError::Missing(name.to_owned()));
                };
                out.push_str(&sql[copied..i]);
                out.push_str(&quote_literal(entry.0));
                entry.1 = true;
                copied = j;
                i = j;
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied.min(sql.len())..]);
    // In the order given, so the message names the first unused one.
    if let Some((n, _)) = params.iter().find(|(n, _)| !values[n.as_str()].1) {
        return Err(ParamError::Unused(n.clone()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn names_become_quoted_literals_outside_quotes_comments_and_casts() {
        let sql = "select :a, ':a', \":a\", x::int, $$ :a $$ -- :a\n/* :a */ from t where b = :b";
        assert_eq!(
            bind(sql, &p(&[("a", "it's"), ("b", "7")])).unwrap(),
            "select 'it''s', ':a', \":a\", x::int, $$ :a $$ -- :a\n/* :a */ from t where b = '7'"
        );
        assert_eq!(
            bind("select :v", &p(&[("v", "a\\b")])).unwrap(),
            "select E'a\\\\b'"
        );
    }

    #[test]
    fn missing_unused_and_duplicate_parameters_are_errors() {
        assert_eq!(bind("select :a", &[]), Err(ParamError::Missing("a".into())));
        assert_eq!(
            bind("select 1", &p(&[("a", "1")])),
            Err(ParamError::Unused("a".into()))
        );
        assert_eq!(
            bind("select :a", &p(&[("a", "1"), ("a", "2")])),
            Err(ParamError::Duplicate("a".into()))
        );
    }

    #[test]
    fn unterminated_quotes_and_comments_end_the_scan() {
        assert_eq!(bind("select ':a", &[]).unwrap(), "select ':a");
        assert_eq!(bind("select /* :a", &[]).unwrap(), "select /* :a");
        assert_eq!(bind("select $x$ :a", &[]).unwrap(), "select $x$ :a");
    }
}
