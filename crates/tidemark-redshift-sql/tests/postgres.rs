//! Each Redshift construct run through `rewrite` against a real PostgreSQL 15 with COMPAT_SQL,
//! checking PostgreSQL's exact text output (reference: redshift-sql.md §4; AWS's SQL reference
//! for the expected values quoted in the comments).

mod common;

use common::pg;

#[test]
fn create_table_with_redshift_clauses_stores_rows() {
    let mut db = pg().fresh_db("ddl");
    db.exec(
        "CREATE TABLE sales (
            id BIGINT IDENTITY(100, 10) ENCODE az64,
            region VARCHAR(MAX) ENCODE zstd DISTKEY,
            note TEXT,
            amount DECIMAL(12,2) NOT NULL SORTKEY,
            doc SUPER,
            sold DATE DEFAULT SYSDATE
        ) DISTSTYLE KEY COMPOUND SORTKEY (amount, sold) BACKUP NO",
    );
    db.exec("INSERT INTO sales (region, note, amount, doc) VALUES ('eu', 'a', 10.50, JSON_PARSE('{\"k\": [1, 2]}')), ('us', NULL, 2.25, NULL)");
    // IDENTITY(seed, step): 100, 110.
    assert_eq!(
        db.text("SELECT listagg(id, ',') WITHIN GROUP (ORDER BY id) FROM sales"),
        "100,110"
    );
    // DECIMAL keeps its scale through arithmetic.
    assert_eq!(db.text("SELECT sum(amount) FROM sales"), "12.75");
    assert_eq!(
        db.text("SELECT doc->'k'->>1 FROM sales WHERE region = 'eu'"),
        "2"
    );
    assert_eq!(
        db.text("SELECT count(*) FROM sales WHERE sold = current_date"),
        "2"
    );
    // VARCHAR(MAX) holds 65535 characters; TEXT is VARCHAR(256) as in Redshift.
    db.exec("INSERT INTO sales (region, amount) VALUES (repeat('x', 65535), 1)");
    let err = db
        .run("INSERT INTO sales (note, amount) VALUES (repeat('x', 257), 1)")
        .unwrap_err();
    assert!(err.contains("too long"), "{err}");
    assert_eq!(
        db.text("SELECT type FROM pg_table_def WHERE tablename = 'sales' AND \"column\" = 'note'"),
        "character varying(256)"
    );
}

#[test]
fn create_table_as_and_like_and_temp() {
    let mut db = pg().fresh_db("ctas");
    db.exec("CREATE TABLE src (a INT IDENTITY(1,1), b VARCHAR(10) DEFAULT 'z') DISTSTYLE ALL");
    db.exec("INSERT INTO src (b) VALUES ('p'), ('q')");
    db.exec("CREATE TABLE copy1 DISTKEY(a) SORTKEY(a) AS SELECT * FROM src");
    db.exec("CREATE TABLE copy2 (LIKE src INCLUDING DEFAULTS) DISTSTYLE EVEN");
    db.exec("INSERT INTO copy2 (a) VALUES (7)");
    db.exec("CREATE TEMP TABLE scratch (x INT ENCODE raw) DISTSTYLE EVEN SORTKEY AUTO");
    assert_eq!(db.text("SELECT count(*) FROM copy1"), "2");
    assert_eq!(db.text("SELECT b FROM copy2"), "z");
    assert_eq!(db.text("SELECT count(*) FROM scratch"), "0");
    // Redshift's #name tables are the session's temporary tables.
    db.exec("CREATE TABLE #stage (a INT ENCODE zstd) DISTSTYLE EVEN; INSERT INTO #stage VALUES (1), (2)");
    db.exec("SELECT a * 10 AS b INTO #copy FROM #stage");
    assert_eq!(db.text("SELECT sum(b) FROM #copy"), "30");
    assert_eq!(
        db.text("SELECT string_agg(relname || ':' || relpersistence::text, ' ' ORDER BY relname) FROM pg_class WHERE relname LIKE '#%'"),
        "#copy:t #stage:t"
    );
    // IDENTITY(0, 1) and a descending IDENTITY(10, -5) start where Redshift starts them.
    db.exec("CREATE TABLE ids (z INT IDENTITY(0, 1), d INT IDENTITY(10, -5), v INT)");
    db.exec("INSERT INTO ids (v) VALUES (1), (2)");
    assert_eq!(
        db.text("SELECT string_agg(z || ':' || d, ' ' ORDER BY v) FROM ids"),
        "0:10 1:5"
    );
}

