//! CreateTable's semantic checks (what the model's constraints cannot express), with
//! DynamoDB's messages (sources: dynalite `validations/createTable.js` and `db/index.js`,
//! recorded against DynamoDB; nubo-db/dynamodb-conformance createTable tests), turning the
//! request's key schema, attribute definitions, indexes and billing settings into stored form.

use tidemark_model::dynamodb as m;

use crate::error::{DdbError, DdbResult};
use crate::table::{IndexDef, KeyDef, KeyPart, Status, Throughput, Warm};

pub const MAX_LSIS: usize = 5;
pub const MAX_GSIS: usize = 20;
/// Largest provisioned capacity DynamoDB accepts in one request (per-table quota aside).
pub const MAX_CAPACITY: i64 = 40_000;

fn invalid(msg: impl std::fmt::Display) -> DdbError {
    DdbError::validation(format!("One or more parameter values were invalid: {msg}"))
}

/// Checks a new table's name (after an ARN was resolved to one): DynamoDB's table-name
/// constraints, `[a-zA-Z0-9_.-]+` and 3–255 characters, in Coral's format and order
/// (pattern, then length). The model types CreateTable's `TableName` as a `TableArn`
/// (1–1024, no pattern) since ARNs are accepted there, so the model check cannot catch these.
pub fn new_table_name(name: &str) -> DdbResult<()> {
    use tidemark_model::validate::{Rule, Violation, coral_message};
    const PATTERN: &str = "[a-zA-Z0-9_.-]+";
    let mut rules = Vec::new();
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if name.is_empty() || !name.chars().all(allowed) {
        rules.push(Rule::Pattern(PATTERN));
    }
    let len = name.encode_utf16().count();
    if len < 3 {
        rules.push(Rule::MinLength(3));
    } else if len > 255 {
        rules.push(Rule::MaxLength(255));
    }
    if rules.is_empty() {
        return Ok(());
    }
    let violations: Vec<Violation> = rules
        .into_iter()
        .map(|rule| Violation {
            path: "tableName".to_owned(),
            wire_path: "TableName".to_owned(),
            value: Some(name.to_owned()),
            rule,
        })
        .collect();
    Err(DdbError::validation(coral_message(&violations)))
}

/// Checks AttributeDefinitions: known scalar types, no duplicates.
pub fn attribute_definitions(
    defs: Option<&Vec<m::AttributeDefinition>>,
) -> DdbResult<Vec<KeyPart>> {
    let defs = defs.ok_or_else(|| {
        DdbError::validation(
            "1 validation error detected: Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null",
        )
    })?;
    let mut out: Vec<KeyPart> = Vec::new();
    for d in defs {
        let name = d.attribute_name.clone().unwrap_or_default();
        let ty = d.attribute_type.clone().unwrap_or_default();
        if out.iter().any(|p| p.name == name) {
            return Err(invalid("Cannot have two attributes with the same name"));
        }
        out.push(KeyPart { name, ty });
    }
    Ok(out)
}

