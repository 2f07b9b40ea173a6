//! Applying a compiled update to an item: SET (with `+`, `-`, `if_not_exists`, `list_append`),
//! REMOVE, ADD and DELETE, with DynamoDB's semantics and runtime errors (dynalite
//! `actions/updateItem.js`; alternator `test_update_expression.py`).

use super::ast::{Path, PathElem, SetOperand, SetValue, UpdateAction};
use super::error::ExprError;
use crate::attr::{AttributeValue, Item, MAX_NESTING_DEPTH};
use std::collections::HashSet;
use std::hash::Hash;

/// Applies update actions to `old` (see `UpdateExpr::apply` for the ordering rules).
/// `missing_item`: no item existed, so REMOVE of a path whose parent is missing is ignored.
/// `legacy`: the actions come from `AttributeUpdates` (see `UpdateExpr::legacy`).
pub(crate) fn apply_actions(
    actions: &[UpdateAction],
    old: &Item,
    missing_item: bool,
    legacy: bool,
) -> Result<Item, ExprError> {
    // SET values are all computed from the old item before anything changes.
    let mut writes = Vec::new();
    let mut removes = Vec::new();
    for a in actions {
        match a {
            UpdateAction::Set(p, v) => writes.push((p, Write::Set(eval_set_value(v, old)?))),
            UpdateAction::Add(p, v) => writes.push((p, Write::Add(v))),
            UpdateAction::Delete(p, v) => writes.push((p, Write::Delete(v))),
            UpdateAction::Remove(p) => removes.push(p),
        }
    }
    let mismatch = |e: ExprError| match e {
        ExprError::IncorrectOperandType if legacy => ExprError::LegacyTypeMismatch,
        e => e,
    };
    let mut new = old.clone();
    // Paths never overlap (checked at parse time), so order only matters among appends to
    // one list, which DynamoDB performs in index order.
    writes.sort_by(|a, b| a.0.elems().cmp(b.0.elems()));
    for (p, w) in writes {
        match w {
            Write::Set(v) => set_at(&mut new, p, v)?,
            Write::Add(v) => add_at(&mut new, p, v, legacy).map_err(mismatch)?,
            Write::Delete(v) => delete_at(&mut new, p, v).map_err(mismatch)?,
        }
    }
    // Highest index first, so each removal leaves the lower indexes unchanged.
    removes.sort_by(|a, b| b.elems().cmp(a.elems()));
    for p in removes {
        match remove_at(&mut new, p) {
            Err(ExprError::InvalidDocumentPath) if missing_item => {}
            other => other?,
        }
    }
    // A 32-step SET path given a 31-level value would store 62 levels: more than any item may
    // hold, and near serde_json's 128-level limit when the stored item is read back.
    if new.values().any(|v| too_deep(v, 1)) {
        return Err(ExprError::NestingTooDeep);
    }
    Ok(new)
}

/// Whether `v`, at nesting level `level` (a top-level attribute is 1), or anything inside it
/// lies deeper than `MAX_NESTING_DEPTH`. Recursion is bounded: paths have at most 32 steps and
/// values at most 32 levels, so no item reaching here nests deeper than 64.
fn too_deep(v: &AttributeValue, level: usize) -> bool {
    if level > MAX_NESTING_DEPTH {
        return true;
    }
    match v {
        AttributeValue::M(m) => m.values().any(|x| too_deep(x, level + 1)),
        AttributeValue::L(l) => l.iter().any(|x| too_deep(x, level + 1)),
        _ => false,
    }
}

/// A non-REMOVE action with its computed operand.
enum Write<'a> {
    Set(AttributeValue),
    Add(&'a AttributeValue),
    Delete(&'a AttributeValue),
}

fn eval_set_value(v: &SetValue, item: &Item) -> Result<AttributeValue, ExprError> {
    let number = |o: &SetOperand| match eval_set_operand(o, item)? {
        AttributeValue::N(n) => Ok(n),
        _ => Err(ExprError::IncorrectOperandType),
    };
    match v {
        SetValue::Operand(o) => eval_set_operand(o, item),
        SetValue::Plus(a, b) => Ok(AttributeValue::N(number(a)?.checked_add(&number(b)?)?)),
        SetValue::Minus(a, b) => Ok(AttributeValue::N(number(a)?.checked_sub(&number(b)?)?)),
    }
}

fn eval_set_operand(o: &SetOperand, item: &Item) -> Result<AttributeValue, ExprError> {
    match o {
        SetOperand::Path(p) => p.resolve(item).cloned().ok_or(ExprError::MissingAttribute),
        SetOperand::Value(v) => Ok(v.clone()),
        SetOperand::IfNotExists(p, default) => match p.resolve(item) {
            Some(v) => Ok(v.clone()),
            None => eval_set_operand(default, item),
        },
        SetOperand::ListAppend(a, b) => {
            match (eval_set_operand(a, item)?, eval_set_operand(b, item)?) {
                (AttributeValue::L(mut x), AttributeValue::L(y)) => {
                    x.extend(y);
                    Ok(AttributeValue::L(x))
                }
                _ => Err(ExprError::IncorrectOperandType),
            }
        }
    }
}

fn resolve_mut<'a>(item: &'a mut Item, elems: &[PathElem]) -> Option<&'a mut AttributeValue> {
    let (PathElem::Attr(root), rest) = elems.split_first()? else {
        return None;
    };
    let mut cur = item.get_mut(root)?;
    for e in rest {
        cur = match (e, cur) {
            (PathElem::Attr(a), AttributeValue::M(m)) => m.get_mut(a)?,
            (PathElem::Index(i), AttributeValue::L(l)) => l.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The container holding the last step of `path`; `None` for a top-level path (the item).
/// Errors when the parent is missing or of the wrong kind for the last step.
fn parent_mut<'a>(
    item: &'a mut Item,
    path: &Path,
) -> Result<Option<&'a mut AttributeValue>, ExprError> {
    let elems = path.elems();
    if elems.len() == 1 {
        return Ok(None);
    }
    let parent =
        resolve_mut(item, &elems[..elems.len() - 1]).ok_or(ExprError::InvalidDocumentPath)?;
    match (elems.last(), &*parent) {
        (Some(PathElem::Attr(_)), AttributeValue::M(_))
        | (Some(PathElem::Index(_)), AttributeValue::L(_)) => Ok(Some(parent)),
        _ => Err(ExprError::InvalidDocumentPath),
    }
}

