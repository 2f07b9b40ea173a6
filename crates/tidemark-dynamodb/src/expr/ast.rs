//! Compiled expression trees. Names and values are already resolved (no `#n`/`:v` left), so
//! evaluation needs only the item.

use crate::attr::{AttrType, AttributeValue, Item};
use std::fmt;

/// One step of a document path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathElem {
    Attr(String),
    Index(usize),
}

/// A document path such as `a.b[2].c`. Invariant: non-empty and starting with `Attr`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Path(pub(crate) Vec<PathElem>);

impl Path {
    pub fn elems(&self) -> &[PathElem] {
        &self.0
    }

    /// The top-level attribute name.
    pub fn root(&self) -> &str {
        match self.0.first() {
            Some(PathElem::Attr(a)) => a,
            // Unreachable by construction; an empty name never matches an attribute.
            _ => "",
        }
    }

    /// Finds the value at this path in an item.
    pub fn resolve<'a>(&self, item: &'a Item) -> Option<&'a AttributeValue> {
        let mut cur = item.get(self.root())?;
        for e in &self.0[1..] {
            cur = match (e, cur) {
                (PathElem::Attr(a), AttributeValue::M(m)) => m.get(a)?,
                (PathElem::Index(i), AttributeValue::L(l)) => l.get(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }
}

/// DynamoDB's rendering in overlap messages: `[a, b, [2]]`.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match e {
                PathElem::Attr(a) => f.write_str(a)?,
                PathElem::Index(n) => write!(f, "[{n}]")?,
            }
        }
        f.write_str("]")
    }
}

/// A value-producing operand of a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Path(Path),
    Value(AttributeValue),
    Size(Box<Operand>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A condition / filter / key-condition expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Compare(CmpOp, Operand, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    Exists(Path),
    NotExists(Path),
    AttributeType(Operand, AttrType),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
}

impl Operand {
    fn roots<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Operand::Path(p) => out.push(p.root()),
            Operand::Size(o) => o.roots(out),
            Operand::Value(_) => {}
        }
    }
}

impl Condition {
    /// The top-level attribute names the condition reads.
    pub fn root_names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_roots(&mut out);
        out
    }

    fn collect_roots<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Condition::Compare(_, a, b)
            | Condition::BeginsWith(a, b)
            | Condition::Contains(a, b) => {
                a.roots(out);
                b.roots(out);
            }
            Condition::Between(a, b, c) => {
                for o in [a, b, c] {
                    o.roots(out);
                }
            }
            Condition::In(a, list) => {
                a.roots(out);
                for o in list {
                    o.roots(out);
                }
            }
            Condition::And(a, b) | Condition::Or(a, b) => {
                a.collect_roots(out);
                b.collect_roots(out);
            }
            Condition::Not(c) => c.collect_roots(out),
            Condition::Exists(p) | Condition::NotExists(p) => out.push(p.root()),
            Condition::AttributeType(o, _) => o.roots(out),
        }
    }
}

/// An operand on the right of `SET path = ...`.
#[derive(Debug, Clone, PartialEq)]
pub enum SetOperand {
    Path(Path),
    Value(AttributeValue),
    IfNotExists(Path, Box<SetOperand>),
    ListAppend(Box<SetOperand>, Box<SetOperand>),
}

/// The right-hand side of a SET action.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    Operand(SetOperand),
    Plus(SetOperand, SetOperand),
    Minus(SetOperand, SetOperand),
}

/// One action of an update expression.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateAction {
    Set(Path, SetValue),
    Remove(Path),
    Add(Path, AttributeValue),
    Delete(Path, AttributeValue),
}

impl UpdateAction {
    pub fn path(&self) -> &Path {
        match self {
            UpdateAction::Set(p, _)
            | UpdateAction::Remove(p)
            | UpdateAction::Add(p, _)
            | UpdateAction::Delete(p, _) => p,
        }
    }
}
