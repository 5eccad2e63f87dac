//! Where the ledger lives on the forge: the Forgejo owner and repository of an opened ledger,
//! read from its `origin` remote when that points at the configured instance (https, ssh://
//! or `git@host:owner/repo`), else, on the server (a command started by the post-receive hook
//! in the bare repository), from Forgejo's `GITEA_REPO_USER_NAME` and `GITEA_REPO_NAME`.

use git2::Repository;
use reqwest::Url;

/// The Forgejo owner and repository name of the ledger `repo` on `instance`, if known.
pub fn location(repo: &Repository, instance: &Url) -> Option<(String, String)> {
    let remote = repo.find_remote("origin").ok();
    let from_remote = remote
        .as_ref()
        .and_then(|r| r.url().ok())
        .and_then(|url| owner_and_repo(url, instance));
    let from_hook = || Some((std::env::var("GITEA_REPO_USER_NAME").ok()?, std::env::var("GITEA_REPO_NAME").ok()?));
    from_remote.or_else(from_hook)
}

/// The owner and repository of a remote URL on the instance's host.
pub fn owner_and_repo(remote: &str, instance: &Url) -> Option<(String, String)> {
    let (host, path) = match Url::parse(remote) {
        Ok(url) if url.has_host() => {
            let prefix = if url.scheme().starts_with("http") { instance.path() } else { "/" };
            (url.host_str()?.to_string(), url.path().strip_prefix(prefix)?.to_string())
        }
        _ => {
            // scp-like: [user@]host:owner/repo.git
            let (authority, path) = remote.split_once(':')?;
            let host = authority.rsplit('@').next()?;
            (host.to_string(), path.trim_start_matches('/').to_string())
        }
    };
    if !host.eq_ignore_ascii_case(instance.host_str()?) {
        return None;
    }
    let mut parts = path.trim_end_matches('/').split('/');
    let (owner, repo) = (parts.next()?, parts.next()?);
    let repo = repo.strip_suffix(".git").unwrap_or(repo);
    (parts.next().is_none() && !owner.is_empty() && !repo.is_empty()).then(|| (owner.to_string(), repo.to_string()))
}
