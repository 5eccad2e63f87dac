//! Links from Forgejo back to the ledger. A row is a line of a segment file; Forgejo shows it
//! at `{instance}{owner}/{repo}/src/branch/{branch}/{file}?display=source#L{line}`, and since
//! rows never change once written (a segment only grows at its end), that link stays right.
//! Which repository holds the ledger is found by [`crate::repo::forge::location`]; without
//! one, rows are named without a link.

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
        RowLinks::at(crate::repo::forge::location(repo, instance), instance, branch)
    }

    /// `[seq 18](…#L2) create-task`, or `seq 18 create-task` without a known repository.
    pub fn row(&self, row: &RowRef) -> String {
        match &self.base {
            Some(base) => format!("[seq {}]({base}{}?display=source#L{}) {}", row.seq, row.file, row.line, row.action),
            None => format!("seq {} {}", row.seq, row.action),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(remote: &str, instance: &str) -> Option<String> {
        let instance = Url::parse(instance).unwrap();
        RowLinks::at(crate::repo::forge::owner_and_repo(remote, &instance), &instance, "main").base
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
