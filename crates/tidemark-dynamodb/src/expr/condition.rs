//! Condition, filter and key-condition grammar: precedence (comparisons, IN, BETWEEN and
//! functions bind tightest, then parentheses, then NOT, AND, OR) and DynamoDB's semantic checks
//! on functions and operands.

use super::ast::{CmpOp, Condition, Operand, Path, PathElem};
use super::error::Detail;
use super::eval::compare_values;
use super::lexer::Tok;
use super::parser::{Cat, PExpr, Parser};
use crate::attr::{AttrType, AttributeValue};
use base64::Engine;

/// Most operands of IN, counting the one on its left: DynamoDB accepts 99 listed values
/// (alternator `test_update_condition_in`).
const MAX_IN_OPERANDS: usize = 100;

/// Stand-in for parts of a tree whose error is already recorded; never evaluated.
fn placeholder_path() -> Path {
    Path(vec![PathElem::Attr(String::new())])
}

impl Parser<'_, '_, '_> {
    pub(crate) fn parse_condition(&mut self) -> Result<Condition, super::ExprError> {
        let (cond, _) = self.cond_or()?;
        Ok(cond)
    }

    /// Each level returns the condition and whether it is a bare parenthesised group (used to
    /// detect DynamoDB's "redundant parentheses" error for `((a = b))`).
    fn cond_or(&mut self) -> Result<(Condition, bool), super::ExprError> {
        let (mut left, mut grouped) = self.cond_and()?;
        while self.at_keyword("OR") {
            self.advance();
            let (right, _) = self.cond_and()?;
            left = Condition::Or(Box::new(left), Box::new(right));
            grouped = false;
        }
        Ok((left, grouped))
    }

    fn cond_and(&mut self) -> Result<(Condition, bool), super::ExprError> {
        let (mut left, mut grouped) = self.cond_not()?;
        while self.at_keyword("AND") {
            self.advance();
            let (right, _) = self.cond_not()?;
            left = Condition::And(Box::new(left), Box::new(right));
            grouped = false;
        }
        Ok((left, grouped))
    }

    fn cond_not(&mut self) -> Result<(Condition, bool), super::ExprError> {
        if self.at_keyword("NOT") {
            self.advance();
            let (inner, _) = self.nested(Self::cond_not)?;
            return Ok((Condition::Not(Box::new(inner)), false));
        }
        self.cond_primary()
    }

    fn at_comparison(&self) -> bool {
        matches!(
            self.cur().tok,
            Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge
        ) || self.at_keyword("BETWEEN")
            || self.at_keyword("IN")
    }

    fn cond_primary(&mut self) -> Result<(Condition, bool), super::ExprError> {
        if self.at(Tok::LParen) {
            // Either a parenthesised condition or a parenthesised operand: try the first.
            let mark = self.mark();
            self.advance();
            match self.nested(Self::cond_or) {
                Ok((inner, grouped)) if self.at(Tok::RParen) => {
                    self.advance();
                    if !self.at_comparison() {
                        // Real DynamoDB accepts `((pk = :pk)) AND ((sk = :sk))` as a key
                        // condition (nubo-db/dynamodb-conformance keyConditionParens) but rejects
                        // `((attribute_not_exists(pk)))` as a condition (…/putItem.test.ts).
                        if grouped && self.kind != super::ExprKind::KeyCondition {
                            self.defer(Cat::Parens, Detail::RedundantParens);
                        }
                        return Ok((inner, true));
                    }
                }
                Err(e) if e.is_limit() => return Err(e),
                _ => {}
            }
            self.reset(mark);
        }
        self.cond_comparison()
    }

    /// `operand comparator operand`, BETWEEN, IN or a function: the leaf conditions. A separate
    /// function so that its large frame is not on the stack once per nesting level.
    #[inline(never)]
    fn cond_comparison(&mut self) -> Result<(Condition, bool), super::ExprError> {
        let left = self.parse_operand()?;
        let op = match self.cur().tok {
            Tok::Eq => Some(CmpOp::Eq),
            Tok::Ne => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.count_operator()?;
            self.advance();
            let right = self.parse_operand()?;
            self.check_distinct(op.symbol(), &left, &right);
            if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                self.check_orderable(op.symbol(), &[&left, &right]);
            }
            let (l, r) = (self.operand(left), self.operand(right));
            return Ok((Condition::Compare(op, l, r), false));
        }
        if self.at_keyword("BETWEEN") {
            self.count_operator()?;
            self.advance();
            let lo = self.parse_operand()?;
            self.expect_keyword("AND")?;
            let hi = self.parse_operand()?;
            self.check_orderable("BETWEEN", &[&left, &lo, &hi]);
            self.check_between_bounds(&lo, &hi);
            let (x, lo, hi) = (self.operand(left), self.operand(lo), self.operand(hi));
            return Ok((Condition::Between(x, lo, hi), false));
        }
        if self.at_keyword("IN") {
            self.count_operator()?;
            self.advance();
            self.expect(Tok::LParen)?;
            let mut list = vec![self.parse_operand()?];
            while self.at(Tok::Comma) {
                self.advance();
                list.push(self.parse_operand()?);
            }
            self.expect(Tok::RParen)?;
            if list.len() + 1 > MAX_IN_OPERANDS {
                self.defer(Cat::Function, Detail::TooManyIn(list.len() + 1));
            }
            let x = self.operand(left);
            let list = list.into_iter().map(|e| self.operand(e)).collect();
            return Ok((Condition::In(x, list), false));
        }
        match left {
            PExpr::Call { name, args } => Ok((self.function_condition(&name, args), false)),
            _ => Err(self.syntax_error()),
        }
    }

    /// Converts an operand of a comparison; only `size` may be called there.
    fn operand(&mut self, e: PExpr) -> Operand {
        match e {
            PExpr::Path(p) => Operand::Path(p),
            PExpr::Value(v) => Operand::Value(v.unwrap_or(AttributeValue::Null)),
            PExpr::Call { name, args } => {
                if name != "size" {
                    if is_known_function(&name) {
                        self.defer(Cat::MisusedFunction, Detail::MisusedFunction(name));
                    } else {
                        self.defer(Cat::UnknownFunction, Detail::UnknownFunction(name));
                    }
                    return Operand::Value(AttributeValue::Null);
                }
                if !self.arity(&name, &args, 1) {
                    return Operand::Value(AttributeValue::Null);
                }
                let arg = args.into_iter().next().unwrap_or(PExpr::Value(None));
                if let Some(ty @ (AttrType::N | AttrType::Bool | AttrType::Null)) = arg.known_type()
                {
                    self.operand_type_error("size", ty.as_str());
                }
                Operand::Size(Box::new(self.operand(arg)))
            }
        }
    }

    fn arity(&mut self, name: &str, args: &[PExpr], want: usize) -> bool {
        if args.len() == want {
            return true;
        }
        self.defer(
            Cat::Operand,
            Detail::OperandCount {
                function: name.to_string(),
                count: args.len(),
            },
        );
        false
    }

    fn operand_type_error(&mut self, function: &str, ty: &str) {
        self.defer(
            Cat::Function,
            Detail::OperandType {
                function: function.to_string(),
                ty: ty.to_string(),
            },
        );
    }

    /// Literal operands of `<`, `<=`, `>`, `>=` and BETWEEN must be S, N or B; DynamoDB rejects
    /// other literal types up front (alternator `test_update_condition_lt`: ValidationException)
    /// [message wording unverified]. Values read from the item just compare false.
    fn check_orderable(&mut self, operator: &str, operands: &[&PExpr]) {
        for e in operands {
            if let Some(ty) = e.known_type()
                && !matches!(ty, AttrType::S | AttrType::N | AttrType::B)
            {
                self.operand_type_error(operator, ty.as_str());
            }
        }
    }

    /// `a = a`, `begins_with(a, a)`: DynamoDB rejects identical path operands.
    fn check_distinct(&mut self, operator: &str, a: &PExpr, b: &PExpr) {
        if let (PExpr::Path(x), PExpr::Path(y)) = (a, b)
            && x == y
        {
            self.defer(
                Cat::Distinct,
                Detail::NotDistinct {
                    operator: operator.to_string(),
                    first: x.to_string(),
                },
            );
        }
    }

    fn check_between_bounds(&mut self, lo: &PExpr, hi: &PExpr) {
        let (PExpr::Value(Some(l)), PExpr::Value(Some(h))) = (lo, hi) else {
            return;
        };
        let (lower, upper) = (render_scalar(l), render_scalar(h));
        if l.attr_type() != h.attr_type() {
            self.defer(Cat::Function, Detail::BetweenTypes { lower, upper });
        } else if compare_values(CmpOp::Gt, l, h) {
            self.defer(Cat::Function, Detail::BetweenOrder { lower, upper });
        }
    }

    /// A function used as a whole condition.
    fn function_condition(&mut self, name: &str, args: Vec<PExpr>) -> Condition {
        let fallback = Condition::Exists(placeholder_path());
        match name {
            "attribute_exists" | "attribute_not_exists" => {
                if !self.arity(name, &args, 1) {
                    return fallback;
                }
                match args.into_iter().next() {
                    Some(PExpr::Path(p)) if name == "attribute_exists" => Condition::Exists(p),
                    Some(PExpr::Path(p)) => Condition::NotExists(p),
                    _ => {
                        self.defer(Cat::Function, Detail::RequiresPath(name.to_string()));
                        fallback
                    }
                }
            }
            "attribute_type" => {
                if !self.arity(name, &args, 2) {
                    return fallback;
                }
                let mut it = args.into_iter();
                let (target, ty) = (it.next(), it.next());
                let ty = match ty {
                    Some(PExpr::Value(Some(AttributeValue::S(s)))) => match AttrType::from_name(&s)
                    {
                        Some(t) => t,
                        None => {
                            self.defer(Cat::Function, Detail::InvalidTypeName(s));
                            return fallback;
                        }
                    },
                    Some(PExpr::Value(None)) => return fallback,
                    other => {
                        let shown = other
                            .and_then(|e| e.known_type())
                            .map_or("{NS,SS,L,BS,N,M,B,BOOL,NULL,S}", AttrType::as_str);
                        self.operand_type_error(name, shown);
                        return fallback;
                    }
                };
                let target = self.operand(target.unwrap_or(PExpr::Value(None)));
                Condition::AttributeType(target, ty)
            }
            "begins_with" | "contains" => {
                if !self.arity(name, &args, 2) {
                    return fallback;
                }
                self.check_distinct(name, &args[0], &args[1]);
                if name == "begins_with" {
                    for a in &args {
                        if let Some(ty) = a.known_type()
                            && ty != AttrType::S
                            && ty != AttrType::B
                        {
                            self.operand_type_error(name, ty.as_str());
                        }
                    }
                }
                let mut it = args
                    .into_iter()
                    .map(|a| self.operand(a))
                    .collect::<Vec<_>>();
                let (b, a) = (it.pop(), it.pop());
                match (a, b) {
                    (Some(a), Some(b)) if name == "begins_with" => Condition::BeginsWith(a, b),
                    (Some(a), Some(b)) => Condition::Contains(a, b),
                    _ => fallback,
                }
            }
            "size" => {
                self.defer(
                    Cat::MisusedFunction,
                    Detail::MisusedFunction(name.to_string()),
                );
                fallback
            }
            _ => {
                self.defer(
                    Cat::UnknownFunction,
                    Detail::UnknownFunction(name.to_string()),
                );
                fallback
            }
        }
    }
}

/// Functions DynamoDB knows (so misuse is "not allowed", not "invalid function name"); the
/// update functions count too (alternator `test_update_condition_other_funcs`).
fn is_known_function(name: &str) -> bool {
    matches!(
        name,
        "attribute_exists"
            | "attribute_not_exists"
            | "attribute_type"
            | "begins_with"
            | "contains"
            | "if_not_exists"
            | "list_append"
    )
}

/// `{N:5}` as in DynamoDB's BETWEEN messages.
fn render_scalar(v: &AttributeValue) -> String {
    let text = match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        AttributeValue::B(b) => base64::engine::general_purpose::STANDARD.encode(b),
        AttributeValue::Bool(b) => b.to_string(),
        AttributeValue::Null => "true".to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    };
    format!("{{{}:{}}}", v.attr_type(), text)
}
