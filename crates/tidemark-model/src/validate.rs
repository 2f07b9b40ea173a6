//! Model-constraint validation of a JSON input (required, length, pattern, enum, range) and
//! the Coral (DynamoDB) message format for the violations.
//!
//! Paths follow Coral: each wire member name with its first character lowered, joined with
//! dots; list elements as `<list>.<1-based index>.member`, map values as `<map>.<key>.member`
//! (verified against real messages such as
//! `attributeDefinitions.3.member.attributeType`). A map whose values (or keys) break their
//! own scalar/list constraints yields one violation at the map's path,
//! `Map value must satisfy constraint: [<every constraint of the value shape>]`, as real
//! DynamoDB does for `requestItems`.
//!
//! Order: members in model order, depth first; for one string value: pattern, min length,
//! max length, enum (the reference's empty `BackupName` gives pattern, then length).
//! String length counts UTF-16 code units, as Coral (Java `String.length()`) does.

use crate::json_tree::{JsonView, Kind, StrView};
use crate::pattern;
use crate::schema::{ServiceModel, ShapeId, ShapeKind};

/// One broken constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Coral path, e.g. `pointInTimeRecoverySpecification.recoveryPeriodInDays`.
    pub path: String,
    /// Wire path, e.g. `PointInTimeRecoverySpecification.RecoveryPeriodInDays`.
    pub wire_path: String,
    /// The offending value as Coral renders it; `None` = null/missing.
    pub value: Option<String>,
    pub rule: Rule,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    Required,
    MinLength(i64),
    MaxLength(i64),
    Pattern(&'static str),
    Enum(&'static [&'static str]),
    MinValue(String),
    MaxValue(String),
    /// Some value of a map breaks one of these constraints of the map's value shape.
    MapValue(Vec<Rule>),
    /// Some key of a map breaks one of these constraints of the map's key shape.
    MapKey(Vec<Rule>),
}

impl Rule {
    /// The constraint text after `failed to satisfy constraint: `.
    pub fn constraint_text(&self) -> String {
        match self {
            Rule::MapValue(rules) => {
                format!("Map value must satisfy constraint: [{}]", join(rules))
            }
            Rule::MapKey(rules) => format!("Map keys must satisfy constraint: [{}]", join(rules)),
            other => format!("Member must {}", other.predicate()),
        }
    }

    fn predicate(&self) -> String {
        match self {
            Rule::Required => "not be null".to_owned(),
            Rule::MinLength(n) => format!("have length greater than or equal to {n}"),
            Rule::MaxLength(n) => format!("have length less than or equal to {n}"),
            Rule::Pattern(p) => format!("satisfy regular expression pattern: {p}"),
            Rule::Enum(values) => format!("satisfy enum value set: [{}]", values.join(", ")),
            Rule::MinValue(n) => format!("have value greater than or equal to {n}"),
            Rule::MaxValue(n) => format!("have value less than or equal to {n}"),
            Rule::MapValue(_) | Rule::MapKey(_) => self.constraint_text(),
        }
    }
}

fn join(rules: &[Rule]) -> String {
    rules
        .iter()
        .map(Rule::constraint_text)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Violation {
    /// `Value '<v>' at '<path>' failed to satisfy constraint: <constraint>`.
    pub fn message(&self) -> String {
        let value = match &self.value {
            Some(v) => format!("'{v}'"),
            None => "null".to_owned(),
        };
        format!(
            "Value {value} at '{}' failed to satisfy constraint: {}",
            self.path,
            self.rule.constraint_text()
        )
    }
}

/// The Coral message for a non-empty list of violations.
pub fn coral_message(v: &[Violation]) -> String {
    let items: Vec<String> = v.iter().map(Violation::message).collect();
    let noun = if v.len() == 1 { "error" } else { "errors" };
    format!(
        "{} validation {noun} detected: {}",
        v.len(),
        items.join("; ")
    )
}

/// Checks `value` (a `&serde_json::Value` or a compact tree's node) against the constraints
/// of `shape` (a structure, normally an operation input). Type mismatches are not reported
/// here (see [`crate::typecheck`]).
pub fn validate<'a>(
    model: &ServiceModel,
    shape: ShapeId,
    value: impl JsonView<'a>,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut w = Walker {
        model,
        out: &mut out,
    };
    w.structure_members(shape, value, &Path::Root);
    out
}

