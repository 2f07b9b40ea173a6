//! A statement's rows on disk: written row by row while the statement runs (checking AWS's
//! size limits as they come), cut into pages as they are written, and read back one page at
//! a time. The file is removed when its statement is forgotten (expiry, reset: the state
//! marks it [`ResultFile::discard`] and the last holder of the `Arc` removes it, so a page
//! being read is finished first) or when an unfinished write is abandoned; not when the
//! server stops, so the journal's records find their rows after a restart.
//!
//! Layout: each row is its values in column order, each value a little-endian `u32` byte
//! length (`u32::MAX` for SQL NULL) followed by its UTF-8 text. The page index (each
//! page's first row and byte offset) stays beside the statement's record, so a page is one
//! positioned read of its own bytes, however large the result.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use tidemark_model::redshift_data::{ColumnMetadata, Field};

use crate::backend::{Column, RowSink, SqlFailure};
use crate::error::DataError;
use crate::results::{
    MAX_RESULT_BYTES, MAX_ROW_BYTES, PAGE_BYTES, csv_len, csv_value, field, metadata,
};

/// SQLSTATE reported with the limit errors (`program_limit_exceeded`).
const LIMIT_SQLSTATE: &str = "54000";
/// The length that marks SQL NULL.
const NULL_LEN: u32 = u32::MAX;
/// The most bytes of file one page may take (see `read_page`).
const MAX_PAGE_FILE_BYTES: usize = 8 * PAGE_BYTES;
/// Bytes the writer gathers before each write to the file.
const WRITE_BUFFER: usize = 256 * 1024;

/// The size limits a result is held to (AWS's, except in tests of the mechanism).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Text bytes of one row.
    pub row: usize,
    /// Text bytes of the whole result.
    pub result: usize,
    /// Free bytes that results leave on their disk; `None`: [`keep_free`] of its size.
    pub keep_free: Option<u64>,
}

impl Limits {
    pub const AWS: Limits = Limits {
        row: MAX_ROW_BYTES,
        result: MAX_RESULT_BYTES,
        keep_free: None,
    };
}

/// What results leave free on a disk of `total` bytes: 1% of it, at least 1 GiB, so that
/// the store and the clusters' databases beside them can still write.
pub fn keep_free(total: u64) -> u64 {
    (total / 100).max(1 << 30)
}

/// A writer checks the free space again after writing this much.
const CHECK_EVERY: u64 = 16 * 1024 * 1024;

/// Free bytes on the filesystem holding `dir`, and what to leave of them; `None` when the
/// filesystem does not say.
fn free_space(dir: &std::path::Path, keep: Option<u64>) -> Option<(u64, u64)> {
    let st = rustix::fs::statvfs(dir).ok()?;
    let free = st.f_bavail.saturating_mul(st.f_frsize);
    let total = st.f_blocks.saturating_mul(st.f_frsize);
    Some((free, keep.unwrap_or_else(|| keep_free(total))))
}

/// How the statement's result is fetched, which decides where its pages are cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// GetStatementResult: pages of about [`PAGE_BYTES`] of record JSON.
    Json,
    /// GetStatementResultV2: pages of about [`PAGE_BYTES`] of CSV, a header line first.
    Csv,
}

/// Where a page starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageStart {
    pub row: u64,
    pub offset: u64,
}

/// Writes a statement's rows to `path` as they arrive ([`RowSink`]).
pub struct ResultWriter {
    /// `Some` until [`ResultWriter::finish`] hands the file over; removed on drop otherwise.
    path: Option<PathBuf>,
    /// Opened at the first row: a statement without rows leaves no file.
    file: Option<BufWriter<File>>,
    /// Whether the file was created (and so must be removed if never handed over).
    created: bool,
    format: Format,
    limits: Limits,
    header_len: usize,
    rows: u64,
    size: u64,
    offset: u64,
    pages: Vec<PageStart>,
    /// The current page's cost so far, measured as its format measures it.
    page_fill: usize,
    page_rows: u64,
    /// One encoded row, reused.
    buf: Vec<u8>,
    /// The offset up to which the disk was found to have room.
    room_until: u64,
}

