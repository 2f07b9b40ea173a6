//! The legacy (pre-expression) parameters: `Expected` with `ConditionalOperator`,
//! `QueryFilter`/`ScanFilter`, `KeyConditions`, `AttributesToGet` and `AttributeUpdates`.
//!
//! Each is validated with DynamoDB's rules and messages (as recorded by dynalite's
//! `validations/*.js`, which were written against the live service) and then translated into
//! the same compiled forms the expression parameters produce (`ConditionExpr`,
//! `KeyCondition`, `ProjectionExpr`, `UpdateExpr`), so evaluation, key ranges and updates have
//! one implementation. Legacy attribute names are literal top-level names: `a.b` names the
//! attribute called `a.b`, never a nested path.

use indexmap::IndexMap;
use tidemark_model::dynamodb as m;

use crate::attr::{AttrType, AttributeValue, KeySchema};
use crate::convert::value_from_model;
use crate::error::{DdbError, DdbResult};
use crate::expr::{
    CmpOp, Condition, ConditionExpr, ExprError, ExpressionContext, KeyCondition, Operand, Path,
    PathElem, ProjectionExpr, RangeCondition, UpdateAction, UpdateExpr, order_values,
};

const INVALID: &str = "One or more parameter values were invalid: ";

/// `Can not use both expression and non-expression parameters in the same request`: each list
/// holds `(parameter name, present)` in the order DynamoDB names them.
pub fn reject_mixing(legacy: &[(&str, bool)], expression: &[(&str, bool)]) -> DdbResult<()> {
    let present = |l: &[(&str, bool)]| -> Vec<String> {
        l.iter()
            .filter(|(_, p)| *p)
            .map(|(n, _)| n.to_string())
            .collect()
    };
    let (legacy, expression) = (present(legacy), present(expression));
    if legacy.is_empty() || expression.is_empty() {
        return Ok(());
    }
    Err(DdbError::validation(format!(
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
        legacy.join(", "),
        expression.join(", ")
    )))
}

/// A legacy `ComparisonOperator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Le,
    Lt,
    Ge,
    Gt,
    NotNull,
    Null,
    Contains,
    NotContains,
    BeginsWith,
    In,
    Between,
}

impl Op {
    fn parse(s: &str) -> DdbResult<Op> {
        Ok(match s {
            "EQ" => Op::Eq,
            "NE" => Op::Ne,
            "LE" => Op::Le,
            "LT" => Op::Lt,
            "GE" => Op::Ge,
            "GT" => Op::Gt,
            "NOT_NULL" => Op::NotNull,
            "NULL" => Op::Null,
            "CONTAINS" => Op::Contains,
            "NOT_CONTAINS" => Op::NotContains,
            "BEGINS_WITH" => Op::BeginsWith,
            "IN" => Op::In,
            "BETWEEN" => Op::Between,
            // The generated validation rejects values outside the enum before this runs.
            other => {
                return Err(DdbError::validation(format!(
                    "{INVALID}Unsupported ComparisonOperator: {other}"
                )));
            }
        })
    }

    /// Whether `n` arguments suit the operator.
    fn arity_ok(self, n: usize) -> bool {
        match self {
            Op::NotNull | Op::Null => n == 0,
            Op::In => n >= 1,
            Op::Between => n == 2,
            _ => n == 1,
        }
    }

    /// The value types a filter or key condition may compare with (`None`: any).
    fn allowed_types(self) -> Option<&'static [AttrType]> {
        use AttrType::*;
        match self {
            Op::Eq | Op::Ne => Some(&[S, N, B, Ss, Ns, Bs]),
            Op::BeginsWith => Some(&[S, B]),
            Op::Null | Op::NotNull => None,
            _ => Some(&[S, N, B]),
        }
    }
}

fn top_level(name: &str) -> Path {
    Path(vec![PathElem::Attr(name.to_string())])
}

