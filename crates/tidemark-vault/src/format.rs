//! Byte layouts of packs, indexes and manifests (vault-format.md §2.2–2.4): packs and
//! indexes version 1, manifests version 1 (chunk list) or 2 (chunk table and extents).

use crate::error::{Result, VaultError};
use crate::id::Id;

pub const PACK_MAGIC: &[u8; 8] = b"TMVPACK\0";
pub const PACK_END: &[u8; 8] = b"TMVPEND\0";
pub const INDEX_MAGIC: &[u8; 8] = b"TMVINDX\0";
pub const MANIFEST_MAGIC: &[u8; 8] = b"TMVMANI\0";
pub const VERSION: u32 = 1;
/// Manifest version 2: a chunk table and extents (vault-format.md §2.4).
pub const MANIFEST_VERSION_2: u32 = 2;
/// Bytes of one v2 extent: chunk index u32 | offset u32 | length u32.
pub const EXTENT_LEN: usize = 12;
pub const PACK_HEADER_LEN: usize = 16;
pub const ENTRY_LEN: usize = 52;
/// Bit 0 of an entry's flags: the blob is zstd-compressed.
pub const FLAG_ZSTD: u32 = 1;

/// Where one chunk lives inside a pack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub chunk: Id,
    pub offset: u64,
    pub stored_len: u32,
    pub raw_len: u32,
    pub flags: u32,
}

/// One pack's section of an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackEntries {
    pub pack: Id,
    pub pack_len: u64,
    pub entries: Vec<Entry>,
}

/// A little-endian cursor that reports truncation as corruption of `object`.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    object: &'a str,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        let end = end.ok_or_else(|| VaultError::corrupt(self.object, "truncated"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }
    fn u64(&mut self) -> Result<u64> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }
    fn id(&mut self) -> Result<Id> {
        let mut b = [0u8; 32];
        b.copy_from_slice(self.take(32)?);
        Ok(Id(b))
    }
    fn header(&mut self, magic: &[u8; 8]) -> Result<()> {
        self.header_max(magic, VERSION).map(|_| ())
    }
    /// Checks the magic and accepts versions `1..=max`; returns the version.
    fn header_max(&mut self, magic: &[u8; 8], max: u32) -> Result<u32> {
        if self.take(8)? != magic {
            return Err(VaultError::corrupt(self.object, "bad magic"));
        }
        let v = self.u32()?;
        if !(1..=max).contains(&v) {
            return Err(VaultError::UnsupportedVersion(v));
        }
        Ok(v)
    }
    fn entry(&mut self) -> Result<Entry> {
        Ok(Entry {
            chunk: self.id()?,
            offset: self.u64()?,
            stored_len: self.u32()?,
            raw_len: self.u32()?,
            flags: self.u32()?,
        })
    }
}

fn put_entry(out: &mut Vec<u8>, e: &Entry) {
    out.extend_from_slice(&e.chunk.0);
    out.extend_from_slice(&e.offset.to_le_bytes());
    out.extend_from_slice(&e.stored_len.to_le_bytes());
    out.extend_from_slice(&e.raw_len.to_le_bytes());
    out.extend_from_slice(&e.flags.to_le_bytes());
}

/// Builds a pack in memory: header, blobs, then the footer on `finish`.
pub struct PackBuilder {
    pub buf: Vec<u8>,
    pub entries: Vec<Entry>,
}

impl Default for PackBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl PackBuilder {
    pub fn new() -> Self {
        Self::with_capacity(1 << 20)
    }

    /// A builder whose buffer holds `capacity` bytes before it must grow.
    pub fn with_capacity(capacity: usize) -> Self {
        Self::reusing(Vec::with_capacity(capacity.max(PACK_HEADER_LEN)))
    }

