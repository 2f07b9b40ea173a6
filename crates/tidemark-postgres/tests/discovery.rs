//! Discovery order and the version check, over fake bin directories of shell scripts.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tidemark_postgres::{DiscoverEnv, NOT_FOUND_HINT, PgBinaries, PgError};

mod common;

const TOOLS: [&str; 5] = ["initdb", "postgres", "pg_dump", "pg_dumpall", "pg_restore"];

fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod script");
}

/// A directory with every tool; `postgres --version` reports `version`.
fn fake_bin(root: &Path, name: &str, version: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    for t in TOOLS {
        script(&dir.join(t), &format!("echo '{t} (PostgreSQL) {version}'"));
    }
    dir
}

fn env(root: &Path) -> DiscoverEnv {
    DiscoverEnv {
        tidemark_postgres_bin: None,
        path: Some(std::ffi::OsString::new()),
        versioned_root: root.join("versioned"),
    }
}

#[test]
fn explicit_dir_wins_and_is_not_second_guessed() {
    let t = tempfile::tempdir().expect("tempdir");
    let explicit = fake_bin(t.path(), "explicit", "16.2");
    let mut e = env(t.path());
    e.tidemark_postgres_bin = Some(fake_bin(t.path(), "envvar", "15.1").into());
    let b = PgBinaries::discover_in(Some(&explicit), &e).expect("explicit dir");
    assert_eq!((b.dir(), b.major()), (explicit.as_path(), 16));

    // An unusable explicit dir is an error naming it, not a silent fallback to $TIDEMARK_POSTGRES_BIN.
    let empty = t.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    match PgBinaries::discover_in(Some(&empty), &e) {
        Err(PgError::ExplicitDirUnusable {
            source_name,
            reason,
            ..
        }) => {
            assert_eq!(source_name, "--postgres-bin");
            assert!(reason.contains("missing initdb"), "{reason}");
        }
        other => panic!("expected ExplicitDirUnusable, got {other:?}"),
    }
}

#[test]
fn order_env_then_pg_config_then_path_then_versioned() {
    let t = tempfile::tempdir().expect("tempdir");
    let root = t.path();
    let envdir = fake_bin(root, "envvar", "15.1");
    let cfgdir = fake_bin(root, "from-pg-config", "14.3");
    let pathdir = fake_bin(root, "on-path", "13.9");
    let tools = root.join("tools");
    std::fs::create_dir_all(&tools).expect("mkdir");
    script(
        &tools.join("pg_config"),
        &format!("echo {}", cfgdir.display()),
    );
    // Versioned dirs: 9 is too old, 13 and 17 fine, "abc" ignored; numeric sort picks 17 over 9.
    for (v, ver) in [("9", "9.6.1"), ("13", "13.2"), ("17", "17.0")] {
        let d = fake_bin(&root.join("versioned"), v, ver);
        std::fs::rename(&d, root.join("versioned").join(format!("{v}-tmp"))).expect("rename");
        std::fs::create_dir_all(root.join("versioned").join(v)).expect("mkdir");
        std::fs::rename(
            root.join("versioned").join(format!("{v}-tmp")),
            root.join("versioned").join(v).join("bin"),
        )
        .expect("rename");
    }
    std::fs::create_dir_all(root.join("versioned/abc/bin")).expect("mkdir");

    let mut e = env(root);
    e.tidemark_postgres_bin = Some(envdir.clone().into());
    e.path = Some(std::env::join_paths([&tools, &pathdir]).expect("join"));
    assert_eq!(
        PgBinaries::discover_in(None, &e).expect("env").dir(),
        envdir
    );

    e.tidemark_postgres_bin = None;
    assert_eq!(
        PgBinaries::discover_in(None, &e).expect("pg_config").dir(),
        cfgdir
    );

    e.path = Some(std::env::join_paths([&pathdir]).expect("join"));
    assert_eq!(
        PgBinaries::discover_in(None, &e).expect("PATH").dir(),
        pathdir
    );

    e.path = Some(std::ffi::OsString::new());
    let b = PgBinaries::discover_in(None, &e).expect("versioned");
    assert_eq!(
        (b.dir(), b.major()),
        (root.join("versioned/17/bin").as_path(), 17)
    );
}

#[test]
fn too_old_versions_are_refused_with_the_install_hint() {
    let t = tempfile::tempdir().expect("tempdir");
    let old = fake_bin(t.path(), "old", "12.9");
    let mut e = env(t.path());
    e.path = Some(std::env::join_paths([&old]).expect("join"));
    let err = PgBinaries::discover_in(None, &e).expect_err("12 is too old");
    let msg = err.to_string();
    assert!(msg.starts_with(NOT_FOUND_HINT), "{msg}");
    assert!(msg.contains("version 12 is too old"), "{msg}");
    assert!(
        msg.contains("apt install postgresql") && msg.contains("--postgres-bin DIR"),
        "{msg}"
    );

    let explicit = PgBinaries::discover_in(Some(&old), &e).expect_err("explicit 12 refused too");
    assert!(explicit.to_string().contains("too old"), "{explicit}");
}

#[test]
fn nothing_found_names_what_to_install() {
    let t = tempfile::tempdir().expect("tempdir");
    let err = PgBinaries::discover_in(None, &env(t.path())).expect_err("nothing there");
    assert_eq!(err.to_string(), NOT_FOUND_HINT);
}

#[test]
fn the_real_installation_is_found() {
    let b = common::bins();
    assert!(b.major() >= 13, "{}", b.version());
    assert!(b.version().contains("PostgreSQL"), "{}", b.version());
}
