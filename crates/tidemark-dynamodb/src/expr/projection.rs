//! Projection expressions: a comma-separated list of document paths, and projecting an item the
//! way DynamoDB shapes the result (nested maps keep only the projected keys; projected list
//! elements keep their relative order and are compacted).

use super::ast::{Path, PathElem};
use super::error::ExprError;
use super::lexer::Tok;
use super::parser::Parser;
use crate::attr::{AttributeValue, Item};
use indexmap::IndexMap;
use std::collections::BTreeMap;

/// A compiled projection.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionExpr {
    paths: Vec<Path>,
    root: IndexMap<String, Node>,
}

/// Projection tree. Invariant (from the overlap/conflict checks): a node's children are all
/// map keys or all list indexes, and no projected path is a prefix of another. Children are
/// keyed maps (fields in the order first named, elements by index) so that building the tree
/// is O(n log n) in the number of paths: `AttributesToGet` has no length limit, and a linear
/// search per name made 100,000 names quadratic.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Leaf,
    Fields(IndexMap<String, Node>),
    Elems(BTreeMap<usize, Node>),
}

impl Parser<'_, '_, '_> {
    pub(crate) fn parse_projection(&mut self) -> Result<Vec<Path>, ExprError> {
        let mut paths = vec![self.parse_path()?];
        while self.at(Tok::Comma) {
            self.advance();
            paths.push(self.parse_path()?);
        }
        let refs: Vec<&Path> = paths.iter().collect();
        self.check_overlaps(&refs);
        Ok(paths)
    }
}

fn insert(children: &mut IndexMap<String, Node>, name: &str, rest: &[PathElem]) {
    let node = match children.get_mut(name) {
        Some(node) => node,
        None => children.entry(name.to_string()).or_insert(Node::Leaf),
    };
    insert_rest(node, rest);
}

/// Iterative: a path has at most `MAX_PATH_STEPS` steps, but the loop costs nothing either way.
fn insert_rest(mut node: &mut Node, mut rest: &[PathElem]) {
    while let Some((first, tail)) = rest.split_first() {
        rest = tail;
        node = match first {
            PathElem::Attr(name) => {
                if !matches!(node, Node::Fields(_)) {
                    *node = Node::Fields(IndexMap::new());
                }
                let Node::Fields(children) = node else { return };
                match children.get_index_of(name.as_str()) {
                    Some(i) => &mut children[i],
                    None => children.entry(name.clone()).or_insert(Node::Leaf),
                }
            }
            PathElem::Index(i) => {
                if !matches!(node, Node::Elems(_)) {
                    *node = Node::Elems(BTreeMap::new());
                }
                let Node::Elems(children) = node else { return };
                children.entry(*i).or_insert(Node::Leaf)
            }
        };
    }
    *node = Node::Leaf;
}

fn project(v: &AttributeValue, node: &Node) -> Option<AttributeValue> {
    match (node, v) {
        (Node::Leaf, v) => Some(v.clone()),
        (Node::Fields(children), AttributeValue::M(m)) => {
            let out: Item = children
                .iter()
                .filter_map(|(k, n)| Some((k.clone(), project(m.get(k)?, n)?)))
                .collect();
            (!out.is_empty()).then(|| AttributeValue::M(Box::new(out)))
        }
        (Node::Elems(children), AttributeValue::L(l)) => {
            let out: Vec<AttributeValue> = children
                .iter()
                .filter_map(|(i, n)| project(l.get(*i)?, n))
                .collect();
            (!out.is_empty()).then_some(AttributeValue::L(out))
        }
        _ => None,
    }
}

impl ProjectionExpr {
    pub(crate) fn from_paths(paths: Vec<Path>) -> ProjectionExpr {
        let mut root = IndexMap::new();
        for p in &paths {
            insert(&mut root, p.root(), &p.elems()[1..]);
        }
        ProjectionExpr { paths, root }
    }

    pub fn paths(&self) -> &[Path] {
        &self.paths
    }

    /// The top-level attribute names the projection reads.
    pub fn top_level_names(&self) -> impl Iterator<Item = &str> {
        self.root.iter().map(|(k, _)| k.as_str())
    }

    /// Rejects nested paths into key attributes: `table_keys` are the table's key names
    /// (reported as `Key`), `index_keys` those of the queried index (`IndexKey`).
    pub fn check_key_paths(
        &self,
        table_keys: &[&str],
        index_keys: &[&str],
    ) -> Result<(), ExprError> {
        for p in self.paths.iter().filter(|p| p.elems().len() > 1) {
            let name = p.root();
            let kind = if table_keys.contains(&name) {
                "Key"
            } else if index_keys.contains(&name) {
                "IndexKey"
            } else {
                continue;
            };
            return Err(ExprError::KeyNotScalar {
                kind,
                name: name.to_string(),
            });
        }
        Ok(())
    }

    /// The projected copy of `item`; attributes (and nested parts) that do not exist are left out.
    pub fn apply(&self, item: &Item) -> Item {
        self.root
            .iter()
            .filter_map(|(k, n)| Some((k.clone(), project(item.get(k)?, n)?)))
            .collect()
    }
}