impl ResultWriter {
    pub fn new(path: PathBuf, format: Format, limits: Limits) -> Self {
        Self {
            path: Some(path),
            file: None,
            created: false,
            format,
            limits,
            header_len: 0,
            rows: 0,
            size: 0,
            offset: 0,
            pages: vec![PageStart { row: 0, offset: 0 }],
            page_fill: 0,
            page_rows: 0,
            buf: Vec::new(),
            room_until: 0,
        }
    }

    /// Fails the statement rather than take the disk's last free bytes; checked every
    /// [`CHECK_EVERY`] bytes, so concurrent writers may overshoot by that much each.
    fn check_room(&mut self, path: &std::path::Path) -> Result<(), SqlFailure> {
        let next = self.offset + self.buf.len() as u64;
        if next <= self.room_until {
            return Ok(());
        }
        let dir = path.parent().unwrap_or(std::path::Path::new("/"));
        if let Some((free, keep)) = free_space(dir, self.limits.keep_free)
            && free < keep.saturating_add(CHECK_EVERY)
        {
            return Err(store_failure(std::io::Error::other(format!(
                "the disk holding {} keeps its last {} MiB free and has {} MiB",
                dir.display(),
                keep >> 20,
                free >> 20
            ))));
        }
        self.room_until = next + CHECK_EVERY;
        Ok(())
    }

    /// Closes the file and hands it, with its index, to the statement's record.
    pub fn finish(mut self, columns: Vec<Column>) -> Result<ResultFile, SqlFailure> {
        if let Some(mut f) = self.file.take() {
            f.flush().map_err(store_failure)?;
        }
        let path = if self.rows > 0 {
            self.path.take()
        } else {
            None
        };
        Ok(ResultFile {
            path,
            columns,
            format: self.format,
            rows: self.rows,
            size: self.size,
            end: self.offset,
            pages: std::mem::take(&mut self.pages),
            discarded: AtomicBool::new(false),
        })
    }

    fn write(&mut self) -> Result<(), SqlFailure> {
        let Some(path) = self.path.clone() else {
            return Err(store_failure(std::io::Error::other("writer finished")));
        };
        self.check_room(&path)?;
        if self.file.is_none() {
            // Only the server's user may read results (they hold users' data).
            let f = File::options()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(store_failure)?;
            self.created = true;
            self.file = Some(BufWriter::with_capacity(WRITE_BUFFER, f));
        }
        match &mut self.file {
            Some(f) => f.write_all(&self.buf).map_err(store_failure),
            None => Err(store_failure(std::io::Error::other("no result file"))),
        }
    }
}

impl Drop for ResultWriter {
    fn drop(&mut self) {
        drop(self.file.take());
        if let Some(p) = self.path.take()
            && self.created
        {
            remove(&p);
        }
    }
}

fn store_failure(e: std::io::Error) -> SqlFailure {
    SqlFailure {
        sqlstate: "58030".into(),
        message: format!("tidemark could not store the result: {e}"),
    }
}

fn limit_failure(message: &str) -> SqlFailure {
    SqlFailure {
        sqlstate: LIMIT_SQLSTATE.into(),
        message: message.into(),
    }
}

/// AWS's message for a row over 64 KB.
pub const ROW_TOO_LARGE: &str = "Packet for query is too large: a row exceeds 64 KB";
/// AWS's message for a result over 500 MB.
pub const RESULT_TOO_LARGE: &str = "Database response exceeded size limit of 500 MB";

impl RowSink for ResultWriter {
    fn columns(&mut self, columns: &[Column]) -> Result<(), SqlFailure> {
        // The CSV header line: names, commas, newline.
        self.header_len = columns.iter().map(|c| csv_len(&c.name)).sum::<usize>()
            + columns.len().saturating_sub(1)
            + 1;
        if self.rows == 0 && self.format == Format::Csv {
            self.page_fill = self.header_len;
        }
        Ok(())
    }

