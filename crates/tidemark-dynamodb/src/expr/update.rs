//! Update expressions: the SET/REMOVE/ADD/DELETE grammar with DynamoDB's checks, and the
//! compiled `UpdateExpr` (applying it lives in `apply.rs`).

use super::apply::apply_actions;
use super::ast::{Path, SetOperand, SetValue, UpdateAction};
use super::error::{Detail, ExprError};
use super::lexer::Tok;
use super::parser::{Cat, PExpr, Parser};
use super::projection::ProjectionExpr;
use crate::attr::{AttrType, AttributeValue, Item};

const SECTIONS: [&str; 4] = ["SET", "REMOVE", "ADD", "DELETE"];

/// A compiled update expression.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateExpr {
    pub(crate) actions: Vec<UpdateAction>,
    /// Built from the legacy `AttributeUpdates`: ADD of a list appends to it, and a value of
    /// the wrong type for ADD or DELETE is `Type mismatch for attribute to update`.
    pub(crate) legacy: bool,
}

/// Name of a value type in ADD/DELETE operand errors; sets are allowed and have none.
fn operand_type_name(ty: AttrType) -> Option<&'static str> {
    Some(match ty {
        AttrType::S => "STRING",
        AttrType::N => "NUMBER",
        AttrType::B => "BINARY",
        AttrType::Null => "NULL",
        AttrType::Bool => "BOOLEAN",
        AttrType::L => "LIST",
        AttrType::M => "MAP",
        AttrType::Ss | AttrType::Ns | AttrType::Bs => return None,
    })
}

impl Parser<'_, '_, '_> {
    pub(crate) fn parse_update(&mut self) -> Result<Vec<UpdateAction>, ExprError> {
        let mut seen = [false; 4];
        let mut actions = Vec::new();
        loop {
            if self.at(Tok::Eof) && !actions.is_empty() {
                break;
            }
            let Some(section) = SECTIONS.iter().position(|s| self.at_keyword(s)) else {
                return Err(self.syntax_error());
            };
            self.advance();
            if seen[section] {
                self.defer(Cat::Section, Detail::SectionTwice(SECTIONS[section]));
            }
            seen[section] = true;
            loop {
                actions.push(self.update_action(section)?);
                if !self.at(Tok::Comma) {
                    break;
                }
                self.advance();
            }
        }
        let paths: Vec<&Path> = actions.iter().map(UpdateAction::path).collect();
        self.check_overlaps(&paths);
        Ok(actions)
    }

    fn update_action(&mut self, section: usize) -> Result<UpdateAction, ExprError> {
        let path = self.parse_path()?;
        match section {
            0 => {
                self.expect(Tok::Eq)?;
                let value = self.set_value()?;
                Ok(UpdateAction::Set(path, value))
            }
            1 => Ok(UpdateAction::Remove(path)),
            _ => {
                let operator = SECTIONS[section];
                let value = self.parse_value()?;
                if let Some(v) = &value
                    && let Some(ty) = operand_type_name(v.attr_type())
                    && !(operator == "ADD" && ty == "NUMBER")
                {
                    self.defer(Cat::Operand, Detail::UpdateOperandType { operator, ty });
                }
                let value = value.unwrap_or(AttributeValue::Null);
                Ok(if section == 2 {
                    UpdateAction::Add(path, value)
                } else {
                    UpdateAction::Delete(path, value)
                })
            }
        }
    }

    /// `operand [('+' | '-') operand]`, optionally wrapped in one pair of parentheses
    /// (`(a + :v)`; `(a) + :v` is a parenthesised operand instead).
    fn set_value(&mut self) -> Result<SetValue, ExprError> {
        if self.at(Tok::LParen) {
            let mark = self.mark();
            self.advance();
            match self.set_value_inner() {
                Ok(v) if self.at(Tok::RParen) => {
                    self.advance();
                    if !self.at(Tok::Plus) && !self.at(Tok::Minus) {
                        return Ok(v);
                    }
                }
                Err(e) if e.is_limit() => return Err(e),
                _ => {}
            }
            self.reset(mark);
        }
        self.set_value_inner()
    }

    fn set_value_inner(&mut self) -> Result<SetValue, ExprError> {
        let a = self.parse_operand()?;
        let plus = self.at(Tok::Plus);
        if !plus && !self.at(Tok::Minus) {
            return Ok(SetValue::Operand(self.set_operand(a)));
        }
        self.count_operator()?;
        self.advance();
        let b = self.parse_operand()?;
        let symbol = if plus { "+" } else { "-" };
        self.immediate_types(symbol, &[&a, &b], AttrType::N);
        let (a, b) = (self.set_operand(a), self.set_operand(b));
        Ok(if plus {
            SetValue::Plus(a, b)
        } else {
            SetValue::Minus(a, b)
        })
    }

    /// Literal operands of `+`, `-` and `list_append` must have the type the function needs.
    fn immediate_types(&mut self, function: &str, args: &[&PExpr], want: AttrType) {
        for a in args {
            if let PExpr::Value(Some(v)) = a
                && v.attr_type() != want
            {
                self.defer(
                    Cat::Function,
                    Detail::OperandType {
                        function: function.to_string(),
                        ty: v.attr_type().to_string(),
                    },
                );
            }
        }
    }

    fn set_operand(&mut self, e: PExpr) -> SetOperand {
        let fallback = SetOperand::Value(AttributeValue::Null);
        match e {
            PExpr::Path(p) => SetOperand::Path(p),
            PExpr::Value(v) => SetOperand::Value(v.unwrap_or(AttributeValue::Null)),
            PExpr::Call { name, args } => {
                if name != "if_not_exists" && name != "list_append" {
                    self.defer(Cat::UnknownFunction, Detail::UnknownFunction(name));
                    return fallback;
                }
                if args.len() != 2 {
                    let count = args.len();
                    self.defer(
                        Cat::Function,
                        Detail::OperandCount {
                            function: name,
                            count,
                        },
                    );
                    return fallback;
                }
                if name == "list_append" {
                    self.immediate_types(&name, &[&args[0], &args[1]], AttrType::L);
                    // DynamoDB refuses list_append(list_append(..), ..) (alternator
                    // test_update_expression_function_nesting).
                    if args
                        .iter()
                        .any(|a| matches!(a, PExpr::Call { name, .. } if name == "list_append"))
                    {
                        self.defer(
                            Cat::MisusedFunction,
                            Detail::MisusedFunction("list_append".to_string()),
                        );
                    }
                }
                let mut it = args.into_iter();
                let (a, b) = match (it.next(), it.next()) {
                    (Some(a), Some(b)) => (a, b),
                    _ => return fallback,
                };
                if name == "list_append" {
                    let (a, b) = (self.set_operand(a), self.set_operand(b));
                    return SetOperand::ListAppend(Box::new(a), Box::new(b));
                }
                match a {
                    PExpr::Path(p) => SetOperand::IfNotExists(p, Box::new(self.set_operand(b))),
                    _ => {
                        self.defer(Cat::Function, Detail::RequiresPath(name));
                        fallback
                    }
                }
            }
        }
    }
}

