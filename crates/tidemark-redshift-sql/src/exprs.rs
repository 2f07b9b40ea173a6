//! Redshift expression syntax PostgreSQL does not take: bare date-part words, `SYSDATE`,
//! `TOP n`, `APPROXIMATE`, `LISTAGG … WITHIN GROUP`, `DECODE`, `NVL`/`NVL2`, `version()`, and
//! Redshift type names in casts.
//!
//! Functions PostgreSQL merely lacks (GETDATE, LEN, CHARINDEX, MEDIAN, CONVERT_TIMEZONE,
//! JSON_PARSE, DATEADD, DATEDIFF) are defined in compat.sql instead; this pass only fixes what
//! no function definition can: syntax. Every edit touches the tokens of its construct only.

use sqlparser::tokenizer::Token;

use crate::edits::Edits;
use crate::statement::Stmt;
use crate::{SqlError, datepart};

pub(crate) fn rewrite(s: &Stmt<'_>, e: &mut Edits) -> Result<(), SqlError> {
    // Right to left: a construct nested in another is edited first, so that an outer one that
    // copies or moves text (DECODE, LISTAGG) copies it already rewritten (`Edits::render`).
    for i in (0..s.len()).rev() {
        if let Some(name) = s.sharp_name(i) {
            sharp_table(s, i, name, e);
            continue;
        }
        let Some(word) = s.toks[i].bare_word() else {
            continue;
        };
        let after_period = i > 0 && s.tok_is(i - 1, &Token::Period);
        let call = s.tok_is(i + 1, &Token::LParen);
        if word.eq_ignore_ascii_case("VERSION") && call && s.tok_is(i + 2, &Token::RParen) {
            version(s, i, after_period, e);
            continue;
        }
        if after_period {
            if i >= 2 && s.toks[i - 2].bare_word().is_some() {
                catalog_column(s, i, word, e);
            }
            continue; // otherwise a qualified name is the user's own object
        }
        let upper = word.to_ascii_uppercase();
        match upper.as_str() {
            "DATEADD" | "DATEDIFF" | "DATE_PART" if call => datepart_arg(s, i + 2, true, e),
            "DATE_TRUNC" if call => datepart_arg(s, i + 2, false, e),
            "EXTRACT" if call && s.word_at(i + 3, "FROM") => extract_field(s, i + 2, e),
            "SYSDATE" if !call => {
                e.replace(s.toks[i].start, s.toks[i].end, "pg_catalog.sysdate()");
            }
            "TOP" => top(s, i, e)?,
            "APPROXIMATE" if s.word_at(i + 1, "COUNT") || s.word_at(i + 1, "PERCENTILE_DISC") => {
                e.remove(s.toks[i].start, s.toks[i + 1].start);
            }
            "LISTAGG" if call => listagg(s, i, e),
            "DECODE" if call => decode(s, i, e),
            "NVL" if call => e.replace(s.toks[i].start, s.toks[i].end, "COALESCE"),
            "NVL2" if call => nvl2(s, i, e),
            "CONVERT" if call => convert(s, i, e),
            "ADSRC" => bare_adsrc(s, i, e),
            "WHERE" => where_one(s, i, e),
            _ if is_cast_target(s, i) => cast_type(s, i, e),
            _ => {}
        }
    }
    Ok(())
}

/// `#name` → `"#name"` (folded to lower case, as Redshift folds it), and `SELECT … INTO #name`
/// creates it as a temporary table, as Redshift does.
fn sharp_table(s: &Stmt<'_>, i: usize, name: &str, e: &mut Edits) {
    let into_select = i >= 1
        && s.word_at(i - 1, "INTO")
        && !(i >= 2 && s.word_at(i - 2, "INSERT"))
        && !(i >= 2 && s.word_at(i - 2, "MERGE"));
    let temp = if into_select { "TEMP " } else { "" };
    e.replace(
        s.toks[i].start,
        s.toks[i + 1].end,
        format!("{temp}\"#{}\"", name.to_lowercase()),
    );
}

