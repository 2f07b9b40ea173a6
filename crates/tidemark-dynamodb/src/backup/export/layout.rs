//! DynamoDB's S3 export layout, as a real `ExportTableToPointInTime` (FULL_EXPORT,
//! DYNAMODB_JSON) leaves it under `[s3-prefix/]AWSDynamoDB/<ExportId>/`:
//!
//! * `_started`: empty, written first;
//! * `data/<26 base32 chars>.json.gz`: gzip'd JSON lines, one `{"Item":{…DynamoDB JSON…}}`
//!   per item (an empty table still gets one, empty, file);
//! * `manifest-files.json`: JSON lines `{"itemCount","md5Checksum","etag","dataFileS3Key"}`,
//!   one per data file; `md5Checksum` is the base64 MD5 of the compressed file, the keys are
//!   relative to the bucket root (`[prefix/]AWSDynamoDB/<ExportId>/data/…`);
//! * `manifest-summary.json`: version, exportArn, startTime, endTime, tableArn, tableId,
//!   exportTime, s3Bucket, s3Prefix, s3SseAlgorithm, s3SseKmsKeyId, manifestFilesS3Key,
//!   billedSizeBytes, itemCount, outputFormat, exportType;
//! * `manifest-summary.md5`, `manifest-files.md5`: the base64 MD5 of each manifest, no
//!   newline. (AWS's guide names these `.checksum`; real exports observed so far write
//!   `.md5`, so tidemark writes `.md5` and accepts either when importing.)
//!
//! tidemark adds `tidemark-table.json` (see [`TABLE_FILE`]) so a tidemark → tidemark round
//! trip needs no TableCreationParameters.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::write::GzEncoder;
use md5::{Digest, Md5};

use super::PortError;

pub const SUMMARY_FILE: &str = "manifest-summary.json";
pub const FILES_FILE: &str = "manifest-files.json";
pub const STARTED_FILE: &str = "_started";
pub const DATA_DIR: &str = "data";
/// tidemark's own addition: the source table (internal record and an AWS-shaped
/// TableCreationParameters), its backup ARN and name.
pub const TABLE_FILE: &str = "tidemark-table.json";
pub const SUMMARY_VERSION: &str = "2020-06-30";

/// A new data file starts after this many items or uncompressed bytes, whichever first.
pub const MAX_ITEMS_PER_FILE: u64 = 100_000;
pub const MAX_RAW_BYTES_PER_FILE: u64 = 64 << 20;

pub fn md5_base64(bytes: &[u8]) -> String {
    STANDARD.encode(Md5::digest(bytes))
}

/// Manifest times: ISO 8601 UTC with milliseconds, e.g. `2020-11-04T07:28:34.028Z`.
pub fn manifest_time(ms: i64) -> Result<String, PortError> {
    let t = tidemark_core::Timestamp::from_millisecond(ms).map_err(PortError::internal)?;
    Ok(t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// A data file name like AWS's: 26 characters of lowercase base32 from a random UUID.
pub fn random_file_stem() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let hex: String = tidemark_core::ids::uuid_request_id()
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect();
    // A UUID is 32 hex digits, so this parse cannot fail; 0 would only repeat a name.
    let mut n = u128::from_str_radix(&hex, 16).unwrap_or(0);
    (0..26)
        .map(|_| {
            let c = ALPHABET[(n & 31) as usize] as char;
            n >>= 5;
            c
        })
        .collect()
}

/// Writes `content` to `dir/name` and its base64 MD5 to `dir/<stem>.md5`.
pub fn write_with_md5(dir: &Path, name: &str, content: &[u8]) -> Result<(), PortError> {
    let stem = name.strip_suffix(".json").unwrap_or(name);
    write_file(&dir.join(name), content)?;
    write_file(
        &dir.join(format!("{stem}.md5")),
        md5_base64(content).as_bytes(),
    )
}

pub fn write_file(path: &Path, content: &[u8]) -> Result<(), PortError> {
    std::fs::write(path, content).map_err(|e| PortError::io(path, e))
}

/// A writer that hashes what passes through it.
struct Md5Writer<W> {
    inner: W,
    md5: Md5,
}

impl<W: Write> Write for Md5Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.md5.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// One line of `manifest-files.json`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataFileEntry {
    #[serde(default)]
    pub item_count: Option<u64>,
    #[serde(default)]
    pub md5_checksum: Option<String>,
    #[serde(default)]
    pub etag: Option<String>,
    pub data_file_s3_key: String,
}

