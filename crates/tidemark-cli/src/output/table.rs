//! `--output table`, a port of awscli v1 `awscli/table.py` (`MultiTable`, `Section`) and the
//! table builder of `awscli/formatter.py` (`TableFormatter._build_table`).

use serde_json::Value;

use crate::pyfmt::py_str;

/// `get_text_length`: East Asian wide, full-width and ambiguous characters count 2.
fn text_len(s: &str) -> usize {
    s.chars()
        .map(|c| if super::eaw::is_wide(c) { 2 } else { 1 })
        .sum()
}

#[derive(Default)]
struct Section {
    title: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    indent: usize,
    max_widths: Vec<usize>,
    /// awscli `Section._num_cols`: set by the first header or row; later rows must match.
    num_cols: Option<usize>,
}

impl Section {
    fn update_max_widths(&mut self, row: &[String]) {
        if self.max_widths.is_empty() {
            self.max_widths = row.iter().map(|s| text_len(s)).collect();
        } else {
            for (i, el) in row.iter().enumerate() {
                if let Some(w) = self.max_widths.get_mut(i) {
                    *w = (*w).max(text_len(el));
                }
            }
        }
    }

    fn calculate_column_widths(&self, padding: usize, max_width: Option<usize>) -> Vec<usize> {
        let unscaled: Vec<usize> = self.max_widths.iter().map(|w| w + padding).collect();
        let Some(max_width) = max_width else {
            return unscaled;
        };
        if unscaled.is_empty() {
            return unscaled;
        }
        let total: usize = unscaled.iter().sum();
        let scale = max_width as f64 / total as f64;
        // Python's round() rounds half to even.
        let mut scaled: Vec<i64> = unscaled
            .iter()
            .map(|&w| (scale * w as f64).round_ties_even() as i64)
            .collect();
        let mut off_by: i64 = scaled.iter().sum::<i64>() - max_width as i64;
        while off_by != 0 {
            let order: Vec<usize> = if off_by < 0 {
                (0..scaled.len()).rev().collect()
            } else {
                (0..scaled.len()).collect()
            };
            for i in order {
                if off_by > 0 {
                    scaled[i] -= 1;
                    off_by -= 1;
                } else {
                    scaled[i] += 1;
                    off_by += 1;
                }
                if off_by == 0 {
                    break;
                }
            }
        }
        scaled.into_iter().map(|w| w.max(0) as usize).collect()
    }

    fn total_width(&self, padding: usize, outer: usize) -> usize {
        let total: usize = self
            .calculate_column_widths(0, None)
            .iter()
            .map(|w| w + padding)
            .sum::<usize>()
            + 2
            + 2 * outer;
        (text_len(&self.title) + 2 + 2 * outer).max(total)
    }
}

/// Table builder + renderer (`MultiTable` with `initial_section=False`, `column_separator='|'`).
pub struct Table {
    sections: Vec<Section>,
    color: bool,
    terminal_width: usize,
    /// The `ValueError` awscli raises for a row of the wrong width (the first one wins; aws
    /// then prints no table at all).
    error: Option<String>,
}

fn center_text(text: &str, length: usize, left: &str, right: &str, text_length: usize) -> String {
    let char_start = (length / 2) as i64 - (text_length / 2) as i64 - 1;
    let mut out = format!("{left}{}{text}", " ".repeat(char_start.max(0) as usize));
    let so_far = text_len(left) as i64 + char_start + text_length as i64;
    let right_spaces = length as i64 - text_len(right) as i64 - so_far;
    out.push_str(&" ".repeat(right_spaces.max(0) as usize));
    out.push_str(right);
    out
}

fn align_left(text: &str, length: usize, left: &str, right: &str, text_length: usize) -> String {
    let computed = text_length + 2 + text_len(left) + text_len(right);
    let padding = if length >= computed { 2 } else { 0 };
    let so_far = left.chars().count() + padding + text_length;
    let fill = length as i64 - so_far as i64 - right.chars().count() as i64;
    format!(
        "{left}{}{text}{}{right}",
        " ".repeat(padding),
        " ".repeat(fill.max(0) as usize)
    )
}

impl Table {
    pub fn new(color: bool, terminal_width: usize) -> Table {
        Table {
            sections: Vec::new(),
            color,
            terminal_width,
            error: None,
        }
    }

    fn cur(&mut self) -> &mut Section {
        if self.sections.is_empty() {
            self.sections.push(Section::default());
        }
        let n = self.sections.len() - 1;
        &mut self.sections[n]
    }

    fn new_section(&mut self, title: &str, indent: usize) {
        self.sections.push(Section {
            title: title.to_string(),
            indent,
            ..Section::default()
        });
    }

    fn add_row_header(&mut self, headers: Vec<String>) {
        let s = self.cur();
        s.update_max_widths(&headers);
        s.num_cols.get_or_insert(headers.len());
        s.headers = headers;
    }

