//! YAML emitter for `--output yaml` / `yaml-stream`, ported from what aws CLI v2 prints
//! (ruamel.yaml 0.19 `YAML(typ='safe')`, `default_flow_style = False`): block style, keys
//! sorted (see `SORT_KEYS`), sequences inside mappings not indented, strings quoted only when
//! plain would not read back as the same string (YAML 1.2 resolver), `null` for None, `{}` /
//! `[]` for empties. Scalars are folded at ruamel's best width (80 columns) exactly as its
//! `write_plain`, `write_single_quoted` and `write_double_quoted` do; the writer below keeps
//! the column/indent state those functions consult. Written by hand: serde-saphyr's
//! `SerializerOptions` (the crate dependencies.md names) offer no way to fold plain or quoted
//! scalars onto continuation lines as ruamel does (its folding emits `>` block scalars) nor
//! ruamel's quoting choices, so it cannot reproduce these bytes.

use serde_json::{Map, Value};

use super::yaml_scalar::{analyze, escape, fold_needs_backslash, is_break, resolves_to_non_string};
use crate::pyfmt;

/// ruamel's `SafeRepresenter` sorts the keys of plain dicts (`sort_base_mapping_type_on_output`),
/// and botocore's parsed responses are plain dicts, so v2 prints keys sorted, not in response
/// order.
const SORT_KEYS: bool = true;

/// ruamel's default `best_width`.
const WIDTH: usize = 80;

/// The document as ruamel's safe dumper writes it (ends with a newline).
pub fn dump(v: &Value) -> String {
    let mut w = Writer::default();
    match v {
        Value::Object(m) if !m.is_empty() => w.map(m, 0, false),
        Value::Array(a) if !a.is_empty() => w.seq(a, 0, false),
        _ => {
            w.root = true;
            let plain = w.scalar(v, 0, false, false) && !v.is_array() && !v.is_object();
            w.out.push('\n');
            // A plain root scalar leaves the document open-ended; ruamel closes it.
            if plain {
                w.out.push_str("...\n");
            }
        }
    }
    w.out
}

/// Output plus the emitter state ruamel's scalar writers read: the column, whether the last
/// thing written was whitespace, and whether the line so far is only indentation.
#[derive(Default)]
struct Writer {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    /// Writing a root scalar: ruamel's indent is then None, which turns off the rule that
    /// moves a word longer than the line to a line of its own.
    root: bool,
}

