-- Redshift compatibility objects, run once as a superuser in template1 after initdb.
--
-- Everything goes into pg_catalog. Why there: PostgreSQL searches pg_catalog first whatever
-- the session's search_path, so `SELECT getdate()` or `SELECT * FROM pg_table_def` work after
-- `SET search_path TO myschema` (which Redshift users do precisely to widen PG_TABLE_DEF) and
-- after `DROP SCHEMA public CASCADE`; pg_dump does not dump pg_catalog, so a dump restored
-- into a fresh template never collides with these objects. Functions may be created there by a
-- superuser; views need allow_system_table_mods, which a superuser may set for the session.
-- Function bodies are strings, not SQL-standard bodies, so that PostgreSQL 13 takes them too.
-- Names are Redshift's own, so no user object of the same name is shadowed in a way Redshift
-- would not shadow it too.

SET allow_system_table_mods = on;
SET search_path = pg_catalog;
SET check_function_bodies = on;

-- ---------------------------------------------------------------- scalar functions

-- GETDATE(): current date and time in the session time zone, to the second (AWS shows no
-- fractional seconds). Statement start, like Redshift's.
CREATE FUNCTION pg_catalog.getdate() RETURNS timestamp
LANGUAGE sql STABLE PARALLEL SAFE
AS $$SELECT date_trunc('second', statement_timestamp()::timestamp) $$;

-- SYSDATE (the rewriter turns the bare word into this call): transaction start, microseconds.
CREATE FUNCTION pg_catalog.sysdate() RETURNS timestamp
LANGUAGE sql STABLE PARALLEL SAFE
AS $$SELECT transaction_timestamp()::timestamp $$;

CREATE FUNCTION pg_catalog.redshift_version() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$SELECT 'PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 (Red Hat 3.4.2-6.fc3), Redshift 1.0.77467' $$;