    fn add_row(&mut self, row: Vec<String>) {
        let s = self.cur();
        let want = *s.num_cols.get_or_insert(row.len());
        if want != row.len() {
            // e.g. a list of lists of dicts whose lists carry different keys (redshift-data
            // Records with a NULL in one row): aws fails the whole table.
            let msg = format!(
                "Row should have {want} elements, instead it has {}",
                row.len()
            );
            self.error.get_or_insert(msg);
            return;
        }
        s.update_max_widths(&row);
        s.rows.push(row);
    }

    /// `TableFormatter._build_table`; returns false when there is nothing to render.
    pub fn build(&mut self, title: Option<&str>, current: &Value, indent: usize) -> bool {
        if is_falsy(current) {
            return false;
        }
        if let Some(t) = title {
            self.new_section(t, indent);
        }
        match current {
            Value::Array(list) => {
                if list[0].is_object() {
                    self.sub_table_from_list(list, indent, title.unwrap_or(""));
                } else {
                    for item in list {
                        match item {
                            Value::Array(inner) if inner.iter().all(is_scalar) => {
                                self.add_row(inner.iter().map(py_str).collect())
                            }
                            Value::Object(m) => self.add_row(m.keys().cloned().collect()),
                            Value::Array(_) => {
                                self.build(None, item, 0);
                            }
                            scalar => self.add_row(vec![py_str(scalar)]),
                        }
                    }
                }
            }
            Value::Object(_) => self.sub_table_from_dict(current, indent),
            _ => {}
        }
        true
    }

    fn sub_table_from_dict(&mut self, current: &Value, indent: usize) {
        let Value::Object(map) = current else { return };
        let (headers, more) = group_scalar_keys(current);
        if headers.len() == 1 {
            let v = py_str(&map[headers[0].as_str()]);
            self.add_row(vec![headers[0].clone(), v]);
        } else if !headers.is_empty() {
            let row = headers.iter().map(|h| py_str(&map[h.as_str()])).collect();
            self.add_row_header(headers);
            self.add_row(row);
        }
        for k in more {
            self.build(Some(&k), &map[k.as_str()], indent + 1);
        }
    }

    fn sub_table_from_list(&mut self, list: &[Value], indent: usize, title: &str) {
        let mut headers: Vec<String> = Vec::new();
        let mut more: Vec<String> = Vec::new();
        for item in list {
            let (h, m) = group_scalar_keys(item);
            for k in h {
                if !headers.contains(&k) {
                    headers.push(k);
                }
            }
            for k in m {
                if !more.contains(&k) {
                    more.push(k);
                }
            }
        }
        headers.sort();
        more.sort();
        self.add_row_header(headers.clone());
        for (i, element) in list.iter().enumerate() {
            if i > 0 && !more.is_empty() {
                self.new_section(title, indent);
                self.add_row_header(headers.clone());
            }
            let row = headers
                .iter()
                .map(|h| element.get(h.as_str()).map(py_str).unwrap_or_default())
                .collect();
            self.add_row(row);
            for k in &more {
                if let Some(v) = element.get(k.as_str()) {
                    self.build(Some(k), v, indent + 1);
                }
            }
        }
    }

    fn max_width(&self) -> usize {
        self.sections
            .iter()
            .map(|s| s.total_width(4, s.indent))
            .max()
            .unwrap_or(0)
    }

    fn style_row(&self, t: &str) -> String {
        if self.color {
            format!("\x1b[1m\x1b[34m{t}\x1b[0m")
        } else {
            t.to_string()
        }
    }

    fn style_indent(&self) -> String {
        if self.color {
            "\x1b[2m\x1b[33m|\x1b[0m".to_string()
        } else {
            "|".to_string()
        }
    }

    /// One `write()` on the output stream. With colour on, awscli's stream is colorama's
    /// `autoreset` wrapper, which appends `ESC[0m` after every write; we reproduce that.
    fn write(&self, out: &mut String, s: &str) {
        out.push_str(s);
        if self.color {
            out.push_str("\x1b[0m");
        }
    }

    /// `MultiTable.render`.
    pub fn render(&mut self, out: &mut String) {
        let mut max_width = self.max_width();
        if max_width > self.terminal_width {
            // convert_to_vertical_table: single-row sections with headers become key/value rows.
            for s in self.sections.iter_mut() {
                if s.rows.len() == 1 && !s.headers.is_empty() {
                    let mut ns = Section {
                        title: s.title.clone(),
                        indent: s.indent,
                        ..Section::default()
                    };
                    let pairs: Vec<Vec<String>> = s
                        .headers
                        .iter()
                        .zip(s.rows[0].iter())
                        .map(|(h, e)| vec![h.clone(), e.clone()])
                        .collect();
                    for p in pairs {
                        ns.update_max_widths(&p);
                        ns.rows.push(p);
                    }
                    *s = ns;
                }
            }
            max_width = self.max_width();
        }
        self.write(out, &format!("{}\n", "-".repeat(max_width)));
        for s in &self.sections {
            self.render_section(s, max_width, out);
        }
    }

    /// `IndentedStream.write(line + '\n')`: four writes on the underlying stream.
    fn write_indented(&self, indent: usize, line: &str, out: &mut String) {
        let ind = self.style_indent().repeat(indent);
        self.write(out, &ind);
        self.write(out, line);
        self.write(out, &ind);
        self.write(out, "\n");
    }