    /// A builder writing into `buf` (cleared first), e.g. an earlier pack's buffer once its
    /// upload is done, so a long store keeps reusing the same memory.
    pub fn reusing(mut buf: Vec<u8>) -> Self {
        buf.clear();
        buf.extend_from_slice(PACK_MAGIC);
        buf.extend_from_slice(&VERSION.to_le_bytes());
        buf.extend_from_slice(&0u32.to_le_bytes());
        PackBuilder {
            buf,
            entries: Vec::new(),
        }
    }

    pub fn add(&mut self, chunk: Id, blob: &[u8], raw_len: u32, flags: u32) {
        self.entries.push(Entry {
            chunk,
            offset: self.buf.len() as u64,
            stored_len: blob.len() as u32,
            raw_len,
            flags,
        });
        self.buf.extend_from_slice(blob);
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Appends the footer and returns the pack bytes and its entries.
    pub fn finish(mut self) -> (Vec<u8>, Vec<Entry>) {
        for e in &self.entries {
            put_entry(&mut self.buf, e);
        }
        self.buf
            .extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(PACK_END);
        (self.buf, self.entries)
    }
}

/// Parses a whole pack's header and footer (blobs are checked by the caller).
pub fn parse_pack(object: &str, pack: &[u8]) -> Result<Vec<Entry>> {
    let mut c = Cursor {
        buf: pack,
        pos: 0,
        object,
    };
    c.header(PACK_MAGIC)?;
    if pack.len() < PACK_HEADER_LEN + 12 || &pack[pack.len() - 8..] != PACK_END {
        return Err(VaultError::corrupt(object, "bad pack trailer"));
    }
    let mut n = [0u8; 4];
    n.copy_from_slice(&pack[pack.len() - 12..pack.len() - 8]);
    let n = u32::from_le_bytes(n) as usize;
    let footer_len = n
        .checked_mul(ENTRY_LEN)
        .filter(|l| l + 12 + PACK_HEADER_LEN <= pack.len())
        .ok_or_else(|| VaultError::corrupt(object, "bad entry count"))?;
    c.pos = pack.len() - 12 - footer_len;
    (0..n).map(|_| c.entry()).collect()
}

pub fn encode_index(packs: &[PackEntries]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(INDEX_MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(packs.len() as u32).to_le_bytes());
    for p in packs {
        out.extend_from_slice(&p.pack.0);
        out.extend_from_slice(&p.pack_len.to_le_bytes());
        out.extend_from_slice(&(p.entries.len() as u32).to_le_bytes());
        for e in &p.entries {
            put_entry(&mut out, e);
        }
    }
    out
}

pub fn decode_index(object: &str, buf: &[u8]) -> Result<Vec<PackEntries>> {
    let mut c = Cursor {
        buf,
        pos: 0,
        object,
    };
    c.header(INDEX_MAGIC)?;
    let n = c.u32()?;
    let mut packs = Vec::new();
    for _ in 0..n {
        let pack = c.id()?;
        let pack_len = c.u64()?;
        let count = c.u32()?;
        let entries = (0..count).map(|_| c.entry()).collect::<Result<_>>()?;
        packs.push(PackEntries {
            pack,
            pack_len,
            entries,
        });
    }
    if c.pos != buf.len() {
        return Err(VaultError::corrupt(object, "trailing bytes"));
    }
    Ok(packs)
}

pub fn encode_manifest(meta: &[u8], chunks: &[Id]) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + meta.len() + chunks.len() * 32);
    out.extend_from_slice(MANIFEST_MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(meta);
    out.extend_from_slice(&(chunks.len() as u64).to_le_bytes());
    for c in chunks {
        out.extend_from_slice(&c.0);
    }
    out
}

/// A byte range of one chunk's raw (decompressed) bytes: `table[chunk][offset..offset+len]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    /// Index into the manifest's chunk table.
    pub chunk: u32,
    pub offset: u32,
    pub len: u32,
}

