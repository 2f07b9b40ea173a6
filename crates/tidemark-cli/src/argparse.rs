//! A faithful model of CPython 3.11 `argparse.ArgumentParser.parse_known_args`, as aws CLI v1
//! runs it three times (main parser, service parser, operation parser; `awscli/argparser.py`),
//! so that options are accepted, abbreviated, refused and left over exactly as aws does.
//!
//! Only the features awscli uses are modelled: `--long` options with nargs 0 (`store_true`,
//! `version`), one, `?` (with a const) and `*`; at most one positional (nargs one or `?`) with
//! optional choices; prefix abbreviations; `--opt=value`; `--`; the negative-number and
//! contains-a-space rules that make a leading-dash word a value.

use crate::error::CliError;

/// How many values an option or positional takes (argparse `nargs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nargs {
    /// `store_true` / `store_false` / `version`: no value.
    Zero,
    /// `nargs=None`: exactly one value.
    One,
    /// `nargs='?'`: zero or one value (the const when zero).
    Optional,
    /// `nargs='*'`: any number of values.
    Any,
}

/// One `--name` option.
#[derive(Debug, Clone)]
pub struct Opt {
    /// With the leading `--`.
    pub name: String,
    pub nargs: Nargs,
    pub choices: Option<Vec<String>>,
    /// Values accepted beyond `choices` without being listed in the invalid-choice error
    /// (tidemark's extensions keep aws's error text).
    pub also_accepts: Vec<String>,
    pub required: bool,
    /// argparse `type=`: `int` or `float` values are converted while parsing, and a value
    /// Python cannot convert is argparse's `invalid int value: '…'` (exit 2).
    pub py_type: Option<&'static str>,
    /// argparse's `version` action: stops parsing at once (it prints and exits).
    pub immediate: bool,
}

impl Opt {
    pub fn new(name: impl Into<String>, nargs: Nargs) -> Opt {
        Opt {
            name: name.into(),
            nargs,
            choices: None,
            also_accepts: Vec::new(),
            required: false,
            py_type: None,
            immediate: false,
        }
    }
}

/// The one positional of an awscli parser (`command`, `operation` or `help`).
#[derive(Debug, Clone)]
pub struct Positional {
    pub name: String,
    /// `One` or `Optional`.
    pub nargs: Nargs,
    pub choices: Option<Vec<String>>,
}

/// Result of one `parse_known_args`.
#[derive(Debug, Default)]
pub struct Parsed {
    /// (index into the option list, values) in command-line order; an option given twice
    /// appears twice (the last one wins, as with argparse's `store`).
    pub opts: Vec<(usize, Vec<String>)>,
    pub positional: Option<String>,
    /// Arguments no option or positional took, in argparse's order.
    pub extras: Vec<String>,
    /// Set when an `immediate` option was met; parsing stopped there.
    pub stopped_by: Option<usize>,
}

impl Parsed {
    /// Values of the last occurrence of option `idx`.
    pub fn last(&self, idx: usize) -> Option<&Vec<String>> {
        self.opts
            .iter()
            .rev()
            .find(|(i, _)| *i == idx)
            .map(|(_, v)| v)
    }
}

#[derive(Clone)]
struct OptHit {
    action: Option<usize>,
    explicit: Option<String>,
}

fn usage(msg: String) -> CliError {
    CliError::Usage(msg)
}

/// argparse's `ArgumentError` text: `argument --name: msg`.
fn arg_error(name: &str, msg: &str) -> CliError {
    usage(format!("argument {name}: {msg}"))
}

