//! Exported snapshots under concurrent writes, cluster dump → restore, and restore_table.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tidemark_postgres::{PgError, cluster_database_dir};

mod common;
use common::{instance, open_tempdir, scalar};

/// Commits numbered one-row transactions into `seq` of `db` until told to stop; `acked` is
/// the last number whose commit returned.
fn numbered_writer(
    inst: &tidemark_postgres::Instance,
    db: &str,
    acked: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    inst.execute(db, "CREATE TABLE seq (n bigint PRIMARY KEY)")
        .expect("ddl");
    let mut c = inst.connect(db).expect("writer session");
    std::thread::spawn(move || {
        let mut n = 0u64;
        while !stop.load(Ordering::SeqCst) && n < 100_000 {
            n += 1;
            c.batch_execute(&format!("INSERT INTO seq VALUES ({n})"))
                .expect("insert");
            acked.store(n, Ordering::SeqCst);
        }
    })
}

/// Each database's dump holds exactly the transactions committed before the export: a
/// prefix 1..=k of the numbered commits, with every commit acknowledged before the export
/// and none begun after it returned, while writers keep committing throughout.
#[test]
fn snapshots_of_every_database_are_taken_together_as_of_the_request() {
    let inst = instance();
    let dbs = ["a", "b"];
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    let mut acked = Vec::new();
    for db in dbs {
        inst.ensure_database(db, "rdsdb").expect("db");
        let a = Arc::new(AtomicU64::new(0));
        writers.push(numbered_writer(&inst, db, a.clone(), stop.clone()));
        acked.push(a);
    }
    let wait_for = |a: &AtomicU64, n: u64| {
        while a.load(Ordering::SeqCst) < n {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    };
    acked.iter().for_each(|a| wait_for(a, 30));
    let before: Vec<u64> = acked.iter().map(|a| a.load(Ordering::SeqCst)).collect();
    let snaps = inst.export_all_snapshots().expect("export all");
    let after: Vec<u64> = acked.iter().map(|a| a.load(Ordering::SeqCst)).collect();
    let names: Vec<&str> = snaps.iter().map(|s| s.db()).collect();
    assert_eq!(names, ["a", "b", "postgres"]);
    for (a, n) in acked.iter().zip(&after) {
        wait_for(a, n + 60); // both databases move well past their snapshot
    }
    let out = open_tempdir();
    let target = instance();
    for (i, db) in dbs.iter().enumerate() {
        let dir = out.path().join(db);
        inst.dump_database(&snaps[i], &dir).expect("dump");
        target.restore_database(db, &dir).expect("restore");
        let k: u64 = scalar(&target, db, "SELECT count(*) FROM seq")
            .parse()
            .expect("n");
        let sum: u64 = scalar(&target, db, "SELECT sum(n) FROM seq")
            .parse()
            .expect("n");
        assert_eq!(sum, k * (k + 1) / 2, "{db}: a prefix without gaps");
        let total: u64 = scalar(&inst, db, "SELECT count(*) FROM seq")
            .parse()
            .expect("n");
        assert!(
            total >= after[i] + 60,
            "{db}: writes went on past the snapshot"
        );
        assert!(
            before[i] <= k && k <= after[i] + 1,
            "{db}: {} <= {k} <= {} + 1",
            before[i],
            after[i]
        );
    }
    drop(snaps);
    stop.store(true, Ordering::SeqCst);
    writers.into_iter().for_each(|w| w.join().expect("writer"));
}

#[test]
fn a_bulk_restore_restarts_the_server_for_the_load_and_ends_with_the_usual_settings() {
    let src = instance();
    src.ensure_database("dev", "rdsdb").expect("dev");
    src.execute(
        "dev",
        "CREATE TABLE t (id int PRIMARY KEY, note text);
         INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 5000) g;",
    )
    .expect("data");
    let out = open_tempdir();
    let dump_dir = out.path().join("cluster");
    src.dump_cluster(&dump_dir).expect("dump cluster");

    // Every dump counts as big here, so the bulk path runs on a small one.
    let dir = open_tempdir();
    let mut cfg = tidemark_postgres::InstanceConfig::new(
        dir.path().join("data"),
        dir.path().join("sock"),
        common::template(),
    );
    cfg.bulk_load_min_bytes = 0;
    let mut dst = tidemark_postgres::Instance::start(common::bins(), cfg).expect("start");
    let before = dst.pid().expect("running");
    dst.restore_cluster_bulk(&dump_dir).expect("bulk restore");
    assert_ne!(
        dst.pid(),
        Some(before),
        "the server was restarted for the load"
    );
    assert_eq!(scalar(&dst, "postgres", "SHOW wal_level"), "replica");
    assert_eq!(scalar(&dst, "postgres", "SHOW max_wal_senders"), "2");
    let q = "SELECT count(*) || ' ' || sum(id) || ' ' || sum(hashtext(note)::bigint) FROM t";
    assert_eq!(scalar(&dst, "dev", q), scalar(&src, "dev", q));
    // And they are there after another restart with the usual settings.
    dst.stop().expect("stop");
    dst.ensure_running().expect("start again");
    assert_eq!(scalar(&dst, "dev", q), scalar(&src, "dev", q));
    drop(dst);
    drop(dir);
}

