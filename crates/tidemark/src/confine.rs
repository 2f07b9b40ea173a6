//! Keeps the paths that admin calls name inside one root directory: the exchange directory
//! (`serve --exchange-dir`) for backup export and import.
//!
//! A relative path is taken relative to the root; an absolute one must resolve under it.
//! `..` components are refused outright (they are never needed to name a place under the
//! root). Symlinks are followed as the file system would follow them: the deepest
//! existing ancestor of the path is canonicalized and must lie under the canonicalized
//! root, and the rest of the path (which does not exist yet) is plain names. What is left is
//! a check-then-use race against someone who can already write symlinks into the root.

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use thiserror::Error;

/// Why a path was refused; the message names the root.
#[derive(Debug, Error)]
pub enum Refused {
    #[error("{path:?} has a `..` component; name a directory under {root} without `..`")]
    ParentComponent { path: String, root: String },
    #[error("{path:?} is outside {root}, the only directory admin calls may name")]
    Outside { path: String, root: String },
    #[error("{path:?} leads through {link} out of {root}, the only directory admin calls may name")]
    SymlinkEscape {
        path: String,
        link: String,
        root: String,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl Refused {
    /// The HTTP status: an escape is forbidden; an I/O failure is a bad directory.
    pub fn status(&self) -> u16 {
        match self {
            Refused::Io { .. } => 400,
            _ => 403,
        }
    }

    /// A short, stable code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Refused::Io { .. } => "InvalidDirectory",
            _ => "PathOutsideRoot",
        }
    }
}

/// A root directory, canonicalized once it exists.
#[derive(Debug, Clone)]
pub struct Root {
    path: PathBuf,
}

impl Root {
    /// The root at `path`; nothing is touched until a path is resolved.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Creates the root if missing and returns its canonical form.
    fn canonical(&self) -> Result<PathBuf, Refused> {
        let io = |source| Refused::Io {
            what: format!("root directory {}", self.path.display()),
            source,
        };
        std::fs::create_dir_all(&self.path).map_err(io)?;
        std::fs::canonicalize(&self.path).map_err(io)
    }

    /// Where `path` (relative to the root, or absolute) lands, with every existing symlink
    /// resolved, or why it may not be used.
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, Refused> {
        let root = self.canonical()?;
        let shown = || path.display().to_string();
        let root_shown = || root.display().to_string();
        if path.components().any(|c| c == Component::ParentDir) {
            return Err(Refused::ParentComponent {
                path: shown(),
                root: root_shown(),
            });
        }
        let full = root.join(path);
        // The deepest ancestor that exists (as a file, directory or symlink).
        let mut existing = full.as_path();
        let mut rest = Vec::new();
        while std::fs::symlink_metadata(existing).is_err() {
            match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_owned());
                    existing = parent;
                }
                // Only `/` has no parent, and it exists; a path without a file name ends
                // in `.`, which `components` dropped already.
                _ => break,
            }
        }
        let resolved = match std::fs::canonicalize(existing) {
            Ok(p) => p,
            // A dangling symlink: where it would lead cannot be checked, so it is refused.
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(Refused::SymlinkEscape {
                    path: shown(),
                    link: existing.display().to_string(),
                    root: root_shown(),
                });
            }
            Err(source) => {
                return Err(Refused::Io {
                    what: existing.display().to_string(),
                    source,
                });
            }
        };
        if !resolved.starts_with(&root) {
            if path.is_absolute() && !full_lexically_under(path, &root, &self.path) {
                return Err(Refused::Outside {
                    path: shown(),
                    root: root_shown(),
                });
            }
            return Err(Refused::SymlinkEscape {
                path: shown(),
                link: existing.display().to_string(),
                root: root_shown(),
            });
        }
        Ok(rest.iter().rev().fold(resolved, |p, name| p.join(name)))
    }
}

/// Whether an absolute `path` names a place under the root by its spelling (either the
/// canonical root or the root as configured), to tell "outside" from "escapes by a symlink".
fn full_lexically_under(path: &Path, canonical: &Path, configured: &Path) -> bool {
    path.starts_with(canonical) || path.starts_with(configured)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root_dir = tmp.path().join("root");
        let root = Root::new(&root_dir);
        let canon = std::fs::canonicalize(tmp.path()).unwrap().join("root");

        assert_eq!(root.resolve(Path::new("a/b")).unwrap(), canon.join("a/b"));
        assert!(root_dir.is_dir(), "the root is created on demand");
        assert_eq!(root.resolve(Path::new("")).unwrap(), canon);
        assert_eq!(
            root.resolve(&root_dir.join("x")).unwrap(),
            canon.join("x"),
            "an absolute path under the root"
        );
        let err = root.resolve(Path::new("../x")).unwrap_err();
        assert!(matches!(err, Refused::ParentComponent { .. }), "{err}");
        assert!(err.to_string().contains(&canon.display().to_string()));
        let err = root.resolve(&root_dir.join("a/../../x")).unwrap_err();
        assert!(matches!(err, Refused::ParentComponent { .. }), "{err}");
        let err = root.resolve(&tmp.path().join("elsewhere")).unwrap_err();
        assert!(matches!(err, Refused::Outside { .. }), "{err}");
        assert_eq!(err.status(), 403);
        let err = root.resolve(Path::new("/etc")).unwrap_err();
        assert!(matches!(err, Refused::Outside { .. }), "{err}");

        #[cfg(unix)]
        {
            let outside = tmp.path().join("outside");
            std::fs::create_dir(&outside).unwrap();
            std::os::unix::fs::symlink(&outside, root_dir.join("out")).unwrap();
            std::os::unix::fs::symlink(tmp.path().join("gone"), root_dir.join("dangling")).unwrap();
            std::fs::create_dir(root_dir.join("in")).unwrap();
            std::os::unix::fs::symlink(root_dir.join("in"), root_dir.join("inner")).unwrap();
            for escape in ["out", "out/new/deeper", "dangling/x"] {
                let err = root.resolve(Path::new(escape)).unwrap_err();
                assert!(
                    matches!(err, Refused::SymlinkEscape { .. }),
                    "{escape}: {err}"
                );
            }
            let err = root.resolve(&root_dir.join("out/x")).unwrap_err();
            assert!(matches!(err, Refused::SymlinkEscape { .. }), "{err}");
            assert_eq!(
                root.resolve(Path::new("inner/x")).unwrap(),
                canon.join("in/x"),
                "a symlink that stays inside is followed"
            );
        }
    }
}