/// Where a value sits in the input, as a chain of steps up to the root. Built for every
/// member and element walked, but rendered into strings only for a violation, so valid
/// input (nearly all of it) allocates nothing for paths.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    /// A structure member, by wire name.
    Member(&'a Path<'a>, &'a str),
    /// A list element (1-based index) or a map value (its key).
    Element(&'a Path<'a>, Step<'a>),
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Index(usize),
    Key(&'a str),
}

impl std::fmt::Display for Step<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Index(i) => write!(f, "{i}"),
            Step::Key(k) => f.write_str(k),
        }
    }
}

impl<'a> Path<'a> {
    fn member(&'a self, wire_name: &'a str) -> Path<'a> {
        Path::Member(self, wire_name)
    }

    fn element(&'a self, step: Step<'a>) -> Path<'a> {
        Path::Element(self, step)
    }

    /// The Coral path: members with their first character lowered, elements as
    /// `<step>.member`.
    fn coral(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, true);
        out
    }

    /// The wire path: member names as sent, elements as `<step>`.
    fn wire(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, false);
        out
    }

    fn write(&self, out: &mut String, coral: bool) {
        use std::fmt::Write as _;
        match self {
            Path::Root => {}
            Path::Member(base, name) => {
                base.write(out, coral);
                if !out.is_empty() {
                    out.push('.');
                }
                let mut chars = name.chars();
                match chars.next() {
                    Some(c) if coral => out.extend(c.to_lowercase().chain(chars)),
                    _ => out.push_str(name),
                }
            }
            Path::Element(base, step) => {
                base.write(out, coral);
                let _ = write!(out, ".{step}");
                if coral {
                    out.push_str(".member");
                }
            }
        }
    }
}

struct Walker<'a> {
    model: &'a ServiceModel,
    out: &'a mut Vec<Violation>,
}

impl Walker<'_> {
    fn push(&mut self, path: &Path<'_>, value: Option<String>, rule: Rule) {
        self.out.push(Violation {
            path: path.coral(),
            wire_path: path.wire(),
            value,
            rule,
        });
    }

    fn structure_members<'v>(&mut self, shape: ShapeId, value: impl JsonView<'v>, path: &Path<'_>) {
        let ShapeKind::Structure {
            members, required, ..
        } = &self.model.shape(shape).kind
        else {
            return;
        };
        if value.kind() != Kind::Object {
            return;
        }
        for m in *members {
            let mpath = path.member(m.name);
            match value.get(m.name).filter(|v| !v.is_null()) {
                None if required.contains(&m.name) => self.push(&mpath, None, Rule::Required),
                None => {}
                Some(v) => self.value(m.shape, v, &mpath),
            }
        }
    }

    fn value<'v>(&mut self, shape: ShapeId, v: impl JsonView<'v>, path: &Path<'_>) {
        let model = self.model;
        let rendered = || render(model, shape, v);
        let broken = direct_violations(model, shape, v);
        if !broken.is_empty() {
            let text = rendered();
            for rule in broken {
                self.push(path, Some(text.clone()), rule);
            }
        }
        match &self.model.shape(shape).kind {
            ShapeKind::Structure { .. } => self.structure_members(shape, v, path),
            ShapeKind::List { member, .. } => {
                for (i, item) in v.items().enumerate() {
                    if !item.is_null() {
                        self.value(*member, item, &path.element(Step::Index(i + 1)));
                    }
                }
            }
            ShapeKind::Map { key, value, .. } => {
                if v.kind() != Kind::Object {
                    return;
                }
                let key_bad = v
                    .members()
                    .any(|(k, _)| !direct_violations(self.model, *key, StrView(k)).is_empty());
                if key_bad {
                    self.push(
                        path,
                        Some(rendered()),
                        Rule::MapKey(all_rules(self.model, *key)),
                    );
                }
                let value_bad = v.members().any(|(_, x)| {
                    !x.is_null() && !direct_violations(self.model, *value, x).is_empty()
                });
                if value_bad {
                    self.push(
                        path,
                        Some(rendered()),
                        Rule::MapValue(all_rules(self.model, *value)),
                    );
                }
                // Deeper constraints (inside structure or list values) report per entry.
                for (k, x) in v.members() {
                    if !x.is_null() {
                        self.nested_only(*value, x, &path.element(Step::Key(k)));
                    }
                }
            }
            _ => {}
        }
    }

    /// Like [`Self::value`] but without the value's own direct constraints (already reported
    /// in aggregate by the enclosing map).
    fn nested_only<'v>(&mut self, shape: ShapeId, v: impl JsonView<'v>, path: &Path<'_>) {
        match &self.model.shape(shape).kind {
            ShapeKind::Structure { .. } => self.structure_members(shape, v, path),
            ShapeKind::List { member, .. } => {
                for (i, item) in v.items().enumerate() {
                    if !item.is_null() {
                        self.value(*member, item, &path.element(Step::Index(i + 1)));
                    }
                }
            }
            ShapeKind::Map { .. } => self.value(shape, v, path),
            _ => {}
        }
    }
}