/// The condition one legacy comparison stands for (`values` has the operator's arity).
fn leaf(name: &str, op: Op, values: Vec<AttributeValue>) -> Condition {
    let path = || Operand::Path(top_level(name));
    let mut values = values.into_iter().map(Operand::Value);
    // Callers checked the argument count, so the fallback is never used.
    let mut next = || {
        values
            .next()
            .unwrap_or(Operand::Value(AttributeValue::Null))
    };
    match op {
        Op::Eq => Condition::Compare(CmpOp::Eq, path(), next()),
        Op::Ne => Condition::Compare(CmpOp::Ne, path(), next()),
        Op::Le => Condition::Compare(CmpOp::Le, path(), next()),
        Op::Lt => Condition::Compare(CmpOp::Lt, path(), next()),
        Op::Ge => Condition::Compare(CmpOp::Ge, path(), next()),
        Op::Gt => Condition::Compare(CmpOp::Gt, path(), next()),
        Op::NotNull => Condition::Exists(top_level(name)),
        Op::Null => Condition::NotExists(top_level(name)),
        Op::Contains => Condition::Contains(path(), next()),
        Op::NotContains => Condition::Not(Box::new(Condition::Contains(path(), next()))),
        Op::BeginsWith => Condition::BeginsWith(path(), next()),
        Op::Between => {
            let lo = next();
            Condition::Between(path(), lo, next())
        }
        Op::In => Condition::In(path(), values.collect()),
    }
}

/// Joins the comparisons with `ConditionalOperator` (AND unless `OR`). The tree is balanced,
/// not a left-deep chain: `Expected` has no size limit, and evaluating (or dropping) a chain of
/// 100,000 comparisons recursed 100,000 deep; balanced, the depth is log2 of the count. AND and
/// OR are associative and evaluation has no side effects, so the answer is the same.
fn combine(leaves: Vec<Condition>, conditional_operator: Option<&str>) -> Option<ConditionExpr> {
    let or = conditional_operator == Some("OR");
    let join = |a: Condition, b: Condition| match or {
        true => Condition::Or(Box::new(a), Box::new(b)),
        false => Condition::And(Box::new(a), Box::new(b)),
    };
    let mut level = leaves;
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        let mut it = level.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) => join(a, b),
                None => a,
            });
        }
        level = next;
    }
    level.pop().map(ConditionExpr::from_condition)
}

fn values_of(list: Option<Vec<m::AttributeValue>>) -> DdbResult<Vec<AttributeValue>> {
    list.unwrap_or_default()
        .into_iter()
        .map(|v| value_from_model(v).map_err(DdbError::from))
        .collect()
}

/// Checks shared by `Expected` comparisons and filters once the argument count is right: one
/// type throughout the list, and a BETWEEN range that is not upside down.
fn check_list(op: Op, values: &[AttributeValue]) -> DdbResult<()> {
    if let Some(first) = values.first()
        && values.iter().any(|v| v.attr_type() != first.attr_type())
    {
        return Err(DdbError::validation(format!(
            "{INVALID}AttributeValues inside AttributeValueList must be of same type"
        )));
    }
    if let (Op::Between, [lo, hi]) = (op, values)
        && order_values(lo, hi) == Some(std::cmp::Ordering::Greater)
    {
        return Err(DdbError::validation(
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
        ));
    }
    Ok(())
}

fn argument_count_error(op: &str) -> DdbError {
    DdbError::validation(format!(
        "{INVALID}Invalid number of argument(s) for the {op} ComparisonOperator"
    ))
}

/// `Expected` (PutItem, UpdateItem, DeleteItem) as a condition; `None` for none or an empty map.
pub fn expected(
    expected: Option<IndexMap<String, m::ExpectedAttributeValue>>,
    conditional_operator: Option<&str>,
) -> DdbResult<Option<ConditionExpr>> {
    let mut leaves = Vec::new();
    for (name, c) in expected.unwrap_or_default() {
        let invalid = |what: String| Err(DdbError::validation(format!("{INVALID}{what}")));
        if c.attribute_value_list.is_some() && c.value.is_some() {
            return invalid(format!(
                "Value and AttributeValueList cannot be used together for Attribute: {name}"
            ));
        }
        if let Some(op_name) = c.comparison_operator.as_deref() {
            if c.exists.is_some() {
                return invalid(format!(
                    "Exists and ComparisonOperator cannot be used together for Attribute: {name}"
                ));
            }
            let op = Op::parse(op_name)?;
            if !matches!(op, Op::Null | Op::NotNull)
                && c.attribute_value_list.is_none()
                && c.value.is_none()
            {
                return invalid(format!(
                    "Value or AttributeValueList must be used with ComparisonOperator: {op_name} for Attribute: {name}"
                ));
            }
            let values = match c.value {
                Some(v) => vec![value_from_model(v)?],
                None => values_of(c.attribute_value_list)?,
            };
            if !op.arity_ok(values.len()) {
                return Err(argument_count_error(op_name));
            }
            check_list(op, &values)?;
            leaves.push(leaf(&name, op, values));
        } else if c.attribute_value_list.is_some() {
            return invalid(format!(
                "AttributeValueList can only be used with a ComparisonOperator for Attribute: {name}"
            ));
        } else {
            match (c.exists, c.value) {
                (Some(false), Some(_)) => {
                    return invalid(format!(
                        "Value cannot be used when Exists is false for Attribute: {name}"
                    ));
                }
                (Some(false), None) => leaves.push(Condition::NotExists(top_level(&name))),
                (exists, None) => {
                    let shown = if exists.is_some() { "true" } else { "null" };
                    return invalid(format!(
                        "Value must be provided when Exists is {shown} for Attribute: {name}"
                    ));
                }
                (_, Some(v)) => leaves.push(leaf(&name, Op::Eq, vec![value_from_model(v)?])),
            }
        }
    }
    Ok(combine(leaves, conditional_operator))
}

