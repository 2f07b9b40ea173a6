//! The compact tree's parser: strict JSON (RFC 8259, exactly what `serde_json::from_slice`
//! accepts), iterative with an explicit stack, so nesting costs heap rather than thread
//! stack, and bounded at serde_json's own recursion limit so both refuse the same bodies.

use std::collections::HashSet;

use super::{Node, Tag, Tree, str_at, subtree_end};

/// serde_json refuses the 128th level of nesting ("recursion limit exceeded"); so does this
/// parser, so that every body it refuses gets serde_json's message from the fallback.
pub(super) const MAX_DEPTH: usize = 127;

/// Objects with more members than this check for duplicate keys with a hash set; smaller
/// ones compare pairwise (cheaper for the one- to eight-member objects that make up nearly
/// every DynamoDB body).
const PAIRWISE_MAX: u32 = 8;

/// Why a body has no tree. The caller asks serde_json for the exact message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Refused;

struct Parser<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    nodes: Vec<Node>,
    escaped: Vec<Box<str>>,
    /// Open containers: node index, whether it is an object, members so far.
    stack: Vec<(u32, bool, u32)>,
}

/// Parses `text` into a tree; `Err` exactly when `serde_json::from_str::<Value>` fails.
pub(super) fn parse(text: &str, capacity: usize) -> Result<Tree, Refused> {
    // Node fields are u32 offsets; bodies are limited far below 4 GiB by the server.
    if u32::try_from(text.len()).is_err() {
        return Err(Refused);
    }
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        nodes: Vec::with_capacity(capacity),
        escaped: Vec::new(),
        stack: Vec::new(),
    };
    p.document()?;
    p.nodes.shrink_to_fit();
    p.escaped.shrink_to_fit();
    Ok(Tree {
        nodes: p.nodes,
        escaped: p.escaped,
        text_len: text.len(),
    })
}

/// An upper bound on the nodes of `text` (one per value and per key): every node but the
/// root follows one of `{ [ , :` outside strings. One allocation-free pass, used for large
/// bodies so the node vector is allocated once at (nearly) its final size instead of
/// doubling, which briefly holds both buffers.
pub(super) fn count_nodes(text: &[u8]) -> usize {
    let mut n = 1usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in text {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' | b',' | b':' => n += 1,
                _ => {}
            }
        }
    }
    n
}

