//! `verify`: checks every invariant of vault-format.md §3 and names what each damage affects.

use crate::error::{Result, VaultError};
use crate::format::{self, Entry};
use crate::gc::slice;
use crate::id::{Id, ManifestId};
use crate::reader::decode_blob;
use crate::store::keys;
use crate::vault::{Account, Loc, Vault};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// One damaged object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    /// Object key (or `accounts/<a>/index` for chunks listed in no index).
    pub object: String,
    pub kind: ProblemKind,
    pub detail: String,
    /// Backups that can no longer be read in full, as `<account>/<manifest id>`.
    pub affected_manifests: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ProblemKind {
    Missing,
    Corrupt,
    MissingIndexEntry,
}

/// The result of `verify`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub accounts: u64,
    pub manifests: u64,
    pub indexes: u64,
    pub packs: u64,
    pub chunks_checked: u64,
    pub bytes_read: u64,
    pub problems: Vec<Problem>,
    /// Packs in no index: harmless leftovers that `gc` reclaims.
    pub unreferenced_packs: Vec<String>,
}

impl Vault {
    /// Checks structure; with `read_data`, also every byte of every pack.
    pub fn verify(&self, read_data: bool) -> Result<VerifyReport> {
        self.verify_with(read_data, &mut |_| {})
    }

    /// `verify`, reporting each object as it is checked (for progress display).
    pub fn verify_with(
        &self,
        read_data: bool,
        on_object: &mut dyn FnMut(&str),
    ) -> Result<VerifyReport> {
        let mut r = VerifyReport::default();
        for name in self.block_on(self.account_names())? {
            let acct = self.account(&name)?;
            self.block_on(self.verify_account(&acct, read_data, &mut r, on_object))?;
            r.accounts += 1;
        }
        r.ok = r.problems.is_empty();
        Ok(r)
    }

    async fn verify_account(
        &self,
        acct: &Account,
        read_data: bool,
        r: &mut VerifyReport,
        on_object: &mut dyn FnMut(&str),
    ) -> Result<()> {
        let store = self.store();
        let name = &acct.name;
        let listed: HashMap<Id, u64> = store
            .list(&keys::dir(name, keys::PACKS))
            .await?
            .into_iter()
            .filter_map(|(n, s)| Some((Id::from_hex(&n)?, s)))
            .collect();
        // Indexes: every pack they name, with its entries.
        let mut packs: BTreeMap<Id, (u64, Vec<Entry>)> = BTreeMap::new();
        for (n, _) in store.list(&keys::dir(name, keys::INDEX)).await? {
            let Some(id) = Id::from_hex(&n) else { continue };
            on_object(&acct.key(keys::INDEX, &id));
            r.indexes += 1;
            match self.load_index(acct, &id).await {
                Ok(ps) => {
                    for p in ps {
                        let slot = packs.entry(p.pack).or_insert((p.pack_len, Vec::new()));
                        slot.1.extend(p.entries);
                    }
                }
                Err(e) => r.problems.push(problem_from(e, acct.key(keys::INDEX, &id))),
            }
        }
        // Packs: present, right length, and (with read_data) every blob intact.
        let mut bad: HashMap<Id, (ProblemKind, String, HashSet<Id>)> = HashMap::new();
        let mut locs: HashMap<Id, Vec<Id>> = HashMap::new();
        let mut raw_lens: HashMap<Id, u32> = HashMap::new();
        for (pack, (len, entries)) in &packs {
            for e in entries {
                locs.entry(e.chunk).or_default().push(*pack);
                raw_lens.insert(e.chunk, e.raw_len);
            }
            let key = acct.key(keys::PACKS, pack);
            on_object(&key);
            r.packs += 1;
            let all: HashSet<Id> = entries.iter().map(|e| e.chunk).collect();
            match listed.get(pack) {
                None => {
                    bad.insert(
                        *pack,
                        (
                            ProblemKind::Missing,
                            "pack named in an index does not exist".into(),
                            all,
                        ),
                    );
                    continue;
                }
                Some(size) if size != len => {
                    let d = format!("pack is {size} bytes, index says {len}");
                    bad.insert(*pack, (ProblemKind::Corrupt, d, all));
                    continue;
                }
                Some(_) => {}
            }
            if read_data && let Some(b) = self.check_pack(acct, pack, entries, r).await? {
                bad.insert(*pack, b);
            }
        }
        for p in listed.keys().filter(|p| !packs.contains_key(p)) {
            r.unreferenced_packs.push(acct.key(keys::PACKS, p));
        }
        // Manifests: every chunk must have a good copy somewhere.
        let mut no_index: BTreeSet<String> = BTreeSet::new();
        let mut first_missing = None;
        let mut affected: HashMap<Id, BTreeSet<String>> = HashMap::new();
        for id in self.manifest_ids(name).await? {
            let label = format!("{name}/{id}");
            let key = acct.key(keys::MANIFESTS, &id.0);
            on_object(&key);
            r.manifests += 1;
            let body = match self.load_manifest(acct, &id).await {
                Ok((_, b)) => b,
                Err(VaultError::ManifestNotFound { .. }) => continue, // deleted meanwhile
                Err(e) => {
                    let mut p = problem_from(e, key);
                    p.affected_manifests.push(label);
                    r.problems.push(p);
                    continue;
                }
            };
            // Version 2: every extent must lie inside its chunk's raw bytes.
            if let Some(p) = check_extents(&body, &raw_lens, &key, &label) {
                r.problems.push(p);
            }
            let chunks = body.chunks;
            for c in chunks {
                let Some(ps) = locs.get(&c) else {
                    no_index.insert(label.clone());
                    first_missing.get_or_insert(c);
                    continue;
                };
                let good = ps
                    .iter()
                    .any(|p| !bad.get(p).is_some_and(|b| b.2.contains(&c)));
                if !good {
                    for p in ps {
                        affected.entry(*p).or_default().insert(label.clone());
                    }
                }
            }
        }
        let mut bad: Vec<_> = bad.into_iter().collect();
        bad.sort_by_key(|b| b.0);
        for (pack, (kind, detail, _)) in bad {
            r.problems.push(Problem {
                object: acct.key(keys::PACKS, &pack),
                kind,
                detail,
                affected_manifests: affected
                    .remove(&pack)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
            });
        }
        if let Some(c) = first_missing {
            r.problems.push(Problem {
                object: keys::dir(name, keys::INDEX),
                kind: ProblemKind::MissingIndexEntry,
                detail: format!("chunks referenced by manifests are listed in no index (e.g. {c})"),
                affected_manifests: no_index.into_iter().collect(),
            });
        }
        Ok(())
    }