/// One validated filter or key comparison.
fn condition_of(c: m::Condition) -> DdbResult<(Op, Vec<AttributeValue>)> {
    let op_name = c.comparison_operator.unwrap_or_default();
    let op = Op::parse(&op_name)?;
    let values = values_of(c.attribute_value_list)?;
    if !op.arity_ok(values.len()) {
        return Err(argument_count_error(&op_name));
    }
    check_list(op, &values)?;
    if let Some(allowed) = op.allowed_types()
        && let Some(v) = values.iter().find(|v| !allowed.contains(&v.attr_type()))
    {
        return Err(DdbError::validation(format!(
            "{INVALID}ComparisonOperator {op_name} is not valid for {} AttributeValue type",
            v.attr_type().as_str()
        )));
    }
    Ok((op, values))
}

/// `QueryFilter` / `ScanFilter` as a filter; `None` for none or an empty map.
pub fn filter(
    filter: Option<IndexMap<String, m::Condition>>,
    conditional_operator: Option<&str>,
) -> DdbResult<Option<ConditionExpr>> {
    let mut leaves = Vec::new();
    for (name, c) in filter.unwrap_or_default() {
        let (op, values) = condition_of(c)?;
        leaves.push(leaf(&name, op, values));
    }
    Ok(combine(leaves, conditional_operator))
}

/// `KeyConditions` (Query) checked against the queried key schema.
pub fn key_conditions(
    conditions: IndexMap<String, m::Condition>,
    schema: &KeySchema<'_>,
) -> DdbResult<KeyCondition> {
    let mut parsed = IndexMap::new();
    for (name, c) in conditions {
        parsed.insert(name, condition_of(c)?);
    }
    if parsed.is_empty() || parsed.len() > 2 {
        return Err(ExprError::ConditionsLength.into());
    }
    let missing = |name: &str| Err(ExprError::MissedKeyElement(name.to_string()).into());
    if !parsed.contains_key(schema.hash.name) {
        return missing(schema.hash.name);
    }
    if parsed.len() == 2 {
        match schema.range {
            Some(r) if !parsed.contains_key(r.name) => return missing(r.name),
            None => return Err(ExprError::KeyConditionNotSupported.into()),
            _ => {}
        }
    }
    if parsed.values().any(|(op, _)| {
        matches!(
            op,
            Op::Ne | Op::Null | Op::NotNull | Op::Contains | Op::NotContains | Op::In
        )
    }) {
        return Err(DdbError::validation(
            "Attempted conditional constraint is not an indexable operation",
        ));
    }
    let Some((Op::Eq, hash_values)) = parsed.shift_remove(schema.hash.name) else {
        return Err(ExprError::KeyConditionNotSupported.into());
    };
    let hash_value = hash_values
        .into_iter()
        .next()
        .ok_or_else(|| argument_count_error("EQ"))?;
    if hash_value.attr_type() != schema.hash.ty {
        return Err(ExprError::KeyTypeMismatch.into());
    }
    let range = match (parsed.pop(), schema.range) {
        (Some((name, (op, values))), Some(r)) => {
            if values.iter().any(|v| v.attr_type() != r.ty) {
                return Err(ExprError::KeyTypeMismatch.into());
            }
            let mut values = values.into_iter();
            let mut next = || values.next().ok_or_else(|| argument_count_error("range"));
            let cond = match op {
                Op::Eq => RangeCondition::Compare(CmpOp::Eq, next()?),
                Op::Lt => RangeCondition::Compare(CmpOp::Lt, next()?),
                Op::Le => RangeCondition::Compare(CmpOp::Le, next()?),
                Op::Gt => RangeCondition::Compare(CmpOp::Gt, next()?),
                Op::Ge => RangeCondition::Compare(CmpOp::Ge, next()?),
                Op::BeginsWith => RangeCondition::BeginsWith(next()?),
                Op::Between => {
                    let lo = next()?;
                    RangeCondition::Between(lo, next()?)
                }
                // Refused as not indexable above.
                _ => return Err(ExprError::KeyConditionNotSupported.into()),
            };
            Some((name, cond))
        }
        _ => None,
    };
    Ok(KeyCondition {
        hash: (schema.hash.name.to_string(), hash_value),
        range,
    })
}

