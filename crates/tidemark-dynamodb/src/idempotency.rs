//! ClientRequestToken for TransactWriteItems: a token used again within 10 minutes with the
//! same TransactItems succeeds without applying them twice; with different TransactItems it
//! is IdempotentParameterMismatchException. Tokens live in `dynamodb.tokens` under the
//! caller's scope with their request fingerprint and expiry (virtual clock).

use serde::{Deserialize, Serialize};
use tidemark_core::{RequestContext, Timestamp};
use tidemark_model::OpError;
use tidemark_model::dynamodb as m;
use tidemark_store::{WriteTxn, keys};

use crate::catalog;
use crate::error::DdbError;

pub const TOKENS_TABLE: &str = "dynamodb.tokens";
/// How long a token is remembered (DynamoDB: 10 minutes).
pub const TOKEN_TTL_MS: i64 = 10 * 60 * 1000;

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    fingerprint: String,
    expires_ms: i64,
}

/// A token record to save when the transaction commits.
pub struct Record {
    key: Vec<u8>,
    stored: Stored,
}

impl Record {
    pub fn save(&self, txn: &mut dyn WriteTxn) -> Result<(), DdbError> {
        let v = serde_json::to_vec(&self.stored).map_err(DdbError::internal)?;
        txn.put(TOKENS_TABLE, &self.key, &v)?;
        Ok(())
    }
}

pub enum Seen {
    /// First use (or the old use expired): apply, then save the record.
    New(Record),
    /// Same token, same request, within the window.
    Repeat,
}

pub fn check(
    txn: &mut dyn WriteTxn,
    ctx: &RequestContext,
    token: &str,
    items: &[m::TransactWriteItem],
    now: Timestamp,
) -> Result<Seen, OpError<m::TransactWriteItemsError>> {
    let mut key = catalog::scope(ctx);
    keys::push_bytes(&mut key, token.as_bytes());
    let fingerprint =
        serde_json::to_string(items).map_err(|e| OpError::from(DdbError::internal(e)))?;
    let now_ms = now.as_millisecond();
    if let Some(bytes) = txn
        .get(TOKENS_TABLE, &key)
        .map_err(|e| OpError::from(DdbError::from(e)))?
    {
        let old: Stored =
            serde_json::from_slice(&bytes).map_err(|e| OpError::from(DdbError::internal(e)))?;
        if old.expires_ms > now_ms {
            if old.fingerprint == fingerprint {
                return Ok(Seen::Repeat);
            }
            return Err(OpError::Modeled(
                m::TransactWriteItemsError::idempotent_parameter_mismatch_exception(
                    "Request parameters do not match the original request for this ClientRequestToken",
                ),
            ));
        }
    }
    Ok(Seen::New(Record {
        key,
        stored: Stored {
            fingerprint,
            expires_ms: now_ms + TOKEN_TTL_MS,
        },
    }))
}
