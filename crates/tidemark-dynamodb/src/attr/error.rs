//! Every attribute-value and key error DynamoDB reports, in one place. `Display` is exactly
//! DynamoDB's ValidationException message (the wire layer adds the `__type`).

use super::AttrType;

/// Why a string is not a DynamoDB number. Display is DynamoDB's ValidationException text
/// (source: dynalite `validations/index.js` `checkNum`, and its getItem validation tests).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("The parameter cannot be converted to a numeric value")]
    Empty,
    #[error("The parameter cannot be converted to a numeric value: {0}")]
    Invalid(String),
    #[error("Attempting to store more than 38 significant digits in a Number")]
    TooManyDigits,
    #[error(
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    )]
    Overflow,
    #[error(
        "Number underflow. Attempting to store a number with magnitude smaller than supported range"
    )]
    Underflow,
}

/// Why an attribute value is invalid. Display is DynamoDB's message. Sources: dynalite
/// `validations/index.js` (`validateAttributeValue`) and dynalite's getItem validation tests,
/// which were recorded against DynamoDB.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttrError {
    #[error(
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
    )]
    Empty,
    #[error(
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
    )]
    MultipleTypes,
    #[error("One or more parameter values were invalid: An string set  may not be empty")]
    EmptyStringSet,
    #[error("One or more parameter values were invalid: An number set  may not be empty")]
    EmptyNumberSet,
    #[error("One or more parameter values were invalid: Binary sets should not be empty")]
    EmptyBinarySet,
    /// Members rendered as `[a, a]`.
    #[error("One or more parameter values were invalid: Input collection {0} contains duplicates.")]
    DuplicateStrings(String),
    #[error("Input collection contains duplicates")]
    DuplicateNumbers,
    /// Members rendered base64 as `[Yg==, Yg==]`; DynamoDB really omits the space before "of".
    #[error(
        "One or more parameter values were invalid: Input collection {0}of type BS contains duplicates."
    )]
    DuplicateBinaries(String),
    #[error(transparent)]
    Number(#[from] NumberError),
    /// Wording quoted by several emulators and the PartiQL conformance tests
    /// (nubo-db/dynamodb-conformance).
    #[error(
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
    )]
    NestingTooDeep,
    /// PutItem/BatchWriteItem (nubo-db/dynamodb-conformance numberByteSize.test.ts).
    #[error("Item size has exceeded the maximum allowed size")]
    ItemTooLarge,
    /// UpdateItem (dynalite actions/updateItem.js; TransactionCanceledException docs).
    #[error("Item size to update has exceeded the maximum allowed size")]
    UpdatedItemTooLarge,
}

/// A key that does not fit the schema. Display is DynamoDB's message. Sources: dynalite
/// `db/index.js` (`validateKey`, `validateItem`, `checkKeySize`) and nubo-db/dynamodb-conformance
/// tier3 error-message tests (2026 captures, which use "are not valid." for empty keys).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("The provided key element does not match the schema")]
    SchemaMismatch,
    #[error(
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: {0}"
    )]
    EmptyString(String),
    #[error(
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: {0}"
    )]
    EmptyBinary(String),
    #[error("One or more parameter values were invalid: Missing the key {0} in the item")]
    MissingInItem(String),
    #[error(
        "One or more parameter values were invalid: Type mismatch for key {name} expected: {expected} actual: {actual}"
    )]
    TypeMismatch {
        name: String,
        expected: AttrType,
        actual: AttrType,
    },
    /// DynamoDB really writes "of2048".
    #[error(
        "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"
    )]
    HashKeyTooLarge,
    #[error(
        "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
    )]
    RangeKeyTooLarge,
}
