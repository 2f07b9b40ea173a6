//! Configuration resolution the way the aws CLI v1 / botocore finds it: command-line globals,
//! environment variables, `~/.aws/credentials` and `~/.aws/config` profiles (ports
//! `botocore/configloader.py`, the env/profile chain of `botocore/credentials.py`, and
//! configured endpoints: `AWS_ENDPOINT_URL[_<SERVICE>]`, profile `endpoint_url`, `services`).
//!
//! Tidemark difference (documented): with no endpoint configured anywhere the endpoint is the
//! local tidemark server `http://127.0.0.1:8787`, the region defaults to `us-east-1`, and
//! unsigned-by-config calls to that default endpoint use the local key pair `tidemark`/`tidemark`.

use std::collections::HashMap;

use crate::error::CliError;
use crate::globals::Globals;

/// Default endpoint when nothing is configured: the local tidemark server.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8787";

pub type Section = HashMap<String, String>;
/// An INI file: section name -> (key -> value); nested sub-sections flattened as `key.sub`.
pub type Ini = HashMap<String, Section>;

/// Parses an INI file like botocore's `raw_config_parse` (with nested `key =\n  sub = v`).
pub fn parse_ini(text: &str) -> Ini {
    let mut ini = Ini::new();
    let mut section: Option<String> = None;
    let mut nested_key: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            section = Some(trimmed[1..trimmed.len() - 1].trim().to_string());
            ini.entry(section.clone().unwrap_or_default()).or_default();
            nested_key = None;
            continue;
        }
        let Some(sec) = &section else { continue };
        let indented = line.starts_with(' ') || line.starts_with('\t');
        let Some((k, v)) = trimmed.split_once('=').or_else(|| trimmed.split_once(':')) else {
            continue;
        };
        let (k, v) = (k.trim().to_string(), v.trim().to_string());
        let entry = ini.entry(sec.clone()).or_default();
        if indented && let Some(nk) = &nested_key {
            entry.insert(format!("{nk}.{k}"), v);
            continue;
        }
        nested_key = if v.is_empty() { Some(k.clone()) } else { None };
        entry.insert(k, v);
    }
    ini
}

fn home() -> String {
    std::env::var("HOME").unwrap_or_default()
}