#[test]
fn cluster_dump_restores_every_database_and_role() {
    let src = instance();
    src.ensure_login_role("alice", false).expect("role");
    src.ensure_database("dev", "alice").expect("dev");
    src.ensure_database("analytics", "rdsdb")
        .expect("analytics");
    src.execute(
        "dev",
        "SET ROLE alice;
         CREATE TABLE sales (id int PRIMARY KEY, amount numeric(12,2), sold date, note text);
         INSERT INTO sales SELECT g, g * 1.25, date '2024-01-01' + g % 365, repeat('x', g % 50)
           FROM generate_series(1, 20000) g;
         CREATE VIEW big AS SELECT * FROM sales WHERE amount > 100;",
    )
    .expect("dev data");
    src.execute(
        "analytics",
        "CREATE SCHEMA s; CREATE TABLE s.e (k text, v double precision);
         INSERT INTO s.e VALUES ('a', 0.5), ('b', NULL), ('ü', -1e300);",
    )
    .expect("analytics data");

    let out = open_tempdir();
    let dump_dir = out.path().join("cluster");
    let dumped = src.dump_cluster(&dump_dir).expect("dump cluster");
    assert_eq!(dumped.databases, ["analytics", "dev", "postgres"]);
    // Uncompressed directory format: each table's rows in a plain file.
    let dev_dir = cluster_database_dir(&dump_dir, "dev");
    assert!(dev_dir.join("toc.dat").exists());
    assert!(
        std::fs::read_dir(&dev_dir).expect("ls").any(|e| e
            .expect("e")
            .path()
            .extension()
            .is_some_and(|x| x == "dat"))
    );

    let dst = instance();
    let restored = dst.restore_cluster(&dump_dir).expect("restore cluster");
    assert_eq!(restored.databases, dumped.databases);
    assert_eq!(restored.bytes, dumped.bytes);
    assert!(
        dumped.bytes > 500_000,
        "{} bytes for 20,000 rows",
        dumped.bytes
    );
    for sql in [
        "SELECT count(*) || ' ' || sum(amount) || ' ' || sum(sold - date '2024-01-01') || ' ' || sum(length(note)) FROM sales",
        "SELECT count(*) FROM big",
        "SELECT tableowner FROM pg_tables WHERE tablename = 'sales'",
        "SELECT tidemark_probe()",
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()",
    ] {
        assert_eq!(scalar(&dst, "dev", sql), scalar(&src, "dev", sql), "{sql}");
    }
    assert_eq!(
        scalar(
            &dst,
            "dev",
            "SELECT tableowner FROM pg_tables WHERE tablename = 'sales'"
        ),
        "alice"
    );
    let q = "SELECT string_agg(k || '=' || coalesce(v::text, 'null'), ',' ORDER BY k) FROM s.e";
    assert_eq!(scalar(&dst, "analytics", q), scalar(&src, "analytics", q));

    // Restoring twice into the same database fails loudly and changes nothing.
    let again = dst
        .restore_database("dev", &dev_dir)
        .expect_err("tables exist");
    assert!(again.to_string().contains("already exists"), "{again}");
    assert_eq!(scalar(&dst, "dev", "SELECT count(*) FROM sales"), "20000");
}

