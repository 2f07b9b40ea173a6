//! Decode/encode steps shared by the generated dispatchers: JSON → typed input (type check,
//! then constraint validation, then serde), typed output → JSON.

use std::cell::RefCell;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::errors::{CommonError, DispatchError};
use crate::json_tree::{JsonView, Refusal, Tree};
use crate::schema::{ServiceModel, ShapeId};
use crate::typecheck::type_error;
use crate::validate::validate;

thread_local! {
    /// What the next [`decode_input`] on this thread decodes from; see [`with_body`] and
    /// [`with_document`].
    static BODY: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// The body text of the next decode, alone or with its checked tree.
enum Pending {
    Text(Box<dyn AsRef<[u8]>>),
    Document(Document),
}

/// A request body and its compact checked tree ([`Tree`]), parsed once by the protocol
/// layer, which answers a body that is not a JSON object before dispatching it.
pub struct Document {
    body: Box<dyn AsRef<[u8]> + Send>,
    tree: Tree,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("bytes", &(*self.body).as_ref().len())
            .finish_non_exhaustive()
    }
}

impl Document {
    /// Parses a body that must be a JSON object. On `Refusal::Malformed`, serde_json
    /// refuses it too and has the message.
    pub fn parse(body: impl AsRef<[u8]> + Send + 'static) -> Result<Document, Refusal> {
        let tree = Tree::parse_object(body.as_ref())?;
        Ok(Self {
            body: Box::new(body),
            tree,
        })
    }

    /// The body text.
    pub fn text(&self) -> &[u8] {
        (*self.body).as_ref()
    }

    /// Heap bytes of the checked tree (the body not included).
    pub fn tree_bytes(&self) -> usize {
        self.tree.heap_bytes()
    }
}

/// Clears [`BODY`] when the call ends, even by a panic, so a later decode on this thread
/// never reads another request's text.
struct BodyGuard;

impl Drop for BodyGuard {
    fn drop(&mut self) {
        BODY.with(|b| b.borrow_mut().take());
    }
}

/// Runs `f` (a dispatch) telling [`decode_input`] that its input `Value` is exactly the
/// parse of `body`. Decoding then builds the typed input from the text after dropping the
/// checked `Value` tree, instead of from the tree, so a large request never holds both
/// trees at once (they cost about the same: hundreds of bytes per attribute value).
pub fn with_body<R>(body: impl AsRef<[u8]> + 'static, f: impl FnOnce() -> R) -> R {
    BODY.with(|b| *b.borrow_mut() = Some(Pending::Text(Box::new(body))));
    let _clear = BodyGuard;
    f()
}

/// Runs `f` (a dispatch) with the input in `doc`: the one [`decode_input`] inside it
/// ignores its `Value` argument (pass `Value::Null`), checks the compact tree, drops it,
/// then decodes the typed input from the text. No `serde_json::Value` of the body is built.
pub fn with_document<R>(doc: Document, f: impl FnOnce() -> R) -> R {
    BODY.with(|b| *b.borrow_mut() = Some(Pending::Document(doc)));
    let _clear = BodyGuard;
    f()
}

/// The type check, then the constraint validation, of an input.
fn check<'a>(
    model: &ServiceModel,
    shape: ShapeId,
    input: impl JsonView<'a>,
) -> Result<(), DispatchError> {
    if let Some(msg) = type_error(model, shape, input) {
        return Err(DispatchError::Serialization(msg));
    }
    let violations = validate(model, shape, input);
    if !violations.is_empty() {
        return Err(DispatchError::Invalid(violations));
    }
    Ok(())
}

fn from_tree<I: DeserializeOwned>(v: Value) -> Result<I, DispatchError> {
    serde_json::from_value(v).map_err(|e| DispatchError::Serialization(e.to_string()))
}

/// The typed input from text that passed the checks. serde gives the same value from text
/// as from the tree for any such input; anything it rejects from text (a duplicate
/// structure member, a bad base64 blob) is decoded again from a fresh tree, so errors keep
/// their exact wording (messages from text would end in a line and column).
fn from_text<I: DeserializeOwned>(text: &[u8]) -> Result<I, DispatchError> {
    match serde_json::from_slice(text) {
        Ok(typed) => Ok(typed),
        Err(_) => match serde_json::from_slice::<Value>(text) {
            Ok(tree) => from_tree(tree),
            Err(e) => Err(DispatchError::Serialization(e.to_string())),
        },
    }
}