fn expand(p: &str) -> String {
    if let Some(rest) = p.strip_prefix("~/") {
        format!("{}/{rest}", home())
    } else {
        p.to_string()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Everything a call needs, resolved.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub profile: String,
    pub region: String,
    pub endpoint: String,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub session_token: Option<String>,
    pub output: String,
    pub ca_bundle: Option<String>,
    pub verify_ssl: bool,
    pub read_timeout: Option<std::time::Duration>,
    pub connect_timeout: Option<std::time::Duration>,
    pub sign: bool,
    /// botocore's `parameter_validation` profile setting (client-side validation).
    pub param_validation: bool,
}

/// Environment variable suffix of a service's `AWS_ENDPOINT_URL_<ID>`.
fn service_env_id(service: &str) -> String {
    match service {
        "dynamodb" => "DYNAMODB".into(),
        other => other.to_uppercase().replace(['-', ' '], "_"),
    }
}

/// botocore `validate_region_name`: `^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)$`.
fn valid_region(r: &str) -> bool {
    r.len() <= 63
        && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && (r.is_empty() || !r.chars().all(|c| c.is_ascii_digit()))
        && !r.starts_with('-')
        && !r.ends_with('-')
}

/// Resolves configuration for `service` from globals, environment and files.
pub fn resolve(g: &Globals, service: &str) -> Result<Resolved, CliError> {
    let explicit_profile = g
        .profile
        .clone()
        .or_else(|| env("AWS_DEFAULT_PROFILE"))
        .or_else(|| env("AWS_PROFILE"));
    let profile = explicit_profile.clone().unwrap_or_else(|| "default".into());
    let config_path = expand(&env("AWS_CONFIG_FILE").unwrap_or_else(|| "~/.aws/config".into()));
    let creds_path =
        expand(&env("AWS_SHARED_CREDENTIALS_FILE").unwrap_or_else(|| "~/.aws/credentials".into()));
    let config = std::fs::read_to_string(&config_path)
        .map(|t| parse_ini(&t))
        .unwrap_or_default();
    let creds = std::fs::read_to_string(&creds_path)
        .map(|t| parse_ini(&t))
        .unwrap_or_default();
    let section_name = if profile == "default" {
        "default".to_string()
    } else {
        format!("profile {profile}")
    };
    let empty = Section::new();
    let prof = config.get(&section_name).or_else(|| {
        if profile == "default" {
            config.get("profile default")
        } else {
            None
        }
    });
    let cred_sec = creds.get(&profile);
    if explicit_profile.is_some() && prof.is_none() && cred_sec.is_none() {
        return Err(CliError::Failure(format!(
            "The config profile ({profile}) could not be found"
        )));
    }
    let prof = prof.unwrap_or(&empty);
    let cred_sec = cred_sec.unwrap_or(&empty);
    let pget = |k: &str| prof.get(k).filter(|v| !v.is_empty()).cloned();

    let region = g
        .region
        .clone()
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| env("AWS_REGION"))
        .or_else(|| pget("region"));
    let ignore_configured = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || pget("ignore_configure_endpoint_urls").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let services_endpoint = pget("services").and_then(|s| {
        config
            .get(&format!("services {s}"))
            .and_then(|sec| sec.get(&format!("{service}.endpoint_url")).cloned())
    });
    let configured = if ignore_configured {
        None
    } else {
        env(&format!("AWS_ENDPOINT_URL_{}", service_env_id(service)))
            .or_else(|| services_endpoint.clone())
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .or_else(|| pget("endpoint_url"))
    };
    if let Some(r) = &region
        && !valid_region(r)
    {
        return Err(CliError::Failure(format!(
            "Provided region_name '{r}' doesn't match a supported format."
        )));
    }
    let endpoint_given = g.endpoint_url.is_some() || configured.is_some();
    let endpoint = g
        .endpoint_url
        .clone()
        .or(configured)
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());

    let (mut ak, mut sk, mut tok) = (None, None, None);
    if let (Some(a), Some(s)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        ak = Some(a);
        sk = Some(s);
        tok = env("AWS_SESSION_TOKEN").or_else(|| env("AWS_SECURITY_TOKEN"));
    } else if let (Some(a), Some(s)) = (
        cred_sec.get("aws_access_key_id"),
        cred_sec.get("aws_secret_access_key"),
    ) {
        ak = Some(a.clone());
        sk = Some(s.clone());
        tok = cred_sec.get("aws_session_token").cloned();
    } else if let (Some(a), Some(s)) = (pget("aws_access_key_id"), pget("aws_secret_access_key")) {
        ak = Some(a);
        sk = Some(s);
        tok = pget("aws_session_token");
    } else if !endpoint_given {
        ak = Some("tidemark".into());
        sk = Some("tidemark".into());
    }
    let secs = |v: Option<i64>| {
        v.filter(|n| *n > 0)
            .map(|n| std::time::Duration::from_secs(n as u64))
    };
    Ok(Resolved {
        profile,
        region: region.unwrap_or_else(|| "us-east-1".into()),
        endpoint,
        access_key: ak,
        secret_key: sk,
        session_token: tok,
        output: g
            .output
            .clone()
            .or_else(|| env("AWS_DEFAULT_OUTPUT"))
            .or_else(|| pget("output"))
            .unwrap_or_else(|| "json".into()),
        ca_bundle: g
            .ca_bundle
            .clone()
            .or_else(|| env("AWS_CA_BUNDLE"))
            .or_else(|| pget("ca_bundle")),
        verify_ssl: !g.no_verify_ssl,
        read_timeout: secs(Some(g.cli_read_timeout.unwrap_or(60))),
        connect_timeout: secs(Some(g.cli_connect_timeout.unwrap_or(60))),
        sign: !g.no_sign_request,
        param_validation: !pget("parameter_validation")
            .is_some_and(|v| v.eq_ignore_ascii_case("false")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_like_botocore() {
        assert!(valid_region("us-east-1") && valid_region("local"));
        assert!(
            !valid_region("bad_region")
                && !valid_region("123")
                && !valid_region("-x")
                && !valid_region("x-")
        );
    }

    #[test]
    fn ini_with_nested_services() {
        let ini = parse_ini(
            "[default]\nregion = eu-west-1\n[profile dev]\nservices = local\n[services local]\ndynamodb =\n  endpoint_url = http://x:1\n",
        );
        assert_eq!(ini["default"]["region"], "eu-west-1");
        assert_eq!(ini["services local"]["dynamodb.endpoint_url"], "http://x:1");
        assert_eq!(ini["profile dev"]["services"], "local");
    }
}