-- LEN counts characters; CHAR(n) arguments lose their trailing blanks on the way to text, as
-- Redshift's LEN ignores them.
CREATE FUNCTION pg_catalog.len(text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$SELECT length($1) $$;

-- CHARINDEX(substring, string): 1-based position, 0 if absent.
CREATE FUNCTION pg_catalog.charindex(text, text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$SELECT strpos($2, $1) $$;

-- CONVERT_TIMEZONE([source,] target, timestamp): a timestamp without time zone is read in
-- `source` (UTC when omitted) and shown in `target`.
CREATE FUNCTION pg_catalog.convert_timezone(text, timestamp) RETURNS timestamp
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$SELECT ($2 AT TIME ZONE 'UTC') AT TIME ZONE $1 $$;

CREATE FUNCTION pg_catalog.convert_timezone(text, text, timestamp) RETURNS timestamp
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$SELECT ($3 AT TIME ZONE $1) AT TIME ZONE $2 $$;

-- JSON_PARSE(text) → SUPER, which is jsonb here.
CREATE FUNCTION pg_catalog.json_parse(text) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$SELECT $1::jsonb $$;

CREATE FUNCTION pg_catalog.is_valid_json(text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF $1 IS NULL THEN RETURN NULL; END IF;
  PERFORM $1::json;
  RETURN true;
EXCEPTION WHEN invalid_text_representation THEN
  RETURN false;
END $$;

-- Redshift's JSON_EXTRACT_PATH_TEXT takes a VARCHAR; PostgreSQL's wants json.
CREATE FUNCTION pg_catalog.json_extract_path_text(text, VARIADIC text[]) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$SELECT json_extract_path_text($1::json, VARIADIC $2) $$;

CREATE FUNCTION pg_catalog.redshift_bad_datepart(text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  RAISE EXCEPTION 'date part "%" is not supported here', $1 USING ERRCODE = '0A000';
END $$;

-- DATEADD(part, n, d): the rewriter quotes and canonicalises `part` (src/datepart.rs).
-- Month arithmetic clamps to the month's end as Redshift's does (Jan 31 + 1 month = Feb 29).
-- DATE arguments convert to TIMESTAMP, which is also Redshift's result type.
CREATE FUNCTION pg_catalog.dateadd(text, bigint, timestamp) RETURNS timestamp
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$SELECT $3 + $2 * CASE lower($1)
    WHEN 'millennium' THEN interval '1000 years'
    WHEN 'century' THEN interval '100 years'
    WHEN 'decade' THEN interval '10 years'
    WHEN 'year' THEN interval '1 year'
    WHEN 'quarter' THEN interval '3 months'
    WHEN 'month' THEN interval '1 month'
    WHEN 'week' THEN interval '7 days'
    WHEN 'day' THEN interval '1 day'
    WHEN 'hour' THEN interval '1 hour'
    WHEN 'minute' THEN interval '1 minute'
    WHEN 'second' THEN interval '1 second'
    WHEN 'milliseconds' THEN interval '1 millisecond'
    WHEN 'microseconds' THEN interval '1 microsecond'
    ELSE redshift_bad_datepart($1) * interval '0'
  END $$;

-- DATEDIFF(part, a, b): the number of `part` boundaries crossed from a to b (AWS: year
-- between 2008-12-31 and 2009-01-01 is 1; hour between 08:30 and 10:00 is 2). Weeks start
-- on Monday (date_trunc's ISO weeks). Exact: epoch differences are numeric.
CREATE FUNCTION pg_catalog.datediff(text, timestamp, timestamp) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$SELECT CASE lower($1)
    WHEN 'millennium' THEN extract(millennium FROM $3) - extract(millennium FROM $2)
    WHEN 'century' THEN extract(century FROM $3) - extract(century FROM $2)
    WHEN 'decade' THEN extract(decade FROM $3) - extract(decade FROM $2)
    WHEN 'year' THEN extract(year FROM $3) - extract(year FROM $2)
    WHEN 'quarter' THEN (extract(year FROM $3) * 4 + extract(quarter FROM $3))
                      - (extract(year FROM $2) * 4 + extract(quarter FROM $2))
    WHEN 'month' THEN (extract(year FROM $3) * 12 + extract(month FROM $3))
                    - (extract(year FROM $2) * 12 + extract(month FROM $2))
    WHEN 'week' THEN (date_trunc('week', $3)::date - date_trunc('week', $2)::date) / 7
    WHEN 'day' THEN $3::date - $2::date
    WHEN 'hour' THEN (extract(epoch FROM date_trunc('hour', $3))
                    - extract(epoch FROM date_trunc('hour', $2))) / 3600
    WHEN 'minute' THEN (extract(epoch FROM date_trunc('minute', $3))
                      - extract(epoch FROM date_trunc('minute', $2))) / 60
    WHEN 'second' THEN extract(epoch FROM date_trunc('second', $3))
                     - extract(epoch FROM date_trunc('second', $2))
    WHEN 'milliseconds' THEN (extract(epoch FROM date_trunc('milliseconds', $3))
                            - extract(epoch FROM date_trunc('milliseconds', $2))) * 1000
    WHEN 'microseconds' THEN (extract(epoch FROM $3) - extract(epoch FROM $2)) * 1000000
    ELSE redshift_bad_datepart($1)
  END $$;

-- TRUNC(timestamp) → DATE; PostgreSQL's trunc is numeric only.
CREATE FUNCTION pg_catalog.trunc(timestamp) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$SELECT $1::date $$;

-- LAST_DAY(d): the last day of d's month.
CREATE FUNCTION pg_catalog.last_day(timestamp) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$SELECT (date_trunc('month', $1) + interval '1 month - 1 day')::date $$;

-- ADD_MONTHS(d, n): like DATEADD(month, …), except that the last day of a month maps to the
-- last day of the resulting month (AWS: 2008-02-29 plus one month is 2008-03-31).
CREATE FUNCTION pg_catalog.add_months(timestamp, bigint) RETURNS timestamp
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$SELECT CASE
    WHEN $1::date = last_day($1)
      THEN date_trunc('month', $1) + ($2 + 1) * interval '1 month' - interval '1 day'
           + ($1 - date_trunc('day', $1))
    ELSE $1 + $2 * interval '1 month'
  END $$;

-- MONTHS_BETWEEN(a, b): whole months when both are the same day of the month or both month
-- ends, otherwise the day difference adds a fraction of a 31-day month (AWS's definition).
CREATE FUNCTION pg_catalog.months_between(timestamp, timestamp) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$SELECT ((extract(year FROM $1) - extract(year FROM $2)) * 12
           + extract(month FROM $1) - extract(month FROM $2)
           + CASE WHEN extract(day FROM $1) = extract(day FROM $2)
                    OR ($1::date = last_day($1) AND $2::date = last_day($2)) THEN 0
                  ELSE (extract(day FROM $1) - extract(day FROM $2)) / 31.0 END)::float8 $$;

-- ---------------------------------------------------------------- MEDIAN

-- MEDIAN(x): percentile_cont(0.5) semantics (the mean of the two middle values for an even
-- count), as an ordinary aggregate so that it also works as a window function. For DECIMAL the
-- result is exact and keeps at least the inputs' scale (median of 1.50 and 2.50 is 2.00).
-- The state is the values themselves: memory O(n), one O(n log n) sort at the end.
CREATE FUNCTION pg_catalog.redshift_median_numeric(numeric[]) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$SELECT (
  SELECT CASE
    WHEN n = 0 THEN NULL
    WHEN n % 2 = 1 THEN v[(n + 1) / 2]
    ELSE round((v[n / 2] + v[n / 2 + 1]) / 2,
               greatest(scale(trim_scale((v[n / 2] + v[n / 2 + 1]) / 2)),
                        scale(v[n / 2]), scale(v[n / 2 + 1])))
  END
  FROM (SELECT array_agg(x ORDER BY x) AS v, count(*)::int AS n
        FROM unnest($1) AS x WHERE x IS NOT NULL) s) $$;

CREATE FUNCTION pg_catalog.redshift_median_float8(float8[]) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$SELECT (
  SELECT CASE
    WHEN n = 0 THEN NULL
    WHEN n % 2 = 1 THEN v[(n + 1) / 2]
    ELSE (v[n / 2] + v[n / 2 + 1]) / 2
  END
  FROM (SELECT array_agg(x ORDER BY x) AS v, count(*)::int AS n
        FROM unnest($1) AS x WHERE x IS NOT NULL) s) $$;

-- The transition functions are PostgreSQL's own array_append under monomorphic names: called
-- directly by the aggregate it appends in place to its expanded-array state (O(1) amortised;
-- an SQL wrapper would copy the array on every row, O(n²)), and the polymorphic original is
-- refused as a transition function for non-exact element types. STRICT skips NULL inputs.
CREATE FUNCTION pg_catalog.redshift_median_add(numeric[], numeric) RETURNS numeric[]
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'array_append';
CREATE FUNCTION pg_catalog.redshift_median_add(float8[], float8) RETURNS float8[]
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'array_append';
CREATE FUNCTION pg_catalog.redshift_median_add(bigint[], bigint) RETURNS bigint[]
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'array_append';
CREATE FUNCTION pg_catalog.redshift_median_add(integer[], integer) RETURNS integer[]
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'array_append';
CREATE FUNCTION pg_catalog.redshift_median_add(smallint[], smallint) RETURNS smallint[]
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'array_append';

-- Integer medians are exact (a DECIMAL), as Redshift's are.
CREATE FUNCTION pg_catalog.redshift_median_int(bigint[]) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$SELECT redshift_median_numeric($1::numeric[]) $$;
CREATE FUNCTION pg_catalog.redshift_median_int(integer[]) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$SELECT redshift_median_numeric($1::numeric[]) $$;
CREATE FUNCTION pg_catalog.redshift_median_int(smallint[]) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$SELECT redshift_median_numeric($1::numeric[]) $$;

CREATE AGGREGATE pg_catalog.median(numeric) (
  SFUNC = redshift_median_add, STYPE = numeric[], FINALFUNC = redshift_median_numeric,
  INITCOND = '{}', PARALLEL = SAFE);
CREATE AGGREGATE pg_catalog.median(float8) (
  SFUNC = redshift_median_add, STYPE = float8[], FINALFUNC = redshift_median_float8,
  INITCOND = '{}', PARALLEL = SAFE);
CREATE AGGREGATE pg_catalog.median(bigint) (
  SFUNC = redshift_median_add, STYPE = bigint[], FINALFUNC = redshift_median_int,
  INITCOND = '{}', PARALLEL = SAFE);
CREATE AGGREGATE pg_catalog.median(integer) (
  SFUNC = redshift_median_add, STYPE = integer[], FINALFUNC = redshift_median_int,
  INITCOND = '{}', PARALLEL = SAFE);
CREATE AGGREGATE pg_catalog.median(smallint) (
  SFUNC = redshift_median_add, STYPE = smallint[], FINALFUNC = redshift_median_int,
  INITCOND = '{}', PARALLEL = SAFE);

-- ---------------------------------------------------------------- system views

-- Distribution style, keys and encodings of tables created with Redshift DDL. The rewriter
-- appends `/* tidemark:redshift {json} */` to such a CREATE TABLE (src/attrs.rs) and the event
-- trigger below files it under the new table's OID; tables created without those clauses have
-- no row and show Redshift's defaults. Kept in pg_catalog with the rest, out of users'
-- listings; a pg_dump skips it, so tidemark's snapshots carry it beside the dump by table
-- name and restores file it again (crates/tidemark/src/redshift_db/attrs.rs).
CREATE TABLE pg_catalog.redshift_table_attrs (
  relid oid PRIMARY KEY,
  diststyle text NOT NULL,
  distkey name,
  sortkey name[] NOT NULL,
  interleaved boolean NOT NULL,
  encodings jsonb NOT NULL
);

-- Best effort: a malformed or foreign marker never fails the user's DDL. Only a marker naming
-- the table just created is used (markers of other statements in the same text are ignored);
-- names are compared part by part after parse_ident's folding, not looked up, because this
-- SECURITY DEFINER function pins its own search_path.
CREATE FUNCTION pg_catalog.redshift_record_table_attrs() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
  q text := current_query();
  cmd record;
  m text[];
  j jsonb;
  parts text[];
BEGIN
  IF q IS NULL OR strpos(q, 'tidemark:redshift ') = 0 THEN
    RETURN;
  END IF;
  FOR cmd IN
    SELECT d.objid, c.relname::text AS rel, n.nspname::text AS nsp
    FROM pg_event_trigger_ddl_commands() d
    JOIN pg_class c ON c.oid = d.objid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE d.object_type = 'table'
  LOOP
    FOR m IN SELECT regexp_matches(q, '/\* tidemark:redshift (\{[^*]*\}) \*/', 'g') LOOP
      BEGIN
        j := m[1]::jsonb;
        parts := parse_ident(j->>'table');
        IF parts[cardinality(parts)] <> cmd.rel
           OR (cardinality(parts) > 1 AND parts[cardinality(parts) - 1] <> cmd.nsp) THEN
          NULL;  -- another statement's marker
        ELSIF coalesce((j->>'alter')::boolean, false) THEN
          -- ALTER … DISTSTYLE/DISTKEY/SORTKEY/ENCODE: merge the named fields.
          INSERT INTO redshift_table_attrs
          VALUES (cmd.objid, 'AUTO', NULL, '{}', false, '{}')
          ON CONFLICT (relid) DO NOTHING;
          UPDATE redshift_table_attrs t SET
            diststyle = coalesce(upper(j->>'diststyle'), t.diststyle),
            distkey = CASE WHEN j ? 'distkey' THEN (j->>'distkey')::name
                           WHEN j ? 'diststyle' THEN NULL ELSE t.distkey END,
            sortkey = CASE WHEN j ? 'sortkey'
                           THEN ARRAY(SELECT jsonb_array_elements_text(j->'sortkey'))::name[]
                           ELSE t.sortkey END,
            interleaved = coalesce((j->>'interleaved')::boolean, t.interleaved),
            encodings = t.encodings || coalesce(j->'encode', '{}')
          WHERE t.relid = cmd.objid;
        ELSE
          INSERT INTO redshift_table_attrs
          VALUES (cmd.objid, j->>'diststyle', j->>'distkey',
                  ARRAY(SELECT jsonb_array_elements_text(j->'sortkey'))::name[],
                  coalesce((j->>'interleaved')::boolean, false), coalesce(j->'encode', '{}'))
          ON CONFLICT (relid) DO UPDATE SET diststyle = EXCLUDED.diststyle,
            distkey = EXCLUDED.distkey, sortkey = EXCLUDED.sortkey,
            interleaved = EXCLUDED.interleaved, encodings = EXCLUDED.encodings;
        END IF;
      EXCEPTION WHEN OTHERS THEN
        NULL;
      END;
    END LOOP;
  END LOOP;
END $$;

CREATE EVENT TRIGGER redshift_record_table_attrs ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'ALTER TABLE')
  EXECUTE FUNCTION pg_catalog.redshift_record_table_attrs();

CREATE FUNCTION pg_catalog.redshift_forget_table_attrs() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
  DELETE FROM redshift_table_attrs
  WHERE relid IN (SELECT objid FROM pg_event_trigger_dropped_objects()
                  WHERE object_type = 'table');
END $$;

CREATE EVENT TRIGGER redshift_forget_table_attrs ON sql_drop
  WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA', 'DROP OWNED')
  EXECUTE FUNCTION pg_catalog.redshift_forget_table_attrs();

-- Redshift's extra catalog columns, which the rewriter turns into these calls
-- (pg_attribute.attencodingtype/attisdistkey/attsortkeyord, pg_class.reldiststyle), and
-- format_encoding(code). The encoding codes are ours: an index into this list.
CREATE FUNCTION pg_catalog.redshift_encodings() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$SELECT ARRAY['none', 'raw', 'az64', 'bytedict', 'delta', 'delta32k', 'lzo', 'mostly8',
                  'mostly16', 'mostly32', 'runlength', 'text255', 'text32k', 'zstd'] $$;

CREATE FUNCTION pg_catalog.format_encoding(integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$SELECT (pg_catalog.redshift_encodings())[$1 + 1] $$;

CREATE FUNCTION pg_catalog.redshift_attencodingtype(oid, smallint) RETURNS smallint
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$SELECT coalesce(array_position(pg_catalog.redshift_encodings(), t.encodings->>a.attname) - 1,
                     0)::smallint
      FROM pg_catalog.pg_attribute a
      LEFT JOIN pg_catalog.redshift_table_attrs t ON t.relid = a.attrelid
      WHERE a.attrelid = $1 AND a.attnum = $2 $$;

CREATE FUNCTION pg_catalog.redshift_attisdistkey(oid, smallint) RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$SELECT coalesce(t.distkey = a.attname, false)
      FROM pg_catalog.pg_attribute a
      LEFT JOIN pg_catalog.redshift_table_attrs t ON t.relid = a.attrelid
      WHERE a.attrelid = $1 AND a.attnum = $2 $$;

CREATE FUNCTION pg_catalog.redshift_attsortkeyord(oid, smallint) RETURNS integer
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$SELECT coalesce((SELECT CASE WHEN t.interleaved AND k.pos % 2 = 0 THEN -k.pos
                                  ELSE k.pos END::integer
                       FROM pg_catalog.redshift_table_attrs t,
                            unnest(t.sortkey) WITH ORDINALITY AS k(col, pos)
                       WHERE t.relid = a.attrelid AND k.col = a.attname), 0)
      FROM pg_catalog.pg_attribute a
      WHERE a.attrelid = $1 AND a.attnum = $2 $$;

-- Redshift's codes: 0 EVEN, 1 KEY, 8 ALL, 10 AUTO(EVEN) (the default for tables without
-- recorded attributes).
CREATE FUNCTION pg_catalog.redshift_reldiststyle(oid) RETURNS smallint
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$SELECT coalesce((SELECT CASE t.diststyle WHEN 'EVEN' THEN 0 WHEN 'KEY' THEN 1
                                              WHEN 'ALL' THEN 8 ELSE 10 END
                       FROM pg_catalog.redshift_table_attrs t WHERE t.relid = $1), 10)::smallint $$;

-- Late-binding views' columns (none: PostgreSQL binds every view) and Spectrum's external
-- schemas, tables and columns (none: no Spectrum), with the columns tools select.
CREATE FUNCTION pg_catalog.pg_get_late_binding_view_cols() RETURNS SETOF record
LANGUAGE sql STABLE PARALLEL SAFE
AS $$SELECT NULL::name, NULL::name, NULL::name, NULL::varchar, NULL::integer WHERE false $$;

CREATE VIEW pg_catalog.svv_external_schemas AS
SELECT NULL::oid AS esoid, NULL::integer AS eskind, NULL::name AS schemaname,
       NULL::integer AS esowner, NULL::text AS databasename, NULL::text AS esoptions
WHERE false;

CREATE VIEW pg_catalog.svv_external_tables AS
SELECT NULL::name AS schemaname, NULL::name AS tablename, NULL::text AS location,
       NULL::text AS input_format, NULL::text AS output_format,
       NULL::text AS serialization_lib, NULL::text AS serde_parameters,
       NULL::integer AS compressed, NULL::text AS parameters, NULL::text AS tabletype
WHERE false;

CREATE VIEW pg_catalog.svv_external_columns AS
SELECT NULL::name AS schemaname, NULL::name AS tablename, NULL::name AS columnname,
       NULL::text AS external_type, NULL::integer AS columnnum, NULL::integer AS part_key,
       NULL::text AS is_nullable
WHERE false;

-- PG_TABLE_DEF: one row per column of the tables visible through the search path (Redshift
-- shows only those). sortkey is the column's position in the sort key (alternating sign for an
-- interleaved key, as Redshift shows it), 0 if not in it.
CREATE VIEW pg_catalog.pg_table_def AS
SELECT n.nspname AS schemaname,
       c.relname AS tablename,
       a.attname AS "column",
       format_type(a.atttypid, a.atttypmod)::varchar(128) AS type,
       coalesce(t.encodings->>a.attname, 'none')::char(32) AS encoding,
       coalesce(t.distkey = a.attname, false) AS distkey,
       coalesce((SELECT CASE WHEN t.interleaved AND k.pos % 2 = 0 THEN -k.pos ELSE k.pos END
                 FROM unnest(t.sortkey) WITH ORDINALITY AS k(col, pos)
                 WHERE k.col = a.attname), 0)::integer AS sortkey,
       a.attnotnull AS notnull
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid
LEFT JOIN pg_catalog.redshift_table_attrs t ON t.relid = c.oid
WHERE c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%'
  AND pg_table_is_visible(c.oid);

-- Exact row count of one table, for SVV_TABLE_INFO.tbl_rows. Exact rather than
-- pg_class.reltuples (an estimate, -1 before the first ANALYZE) because tests compare row
-- counts; the price is a scan of each table the view returns.
CREATE FUNCTION pg_catalog.redshift_count_rows(oid) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
  n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ONLY %s', $1::regclass) INTO n;
  RETURN n;
END $$;

-- SVV_TABLE_INFO: like Redshift, empty tables do not appear. size is in 1 MB blocks (table,
-- indexes and TOAST), pct_used relative to the database's size.
CREATE VIEW pg_catalog.svv_table_info AS
SELECT current_database()::text AS database,
       n.nspname::text AS schema,
       c.oid AS table_id,
       c.relname::text AS "table",
       CASE WHEN t.encodings IS NOT NULL AND t.encodings <> '{}' THEN 'Y' ELSE 'N' END AS encoded,
       CASE WHEN t.diststyle = 'KEY' AND t.distkey IS NOT NULL THEN 'KEY(' || t.distkey || ')'
            WHEN t.diststyle IN ('EVEN', 'ALL') THEN t.diststyle
            ELSE 'AUTO(EVEN)' END AS diststyle,
       CASE WHEN t.interleaved THEN 'INTERLEAVED' ELSE t.sortkey[1] END::text AS sortkey1,
       0::integer AS max_varchar,
       (t.encodings->>t.sortkey[1])::text AS sortkey1_enc,
       coalesce(cardinality(t.sortkey), 0)::integer AS sortkey_num,
       ceil(pg_total_relation_size(c.oid) / 1048576.0)::bigint AS size,
       round(100.0 * pg_total_relation_size(c.oid)
             / greatest(pg_database_size(current_database()), 1), 4)::numeric(10, 4) AS pct_used,
       0::numeric(10, 4) AS unsorted,
       0::numeric(10, 4) AS stats_off,
       r.tbl_rows::numeric(38, 0) AS tbl_rows,
       r.tbl_rows::numeric(38, 0) AS estimated_visible_rows
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.redshift_table_attrs t ON t.relid = c.oid
CROSS JOIN LATERAL (SELECT pg_catalog.redshift_count_rows(c.oid) AS tbl_rows) r
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%'
  AND n.nspname NOT LIKE 'pg_temp%'
  AND has_table_privilege(c.oid, 'SELECT')
  AND r.tbl_rows > 0;

CREATE VIEW pg_catalog.svv_tables AS
SELECT table_catalog::text AS table_catalog,
       table_schema::text AS table_schema,
       table_name::text AS table_name,
       table_type::text AS table_type,
       obj_description(format('%I.%I', table_schema, table_name)::regclass, 'pg_class')::text
         AS remarks
FROM information_schema.tables
WHERE table_schema NOT IN ('pg_catalog', 'information_schema');

CREATE VIEW pg_catalog.svv_columns AS
SELECT table_catalog::text AS table_catalog,
       table_schema::text AS table_schema,
       table_name::text AS table_name,
       column_name::text AS column_name,
       ordinal_position::integer AS ordinal_position,
       column_default::text AS column_default,
       is_nullable::text AS is_nullable,
       data_type::text AS data_type,
       character_maximum_length::integer AS character_maximum_length,
       numeric_precision::integer AS numeric_precision,
       numeric_precision_radix::integer AS numeric_precision_radix,
       numeric_scale::integer AS numeric_scale,
       datetime_precision::integer AS datetime_precision,
       interval_type::text AS interval_type,
       domain_name::text AS domain_name,
       NULL::text AS remarks
FROM information_schema.columns
WHERE table_schema NOT IN ('pg_catalog', 'information_schema');

-- The SVV_ALL_* and SVV_REDSHIFT_* views redshift_connector's metadata calls read: this
-- database's objects (a cluster's other databases are not reachable from one session).
CREATE VIEW pg_catalog.svv_all_tables AS
SELECT current_database()::text AS database_name,
       table_schema::text AS schema_name,
       table_name::text AS table_name,
       CASE table_type WHEN 'BASE TABLE' THEN 'TABLE' ELSE table_type::text END AS table_type,
       NULL::text AS table_acl,
       remarks
FROM pg_catalog.svv_tables;

CREATE VIEW pg_catalog.svv_all_columns AS
SELECT current_database()::text AS database_name,
       table_schema AS schema_name,
       table_name, column_name, ordinal_position, column_default, is_nullable, data_type,
       character_maximum_length, numeric_precision, numeric_scale, remarks
FROM pg_catalog.svv_columns;

CREATE VIEW pg_catalog.svv_all_schemas AS
SELECT current_database()::text AS database_name,
       n.nspname::text AS schema_name,
       n.nspowner::integer AS schema_owner,
       'local'::text AS schema_type,
       NULL::text AS schema_acl,
       NULL::text AS source_database,
       NULL::text AS schema_option
FROM pg_namespace n
WHERE n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%';

CREATE VIEW pg_catalog.svv_redshift_databases AS
SELECT d.datname::text AS database_name,
       d.datdba::integer AS database_owner,
       'local'::text AS database_type,
       NULL::text AS database_acl,
       NULL::text AS database_options,
       'Snapshot Isolation'::text AS database_isolation_level
FROM pg_database d
WHERE NOT d.datistemplate;

-- STV_SESSIONS: the sessions connected now.
CREATE VIEW pg_catalog.stv_sessions AS
SELECT backend_start::timestamp AS starttime,
       pid AS process,
       usename::char(50) AS user_name,
       datname::char(50) AS db_name,
       0::integer AS timeout_sec
FROM pg_stat_activity
WHERE backend_type = 'client backend';

-- STL_QUERY: the statements the Endpoint sent, most recent last (the last 1,000, each cut to
-- 4,000 bytes; kept in tidemark's memory, so a server restart empties it). The Endpoint
-- writes them to tidemark_stl_query.json in the data directory just before a statement that
-- names STL_QUERY runs; this function reads that file as the bootstrap superuser (only a
-- superuser may call pg_read_file). `query` numbers statements per cluster as Redshift
-- does. The Endpoint's statement hook sees only the text: who sent it, from which session
-- and database, and when it ended are not known, and those columns are NULL.
CREATE FUNCTION pg_catalog.tidemark_stl_query()
RETURNS TABLE (query bigint, starttime timestamp, querytxt text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
  SELECT r.q, (to_timestamp(r.t / 1000000.0) AT TIME ZONE 'UTC')::timestamp, r.s
  FROM json_to_recordset(coalesce(pg_read_file('tidemark_stl_query.json', 0, 16777216, true),
                                  '[]')::json) AS r(q bigint, t bigint, s text)
$$;

CREATE VIEW pg_catalog.stl_query AS
SELECT NULL::integer AS userid,
       h.query,  -- bigint (Redshift's is integer): a long-running server may pass 2^31
       ''::char(320) AS label,
       NULL::bigint AS xid,
       NULL::integer AS pid,
       NULL::char(32) AS database,
       h.querytxt::char(4000) AS querytxt,
       h.starttime,
       NULL::timestamp AS endtime,
       0::integer AS aborted,
       0::integer AS insert_pristine,
       0::integer AS concurrency_scaling_status
FROM pg_catalog.tidemark_stl_query() h;

-- STL_LOAD_ERRORS: COPY from S3 is not supported, so there are never load errors to show.
CREATE VIEW pg_catalog.stl_load_errors AS
SELECT NULL::integer AS userid, NULL::integer AS slice, NULL::integer AS tbl,
       NULL::timestamp AS starttime, NULL::integer AS session, NULL::integer AS query,
       NULL::char(256) AS filename, NULL::bigint AS line_number, NULL::char(127) AS colname,
       NULL::char(10) AS type, NULL::char(30) AS col_length, NULL::integer AS position,
       NULL::char(1024) AS raw_line, NULL::char(1024) AS raw_field_value,
       NULL::integer AS err_code, NULL::char(100) AS err_reason
WHERE false;

GRANT SELECT ON pg_catalog.svv_all_tables, pg_catalog.svv_all_columns,
  pg_catalog.svv_all_schemas, pg_catalog.svv_redshift_databases, pg_catalog.redshift_table_attrs,
  pg_catalog.svv_external_schemas,
  pg_catalog.svv_external_tables, pg_catalog.svv_external_columns, pg_catalog.pg_table_def, pg_catalog.svv_table_info, pg_catalog.svv_tables,
  pg_catalog.svv_columns, pg_catalog.stv_sessions, pg_catalog.stl_query,
  pg_catalog.stl_load_errors TO PUBLIC;

RESET check_function_bodies;
RESET search_path;
RESET allow_system_table_mods;
