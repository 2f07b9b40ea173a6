//! Every expression error DynamoDB reports, in one place. `Display` is exactly DynamoDB's
//! ValidationException message (the wire layer adds `com.amazon.coral.validate#ValidationException`).
//!
//! Sources: dynalite `db/conditionParser.pegjs`, `db/updateParser.pegjs`, `actions/updateItem.js`
//! and its validation tests (recorded against DynamoDB); ScyllaDB alternator tests; moto; AWS
//! error texts quoted in public issue threads. Messages marked "[unverified]" are best guesses.

use crate::attr::{AttrError, NumberError};

/// Which request member an expression came from; names the expression in `Invalid <X>: ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExprKind {
    Condition,
    Filter,
    KeyCondition,
    Update,
    Projection,
}

impl ExprKind {
    pub fn member_name(self) -> &'static str {
        match self {
            ExprKind::Condition => "ConditionExpression",
            ExprKind::Filter => "FilterExpression",
            ExprKind::KeyCondition => "KeyConditionExpression",
            ExprKind::Update => "UpdateExpression",
            ExprKind::Projection => "ProjectionExpression",
        }
    }
}

/// The reason part of `Invalid <Expression>: <reason>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Detail {
    #[error("The expression can not be empty;")]
    Empty,
    /// Over 4096 UTF-8 bytes. Wording from a real FilterExpression error quoted in a public
    /// repository ("...; expression size: 5872"); some regions omit the size suffix.
    #[error("Expression size has exceeded the maximum allowed size; expression size: {0}")]
    TooLarge(usize),
    /// More than 300 operators and functions (Developer Guide, expression limits). Wording from
    /// DynamoDB's answers quoted in aws/aws-sdk-js#3721 and scylladb/scylladb#14473, where
    /// `a<b and (a<b and ...)` failed at the 301st `<`: AND and OR are not counted.
    #[error("The expression contains too many operators; operator count: {0}")]
    TooManyOperators(usize),
    /// Parentheses, NOTs and function calls nested deeper than `MAX_NESTING`. DynamoDB's text
    /// for this is not recorded anywhere we found; this wording follows its style. [unverified]
    #[error("The expression has too many levels of nesting; nesting depth: {0}")]
    TooDeep(usize),
    /// A document path of more than 32 steps (Developer Guide: 32 levels of nested attributes);
    /// no such path can reach a value. [unverified wording, in DynamoDB's style]
    #[error("The document path has too many nesting levels; nesting levels: {0}")]
    PathTooDeep(usize),
    /// `near` is the source text from the token before to the token after the bad one.
    #[error("Syntax error; token: \"{token}\", near: \"{near}\"")]
    Syntax { token: String, near: String },
    #[error("Attribute name is a reserved keyword; reserved keyword: {0}")]
    Reserved(String),
    #[error(
        "An expression attribute name used in the document path is not defined; attribute name: {0}"
    )]
    UndefinedName(String),
    #[error(
        "An expression attribute value used in expression is not defined; attribute value: {0}"
    )]
    UndefinedValue(String),
    #[error("Invalid function name; function: {0}")]
    UnknownFunction(String),
    #[error(
        "Incorrect number of operands for operator or function; operator or function: {function}, number of operands: {count}"
    )]
    OperandCount { function: String, count: usize },
    #[error("Operator or function requires a document path; operator or function: {0}")]
    RequiresPath(String),
    #[error(
        "Incorrect operand type for operator or function; operator or function: {function}, operand type: {ty}"
    )]
    OperandType { function: String, ty: String },
    /// ADD/DELETE with a value of the wrong type; `ty` is `STRING`, `NUMBER`, `BINARY`, `NULL`,
    /// `BOOLEAN`, `LIST` or `MAP`.
    #[error(
        "Incorrect operand type for operator or function; operator: {operator}, operand type: {ty}"
    )]
    UpdateOperandType {
        operator: &'static str,
        ty: &'static str,
    },
    #[error(
        "Invalid attribute type name found; type: {0}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"
    )]
    InvalidTypeName(String),
    #[error("The function is not allowed to be used this way in an expression; function: {0}")]
    MisusedFunction(String),
    #[error("The expression has redundant parentheses;")]
    RedundantParens,
    #[error(
        "The first operand must be distinct from the remaining operands for this operator or function; operator: {operator}, first operand: {first}"
    )]
    NotDistinct { operator: String, first: String },
    /// Bounds rendered `{N:1}`.
    #[error(
        "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {lower}, upper bound operand: AttributeValue: {upper}"
    )]
    BetweenTypes { lower: String, upper: String },
    #[error(
        "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {lower}, upper bound operand: AttributeValue: {upper}"
    )]
    BetweenOrder { lower: String, upper: String },
    /// Count includes the operand left of IN. [unverified wording]
    #[error("The IN operator is provided with too many operands; number of operands: {0}")]
    TooManyIn(usize),
    #[error("The \"{0}\" section can only be used once in an update expression;")]
    SectionTwice(&'static str),
    /// Paths rendered `[a, b, [1]]`.
    #[error(
        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {one}, path two: {two}"
    )]
    PathOverlap { one: String, two: String },
    #[error(
        "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {one}, path two: {two}"
    )]
    PathConflict { one: String, two: String },
}

