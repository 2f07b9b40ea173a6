//! [`JsonView`]: read-only access to a JSON value with `serde_json::Value`'s semantics, for
//! the compact tree ([`At`]), a `Value`, and a bare string ([`StrView`], a map key), so
//! the type check and validation are written once for all three.

use std::collections::HashMap;

use serde_json::{Number, Value};

use super::{Tag, Tree, str_at, subtree_end};

/// The JSON type of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

/// A JSON value to read. Objects read as `Value` reads them: a repeated key holds the last
/// value, at the position of its first occurrence.
pub trait JsonView<'a>: Copy + 'a {
    fn kind(self) -> Kind;
    fn as_str(self) -> Option<&'a str>;
    /// The number as serde_json reads it (so it displays as `Value` does).
    fn as_number(self) -> Option<Number>;
    /// An array's elements; nothing for anything else.
    fn items(self) -> impl Iterator<Item = Self> + 'a;
    /// An object's members, each key once; nothing for anything else.
    fn members(self) -> impl Iterator<Item = (&'a str, Self)> + 'a;
    /// An object's member by key.
    fn get(self, key: &str) -> Option<Self>;
    /// An array's element count or an object's (distinct) member count; 0 otherwise.
    fn len(self) -> usize;
    /// The value as a `serde_json::Value`.
    fn to_value(self) -> Value;

    fn is_empty(self) -> bool {
        self.len() == 0
    }

    fn is_null(self) -> bool {
        self.kind() == Kind::Null
    }

    fn as_f64(self) -> Option<f64> {
        self.as_number().and_then(|n| n.as_f64())
    }
}

impl<'a> JsonView<'a> for &'a Value {
    fn kind(self) -> Kind {
        match self {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Bool,
            Value::Number(_) => Kind::Number,
            Value::String(_) => Kind::String,
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        }
    }

    fn as_str(self) -> Option<&'a str> {
        Value::as_str(self)
    }

    fn as_number(self) -> Option<Number> {
        match self {
            Value::Number(n) => Some(n.clone()),
            _ => None,
        }
    }

    fn items(self) -> impl Iterator<Item = Self> + 'a {
        self.as_array().into_iter().flatten()
    }

    fn members(self) -> impl Iterator<Item = (&'a str, Self)> + 'a {
        self.as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v))
    }

    fn get(self, key: &str) -> Option<Self> {
        self.as_object().and_then(|o| o.get(key))
    }

    fn len(self) -> usize {
        match self {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            _ => 0,
        }
    }

    fn to_value(self) -> Value {
        self.clone()
    }
}

/// A bare string as a JSON value: a map key, checked against the map's key shape.
#[derive(Debug, Clone, Copy)]
pub struct StrView<'a>(pub &'a str);

impl<'a> JsonView<'a> for StrView<'a> {
    fn kind(self) -> Kind {
        Kind::String
    }

    fn as_str(self) -> Option<&'a str> {
        Some(self.0)
    }

    fn as_number(self) -> Option<Number> {
        None
    }

    fn items(self) -> impl Iterator<Item = Self> + 'a {
        std::iter::empty()
    }

    fn members(self) -> impl Iterator<Item = (&'a str, Self)> + 'a {
        std::iter::empty()
    }

    fn get(self, _key: &str) -> Option<Self> {
        None
    }

    fn len(self) -> usize {
        0
    }

    fn to_value(self) -> Value {
        Value::String(self.0.to_owned())
    }
}

/// A value in a [`Tree`], read over the text it was parsed from.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    tree: &'a Tree,
    text: &'a str,
    i: usize,
}

impl<'a> At<'a> {
    pub(super) fn new(tree: &'a Tree, text: &'a str, i: usize) -> Self {
        Self { tree, text, i }
    }

    fn tag(self) -> Tag {
        self.tree.nodes[self.i].tag
    }

    fn at(self, i: usize) -> Self {
        Self { i, ..self }
    }

    fn key(self, i: usize) -> &'a str {
        str_at(&self.tree.nodes, &self.tree.escaped, self.text, i)
    }

    /// The container's children in order: elements, or key-value pairs as `(key index,
    /// value index)`.
    fn children(self) -> Children<'a> {
        let n = self.tree.nodes[self.i];
        let left = match n.tag {
            Tag::Array | Tag::Object | Tag::ObjectDup => n.a as usize,
            _ => 0,
        };
        Children {
            at: self,
            next: self.i + 1,
            left,
            object: n.tag != Tag::Array,
        }
    }
}