fn pos32(n: usize) -> u32 {
    // `parse` checked that the text (hence every offset and node count, at most one node
    // per byte plus the root) fits in u32.
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> Result<(), Refused> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Refused)
        }
    }

    fn push(&mut self, tag: Tag, a: u32, b: u32) {
        self.nodes.push(Node { a, b, tag });
    }

    fn document(&mut self) -> Result<(), Refused> {
        'value: loop {
            self.skip_ws();
            match self.peek().ok_or(Refused)? {
                open @ (b'{' | b'[') => {
                    self.pos += 1;
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(Refused);
                    }
                    let object = open == b'{';
                    let idx = pos32(self.nodes.len());
                    self.push(if object { Tag::Object } else { Tag::Array }, 0, 0);
                    self.stack.push((idx, object, 0));
                    self.skip_ws();
                    let close = if object { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        self.close()?;
                    } else {
                        self.member(object)?;
                        continue 'value;
                    }
                }
                b'"' => {
                    self.pos += 1;
                    self.string()?;
                }
                b't' => self.literal(b"true", Tag::True)?,
                b'f' => self.literal(b"false", Tag::False)?,
                b'n' => self.literal(b"null", Tag::Null)?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return Err(Refused),
            }
            // A value is complete: continue its container, or close containers.
            loop {
                let Some(&(_, object, _)) = self.stack.last() else {
                    self.skip_ws();
                    return if self.pos == self.bytes.len() {
                        Ok(())
                    } else {
                        Err(Refused)
                    };
                };
                self.skip_ws();
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        self.member(object)?;
                        continue 'value;
                    }
                    Some(b'}') if object => {
                        self.pos += 1;
                        self.close()?;
                    }
                    Some(b']') if !object => {
                        self.pos += 1;
                        self.close()?;
                    }
                    _ => return Err(Refused),
                }
            }
        }
    }

    /// Starts a member of the innermost container: counts it, and reads an object
    /// member's key and colon.
    fn member(&mut self, object: bool) -> Result<(), Refused> {
        if let Some(top) = self.stack.last_mut() {
            top.2 += 1;
        }
        if object {
            self.eat(b'"')?;
            self.string()?;
            self.eat(b':')?;
        }
        Ok(())
    }

    /// Ends the innermost container: its member count and subtree end, and for an object
    /// whether some key repeats.
    fn close(&mut self) -> Result<(), Refused> {
        let (idx, object, count) = self.stack.pop().ok_or(Refused)?;
        let end = pos32(self.nodes.len());
        let dup = object
            && count > 1
            && has_duplicate_keys(&self.nodes, &self.escaped, self.text, idx, count);
        let node = &mut self.nodes[idx as usize];
        node.a = count;
        node.b = end;
        if dup {
            node.tag = Tag::ObjectDup;
        }
        Ok(())
    }

    fn literal(&mut self, word: &[u8], tag: Tag) -> Result<(), Refused> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            self.push(tag, 0, 0);
            Ok(())
        } else {
            Err(Refused)
        }
    }

    /// A string after its opening quote. Plain strings are a span of the text; only those
    /// with escapes are decoded and stored.
    fn string(&mut self) -> Result<(), Refused> {
        let start = self.pos;
        loop {
            match self.peek().ok_or(Refused)? {
                b'"' => {
                    self.push(Tag::Str, pos32(start), pos32(self.pos - start));
                    self.pos += 1;
                    return Ok(());
                }
                b'\\' => break,
                0..=0x1f => return Err(Refused),
                _ => self.pos += 1,
            }
        }
        let mut out = String::with_capacity(self.pos - start + 16);
        out.push_str(&self.text[start..self.pos]);
        loop {
            match self.peek().ok_or(Refused)? {
                b'"' => {
                    self.pos += 1;
                    let i = pos32(self.escaped.len());
                    self.escaped.push(out.into_boxed_str());
                    self.push(Tag::Escaped, i, 0);
                    return Ok(());
                }
                b'\\' => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                0..=0x1f => return Err(Refused),
                _ => {
                    // Copy the run up to the next quote, backslash or control byte. The
                    // text is valid UTF-8 and those bytes are ASCII, so the run ends on a
                    // character boundary.
                    let run = self.bytes[self.pos..]
                        .iter()
                        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                        .map_or(self.bytes.len(), |n| self.pos + n);
                    out.push_str(&self.text[self.pos..run]);
                    self.pos = run;
                }
            }
        }
    }

    /// One escape after its backslash, with serde_json's rules: surrogates must pair.
    fn escape(&mut self, out: &mut String) -> Result<(), Refused> {
        let c = self.peek().ok_or(Refused)?;
        self.pos += 1;
        let ch = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let n = self.hex4()?;
                match n {
                    0xDC00..=0xDFFF => return Err(Refused),
                    0xD800..=0xDBFF => {
                        if !self.bytes[self.pos..].starts_with(b"\\u") {
                            return Err(Refused);
                        }
                        self.pos += 2;
                        let n2 = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&n2) {
                            return Err(Refused);
                        }
                        let c = (((n - 0xD800) << 10) | (n2 - 0xDC00)) + 0x1_0000;
                        char::from_u32(c).ok_or(Refused)?
                    }
                    n => char::from_u32(n).ok_or(Refused)?,
                }
            }
            _ => return Err(Refused),
        };
        out.push(ch);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, Refused> {
        let digits = self.bytes.get(self.pos..self.pos + 4).ok_or(Refused)?;
        let mut n = 0u32;
        for &d in digits {
            let v = (d as char).to_digit(16).ok_or(Refused)?;
            n = n * 16 + v;
        }
        self.pos += 4;
        Ok(n)
    }

    /// A number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`. Anything but a short
    /// integer is also read by serde_json, which refuses numbers out of `f64`'s range.
    fn number(&mut self) -> Result<(), Refused> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while let Some(b'0'..=b'9') = p.peek() {
                p.pos += 1;
            }
            p.pos - from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(Refused),
        }
        let mut simple = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            simple = false;
            if digits(self) == 0 {
                return Err(Refused);
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            simple = false;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(Refused);
            }
        }
        let text = &self.text[start..self.pos];
        // 18 digits (and a sign) always fit i64/u64; longer integers become f64 in
        // serde_json and may overflow, so it decides.
        if (!simple || text.len() > 18) && serde_json::from_str::<serde_json::Number>(text).is_err()
        {
            return Err(Refused);
        }
        self.push(Tag::Number, pos32(start), pos32(self.pos - start));
        Ok(())
    }
}

/// Whether two members of the object at `idx` have equal (decoded) keys.
fn has_duplicate_keys(
    nodes: &[Node],
    escaped: &[Box<str>],
    text: &str,
    idx: u32,
    count: u32,
) -> bool {
    let mut at = idx as usize + 1;
    let keys = (0..count).map(|_| {
        let key = str_at(nodes, escaped, text, at);
        at = subtree_end(nodes, at + 1);
        key
    });
    if count <= PAIRWISE_MAX {
        let mut seen: [&str; PAIRWISE_MAX as usize] = [""; PAIRWISE_MAX as usize];
        for (n, k) in keys.enumerate() {
            if seen[..n].contains(&k) {
                return true;
            }
            seen[n] = k;
        }
        return false;
    }
    let mut seen = HashSet::with_capacity(count as usize);
    keys.into_iter().any(|k| !seen.insert(k))
}