/// A manifest version 2: the record stream is the concatenation of `extents`.
pub fn encode_manifest_v2(meta: &[u8], table: &[Id], extents: &[Extent]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(32 + meta.len() + table.len() * 32 + extents.len() * EXTENT_LEN);
    out.extend_from_slice(MANIFEST_MAGIC);
    out.extend_from_slice(&MANIFEST_VERSION_2.to_le_bytes());
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(meta);
    out.extend_from_slice(&(table.len() as u64).to_le_bytes());
    for c in table {
        out.extend_from_slice(&c.0);
    }
    out.extend_from_slice(&(extents.len() as u64).to_le_bytes());
    for e in extents {
        out.extend_from_slice(&e.chunk.to_le_bytes());
        out.extend_from_slice(&e.offset.to_le_bytes());
        out.extend_from_slice(&e.len.to_le_bytes());
    }
    out
}

/// Length of the manifest header before `meta`.
pub const MANIFEST_HEADER_LEN: usize = 16;

/// Returns the meta length from the first 16 bytes of a manifest (version 1 or 2).
pub fn manifest_meta_len(object: &str, head: &[u8]) -> Result<usize> {
    let mut c = Cursor {
        buf: head,
        pos: 0,
        object,
    };
    c.header_max(MANIFEST_MAGIC, MANIFEST_VERSION_2)?;
    Ok(c.u32()? as usize)
}

/// A decoded manifest. `extents` is `None` for version 1: the stream is every chunk of
/// `chunks`, whole, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub meta: Vec<u8>,
    /// Version 1: the chunk list in stream order. Version 2: the chunk table.
    pub chunks: Vec<Id>,
    pub extents: Option<Vec<Extent>>,
}