/// Walks a container's direct children.
struct Children<'a> {
    at: At<'a>,
    next: usize,
    left: usize,
    object: bool,
}

impl Iterator for Children<'_> {
    /// For an object, (key index, value index); for an array, (element index, same).
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let first = self.next;
        let value = if self.object { first + 1 } else { first };
        self.next = subtree_end(&self.at.tree.nodes, value);
        Some((first, value))
    }
}

/// An object's members, each key once.
enum Members<'a> {
    Plain(Children<'a>),
    /// An object with a repeated key: (key, value index) with `Value`'s rule applied.
    Deduped(At<'a>, std::vec::IntoIter<(&'a str, usize)>),
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, At<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Members::Plain(c) => {
                let at = c.at;
                c.next().map(|(k, v)| (at.key(k), at.at(v)))
            }
            Members::Deduped(at, it) => it.next().map(|(k, v)| (k, at.at(v))),
        }
    }
}

impl<'a> JsonView<'a> for At<'a> {
    fn kind(self) -> Kind {
        match self.tag() {
            Tag::Null => Kind::Null,
            Tag::True | Tag::False => Kind::Bool,
            Tag::Number => Kind::Number,
            Tag::Str | Tag::Escaped => Kind::String,
            Tag::Array => Kind::Array,
            Tag::Object | Tag::ObjectDup => Kind::Object,
        }
    }

    fn as_str(self) -> Option<&'a str> {
        matches!(self.tag(), Tag::Str | Tag::Escaped).then(|| self.key(self.i))
    }

    fn as_number(self) -> Option<Number> {
        let n = self.tree.nodes[self.i];
        if n.tag != Tag::Number {
            return None;
        }
        let span = self.text.get(n.a as usize..n.a as usize + n.b as usize)?;
        // The parser had serde_json read every number it could refuse; this reads it the
        // same way again, only when a check needs its value.
        serde_json::from_str(span).ok()
    }

    fn items(self) -> impl Iterator<Item = Self> + 'a {
        let c = if self.tag() == Tag::Array {
            self.children()
        } else {
            Children {
                left: 0,
                ..self.children()
            }
        };
        c.map(move |(_, v)| self.at(v))
    }

    fn members(self) -> impl Iterator<Item = (&'a str, Self)> + 'a {
        match self.tag() {
            Tag::Object => Members::Plain(self.children()),
            Tag::ObjectDup => {
                let mut order: Vec<(&'a str, usize)> = Vec::new();
                let mut index: HashMap<&'a str, usize> = HashMap::new();
                for (k, v) in self.children() {
                    let key = self.key(k);
                    match index.get(key) {
                        Some(&pos) => order[pos].1 = v,
                        None => {
                            index.insert(key, order.len());
                            order.push((key, v));
                        }
                    }
                }
                Members::Deduped(self, order.into_iter())
            }
            _ => Members::Plain(Children {
                left: 0,
                ..self.children()
            }),
        }
    }

    fn get(self, key: &str) -> Option<Self> {
        let tag = self.tag();
        let mut found = None;
        for (k, v) in self.children() {
            if tag == Tag::Array {
                return None;
            }
            if self.key(k) == key {
                found = Some(self.at(v));
                if tag == Tag::Object {
                    break;
                }
            }
        }
        found
    }

    fn len(self) -> usize {
        let n = self.tree.nodes[self.i];
        match n.tag {
            Tag::Array | Tag::Object => n.a as usize,
            Tag::ObjectDup => self.members().count(),
            _ => 0,
        }
    }

    fn to_value(self) -> Value {
        match self.tag() {
            Tag::Null => Value::Null,
            Tag::True => Value::Bool(true),
            Tag::False => Value::Bool(false),
            Tag::Number => self.as_number().map_or(Value::Null, Value::Number),
            Tag::Str | Tag::Escaped => Value::String(self.key(self.i).to_owned()),
            // Depth is bounded by the parser (127 levels).
            Tag::Array => Value::Array(self.items().map(JsonView::to_value).collect()),
            Tag::Object | Tag::ObjectDup => Value::Object(
                self.members()
                    .map(|(k, v)| (k.to_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }
}