    fn row(&mut self, values: &[Option<&str>]) -> Result<(), SqlFailure> {
        let n: usize = values.iter().map(|v| v.map_or(0, str::len)).sum();
        if n > self.limits.row {
            return Err(limit_failure(ROW_TOO_LARGE));
        }
        let total = self.size.saturating_add(n as u64);
        if total > self.limits.result as u64 {
            return Err(limit_failure(RESULT_TOO_LARGE));
        }
        // Where pages are cut: exactly as the in-memory pages were, so tokens and page
        // sizes are what clients saw before results moved to disk.
        let cut = match self.format {
            Format::Json => {
                // Braces, key names and separators: about 20 bytes per value beyond its text.
                let cost = values.iter().map(|v| 20 + v.map_or(0, str::len)).sum();
                let cut = self.page_rows > 0 && self.page_fill + cost > PAGE_BYTES;
                (cut, cost)
            }
            Format::Csv => {
                let cost = values.iter().map(|v| v.map_or(0, csv_len)).sum::<usize>()
                    + values.len().saturating_sub(1)
                    + 1;
                (self.page_rows > 0 && self.page_fill > PAGE_BYTES, cost)
            }
        };
        if cut.0 {
            self.pages.push(PageStart {
                row: self.rows,
                offset: self.offset,
            });
            self.page_fill = 0;
            self.page_rows = 0;
        }
        self.page_fill += cut.1;
        self.buf.clear();
        for v in values {
            match v {
                None => self.buf.extend_from_slice(&NULL_LEN.to_le_bytes()),
                Some(s) => {
                    // Below the row limit, so the length fits.
                    let len = u32::try_from(s.len()).unwrap_or(NULL_LEN - 1);
                    self.buf.extend_from_slice(&len.to_le_bytes());
                    self.buf.extend_from_slice(s.as_bytes());
                }
            }
        }
        self.write()?;
        self.offset += self.buf.len() as u64;
        self.rows += 1;
        self.page_rows += 1;
        self.size = total;
        Ok(())
    }
}

/// A finished statement's rows on disk, with the index of its pages.
#[derive(Debug)]
pub struct ResultFile {
    /// `None` for a result without rows (nothing was written).
    path: Option<PathBuf>,
    pub columns: Vec<Column>,
    format: Format,
    rows: u64,
    size: u64,
    end: u64,
    pages: Vec<PageStart>,
    /// Set when the statement is forgotten: the file goes with the last holder.
    discarded: AtomicBool,
}

impl Drop for ResultFile {
    fn drop(&mut self) {
        if let Some(p) = self.path.take()
            && self.discarded.load(Ordering::SeqCst)
        {
            remove(&p);
        }
    }
}

fn remove(p: &std::path::Path) {
    match std::fs::remove_file(p) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("removing the result file {}: {e}", p.display()),
    }
}

/// One page's rows, decoded.
type Rows = Vec<Vec<Option<String>>>;

impl ResultFile {
    /// Rows in the result (`TotalNumRows`, `ResultRows`).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Text bytes of all values (`ResultSize`).
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn metadata(&self) -> Vec<ColumnMetadata> {
        self.columns.iter().map(metadata).collect()
    }

    /// A result written before a restart, as its journal record describes it.
    pub fn restore(
        path: Option<PathBuf>,
        columns: Vec<Column>,
        format: Format,
        rows: u64,
        size: u64,
        end: u64,
        pages: Vec<PageStart>,
    ) -> Self {
        Self {
            path,
            columns,
            format,
            rows,
            size,
            end,
            pages,
            discarded: AtomicBool::new(false),
        }
    }

    /// Marks the file for removal once nothing holds it (its statement is forgotten).
    pub fn discard(&self) {
        self.discarded.store(true, Ordering::SeqCst);
    }