/// An expression-related ValidationException.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    #[error("Invalid {}: {detail}", kind.member_name())]
    Invalid { kind: ExprKind, detail: Detail },

    // --- ExpressionAttributeNames / ExpressionAttributeValues maps ---
    #[error("Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}", .0.join(", "))]
    UnusedNames(Vec<String>),
    #[error("Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}", .0.join(", "))]
    UnusedValues(Vec<String>),
    #[error("ExpressionAttributeNames must not be empty")]
    EmptyNames,
    #[error("ExpressionAttributeValues must not be empty")]
    EmptyValues,
    #[error("ExpressionAttributeNames can only be specified when using expressions")]
    NamesWithoutExpressions,
    /// With the expressions that take values, e.g. `UpdateExpression and ConditionExpression
    /// are null`.
    #[error("ExpressionAttributeValues can only be specified when using expressions: {0}")]
    ValuesWithoutExpressions(String),
    #[error("ExpressionAttributeNames contains invalid key: Syntax error; key: \"{0}\"")]
    InvalidNameKey(String),
    #[error("ExpressionAttributeValues contains invalid key: Syntax error; key: \"{0}\"")]
    InvalidValueKey(String),
    #[error("ExpressionAttributeValues contains invalid value: {error} for key {key}")]
    InvalidValue { key: String, error: AttrError },

    // --- applying an update expression to an item (dynalite actions/updateItem.js) ---
    #[error("The provided expression refers to an attribute that does not exist in the item")]
    MissingAttribute,
    #[error("An operand in the update expression has an incorrect data type")]
    IncorrectOperandType,
    #[error("The document path provided in the update expression is invalid for update")]
    InvalidDocumentPath,
    /// An update whose result nests deeper than an item may (a deep SET path given a deep
    /// value). DynamoDB's text for items; that it answers updates the same way is unverified.
    #[error(
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
    )]
    NestingTooDeep,
    /// ADD or DELETE of `AttributeUpdates` against an attribute of another type.
    #[error("Type mismatch for attribute to update")]
    LegacyTypeMismatch,
    #[error(transparent)]
    Number(#[from] NumberError),
    /// [wording from AWS forum/issue quotes]
    #[error(
        "One or more parameter values were invalid: Cannot update attribute {0}. This attribute is part of the key"
    )]
    KeyAttributeUpdate(String),

    /// A projection indexing into a key attribute (dynalite getItem validation tests).
    #[error(
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: {kind}: {name}"
    )]
    KeyNotScalar { kind: &'static str, name: String },

    // --- key conditions (Query) ---
    #[error("Query condition missed key schema element: {0}")]
    MissedKeyElement(String),
    #[error("Query key condition not supported")]
    KeyConditionNotSupported,
    #[error("Invalid operator used in KeyConditionExpression: {0}")]
    InvalidKeyOperator(String),
    /// nubo-db/dynamodb-conformance keyConditionSemantics (asserted with `contains`).
    #[error("KeyConditionExpressions cannot have conditions on nested attributes")]
    NestedKeyCondition,
    #[error("KeyConditionExpressions must only contain one condition per key")]
    OneConditionPerKey,
    #[error("Conditions can be of length 1 or 2 only")]
    ConditionsLength,
    #[error(
        "One or more parameter values were invalid: Condition parameter type does not match schema type"
    )]
    KeyTypeMismatch,
}

impl ExprError {
    pub(crate) fn invalid(kind: ExprKind, detail: Detail) -> ExprError {
        ExprError::Invalid { kind, detail }
    }

    /// A bound on the work of parsing was hit: the parse stops at once, and backtracking must
    /// not retry another reading (which would only hit the same bound again).
    pub(crate) fn is_limit(&self) -> bool {
        matches!(
            self,
            ExprError::Invalid {
                detail: Detail::TooManyOperators(_) | Detail::TooDeep(_) | Detail::PathTooDeep(_),
                ..
            }
        )
    }
}
