//! `smartup init` (alias `register-smartup`): a new ledger with its signed genesis row.

use super::context::{ledger_dir, print_rows};
use super::identity::{self, Scoped};
use super::Global;
use crate::time::Timestamp;
use anyhow::Result;
use clap::Args;

/// Arguments of `init`.
#[derive(Args, Debug, Clone)]
pub struct InitArgs {
    /// The smartup's name
    #[arg(long, default_value = "Smartup Zero")]
    pub name: String,
}

/// Creates the ledger in the `--ledger` folder (default: here). Who signs is settled before
/// anything is created, so a refused init leaves nothing behind; in a `git init` folder, its
/// own git config (`smartup.handle`, `user.signingkey`) is read first.
pub fn run(global: &Global, scoped: &Scoped, args: &InitArgs) -> Result<()> {
    let dir = ledger_dir(global);
    let repo = git2::Repository::open(&dir).ok();
    let signer = identity::resolve(&scoped.who, repo.as_ref())?;
    let rows = crate::clerk::create(&dir, &signer, &args.name, Timestamp::now())?;
    print_rows(global, &rows);
    Ok(())
}
