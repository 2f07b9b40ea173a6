//! Shared test helpers: the real PostgreSQL binaries, a shared template, open temp dirs.
#![allow(dead_code)] // each test binary uses a different subset

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::OnceLock;

use tidemark_postgres::{Instance, InstanceConfig, PgBinaries, Template};

/// What every test template installs: proves setup SQL reaches databases made later.
pub const SETUP_SQL: &str =
    "CREATE FUNCTION pg_catalog.tidemark_probe() RETURNS int LANGUAGE sql AS 'SELECT 42';";

pub fn bins() -> &'static PgBinaries {
    static B: OnceLock<PgBinaries> = OnceLock::new();
    B.get_or_init(|| {
        PgBinaries::discover(None).expect("PostgreSQL 13+ must be installed for these tests")
    })
}

/// A temp dir the postgres account can traverse (tempfile makes them 0700 root).
pub fn open_tempdir() -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("tmpg-")
        .tempdir_in("/tmp")
        .expect("create a temp dir in /tmp");
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod temp dir");
    d
}

/// The tests' template, in a fixed directory under /tmp shared by every test binary and run:
/// `Template::ensure` is idempotent and safe under concurrent builders, which this exercises.
pub fn template() -> &'static PathBuf {
    static T: OnceLock<PathBuf> = OnceLock::new();
    T.get_or_init(|| {
        let root = PathBuf::from("/tmp/tidemark-postgres-test-templates");
        std::fs::create_dir_all(&root).expect("create the shared template root");
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))
            .expect("chmod template root");
        Template::ensure(bins(), &root, SETUP_SQL).expect("build the template")
    })
}

/// A started instance and its temp dir; fields drop in order, so the server stops before
/// its directory is removed.
pub struct Running {
    pub inst: Instance,
    pub dir: tempfile::TempDir,
}

impl std::ops::Deref for Running {
    type Target = Instance;
    fn deref(&self) -> &Instance {
        &self.inst
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Instance {
        &mut self.inst
    }
}

/// A started instance in a fresh temp dir.
pub fn instance() -> Running {
    let dir = open_tempdir();
    let cfg = InstanceConfig::new(dir.path().join("data"), dir.path().join("sock"), template());
    let inst = Instance::start(bins(), cfg).expect("start an instance");
    Running { inst, dir }
}

/// The single value of a one-row, one-column query.
pub fn scalar(inst: &Instance, db: &str, sql: &str) -> String {
    let rows = inst.query(db, sql).expect("query runs");
    assert_eq!(rows.len(), 1, "one row from {sql}");
    rows[0][0].clone().expect("not NULL")
}