/// `version()` (also `pg_catalog.version()`) answers Redshift's version string.
fn version(s: &Stmt<'_>, i: usize, after_period: bool, e: &mut Edits) {
    let start = if !after_period {
        s.toks[i].start
    } else if i >= 2 && s.word_at(i - 2, "pg_catalog") {
        s.toks[i - 2].start
    } else {
        return;
    };
    e.replace(start, s.toks[i + 2].end, "pg_catalog.redshift_version()");
}

/// The date-part argument at `a`: a bare word becomes a quoted canonical name (`bare_ok`), a
/// quoted Redshift abbreviation becomes the canonical name PostgreSQL knows.
fn datepart_arg(s: &Stmt<'_>, a: usize, bare_ok: bool, e: &mut Edits) {
    if !s.tok_is(a + 1, &Token::Comma) {
        return;
    }
    let Some(tok) = s.toks.get(a) else {
        return;
    };
    match &tok.token {
        Token::Word(w) if w.quote_style.is_none() && bare_ok => {
            if let Some(c) = datepart::canonical(&w.value) {
                e.replace(tok.start, tok.end, format!("'{c}'"));
            }
        }
        Token::SingleQuotedString(v) => {
            if let Some(c) = datepart::canonical(v).filter(|c| c != v) {
                e.replace(tok.start, tok.end, format!("'{c}'"));
            }
        }
        _ => {}
    }
}

/// `EXTRACT(qtr FROM d)`: the field word becomes its canonical name.
fn extract_field(s: &Stmt<'_>, a: usize, e: &mut Edits) {
    let Some(tok) = s.toks.get(a) else {
        return;
    };
    let name = match &tok.token {
        Token::Word(w) if w.quote_style.is_none() => &w.value,
        Token::SingleQuotedString(v) => v,
        _ => return,
    };
    if let Some(c) = datepart::canonical(name).filter(|c| !c.eq_ignore_ascii_case(name)) {
        e.replace(tok.start, tok.end, c);
    }
}

/// `SELECT [ALL|DISTINCT] TOP n …` → `SELECT … LIMIT n` at the end of that query level.
fn top(s: &Stmt<'_>, i: usize, e: &mut Edits) -> Result<(), SqlError> {
    let after_select = i >= 1
        && (s.word_at(i - 1, "SELECT")
            || ((s.word_at(i - 1, "DISTINCT") || s.word_at(i - 1, "ALL"))
                && i >= 2
                && s.word_at(i - 2, "SELECT")));
    let Some(Token::Number(n, _)) = s.toks.get(i + 1).map(|t| &t.token) else {
        return Ok(());
    };
    if !after_select {
        return Ok(());
    }
    let end = s.level_end(i);
    let mut j = i + 2;
    while j < end {
        if let Some(c) = s.close_of(j) {
            j = c + 1;
            continue;
        }
        for kw in ["UNION", "INTERSECT", "EXCEPT", "LIMIT", "FETCH"] {
            if s.word_at(j, kw) {
                return Err(SqlError::unsupported(
                    &format!("TOP n together with {kw} at the same query level"),
                    "; use LIMIT",
                ));
            }
        }
        j += 1;
    }
    // Take one following space too, so that `SELECT TOP 5 a` becomes `SELECT a`.
    let mut cut = s.toks[i + 1].end;
    if s.sql.as_bytes().get(cut) == Some(&b' ') {
        cut += 1;
    }
    e.remove(s.toks[i].start, cut);
    e.insert(s.toks[end - 1].end, format!(" LIMIT {n}"));
    Ok(())
}