    /// Reads a whole pack: its id, footer, and each indexed blob's hash.
    async fn check_pack(
        &self,
        acct: &Account,
        pack: &Id,
        entries: &[Entry],
        r: &mut VerifyReport,
    ) -> Result<Option<(ProblemKind, String, HashSet<Id>)>> {
        let key = acct.key(keys::PACKS, pack);
        let Some(bytes) = self.store().get(&key).await? else {
            let all = entries.iter().map(|e| e.chunk).collect();
            return Ok(Some((ProblemKind::Missing, "pack vanished".into(), all)));
        };
        r.bytes_read += bytes.len() as u64;
        let mut broken = HashSet::new();
        let mut dec = zstd::bulk::Decompressor::new()?;
        for e in entries {
            r.chunks_checked += 1;
            let ok = slice(&key, &bytes, e)
                .and_then(|b| {
                    decode_blob(
                        &key,
                        b,
                        &Loc {
                            pack: *pack,
                            entry: *e,
                        },
                        &mut dec,
                    )
                })
                .is_ok_and(|raw| acct.keys.hash(&raw) == e.chunk);
            if !ok {
                broken.insert(e.chunk);
            }
        }
        let mut details = Vec::new();
        if !broken.is_empty() {
            details.push(format!("{} chunk(s) fail their hash", broken.len()));
        }
        if acct.keys.hash(&bytes) != *pack {
            details.push("content does not match its id".into());
        }
        if let Err(e) = format::parse_pack(&key, &bytes) {
            details.push(e.to_string());
        }
        if details.is_empty() {
            return Ok(None);
        }
        Ok(Some((ProblemKind::Corrupt, details.join("; "), broken)))
    }
}

/// The first extent of a v2 manifest that reaches past the end of its (indexed) chunk, and
/// how many do. Chunks in no index are reported apart (`MissingIndexEntry`).
fn check_extents(
    body: &format::Manifest,
    raw_lens: &HashMap<Id, u32>,
    key: &str,
    label: &str,
) -> Option<Problem> {
    let extents = body.extents.as_ref()?;
    let mut bad = 0u64;
    let mut first = None;
    for (i, e) in extents.iter().enumerate() {
        let chunk = body.chunks[e.chunk as usize];
        let Some(&raw) = raw_lens.get(&chunk) else {
            continue;
        };
        if u64::from(e.offset) + u64::from(e.len) > u64::from(raw) {
            bad += 1;
            first.get_or_insert(format!(
                "extent {i} (chunk {chunk}, offset {}, length {}) lies past the end of its \
                 chunk ({raw} bytes)",
                e.offset, e.len
            ));
        }
    }
    let first = first?;
    Some(Problem {
        object: key.to_string(),
        kind: ProblemKind::Corrupt,
        detail: format!("{bad} extent(s) outside their chunk, e.g. {first}"),
        affected_manifests: vec![label.to_string()],
    })
}

fn problem_from(e: VaultError, object: String) -> Problem {
    let kind = match e {
        VaultError::Missing { .. } | VaultError::ManifestNotFound { .. } => ProblemKind::Missing,
        _ => ProblemKind::Corrupt,
    };
    Problem {
        object,
        kind,
        detail: e.to_string(),
        affected_manifests: Vec::new(),
    }
}

/// Lets callers parse `<account>/<manifest id>` labels from reports.
pub fn parse_label(label: &str) -> Option<(&str, ManifestId)> {
    let (a, id) = label.split_once('/')?;
    Some((a, Id::from_hex(id).map(ManifestId)?))
}
