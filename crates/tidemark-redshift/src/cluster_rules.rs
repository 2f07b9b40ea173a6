//! CreateCluster/ModifyCluster parameter rules (§3.5) and the shape every new cluster view
//! starts from (§3.8 fields; created or restored).

use tidemark_model::CommonError;
use tidemark_model::redshift::*;

use crate::catalog::Scope;
use crate::rules;

pub(crate) fn ipv(msg: impl Into<String>) -> CommonError {
    CommonError::InvalidParameterValue(msg.into())
}

pub(crate) fn check_master_username(name: &str) -> Result<(), CommonError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.as_bytes()[0].is_ascii_alphabetic()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_+.@-".contains(&b))
        && !name.eq_ignore_ascii_case("public");
    if ok {
        Ok(())
    } else {
        Err(ipv(format!(
            "The parameter MasterUsername is not valid: {name}"
        )))
    }
}

pub(crate) fn check_password(pw: &str) -> Result<(), CommonError> {
    let printable = pw
        .bytes()
        .all(|b| (33..=126).contains(&b) && !b"'\"\\/@".contains(&b));
    let mixed = pw.bytes().any(|b| b.is_ascii_uppercase())
        && pw.bytes().any(|b| b.is_ascii_lowercase())
        && pw.bytes().any(|b| b.is_ascii_digit());
    if (8..=64).contains(&pw.len()) && printable && mixed {
        Ok(())
    } else {
        Err(ipv(
            "The parameter MasterUserPassword is not valid. It must be 8 to 64 printable ASCII characters \
             (not ', \", \\, / or @) with at least one uppercase letter, one lowercase letter and one digit.",
        ))
    }
}

pub(crate) fn check_port_for(port: i32, node_type: &str) -> Result<(), CommonError> {
    let ok = if node_type.starts_with("dc2.") {
        (1150..=65535).contains(&port)
    } else {
        (5431..=5455).contains(&port) || (8191..=8215).contains(&port)
    };
    if ok {
        Ok(())
    } else {
        Err(ipv(format!(
            "The port {port} is not valid for node type {node_type}."
        )))
    }
}

pub(crate) fn check_node_type(node_type: &str) -> Result<(), CommonError> {
    if rules::NODE_TYPES.contains(&node_type) {
        Ok(())
    } else {
        Err(ipv(format!("Invalid node type: {node_type}")))
    }
}

/// Node count and cluster type, checked together (`ClusterType` defaults from the count).
pub(crate) fn node_layout(
    cluster_type: Option<&str>,
    nodes: Option<i32>,
) -> Result<(String, i32), CommonError> {
    let n = nodes.unwrap_or(1);
    if !(1..=100).contains(&n) {
        return Err(ipv(format!(
            "Number of nodes {n} is not valid: it must be between 1 and 100."
        )));
    }
    match cluster_type {
        None => Ok((
            if n == 1 { "single-node" } else { "multi-node" }.to_owned(),
            n,
        )),
        Some("single-node") if n == 1 => Ok(("single-node".to_owned(), 1)),
        Some("multi-node") if n >= 2 => Ok(("multi-node".to_owned(), n)),
        Some("multi-node") => Err(ipv(
            "Number of nodes for cluster type multi-node must be greater than or equal to 2",
        )),
        Some(t) => Err(ipv(format!("Invalid cluster type {t} for {n} node(s)."))),
    }
}

/// The parts of a cluster view every new cluster (created or restored) shares.
pub(crate) fn base_cluster(scope: &Scope, id: &str, seed: &str) -> Cluster {
    let h = rules::digest(&[&scope.account, &scope.region, id, seed]);
    let ns = format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 20) & 0xfff,
        rules::digest(&[seed, id]) & 0xffff_ffff_ffff
    );
    Cluster {
        cluster_identifier: Some(id.to_owned()),
        cluster_status: Some("creating".into()),
        cluster_availability_status: Some("Modifying".into()),
        cluster_security_groups: Some(Vec::new()),
        vpc_security_groups: Some(vec![VpcSecurityGroupMembership {
            vpc_security_group_id: Some(format!("sg-{:08x}", h as u32)),
            status: Some("active".into()),
        }]),
        cluster_parameter_groups: Some(vec![ClusterParameterGroupStatus {
            parameter_group_name: Some("default.redshift-1.0".into()),
            parameter_apply_status: Some("in-sync".into()),
            ..Default::default()
        }]),
        cluster_subnet_group_name: Some("default".into()),
        vpc_id: Some(format!("vpc-{:08x}", (h >> 32) as u32)),
        pending_modified_values: Some(PendingModifiedValues {
            master_user_password: Some("****".into()),
            ..Default::default()
        }),
        cluster_version: Some("1.0".into()),
        cluster_nodes: Some(Vec::new()),
        cluster_revision_number: Some("100000".into()),
        deferred_maintenance_windows: Some(Vec::new()),
        cluster_namespace_arn: Some(scope.arn(&format!("namespace:{ns}"))),
        multi_az: Some("Disabled".into()),
        iam_roles: Some(Vec::new()),
        ..Default::default()
    }
}