impl Writer {
    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += s.chars().count();
    }

    fn line_break(&mut self, br: char) {
        self.out.push(br);
        self.whitespace = true;
        self.indention = true;
        self.column = 0;
    }

    /// ruamel `write_indent`.
    fn indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.line_break('\n');
        }
        if self.column < indent {
            self.whitespace = true;
            let pad = " ".repeat(indent - self.column);
            self.raw(&pad);
        }
    }

    /// Starts a block line at `indent` (a new key or `- `) unless the caller already wrote
    /// the `- ` this node goes after.
    fn start_line(&mut self, indent: usize, inline: bool) {
        if !inline {
            self.column = 0;
            self.raw(&" ".repeat(indent));
            self.indention = true;
        }
    }

    fn end_line(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn map(&mut self, m: &Map<String, Value>, indent: usize, inline: bool) {
        let mut entries: Vec<(&String, &Value)> = m.iter().collect();
        if SORT_KEYS {
            // Python sorts str by code point; UTF-8 byte order is the same order.
            entries.sort_by(|a, b| a.0.cmp(b.0));
        }
        for (i, (k, v)) in entries.into_iter().enumerate() {
            self.start_line(indent, inline && i == 0);
            // ruamel `check_simple_key`: the key plus its `!!str` tag must stay under 128
            // chars and be on one line; otherwise `? key` then `: value`.
            let complex = k.contains(is_break) || k.chars().count() + 5 >= 128;
            if complex {
                self.raw("?");
                self.whitespace = false;
                self.indention = true;
                self.string(k, indent + 2, false);
                self.end_line();
                self.start_line(indent, false);
            } else {
                // Simple keys are never folded, never plain when empty.
                self.whitespace = true;
                self.string(k, indent + 2, true);
            }
            self.raw(":");
            self.whitespace = false;
            self.indention = false;
            match v {
                // After `? key`, a collection value starts on the `:` line, indented.
                Value::Object(c) if complex && !c.is_empty() => {
                    self.raw(" ");
                    self.map(c, indent + 2, true);
                }
                Value::Array(c) if complex && !c.is_empty() => {
                    self.raw(" ");
                    self.seq(c, indent + 2, true);
                }
                Value::Object(c) if !c.is_empty() => {
                    self.end_line();
                    self.map(c, indent + 2, false);
                }
                // Block sequences inside a mapping are written indentless.
                Value::Array(c) if !c.is_empty() => {
                    self.end_line();
                    self.seq(c, indent, false);
                }
                _ => {
                    self.scalar(v, indent + 2, true, false);
                    self.end_line();
                }
            }
        }
    }

    fn seq(&mut self, a: &[Value], indent: usize, inline: bool) {
        for (i, v) in a.iter().enumerate() {
            self.start_line(indent, inline && i == 0);
            self.raw("-");
            self.whitespace = false;
            match v {
                Value::Object(c) if !c.is_empty() => {
                    self.raw(" ");
                    self.map(c, indent + 2, true);
                }
                Value::Array(c) if !c.is_empty() => {
                    self.raw(" ");
                    self.seq(c, indent + 2, true);
                }
                _ => {
                    self.scalar(v, indent + 2, true, false);
                    self.end_line();
                }
            }
        }
    }

    /// Writes a scalar (or an empty collection) after a separating space when `lead` is set;
    /// returns whether it was written plain.
    fn scalar(&mut self, v: &Value, indent: usize, lead: bool, key: bool) -> bool {
        let text = match v {
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => match n.as_f64().filter(|_| !(n.is_i64() || n.is_u64())) {
                // ruamel: repr(float).lower(), with .inf/.nan spelled the YAML way.
                Some(f) if f.is_nan() => ".nan".into(),
                Some(f) if f.is_infinite() => if f > 0.0 { ".inf" } else { "-.inf" }.into(),
                Some(f) => pyfmt::float_repr(f).to_lowercase(),
                None => n.to_string(),
            },
            Value::String(s) => {
                self.whitespace = !lead;
                return self.string(s, indent, key);
            }
            // Empty collections are flow nodes, never folded.
            Value::Array(_) | Value::Object(_) => {
                if lead {
                    self.raw(" ");
                }
                self.raw(if v.is_array() { "[]" } else { "{}" });
                return false;
            }
        };
        // Non-strings are plain scalars and fold like any other plain scalar.
        self.whitespace = !lead;
        self.plain(&text, indent, !key);
        true
    }

    /// ruamel `choose_scalar_style` for a str, then the matching writer.
    fn string(&mut self, s: &str, indent: usize, key: bool) -> bool {
        let a = analyze(s);
        let split = !key;
        if !resolves_to_non_string(s)
            && !(key && (s.is_empty() || a.multiline))
            && a.allow_block_plain
        {
            self.plain(s, indent, split);
            return true;
        }
        if s.contains('\'') || s.contains('\n') || !a.allow_single_quoted || (key && a.multiline) {
            self.double_quoted(s, indent, split);
        } else {
            self.single_quoted(s, indent, split);
        }
        false
    }

    fn lead(&mut self) {
        if !self.whitespace {
            self.raw(" ");
        }
    }

    /// ruamel `write_plain` (never called with line breaks: those are never plain).
    fn plain(&mut self, text: &str, indent: usize, split: bool) {
        if text.is_empty() {
            return;
        }
        self.lead();
        self.whitespace = false;
        self.indention = false;
        let chars: Vec<char> = text.chars().collect();
        let (mut start, mut end, mut spaces) = (0, 0, false);
        while end <= chars.len() {
            let ch = chars.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column >= WIDTH && split {
                        self.indent(indent);
                        self.whitespace = false;
                        self.indention = false;
                    } else {
                        let data: String = chars[start..end].iter().collect();
                        self.raw(&data);
                    }
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ') {
                let data: String = chars[start..end].iter().collect();
                // Words longer than the line get a line of their own.
                if data.chars().count() + self.column > WIDTH && !self.root && self.column > indent
                {
                    self.indent(indent);
                }
                self.raw(&data);
                start = end;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
            }
            end += 1;
        }
    }

    /// ruamel `write_single_quoted`.
    fn single_quoted(&mut self, text: &str, indent: usize, split: bool) {
        self.lead();
        self.raw("'");
        self.whitespace = false;
        self.indention = false;
        let chars: Vec<char> = text.chars().collect();
        let n = chars.len();
        let (mut start, mut end, mut spaces, mut breaks) = (0, 0, false, false);
        while end <= n {
            let ch = chars.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column > WIDTH && split && start != 0 && end != n {
                        self.indent(indent);
                    } else {
                        let data: String = chars[start..end].iter().collect();
                        self.raw(&data);
                    }
                    start = end;
                }
            } else if breaks {
                if ch.is_none_or(|c| !is_break(c)) {
                    if chars[start] == '\n' {
                        self.line_break('\n');
                    }
                    for &br in &chars[start..end] {
                        self.line_break(br);
                    }
                    self.indent(indent);
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || c == '\'' || is_break(c)) && start < end {
                let data: String = chars[start..end].iter().collect();
                self.raw(&data);
                start = end;
            }
            if ch == Some('\'') {
                self.raw("''");
                start = end + 1;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_break(c);
            }
            end += 1;
        }
        self.raw("'");
        self.whitespace = false;
    }

    /// ruamel `write_double_quoted`, including its rule for when a fold needs a backslash.
    fn double_quoted(&mut self, text: &str, indent: usize, split: bool) {
        self.lead();
        self.raw("\"");
        self.whitespace = false;
        self.indention = false;
        let chars: Vec<char> = text.chars().collect();
        let n = chars.len();
        let (mut start, mut end) = (0, 0);
        while end <= n {
            let ch = chars.get(end).copied();
            if ch.is_none_or(|c| escape(c).is_some()) {
                if start < end {
                    let data: String = chars[start..end].iter().collect();
                    self.raw(&data);
                    start = end;
                }
                if let Some(e) = ch.and_then(escape) {
                    self.raw(&e);
                    start = end + 1;
                }
            }
            if 0 < end
                && end + 1 < n
                && (ch == Some(' ') || start >= end)
                // Right after an escape `start` is `end + 1`: Python's `end - start` is then -1.
                && (self.column + end) as isize - start as isize > WIDTH as isize
                && split
            {
                let backslash = fold_needs_backslash(&chars, start, end);
                let mut data: String = chars[start.min(end)..end].iter().collect();
                if backslash {
                    data.push('\\');
                }
                if start < end {
                    start = end;
                }
                self.raw(&data);
                self.indent(indent);
                self.whitespace = false;
                self.indention = false;
                if chars[start] == ' ' {
                    if backslash {
                        self.raw("\\");
                    } else {
                        // The line break will load as this space.
                        start += 1;
                    }
                }
            }
            end += 1;
        }
        self.raw("\"");
        self.whitespace = false;
    }
}
