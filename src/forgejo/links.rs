//! Links from Forgejo back to the ledger. A row is a line of a segment file; Forgejo shows it
//! at `{instance}{owner}/{repo}/src/branch/{branch}/{file}?display=source#L{line}`, and since
//! segments never change, that link stays right. Which repository holds the ledger is read from
//! the ledger's `origin` remote when it points at the configured instance (https, ssh:// or
//! `git@host:owner/repo`), else, on the server (a sync started by the post-receive hook in
//! the bare repository), from Forgejo's `GITEA_REPO_USER_NAME` and `GITEA_REPO_NAME`;
//! otherwise rows are named without a link.

use crate::view::history::RowRef;
use reqwest::Url;

/// Turns rows into Markdown links (or plain names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowLinks {
    base: Option<String>,
}

impl RowLinks {
    /// Links into the repository `owner/repo` of the instance, on `branch`; none without one.
    pub fn at(location: Option<(String, String)>, instance: &Url, branch: &str) -> RowLinks {
        let base = location.map(|(owner, repo)| format!("{instance}{owner}/{repo}/src/branch/{branch}/"));
        RowLinks { base }
    }

    /// Links for an opened ledger repository: located by its `origin` remote, or by the
    /// environment Forgejo gives its hooks.
    pub fn of_repository(repo: &git2::Repository, instance: &Url, branch: &str) -> RowLinks {
        let remote = repo.find_remote("origin").ok();
        let from_remote = remote
            .as_ref()
            .and_then(|r| r.url().ok())
            .and_then(|url| owner_and_repo(url, instance));
        let from_hook = || Some((std::env::var("GITEA_REPO_USER_NAME").ok()?, std::env::var("GITEA_REPO_NAME").ok()?));
        RowLinks::at(from_remote.or_else(from_hook), instance, branch)
    }

    /// `[seq 18](…#L2) create-task`, or `seq 18 create-task` without a known repository.
    pub fn row(&self, row: &RowRef) -> String {
        match &self.base {
            Some(base) => format!("[seq {}]({base}{}?display=source#L{}) {}", row.seq, row.file, row.line, row.action),
            None => format!("seq {} {}", row.seq, row.action),
        }
    }
}

/// The owner and repository of a remote URL on the instance's host.
fn owner_and_repo(remote: &str, instance: &Url) -> Option<(String, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn base(remote: &str, instance: &str) -> Option<String> {
        let instance = Url::parse(instance).unwrap();
        RowLinks::at(owner_and_repo(remote, &instance), &instance, "main").base
    }

    #[test]
    fn finds_the_ledger_repository_in_the_usual_remote_forms() {
        let want = Some("https://forge.example.org/smartup/ledger/src/branch/main/".to_string());
        assert_eq!(
            base("https://forge.example.org/smartup/ledger.git", "https://forge.example.org/"),
            want
        );
        assert_eq!(
            base("ssh://git@forge.example.org:2222/smartup/ledger.git", "https://forge.example.org/"),
            want
        );
        assert_eq!(base("git@forge.example.org:smartup/ledger.git", "https://forge.example.org/"), want);
        assert_eq!(
            base("https://forge.example.org/git/smartup/ledger", "https://forge.example.org/git/"),
            Some("https://forge.example.org/git/smartup/ledger/src/branch/main/".to_string())
        );
    }

    #[test]
    fn other_hosts_and_shapes_give_no_link() {
        assert_eq!(base("https://elsewhere.org/smartup/ledger.git", "https://forge.example.org/"), None);
        assert_eq!(base("/srv/git/ledger.git", "https://forge.example.org/"), None);
        assert_eq!(base("https://forge.example.org/a/b/c", "https://forge.example.org/"), None);
        let instance = Url::parse("https://forge.example.org/").unwrap();
        let none = RowLinks::at(None, &instance, "main");
        let row = RowRef {
            seq: 18,
            action: "create-task".into(),
            file: "tables/task-budgets/1/01.csv".into(),
            line: 2,
        };
        assert_eq!(none.row(&row), "seq 18 create-task");
        let linked = RowLinks::at(Some(("smartup".into(), "ledger".into())), &instance, "main");
        assert_eq!(
            linked.row(&row),
            "[seq 18](https://forge.example.org/smartup/ledger/src/branch/main/tables/task-budgets/1/01.csv?display=source#L2) create-task"
        );
    }
}
