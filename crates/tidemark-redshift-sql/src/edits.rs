//! Byte-range replacements over the original text, applied in one pass.

/// Replacements of `[start, end)` byte ranges of the input (an insertion has `start == end`).
#[derive(Debug, Default)]
pub(crate) struct Edits {
    list: Vec<Edit>,
}

#[derive(Debug)]
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

impl Edits {
    pub fn replace(&mut self, start: usize, end: usize, text: impl Into<String>) {
        self.list.push(Edit {
            start,
            end,
            text: text.into(),
        });
    }

    pub fn remove(&mut self, start: usize, end: usize) {
        self.replace(start, end, "");
    }

    pub fn insert(&mut self, at: usize, text: impl Into<String>) {
        self.replace(at, at, text);
    }

    /// The rewritten text, or `None` if there is nothing to change. Overlapping edits would
    /// mean two passes disagree about a token; rather than guess, the text passes through
    /// unchanged (PostgreSQL then reports whatever it cannot run).
    pub fn apply(mut self, sql: &str) -> Option<String> {
        if self.list.is_empty() {
            return None;
        }
        // Stable sort by (start, end): an insertion at p goes before a replacement starting at
        // p, and two insertions at p keep the order the passes pushed them in.
        self.list.sort_by_key(|e| (e.start, e.end));
        let mut out = String::with_capacity(sql.len() + 64);
        let mut pos = 0;
        for e in &self.list {
            if e.start < pos || e.end > sql.len() || e.start > e.end {
                return None;
            }
            out.push_str(sql.get(pos..e.start)?);
            out.push_str(&e.text);
            pos = e.end;
        }
        out.push_str(sql.get(pos..)?);
        Some(out)
    }
}