/// UTF-16 length, matching Java's `String.length()`.
fn utf16_len(s: &str) -> i64 {
    s.encode_utf16().count() as i64
}

/// The constraints of `shape` itself that `v` breaks, in reporting order.
fn direct_violations<'v>(model: &ServiceModel, shape: ShapeId, v: impl JsonView<'v>) -> Vec<Rule> {
    let mut rules = Vec::new();
    let length = |min: Option<i64>, max: Option<i64>, len: i64, rules: &mut Vec<Rule>| {
        if let Some(n) = min.filter(|n| len < *n) {
            rules.push(Rule::MinLength(n));
        }
        if let Some(n) = max.filter(|n| len > *n) {
            rules.push(Rule::MaxLength(n));
        }
    };
    match &model.shape(shape).kind {
        ShapeKind::String {
            min,
            max,
            pattern,
            enum_values,
            ..
        } => {
            let Some(s) = v.as_str() else { return rules };
            if let Some(p) = pattern.filter(|p| !pattern::matches(p, s)) {
                rules.push(Rule::Pattern(p));
            }
            length(*min, *max, utf16_len(s), &mut rules);
            if let Some(values) = enum_values.filter(|vals| !vals.contains(&s)) {
                rules.push(Rule::Enum(values));
            }
        }
        ShapeKind::List { min, max, .. } => {
            if v.kind() == Kind::Array {
                length(*min, *max, v.len() as i64, &mut rules);
            }
        }
        ShapeKind::Map { min, max, .. } => {
            if v.kind() == Kind::Object {
                length(*min, *max, v.len() as i64, &mut rules);
            }
        }
        ShapeKind::Blob { min, max } => {
            if let Some(s) = v.as_str() {
                // Length of the decoded bytes; base64 text is 4 chars per 3 bytes.
                let pad = s.bytes().rev().take_while(|b| *b == b'=').count() as i64;
                length(*min, *max, (s.len() as i64 / 4) * 3 - pad, &mut rules);
            }
        }
        ShapeKind::Integer { min, max } | ShapeKind::Long { min, max } => {
            if let Some(n) = v.as_f64() {
                if let Some(m) = min.filter(|m| n < *m as f64) {
                    rules.push(Rule::MinValue(m.to_string()));
                }
                if let Some(m) = max.filter(|m| n > *m as f64) {
                    rules.push(Rule::MaxValue(m.to_string()));
                }
            }
        }
        ShapeKind::Double { min, max } => {
            if let Some(n) = v.as_f64() {
                if let Some(m) = min.filter(|m| n < *m) {
                    rules.push(Rule::MinValue(m.to_string()));
                }
                if let Some(m) = max.filter(|m| n > *m) {
                    rules.push(Rule::MaxValue(m.to_string()));
                }
            }
        }
        ShapeKind::Structure { .. } | ShapeKind::Boolean | ShapeKind::Timestamp => {}
    }
    rules
}

