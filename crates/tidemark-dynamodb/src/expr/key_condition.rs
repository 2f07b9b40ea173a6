//! Query key conditions: a parsed condition checked against the table's (or index's) key
//! schema and turned into a typed `KeyCondition` — `hash = :v [AND range <op> :w | BETWEEN |
//! begins_with]`.

use super::ast::{CmpOp, Condition, Operand};
use super::error::ExprError;
use super::eval::{begins_with, compare_values};
use crate::attr::{AttributeValue, KeySchema};

/// The condition on the range key.
#[derive(Debug, Clone, PartialEq)]
pub enum RangeCondition {
    /// `=`, `<`, `<=`, `>`, `>=` (never `<>`).
    Compare(CmpOp, AttributeValue),
    Between(AttributeValue, AttributeValue),
    BeginsWith(AttributeValue),
}

impl RangeCondition {
    /// Whether a range-key value satisfies the condition.
    pub fn matches(&self, v: &AttributeValue) -> bool {
        match self {
            RangeCondition::Compare(op, x) => compare_values(*op, v, x),
            RangeCondition::Between(lo, hi) => {
                compare_values(CmpOp::Ge, v, lo) && compare_values(CmpOp::Le, v, hi)
            }
            RangeCondition::BeginsWith(p) => begins_with(v, p),
        }
    }

    fn values(&self) -> Vec<&AttributeValue> {
        match self {
            RangeCondition::Compare(_, v) | RangeCondition::BeginsWith(v) => vec![v],
            RangeCondition::Between(a, b) => vec![a, b],
        }
    }
}

/// A validated key condition.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCondition {
    pub hash: (String, AttributeValue),
    pub range: Option<(String, RangeCondition)>,
}

fn collect_leaves(c: Condition, out: &mut Vec<Condition>) -> Result<(), ExprError> {
    let bad = |op: &str| Err(ExprError::InvalidKeyOperator(op.to_string()));
    match c {
        Condition::And(a, b) => {
            collect_leaves(*a, out)?;
            collect_leaves(*b, out)
        }
        Condition::Or(..) => bad("OR"),
        Condition::Not(_) => bad("NOT"),
        Condition::In(..) => bad("IN"),
        Condition::Compare(CmpOp::Ne, ..) => bad("<>"),
        Condition::Exists(_) => bad("attribute_exists"),
        Condition::NotExists(_) => bad("attribute_not_exists"),
        Condition::AttributeType(..) => bad("attribute_type"),
        Condition::Contains(..) => bad("contains"),
        leaf => {
            out.push(leaf);
            Ok(())
        }
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

/// `(key name, condition)` for one leaf; only top-level attributes against literal values.
fn leaf(c: Condition) -> Result<(String, RangeCondition), ExprError> {
    if let Condition::Compare(_, a, b) | Condition::BeginsWith(a, b) = &c
        && [a, b]
            .iter()
            .any(|o| matches!(o, Operand::Path(p) if p.elems().len() > 1))
    {
        return Err(ExprError::NestedKeyCondition);
    }
    if let Condition::Between(Operand::Path(p), ..) = &c
        && p.elems().len() > 1
    {
        return Err(ExprError::NestedKeyCondition);
    }
    let top = |p: &super::ast::Path| (p.elems().len() == 1).then(|| p.root().to_string());
    let named = match c {
        Condition::Compare(op, Operand::Path(p), Operand::Value(v)) => {
            top(&p).map(|n| (n, RangeCondition::Compare(op, v)))
        }
        Condition::Compare(op, Operand::Value(v), Operand::Path(p)) => {
            top(&p).map(|n| (n, RangeCondition::Compare(flip(op), v)))
        }
        Condition::Between(Operand::Path(p), Operand::Value(lo), Operand::Value(hi)) => {
            top(&p).map(|n| (n, RangeCondition::Between(lo, hi)))
        }
        Condition::BeginsWith(Operand::Path(p), Operand::Value(v)) => {
            top(&p).map(|n| (n, RangeCondition::BeginsWith(v)))
        }
        _ => None,
    };
    named.ok_or(ExprError::KeyConditionNotSupported)
}

/// Checks a parsed key condition against the key schema.
pub(crate) fn to_key_condition(
    cond: Condition,
    schema: &KeySchema<'_>,
) -> Result<KeyCondition, ExprError> {
    let mut leaves = Vec::new();
    collect_leaves(cond, &mut leaves)?;
    let mut parts = leaves
        .into_iter()
        .map(leaf)
        .collect::<Result<Vec<_>, _>>()?;
    if parts.len() == 2 && parts[0].0 == parts[1].0 {
        return Err(ExprError::OneConditionPerKey);
    }
    if parts.len() > 2 {
        return Err(ExprError::ConditionsLength);
    }
    let hash_pos = parts
        .iter()
        .position(|(n, _)| n == schema.hash.name)
        .ok_or_else(|| ExprError::MissedKeyElement(schema.hash.name.to_string()))?;
    let (hash_name, hash_cond) = parts.remove(hash_pos);
    let RangeCondition::Compare(CmpOp::Eq, hash_value) = hash_cond else {
        return Err(ExprError::KeyConditionNotSupported);
    };
    if hash_value.attr_type() != schema.hash.ty {
        return Err(ExprError::KeyTypeMismatch);
    }
    let range = match (parts.pop(), schema.range) {
        (None, _) => None,
        (Some((name, cond)), Some(r)) if name == r.name => {
            if cond.values().iter().any(|v| v.attr_type() != r.ty) {
                return Err(ExprError::KeyTypeMismatch);
            }
            Some((name, cond))
        }
        (Some(_), Some(r)) => return Err(ExprError::MissedKeyElement(r.name.to_string())),
        (Some(_), None) => return Err(ExprError::KeyConditionNotSupported),
    };
    Ok(KeyCondition {
        hash: (hash_name, hash_value),
        range,
    })
}