/// `_negative_number_matcher`: `^-\d+$|^-\d*\.\d+$`.
fn looks_negative(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('-') else {
        return false;
    };
    if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    match rest.split_once('.') {
        Some((a, b)) => {
            a.bytes().all(|c| c.is_ascii_digit())
                && !b.is_empty()
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// `_parse_optional`: `None` for a positional word.
fn parse_optional(opts: &[Opt], arg: &str) -> Result<Option<OptHit>, CliError> {
    if !arg.starts_with('-') {
        return Ok(None);
    }
    let find = |name: &str| opts.iter().position(|o| o.name == name);
    if let Some(i) = find(arg) {
        return Ok(Some(OptHit {
            action: Some(i),
            explicit: None,
        }));
    }
    if arg.len() == 1 {
        return Ok(None);
    }
    if let Some((name, value)) = arg.split_once('=')
        && let Some(i) = find(name)
    {
        return Ok(Some(OptHit {
            action: Some(i),
            explicit: Some(value.to_string()),
        }));
    }
    // `_get_option_tuples`: every option is `--long`, so a single-dash word matches none.
    if arg.starts_with("--") {
        let (prefix, explicit) = match arg.split_once('=') {
            Some((p, v)) => (p, Some(v.to_string())),
            None => (arg, None),
        };
        let hits: Vec<usize> = (0..opts.len())
            .filter(|&i| opts[i].name.starts_with(prefix))
            .collect();
        if hits.len() > 1 {
            let names: Vec<&str> = hits.iter().map(|&i| opts[i].name.as_str()).collect();
            return Err(usage(format!(
                "ambiguous option: {arg} could match {}",
                names.join(", ")
            )));
        }
        if let [i] = hits[..] {
            return Ok(Some(OptHit {
                action: Some(i),
                explicit,
            }));
        }
    }
    if looks_negative(arg) || arg.contains(' ') {
        return Ok(None);
    }
    Ok(Some(OptHit {
        action: None,
        explicit: None,
    }))
}

/// Number of leading `c` in `pattern`.
fn run_of(pattern: &[u8], c: u8) -> usize {
    pattern.iter().take_while(|&&b| b == c).count()
}

/// `_match_arguments_partial` for the single positional: how many words it takes, or `None`
/// when its pattern does not match here.
fn match_positional(nargs: Nargs, pattern: &[u8]) -> Option<usize> {
    let lead = run_of(pattern, b'-');
    let rest = &pattern[lead..];
    let (a, rest) = match rest.first() {
        Some(b'A') => (1, &rest[1..]),
        _ if nargs == Nargs::One => return None,
        _ => (0, rest),
    };
    Some(lead + a + run_of(rest, b'-'))
}

/// argparse's invalid-choice message (awscli `CLIArgParser._check_value`).
fn check_choice(name: &str, value: &str, choices: &Option<Vec<String>>) -> Result<(), CliError> {
    match choices {
        Some(c) if !c.iter().any(|x| x == value) => {
            Err(crate::call::invalid_choice(name, value, c))
        }
        _ => Ok(()),
    }
}

/// Runs `parse_known_args(args)` for a parser with `opts` and at most one positional.
pub fn parse_known_args(
    opts: &[Opt],
    positional: Option<&Positional>,
    args: &[String],
) -> Result<Parsed, CliError> {
    // Classify every word: 'O' option, 'A' argument, '-' the first `--`.
    let mut pattern = Vec::with_capacity(args.len());
    let mut hits: Vec<Option<OptHit>> = Vec::with_capacity(args.len());
    let mut after_dashes = false;
    for a in args {
        if after_dashes {
            pattern.push(b'A');
            hits.push(None);
        } else if a == "--" {
            after_dashes = true;
            pattern.push(b'-');
            hits.push(None);
        } else {
            let h = parse_optional(opts, a)?;
            pattern.push(if h.is_some() { b'O' } else { b'A' });
            hits.push(h);
        }
    }
    let mut out = Parsed::default();
    let mut seen = vec![false; opts.len()];
    let mut positional_left = positional;
    let mut consume_positional = |start: usize, out: &mut Parsed| -> Result<usize, CliError> {
        let Some(p) = positional_left else {
            return Ok(start);
        };
        let Some(n) = match_positional(p.nargs, &pattern[start..]) else {
            return Ok(start);
        };
        positional_left = None;
        // `_get_values` drops the first `--`.
        let mut words: Vec<&String> = args[start..start + n].iter().collect();
        if let Some(d) = words.iter().position(|w| *w == "--") {
            words.remove(d);
        }
        if let Some(w) = words.first() {
            check_choice(&p.name, w, &p.choices)?;
            out.positional = Some((*w).clone());
        }
        Ok(start + n)
    };
    let option_indices: Vec<usize> = (0..args.len()).filter(|&i| pattern[i] == b'O').collect();
    let mut start = 0;
    let max_option = option_indices.last().copied();
    while let Some(max) = max_option
        && start <= max
    {
        let Some(&next) = option_indices.iter().find(|&&i| i >= start) else {
            break;
        };
        if start != next {
            let end = consume_positional(start, &mut out)?;
            if end > start {
                start = end;
                continue;
            }
        }
        if pattern[start] != b'O' {
            out.extras.extend(args[start..next].iter().cloned());
            start = next;
        }
        // consume_optional
        let Some(hit) = hits[start].clone() else {
            break;
        };
        let Some(idx) = hit.action else {
            out.extras.push(args[start].clone());
            start += 1;
            continue;
        };
        let opt = &opts[idx];
        let values: Vec<String>;
        if let Some(explicit) = hit.explicit {
            if opt.nargs == Nargs::Zero {
                return Err(arg_error(
                    &opt.name,
                    &format!(
                        "ignored explicit argument {}",
                        crate::pyfmt::str_repr(&explicit)
                    ),
                ));
            }
            values = vec![explicit];
            start += 1;
        } else {
            let avail = run_of(&pattern[start + 1..], b'A');
            let n = match opt.nargs {
                Nargs::Zero => 0,
                Nargs::One if avail == 0 => {
                    return Err(arg_error(&opt.name, "expected one argument"));
                }
                Nargs::One | Nargs::Optional => avail.min(1),
                Nargs::Any => avail,
            };
            values = args[start + 1..start + 1 + n].to_vec();
            start += 1 + n;
        }
        if opt.nargs != Nargs::Zero {
            for v in &values {
                let ok = match opt.py_type {
                    Some("int") => crate::pyfmt::py_int(v).is_some(),
                    Some(_) => crate::pyfmt::py_float(v).is_some(),
                    None => true,
                };
                if !ok {
                    let t = opt.py_type.unwrap_or_default();
                    return Err(arg_error(
                        &opt.name,
                        &format!("invalid {t} value: {}", crate::pyfmt::str_repr(v)),
                    ));
                }
            }
            for v in values.iter().filter(|v| !opt.also_accepts.contains(v)) {
                check_choice(&opt.name, v, &opt.choices)?;
            }
        }
        seen[idx] = true;
        out.opts.push((idx, values));
        if opt.immediate {
            out.stopped_by = Some(idx);
            return Ok(out);
        }
    }
    let stop = consume_positional(start, &mut out)?;
    out.extras.extend(args[stop..].iter().cloned());
    let mut missing: Vec<&str> = opts
        .iter()
        .zip(&seen)
        .filter(|(o, s)| o.required && !**s)
        .map(|(o, _)| o.name.as_str())
        .collect();
    if let Some(p) = positional_left
        && p.nargs == Nargs::One
    {
        missing.push(&p.name);
    }
    if !missing.is_empty() {
        return Err(usage(format!(
            "the following arguments are required: {}",
            missing.join(", ")
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn globals() -> Vec<Opt> {
        vec![
            Opt::new("--debug", Nargs::Zero),
            Opt::new("--output", Nargs::One),
            Opt::new("--no-paginate", Nargs::Zero),
            Opt::new("--no-verify-ssl", Nargs::Zero),
        ]
    }

    fn command() -> Positional {
        Positional {
            name: "command".into(),
            nargs: Nargs::One,
            choices: Some(s(&["dynamodb", "redshift"])),
        }
    }

    #[test]
    fn options_anywhere_and_extras_in_argparse_order() {
        let p = parse_known_args(
            &globals(),
            Some(&command()),
            &s(&[
                "--out",
                "text",
                "dynamodb",
                "list-tables",
                "--limit",
                "3",
                "--debug",
            ]),
        )
        .unwrap();
        assert_eq!(p.positional.as_deref(), Some("dynamodb"));
        assert_eq!(p.extras, s(&["list-tables", "--limit", "3"]));
        assert_eq!(p.last(1), Some(&s(&["text"])));
        assert_eq!(p.last(0), Some(&vec![]));
    }

    #[test]
    fn refusals_match_argparse_text() {
        let e = parse_known_args(&globals(), Some(&command()), &s(&["dynamodb", "--no"]));
        assert_eq!(
            e.unwrap_err().to_string(),
            "aws: error: ambiguous option: --no could match --no-paginate, --no-verify-ssl"
        );
        let e = parse_known_args(&globals(), Some(&command()), &s(&["dynamodb", "--output"]));
        assert_eq!(
            e.unwrap_err().to_string(),
            "aws: error: argument --output: expected one argument"
        );
        let e = parse_known_args(&globals(), Some(&command()), &s(&["--debug=1", "dynamodb"]));
        assert_eq!(
            e.unwrap_err().to_string(),
            "aws: error: argument --debug: ignored explicit argument '1'"
        );
        let e = parse_known_args(&globals(), Some(&command()), &s(&["--debug"]));
        assert_eq!(
            e.unwrap_err().to_string(),
            "aws: error: the following arguments are required: command"
        );
    }

    #[test]
    fn negative_numbers_and_spaces_are_values() {
        let p = parse_known_args(
            &globals(),
            Some(&command()),
            &s(&["dynamodb", "--output", "-1", "-x y", "--", "--debug"]),
        )
        .unwrap();
        assert_eq!(p.last(1), Some(&s(&["-1"])));
        assert_eq!(p.extras, s(&["-x y", "--", "--debug"]));
        assert!(p.last(0).is_none());
    }
}