/// Every constraint a shape declares, for the aggregate map messages (max before min, as in
/// the observed `[Member must have length less than or equal to 25, Member must have length
/// greater than or equal to 1]`).
fn all_rules(model: &ServiceModel, shape: ShapeId) -> Vec<Rule> {
    let mut rules = Vec::new();
    let (min, max) = match &model.shape(shape).kind {
        ShapeKind::String {
            min,
            max,
            pattern,
            enum_values,
            ..
        } => {
            if let Some(p) = pattern {
                rules.push(Rule::Pattern(p));
            }
            if let Some(e) = enum_values {
                rules.push(Rule::Enum(e));
            }
            (*min, *max)
        }
        ShapeKind::List { min, max, .. }
        | ShapeKind::Map { min, max, .. }
        | ShapeKind::Blob { min, max } => (*min, *max),
        ShapeKind::Integer { min, max } | ShapeKind::Long { min, max } => {
            if let Some(m) = max {
                rules.push(Rule::MaxValue(m.to_string()));
            }
            if let Some(m) = min {
                rules.push(Rule::MinValue(m.to_string()));
            }
            return rules;
        }
        _ => return rules,
    };
    if let Some(m) = max {
        rules.push(Rule::MaxLength(m));
    }
    if let Some(m) = min {
        rules.push(Rule::MinLength(m));
    }
    rules
}

/// Renders a value the way Coral's Java `toString` does: strings bare, lists `[a, b]`, maps
/// `{k=v}`, structures `Name(member=value, other=null)` (lowerCamel member names).
pub fn render<'a>(model: &ServiceModel, shape: ShapeId, v: impl JsonView<'a>) -> String {
    let s = model.shape(shape);
    match (&s.kind, v.kind()) {
        (_, Kind::Null) => "null".to_owned(),
        (_, Kind::String) => v.as_str().unwrap_or_default().to_owned(),
        (_, Kind::Number) => v.as_number().map(|n| n.to_string()).unwrap_or_default(),
        (ShapeKind::List { member, .. }, Kind::Array) => {
            let parts: Vec<String> = v.items().map(|i| render(model, *member, i)).collect();
            format!("[{}]", parts.join(", "))
        }
        (ShapeKind::Map { value, .. }, Kind::Object) => {
            let parts: Vec<String> = v
                .members()
                .map(|(k, x)| format!("{k}={}", render(model, *value, x)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        (ShapeKind::Structure { members, .. }, Kind::Object) => {
            let parts: Vec<String> = members
                .iter()
                .map(|m| {
                    let name = Path::Root.member(m.name).coral();
                    let val = v
                        .get(m.name)
                        .map_or_else(|| "null".to_owned(), |x| render(model, m.shape, x));
                    format!("{name}={val}")
                })
                .collect();
            format!("{}({})", s.name, parts.join(", "))
        }
        // Booleans, and containers where the shape expects another type, print as JSON.
        _ => v.to_value().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamodb::DYNAMODB;

    fn input(op: &str) -> ShapeId {
        DYNAMODB.operation(op).and_then(|o| o.input).unwrap()
    }

    /// Coral counts UTF-16 code units: an astral character counts twice toward `max`.
    #[test]
    fn string_length_counts_utf16_units() {
        assert_eq!(utf16_len("😀"), 2);
        assert_eq!(utf16_len("é"), 1);
        let v = validate(
            &DYNAMODB,
            input("CreateBackup"),
            &serde_json::json!({"TableName": "Music", "BackupName": "a😀"}),
        );
        // Two UTF-16 units of "😀" plus "a" reach the minimum of 3; only the pattern fails.
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].rule, Rule::Pattern("[a-zA-Z0-9_.-]+"));
    }

    #[test]
    fn structures_render_like_coral_to_string() {
        let v = validate(
            &DYNAMODB,
            input("CreateTable"),
            &serde_json::json!({
                "TableName": "Music",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [],
            }),
        );
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].path, "keySchema");
        assert_eq!(v[0].value.as_deref(), Some("[]"));
        let key_schema = DYNAMODB.shape_by_name("KeySchema").unwrap();
        let value = serde_json::json!([
            {"AttributeName": "a", "KeyType": "HASH"},
            {"AttributeName": "b"}
        ]);
        assert_eq!(
            render(&DYNAMODB, key_schema, &value),
            "[KeySchemaElement(attributeName=a, keyType=HASH), \
             KeySchemaElement(attributeName=b, keyType=null)]"
        );
    }
}
