//! Installing the hook shims from `hooks/` into bare repositories: Forgejo's layout
//! (`hooks/pre-receive.d/`, next to its own `gitea` script, which stays untouched) or plain
//! git's (`hooks/pre-receive`).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The line every shim carries, by which smartup recognises its own hooks.
pub const MARKER: &str = "# smartup-hook:";
const PRE_RECEIVE: &str = include_str!("../../hooks/pre-receive");
const POST_RECEIVE: &str = include_str!("../../hooks/post-receive");

/// Where a repository's hooks go.
fn targets(git_dir: &Path) -> [(PathBuf, &'static str); 2] {
    let hooks = git_dir.join("hooks");
    if hooks.join("pre-receive.d").is_dir() {
        [
            (hooks.join("pre-receive.d/smartup"), PRE_RECEIVE),
            (hooks.join("post-receive.d/smartup"), POST_RECEIVE),
        ]
    } else {
        [(hooks.join("pre-receive"), PRE_RECEIVE), (hooks.join("post-receive"), POST_RECEIVE)]
    }
}

fn is_ours(path: &Path) -> Result<bool> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text.contains(MARKER)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn git_dir(repo: &Path) -> Result<PathBuf> {
    let opened = git2::Repository::open_bare(repo)
        .or_else(|_| git2::Repository::open(repo))
        .with_context(|| format!("{} is not a git repository", repo.display()))?;
    Ok(opened.path().to_path_buf())
}

/// Installs the shims into one repository, pointing them at `binary`. Idempotent; refuses to
/// replace a hook that is not smartup's unless `force`. Returns the files written.
pub fn install(repo: &Path, binary: &Path, force: bool) -> Result<Vec<PathBuf>> {
    let git_dir = git_dir(repo)?;
    let binary = binary.to_str().context("the smartup binary's path is not UTF-8")?;
    if binary.contains(['"', '$', '`', '\\', '\n']) {
        bail!("the smartup binary's path {binary:?} contains characters a shell script cannot hold safely");
    }
    let targets = targets(&git_dir);
    for (path, _) in &targets {
        if !force && !is_ours(path)? {
            bail!(
                "{} exists and is not smartup's hook; move it aside or pass --force to replace it",
                path.display()
            );
        }
    }
    let mut written = Vec::new();
    for (path, template) in targets {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let script = template.replace("@SMARTUP@", binary);
        let tmp = path.with_extension("smartup-tmp");
        std::fs::write(&tmp, script).with_context(|| format!("cannot write {}", tmp.display()))?;
        set_executable(&tmp)?;
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot install {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(unix)]
fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) -> Result<()> {
    Ok(())
}

/// Removes smartup's shims from a repository (foreign hooks stay). Returns the files removed.
pub fn uninstall(repo: &Path) -> Result<Vec<PathBuf>> {
    let git_dir = git_dir(repo)?;
    let mut removed = Vec::new();
    for (path, _) in targets(&git_dir) {
        if path.exists() && is_ours(&path)? {
            std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
            removed.push(path);
        }
    }
    Ok(removed)
}

/// Builds the state cache for the ledger the repository holds now (if any), so that the
/// first push after installing costs what it adds rather than a replay from genesis.
pub fn warm_cache(repo: &Path) -> Result<()> {
    let repo = git2::Repository::open_bare(repo)
        .or_else(|_| git2::Repository::open(repo))
        .with_context(|| format!("{} is not a git repository", repo.display()))?;
    let Ok(tip) = repo.head().and_then(|h| h.peel_to_commit()).map(|c| c.id()) else {
        return Ok(());
    };
    let cache = crate::verify::cache::StateCache::of(&repo);
    let state = cache.state_at(&repo, tip, None).with_context(|| {
        format!(
            "the ledger in {} cannot be replayed; every push will be refused until it is repaired",
            repo.path().display()
        )
    })?;
    cache.store(tip, &state)?;
    Ok(())
}

/// Finds the ledger repositories under a Forgejo repository root (`ROOT/<owner>/<name>.git`):
/// bare repositories with a `ledger.toml` on their default branch.
pub fn find_ledgers(root: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let owners = std::fs::read_dir(root).with_context(|| format!("cannot read {}", root.display()))?;
    for owner in owners {
        let owner = owner?.path();
        if !owner.is_dir() {
            continue;
        }
        for repo in std::fs::read_dir(&owner).with_context(|| format!("cannot read {}", owner.display()))? {
            let path = repo?.path();
            if path.extension().is_some_and(|e| e == "git") && holds_ledger(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

fn holds_ledger(path: &Path) -> bool {
    let Ok(repo) = git2::Repository::open_bare(path) else {
        return false;
    };
    let tree = repo.head().and_then(|h| h.peel_to_tree());
    tree.is_ok_and(|t| t.get_name(crate::ledger::POLICY_FILE).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_idempotently_and_respects_foreign_hooks() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("r.git");
        git2::Repository::init_bare(&repo).unwrap();
        let bin = Path::new("/usr/local/bin/smartup");
        let written = install(&repo, bin, false).unwrap();
        assert!(written[0].ends_with("hooks/pre-receive"));
        assert!(std::fs::read_to_string(&written[0]).unwrap().contains("/usr/local/bin/smartup"));
        install(&repo, bin, false).unwrap();
        std::fs::write(repo.join("hooks/post-receive"), "#!/bin/sh\necho mine\n").unwrap();
        assert!(install(&repo, bin, false).is_err());
        assert_eq!(uninstall(&repo).unwrap().len(), 1);
        assert!(repo.join("hooks/post-receive").exists());
        install(&repo, bin, true).unwrap();
        assert!(std::fs::read_to_string(repo.join("hooks/post-receive")).unwrap().contains(MARKER));
    }

    #[test]
    fn uses_forgejo_layout_when_present() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("r.git");
        git2::Repository::init_bare(&repo).unwrap();
        std::fs::create_dir_all(repo.join("hooks/pre-receive.d")).unwrap();
        std::fs::write(repo.join("hooks/pre-receive.d/gitea"), "#!/bin/sh\n").unwrap();
        let written = install(&repo, Path::new("/opt/smartup"), false).unwrap();
        assert!(written[0].ends_with("hooks/pre-receive.d/smartup"));
        assert!(written[1].ends_with("hooks/post-receive.d/smartup"));
        assert!(repo.join("hooks/pre-receive.d/gitea").exists());
        assert!(install(&repo, Path::new("/opt/$(evil)"), false).is_err());
    }
}