#[test]
fn alter_table_physical_design_is_accepted() {
    let mut db = pg().fresh_db("alter");
    db.exec("CREATE TABLE t (a INT, b VARCHAR(5))");
    for sql in [
        "ALTER TABLE t ALTER DISTSTYLE EVEN",
        "ALTER TABLE t ALTER DISTKEY a",
        "ALTER TABLE t ALTER INTERLEAVED SORTKEY (a, b)",
        "ALTER TABLE t ALTER SORTKEY NONE",
        "ALTER TABLE t ALTER COLUMN b ENCODE zstd",
        "ALTER TABLE t ADD COLUMN c VARCHAR(MAX) ENCODE lzo",
        "ALTER TABLE t RENAME COLUMN a TO a2",
        "ALTER TABLE t RENAME TO t2",
    ] {
        db.exec(sql);
    }
    assert_eq!(
        db.text("SELECT string_agg(\"column\" || ' ' || type, ', ' ORDER BY \"column\") FROM pg_table_def WHERE tablename = 't2'"),
        "a2 integer, b character varying(5), c character varying(65535)"
    );
    // The no-op still names the table: a missing one is PostgreSQL's error.
    let err = db.run("ALTER TABLE nope ALTER DISTSTYLE ALL").unwrap_err();
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn late_binding_view() {
    let mut db = pg().fresh_db("views");
    db.exec("CREATE TABLE t (a INT); INSERT INTO t VALUES (1), (2)");
    db.exec("CREATE VIEW v AS SELECT sum(a) AS s FROM public.t WITH NO SCHEMA BINDING");
    assert_eq!(db.text("SELECT s FROM v"), "3");
}

#[test]
fn dateadd_and_datediff() {
    let mut db = pg().fresh_db("dates");
    // AWS: DATEADD(month, 1, '2008-01-31') is 2008-02-29 (the month's end), a TIMESTAMP.
    assert_eq!(
        db.text("SELECT DATEADD(month, 1, '2008-01-31'::date)"),
        "2008-02-29 00:00:00"
    );
    assert_eq!(
        db.text("SELECT dateadd(qtr, -1, '2008-05-15 10:00'::timestamp)"),
        "2008-02-15 10:00:00"
    );
    assert_eq!(
        db.text("SELECT dateadd('d', 40, '2008-12-31')"),
        "2009-02-09 00:00:00"
    );
    assert_eq!(
        db.text("SELECT dateadd(ms, 1500, '2008-01-01')"),
        "2008-01-01 00:00:01.5"
    );
    // DATEDIFF counts boundaries crossed (AWS's examples).
    assert_eq!(
        db.text("SELECT datediff(year, '2008-12-31', '2009-01-01')"),
        "1"
    );
    assert_eq!(
        db.text("SELECT datediff(week, '2009-01-01', '2009-12-31')"),
        "52"
    );
    assert_eq!(
        db.text("SELECT datediff(hour, '2023-01-01', '2023-01-03 05:04:03')"),
        "53"
    );
    assert_eq!(
        db.text("SELECT datediff(hours, '2009-01-01 08:30:00', '2009-01-01 10:00:00')"),
        "2"
    );
    assert_eq!(
        db.text("SELECT datediff(days, '2008-06-01', '2008-07-04')"),
        "33"
    );
    assert_eq!(
        db.text("SELECT datediff(qtr, '1998-07-01', '2008-03-01')"),
        "38"
    );
    assert_eq!(
        db.text("SELECT datediff(month, '2009-01-31'::date, '2008-12-01'::date)"),
        "-1"
    );
    assert_eq!(
        db.text("SELECT datediff(min, '2009-01-01 00:00:59', '2009-01-01 00:01:00')"),
        "1"
    );
    // ADD_MONTHS keeps month ends at month ends (AWS's example), TRUNC and LAST_DAY give dates.
    assert_eq!(
        db.text("SELECT add_months('2008-02-29'::date, 1)"),
        "2008-03-31 00:00:00"
    );
    assert_eq!(
        db.text("SELECT add_months('2008-01-15 10:00'::timestamp, -2)"),
        "2007-11-15 10:00:00"
    );
    assert_eq!(db.text("SELECT last_day('2008-02-10'::date)"), "2008-02-29");
    assert_eq!(
        db.text("SELECT trunc('2011-07-21 10:32:38'::timestamp)"),
        "2011-07-21"
    );
    assert_eq!(
        db.text("SELECT months_between('1969-03-18', '1969-01-18')"),
        "2"
    );
    assert_eq!(
        db.text("SELECT months_between('1969-02-28', '1969-01-31')"),
        "1"
    );
    assert_eq!(db.text("SELECT CONVERT(decimal(5,2), '3.14159')"), "3.14");
    let err = db
        .run("SELECT datediff('fortnight', '2009-01-01', '2009-01-02')")
        .unwrap_err();
    assert!(err.contains("fortnight"), "{err}");
}

#[test]
fn date_parts_with_bare_words_and_abbreviations() {
    let mut db = pg().fresh_db("parts");
    // 2008-12-14 was a Sunday: dow 0, as in Redshift.
    assert_eq!(db.text("SELECT date_part(dow, '2008-12-14'::date)"), "0");
    assert_eq!(db.text("SELECT date_part(dw, '2008-12-14'::date)"), "0");
    assert_eq!(db.text("SELECT date_part(doy, '2008-12-14'::date)"), "349");
    assert_eq!(db.text("SELECT extract(qtr FROM '2008-12-14'::date)"), "4");
    assert_eq!(
        db.text("SELECT extract(weekday FROM '2008-12-14'::date)"),
        "0"
    );
    assert_eq!(
        db.text("SELECT date_trunc('qtr', '2008-12-14 10:00'::timestamp)"),
        "2008-10-01 00:00:00"
    );
    assert_eq!(
        db.text("SELECT date_trunc('week', '2008-12-14'::date)"),
        "2008-12-08 00:00:00+00"
    );
}

#[test]
fn now_functions_and_version() {
    let mut db = pg().fresh_db("now");
    assert_eq!(
        db.text("SELECT pg_typeof(getdate())::text"),
        "timestamp without time zone"
    );
    assert_eq!(
        db.text("SELECT getdate() = date_trunc('second', getdate())"),
        "t"
    );
    assert_eq!(db.text("SELECT sysdate = now()::timestamp"), "t");
    assert_eq!(
        db.text("SELECT version()"),
        tidemark_redshift_sql::REDSHIFT_VERSION
    );
    assert_eq!(
        db.text("SELECT convert_timezone('US/Pacific', '2008-06-01 12:00:00'::timestamp)"),
        "2008-06-01 05:00:00"
    );
    assert_eq!(
        db.text("SELECT convert_timezone('UTC', 'Asia/Tokyo', '2008-06-01 12:00:00'::timestamp)"),
        "2008-06-01 21:00:00"
    );
}

#[test]
fn conditional_and_string_functions() {
    let mut db = pg().fresh_db("cond");
    db.exec("CREATE TABLE t (k INT, s VARCHAR(20), c CHAR(6))");
    db.exec("INSERT INTO t VALUES (1, 'one', 'ab  '), (2, NULL, 'abc'), (3, 'three', NULL)");
    // DECODE with a default, and without one (NULL).
    assert_eq!(
        db.text("SELECT listagg(decode(k, 1, 'uno', 2, 'dos', 'otro'), ',') WITHIN GROUP (ORDER BY k) FROM t"),
        "uno,dos,otro"
    );
    assert_eq!(
        db.value("SELECT decode(k, 1, 'uno') FROM t WHERE k = 3"),
        None
    );
    assert_eq!(
        db.text("SELECT listagg(nvl(s, 'none'), ',') WITHIN GROUP (ORDER BY k) FROM t"),
        "one,none,three"
    );
    assert_eq!(
        db.text("SELECT listagg(nvl2(s, 'set', 'unset'), ',') WITHIN GROUP (ORDER BY k) FROM t"),
        "set,unset,set"
    );
    // LEN ignores CHAR's trailing blanks; CHARINDEX is 1-based, 0 when absent.
    assert_eq!(db.text("SELECT len(c) FROM t WHERE k = 1"), "2");
    assert_eq!(db.text("SELECT len('héllo')"), "5");
    assert_eq!(db.text("SELECT charindex('dog', 'fish dog')"), "6");
    assert_eq!(db.text("SELECT charindex('cat', 'fish dog')"), "0");
    assert_eq!(
        db.text(
            "SELECT json_extract_path_text(s::varchar, 'a') FROM (SELECT '{\"a\":\"b\"}' AS s) x"
        ),
        "b"
    );
    assert_eq!(
        db.text("SELECT is_valid_json('{') ::text || is_valid_json('[1]')::text"),
        "falsetrue"
    );
}

#[test]
fn aggregates() {
    let mut db = pg().fresh_db("aggs");
    db.exec("CREATE TABLE t (g INT, v DECIMAL(8,2), i INT, f FLOAT8)");
    db.exec("INSERT INTO t VALUES (1, 1.50, 1, 1), (1, 2.50, 2, 2), (1, 9.75, 4, 4), (1, 3.25, 3, 3), (2, 5.00, 5, 5), (2, NULL, NULL, NULL)");
    // MEDIAN of an even count is the mean of the middle two (2.50 and 3.25 → 2.875), exact.
    assert_eq!(db.text("SELECT median(v) FROM t WHERE g = 1"), "2.875");
    assert_eq!(
        db.text("SELECT median(v) FROM t WHERE g = 1 AND v < 9"),
        "2.50"
    );
    assert_eq!(db.text("SELECT median(i) FROM t WHERE g = 1"), "2.5");
    assert_eq!(db.text("SELECT median(f) FROM t WHERE g = 1"), "2.5");
    assert_eq!(db.text("SELECT median(v) FROM t WHERE g = 2"), "5.00");
    assert_eq!(db.value("SELECT median(v) FROM t WHERE g = 3"), None);
    assert_eq!(
        db.text("SELECT string_agg(m::text, ',' ORDER BY g) FROM (SELECT DISTINCT g, median(i) OVER (PARTITION BY g) AS m FROM t) x"),
        "2.5,5"
    );
    assert_eq!(db.text("SELECT APPROXIMATE COUNT(DISTINCT g) FROM t"), "2");
    assert_eq!(
        db.text(
            "SELECT LISTAGG(DISTINCT g::varchar, '|') WITHIN GROUP (ORDER BY g::varchar) FROM t"
        ),
        "1|2"
    );
    assert_eq!(
        db.text("SELECT TOP 1 g FROM t ORDER BY v DESC NULLS LAST"),
        "1"
    );
    assert_eq!(
        db.text("SELECT count(*) FROM (SELECT TOP 3 * FROM t) x"),
        "3"
    );
}

#[test]
fn system_views() {
    let mut db = pg().fresh_db("sysviews");
    db.exec("CREATE SCHEMA s; CREATE TABLE s.big (a INT NOT NULL, b VARCHAR(8)) DISTKEY(a); CREATE TABLE s.empty (x INT)");
    db.exec("INSERT INTO s.big SELECT g, 'r' || g FROM generate_series(1, 1000) g");
    // PG_TABLE_DEF shows only what the search path reaches.
    assert_eq!(
        db.text("SELECT count(*) FROM pg_table_def WHERE schemaname = 's'"),
        "0"
    );
    db.exec("SET search_path TO s, public");
    assert_eq!(
        db.text("SELECT string_agg(tablename || '.' || \"column\" || ':' || type || ':' || \"notnull\", ' ' ORDER BY tablename, \"column\") FROM pg_table_def WHERE schemaname = 's'"),
        "big.a:integer:true big.b:character varying(8):false empty.x:integer:false"
    );
    // SVV_TABLE_INFO: exact row counts, sizes in 1 MB blocks, no empty tables (as in Redshift).
    assert_eq!(
        db.text("SELECT \"table\" || ':' || tbl_rows || ':' || size FROM svv_table_info WHERE schema = 's'"),
        "big:1000:1"
    );
    assert_eq!(
        db.text("SELECT string_agg(table_name || ':' || table_type, ' ' ORDER BY table_name) FROM svv_tables WHERE table_schema = 's'"),
        "big:BASE TABLE empty:BASE TABLE"
    );
    assert_eq!(
        db.text("SELECT string_agg(column_name || ':' || data_type || ':' || coalesce(character_maximum_length, 0), ' ' ORDER BY ordinal_position) FROM svv_columns WHERE table_name = 'big'"),
        "a:integer:0 b:character varying:8"
    );
    assert_eq!(
        db.text("SELECT count(*) FROM stv_sessions WHERE process = pg_backend_pid()"),
        "1"
    );
    assert_eq!(
        // Empty without the Endpoint, which writes its statement history for the view.
        db.text("SELECT count(*) FROM stl_query"),
        "0"
    );
    assert_eq!(db.text("SELECT count(*) FROM stl_load_errors"), "0");
    // The views redshift_connector's metadata calls read.
    assert_eq!(
        db.text("SELECT string_agg(database_name || '.' || schema_name || '.' || table_name || ':' || table_type, ' ' ORDER BY table_name) FROM svv_all_tables WHERE schema_name = 's'"),
        "sysviews.s.big:TABLE sysviews.s.empty:TABLE"
    );
    assert_eq!(
        db.text("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM svv_all_columns WHERE table_name = 'big'"),
        "a,b"
    );
    assert_eq!(
        db.text("SELECT schema_type FROM svv_all_schemas WHERE schema_name = 's'"),
        "local"
    );
    assert_eq!(
        db.text("SELECT count(*) FROM svv_redshift_databases WHERE database_name = 'sysviews'"),
        "1"
    );
}

#[test]
fn compat_objects_survive_search_path_and_drop_schema_public() {
    let mut db = pg().fresh_db("nopublic");
    db.exec("DROP SCHEMA public CASCADE; CREATE SCHEMA app; SET search_path TO app");
    db.exec("CREATE TABLE t (a INT ENCODE az64)");
    assert_eq!(
        db.text("SELECT nvl(len('abc'), 0) + datediff(day, '2020-01-01', '2020-01-03')"),
        "5"
    );
    assert_eq!(
        db.text("SELECT count(*) FROM pg_table_def WHERE tablename = 't'"),
        "1"
    );
}

#[test]
fn unsupported_statements_are_refused_before_postgres() {
    let mut db = pg().fresh_db("refused");
    let err = db
        .run("UNLOAD ('select 1') TO 's3://b/p' IAM_ROLE 'arn:aws:iam::123456789012:role/r'")
        .unwrap_err();
    assert!(err.contains("UNLOAD") && err.contains("0A000"), "{err}");
    let err = db
        .run("COPY t FROM 's3://b/k' IAM_ROLE 'arn:aws:iam::123456789012:role/r'")
        .unwrap_err();
    assert!(err.contains("s3://") && err.contains("0A000"), "{err}");
}

#[test]
fn table_attributes_show_in_pg_table_def_and_svv_table_info() {
    let mut db = pg().fresh_db("attrs");
    // Through the extended query protocol (one Parse message), as psycopg 3 and JDBC send it:
    // the attributes travel in a comment, not in a second statement.
    let ddl = "CREATE TABLE ev (id INT ENCODE az64 NOT NULL, kind VARCHAR(10) ENCODE zstd, \
               at TIMESTAMP, \"Note\" TEXT ENCODE lzo) DISTKEY(kind) INTERLEAVED SORTKEY(at, id, kind)";
    let sql = tidemark_redshift_sql::rewrite(ddl)
        .expect("accepted")
        .expect("rewritten");
    db.client
        .execute(sql.as_str(), &[])
        .expect("extended protocol CREATE TABLE");
    db.exec(
        "CREATE TABLE plain (x INT); CREATE TABLE k2 (a INT DISTKEY SORTKEY, b INT) DISTSTYLE KEY",
    );
    db.exec("INSERT INTO ev VALUES (1, 'a', '2024-01-01', 'n'); INSERT INTO plain VALUES (1); INSERT INTO k2 VALUES (1, 2)");
    assert_eq!(
        db.text("SELECT string_agg(tablename || '.' || \"column\" || ':' || trim(encoding) || ':' || distkey || ':' || sortkey, ' ' ORDER BY tablename, \"column\") FROM pg_table_def"),
        "ev.Note:lzo:false:0 ev.at:none:false:1 ev.id:az64:false:-2 ev.kind:zstd:true:3 \
         k2.a:none:true:1 k2.b:none:false:0 plain.x:none:false:0"
    );
    assert_eq!(
        db.text("SELECT string_agg(\"table\" || ':' || diststyle || ':' || coalesce(sortkey1, '-') || ':' || encoded || ':' || sortkey_num, ' ' ORDER BY \"table\") FROM svv_table_info"),
        "ev:KEY(kind):INTERLEAVED:Y:3 k2:KEY(a):a:N:1 plain:AUTO(EVEN):-:N:0"
    );
    // ALTER DISTKEY / SORTKEY / COLUMN … ENCODE change what is shown.
    db.exec("ALTER TABLE plain ALTER DISTKEY x; ALTER TABLE plain ALTER COLUMN x ENCODE bytedict");
    db.exec("ALTER TABLE k2 ALTER COMPOUND SORTKEY (b, a); ALTER TABLE k2 ALTER DISTSTYLE ALL");
    assert_eq!(
        db.text("SELECT string_agg(tablename || '.' || \"column\" || ':' || trim(encoding) || ':' || distkey || ':' || sortkey, ' ' ORDER BY tablename, \"column\") FROM pg_table_def WHERE tablename <> 'ev'"),
        "k2.a:none:false:2 k2.b:none:false:1 plain.x:bytedict:true:0"
    );
    assert_eq!(
        db.text("SELECT string_agg(\"table\" || ':' || diststyle, ' ' ORDER BY \"table\") FROM svv_table_info WHERE \"table\" <> 'ev'"),
        "k2:ALL plain:KEY(x)"
    );
    // Dropping a table forgets its attributes (k2 and plain keep theirs).
    db.exec("DROP TABLE ev");
    assert_eq!(
        db.text("SELECT count(*) FROM pg_catalog.redshift_table_attrs"),
        "2"
    );
}

/// sqlalchemy-redshift 1.0's reflection queries (sqlalchemy_redshift/dialect.py, MIT licence;
/// `REFLECTION_SQL` and the relation query, with its table clause filled in as
/// `inspector.get_columns("ev")` does): Redshift catalog columns, `WHERE 1 AND`, select-list
/// aliases in WHERE, late-binding view columns and Spectrum views must all answer.
#[test]
fn sqlalchemy_redshift_reflection_queries() {
    let mut db = pg().fresh_db("sqla");
    db.exec("CREATE TABLE ev (id INT IDENTITY(1,1) ENCODE az64, kind VARCHAR(10) ENCODE zstd DEFAULT 'x' NOT NULL) DISTSTYLE KEY DISTKEY(kind) SORTKEY(id)");
    let columns = r#"
    SELECT
        n.nspname as "schema",
        c.relname as "table_name",
        att.attname as "name",
        format_encoding(att.attencodingtype::integer) as "encode",
        format_type(att.atttypid, att.atttypmod) as "type",
        att.attisdistkey as "distkey",
        att.attsortkeyord as "sortkey",
        att.attnotnull as "notnull",
        pg_catalog.col_description(att.attrelid, att.attnum)
        as "comment",
        adsrc,
        attnum,
        pg_catalog.format_type(att.atttypid, att.atttypmod),
        pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) AS DEFAULT,
        n.oid as "schema_oid",
        c.oid as "table_oid"
    FROM pg_catalog.pg_class c
    LEFT JOIN pg_catalog.pg_namespace n
        ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attribute att
        ON att.attrelid = c.oid
    LEFT JOIN pg_catalog.pg_attrdef ad
        ON (att.attrelid, att.attnum) = (ad.adrelid, ad.adnum)
    WHERE n.nspname !~ '^pg_'
        AND att.attnum > 0
        AND NOT att.attisdropped
         AND table_name = 'ev'
    UNION
    SELECT
        view_schema as "schema",
        view_name as "table_name",
        col_name as "name",
        null as "encode",
        col_type as "type",
        null as "distkey",
        0 as "sortkey",
        null as "notnull",
        null as "comment",
        null as "adsrc",
        null as "attnum",
        col_type as "format_type",
        null as "default",
        null as "schema_oid",
        null as "table_oid"
    FROM pg_get_late_binding_view_cols() cols(
        view_schema name,
        view_name name,
        col_name name,
        col_type varchar,
        col_num int)
    WHERE 1  AND table_name = 'ev'
    UNION
    SELECT c.schemaname AS "schema",
        c.tablename AS "table_name",
        c.columnname AS "name",
        null AS "encode",
        c.external_type AS "type",
        false AS "distkey",
        0 AS "sortkey",
        null AS "notnull",
        null as "comment",
        null AS "adsrc",
        c.columnnum AS "attnum",
        c.external_type AS "format_type",
        null AS "default",
        s.esoid AS "schema_oid",
        null AS "table_oid"
    FROM svv_external_columns c
    JOIN svv_external_schemas s ON s.schemaname = c.schemaname
    WHERE 1  AND table_name = 'ev'
    ORDER BY "schema", "table_name", "attnum";
    "#;
    let rows = db.run(columns).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<String> = rows
        .iter()
        .map(|r| {
            [2, 3, 4, 5, 6, 7, 12]
                .iter()
                .map(|&k| r[k].clone().unwrap_or_else(|| "NULL".into()))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    assert_eq!(
        got,
        [
            "id|az64|integer|f|1|t|NULL",
            "kind|zstd|character varying(10)|t|0|t|'x'::character varying",
        ]
    );
    let relations = r#"
        SELECT
          c.relkind,
          n.oid as "schema_oid",
          n.nspname as "schema",
          c.oid as "rel_oid",
          c.relname,
          CASE c.reldiststyle
            WHEN 0 THEN 'EVEN' WHEN 1 THEN 'KEY' WHEN 8 THEN 'ALL' END
            AS "diststyle",
          c.relowner AS "owner_id",
          u.usename AS "owner_name",
          TRIM(TRAILING ';' FROM pg_catalog.pg_get_viewdef(c.oid, true))
            AS "view_definition",
          pg_catalog.array_to_string(c.relacl, '\n') AS "privileges"
        FROM pg_catalog.pg_class c
             LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_catalog.pg_user u ON u.usesysid = c.relowner
        WHERE c.relkind IN ('r', 'v', 'm', 'S', 'f')
          AND n.nspname !~ '^pg_'  AND relname = 'ev'
        UNION
        SELECT
            'r' AS "relkind",
            s.esoid AS "schema_oid",
            s.schemaname AS "schema",
            null AS "rel_oid",
            t.tablename AS "relname",
            null AS "diststyle",
            s.esowner AS "owner_id",
            u.usename AS "owner_name",
            null AS "view_definition",
            null AS "privileges"
        FROM
            svv_external_tables t
            JOIN svv_external_schemas s ON s.schemaname = t.schemaname
            JOIN pg_catalog.pg_user u ON u.usesysid = s.esowner
        where 1  AND relname = 'ev'
        ORDER BY "relkind", "schema_oid", "schema";
    "#;
    let rows = db.run(relations).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][4].as_deref(), Some("ev"));
    assert_eq!(rows[0][5].as_deref(), Some("KEY"));
}

/// dbt-redshift's materialisations: a database-qualified CTAS with the attributes before a
/// parenthesised query, and a late-binding view; the attributes still reach PG_TABLE_DEF.
#[test]
fn dbt_style_ctas_and_views() {
    let mut db = pg().fresh_db("dbtx");
    db.exec(
        "create table \"dbtx\".\"public\".\"orders__dbt_tmp\" diststyle key distkey(id) \
         compound sortkey(id, at) as (select 1 as id, '2024-01-01'::date as at)",
    );
    db.exec("alter table \"dbtx\".\"public\".\"orders__dbt_tmp\" rename to \"orders\"");
    db.exec(
        "create view \"dbtx\".\"public\".\"v\" as (select id from \"dbtx\".\"public\".\"orders\") \
         with no schema binding",
    );
    assert_eq!(db.text("select count(*) from v"), "1");
    assert_eq!(
        db.text("select string_agg(\"column\" || ':' || distkey || ':' || sortkey, ' ' order by \"column\") from pg_table_def where tablename = 'orders'"),
        "at:false:2 id:true:1"
    );
}