pub fn decode_manifest(object: &str, buf: &[u8]) -> Result<Manifest> {
    let mut c = Cursor {
        buf,
        pos: 0,
        object,
    };
    let version = c.header_max(MANIFEST_MAGIC, MANIFEST_VERSION_2)?;
    let meta_len = c.u32()? as usize;
    let meta = c.take(meta_len)?.to_vec();
    let n = c.u64()?;
    let rest = (buf.len() - c.pos) as u64;
    let fits = n.checked_mul(32).is_some_and(|b| {
        if version == VERSION {
            b == rest
        } else {
            b + 8 <= rest
        }
    });
    if !fits {
        return Err(VaultError::corrupt(
            object,
            "chunk count does not match length",
        ));
    }
    let chunks: Vec<Id> = (0..n).map(|_| c.id()).collect::<Result<_>>()?;
    if version == VERSION {
        return Ok(Manifest {
            meta,
            chunks,
            extents: None,
        });
    }
    let m = c.u64()?;
    if m.checked_mul(EXTENT_LEN as u64) != Some((buf.len() - c.pos) as u64) {
        return Err(VaultError::corrupt(
            object,
            "extent count does not match length",
        ));
    }
    let mut extents = Vec::with_capacity(m as usize);
    for i in 0..m {
        let e = Extent {
            chunk: c.u32()?,
            offset: c.u32()?,
            len: c.u32()?,
        };
        if e.chunk as usize >= chunks.len() || e.len == 0 || e.offset.checked_add(e.len).is_none() {
            return Err(VaultError::corrupt(
                object,
                format!("extent {i} names no chunk of the table or is empty"),
            ));
        }
        extents.push(e);
    }
    Ok(Manifest {
        meta,
        chunks,
        extents: Some(extents),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_index_manifest_round_trip() {
        let mut p = PackBuilder::new();
        p.add(Id([1; 32]), b"hello", 5, 0);
        p.add(Id([2; 32]), b"zz", 9, FLAG_ZSTD);
        let (bytes, entries) = p.finish();
        assert_eq!(parse_pack("p", &bytes).unwrap(), entries);
        assert_eq!(&bytes[entries[1].offset as usize..][..2], b"zz");
        let idx = vec![PackEntries {
            pack: Id([3; 32]),
            pack_len: bytes.len() as u64,
            entries,
        }];
        assert_eq!(decode_index("i", &encode_index(&idx)).unwrap(), idx);
        let m = encode_manifest(b"{}", &[Id([4; 32])]);
        assert_eq!(manifest_meta_len("m", &m[..16]).unwrap(), 2);
        let d = decode_manifest("m", &m).unwrap();
        assert_eq!(
            (d.meta, d.chunks, d.extents),
            (b"{}".to_vec(), vec![Id([4; 32])], None)
        );
        assert!(decode_manifest("m", &m[..m.len() - 1]).is_err());
        let ext = vec![
            Extent {
                chunk: 1,
                offset: 7,
                len: 9,
            },
            Extent {
                chunk: 0,
                offset: 0,
                len: 3,
            },
        ];
        let m = encode_manifest_v2(b"{}", &[Id([4; 32]), Id([5; 32])], &ext);
        assert_eq!(manifest_meta_len("m", &m[..16]).unwrap(), 2);
        let d = decode_manifest("m", &m).unwrap();
        assert_eq!(d.chunks, vec![Id([4; 32]), Id([5; 32])]);
        assert_eq!(d.extents, Some(ext));
        assert!(decode_manifest("m", &m[..m.len() - 1]).is_err());
        // An extent naming a chunk past the table is refused.
        let bad = encode_manifest_v2(
            b"{}",
            &[Id([4; 32])],
            &[Extent {
                chunk: 1,
                offset: 0,
                len: 1,
            }],
        );
        assert!(decode_manifest("m", &bad).is_err());
    }
}

/// Golden values: any change to these bytes is a format change and needs a new version.
#[cfg(test)]
mod golden {
    use super::*;
    use crate::id::AccountKeys;

    fn digest(b: &[u8]) -> String {
        blake3::hash(b).to_hex().to_string()
    }

    #[test]
    fn layouts_and_ids_are_stable() {
        let keys = AccountKeys::derive(&[7u8; 32], "123456789012");
        let chunk = keys.hash(b"{\"pk\":{\"S\":\"a\"}}");
        let mut p = PackBuilder::new();
        p.add(chunk, b"blob", 17, FLAG_ZSTD);
        let (pack, entries) = p.finish();
        let index = encode_index(&[PackEntries {
            pack: keys.hash(&pack),
            pack_len: pack.len() as u64,
            entries,
        }]);
        let manifest = encode_manifest(b"{}", &[chunk]);
        let manifest2 = encode_manifest_v2(
            b"{}",
            &[chunk],
            &[Extent {
                chunk: 0,
                offset: 2,
                len: 5,
            }],
        );
        // header 16 + meta 2 + count 8 + one id 32 + count 8 + one extent 12
        assert_eq!(manifest2.len(), 78);
        // header 16 + blob 4 + one 52-byte entry + count 4 + end magic 8
        assert_eq!(pack.len(), 84);
        // header 16 + pack id 32 + length 8 + count 4 + one entry 52
        assert_eq!(index.len(), 112);
        // header 16 + meta 2 + count 8 + one id 32
        assert_eq!(manifest.len(), 58);
        let got = [
            chunk.to_hex(),
            format!("{:016x}", keys.gear_seed),
            digest(&pack),
            digest(&index),
            digest(&manifest),
            digest(&manifest2),
        ];
        assert_eq!(
            got, GOLDEN,
            "vault format changed (v1 layouts, v2 manifest)"
        );
    }

    const GOLDEN: [&str; 6] = [
        "73dc033df35a532df3e51287f5c887d67d9022732942d72b537e2c62e783b3e3",
        "2166cc7c705987cb",
        "43b93e805cdaf61a99f9325f651d9d3c38074946c9791f6b6a42ad6ea0c388fd",
        "2f7239212991a85e290b2a5e0adeabe4b7b184a3d0424ca199b6104ad134f0d4",
        "4ebe799464ca66e9cbd939fa416663cf6c48592169e807640a6e1ef57986480c",
        "5bb653a833db4b0a99e13a5305799cee1dc71c441f2be605ce656f915c81a5fa",
    ];
}
