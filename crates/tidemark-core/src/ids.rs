//! Accounts, regions, request ids and the per-request context handed to service handlers.

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// The account used when a permissive-mode access key is not a 12-digit number.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// The region used when a request carries no credential scope (unsigned admin calls).
pub const DEFAULT_REGION: &str = "us-east-1";

/// A 12-digit AWS account id. Invariant: exactly 12 ASCII digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountId(String);

impl AccountId {
    /// Parses a 12-digit account id; anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())).then(|| Self(s.to_owned()))
    }

    pub fn default_account() -> Self {
        Self(DEFAULT_ACCOUNT.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who is calling, where, and under which request id. Every resource is scoped by
/// `(account, region)`; handlers must never look outside that scope except through an
/// explicit sharing grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestContext {
    pub account: AccountId,
    pub region: String,
    pub request_id: String,
    /// Name of the caller from the credentials file (or the access key in permissive mode).
    pub principal: String,
}

impl RequestContext {
    pub fn new(
        account: AccountId,
        region: impl Into<String>,
        request_id: impl Into<String>,
    ) -> Self {
        Self {
            principal: account.to_string(),
            account,
            region: region.into(),
            request_id: request_id.into(),
        }
    }

    /// The ARN partition for this request's region.
    pub fn partition(&self) -> &'static str {
        partition_of(&self.region)
    }

    /// `arn:<partition>:<service>:<region>:<account>:<resource>`.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{}:{}:{}:{}",
            self.partition(),
            service,
            self.region,
            self.account,
            resource
        )
    }
}

/// The partition AWS uses for a region name.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// A Redshift-style request id: a random UUID.
pub fn uuid_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A DynamoDB-style request id: 52 upper-case alphanumerics, as real traffic shows.
pub fn dynamodb_request_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..52)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(AccountId::parse("123456789012").is_some());
        assert!(AccountId::parse("12345678901").is_none());
        assert!(AccountId::parse("AKIAIOSFODNN7EXAMPLE").is_none());
        assert!(AccountId::parse("12345678901x").is_none());
    }

    #[test]
    fn arns_follow_the_partition() {
        let ctx = RequestContext::new(AccountId::default_account(), "cn-north-1", "r");
        assert_eq!(
            ctx.arn("dynamodb", "table/T"),
            "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/T"
        );
        assert_eq!(partition_of("us-east-1"), "aws");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn request_ids_have_aws_shapes() {
        let d = dynamodb_request_id();
        assert_eq!(d.len(), 52);
        assert!(
            d.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        assert_eq!(uuid_request_id().len(), 36);
    }
}
