//! Redshift's date-part names and abbreviations, mapped to the names PostgreSQL accepts.
//!
//! From AWS's "Date parts for date or timestamp functions" table. PostgreSQL accepts many of
//! the abbreviations itself, but not all (`dw`, `weekday`, `dayofyear`, `yearday`, `dd`…), and
//! our `dateadd`/`datediff` functions (compat.sql) only know the canonical names.

/// The canonical PostgreSQL unit for a Redshift date part (ASCII case-insensitive), or `None`.
pub(crate) fn canonical(part: &str) -> Option<&'static str> {
    if part.len() > 16 {
        return None;
    }
    let lower = part.to_ascii_lowercase();
    Some(match lower.as_str() {
        "millennium" | "millennia" | "mil" | "mils" => "millennium",
        "century" | "centuries" | "c" | "cent" | "cents" => "century",
        "decade" | "decades" | "dec" | "decs" => "decade",
        "epoch" => "epoch",
        "year" | "years" | "y" | "yr" | "yrs" => "year",
        "quarter" | "quarters" | "qtr" | "qtrs" => "quarter",
        "month" | "months" | "mon" | "mons" => "month",
        "week" | "weeks" | "w" => "week",
        "dayofweek" | "dow" | "dw" | "weekday" => "dow",
        "dayofyear" | "doy" | "dy" | "yearday" => "doy",
        "day" | "days" | "d" | "dd" => "day",
        "hour" | "hours" | "h" | "hr" | "hrs" => "hour",
        "minute" | "minutes" | "m" | "min" | "mins" => "minute",
        "second" | "seconds" | "s" | "sec" | "secs" => "second",
        "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" | "msecond" | "mseconds"
        | "millisec" | "millisecs" | "millisecon" => "milliseconds",
        "microsecond" | "microseconds" | "microsec" | "microsecs" | "usecond" | "useconds"
        | "us" | "usec" | "usecs" => "microseconds",
        "timezone" => "timezone",
        "timezone_hour" => "timezone_hour",
        "timezone_minute" => "timezone_minute",
        _ => return None,
    })
}