/// `LISTAGG([DISTINCT] x [, sep]) [WITHIN GROUP (ORDER BY …)]` →
/// `string_agg([DISTINCT] x, sep [ORDER BY …])` (x cast to text unless DISTINCT, whose ORDER BY
/// must match the argument exactly).
fn listagg(s: &Stmt<'_>, i: usize, e: &mut Edits) {
    let open = i + 1;
    let (Some(close), Some((args, _))) = (s.close_of(open), s.args(open)) else {
        return;
    };
    if args.is_empty() || args.len() > 2 || args.iter().any(|a| a.is_empty()) {
        return;
    }
    let within = (s.word_at(close + 1, "WITHIN") && s.word_at(close + 2, "GROUP"))
        .then(|| s.close_of(close + 3).map(|wc| (close + 3, wc)))
        .flatten();
    e.replace(s.toks[i].start, s.toks[i].end, "string_agg");
    let x = &args[0];
    let distinct = s.word_at(x.start, "DISTINCT");
    let x_end = s.toks[x.end - 1].end;
    if !distinct {
        e.insert(s.toks[x.start].start, "(");
        e.insert(x_end, ")::text");
    }
    if args.len() == 1 {
        e.insert(x_end, ", ''");
    }
    if let Some((wopen, wclose)) = within.filter(|&(wopen, _)| s.word_at(wopen + 1, "ORDER")) {
        // Move `ORDER BY …` (as rewritten so far) into the argument list.
        let Some(order) = e.take(s.sql, s.toks[wopen + 1].start, s.toks[wclose - 1].end) else {
            return;
        };
        e.insert(s.toks[close].start, format!(" {order}"));
        e.remove(s.toks[close].end, s.toks[wclose].end);
    }
}

/// Longest DECODE expression repeated once per search value; longer ones are not repeated.
const DECODE_REPEAT_MAX: usize = 256;

/// `DECODE(e, s1, r1, …, [default])` →
/// `CASE WHEN (e) IS NOT DISTINCT FROM (s1) THEN r1 … [ELSE default] END`: AWS documents that a
/// NULL expression matches a NULL search value, which `CASE e WHEN s1` would not do. The
/// expression is repeated per search value when short (and the copy budget allows); a longer
/// one gives `CASE e WHEN s1 THEN r1 …`, where NULL matches nothing (documented).
/// PostgreSQL's own two-argument `decode(text, format)` is left alone.
fn decode(s: &Stmt<'_>, i: usize, e: &mut Edits) {
    let open = i + 1;
    let (Some(close), Some((args, commas))) = (s.close_of(open), s.args(open)) else {
        return;
    };
    let n = args.len();
    if n < 3 || args.iter().any(|a| a.is_empty()) {
        return;
    }
    let has_default = (n - 1) % 2 == 1;
    let pairs = (n - 1) / 2;
    let (x_start, x_end) = (s.toks[args[0].start].start, s.toks[args[0].end - 1].end);
    let repeated = (x_end - x_start <= DECODE_REPEAT_MAX)
        .then(|| e.render(s.sql, x_start, x_end))
        .flatten()
        .filter(|x| e.reserve(x.len().saturating_add(32).saturating_mul(pairs)));
    let Some(x) = repeated else {
        simple_case(s, i, close, &commas, n, has_default, e);
        return;
    };
    e.replace(s.toks[i].start, s.toks[open].end, "CASE WHEN (");
    for (k, &c) in commas.iter().enumerate() {
        let next_arg = k + 1;
        let sep = if k == 0 {
            ") IS NOT DISTINCT FROM (".to_string()
        } else if next_arg == n - 1 && has_default {
            " ELSE ".to_string()
        } else if next_arg % 2 == 1 {
            format!(" WHEN ({x}) IS NOT DISTINCT FROM (")
        } else {
            ") THEN ".to_string()
        };
        e.replace(s.toks[c].start, s.through_space(c), sep);
    }
    e.replace(s.toks[close].start, s.toks[close].end, " END");
}

