//! The private identity file: which Open Collective contributor (by slug) an invitation was
//! made for, their e-mail when an export had it, and the handle they joined with. It lives
//! outside every repository (`$SMARTUP_IDENTITIES`, else `~/.config/smartup/identities.toml`),
//! readable by its owner only (mode 0600), and is the only place that links a slug to a
//! handle. Each link is dated: slugs can change on Open Collective.

use crate::rules::State;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The variable that names the identity file.
pub const IDENTITIES_VARIABLE: &str = "SMARTUP_IDENTITIES";

const WARNING: &str = "# Private: links Open Collective contributors to ledger handles. Never commit, publish or paste\n\
                       # this file; smartup keeps it readable by its owner only (mode 0600).\n\n";

/// One contributor, by slug.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contributor {
    /// Their Open Collective slug (`guest-...` and `incognito-...` included).
    pub slug: String,
    /// Their e-mail, when an admin's export had it (for their Forgejo account).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    /// Seq of the invite row made for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation: Option<u64>,
    /// The handle they joined with, once they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// The day the slug was first seen in an export.
    pub first_seen: String,
    /// The day the slug was last seen in an export (or the link last confirmed).
    pub last_seen: String,
}

/// The identity file, loaded.
#[derive(Debug)]
pub struct Identities {
    path: PathBuf,
    /// The contributors, in the order first seen.
    pub contributors: Vec<Contributor>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default, rename = "contributor")]
    contributors: Vec<Contributor>,
}

/// The identity file's path: `$SMARTUP_IDENTITIES`, else `$XDG_CONFIG_HOME/smartup/identities.toml`,
/// else `~/.config/smartup/identities.toml`.
pub fn default_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(IDENTITIES_VARIABLE).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("smartup").join("identities.toml"))
}

impl Identities {
    /// Loads the file at `path` (none yet: empty). Refuses a file others can read.
    pub fn load(path: &Path) -> Result<Identities> {
        let contributors = match std::fs::read_to_string(path) {
            Ok(text) => {
                private_only(path)?;
                let file: File = toml::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("{} is not a valid identity file: {}", path.display(), e.message()))?;
                file.contributors
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read the identity file {}", path.display())),
        };
        Ok(Identities {
            path: path.to_path_buf(),
            contributors,
        })
    }

    /// Where it is kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The owner a slug belongs to: the handle recorded for it, or the one that claimed its
    /// invitation in the ledger; only a current owner counts.
    pub fn handle_of(&self, slug: &str, state: &State) -> Option<String> {
        let c = self.contributors.iter().find(|c| c.slug == slug)?;
        let joined = c
            .invitation
            .and_then(|seq| state.invitations.get(&seq))
            .and_then(|i| i.joined.clone());
        c.handle.clone().or(joined).filter(|h| state.owners.contains_key(h))
    }

    /// Notes that `slug` was seen today in an export, with its e-mail if the export had one.
    pub fn seen(&mut self, slug: &str, email: &str, today: &str) -> &mut Contributor {
        let i = match self.contributors.iter().position(|c| c.slug == slug) {
            Some(i) => i,
            None => {
                self.contributors.push(Contributor {
                    slug: slug.to_string(),
                    first_seen: today.to_string(),
                    ..Contributor::default()
                });
                self.contributors.len() - 1
            }
        };
        let c = &mut self.contributors[i];
        c.last_seen = today.to_string();
        if !email.is_empty() {
            c.email = email.to_string();
        }
        c
    }

    /// Fills in the handles of contributors whose invitation was claimed; returns how many.
    pub fn resolve_handles(&mut self, state: &State, today: &str) -> usize {
        let mut resolved = 0;
        for c in &mut self.contributors {
            let joined = c
                .invitation
                .and_then(|seq| state.invitations.get(&seq))
                .and_then(|i| i.joined.clone());
            if c.handle.is_none() && joined.is_some() {
                c.handle = joined;
                c.last_seen = today.to_string();
                resolved += 1;
            }
        }
        resolved
    }

    /// The e-mail known for an owner, if any.
    pub fn email_of(&self, handle: &str) -> Option<&str> {
        self.contributors
            .iter()
            .find(|c| c.handle.as_deref() == Some(handle) && !c.email.is_empty())
            .map(|c| c.email.as_str())
    }

    /// Writes the file atomically, readable by its owner only (its folder made 0700 if new).
    pub fn save(&self) -> Result<()> {
        let text = toml::to_string(&File {
            contributors: self.contributors.clone(),
        })
        .context("cannot write the identity file")?;
        let parent = self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !parent.exists() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
            set_mode(parent, 0o700)?;
        }
        let tmp = parent.join(format!(".identities.{}.tmp", std::process::id()));
        write_private(&tmp, format!("{WARNING}{text}").as_bytes())?;
        std::fs::rename(&tmp, &self.path).with_context(|| format!("cannot move {} into place", tmp.display()))
    }
}

#[cfg(unix)]
fn private_only(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "the identity file {} can be read by others (mode {mode:o}); it holds private data: run `chmod 600 {}` and try again",
            path.display(),
            path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_only(_: &Path) -> Result<()> {
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).with_context(|| format!("cannot protect {}", path.display()))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> Result<()> {
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}
