//! The user's own configuration files, outside every ledger: `$XDG_CONFIG_HOME/smartup/`,
//! else `~/.config/smartup/`. Secrets (API tokens) live there, never in a ledger.

use anyhow::{anyhow, Context, Result};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// A secret (an API token) and where it was found, for messages: an environment variable's
/// name or a file's path. The value is never printed.
#[derive(Clone)]
pub struct Secret {
    /// The secret itself.
    pub value: String,
    /// Where it came from.
    pub source: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(from {}, value hidden)", self.source)
    }
}

/// A secret from the environment variable `variable` when it is set and not blank, else what
/// `pick` finds in the user's TOML file `name` (parsed as `F`; a warning when others may read
/// it); `None` when neither has one.
pub fn secret<F: DeserializeOwned>(variable: &str, name: &str, pick: impl FnOnce(&F) -> Option<String>) -> Result<Option<Secret>> {
    if let Some(value) = std::env::var_os(variable) {
        let value = value.into_string().map_err(|_| anyhow!("{variable} is not valid text"))?;
        if !value.trim().is_empty() {
            return Ok(Some(Secret {
                value: value.trim().to_string(),
                source: variable.to_string(),
            }));
        }
    }
    let Some(path) = file(name).filter(|p| p.exists()) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let parsed: F = toml::from_str(&text).map_err(|e| anyhow!("{} is not a valid token file: {e}", path.display()))?;
    let Some(value) = pick(&parsed).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    warn_if_readable_by_others(&path);
    Ok(Some(Secret {
        value,
        source: path.display().to_string(),
    }))
}

/// How a file of the user's configuration is shown in messages: its path, or the usual one.
pub fn shown(name: &str) -> String {
    file(name).map_or(format!("~/.config/smartup/{name}"), |p| p.display().to_string())
}

/// The path of the file `name` in the user's smartup configuration folder, when a home is
/// known.
pub fn file(name: &str) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("smartup").join(name))
}

/// Warns on standard error when a file holding a secret may be read by others.
#[cfg(unix)]
pub fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "warning: {} holds a secret but others may read it; run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
}

/// Warns on standard error when a file holding a secret may be read by others.
#[cfg(not(unix))]
pub fn warn_if_readable_by_others(_path: &Path) {}
