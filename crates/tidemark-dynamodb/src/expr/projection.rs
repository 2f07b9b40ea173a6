//! Projection expressions: a comma-separated list of document paths, and projecting an item the
//! way DynamoDB shapes the result (nested maps keep only the projected keys; projected list
//! elements keep their relative order and are compacted).

use super::ast::{Path, PathElem};
use super::error::ExprError;
use super::lexer::Tok;
use super::parser::Parser;
use crate::attr::{AttributeValue, Item};

/// A compiled projection.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionExpr {
    paths: Vec<Path>,
    root: Vec<(String, Node)>,
}

/// Projection tree. Invariant (from the overlap/conflict checks): a node's children are all
/// map keys or all list indexes, and no projected path is a prefix of another.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Leaf,
    Fields(Vec<(String, Node)>),
    Elems(Vec<(usize, Node)>),
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

fn insert(children: &mut Vec<(String, Node)>, name: &str, rest: &[PathElem]) {
    let pos = match children.iter().position(|(k, _)| k == name) {
        Some(p) => p,
        None => {
            children.push((name.to_string(), Node::Leaf));
            children.len() - 1
        }
    };
    insert_rest(&mut children[pos].1, rest);
}

fn insert_rest(node: &mut Node, rest: &[PathElem]) {
    let Some((first, rest)) = rest.split_first() else {
        *node = Node::Leaf;
        return;
    };
    match first {
        PathElem::Attr(name) => {
            if !matches!(node, Node::Fields(_)) {
                *node = Node::Fields(Vec::new());
            }
            if let Node::Fields(children) = node {
                insert(children, name, rest);
            }
        }
        PathElem::Index(i) => {
            if !matches!(node, Node::Elems(_)) {
                *node = Node::Elems(Vec::new());
            }
            if let Node::Elems(children) = node {
                let pos = match children.iter().position(|(k, _)| k == i) {
                    Some(p) => p,
                    None => {
                        children.push((*i, Node::Leaf));
                        children.len() - 1
                    }
                };
                insert_rest(&mut children[pos].1, rest);
                children.sort_by_key(|(k, _)| *k);
            }
        }
    }
}

fn project(v: &AttributeValue, node: &Node) -> Option<AttributeValue> {
    match (node, v) {
        (Node::Leaf, v) => Some(v.clone()),
        (Node::Fields(children), AttributeValue::M(m)) => {
            let out: Item = children
                .iter()
                .filter_map(|(k, n)| Some((k.clone(), project(m.get(k)?, n)?)))
                .collect();
            (!out.is_empty()).then_some(AttributeValue::M(out))
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
        let mut root = Vec::new();
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
