//! `--generate-cli-skeleton output` is valid against the model for every operation of both
//! services: each structure carries exactly the model's members, and every value has its
//! member's type (checked against the static tables of `tidemark-model`, which the skeleton
//! generator does not use).

use serde_json::Value;
use tidemark_cli::model::Model;
use tidemark_cli::skeleton;
use tidemark_model::schema::{ServiceModel, ShapeId, ShapeKind};

fn check(model: &ServiceModel, shape: ShapeId, v: &Value, path: &str) -> Result<(), String> {
    let bad = |what: &str| Err(format!("{path}: expected {what}, got {v}"));
    match &model.shape(shape).kind {
        ShapeKind::Structure { members, .. } => {
            let Value::Object(obj) = v else {
                return bad("an object");
            };
            // A recursive shape is cut short as `{}` (botocore does the same).
            if obj.is_empty() {
                return Ok(());
            }
            for key in obj.keys() {
                if !members.iter().any(|m| m.name == key) {
                    return Err(format!(
                        "{path}: {key} is not a member of {}",
                        model.shape(shape).name
                    ));
                }
            }
            for m in *members {
                let child = obj
                    .get(m.name)
                    .ok_or_else(|| format!("{path}: member {} missing", m.name))?;
                check(model, m.shape, child, &format!("{path}.{}", m.name))?;
            }
            Ok(())
        }
        ShapeKind::List { member, .. } => {
            let Value::Array(items) = v else {
                return bad("an array");
            };
            items
                .iter()
                .try_for_each(|i| check(model, *member, i, &format!("{path}[]")))
        }
        ShapeKind::Map { value, .. } => {
            let Value::Object(obj) = v else {
                return bad("an object");
            };
            obj.iter()
                .try_for_each(|(k, i)| check(model, *value, i, &format!("{path}.{k}")))
        }
        // botocore's ArgumentGenerator(use_member_names=True) fills every string, enums
        // included, with the member's name; the type is what must fit.
        ShapeKind::String { .. } => {
            if v.is_string() {
                Ok(())
            } else {
                bad("a string")
            }
        }
        ShapeKind::Integer { .. } | ShapeKind::Long { .. } => {
            if v.is_i64() {
                Ok(())
            } else {
                bad("an integer")
            }
        }
        ShapeKind::Double { .. } => {
            if v.is_number() {
                Ok(())
            } else {
                bad("a number")
            }
        }
        ShapeKind::Boolean => {
            if v.is_boolean() {
                Ok(())
            } else {
                bad("a boolean")
            }
        }
        ShapeKind::Timestamp => match v.as_str() {
            Some(s) if s.parse::<jiff::civil::DateTime>().is_ok() => Ok(()),
            _ => bad("an ISO 8601 timestamp"),
        },
        // botocore's generator has no case for blobs and leaves them None.
        ShapeKind::Blob { .. } => {
            if v.is_string() || v.is_null() {
                Ok(())
            } else {
                bad("a blob string or null")
            }
        }
    }
}

fn check_service(name: &str, model: &ServiceModel) {
    let cli_model = Model::load(name).expect("embedded model loads");
    let mut checked = 0;
    for op in model.operations {
        let Some(out) = op.output else { continue };
        let shape_name = model.shape(out).name;
        let sample = skeleton::generate(&cli_model, shape_name, true);
        if let Err(e) = check(model, out, &sample, op.name) {
            panic!(
                "{name} {}: output skeleton does not fit the model: {e}",
                op.name
            );
        }
        checked += 1;
    }
    assert!(checked > 50, "{name}: only {checked} operations checked");
}

#[test]
fn output_skeletons_fit_the_dynamodb_model() {
    check_service("dynamodb", &tidemark_model::dynamodb::DYNAMODB);
}

#[test]
fn output_skeletons_fit_the_redshift_model() {
    check_service("redshift", &tidemark_model::redshift::REDSHIFT);
}
