//! The runtime form of an AWS service model: static tables the code generator emits from
//! `models/*.json`, read by the wire codecs (awsJson, awsQuery, XML), the validator and the CLI.
//!
//! Shapes are addressed by [`ShapeId`], an index into [`ServiceModel::shapes`].

/// Index of a shape in its service's `shapes` table.
pub type ShapeId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// awsJson1_0 (DynamoDB).
    Json,
    /// awsQuery with XML responses (Redshift).
    Query,
}

#[derive(Debug)]
pub struct ServiceModel {
    /// botocore service name, e.g. `dynamodb`.
    pub name: &'static str,
    /// SigV4 signing name / endpoint prefix.
    pub signing_name: &'static str,
    pub api_version: &'static str,
    pub protocol: Protocol,
    /// `X-Amz-Target` prefix for awsJson (`DynamoDB_20120810`).
    pub target_prefix: Option<&'static str>,
    /// XML namespace for awsQuery responses.
    pub xml_namespace: Option<&'static str>,
    pub shapes: &'static [Shape],
    /// Sorted by name.
    pub operations: &'static [Operation],
    pub paginators: &'static [Paginator],
    pub waiters: &'static [Waiter],
}

#[derive(Debug)]
pub struct Shape {
    pub name: &'static str,
    pub kind: ShapeKind,
    /// Set on exception shapes.
    pub error: Option<ErrorInfo>,
}

#[derive(Debug)]
pub enum ShapeKind {
    Structure {
        members: &'static [Member],
        /// Names of required members, in model order.
        required: &'static [&'static str],
        /// Redshift wrapper/union shapes are still structures on the wire.
        union: bool,
    },
    List {
        member: ShapeId,
        /// The list member's `locationName` (awsQuery/XML item name); `None` means `member`.
        member_location_name: Option<&'static str>,
        min: Option<i64>,
        max: Option<i64>,
    },
    Map {
        key: ShapeId,
        value: ShapeId,
        min: Option<i64>,
        max: Option<i64>,
    },
    String {
        min: Option<i64>,
        max: Option<i64>,
        pattern: Option<&'static str>,
        enum_values: Option<&'static [&'static str]>,
        sensitive: bool,
    },
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Long {
        min: Option<i64>,
        max: Option<i64>,
    },
    Double {
        min: Option<f64>,
        max: Option<f64>,
    },
    Boolean,
    Timestamp,
    Blob {
        min: Option<i64>,
        max: Option<i64>,
    },
}

#[derive(Debug)]
pub struct Member {
    /// The wire name (PascalCase as in the model).
    pub name: &'static str,
    pub shape: ShapeId,
    /// A member-level `locationName` (XML element / query key), if the model gives one.
    pub location_name: Option<&'static str>,
    pub idempotency_token: bool,
}

/// Wire identity of an exception shape.
#[derive(Debug, Clone, Copy)]
pub struct ErrorInfo {
    /// The wire code: for awsQuery the model's `error.code` (e.g. `ClusterNotFound`), for
    /// awsJson the shape name.
    pub code: &'static str,
    pub http_status: u16,
    /// `true` for client errors (`senderFault` / `exception` without `fault`).
    pub sender_fault: bool,
}

#[derive(Debug)]
pub struct Operation {
    pub name: &'static str,
    pub input: Option<ShapeId>,
    pub output: Option<ShapeId>,
    /// awsQuery result element name, e.g. `CopyClusterSnapshotResult`.
    pub result_wrapper: Option<&'static str>,
    /// Exception shapes, in model order.
    pub errors: &'static [ShapeId],
}

#[derive(Debug)]
pub struct Paginator {
    pub operation: &'static str,
    pub input_token: &'static [&'static str],
    pub output_token: &'static [&'static str],
    pub limit_key: Option<&'static str>,
    pub result_key: &'static [&'static str],
    /// `more_results` expression, if any.
    pub more_results: Option<&'static str>,
}

#[derive(Debug)]
pub struct Waiter {
    pub name: &'static str,
    pub operation: &'static str,
    pub delay: u32,
    pub max_attempts: u32,
    pub acceptors: &'static [Acceptor],
}

#[derive(Debug)]
pub struct Acceptor {
    /// `success`, `failure` or `retry`.
    pub state: &'static str,
    /// `path`, `pathAll`, `pathAny`, `status` or `error`.
    pub matcher: &'static str,
    pub argument: Option<&'static str>,
    /// The expected value as JSON text (a string, number or boolean literal).
    pub expected: &'static str,
}

impl ServiceModel {
    pub fn shape(&self, id: ShapeId) -> &'static Shape {
        &self.shapes[id]
    }

    /// Looks an operation up by its exact wire name.
    pub fn operation(&self, name: &str) -> Option<&'static Operation> {
        self.operations
            .binary_search_by(|op| op.name.cmp(name))
            .ok()
            .map(|i| &self.operations[i])
    }

    pub fn shape_by_name(&self, name: &str) -> Option<ShapeId> {
        self.shapes.iter().position(|s| s.name == name)
    }
}

impl Shape {
    /// Members of a structure shape (empty for every other kind).
    pub fn members(&self) -> &'static [Member] {
        match self.kind {
            ShapeKind::Structure { members, .. } => members,
            _ => &[],
        }
    }

    pub fn member(&self, name: &str) -> Option<&'static Member> {
        self.members().iter().find(|m| m.name == name)
    }
}