/// Checks one KeySchema (table or index) against the definitions.
pub fn key_schema(
    schema: Option<&Vec<m::KeySchemaElement>>,
    defs: &[KeyPart],
    member: &str,
) -> DdbResult<KeyDef> {
    let schema = schema.ok_or_else(|| {
        DdbError::validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })?;
    let elem = |i: usize| {
        let e = &schema[i];
        (
            e.attribute_name.clone().unwrap_or_default(),
            e.key_type.clone().unwrap_or_default(),
        )
    };
    if schema.is_empty() || schema.len() > 2 {
        return Err(DdbError::validation(format!(
            "1 validation error detected: Value '{}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to 2",
            schema.len()
        )));
    }
    let (hash, hash_type) = elem(0);
    if hash_type != "HASH" {
        return Err(DdbError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    let range = if schema.len() == 2 {
        let (range, range_type) = elem(1);
        if range == hash {
            return Err(DdbError::validation(
                "Invalid KeySchema: Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ));
        }
        if range_type != "RANGE" {
            return Err(DdbError::validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
        Some(range)
    } else {
        None
    };
    let part = |name: String| -> DdbResult<KeyPart> {
        let def = defs.iter().find(|d| d.name == name).ok_or_else(|| {
            let keys: Vec<&str> = schema.iter().filter_map(|e| e.attribute_name.as_deref()).collect();
            let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
            invalid(format!(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                keys.join(", "),
                names.join(", ")
            ))
        })?;
        Ok(KeyPart {
            name,
            ty: def.ty.clone(),
        })
    };
    Ok(KeyDef {
        hash: part(hash)?,
        range: range.map(part).transpose()?,
    })
}

/// Checks a Projection and returns (type, non-key attributes).
pub fn projection(p: Option<&m::Projection>) -> DdbResult<(String, Option<Vec<String>>)> {
    let p = p.ok_or_else(|| invalid("Projection must be specified for every index"))?;
    let ty = p.projection_type.clone().unwrap_or_else(|| "ALL".into());
    match (ty.as_str(), &p.non_key_attributes) {
        ("INCLUDE", None) => Err(invalid(
            "ProjectionType is INCLUDE, but NonKeyAttributes is not specified",
        )),
        ("ALL" | "KEYS_ONLY", Some(_)) => Err(invalid(format!(
            "ProjectionType is {ty}, but NonKeyAttributes is specified"
        ))),
        _ => Ok((ty, p.non_key_attributes.clone())),
    }
}

/// Checks ProvisionedThroughput values.
pub fn throughput(t: &m::ProvisionedThroughput) -> DdbResult<Throughput> {
    let read = t.read_capacity_units.unwrap_or(0);
    let write = t.write_capacity_units.unwrap_or(0);
    for (name, v) in [("ReadCapacityUnits", read), ("WriteCapacityUnits", write)] {
        if v > MAX_CAPACITY {
            return Err(DdbError::LimitExceeded(format!(
                "Subscriber limit exceeded: Provisioned throughput for {name} cannot exceed {MAX_CAPACITY}"
            )));
        }
    }
    Ok(Throughput {
        read,
        write,
        ..Default::default()
    })
}

/// BillingMode and the table's ProvisionedThroughput must agree.
pub fn billing(
    mode: Option<&str>,
    t: Option<&m::ProvisionedThroughput>,
) -> DdbResult<(String, Throughput)> {
    let mode = mode.unwrap_or("PROVISIONED").to_string();
    match (mode.as_str(), t) {
        ("PAY_PER_REQUEST", Some(_)) => Err(invalid(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        )),
        ("PAY_PER_REQUEST", None) => Ok((mode, Throughput::default())),
        (_, None) => Err(DdbError::validation(
            "No provisioned throughput specified for the table",
        )),
        (_, Some(t)) => Ok((mode, throughput(t)?)),
    }
}

/// A secondary index's throughput under the table's billing mode.
pub fn index_throughput(
    index: &str,
    pay_per_request: bool,
    t: Option<&m::ProvisionedThroughput>,
) -> DdbResult<Option<Throughput>> {
    match (pay_per_request, t) {
        (true, Some(_)) => Err(invalid(format!(
            "ProvisionedThroughput should not be specified for index: {index} when BillingMode is PAY_PER_REQUEST"
        ))),
        (true, None) => Ok(None),
        (false, None) => Err(invalid(format!(
            "ProvisionedThroughput must be specified for index: {index}"
        ))),
        (false, Some(t)) => Ok(Some(throughput(t)?)),
    }
}

/// Local secondary indexes: the table needs a range key; each index shares the table's hash
/// key and has its own range key; names unique; at most five.
pub fn lsis(
    list: Option<&Vec<m::LocalSecondaryIndex>>,
    defs: &[KeyPart],
    table: &KeyDef,
) -> DdbResult<Vec<IndexDef>> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    if table.range.is_none() {
        return Err(invalid(
            "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
        ));
    }
    if list.len() > MAX_LSIS {
        return Err(invalid(format!(
            "Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LSIS}"
        )));
    }
    let mut out: Vec<IndexDef> = Vec::new();
    for l in list {
        let name = l.index_name.clone().unwrap_or_default();
        let key = key_schema(
            l.key_schema.as_ref(),
            defs,
            "localSecondaryIndexes.member.keySchema",
        )?;
        if key.range.is_none() {
            return Err(invalid(format!(
                "Index KeySchema does not have a range key for index: {name}"
            )));
        }
        if key.hash != table.hash {
            return Err(invalid(format!(
                "Index KeySchema does not have the same leading hash key as table KeySchema for index: {name}. index hash key: {}, table hash key: {}",
                key.hash.name, table.hash.name
            )));
        }
        if out.iter().any(|i| i.name == name) {
            return Err(invalid(format!("Duplicate index name: {name}")));
        }
        let (projection_type, non_key_attributes) = projection(l.projection.as_ref())?;
        out.push(IndexDef {
            name,
            key,
            projection_type,
            non_key_attributes,
            status: Status::Active,
            throughput: None,
            warm: None,
        });
    }
    Ok(out)
}

/// CreateTable's GlobalSecondaryIndexes (also import's): at most [`MAX_GSIS`], names unique
/// among themselves and the table's `lsis`, each checked by [`gsi`] and created ACTIVE.
pub fn gsis(
    list: Option<&Vec<m::GlobalSecondaryIndex>>,
    lsis: &[IndexDef],
    defs: &[KeyPart],
    pay_per_request: bool,
) -> DdbResult<Vec<IndexDef>> {
    let list = list.map_or(&[][..], Vec::as_slice);
    if list.len() > MAX_GSIS {
        // CreateTable reports this as a ValidationException (dynalite's createTable tests,
        // recorded against DynamoDB); only UpdateTable uses LimitExceededException for it.
        return Err(invalid(format!(
            "GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}"
        )));
    }
    let mut gsis: Vec<IndexDef> = Vec::new();
    for g in list {
        let name = g.index_name.clone().unwrap_or_default();
        if gsis.iter().chain(lsis).any(|i| i.name == name) {
            return Err(invalid(format!("Duplicate index name: {name}")));
        }
        let mut def = gsi(
            &name,
            g.key_schema.as_ref(),
            g.projection.as_ref(),
            g.provisioned_throughput.as_ref(),
            defs,
            pay_per_request,
            Status::Active,
        )?;
        def.warm = warm(g.warm_throughput.as_ref());
        gsis.push(def);
    }
    Ok(gsis)
}

/// One global secondary index definition.
pub fn gsi(
    name: &str,
    key_schema_in: Option<&Vec<m::KeySchemaElement>>,
    proj: Option<&m::Projection>,
    t: Option<&m::ProvisionedThroughput>,
    defs: &[KeyPart],
    pay_per_request: bool,
    status: Status,
) -> DdbResult<IndexDef> {
    let key = key_schema(
        key_schema_in,
        defs,
        "globalSecondaryIndexes.member.keySchema",
    )?;
    let (projection_type, non_key_attributes) = projection(proj)?;
    let throughput = index_throughput(name, pay_per_request, t)?;
    Ok(IndexDef {
        name: name.to_string(),
        key,
        projection_type,
        non_key_attributes,
        status,
        throughput,
        warm: None,
    })
}

/// A request's WarmThroughput as a stored value (a half left out stays at the default).
pub fn warm(w: Option<&m::WarmThroughput>) -> Option<Warm> {
    w.map(|w| Warm {
        read: w.read_units_per_second.unwrap_or(Warm::DEFAULT.read),
        write: w.write_units_per_second.unwrap_or(Warm::DEFAULT.write),
    })
}

/// Every attribute definition must be used by a key schema (table or index).
pub fn all_definitions_used(
    defs: &[KeyPart],
    table: &KeyDef,
    indexes: &[&IndexDef],
) -> DdbResult<()> {
    let used =
        |n: &str| table.names().contains(&n) || indexes.iter().any(|i| i.key.names().contains(&n));
    if defs.iter().any(|d| !used(&d.name)) {
        return Err(invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    Ok(())
}

/// StreamSpecification: a view type is required when enabling and refused when disabling.
pub fn stream(s: &m::StreamSpecification) -> DdbResult<()> {
    match (s.stream_enabled.unwrap_or(false), &s.stream_view_type) {
        (true, None) => Err(invalid(
            "You must specify a StreamViewType when enabling a Stream",
        )),
        (false, Some(_)) => Err(invalid(
            "You cannot modify the StreamViewType when disabling a Stream",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod name_tests {
    use super::new_table_name;

    fn message(name: &str) -> Option<String> {
        new_table_name(name).err().map(|e| e.to_string())
    }

    #[test]
    fn valid_names_pass() {
        assert_eq!(message("abc"), None);
        assert_eq!(message("A_b.c-9"), None);
        assert_eq!(message(&"x".repeat(255)), None);
    }

    #[test]
    fn invalid_names_get_corals_message() {
        assert_eq!(
            message("a!").unwrap(),
            "2 validation errors detected: Value 'a!' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a!' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"
        );
        assert_eq!(
            message("ab").unwrap(),
            "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"
        );
        let m = message(&"y".repeat(256)).unwrap();
        assert!(
            m.contains("Member must have length less than or equal to 255"),
            "{m}"
        );
        let m = message("bad name").unwrap();
        assert!(m.contains("1 validation error detected: Value 'bad name' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern"), "{m}");
    }
}
