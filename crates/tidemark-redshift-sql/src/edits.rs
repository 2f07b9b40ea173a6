//! Byte-range replacements over the original text, applied in one pass.

use std::collections::BTreeMap;

/// Replacements of `[start, end)` byte ranges of the input (an insertion has `start == end`),
/// ordered by (start, end, order of arrival): an insertion at p goes before a replacement
/// starting at p, and two insertions at p keep the order they were made in.
#[derive(Debug)]
pub(crate) struct Edits {
    map: BTreeMap<(usize, usize, u32), String>,
    seq: u32,
    /// Bytes that `render`/`take` may still copy: constructs that copy text (DECODE's
    /// expression, LISTAGG's ORDER BY) stay linear in the input however they nest.
    budget: usize,
}

impl Edits {
    pub fn new(input_len: usize) -> Self {
        Edits {
            map: BTreeMap::new(),
            seq: 0,
            budget: input_len.saturating_mul(4).saturating_add(1 << 16),
        }
    }

    pub fn replace(&mut self, start: usize, end: usize, text: impl Into<String>) {
        self.seq = self.seq.wrapping_add(1);
        self.map.insert((start, end, self.seq), text.into());
    }

    pub fn remove(&mut self, start: usize, end: usize) {
        self.replace(start, end, "");
    }

    pub fn insert(&mut self, at: usize, text: impl Into<String>) {
        self.replace(at, at, text);
    }

    /// The text of `sql[start..end]` with the edits made so far inside it, or `None` if an
    /// edit straddles the range or the copy budget is spent.
    pub fn render(&mut self, sql: &str, start: usize, end: usize) -> Option<String> {
        let inside: Vec<_> = self
            .map
            .range((start, 0, 0)..(end.saturating_add(1), 0, 0))
            .filter(|((s, e, _), _)| !(*s == end && *e == end))
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        // An edit that starts before `start` and reaches into the range straddles it.
        if let Some(((_, e, _), _)) = self.map.range(..(start, 0, 0)).next_back()
            && *e > start
        {
            return None;
        }
        let out = splice(sql, start, end, inside.iter().map(|&(k, v)| (k.0, k.1, v)))?;
        self.budget = self.budget.checked_sub(out.len())?;
        Some(out)
    }

    /// Like `render`, and the edits inside the range are dropped: the caller moves the text.
    pub fn take(&mut self, sql: &str, start: usize, end: usize) -> Option<String> {
        let out = self.render(sql, start, end)?;
        let keys: Vec<_> = self
            .map
            .range((start, 0, 0)..(end.saturating_add(1), 0, 0))
            .map(|(k, _)| *k)
            .filter(|(s, e, _)| !(*s == end && *e == end))
            .collect();
        for k in keys {
            self.map.remove(&k);
        }
        Some(out)
    }

    /// Whether `n` more bytes of copied text fit in the budget (and reserves them).
    pub fn reserve(&mut self, n: usize) -> bool {
        match self.budget.checked_sub(n) {
            Some(rest) => {
                self.budget = rest;
                true
            }
            None => false,
        }
    }

    /// The rewritten text, or `None` if there is nothing to change. Overlapping edits would
    /// mean two passes disagree about a token; rather than guess, the text passes through
    /// unchanged (PostgreSQL then reports whatever it cannot run).
    pub fn apply(self, sql: &str) -> Option<String> {
        if self.map.is_empty() {
            return None;
        }
        splice(
            sql,
            0,
            sql.len(),
            self.map.iter().map(|(k, v)| (k.0, k.1, v.as_str())),
        )
    }
}

/// `sql[from..to]` with sorted, non-overlapping edits (all inside the range) applied.
fn splice<'a>(
    sql: &str,
    from: usize,
    to: usize,
    edits: impl Iterator<Item = (usize, usize, &'a str)>,
) -> Option<String> {
    let mut out = String::with_capacity(to.saturating_sub(from) + 64);
    let mut pos = from;
    for (start, end, text) in edits {
        if start < pos || end > to || start > end {
            return None;
        }
        out.push_str(sql.get(pos..start)?);
        out.push_str(text);
        pos = end;
    }
    out.push_str(sql.get(pos..to)?);
    Some(out)
}
