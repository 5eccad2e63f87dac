//! A new ledger: the repository, `ledger.toml`, `README.md` and the signed genesis row.

use super::ledger::{recording_time, sign_rows, write_commit};
use super::Signer;
use crate::ledger::policy::{file_reference, Policy, README_TEMPLATE, TEMPLATE};
use crate::ledger::row::Row;
use crate::ledger::{POLICY_FILE, README_FILE};
use crate::repo::write::{self, RootFile};
use crate::rules::draft::{draft, Intent};
use crate::rules::State;
use anyhow::{bail, Context, Result};
use rand_core::{OsRng, RngCore};
use std::path::Path;

/// A fresh random ledger id (128 bits, hex).
fn new_ledger_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a ledger called `name` in `dir` (an empty folder, a new folder, or a git
/// repository without commits), its genesis row signed by `signer` as the founder at `now`.
/// Returns the genesis row.
pub fn create(dir: &Path, signer: &Signer, name: &str, now: crate::time::Timestamp) -> Result<Vec<Row>> {
    crate::ledger::ids::check_handle(&signer.handle).map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let repo = match git2::Repository::open(dir) {
        Ok(repo) => {
            if repo.head().is_ok() {
                bail!(
                    "{} already has commits; a ledger starts in an empty folder or an empty repository",
                    dir.display()
                );
            }
            repo
        }
        Err(_) => {
            if std::fs::read_dir(dir)?.next().is_some() {
                bail!(
                    "{} is not empty; a ledger starts in an empty folder or an empty repository",
                    dir.display()
                );
            }
            let mut options = git2::RepositoryInitOptions::new();
            options.initial_head("main");
            git2::Repository::init_opts(dir, &options).with_context(|| format!("cannot create a git repository in {}", dir.display()))?
        }
    };
    let id = new_ledger_id();
    let policy_text = Policy::render_template(TEMPLATE, &id, name);
    let readme = Policy::render_template(README_TEMPLATE, &id, name);
    let policy = Policy::parse(&policy_text)?;
    let mut state = State::new(policy, file_reference(policy_text.as_bytes()));
    let at = recording_time(None, now)?;
    let genesis = Intent::RegisterSmartup {
        name: name.to_string(),
        public_key: signer.key.public().to_openssh(),
    };
    let entries = draft(&state, &signer.handle, at, &genesis).map_err(super::Refused)?.entries;
    let rows = sign_rows(&mut state, signer, at, &entries, now)?;
    let files = [
        RootFile {
            name: POLICY_FILE,
            bytes: policy_text.as_bytes(),
        },
        RootFile {
            name: README_FILE,
            bytes: readme.as_bytes(),
        },
    ];
    let commit = write_commit(&repo, None, &rows, &files, &state, signer, at)?;
    // A `git init` folder may hold files of its own: the ledger's never overwrite them.
    let paths = write::changed_paths(&repo, None, repo.find_commit(commit)?.tree_id())?;
    write::ensure_clean(&repo, &paths)?;
    let branch = state.policy.ledger.branch.clone();
    write::advance_branch(&repo, &branch, None, commit, "smartup: register-smartup")?;
    repo.set_head(&format!("refs/heads/{branch}"))?;
    write::refresh_worktree(&repo, &paths)?;
    Ok(rows)
}
