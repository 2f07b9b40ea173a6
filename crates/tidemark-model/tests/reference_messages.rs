//! Pins the validation messages and dispatch behaviour observed on real AWS
//! (reference `aws-behaviour.md` §1.2 "Validation message format"), and drives a handler
//! through the generated dispatcher end to end.

use serde_json::json;
use tidemark_model::dynamodb::{
    BackupDetails, CreateBackupError, CreateBackupInput, CreateBackupOutput, DYNAMODB, DynamoDbApi,
    dispatch_dynamodb,
};
use tidemark_model::redshift::{
    DeleteClusterSnapshotError, DeleteClusterSnapshotMessage, DeleteClusterSnapshotResult,
    RedshiftApi, dispatch_redshift,
};
use tidemark_model::{
    CommonError, DispatchError, ModeledError, OpError, RequestContext, Rule, Timestamp,
    coral_message,
};

fn ctx() -> RequestContext {
    RequestContext::new(
        tidemark_core::AccountId::default_account(),
        "us-east-1",
        "req-1",
    )
}

struct Unimplemented;
impl DynamoDbApi for Unimplemented {}

fn invalid_message(op: &str, input: serde_json::Value) -> String {
    match dispatch_dynamodb(&Unimplemented, &ctx(), op, input) {
        Err(DispatchError::Invalid(v)) => coral_message(&v),
        other => panic!("expected a validation failure, got {other:?}"),
    }
}

/// §1.2 [O]: an empty BackupName breaks the pattern first, then the minimum length.
#[test]
fn empty_backup_name_reports_pattern_then_length() {
    let msg = invalid_message(
        "CreateBackup",
        json!({"TableName": "Music", "BackupName": ""}),
    );
    assert_eq!(
        msg,
        "2 validation errors detected: Value '' at 'backupName' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '' at \
         'backupName' failed to satisfy constraint: Member must have length greater than or \
         equal to 3"
    );
}

/// §1.2 [O]: numbers are quoted like strings; nested paths are lowerCamel and dotted.
#[test]
fn recovery_period_over_35_days() {
    let input = json!({
        "TableName": "Music",
        "PointInTimeRecoverySpecification": {
            "PointInTimeRecoveryEnabled": true,
            "RecoveryPeriodInDays": 36
        }
    });
    assert_eq!(
        invalid_message("UpdateContinuousBackups", input),
        "1 validation error detected: Value '36' at \
         'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: \
         Member must have value less than or equal to 35"
    );
}

/// List elements are addressed `<list>.<1-based index>.member` (as in the real
/// `attributeDefinitions.3.member.attributeType` message).
#[test]
fn list_element_paths_use_member_suffix() {
    let input = json!({
        "TableName": "Music",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "SORT"}],
    });
    assert_eq!(
        invalid_message("CreateTable", input),
        "1 validation error detected: Value 'SORT' at 'keySchema.2.member.keyType' failed to \
         satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]"
    );
}

/// Map values breaking their own constraints give one aggregate item at the map path
/// (observed for BatchWriteItem's `requestItems`).
#[test]
fn map_value_constraints_aggregate_at_the_map() {
    let msg = invalid_message("BatchWriteItem", json!({"RequestItems": {"Music": []}}));
    assert_eq!(
        msg,
        "1 validation error detected: Value '{Music=[]}' at 'requestItems' failed to satisfy \
         constraint: Map value must satisfy constraint: [Member must have length less than or \
         equal to 25, Member must have length greater than or equal to 1]"
    );
}

#[test]
fn missing_required_members_are_null() {
    let msg = invalid_message("CreateBackup", json!({}));
    assert_eq!(
        msg,
        "2 validation errors detected: Value null at 'tableName' failed to satisfy constraint: \
         Member must not be null; Value null at 'backupName' failed to satisfy constraint: \
         Member must not be null"
    );
    // A missing body counts as `{}`.
    assert_eq!(
        invalid_message("CreateBackup", serde_json::Value::Null),
        msg
    );
}

#[test]
fn violations_carry_wire_paths_and_rules() {
    let input = json!({"TableName": "Music", "PointInTimeRecoverySpecification": {"RecoveryPeriodInDays": 0}});
    let Err(DispatchError::Invalid(v)) =
        dispatch_dynamodb(&Unimplemented, &ctx(), "UpdateContinuousBackups", input)
    else {
        panic!("expected violations");
    };
    assert_eq!(v.len(), 2);
    assert_eq!(
        v[0].wire_path,
        "PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled"
    );
    assert_eq!(v[0].rule, Rule::Required);
    assert_eq!(
        v[1].wire_path,
        "PointInTimeRecoverySpecification.RecoveryPeriodInDays"
    );
    assert_eq!(v[1].value.as_deref(), Some("0"));
    assert_eq!(v[1].rule, Rule::MinValue("1".into()));
}

