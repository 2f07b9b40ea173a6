//! STL_QUERY's history: the statements a cluster's Endpoint sent to PostgreSQL, most recent
//! last, in a ring bounded in count and bytes. The proxy's statement hook fills it (a lock
//! and one copy of at most [`MAX_TEXT`] bytes per statement: nothing on the wire waits for
//! PostgreSQL or the disk); only a statement that names STL_QUERY writes it to a file in
//! the data directory, which the view reads through `pg_read_file`. PostgreSQL itself
//! keeps no history of statements (its statement log grows without bound and
//! `pg_stat_statements` aggregates), so the Endpoint, which sees every statement, keeps it.
//! The history outlives a restart of the server: the cluster's database writes the file when
//! it stops (pause, shutdown) and reads it back when it starts again; a `kill -9` loses what
//! was sent since the file was last written.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;

/// Redshift's `querytxt` holds the first 4,000 characters of a statement; bytes here, cut at
/// a character boundary.
pub const MAX_TEXT: usize = 4000;
/// Statements kept (Redshift keeps days of them; a test reads the last few).
pub const MAX_STATEMENTS: usize = 1000;
/// The file (in the data directory) the `stl_query` view reads; `compat.sql` names it too.
pub const FILE: &str = "tidemark_stl_query.json";

struct Entry {
    query: u64,
    /// Microseconds since the Unix epoch, when the statement was sent.
    start_us: i64,
    text: String,
}

/// The ring. Its text is at most `MAX_STATEMENTS * MAX_TEXT` bytes (4 MB).
#[derive(Default)]
pub(crate) struct Recent {
    ring: Mutex<(u64, VecDeque<Entry>)>,
}

impl Recent {
    /// Records that `sql` was sent to PostgreSQL now.
    pub fn push(&self, sql: &str) {
        let text = truncate(sql, MAX_TEXT).to_owned();
        // Wall time, not the virtual clock: the view is compared with the database's own
        // times (GETDATE(), pg_stat_activity), which are PostgreSQL's, hence wall time.
        let start_us = tidemark_core::wall_now().as_microsecond();
        // A poisoned lock only means a panic elsewhere while pushing: the ring stays usable.
        let mut g = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let (next, ring) = &mut *g;
        *next += 1;
        if ring.len() == MAX_STATEMENTS {
            ring.pop_front();
        }
        ring.push_back(Entry {
            query: *next,
            start_us,
            text,
        });
    }

    /// The ring as the JSON array the view reads: `[{"q":…,"t":…,"s":"…"},…]`.
    #[cfg(test)]
    fn to_json(&self) -> Vec<u8> {
        json_of(&self.ring.lock().unwrap_or_else(|p| p.into_inner()).1)
    }

    /// Writes the ring to `<pgdata>/FILE` (replaced atomically, readable by PostgreSQL's
    /// account), before the statement that reads it runs.
    pub fn publish(&self, pgdata: &Path) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        // Held while writing: two sessions reading STL_QUERY at once must not interleave
        // their writes of the one temporary file.
        let g = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let tmp = pgdata.join(format!("{FILE}.tmp"));
        // 0644 whatever the umask: PostgreSQL may run as another account (root's case).
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)?;
        f.write_all(&json_of(&g.1))?;
        drop(f);
        std::fs::rename(&tmp, pgdata.join(FILE))
    }
}

/// The largest history file read back (the ring's JSON is at most ~4 MB of text, more only
/// if the text is mostly escaped control characters); a bigger one is not ours and is ignored.
const MAX_FILE: u64 = 32 << 20;

impl Recent {
    /// Takes the history written by [`Recent::publish`] back from `<pgdata>/FILE`, if this
    /// ring is still empty (a server start): numbering goes on from its last statement. A
    /// missing, oversized or unreadable file leaves the ring empty.
    pub fn restore(&self, pgdata: &Path) {
        use std::io::Read;
        #[derive(serde::Deserialize)]
        struct Row {
            q: u64,
            t: i64,
            s: String,
        }
        let mut g = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if g.0 != 0 {
            return;
        }
        let mut text = Vec::new();
        let read = std::fs::File::open(pgdata.join(FILE))
            .and_then(|f| f.take(MAX_FILE + 1).read_to_end(&mut text));
        if read.is_err() || text.len() as u64 > MAX_FILE {
            return;
        }
        let Ok(rows) = serde_json::from_slice::<Vec<Row>>(&text) else {
            return;
        };
        let skip = rows.len().saturating_sub(MAX_STATEMENTS);
        let (next, ring) = &mut *g;
        for r in rows.into_iter().skip(skip) {
            *next = (*next).max(r.q);
            ring.push_back(Entry {
                query: r.q,
                start_us: r.t,
                text: truncate(&r.s, MAX_TEXT).to_owned(),
            });
        }
    }
}

fn json_of(ring: &VecDeque<Entry>) -> Vec<u8> {
    let rows: Vec<serde_json::Value> = ring
        .iter()
        .map(|e| serde_json::json!({"q": e.query, "t": e.start_us, "s": e.text}))
        .collect();
    // Serializing JSON values to memory cannot fail; an empty history if it ever did.
    serde_json::to_vec(&rows).unwrap_or_else(|_| b"[]".to_vec())
}

/// The longest prefix of `s` of at most `max` bytes that ends at a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_newest_statements_cut_to_their_first_4000_bytes() {
        let r = Recent::default();
        for i in 0..MAX_STATEMENTS + 5 {
            r.push(&format!("SELECT {i}"));
        }
        r.push(&"é".repeat(3000));
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&r.to_json()).unwrap();
        assert_eq!(rows.len(), MAX_STATEMENTS);
        assert_eq!(rows[0]["s"], "SELECT 6");
        assert_eq!(rows[0]["q"], 7);
        let last = rows[MAX_STATEMENTS - 1]["s"].as_str().unwrap();
        assert_eq!(last.len(), 4000);
        assert_eq!(last.chars().count(), 2000);
    }

    #[test]
    fn the_history_survives_a_restart_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let r = Recent::default();
        r.push("SELECT 1");
        r.push("SELECT 'two'");
        r.publish(dir.path()).unwrap();
        let back = Recent::default();
        back.restore(dir.path());
        assert_eq!(back.to_json(), r.to_json());
        back.push("SELECT 3");
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&back.to_json()).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2]["q"], 3, "numbering goes on");
        // A ring already in use is not replaced; a damaged file leaves a new ring empty.
        back.restore(dir.path());
        assert_eq!(
            serde_json::from_slice::<Vec<serde_json::Value>>(&back.to_json())
                .unwrap()
                .len(),
            3
        );
        std::fs::write(dir.path().join(FILE), b"[{\"q\": ").unwrap();
        let damaged = Recent::default();
        damaged.restore(dir.path());
        assert_eq!(damaged.to_json(), b"[]");
        let none = Recent::default();
        none.restore(&dir.path().join("missing"));
        assert_eq!(none.to_json(), b"[]");
    }
}
