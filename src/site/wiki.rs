//! Publishing the wiki pages: a plain git push of the site's `wiki/` folder to the ledger
//! repository's Forgejo wiki (`<repo>.wiki.git`), with the user's own `git` so their
//! credentials and SSH config apply. The wiki's history is kept: the new pages are committed
//! on top of what the wiki holds, and nothing is pushed when they did not change.

use anyhow::{anyhow, bail, Context, Result};
use std::path::Path;
use std::process::Command;

/// The branch a wiki without one gets (Forgejo's default wiki branch).
pub const DEFAULT_BRANCH: &str = "master";

/// What publishing did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Published {
    /// Where the pages went.
    pub remote: String,
    /// The wiki's branch.
    pub branch: String,
    /// The wiki commit pushed, or `None` when the wiki already held these pages.
    pub commit: Option<String>,
}

/// The wiki remote of a repository remote: `…/ledger.git` → `…/ledger.wiki.git`.
pub fn wiki_remote(remote: &str) -> String {
    let base = remote.trim_end_matches('/');
    let base = base.strip_suffix(".git").unwrap_or(base);
    format!("{base}.wiki.git")
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .context("cannot run git: is it installed?")?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.first().copied().unwrap_or(""),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The wiki's branch (from the remote's HEAD), `None` for an empty wiki.
fn remote_branch(scratch: &Path, remote: &str) -> Result<Option<String>> {
    let listed = git(scratch, &["ls-remote", "--symref", remote, "HEAD"]).map_err(|e| {
        anyhow!(
            "cannot reach the wiki {remote}: {e}\n(on Forgejo, enable the wiki and create its first page in the web \
             interface once; then the wiki repository exists)"
        )
    })?;
    Ok(listed
        .lines()
        .find_map(|l| l.strip_prefix("ref: refs/heads/")?.split('\t').next().map(str::to_string)))
}

/// A scratch folder for the wiki's working copy, removed when dropped.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> Result<Scratch> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("smartup-wiki-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir).with_context(|| format!("cannot make a scratch folder {}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Pushes the pages in `pages` (a built site's `wiki/` folder) to the wiki at `remote`, on
/// `branch` or the wiki's own; `message` names what they show.
pub fn publish(pages: &Path, remote: &str, branch: Option<&str>, message: &str) -> Result<Published> {
    if !pages.join("Home.md").is_file() {
        bail!("{} holds no wiki pages: build the site first (smartup site build)", pages.display());
    }
    let scratch = Scratch::new()?;
    let dir = scratch.0.as_path();
    let existing = remote_branch(dir, remote)?;
    let branch = branch
        .map(str::to_string)
        .or(existing.clone())
        .unwrap_or_else(|| DEFAULT_BRANCH.into());
    git(dir, &["init", "-q", "-b", &branch])?;
    let fetched = existing.is_some() && git(dir, &["fetch", "-q", remote, &format!("refs/heads/{branch}")]).is_ok();
    if fetched {
        git(dir, &["reset", "-q", "--soft", "FETCH_HEAD"])?;
    }
    copy_tree(pages, dir)?;
    git(dir, &["add", "-A"])?;
    let unchanged = fetched && git(dir, &["diff", "--cached", "--quiet"]).is_ok();
    if unchanged {
        return Ok(Published {
            remote: remote.to_string(),
            branch,
            commit: None,
        });
    }
    let identity = ["-c", "user.name=smartup", "-c", "user.email=smartup@localhost"];
    let has_identity = git(dir, &["config", "user.email"]).is_ok();
    let mut commit: Vec<&str> = if has_identity { Vec::new() } else { identity.to_vec() };
    commit.extend(["commit", "-q", "--no-verify", "--no-gpg-sign", "-m", message]);
    git(dir, &commit)?;
    git(dir, &["push", "-q", remote, &format!("HEAD:refs/heads/{branch}")])
        .map_err(|e| anyhow!("cannot push the wiki pages to {remote}: {e}"))?;
    let head = git(dir, &["rev-parse", "HEAD"])?.trim().to_string();
    Ok(Published {
        remote: remote.to_string(),
        branch,
        commit: Some(head),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wiki_sits_beside_the_repository() {
        assert_eq!(
            wiki_remote("https://forge.example.org/smartup/ledger.git"),
            "https://forge.example.org/smartup/ledger.wiki.git"
        );
        assert_eq!(
            wiki_remote("git@forge.example.org:smartup/ledger"),
            "git@forge.example.org:smartup/ledger.wiki.git"
        );
        assert_eq!(wiki_remote("/srv/git/ledger.git/"), "/srv/git/ledger.wiki.git");
    }
}
