//! The compact checked tree of a request body: what `typecheck` and `validate` walk before
//! the typed input is decoded, at 12 bytes per value or key instead of a `serde_json::Value`
//! (80 bytes, plus a map per object and a `String` per string).
//!
//! Nodes sit in one vector in document order; a container holds its member count and the
//! index just past its subtree, and an object's members are key, value, key, value….
//! Strings and numbers are spans of the body text; only strings with escapes are decoded
//! and stored apart. [`JsonView`] reads it (and `serde_json::Value`, for callers that hold
//! one) with `Value`'s semantics: an object with a repeated key holds the last value at the
//! first key's position.

mod parse;
mod view;

pub use view::{At, JsonView, Kind, StrView};

/// The structural tokens of JSON `text` (`{ [ , :` outside strings): one allocation-free
/// pass. The tree sizes its node vector by it, and the wire's decode budget estimates a
/// body's cost by it.
pub fn structural_tokens(text: &[u8]) -> usize {
    parse::count_nodes(text) - 1
}

/// What a request body reads as: a JSON object, anything else, or not JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not JSON as `serde_json::from_slice` reads it; ask serde_json for its message.
    Malformed,
    /// Valid JSON, but not an object.
    NotObject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Null,
    True,
    False,
    /// `a`, `b`: offset and length in the text.
    Number,
    /// A string without escapes; `a`, `b`: offset and length of its contents.
    Str,
    /// A string with escapes; `a`: its index in [`Tree::escaped`].
    Escaped,
    /// `a`: member count; `b`: index past the subtree.
    Array,
    Object,
    /// An object in which some key repeats.
    ObjectDup,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    a: u32,
    b: u32,
    tag: Tag,
}

/// A parsed body's structure; it reads the text it was parsed from (see [`Document`]).
#[derive(Debug)]
pub struct Tree {
    nodes: Vec<Node>,
    escaped: Vec<Box<str>>,
    /// The length of the text parsed, to refuse reading the tree over another text.
    text_len: usize,
}

/// Bodies at least this long count their nodes first, so the node vector is allocated at
/// its final size (see [`parse::count_nodes`]); shorter ones grow it, which costs less
/// than a second pass over a small body.
const PRESIZE_FROM: usize = 4096;

impl Tree {
    /// Parses `text`, which must be the whole body. Accepts exactly what
    /// `serde_json::from_slice::<Value>` accepts.
    pub fn parse(text: &[u8]) -> Result<Tree, Refusal> {
        let text = std::str::from_utf8(text).map_err(|_| Refusal::Malformed)?;
        let capacity = if text.len() >= PRESIZE_FROM {
            parse::count_nodes(text.as_bytes())
        } else {
            text.len() / 8 + 4
        };
        parse::parse(text, capacity).map_err(|_| Refusal::Malformed)
    }

    /// Parses a body that must be a JSON object.
    pub fn parse_object(text: &[u8]) -> Result<Tree, Refusal> {
        let tree = Self::parse(text)?;
        match tree.nodes.first() {
            Some(n) if matches!(n.tag, Tag::Object | Tag::ObjectDup) => Ok(tree),
            _ => Err(Refusal::NotObject),
        }
    }

    /// The root value, reading strings from `text`, which must be the text this tree was
    /// parsed from. `None` if it is not valid UTF-8 (then it cannot be).
    pub fn root<'a>(&'a self, text: &'a [u8]) -> Option<At<'a>> {
        if text.len() != self.text_len || self.nodes.is_empty() {
            return None;
        }
        let text = std::str::from_utf8(text).ok()?;
        Some(At::new(self, text, 0))
    }

    /// Heap bytes held, for measurements and the decode budget's estimate.
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * size_of::<Node>()
            + self.escaped.capacity() * size_of::<Box<str>>()
            + self.escaped.iter().map(|s| s.len()).sum::<usize>()
    }
}

/// The index just past the subtree at `i`.
fn subtree_end(nodes: &[Node], i: usize) -> usize {
    match nodes[i].tag {
        Tag::Array | Tag::Object | Tag::ObjectDup => nodes[i].b as usize,
        _ => i + 1,
    }
}

/// The string at node `i` (a key or string value); "" for any other node.
fn str_at<'a>(nodes: &[Node], escaped: &'a [Box<str>], text: &'a str, i: usize) -> &'a str {
    let n = nodes[i];
    match n.tag {
        Tag::Str => text
            .get(n.a as usize..n.a as usize + n.b as usize)
            .unwrap_or_default(),
        Tag::Escaped => escaped.get(n.a as usize).map_or("", |s| s),
        _ => "",
    }
}

#[cfg(test)]
mod tests;
