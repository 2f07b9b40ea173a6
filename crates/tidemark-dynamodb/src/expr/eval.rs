//! Evaluating compiled conditions against an item. Evaluation never fails: comparing values of
//! different or unordered types is simply false, as in DynamoDB. Paths borrow from the item, so
//! a filter over many items allocates nothing except for `size` results (which are `Copy`).

use super::ast::{CmpOp, Condition, Operand};
use crate::attr::{AttributeValue, Item, Number};
use std::borrow::Cow;
use std::cmp::Ordering;

impl Condition {
    /// Whether the item satisfies the condition. A missing item is an empty `Item`.
    pub fn evaluate(&self, item: &Item) -> bool {
        match self {
            Condition::Compare(op, a, b) => {
                let (a, b) = (eval_operand(a, item), eval_operand(b, item));
                match (a, b) {
                    (Some(a), Some(b)) => compare_values(*op, &a, &b),
                    // A missing attribute differs from every value.
                    _ => *op == CmpOp::Ne,
                }
            }
            Condition::Between(x, lo, hi) => {
                match (
                    eval_operand(x, item),
                    eval_operand(lo, item),
                    eval_operand(hi, item),
                ) {
                    (Some(x), Some(lo), Some(hi)) => {
                        compare_values(CmpOp::Ge, &x, &lo) && compare_values(CmpOp::Le, &x, &hi)
                    }
                    _ => false,
                }
            }
            Condition::In(x, list) => match eval_operand(x, item) {
                Some(x) => list
                    .iter()
                    .any(|o| eval_operand(o, item).is_some_and(|v| *v == *x)),
                None => false,
            },
            Condition::And(a, b) => a.evaluate(item) && b.evaluate(item),
            Condition::Or(a, b) => a.evaluate(item) || b.evaluate(item),
            Condition::Not(a) => !a.evaluate(item),
            Condition::Exists(p) => p.resolve(item).is_some(),
            Condition::NotExists(p) => p.resolve(item).is_none(),
            Condition::AttributeType(x, ty) => {
                eval_operand(x, item).is_some_and(|v| v.attr_type() == *ty)
            }
            Condition::BeginsWith(x, prefix) => {
                match (eval_operand(x, item), eval_operand(prefix, item)) {
                    (Some(x), Some(p)) => begins_with(&x, &p),
                    _ => false,
                }
            }
            Condition::Contains(x, needle) => {
                match (eval_operand(x, item), eval_operand(needle, item)) {
                    (Some(x), Some(n)) => contains(&x, &n),
                    _ => false,
                }
            }
        }
    }
}

/// The value of an operand, if it has one (a missing path, or `size` of a type without a
/// size, has none).
pub(crate) fn eval_operand<'a>(op: &'a Operand, item: &'a Item) -> Option<Cow<'a, AttributeValue>> {
    match op {
        Operand::Path(p) => p.resolve(item).map(Cow::Borrowed),
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Size(inner) => {
            let v = eval_operand(inner, item)?;
            size_of(&v).map(|n| Cow::Owned(AttributeValue::N(n)))
        }
    }
}

/// DynamoDB's `size()`: string length in UTF-16 code units (`size("é𝄞") = 3`, verified
/// against AWS in ExtendDB/extenddb PR #67), binary length in bytes, element count of sets, lists and maps; none for N, BOOL, NULL.
pub(crate) fn size_of(v: &AttributeValue) -> Option<Number> {
    let n = match v {
        AttributeValue::S(s) => s.encode_utf16().count(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Ss(x) => x.len(),
        AttributeValue::Ns(x) => x.len(),
        AttributeValue::Bs(x) => x.len(),
        AttributeValue::L(x) => x.len(),
        AttributeValue::M(x) => x.len(),
        AttributeValue::N(_) | AttributeValue::Bool(_) | AttributeValue::Null => return None,
    };
    Some(Number::from_i64(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// Order of two scalars of the same orderable type (S by UTF-8 bytes, N numerically, B by
/// unsigned bytes); `None` otherwise.
pub fn order_values(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttributeValue::N(x), AttributeValue::N(y)) => Some(x.cmp(y)),
        (AttributeValue::B(x), AttributeValue::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Applies a comparator. `=`/`<>` work on every type (sets ignore order); the ordering
/// comparators only on two S, two N or two B values, and are false otherwise.
pub fn compare_values(op: CmpOp, a: &AttributeValue, b: &AttributeValue) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        _ => match order_values(a, b) {
            Some(o) => match op {
                CmpOp::Lt => o == Ordering::Less,
                CmpOp::Le => o != Ordering::Greater,
                CmpOp::Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            },
            None => false,
        },
    }
}

pub(crate) fn begins_with(x: &AttributeValue, prefix: &AttributeValue) -> bool {
    match (x, prefix) {
        (AttributeValue::S(s), AttributeValue::S(p)) => s.starts_with(p.as_str()),
        (AttributeValue::B(s), AttributeValue::B(p)) => s.starts_with(p),
        _ => false,
    }
}

/// `contains`: substring of a string (or of a binary), member of a set of the matching type,
/// or element of a list.
fn contains(x: &AttributeValue, needle: &AttributeValue) -> bool {
    match (x, needle) {
        (AttributeValue::S(s), AttributeValue::S(n)) => s.contains(n.as_str()),
        (AttributeValue::B(s), AttributeValue::B(n)) => {
            n.is_empty() || s.windows(n.len()).any(|w| w == n.as_slice())
        }
        (AttributeValue::Ss(set), AttributeValue::S(n)) => set.contains(n),
        (AttributeValue::Ns(set), AttributeValue::N(n)) => set.contains(n),
        (AttributeValue::Bs(set), AttributeValue::B(n)) => set.contains(n),
        (AttributeValue::L(list), n) => list.contains(n),
        _ => false,
    }
}