/// A data file being written: gzip over an MD5 tap over the file.
pub struct DataFileWriter {
    path: PathBuf,
    key: String,
    gz: GzEncoder<Md5Writer<BufWriter<File>>>,
    pub items: u64,
    pub raw_bytes: u64,
}

impl DataFileWriter {
    /// Creates `root/data/<random>.json.gz`; `key_prefix` is `AWSDynamoDB/<ExportId>/`.
    pub fn create(root: &Path, key_prefix: &str) -> Result<DataFileWriter, PortError> {
        let name = format!("{}.json.gz", random_file_stem());
        let path = root.join(DATA_DIR).join(&name);
        let file = File::create(&path).map_err(|e| PortError::io(&path, e))?;
        let tap = Md5Writer {
            inner: BufWriter::with_capacity(1 << 20, file),
            md5: Md5::new(),
        };
        Ok(DataFileWriter {
            key: format!("{key_prefix}{DATA_DIR}/{name}"),
            gz: GzEncoder::new(tap, Compression::fast()),
            path,
            items: 0,
            raw_bytes: 0,
        })
    }

    pub fn is_full(&self) -> bool {
        self.items >= MAX_ITEMS_PER_FILE || self.raw_bytes >= MAX_RAW_BYTES_PER_FILE
    }

    /// Appends `{"Item":<item_json>}\n`; `item_json` must be one item's DynamoDB JSON.
    pub fn write_item(&mut self, item_json: &[u8]) -> Result<(), PortError> {
        let io = |e| PortError::io(&self.path, e);
        self.gz.write_all(b"{\"Item\":").map_err(io)?;
        self.gz.write_all(item_json).map_err(io)?;
        self.gz.write_all(b"}\n").map_err(io)?;
        self.items += 1;
        self.raw_bytes += item_json.len() as u64 + 10;
        Ok(())
    }

    pub fn finish(self) -> Result<DataFileEntry, PortError> {
        let path = self.path;
        let io = |e| PortError::io(&path, e);
        let mut tap = self.gz.finish().map_err(io)?;
        tap.flush().map_err(io)?;
        let digest = tap.md5.finalize();
        tap.inner
            .into_inner()
            .map_err(|e| PortError::io(&path, e.into_error()))?
            .sync_all()
            .map_err(io)?;
        Ok(DataFileEntry {
            item_count: Some(self.items),
            md5_checksum: Some(STANDARD.encode(digest)),
            // A single-part upload's S3 ETag is the hex MD5 of the object.
            etag: Some(digest.iter().map(|b| format!("{b:02x}")).collect()),
            data_file_s3_key: self.key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_times_and_digests_have_aws_shapes() {
        let stem = random_file_stem();
        assert_eq!(stem.len(), 26);
        assert!(
            stem.bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        );
        assert_ne!(stem, random_file_stem());
        assert_eq!(
            manifest_time(1_604_474_914_028).unwrap(),
            "2020-11-04T07:28:34.028Z"
        );
        // RFC 1321 test vector "abc", base64 of 900150983cd24fb0d6963f7d28e17f72.
        assert_eq!(md5_base64(b"abc"), "kAFQmDzST7DWlj99KOF/cg==");
    }

    #[test]
    fn data_file_round_trips_through_gzip_with_matching_md5() {
        use std::io::Read;
        let dir = std::env::temp_dir().join(format!("tm-layout-{}", random_file_stem()));
        std::fs::create_dir_all(dir.join(DATA_DIR)).unwrap();
        let mut w = DataFileWriter::create(&dir, "AWSDynamoDB/x/").unwrap();
        w.write_item(br#"{"pk":{"S":"a"}}"#).unwrap();
        w.write_item(br#"{"pk":{"S":"b"}}"#).unwrap();
        let e = w.finish().unwrap();
        assert_eq!(e.item_count, Some(2));
        let name = e.data_file_s3_key.strip_prefix("AWSDynamoDB/x/").unwrap();
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(e.md5_checksum.as_deref(), Some(md5_base64(&bytes).as_str()));
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(
            text,
            "{\"Item\":{\"pk\":{\"S\":\"a\"}}}\n{\"Item\":{\"pk\":{\"S\":\"b\"}}}\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