impl UpdateExpr {
    /// An update with no actions (UpdateItem without an UpdateExpression).
    pub fn empty() -> UpdateExpr {
        UpdateExpr {
            actions: Vec::new(),
            legacy: false,
        }
    }

    /// The update a legacy `AttributeUpdates` map stands for (top-level paths, no overlaps).
    pub(crate) fn legacy(actions: Vec<UpdateAction>) -> UpdateExpr {
        UpdateExpr {
            actions,
            legacy: true,
        }
    }

    pub fn actions(&self) -> &[UpdateAction] {
        &self.actions
    }

    /// The paths this update touches, as a projection (for `ReturnValues=UPDATED_OLD/NEW`).
    pub fn updated_projection(&self) -> ProjectionExpr {
        ProjectionExpr::from_paths(self.actions.iter().map(|a| a.path().clone()).collect())
    }

    /// Applies the update to an existing item and returns the new item.
    ///
    /// As in DynamoDB (alternator `test_update_expression.py`): every SET value is computed from
    /// the old item first; SET/ADD/DELETE actions run in path order, so several SETs past the
    /// end of one list append in index order; REMOVEs run last, highest list index first, so
    /// every list index refers to the old list.
    pub fn apply(&self, old: &Item) -> Result<Item, ExprError> {
        apply_actions(&self.actions, old, false, self.legacy)
    }

    /// Applies the update when no item exists yet (an upsert). Same as `apply` on an empty
    /// item, except that REMOVE of a nested path is silently ignored, as DynamoDB does for a
    /// missing item (alternator `test_nested_attribute_remove_from_missing_item`).
    pub fn apply_to_missing_item(&self) -> Result<Item, ExprError> {
        apply_actions(&self.actions, &Item::new(), true, self.legacy)
    }

    /// True when the update has actions and every one of them removes something (REMOVE, or
    /// DELETE of set members; the legacy DELETE action too): on a missing item DynamoDB then
    /// writes nothing (alternator issue #5862 records the same observation).
    pub fn only_deletes(&self) -> bool {
        !self.actions.is_empty()
            && self
                .actions
                .iter()
                .all(|a| matches!(a, UpdateAction::Remove(_) | UpdateAction::Delete(..)))
    }

    /// `One or more parameter values were invalid: Cannot update attribute <k>. This attribute
    /// is part of the key` when any action targets a key attribute.
    pub fn check_key_attributes(&self, keys: &[&str]) -> Result<(), ExprError> {
        match self
            .actions
            .iter()
            .find(|a| keys.contains(&a.path().root()))
        {
            Some(a) => Err(ExprError::KeyAttributeUpdate(a.path().root().to_string())),
            None => Ok(()),
        }
    }
}
