//! Model `pattern` constraints: Java-regex text from the botocore models, translated once to
//! the `regex` crate's syntax and cached per pattern.
//!
//! The models' patterns are Java regexes matched against the whole value (`Matcher.matches`).
//! Translation handles what those models use: `\uXXXX` escapes (incl. one surrogate-pair
//! range), `\p{Print}`, ASCII-only `\w`, and the negative look-ahead in Redshift's
//! `CustomDomainNameString` (rewritten to an equivalent look-ahead-free form). A pattern that
//! still fails to compile is skipped (treated as matching): a test in this module asserts every
//! pattern in both models compiles, so that path is only reachable for a future model.

use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

use regex::Regex;

/// Compiled patterns keyed by their model text; `None` = could not be translated.
static CACHE: LazyLock<RwLock<HashMap<&'static str, Option<Regex>>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// Whether `value` fully matches the model pattern `pattern`.
pub fn matches(pattern: &'static str, value: &str) -> bool {
    {
        // A poisoned lock only means another thread panicked mid-insert; the map is still
        // a valid cache, so keep using it.
        let cache = CACHE.read().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = cache.get(pattern) {
            return entry.as_ref().is_none_or(|re| re.is_match(value));
        }
    }
    let compiled = compile(pattern);
    let result = compiled.as_ref().is_none_or(|re| re.is_match(value));
    CACHE
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(pattern, compiled);
    result
}

/// Compiles a model pattern anchored for a full match, or `None` if it cannot be expressed.
pub fn compile(pattern: &str) -> Option<Regex> {
    Regex::new(&format!("^(?:{})$", translate(pattern))).ok()
}

/// Rewrites Java-regex syntax used by the AWS models into `regex` crate syntax.
pub fn translate(pattern: &str) -> String {
    // Fixed rewrites first, for constructs that have no direct equivalent.
    let p = pattern
        // UTF-16 surrogate pair range = every supplementary-plane code point.
        .replace(r"\uD800\uDC00-\uDBFF\uDFFF", r"\x{10000}-\x{10FFFF}")
        // DNS label that must not start with '-' (look-ahead is unsupported).
        .replace(
            r"(?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9]",
            r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?",
        )
        .replace(
            r"(?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9]",
            r"[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]",
        );
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 16);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            let rest: String = chars[i + 1..].iter().collect();
            if n == 'u'
                && i + 6 <= chars.len()
                && chars[i + 2..i + 6].iter().all(|h| h.is_ascii_hexdigit())
            {
                let hex: String = chars[i + 2..i + 6].iter().collect();
                out.push_str(&format!(r"\x{{{hex}}}"));
                i += 6;
                continue;
            }
            if rest.starts_with("p{Print}") {
                out.push_str(if in_class {
                    r"\x20-\x7E"
                } else {
                    r"[\x20-\x7E]"
                });
                i += 1 + "p{Print}".len();
                continue;
            }
            if n == 'w' {
                out.push_str(if in_class {
                    "0-9A-Za-z_"
                } else {
                    "[0-9A-Za-z_]"
                });
                i += 2;
                continue;
            }
            out.push(c);
            out.push(n);
            i += 2;
            continue;
        }
        match c {
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_pattern_compiles() {
        for svc in ["dynamodb", "redshift"] {
            let model: serde_json::Value =
                serde_json::from_str(crate::raw_model_json(svc)).unwrap();
            for (name, shape) in model["shapes"].as_object().unwrap() {
                if let Some(p) = shape.get("pattern").and_then(|p| p.as_str()) {
                    assert!(
                        compile(p).is_some(),
                        "{svc} {name}: {p} -> {}",
                        translate(p)
                    );
                }
            }
        }
    }

    #[test]
    fn java_constructs_translate() {
        assert!(matches("[a-zA-Z0-9_.-]+", "my_backup.1"));
        assert!(!matches("[a-zA-Z0-9_.-]+", ""));
        assert!(!matches("[a-zA-Z0-9_.-]+", "a b"));
        assert!(matches(r"\p{Print}+", "policy name"));
        assert!(!matches(r"\p{Print}+", "tab\there"));
        let arn = r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]*";
        assert!(matches(arn, "arn:aws:iam::1:role/x 😀"));
        assert!(!matches(arn, "\u{1}"));
        let dns =
            r"^(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])$";
        assert!(matches(dns, "a.example.com"));
        assert!(!matches(dns, "-a.example.com"));
        assert!(!matches(dns, "a.-example.com"));
        // Java's \w is ASCII-only.
        assert!(!matches(r"[\w+=,.@-]+", "é"));
        assert!(matches(r"[\w+=,.@-]+", "user@x.com"));
        assert!(!matches("^.*$", "a\nb"));
    }
}