/// Turns a request body into the operation's typed input. A missing body (`null`) is `{}`.
///
/// Inside [`with_document`], `input` is ignored: the document's compact tree is checked,
/// dropped, and the typed input deserialized from its text. Inside [`with_body`], `input`
/// is checked, dropped, and the typed input deserialized from the body text.
pub fn decode_input<I: DeserializeOwned>(
    model: &ServiceModel,
    shape: ShapeId,
    input: Value,
) -> Result<I, DispatchError> {
    let pending = BODY.with(|b| b.borrow_mut().take());
    if let Some(Pending::Document(Document { body, tree })) = pending {
        drop(input);
        let text = (*body).as_ref();
        let root = tree.root(text).ok_or_else(|| {
            DispatchError::Common(CommonError::Internal(
                "checked tree read over another text".into(),
            ))
        })?;
        check(model, shape, root)?;
        drop(tree);
        return from_text(text);
    }
    let input = if input.is_null() {
        Value::Object(serde_json::Map::new())
    } else {
        input
    };
    check(model, shape, &input)?;
    match pending {
        Some(Pending::Text(body)) => {
            drop(input);
            from_text((*body).as_ref())
        }
        _ => from_tree(input),
    }
}

/// Serializes a typed output. Generated structures always serialize (string keys only), so a
/// failure is an internal error rather than a client one.
pub fn encode_output<O: Serialize>(out: &O) -> Result<Value, DispatchError> {
    serde_json::to_value(out)
        .map_err(|e| DispatchError::Common(CommonError::Internal(format!("encoding output: {e}"))))
}

/// What an operation with a JSON-text escape hatch (see the `*_reply` methods of the service
/// traits) answers: its typed output, or the exact JSON text that output would serialize to,
/// written by the service itself (e.g. a Scan page that copies stored item JSON verbatim
/// instead of building, converting and re-serializing every attribute).
#[derive(Debug)]
pub enum Reply<O> {
    Typed(O),
    Json(Vec<u8>),
}

/// A response body from [`Reply`]-aware dispatch: a JSON value, or JSON text ready to send.
#[derive(Debug)]
pub enum Encoded {
    Value(Value),
    Json(Vec<u8>),
}

impl Encoded {
    /// The body as a JSON value (parses `Json`); for callers that inspect responses.
    pub fn into_value(self) -> Result<Value, DispatchError> {
        match self {
            Encoded::Value(v) => Ok(v),
            Encoded::Json(b) => serde_json::from_slice(&b).map_err(|e| {
                DispatchError::Common(CommonError::Internal(format!("encoded output: {e}")))
            }),
        }
    }
}