    fn line_break(widths: &[usize]) -> String {
        let mut s = String::new();
        for (i, w) in widths.iter().enumerate() {
            if i == 0 {
                s.push_str(&format!("+{}+", "-".repeat(w.saturating_sub(2))));
            } else {
                s.push_str(&format!("{}+", "-".repeat(w.saturating_sub(1))));
            }
        }
        s
    }

    fn render_section(&self, s: &Section, max_width: usize, out: &mut String) {
        let width = max_width.saturating_sub(s.indent * 2);
        if !s.title.is_empty() {
            self.write_indented(
                s.indent,
                &center_text(&s.title, width, "|", "|", text_len(&s.title)),
                out,
            );
            if s.headers.is_empty() && s.rows.is_empty() {
                self.write_indented(
                    s.indent,
                    &format!("+{}+", "-".repeat(width.saturating_sub(2))),
                    out,
                );
            }
        }
        if !s.headers.is_empty() {
            let widths = s.calculate_column_widths(4, Some(width));
            let mut cur = String::new();
            for (i, (w, h)) in widths.iter().zip(s.headers.iter()).enumerate() {
                cur.push_str(&center_text(
                    h,
                    *w,
                    if i == 0 { "|" } else { "" },
                    "|",
                    text_len(h),
                ));
            }
            self.write_indented(s.indent, &Self::line_break(&widths), out);
            self.write_indented(s.indent, &cur, out);
        }
        if !s.rows.is_empty() {
            let widths = s.calculate_column_widths(4, Some(width));
            if widths.is_empty() {
                return;
            }
            self.write_indented(s.indent, &Self::line_break(&widths), out);
            for row in &s.rows {
                let mut cur = String::new();
                for (i, (w, el)) in widths.iter().zip(row.iter()).enumerate() {
                    cur.push_str(&align_left(
                        &self.style_row(el),
                        *w,
                        if i == 0 { "|" } else { "" },
                        "|",
                        text_len(el),
                    ));
                }
                self.write_indented(s.indent, &cur, out);
            }
            self.write_indented(s.indent, &Self::line_break(&widths), out);
        }
    }
}

fn is_scalar(v: &Value) -> bool {
    !v.is_object() && !v.is_array()
}

/// Python truthiness of a parsed value.
fn is_falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

fn group_scalar_keys(v: &Value) -> (Vec<String>, Vec<String>) {
    let (mut headers, mut more) = (Vec::new(), Vec::new());
    if let Value::Object(m) = v {
        for (k, val) in m {
            if is_scalar(val) {
                headers.push(k.clone())
            } else {
                more.push(k.clone())
            }
        }
    }
    headers.sort();
    more.sort();
    (headers, more)
}

/// Renders `data` under `title` (the operation name) as awscli's table formatter does.
/// The table for `data`, or the error awscli's table formatter raises for it.
pub fn try_format_table(
    title: &str,
    data: &Value,
    color: bool,
    terminal_width: usize,
) -> Result<String, String> {
    let mut t = Table::new(color, terminal_width);
    let mut out = String::new();
    if t.build(Some(title), data, 0) {
        if let Some(e) = t.error.take() {
            return Err(e);
        }
        t.render(&mut out);
    }
    Ok(out)
}

/// [`try_format_table`], with an error rendered as nothing (tests of well-formed tables).
pub fn format_table(title: &str, data: &Value, color: bool, terminal_width: usize) -> String {
    try_format_table(title, data, color, terminal_width).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_table_matches_transcript() {
        let v = json!({"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}});
        let want = "\
-----------------------------------------------
|          DescribeContinuousBackups          |
+---------------------------------------------+
||       ContinuousBackupsDescription        ||
|+------------------------------+------------+|
||  ContinuousBackupsStatus     |  ENABLED   ||
|+------------------------------+------------+|
|||     PointInTimeRecoveryDescription      |||
||+----------------------------+------------+||
|||  PointInTimeRecoveryStatus |  DISABLED  |||
||+----------------------------+------------+||
";
        assert_eq!(
            format_table("DescribeContinuousBackups", &v, false, 80),
            want
        );
    }

    #[test]
    fn query_table_matches_transcript() {
        let v = json!([{"Name": "from-json", "Status": "AVAILABLE"}, {"Name": "override-name", "Status": "AVAILABLE"}]);
        let want = "\
--------------------------------
|          ListBackups         |
+----------------+-------------+
|      Name      |   Status    |
+----------------+-------------+
|  from-json     |  AVAILABLE  |
|  override-name |  AVAILABLE  |
+----------------+-------------+
";
        assert_eq!(format_table("ListBackups", &v, false, 80), want);
    }

    /// awscli's `Section.add_row` refuses a row narrower than the section's first one.
    #[test]
    fn ragged_rows_fail_like_awscli() {
        let v = json!({"Records": [[{"a": 1}, {"b": 2}], [{"a": 3}]]});
        assert_eq!(
            try_format_table("T", &v, false, 80),
            Err("Row should have 2 elements, instead it has 1".into())
        );
    }
}
