//! `ExpressionContext`: compiles all expressions of one request against its
//! ExpressionAttributeNames/Values, tracking which placeholders were used so `finish()` can
//! report unused ones the way DynamoDB does (across every expression of the request).

use super::ast::Condition;
use super::error::{ExprError, ExprKind};
use super::key_condition::{KeyCondition, to_key_condition};
use super::parser::Parser;
use super::projection::ProjectionExpr;
use super::update::UpdateExpr;
use crate::attr::{AttributeValue, Item, KeySchema, RawAttributeValue};
use indexmap::IndexMap;

/// A compiled condition or filter expression.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionExpr {
    condition: Condition,
}

impl ConditionExpr {
    pub fn condition(&self) -> &Condition {
        &self.condition
    }

    /// A condition built without parsing (the legacy `Expected` and filter parameters).
    pub(crate) fn from_condition(condition: Condition) -> ConditionExpr {
        ConditionExpr { condition }
    }

    /// Whether the item satisfies the condition (use an empty item when none exists).
    pub fn evaluate(&self, item: &Item) -> bool {
        self.condition.evaluate(item)
    }
}

/// Placeholder maps of one request plus their usage.
#[derive(Debug)]
pub struct ExpressionContext<'a> {
    names: Option<&'a IndexMap<String, String>>,
    values: Option<&'a Item>,
    used_names: Vec<bool>,
    used_values: Vec<bool>,
    compiled: usize,
}

fn valid_key(key: &str, sigil: char) -> bool {
    key.strip_prefix(sigil).is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
    })
}

/// Validates ExpressionAttributeValues as sent, with DynamoDB's
/// `ExpressionAttributeValues contains invalid value: <reason> for key <key>` wording.
pub fn validate_attribute_values(
    raw: IndexMap<String, RawAttributeValue>,
) -> Result<Item, ExprError> {
    raw.into_iter()
        .map(|(key, v)| match v.validate() {
            Ok(v) => Ok((key, v)),
            Err(error) => Err(ExprError::InvalidValue { key, error }),
        })
        .collect()
}

impl<'a> ExpressionContext<'a> {
    /// Checks the maps themselves: present maps must be non-empty and keyed `#name` / `:value`.
    pub fn new(
        names: Option<&'a IndexMap<String, String>>,
        values: Option<&'a Item>,
    ) -> Result<Self, ExprError> {
        if let Some(n) = names {
            if n.is_empty() {
                return Err(ExprError::EmptyNames);
            }
            if let Some(k) = n.keys().find(|k| !valid_key(k, '#')) {
                return Err(ExprError::InvalidNameKey(k.clone()));
            }
        }
        if let Some(v) = values {
            if v.is_empty() {
                return Err(ExprError::EmptyValues);
            }
            if let Some(k) = v.keys().find(|k| !valid_key(k, ':')) {
                return Err(ExprError::InvalidValueKey(k.clone()));
            }
        }
        Ok(ExpressionContext {
            names,
            values,
            used_names: vec![false; names.map_or(0, IndexMap::len)],
            used_values: vec![false; values.map_or(0, IndexMap::len)],
            compiled: 0,
        })
    }

    pub(crate) fn lookup_name(&mut self, key: &str) -> Option<String> {
        let (i, _, v) = self.names?.get_full(key)?;
        self.used_names[i] = true;
        Some(v.clone())
    }

    pub(crate) fn lookup_value(&mut self, key: &str) -> Option<AttributeValue> {
        let (i, _, v) = self.values?.get_full(key)?;
        self.used_values[i] = true;
        Some(v.clone())
    }

    fn condition_of(&mut self, text: &str, kind: ExprKind) -> Result<Condition, ExprError> {
        self.compiled += 1;
        let mut p = Parser::new(text, kind, self)?;
        let c = p.parse_condition()?;
        p.finish()?;
        Ok(c)
    }

    /// Compiles a ConditionExpression.
    pub fn condition(&mut self, text: &str) -> Result<ConditionExpr, ExprError> {
        let condition = self.condition_of(text, ExprKind::Condition)?;
        Ok(ConditionExpr { condition })
    }

    /// Compiles a FilterExpression (same language; errors name FilterExpression).
    pub fn filter(&mut self, text: &str) -> Result<ConditionExpr, ExprError> {
        let condition = self.condition_of(text, ExprKind::Filter)?;
        Ok(ConditionExpr { condition })
    }

    /// Compiles a KeyConditionExpression and checks it against the key schema.
    pub fn key_condition(
        &mut self,
        text: &str,
        schema: &KeySchema<'_>,
    ) -> Result<KeyCondition, ExprError> {
        let c = self.condition_of(text, ExprKind::KeyCondition)?;
        to_key_condition(c, schema)
    }

    /// Compiles an UpdateExpression.
    pub fn update(&mut self, text: &str) -> Result<UpdateExpr, ExprError> {
        self.compiled += 1;
        let mut p = Parser::new(text, ExprKind::Update, self)?;
        let actions = p.parse_update()?;
        p.finish()?;
        Ok(UpdateExpr {
            actions,
            legacy: false,
        })
    }

    /// Compiles a ProjectionExpression.
    pub fn projection(&mut self, text: &str) -> Result<ProjectionExpr, ExprError> {
        self.compiled += 1;
        let mut p = Parser::new(text, ExprKind::Projection, self)?;
        let paths = p.parse_projection()?;
        p.finish()?;
        Ok(ProjectionExpr::from_paths(paths))
    }

    /// After every expression of the request compiled: maps given without any expression, then
    /// unused names, then unused values are errors. `value_expressions` lists the request's
    /// expressions that take values, as DynamoDB names them when values come without any
    /// (`ConditionExpression is null`); requests without ExpressionAttributeValues pass "".
    pub fn finish(self, value_expressions: &str) -> Result<(), ExprError> {
        if self.compiled == 0 {
            if self.names.is_some() {
                return Err(ExprError::NamesWithoutExpressions);
            }
            if self.values.is_some() {
                return Err(ExprError::ValuesWithoutExpressions(
                    value_expressions.to_string(),
                ));
            }
        }
        let unused = |keys: Option<Vec<&String>>, used: &[bool]| -> Vec<String> {
            keys.unwrap_or_default()
                .into_iter()
                .zip(used)
                .filter(|(_, u)| !**u)
                .map(|(k, _)| k.clone())
                .collect()
        };
        let names = unused(self.names.map(|m| m.keys().collect()), &self.used_names);
        if !names.is_empty() {
            return Err(ExprError::UnusedNames(names));
        }
        let values = unused(self.values.map(|m| m.keys().collect()), &self.used_values);
        if !values.is_empty() {
            return Err(ExprError::UnusedValues(values));
        }
        Ok(())
    }
}