#[test]
fn restore_table_under_a_new_name() {
    let inst = instance();
    inst.execute(
        "postgres",
        "CREATE SCHEMA app; CREATE TABLE app.customers (id int PRIMARY KEY);
         CREATE TABLE app.orders (id int PRIMARY KEY, total numeric(10,2) NOT NULL DEFAULT 0,
           line int GENERATED BY DEFAULT AS IDENTITY, batch serial,
           customer int REFERENCES app.customers (id));
         CREATE INDEX orders_total ON app.orders (total);
         CREATE TABLE app.refs (order_id int REFERENCES app.orders (id));
         INSERT INTO app.orders SELECT g, g / 4.0 FROM generate_series(1, 5000) g;
         CREATE TABLE other (x int); INSERT INTO other VALUES (1);",
    )
    .expect("data");
    let snap = inst.export_snapshot("postgres").expect("snapshot");
    let out = open_tempdir();
    let dump = out.path().join("d");
    inst.dump_database(&snap, &dump).expect("dump");
    drop(snap);
    inst.execute(
        "postgres",
        "DELETE FROM app.orders WHERE id > 10; DROP TABLE other",
    )
    .expect("change after the snapshot");

    // A scratch database left by a tidemark that died mid-restore: hidden, then dropped.
    inst.execute("postgres", "CREATE DATABASE tidemark_scratch_999999999_0")
        .expect("leftover");
    assert_eq!(inst.databases().expect("list"), ["postgres"]);
    inst.restore_table("postgres", &dump, "app", "orders", "public", "orders_back")
        .expect("restore under a new name and schema");
    assert_eq!(
        scalar(
            &inst,
            "postgres",
            "SELECT count(*) || ' ' || sum(total) FROM public.orders_back"
        ),
        "5000 3125625.00"
    );
    // The definition came along: the primary key and the default.
    inst.execute(
        "postgres",
        "INSERT INTO public.orders_back (id) VALUES (5001)",
    )
    .expect("default applies");
    let dup = inst
        .execute("postgres", "INSERT INTO public.orders_back VALUES (1, 1)")
        .expect_err("primary key kept");
    assert_eq!(dup.sqlstate(), Some("23505"));
    // Identity and serial sequences came along, renamed after the new table, and continue
    // where the snapshot left them; so did the index.
    assert_eq!(
        scalar(
            &inst,
            "postgres",
            "SELECT line || ' ' || batch FROM public.orders_back WHERE id = 5001"
        ),
        "5001 5001"
    );
    assert_eq!(
        scalar(
            &inst,
            "postgres",
            "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relname LIKE 'orders_back%'"
        ),
        "orders_back,orders_back_batch_seq,orders_back_line_seq,orders_back_pkey,orders_back_total"
    );
    // Its foreign key is not carried: the referenced table is not restored with it.
    assert_eq!(
        scalar(
            &inst,
            "postgres",
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.orders_back'::regclass AND contype = 'f'"
        ),
        "0"
    );
    // The live table is untouched.
    assert_eq!(
        scalar(&inst, "postgres", "SELECT count(*) FROM app.orders"),
        "10"
    );

    // Same name, now free: a dropped table comes back.
    inst.restore_table("postgres", &dump, "public", "other", "public", "other")
        .expect("same name");
    assert_eq!(scalar(&inst, "postgres", "SELECT sum(x) FROM other"), "1");

    match inst.restore_table("postgres", &dump, "app", "orders", "app", "orders") {
        Err(PgError::TargetExists { table, .. }) => assert_eq!(table, "orders"),
        other => panic!("expected TargetExists, got {other:?}"),
    }
    match inst.restore_table("postgres", &dump, "app", "nope", "app", "nope2") {
        Err(PgError::TableNotInDump { table, .. }) => assert_eq!(table, "nope"),
        other => panic!("expected TableNotInDump, got {other:?}"),
    }
    match inst.restore_table("postgres", &dump, "app", "orders", "missing", "x") {
        Err(PgError::SchemaMissing { schema, .. }) => assert_eq!(schema, "missing"),
        other => panic!("expected SchemaMissing, got {other:?}"),
    }
    // No scratch database is left behind.
    assert_eq!(
        scalar(
            &inst,
            "postgres",
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'tidemark_scratch%'"
        ),
        "0"
    );
}
