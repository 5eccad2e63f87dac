//! The user's own configuration files, outside every ledger: `$XDG_CONFIG_HOME/smartup/`,
//! else `~/.config/smartup/`. Secrets (API tokens) live there, never in a ledger.

use std::path::{Path, PathBuf};

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
