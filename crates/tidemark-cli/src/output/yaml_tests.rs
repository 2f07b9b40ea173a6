//! Exact bytes of `--output yaml` / `yaml-stream` for a few documents; every expected text
//! was produced by ruamel.yaml 0.19.1 `YAML(typ='safe')` with `default_flow_style = False`,
//! the dumper aws CLI v2 uses.

use serde_json::Value;

use super::yaml::dump;
use super::{OutputCtx, Response, emit};
use crate::printer::CapturePrinter;

fn doc(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

#[test]
fn nested_maps_and_lists_sorted_keys() {
    assert_eq!(
        dump(&doc(
            r#"{"BackupDetails": {"BackupArn": "arn:aws:dynamodb:us-east-1:111111111111:table/Cli/backup/01700000000000-abcdef12", "BackupSizeBytes": 1024, "Created": 1700000000.123, "Tags": [{"Key": "k", "Value": "v"}, {"Key": "n", "Value": null}], "Matrix": [[1, 2], []], "Empty": {}, "Enabled": true}}"#
        )),
        "BackupDetails:\n  BackupArn: \n    arn:aws:dynamodb:us-east-1:111111111111:table/Cli/backup/01700000000000-abcdef12\n  BackupSizeBytes: 1024\n  Created: 1700000000.123\n  Empty: {}\n  Enabled: true\n  Matrix:\n  - - 1\n    - 2\n  - []\n  Tags:\n  - Key: k\n    Value: v\n  - Key: n\n    Value: null\n"
    );
}

#[test]
fn empty_collections_are_flow() {
    assert_eq!(
        dump(&doc(
            r#"{"TableNames": [], "Meta": {}, "Next": null, "Nested": [[], {}]}"#
        )),
        "Meta: {}\nNested:\n- []\n- {}\nNext: null\nTableNames: []\n"
    );
}

#[test]
fn top_level_empties() {
    assert_eq!(dump(&doc(r#"[]"#)), "[]\n");
}

#[test]
fn numbers_and_booleans() {
    assert_eq!(
        dump(&doc(
            r#"{"Int": -42, "Big": 12345678901234567890, "Half": 0.5, "Small": -0.0001, "Huge": 1e+20, "Tiny": 5e-07, "T": true, "F": false}"#
        )),
        "Big: 12345678901234567890\nF: false\nHalf: 0.5\nHuge: 1e+20\nInt: -42\nSmall: -0.0001\nT: true\nTiny: 5e-07\n"
    );
}

#[test]
fn strings_quoted_only_when_needed() {
    assert_eq!(
        dump(&doc(
            r#"{"Plain": "hello world", "Num": "123", "Float": "1.5", "Hex": "0x1F", "Bool": "true", "Yes": "yes", "Null": "null", "Tilde": "~", "Date": "2024-01-01", "Colon": "a: b", "Url": "http://x/y?a=b", "Hash": "a #b", "Lead": " x", "Quote": "it's", "Multi": "line1\nline2", "Tab": "a\tb", "Uni": "caf\u00e9 \u2615", "Ctrl": "\u0007", "Bom": "\ufeffx", "Dash": "- x", "Empty": "", "Star": "*x", "Back": "a\\b", "Dq": "say \"hi\""}"#
        )),
        "Back: a\\b\nBom: \"\\uFEFFx\"\nBool: 'true'\nColon: 'a: b'\nCtrl: \"\\a\"\nDash: '- x'\nDate: '2024-01-01'\nDq: say \"hi\"\nEmpty: ''\nFloat: '1.5'\nHash: 'a #b'\nHex: '0x1F'\nLead: ' x'\nMulti: \"line1\\nline2\"\n'Null': 'null'\nNum: '123'\nPlain: hello world\nQuote: it's\nStar: '*x'\nTab: \"a\\tb\"\nTilde: '~'\nUni: café ☕\nUrl: http://x/y?a=b\nYes: yes\n"
    );
}

#[test]
fn long_strings_fold_at_80_columns() {
    assert_eq!(
        dump(&doc(
            r#"{"Description": "This restore was requested by the nightly job and copies every item of the source table into a new table", "Quoted": "it's a long description that keeps going past the eighty column limit of the emitter", "Arn": "arn:aws:redshift:us-east-1:123456789012:snapshot:my-cluster-with-a-long-name/my-snapshot-name-2024"}"#
        )),
        "Arn: \n  arn:aws:redshift:us-east-1:123456789012:snapshot:my-cluster-with-a-long-name/my-snapshot-name-2024\nDescription: This restore was requested by the nightly job and copies every item\n  of the source table into a new table\nQuoted: it's a long description that keeps going past the eighty column limit of\n  the emitter\n"
    );
}

#[test]
fn multi_line_and_long_keys() {
    assert_eq!(
        dump(&doc(
            r#"{"a\nb": 1, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": [1]}"#
        )),
        "? \"a\\nb\"\n: 1\n? kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\n: - 1\n"
    );
}

#[test]
fn root_scalar_closes_the_document() {
    assert_eq!(dump(&Value::String("TableName".into())), "TableName\n...\n");
    assert_eq!(dump(&doc("{}")), "{}\n");
}

fn run(output: &str, v: Value) -> String {
    let ctx = OutputCtx {
        output: output.to_string(),
        query: None,
        color: false,
        op_name: "ListTables",
    };
    let mut p = CapturePrinter::default();
    emit(&mut p, &ctx, Response::Single(v)).unwrap();
    p.stdout
}

#[test]
fn yaml_output_skips_an_empty_response_like_json() {
    assert_eq!(run("yaml", doc("{}")), "");
    assert_eq!(run("yaml", doc(r#"{"TableNames":[]}"#)), "TableNames: []\n");
}

#[test]
fn yaml_stream_writes_each_response_as_a_list_item() {
    assert_eq!(
        run("yaml-stream", doc(r#"{"TableNames":["a","b"]}"#)),
        "- TableNames:\n  - a\n  - b\n"
    );
}