/// SET: replaces or creates; a list index past the end appends.
fn set_at(item: &mut Item, path: &Path, value: AttributeValue) -> Result<(), ExprError> {
    match (parent_mut(item, path)?, path.elems().last()) {
        (None, _) => {
            item.insert(path.root().to_string(), value);
        }
        (Some(AttributeValue::M(m)), Some(PathElem::Attr(k))) => {
            m.insert(k.clone(), value);
        }
        (Some(AttributeValue::L(l)), Some(PathElem::Index(i))) => {
            if *i < l.len() {
                l[*i] = value;
            } else {
                l.push(value);
            }
        }
        _ => return Err(ExprError::InvalidDocumentPath),
    }
    Ok(())
}

fn remove_at(item: &mut Item, path: &Path) -> Result<(), ExprError> {
    match (parent_mut(item, path)?, path.elems().last()) {
        (None, _) => {
            item.shift_remove(path.root());
        }
        (Some(AttributeValue::M(m)), Some(PathElem::Attr(k))) => {
            m.shift_remove(k);
        }
        (Some(AttributeValue::L(l)), Some(PathElem::Index(i))) => {
            if *i < l.len() {
                l.remove(*i);
            }
        }
        _ => return Err(ExprError::InvalidDocumentPath),
    }
    Ok(())
}

/// ADD: numbers are summed (a missing attribute counts as 0), sets are unioned (a missing
/// attribute counts as empty); with `legacy` (AttributeUpdates), lists are appended too.
fn add_at(
    item: &mut Item,
    path: &Path,
    value: &AttributeValue,
    legacy: bool,
) -> Result<(), ExprError> {
    parent_mut(item, path)?;
    let new = match (path.resolve(item), value) {
        (None, v) => v.clone(),
        (Some(AttributeValue::L(a)), AttributeValue::L(b)) if legacy => {
            AttributeValue::L(a.iter().chain(b).cloned().collect())
        }
        (Some(AttributeValue::N(a)), AttributeValue::N(b)) => AttributeValue::N(a.checked_add(b)?),
        (Some(AttributeValue::Ss(a)), AttributeValue::Ss(b)) => AttributeValue::Ss(union(a, b)),
        (Some(AttributeValue::Ns(a)), AttributeValue::Ns(b)) => AttributeValue::Ns(union(a, b)),
        (Some(AttributeValue::Bs(a)), AttributeValue::Bs(b)) => AttributeValue::Bs(union(a, b)),
        _ => return Err(ExprError::IncorrectOperandType),
    };
    set_at(item, path, new)
}

/// `a` then the members of `b` not yet in it, in order. Hashing keeps ADD linear in both sets
/// (a pairwise scan was quadratic in the size of the stored set).
fn union<T: Eq + Hash + Clone>(a: &[T], b: &[T]) -> Vec<T> {
    let mut seen: HashSet<&T> = a.iter().collect();
    let mut out = a.to_vec();
    for x in b {
        if seen.insert(x) {
            out.push(x.clone());
        }
    }
    out
}

/// Removes the members of `b` from `a`, keeping `a`'s order; linear in both sets.
fn difference<T: Eq + Hash>(a: &mut Vec<T>, b: &[T]) {
    let gone: HashSet<&T> = b.iter().collect();
    a.retain(|x| !gone.contains(x));
}

/// DELETE: removes set members; a set left empty removes the attribute; a missing attribute is
/// left alone.
fn delete_at(item: &mut Item, path: &Path, value: &AttributeValue) -> Result<(), ExprError> {
    parent_mut(item, path)?;
    let Some(existing) = resolve_mut(item, path.elems()) else {
        return Ok(());
    };
    let now_empty = match (existing, value) {
        (AttributeValue::Ss(a), AttributeValue::Ss(b)) => {
            difference(a, b);
            a.is_empty()
        }
        (AttributeValue::Ns(a), AttributeValue::Ns(b)) => {
            difference(a, b);
            a.is_empty()
        }
        (AttributeValue::Bs(a), AttributeValue::Bs(b)) => {
            difference(a, b);
            a.is_empty()
        }
        _ => return Err(ExprError::IncorrectOperandType),
    };
    if now_empty {
        remove_at(item, path)?;
    }
    Ok(())
}
