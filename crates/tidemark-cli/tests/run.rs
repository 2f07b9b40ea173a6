//! End-to-end checks of `run_with` that need no server: skeletons, usage errors, completion.

use tidemark_cli::{CapturePrinter, run_with};

fn run(args: &[&str]) -> (i32, CapturePrinter) {
    let mut p = CapturePrinter::default();
    let code = run_with(args.iter().map(Into::into).collect(), &mut p);
    (code, p)
}

#[test]
fn input_skeleton_like_the_transcript() {
    let (code, p) = run(&["dynamodb", "create-backup", "--generate-cli-skeleton"]);
    assert_eq!(code, 0);
    assert_eq!(
        p.stdout,
        "{\n    \"TableName\": \"\",\n    \"BackupName\": \"\"\n}\n"
    );
    // As in aws, the profile is looked up even for an input skeleton.
    let argv = [
        "dynamodb",
        "create-backup",
        "--generate-cli-skeleton",
        "input",
        "--profile",
        "nope-xyz",
    ];
    let (code, p) = run(&argv);
    assert_eq!(code, 255);
    assert_eq!(
        p.stderr,
        "\nThe config profile (nope-xyz) could not be found\n"
    );
}

#[test]
fn missing_required_arguments_exit_2_with_usage() {
    let (code, p) = run(&[
        "dynamodb",
        "create-backup",
        "--generate-cli-skeleton",
        "output",
    ]);
    assert_eq!(code, 2);
    assert!(p.stderr.starts_with("usage: \rNote: AWS CLI version 2"));
    assert!(p.stderr.ends_with(
        "aws: error: the following arguments are required: --table-name, --backup-name\n"
    ));
    assert!(p.stdout.is_empty());
}

#[test]
fn unknown_options_exit_255() {
    let (code, p) = run(&["redshift", "describe-clusters", "--bogus", "x"]);
    assert_eq!(code, 255);
    assert!(
        p.stderr.ends_with("\nUnknown options: --bogus, x\n"),
        "{:?}",
        p.stderr
    );
}

#[test]
fn completion_script_and_unknown_command() {
    let (code, p) = run(&["completion", "bash"]);
    assert_eq!(
        (code, p.stdout.as_str()),
        (0, "complete -C 'tidemark __complete' tidemark\n")
    );
    let (code, p) = run(&["dynamodbx"]);
    assert_eq!(code, 2);
    assert!(p.stderr.contains("Invalid choice"));
}
