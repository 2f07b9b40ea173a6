//! Java-regex → `regex` crate translation for the models' `pattern` constraints, used only to
//! pick sample values and predict expected violations in generated tests. Deliberately kept
//! separate from the runtime's translator so the generated tests check it independently.

use regex::Regex;

pub fn compile(pattern: &str) -> Option<Regex> {
    let p = pattern
        .replace(r"\uD800\uDC00-\uDBFF\uDFFF", r"\x{10000}-\x{10FFFF}")
        .replace(
            r"(?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9]",
            r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9])",
        )
        .replace(
            r"(?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9]",
            r"(?:[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9])",
        )
        .replace(r"\p{Print}", r"[ -~]");
    let u = Regex::new(r"\\u([0-9A-Fa-f]{4})").ok()?;
    let p = u.replace_all(&p, r"\x{$1}").into_owned();
    // Java's `\w` is ASCII-only; `(?-u:\w)` is not allowed inside a Unicode class, so spell it.
    let p = split_w(&p);
    Regex::new(&format!("^(?:{p})$")).ok()
}

fn split_w(p: &str) -> String {
    let mut out = String::new();
    let mut in_class = false;
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let n = chars.next().unwrap_or('\\');
            if n == 'w' {
                out.push_str(if in_class {
                    "0-9A-Za-z_"
                } else {
                    "[0-9A-Za-z_]"
                });
            } else {
                out.push(c);
                out.push(n);
            }
            continue;
        }
        if c == '[' {
            in_class = true;
        } else if c == ']' {
            in_class = false;
        }
        out.push(c);
    }
    out
}