    /// The file's name in the results directory (`None` without rows).
    pub fn file_name(&self) -> Option<std::ffi::OsString> {
        self.path.as_ref()?.file_name().map(ToOwned::to_owned)
    }

    /// What the journal keeps of it.
    pub fn record(&self) -> crate::journal::FileRecord {
        crate::journal::FileRecord {
            file: self.file_name().map(|f| f.to_string_lossy().into_owned()),
            columns: self.columns.clone(),
            csv: self.format == Format::Csv,
            rows: self.rows,
            size: self.size,
            end: self.end,
            pages: self.pages.iter().map(|p| (p.row, p.offset)).collect(),
        }
    }

    /// Reads the page that starts at row `start` (a page boundary, as tokens name): its
    /// rows and the next page's first row. One read of the page's own bytes.
    fn read_page(&self, start: u64) -> Result<(Rows, Option<u64>), DataError> {
        let i = self
            .pages
            .binary_search_by_key(&start, |p| p.row)
            .map_err(|_| DataError::Validation("Invalid NextToken".into()))?;
        let here = self.pages[i];
        let next = self.pages.get(i + 1).copied();
        let until = next.map_or(self.end, |p| p.offset);
        let count = next.map_or(self.rows, |p| p.row) - here.row;
        let Some(path) = &self.path else {
            return Ok((Vec::new(), None));
        };
        let corrupt =
            |what: &str| DataError::Internal(format!("result file {} {what}", path.display()));
        // A page is about PAGE_BYTES of JSON or CSV, which never takes more than 4 bytes of
        // file per byte (the length word of an empty value against its comma): anything
        // larger is a damaged index, refused rather than allocated.
        let len = usize::try_from(until.saturating_sub(here.offset))
            .ok()
            .filter(|n| *n <= MAX_PAGE_FILE_BYTES)
            .ok_or_else(|| corrupt("has a damaged page index"))?;
        let mut buf = vec![0u8; len];
        File::open(path)
            .and_then(|f| f.read_exact_at(&mut buf, here.offset))
            .map_err(|e| DataError::Internal(format!("reading {}: {e}", path.display())))?;
        // Sized from the file, not from the (trusted only so far) row count.
        let mut rows = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(len + 1));
        let mut at = 0usize;
        for _ in 0..count {
            let mut row = Vec::with_capacity(self.columns.len());
            for _ in 0..self.columns.len() {
                let head = buf.get(at..at + 4).ok_or_else(|| corrupt("is truncated"))?;
                let n = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
                at += 4;
                if n == NULL_LEN {
                    row.push(None);
                    continue;
                }
                let n = n as usize;
                let text = buf.get(at..at + n).ok_or_else(|| corrupt("is truncated"))?;
                at += n;
                row.push(Some(String::from_utf8_lossy(text).into_owned()));
            }
            rows.push(row);
        }
        Ok((rows, next.map(|p| p.row)))
    }

    /// The JSON page starting at row `start`: its records and the next page's first row.
    pub fn page(&self, start: u64) -> Result<(Vec<Vec<Field>>, Option<u64>), DataError> {
        self.expect(Format::Json)?;
        let (rows, next) = self.read_page(start)?;
        let records = rows
            .iter()
            .map(|r| {
                r.iter()
                    .zip(&self.columns)
                    .map(|(v, c)| field(v.as_deref(), c.kind))
                    .collect()
            })
            .collect();
        Ok((records, next))
    }

    /// The CSV page starting at row `start` (a header line first on the first page).
    pub fn csv_page(&self, start: u64) -> Result<(String, Option<u64>), DataError> {
        self.expect(Format::Csv)?;
        let (rows, next) = self.read_page(start)?;
        let mut out = String::new();
        if start == 0 {
            let names: Vec<String> = self.columns.iter().map(|c| csv_value(&c.name)).collect();
            out.push_str(&names.join(","));
            out.push('\n');
        }
        for r in &rows {
            let vals: Vec<String> = r
                .iter()
                .map(|v| v.as_deref().map(csv_value).unwrap_or_default())
                .collect();
            out.push_str(&vals.join(","));
            out.push('\n');
        }
        Ok((out, next))
    }

    /// Pages are cut for one format; the statement's format was checked before.
    fn expect(&self, f: Format) -> Result<(), DataError> {
        if self.format == f {
            Ok(())
        } else {
            Err(DataError::Internal(format!(
                "result stored as {:?}, read as {f:?}",
                self.format
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::ValueKind;

    fn column(name: &str, kind: ValueKind) -> Column {
        Column {
            name: name.into(),
            kind: Some(kind),
            ..Column::default()
        }
    }

    fn write(
        dir: &tempfile::TempDir,
        format: Format,
        limits: Limits,
        columns: &[Column],
        rows: &[Vec<Option<String>>],
    ) -> Result<ResultFile, SqlFailure> {
        let mut w = ResultWriter::new(dir.path().join("r"), format, limits);
        w.columns(columns)?;
        for r in rows {
            let v: Vec<Option<&str>> = r.iter().map(Option::as_deref).collect();
            w.row(&v)?;
        }
        w.finish(columns.to_vec())
    }

    #[test]
    fn pages_cut_by_size_and_cover_every_row_once() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<_> = (0..3000)
            .map(|i| vec![Some(format!("{i:01000}"))])
            .collect();
        let rs = write(
            &dir,
            Format::Json,
            Limits::AWS,
            &[column("v", ValueKind::String)],
            &rows,
        )
        .unwrap();
        let (mut seen, mut next, mut pages) = (0, Some(0), 0);
        while let Some(start) = next {
            let (recs, n) = rs.page(start).unwrap();
            assert!(!recs.is_empty());
            for (k, r) in recs.iter().enumerate() {
                let want = format!("{:01000}", seen + k);
                assert_eq!(r[0].string_value.as_deref(), Some(want.as_str()));
            }
            seen += recs.len();
            next = n;
            pages += 1;
        }
        assert_eq!(seen, 3000);
        assert!(pages >= 3, "{pages} pages");
        // A position that is not a page's start is refused, not misread.
        assert!(matches!(rs.page(1), Err(DataError::Validation(_))));
    }

    #[test]
    fn values_nulls_and_types_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let cols = [
            column("n", ValueKind::Long),
            column("s", ValueKind::String),
            column("b", ValueKind::Blob),
        ];
        let rows = vec![
            vec![
                Some("-7".into()),
                Some("é, \"q\"\n".into()),
                Some("\\x00ff".into()),
            ],
            vec![None, Some(String::new()), None],
        ];
        let rs = write(&dir, Format::Json, Limits::AWS, &cols, &rows).unwrap();
        assert_eq!((rs.rows(), rs.size()), (2, 16));
        let (recs, next) = rs.page(0).unwrap();
        assert_eq!(next, None);
        assert_eq!(recs[0][0].long_value, Some(-7));
        assert_eq!(recs[0][1].string_value.as_deref(), Some("é, \"q\"\n"));
        assert_eq!(
            recs[0][2].blob_value,
            Some(tidemark_model::Blob(vec![0, 255]))
        );
        assert_eq!(recs[1][0].is_null, Some(true));
        assert_eq!(recs[1][1].string_value.as_deref(), Some(""));
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let dir = tempfile::tempdir().unwrap();
        let rows = vec![vec![Some("x,\"y\"".into())], vec![None]];
        let rs = write(
            &dir,
            Format::Csv,
            Limits::AWS,
            &[column("a", ValueKind::String)],
            &rows,
        )
        .unwrap();
        assert_eq!(rs.csv_page(0).unwrap().0, "a\n\"x,\"\"y\"\"\"\n\n");
    }

    #[test]
    fn csv_pages_carry_every_line_once_and_the_header_first() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<_> = (0..5000).map(|i| vec![Some(format!("{i:0500}"))]).collect();
        let rs = write(
            &dir,
            Format::Csv,
            Limits::AWS,
            &[column("v", ValueKind::String)],
            &rows,
        )
        .unwrap();
        let (mut all, mut next, mut pages) = (String::new(), Some(0), 0);
        while let Some(start) = next {
            let (csv, n) = rs.csv_page(start).unwrap();
            assert!(csv.len() <= PAGE_BYTES + 1000, "{} bytes", csv.len());
            all.push_str(&csv);
            next = n;
            pages += 1;
        }
        let want: String = std::iter::once("v\n".to_owned())
            .chain((0..5000).map(|i| format!("{i:0500}\n")))
            .collect();
        assert_eq!(all, want);
        assert!(pages >= 2, "{pages} pages");
    }

    #[test]
    fn limits_stop_the_writer_and_leave_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let small = Limits {
            row: 100,
            result: 1000,
            keep_free: None,
        };
        let col = [column("v", ValueKind::String)];
        let wide = vec![vec![Some("x".repeat(101))]];
        let e = write(&dir, Format::Json, small, &col, &wide).unwrap_err();
        assert_eq!(e.message, ROW_TOO_LARGE);
        let many: Vec<_> = (0..11).map(|_| vec![Some("y".repeat(100))]).collect();
        let e = write(&dir, Format::Json, small, &col, &many).unwrap_err();
        assert_eq!(
            (e.sqlstate.as_str(), e.message.as_str()),
            ("54000", RESULT_TOO_LARGE)
        );
        // Exactly at the limit is allowed.
        let rs = write(&dir, Format::Json, small, &col, &many[..10]).unwrap();
        assert_eq!(rs.size(), 1000);
        rs.discard();
        drop(rs);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn results_leave_the_disks_last_bytes_free() {
        let dir = tempfile::tempdir().unwrap();
        let full = Limits {
            keep_free: Some(u64::MAX),
            ..Limits::AWS
        };
        let col = [column("v", ValueKind::String)];
        let e = write(&dir, Format::Json, full, &col, &[vec![Some("x".into())]]).unwrap_err();
        assert!(e.message.contains("keeps its last"), "{}", e.message);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert_eq!(keep_free(400 << 30), 4 << 30);
        assert_eq!(keep_free(40 << 30), 1 << 30);
    }

    #[test]
    fn a_damaged_index_is_an_error_not_an_allocation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r");
        std::fs::write(&path, [1, 0, 0, 0, b'x']).unwrap();
        let cols = vec![column("v", ValueKind::String)];
        let start = vec![PageStart { row: 0, offset: 0 }];
        let huge = ResultFile::restore(
            Some(path.clone()),
            cols.clone(),
            Format::Json,
            u64::MAX,
            1,
            u64::MAX,
            start.clone(),
        );
        assert!(matches!(huge.page(0), Err(DataError::Internal(_))));
        // More rows claimed than the bytes hold: truncated, not read past the end.
        let short = ResultFile::restore(Some(path), cols, Format::Json, 2, 1, 5, start);
        assert!(matches!(short.page(0), Err(DataError::Internal(_))));
    }

    #[test]
    fn the_file_goes_with_its_result() {
        let dir = tempfile::tempdir().unwrap();
        let rs = write(
            &dir,
            Format::Json,
            Limits::AWS,
            &[column("v", ValueKind::Long)],
            &[vec![Some("1".into())]],
        )
        .unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // Kept when merely dropped (the server stopping), removed once discarded.
        let path = rs.path.clone();
        drop(rs);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let rs = ResultFile::restore(path, vec![], Format::Json, 1, 1, 5, vec![]);
        rs.discard();
        drop(rs);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // No rows: no file at all, and an empty first page.
        let rs = write(
            &dir,
            Format::Json,
            Limits::AWS,
            &[column("v", ValueKind::Long)],
            &[],
        )
        .unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert_eq!(rs.page(0).unwrap(), (Vec::new(), None));
    }
}