/// The projection from ProjectionExpression or else the legacy AttributesToGet, with the name
/// of the parameter it came from.
pub fn projection(
    ectx: &mut ExpressionContext<'_>,
    expression: Option<&str>,
    attributes_to_get: Option<Vec<String>>,
) -> DdbResult<(Option<ProjectionExpr>, &'static str)> {
    Ok(match expression {
        Some(p) => (Some(ectx.projection(p)?), "ProjectionExpression"),
        None => (
            self::attributes_to_get(attributes_to_get)?,
            "AttributesToGet",
        ),
    })
}

/// ConditionExpression, or else the legacy `Expected` with `ConditionalOperator`.
pub fn condition(
    ectx: &mut ExpressionContext<'_>,
    expression: Option<&str>,
    expected: Option<IndexMap<String, m::ExpectedAttributeValue>>,
    conditional_operator: Option<&str>,
) -> DdbResult<Option<ConditionExpr>> {
    match expression {
        Some(c) => Ok(Some(ectx.condition(c)?)),
        None => self::expected(expected, conditional_operator),
    }
}

/// `AttributesToGet` as a projection of top-level attributes.
pub fn attributes_to_get(names: Option<Vec<String>>) -> DdbResult<Option<ProjectionExpr>> {
    let Some(names) = names else { return Ok(None) };
    // The first name seen twice, as the pairwise scan found it, in linear time.
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    for n in &names {
        if !seen.insert(n.as_str()) {
            return Err(DdbError::validation(format!(
                "{INVALID}Duplicate value in attribute name: {n}"
            )));
        }
    }
    Ok(Some(ProjectionExpr::from_paths(
        names.iter().map(|n| top_level(n)).collect(),
    )))
}

/// `AttributeUpdates` (UpdateItem) as an update; an absent `Action` is PUT.
pub fn attribute_updates(
    updates: IndexMap<String, m::AttributeValueUpdate>,
) -> DdbResult<UpdateExpr> {
    let mut actions = Vec::new();
    for (name, u) in updates {
        let value = u.value.map(value_from_model).transpose()?;
        let action = u.action.as_deref().unwrap_or("PUT");
        let path = top_level(&name);
        let not_supported = |what: &str, ty: AttrType| {
            Err(DdbError::validation(format!(
                "{INVALID}{what} is not supported for the type {}",
                ty.as_str()
            )))
        };
        actions.push(match (action, value) {
            ("DELETE", None) => UpdateAction::Remove(path),
            (_, None) => {
                return Err(DdbError::validation(format!(
                    "{INVALID}Only DELETE action is allowed when no attribute value is specified"
                )));
            }
            ("DELETE", Some(v)) => match v.attr_type() {
                AttrType::Ss | AttrType::Ns | AttrType::Bs => UpdateAction::Delete(path, v),
                ty => return not_supported("DELETE action with value", ty),
            },
            ("ADD", Some(v)) => match v.attr_type() {
                AttrType::N | AttrType::L | AttrType::Ss | AttrType::Ns | AttrType::Bs => {
                    UpdateAction::Add(path, v)
                }
                ty => return not_supported("ADD action", ty),
            },
            (_, Some(v)) => UpdateAction::Set(
                path,
                crate::expr::SetValue::Operand(crate::expr::SetOperand::Value(v)),
            ),
        });
    }
    Ok(UpdateExpr::legacy(actions))
}
