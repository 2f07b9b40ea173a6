//! Shell completion generated from the models, in the style of `aws_completer`: bash calls
//! `tidemark __complete` (via `complete -C`) with `COMP_LINE` / `COMP_POINT` set, and we print
//! one candidate per line.

use crate::args::{self, ArgKind};
use crate::globals::GLOBAL_OPTIONS;
use crate::model::{Model, SERVICES, xform_name};

/// The script users source (`tidemark completion bash|zsh`).
pub fn script(shell: &str) -> Option<String> {
    match shell {
        "bash" => Some("complete -C 'tidemark __complete' tidemark\n".into()),
        "zsh" => Some("autoload -Uz bashcompinit && bashcompinit\ncomplete -C 'tidemark __complete' tidemark\n".into()),
        _ => None,
    }
}

/// Candidates for the word under the cursor of `line` (the text before the cursor).
pub fn complete(line: &str) -> Vec<String> {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    let current = if line.ends_with(char::is_whitespace) {
        ""
    } else {
        words.pop().unwrap_or("")
    };
    let prev = words.last().copied().unwrap_or("");
    let filter = |c: Vec<String>| -> Vec<String> {
        c.into_iter().filter(|x| x.starts_with(current)).collect()
    };
    match prev {
        "--output" => return filter(vec!["json".into(), "text".into(), "table".into()]),
        "--color" => return filter(vec!["on".into(), "off".into(), "auto".into()]),
        "--generate-cli-skeleton" => return filter(vec!["input".into(), "output".into()]),
        _ => {}
    }
    // Positional words after the program name, ignoring options and their values.
    let positional: Vec<&str> = words
        .iter()
        .skip(1)
        .copied()
        .filter(|w| !w.starts_with("--"))
        .collect();
    if positional.is_empty() {
        let mut c: Vec<String> = SERVICES.iter().map(|s| s.to_string()).collect();
        c.push("clock".into());
        return filter(c);
    }
    if positional[0] == "clock" {
        return if positional.len() == 1 {
            filter(
                ["show", "set", "advance", "freeze", "unfreeze"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            )
        } else {
            Vec::new()
        };
    }
    let Ok(model) = Model::load(positional[0]) else {
        return Vec::new();
    };
    if positional.len() == 1 && !current.starts_with('-') {
        let mut c: Vec<String> = model
            .operation_names()
            .map(|n| xform_name(n, '-'))
            .collect();
        c.sort();
        c.push("wait".into());
        c.push("help".into());
        return filter(c);
    }
    let (op_name, table) = if positional.get(1) == Some(&"wait") {
        let waiters = model.waiters().cloned().unwrap_or_default();
        if positional.len() == 2 && !current.starts_with('-') {
            return filter(waiters.keys().map(|k| xform_name(k, '-')).collect());
        }
        let Some(w) = waiters
            .iter()
            .find(|(k, _)| positional.get(2).is_some_and(|p| xform_name(k, '-') == *p))
            .map(|(_, w)| w.clone())
        else {
            return Vec::new();
        };
        let op = w
            .get("operation")
            .and_then(|o| o.as_str())
            .unwrap_or_default()
            .to_string();
        (op, true)
    } else {
        let Some((op, _)) = model.operation_by_cli_name(positional[1]) else {
            return Vec::new();
        };
        (op, false)
    };
    let Some(op) = model.operation(&op_name) else {
        return Vec::new();
    };
    let mut c: Vec<String> = args::arg_table(&model, &op_name, op)
        .into_iter()
        .filter(|a| {
            !(table
                && matches!(
                    a.kind,
                    ArgKind::StartingToken | ArgKind::PageSize | ArgKind::MaxItems
                ))
        })
        .map(|a| format!("--{}", a.name))
        .filter(|n| !words.contains(&n.as_str()))
        .collect();
    c.extend(
        GLOBAL_OPTIONS
            .iter()
            .map(|s| s.to_string())
            .filter(|n| !words.contains(&n.as_str())),
    );
    filter(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_services_operations_and_options() {
        assert_eq!(complete("tidemark dyn"), vec!["dynamodb"]);
        assert!(complete("tidemark dynamodb create-b").contains(&"create-backup".to_string()));
        let opts = complete("tidemark dynamodb create-backup --table-name T --");
        assert!(
            opts.contains(&"--backup-name".to_string())
                && !opts.contains(&"--table-name".to_string())
        );
        assert!(opts.contains(&"--query".to_string()));
        assert_eq!(
            complete("tidemark dynamodb list-tables --output t"),
            vec!["text", "table"]
        );
        assert_eq!(
            complete("tidemark dynamodb wait table-e"),
            vec!["table-exists"]
        );
        assert!(
            complete("tidemark redshift wait cluster-available --")
                .contains(&"--cluster-identifier".to_string())
        );
        assert_eq!(complete("tidemark clock adv"), vec!["advance"]);
    }
}
