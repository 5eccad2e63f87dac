//! `smartup init` (alias `register-smartup`): a new ledger with its signed genesis row.

use super::context::{entry_time, happened_at, ledger_dir, print_rows, sign_rows, Entry};
use super::{identity, Global};
use crate::ledger::policy::{file_reference, Policy, README_TEMPLATE, TEMPLATE};
use crate::ledger::schema::table_of_action;
use crate::ledger::{POLICY_FILE, README_FILE};
use crate::repo::write::{self, RootFile};
use crate::rules::State;
use anyhow::{bail, Context, Result};
use clap::Args;
use rand_core::{OsRng, RngCore};

/// Arguments of `init`.
#[derive(Args, Debug, Clone)]
pub struct InitArgs {
    /// The smartup's name
    #[arg(long, default_value = "Smartup Zero")]
    pub name: String,
}

/// A fresh random ledger id (128 bits, hex).
pub fn new_ledger_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates the ledger in the `--ledger` folder (default: here).
pub fn run(global: &Global, args: &InitArgs) -> Result<()> {
    let rows = create(global, &args.name)?;
    print_rows(global, &rows);
    Ok(())
}

/// Creates the ledger and returns its genesis row.
pub fn create(global: &Global, name: &str) -> Result<Vec<crate::ledger::row::Row>> {
    let dir = ledger_dir(global);
    // Who signs is settled before anything is created, so a refused init leaves nothing behind.
    let signer = identity::resolve(global, None)?;
    crate::ledger::ids::check_handle(&signer.handle).map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let repo = match git2::Repository::open(&dir) {
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
            if std::fs::read_dir(&dir)?.next().is_some() {
                bail!(
                    "{} is not empty; a ledger starts in an empty folder or an empty repository",
                    dir.display()
                );
            }
            let mut options = git2::RepositoryInitOptions::new();
            options.initial_head("main");
            git2::Repository::init_opts(&dir, &options).with_context(|| format!("cannot create a git repository in {}", dir.display()))?
        }
    };
    let id = new_ledger_id();
    let policy_text = Policy::render_template(TEMPLATE, &id, name);
    let readme = Policy::render_template(README_TEMPLATE, &id, name);
    let policy = Policy::parse(&policy_text)?;
    let reference = file_reference(policy_text.as_bytes());
    let mut state = State::new(policy, reference.clone());
    let at = entry_time(None)?;
    happened_at(global, false, at)?;
    let genesis = Entry {
        table: table_of_action("register-smartup").unwrap_or_default(),
        action: "register-smartup",
        values: vec![
            ("subject", name.to_string()),
            ("reference", reference),
            ("public_key", signer.key.public().to_openssh()),
        ],
    };
    let rows = sign_rows(&mut state, &signer, at, &[genesis])?;
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
    let author = signer.author();
    let message = super::context::commit_message(&rows);
    let commit = write::commit_rows(
        &repo,
        None,
        &rows,
        &files,
        state.policy.ledger.segment_rows,
        &signer.key,
        &author,
        &message,
        at,
    )?;
    let branch = state.policy.ledger.branch.clone();
    write::advance_branch(&repo, &branch, None, commit, "smartup: register-smartup")?;
    repo.set_head(&format!("refs/heads/{branch}"))?;
    let paths = write::changed_paths(&repo, None, repo.find_commit(commit)?.tree_id())?;
    write::refresh_worktree(&repo, &paths)?;
    Ok(rows)
}