/// `CASE e WHEN s1 THEN r1 … [ELSE default] END`.
fn simple_case(
    s: &Stmt<'_>,
    i: usize,
    close: usize,
    commas: &[usize],
    n: usize,
    has_default: bool,
    e: &mut Edits,
) {
    e.replace(s.toks[i].start, s.toks[i + 1].end, "CASE ");
    for (k, &c) in commas.iter().enumerate() {
        let next_arg = k + 1;
        let sep = if next_arg == n - 1 && has_default {
            " ELSE "
        } else if next_arg % 2 == 1 {
            " WHEN "
        } else {
            " THEN "
        };
        e.replace(s.toks[c].start, s.through_space(c), sep);
    }
    e.replace(s.toks[close].start, s.toks[close].end, " END");
}

/// `NVL2(e, a, b)` → `CASE WHEN (e) IS NOT NULL THEN (a) ELSE (b) END`.
fn nvl2(s: &Stmt<'_>, i: usize, e: &mut Edits) {
    let open = i + 1;
    let (Some(close), Some((args, commas))) = (s.close_of(open), s.args(open)) else {
        return;
    };
    if args.len() != 3 || args.iter().any(|a| a.is_empty()) {
        return;
    }
    e.replace(s.toks[i].start, s.toks[open].end, "CASE WHEN (");
    e.replace(
        s.toks[commas[0]].start,
        s.through_space(commas[0]),
        ") IS NOT NULL THEN (",
    );
    e.replace(
        s.toks[commas[1]].start,
        s.through_space(commas[1]),
        ") ELSE (",
    );
    e.replace(s.toks[close].start, s.toks[close].end, ") END");
}

/// Redshift's extra catalog columns, as `alias.column` (sqlalchemy-redshift reads them from
/// pg_attribute, pg_class and pg_attrdef): answered by compat.sql's functions from the recorded
/// table attributes. `pg_attrdef.adsrc` (gone since PostgreSQL 12) becomes `pg_get_expr`, and
/// the older catalog columns psql's describe queries read become what they meant.
fn catalog_column(s: &Stmt<'_>, i: usize, word: &str, e: &mut Edits) {
    let alias = s.text(i - 2, i - 1);
    let call = match word.to_ascii_lowercase().as_str() {
        "attencodingtype" => {
            format!("pg_catalog.redshift_attencodingtype({alias}.attrelid, {alias}.attnum)")
        }
        "attisdistkey" => {
            format!("pg_catalog.redshift_attisdistkey({alias}.attrelid, {alias}.attnum)")
        }
        "attsortkeyord" => {
            format!("pg_catalog.redshift_attsortkeyord({alias}.attrelid, {alias}.attnum)")
        }
        "reldiststyle" => format!("pg_catalog.redshift_reldiststyle({alias}.oid)"),
        "adsrc" => format!("pg_catalog.pg_get_expr({alias}.adbin, {alias}.adrelid)"),
        // Columns psql 15 still reads from servers older than 12 (Redshift reports 8.0.2):
        // `\d table` asks `c.relhasoids` (tables lost OIDs in 12), `\df` asks
        // `p.proisagg`/`p.proiswindow` (replaced by `prokind` in 11).
        "relhasoids" => "false".to_owned(),
        "proisagg" => format!("({alias}.prokind = 'a')"),
        "proiswindow" => format!("({alias}.prokind = 'w')"),
        _ => return,
    };
    e.replace(s.toks[i - 2].start, s.toks[i].end, call);
}

/// A bare `adsrc` select-list item → `NULL::text AS adsrc` (sqlalchemy-redshift parses it for
/// Redshift's old identity syntax only; PostgreSQL 12 removed the column).
fn bare_adsrc(s: &Stmt<'_>, i: usize, e: &mut Edits) {
    let item_start = i >= 1 && (s.tok_is(i - 1, &Token::Comma) || s.word_at(i - 1, "SELECT"));
    let item_end = s.tok_is(i + 1, &Token::Comma) || s.word_at(i + 1, "FROM");
    if item_start && item_end {
        e.replace(s.toks[i].start, s.toks[i].end, "NULL::text AS adsrc");
    }
}

