//! AWS service models at run time: the static tables generated from `models/*.json`, typed
//! shapes, per-operation error enums, service traits with dispatchers, and the validator.
//!
//! Shapes are addressed by [`ShapeId`], an index into [`ServiceModel::shapes`]. Generated
//! items live under [`dynamodb`], [`redshift`] and [`redshift_data`].

mod attribute_value;
pub mod dispatch;
pub mod errors;
mod generated;
pub mod json_tree;
pub mod pattern;
pub mod schema;
pub mod typecheck;
mod types;
pub mod validate;

pub use dispatch::{Encoded, Reply};
pub use errors::{CommonError, DispatchError, ModeledError, ModeledErrorValue, OpError};
pub use schema::*;
pub use tidemark_core::RequestContext;
pub use types::{Blob, Timestamp, decode_base64};
pub use validate::{Rule, Violation, coral_message, validate};

/// DynamoDB (awsJson1_0): shapes, errors, [`dynamodb::DynamoDbApi`], [`dynamodb::dispatch_dynamodb`]
/// and the model table [`dynamodb::DYNAMODB`].
pub mod dynamodb {
    pub use crate::attribute_value::AttributeValueMembers;
    pub use crate::generated::dynamodb_api::*;
    pub use crate::generated::dynamodb_errors::*;
    pub use crate::generated::dynamodb_model::DYNAMODB;
    pub use crate::generated::dynamodb_shapes::*;
}

/// Redshift (awsQuery): shapes, errors, [`redshift::RedshiftApi`], [`redshift::dispatch_redshift`]
/// and the model table [`redshift::REDSHIFT`].
pub mod redshift {
    pub use crate::generated::redshift_api::*;
    pub use crate::generated::redshift_errors::*;
    pub use crate::generated::redshift_model::REDSHIFT;
    pub use crate::generated::redshift_shapes::*;
}

/// The Redshift Data API (awsJson1_1): shapes, errors, [`redshift_data::RedshiftDataApi`],
/// [`redshift_data::dispatch_redshift_data`] and the model table
/// [`redshift_data::REDSHIFT_DATA`].
pub mod redshift_data {
    pub use crate::generated::redshift_data_api::*;
    pub use crate::generated::redshift_data_errors::*;
    pub use crate::generated::redshift_data_model::REDSHIFT_DATA;
    pub use crate::generated::redshift_data_shapes::*;
}

/// The model JSON a service's code was generated from (`dynamodb`, `redshift` or `redshift-data`); empty for
/// any other name.
pub fn raw_model_json(service: &str) -> &'static str {
    match service {
        "dynamodb" => include_str!("../../../models/dynamodb.json"),
        "redshift" => include_str!("../../../models/redshift.json"),
        "redshift-data" => include_str!("../../../models/redshift-data.json"),
        _ => "",
    }
}