#[test]
fn wrong_json_type_is_a_serialization_error_naming_the_member() {
    let input = json!({"TableName": "Music", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": "yes"}});
    match dispatch_dynamodb(&Unimplemented, &ctx(), "UpdateContinuousBackups", input) {
        Err(DispatchError::Serialization(m)) => {
            assert!(
                m.contains("STRING_VALUE can not be converted to a Boolean"),
                "{m}"
            );
            assert!(
                m.contains("PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled"),
                "{m}"
            );
        }
        other => panic!("expected a serialization error, got {other:?}"),
    }
}

#[test]
fn unknown_operation() {
    let r = dispatch_dynamodb(&Unimplemented, &ctx(), "CreateBakup", json!({}));
    assert!(matches!(r, Err(DispatchError::UnknownOperation(op)) if op == "CreateBakup"));
}

/// A handler that knows one table.
struct OneTable;

impl DynamoDbApi for OneTable {
    fn create_backup(
        &self,
        _ctx: &RequestContext,
        input: CreateBackupInput,
    ) -> Result<CreateBackupOutput, OpError<CreateBackupError>> {
        let table = input.table_name.unwrap_or_default();
        if table != "Music" {
            return Err(CreateBackupError::table_not_found_exception(format!(
                "Table not found: {table}"
            ))
            .into());
        }
        Ok(CreateBackupOutput {
            backup_details: Some(BackupDetails {
                backup_name: input.backup_name,
                backup_creation_date_time: Timestamp::from_epoch_seconds(1_576_616_366.715),
                backup_size_bytes: Some(0),
                ..Default::default()
            }),
        })
    }
}

#[test]
fn handler_output_and_modeled_error_round_trip_through_dispatch() {
    let ok = dispatch_dynamodb(
        &OneTable,
        &ctx(),
        "CreateBackup",
        json!({"TableName": "Music", "BackupName": "b1"}),
    );
    // "b1" is too short; fix the name and call again.
    assert!(matches!(ok, Err(DispatchError::Invalid(_))));
    let ok = dispatch_dynamodb(
        &OneTable,
        &ctx(),
        "CreateBackup",
        json!({"TableName": "Music", "BackupName": "b01"}),
    )
    .unwrap();
    assert_eq!(
        ok,
        json!({"BackupDetails": {"BackupName": "b01", "BackupSizeBytes": 0, "BackupCreationDateTime": 1576616366.715}})
    );
    let err = dispatch_dynamodb(
        &OneTable,
        &ctx(),
        "CreateBackup",
        json!({"TableName": "Other", "BackupName": "b01"}),
    );
    let Err(DispatchError::Modeled(e)) = err else {
        panic!("expected a modeled error, got {err:?}")
    };
    assert_eq!(e.shape, "TableNotFoundException");
    assert_eq!(e.info.code, "TableNotFoundException");
    assert_eq!(e.info.http_status, 400);
    assert!(e.info.sender_fault);
    assert_eq!(e.body, json!({"message": "Table not found: Other"}));
    assert_eq!(e.message(), Some("Table not found: Other"));
    // Unimplemented operations report their name.
    let r = dispatch_dynamodb(
        &OneTable,
        &ctx(),
        "DeleteBackup",
        json!({"BackupArn": "arn:aws:dynamodb:us-east-1:123456789012:table/Music/backup/01576616366715-b01f2e4d"}),
    );
    assert!(matches!(
        r,
        Err(DispatchError::Common(CommonError::NotImplemented(
            "DeleteBackup"
        )))
    ));
    // Operations without output shape answer `{}` — here via the model table.
    assert!(DYNAMODB.operation("TagResource").unwrap().output.is_none());
}

#[test]
fn dynamodb_fault_is_500_receiver() {
    let e = CreateBackupError::internal_server_error("boom");
    assert_eq!(e.info().http_status, 500);
    assert!(!e.info().sender_fault);
    assert_eq!(e.shape_name(), "InternalServerError");
}

struct Snapshots;

impl RedshiftApi for Snapshots {
    fn delete_cluster_snapshot(
        &self,
        _ctx: &RequestContext,
        input: DeleteClusterSnapshotMessage,
    ) -> Result<DeleteClusterSnapshotResult, OpError<DeleteClusterSnapshotError>> {
        Err(
            DeleteClusterSnapshotError::cluster_snapshot_not_found_fault(format!(
                "Snapshot {} not found.",
                input.snapshot_identifier.unwrap_or_default()
            ))
            .into(),
        )
    }
}

/// §1.3: awsQuery error codes come from the model's `error.code`, statuses from the model;
/// Redshift exceptions are empty in the model, so the message rides in a synthetic `Message`.
#[test]
fn redshift_modeled_error_uses_the_query_code() {
    let r = dispatch_redshift(
        &Snapshots,
        &ctx(),
        "DeleteClusterSnapshot",
        json!({"SnapshotIdentifier": "s1"}),
    );
    let Err(DispatchError::Modeled(e)) = r else {
        panic!("expected a modeled error, got {r:?}")
    };
    assert_eq!(e.shape, "ClusterSnapshotNotFoundFault");
    assert_eq!(e.info.code, "ClusterSnapshotNotFound");
    assert_eq!(e.info.http_status, 404);
    assert!(e.info.sender_fault);
    assert_eq!(e.body, json!({"Message": "Snapshot s1 not found."}));
    let r = dispatch_redshift(&Snapshots, &ctx(), "DeleteClusterSnapshot", json!({}));
    let Err(DispatchError::Invalid(v)) = r else {
        panic!("expected a validation failure")
    };
    assert_eq!(v[0].wire_path, "SnapshotIdentifier");
}

#[test]
fn raw_models_are_embedded() {
    assert!(
        tidemark_model::raw_model_json("dynamodb")
            .contains("\"targetPrefix\": \"DynamoDB_20120810\"")
    );
    assert!(tidemark_model::raw_model_json("redshift").contains("x-waiters"));
    assert_eq!(tidemark_model::raw_model_json("s3"), "");
}