/// `WHERE 1 AND …` / `WHERE 1 ORDER BY …`: Redshift accepts an integer as a condition.
fn where_one(s: &Stmt<'_>, i: usize, e: &mut Edits) {
    let Some(Token::Number(n, _)) = s.toks.get(i + 1).map(|t| &t.token) else {
        return;
    };
    let ends = i + 2 >= s.len()
        || s.tok_is(i + 2, &Token::RParen)
        || [
            "AND",
            "OR",
            "ORDER",
            "GROUP",
            "UNION",
            "LIMIT",
            "HAVING",
            "EXCEPT",
            "INTERSECT",
        ]
        .iter()
        .any(|kw| s.word_at(i + 2, kw));
    if n == "1" && ends {
        e.replace(s.toks[i + 1].start, s.toks[i + 1].end, "true");
    }
}

/// `CONVERT(type, expr)` → `CAST(expr AS type)`. PostgreSQL's own three-argument
/// `convert(bytes, from, to)` is left alone.
fn convert(s: &Stmt<'_>, i: usize, e: &mut Edits) {
    let open = i + 1;
    let (Some(close), Some((args, _))) = (s.close_of(open), s.args(open)) else {
        return;
    };
    if args.len() != 2 || args.iter().any(|a| a.is_empty()) {
        return;
    }
    let span = |a: &std::ops::Range<usize>| (s.toks[a.start].start, s.toks[a.end - 1].end);
    let ((t0, t1), (x0, x1)) = (span(&args[0]), span(&args[1]));
    let (Some(ty), Some(x)) = (e.take(s.sql, t0, t1), e.take(s.sql, x0, x1)) else {
        return;
    };
    e.replace(
        s.toks[i].start,
        s.toks[close].end,
        format!("CAST({x} AS {ty})"),
    );
}

/// A type name after `::`, or after `AS` inside `CAST(`.
fn is_cast_target(s: &Stmt<'_>, i: usize) -> bool {
    if i == 0 {
        return false;
    }
    if s.tok_is(i - 1, &Token::DoubleColon) {
        return true;
    }
    s.word_at(i - 1, "AS")
        && s.enclosing_open(i)
            .is_some_and(|o| o >= 1 && (s.word_at(o - 1, "CAST") || s.word_at(o - 1, "TRY_CAST")))
}

/// Redshift type names in a cast: `SUPER` → jsonb, `VARCHAR(MAX)` → varchar(65535),
/// `NVARCHAR` → varchar, `VARBYTE` → bytea. (Plain `TEXT`/`VARCHAR` casts keep PostgreSQL's
/// meaning: only column definitions get Redshift's 256-character default.)
fn cast_type(s: &Stmt<'_>, i: usize, e: &mut Edits) {
    let tok = &s.toks[i];
    let varchar_like = s.word_at(i, "VARCHAR")
        || s.word_at(i, "NVARCHAR")
        || ((s.word_at(i, "CHARACTER") || s.word_at(i, "CHAR")) && s.word_at(i + 1, "VARYING"));
    if s.word_at(i, "SUPER") {
        e.replace(tok.start, tok.end, "jsonb");
    } else if s.word_at(i, "VARBYTE") || s.word_at(i, "VARBINARY") {
        let end = s.close_of(i + 1).map_or(tok.end, |c| s.toks[c].end);
        e.replace(tok.start, end, "bytea");
    } else if varchar_like {
        let open = if s.word_at(i + 1, "VARYING") {
            i + 2
        } else {
            i + 1
        };
        let name_end = s.toks[open - 1].end;
        match s.close_of(open) {
            Some(c) if c == open + 2 && s.word_at(open + 1, "MAX") => {
                e.replace(tok.start, s.toks[c].end, "varchar(65535)");
            }
            _ if s.word_at(i, "NVARCHAR") => e.replace(tok.start, name_end, "varchar"),
            _ => {}
        }
    }
}