/// Encodes a [`Reply`]: typed outputs through [`encode_output`], JSON text as is.
pub fn encode_reply<O: Serialize>(reply: Reply<O>) -> Result<Encoded, DispatchError> {
    match reply {
        Reply::Typed(out) => encode_output(&out).map(Encoded::Value),
        Reply::Json(bytes) => Ok(Encoded::Json(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamodb::{DYNAMODB, PutItemInput};

    /// PutItemInput's shape id in the generated DynamoDB model.
    const PUT_ITEM_INPUT: ShapeId = 367;

    fn from_tree(text: &str) -> Result<PutItemInput, String> {
        let tree: Value = serde_json::from_str(text).unwrap();
        decode_input(&DYNAMODB, PUT_ITEM_INPUT, tree).map_err(|e| format!("{e:?}"))
    }

    fn from_text(text: &'static str) -> Result<PutItemInput, String> {
        let tree: Value = serde_json::from_str(text).unwrap();
        with_body(text.as_bytes(), || {
            decode_input(&DYNAMODB, PUT_ITEM_INPUT, tree).map_err(|e| format!("{e:?}"))
        })
    }

    /// Decoding from the body text gives exactly what decoding from the tree gives: the same
    /// input for valid bodies (duplicate map keys: last value, first position), and the
    /// same error, without serde's line and column, for what serde rejects from text.
    #[test]
    fn text_and_tree_decode_alike() {
        for text in [
            r#"{"TableName":"tbl","Item":{"k":{"S":"a"},"b":{"B":"AAE="},"n":{"N":"1.5"}}}"#,
            r#"{"TableName":"tbl","Item":{"a":{"S":"1"},"b":{"BOOL":true},"a":{"L":[{"NULL":true}]}}}"#,
            r#"{"TableName":"tbl","Item":{"k":{"S":"a"}},"TableName":"other"}"#,
            r#"{"TableName":"tbl","Item":{"k":{"B":"AAE"}}}"#,
            r#"{"TableName":"tbl","Item":{"k":{"S":"a","S":"b"}},"Unknown":[1,{"x":2}]}"#,
            r#"{"TableName":"tbl","Item":{"k":{"SS":["a","b"]}},"ReturnValues":5}"#,
        ] {
            assert_eq!(from_text(text), from_tree(text), "{text}");
        }
        let err = from_text(r#"{"TableName":"tbl","Item":{"k":{"B":"AAE"}}}"#).unwrap_err();
        assert!(!err.contains("line 1"), "{err}");
    }

    fn from_document(text: &'static str) -> Result<PutItemInput, String> {
        let doc = Document::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        with_document(doc, || {
            decode_input(&DYNAMODB, PUT_ITEM_INPUT, Value::Null).map_err(|e| format!("{e:?}"))
        })
    }

    /// The compact tree's checks give exactly the `Value` tree's answers: the same input,
    /// the same type errors and violations (messages, paths, rendered values, order), with
    /// duplicate keys read as `Value` reads them.
    #[test]
    fn document_and_tree_decode_alike() {
        for text in [
            r#"{"TableName":"tbl","Item":{"k":{"S":"a"},"b":{"B":"AAE="},"n":{"N":"1.5"}}}"#,
            r#"{"TableName":"tbl","Item":{"a":{"S":"1"},"b":{"BOOL":true},"a":{"L":[{"NULL":true}]}}}"#,
            r#"{"TableName":"tbl","Item":{"k":{"S":"a"}},"TableName":"other"}"#,
            r#"{"TableName":"tbl","Item":{"k":{"B":"AAE"}}}"#,
            r#"{"TableName":"tbl","Item":{"k":{"S":"a","S":"b"}},"Unknown":[1,{"x":2}]}"#,
            r#"{"TableName":"tbl","Item":{"k":{"SS":["a","b"]}},"ReturnValues":5}"#,
            r#"{"TableName":"t","Item":{"k":{"S":"a"}},"ReturnValues":"NOPE"}"#,
            r#"{"TableName":"t!","Item":{"k":{"S":"a"}},"ReturnValues":"ALL","Expected":{"x":{"Value":{"S":"1"},"ComparisonOperator":"BAD"}}}"#,
            r#"{"Item":{"k":{"S":"a"}}}"#,
            r#"{"TableName":"t","Item":{"k":{"L":[{"M":{"x":{"N":5}}}]}}}"#,
            r#"{"TableName":"t","Item":{"k":{"S":"a"}},"ExpressionAttributeValues":{":v":[1]}}"#,
            r##"{"TableName":"t","Item":{"k":{"S":"a"}},"ExpressionAttributeNames":{"#a":"x","#a":2}}"##,
            r#"{"TableName":"t","Item":[]}"#,
            r#"{"TableName":{"S":"x"},"Item":{}}"#,
            r#"{"TableName":"t","Item":{"k":{"S":"\u0041\n"}},"ReturnValues":"ALL_OLD","x":1e5}"#,
        ] {
            assert_eq!(from_document(text), from_tree(text), "{text}");
        }
        assert!(from_document(r#"{"TableName":"tbl","Item":{"k":{"S":"a"}}}"#).is_ok());
    }

    /// The body is used by the one decode inside `with_body` and by nothing after it, even
    /// when that decode panicked.
    #[test]
    fn the_body_never_outlives_its_call() {
        let text = r#"{"TableName":"tbl","Item":{"k":{"S":"a"}}}"#;
        let _ = std::panic::catch_unwind(|| with_body(text.as_bytes(), || panic!("handler")));
        let other = r#"{"TableName":"other","Item":{"k":{"S":"b"}}}"#;
        let decoded = from_tree(other).unwrap();
        assert_eq!(decoded.table_name.as_deref(), Some("other"));
    }
}
