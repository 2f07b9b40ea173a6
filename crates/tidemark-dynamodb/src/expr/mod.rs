//! DynamoDB's expression language: condition/filter, key-condition, update and projection
//! expressions — lexing, parsing with DynamoDB's validation and messages, name/value
//! substitution with usage tracking, and evaluation against items.
//!
//! Usage: build one `ExpressionContext` per request from its ExpressionAttributeNames/Values,
//! compile each expression of the request through it (names and values are resolved at compile
//! time, so evaluating over many items allocates nothing), then call `finish()` to report unused
//! placeholders.

mod apply;
mod ast;
mod condition;
mod context;
mod error;
mod eval;
mod key_condition;
mod lexer;
mod parser;
mod projection;
mod reserved;
mod update;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_update;

pub use crate::attr::{KeyAttr, KeySchema};
pub use ast::{CmpOp, Condition, Operand, Path, PathElem, SetOperand, SetValue, UpdateAction};
pub use context::{ConditionExpr, ExpressionContext, validate_attribute_values};
pub use error::{Detail, ExprError, ExprKind};
pub use eval::{compare_values, order_values};
pub use key_condition::{KeyCondition, RangeCondition};
pub use projection::ProjectionExpr;
pub use reserved::is_reserved;
pub use update::UpdateExpr;
