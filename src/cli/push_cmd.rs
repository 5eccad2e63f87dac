//! `smartup push`: pushes the ledger branch through the clerk, showing what happens.

use super::context::open;
use super::identity::{self, Scoped};
use super::Global;
use crate::clerk::push::{push, Progress, Pushed};
use anyhow::Result;
use clap::Args;

/// Arguments of `push`.
#[derive(Args, Debug, Clone)]
pub struct PushArgs {
    /// The remote to push to
    #[arg(long, default_value = "origin")]
    pub remote: String,
    /// How many times to re-base and try again when others pushed first (with a random,
    /// growing pause between attempts so that racing pushers take turns)
    #[arg(long, default_value_t = 30)]
    pub retries: u32,
}

/// Pushes, re-basing as needed.
pub fn run(global: &Global, scoped: &Scoped, args: &PushArgs) -> Result<()> {
    let mut ledger = open(global)?;
    let repo = crate::repo::open(&super::context::ledger_dir(global))?;
    let mut signer = || identity::resolve(&scoped.who, Some(&repo));
    let remote = &args.remote;
    let mut show = |progress: Progress| match progress {
        Progress::Remote(line) => eprintln!("{line}"),
        Progress::Restamped(n, seq) => {
            eprintln!("re-stamped and re-signed {n} unpushed commit(s) recorded longer ago than the forge accepts (now up to seq {seq})")
        }
        Progress::Rebased(n, seq) => {
            eprintln!("{remote} pushed first: re-based {n} commit(s) of yours onto it (now up to seq {seq}); pushing again")
        }
    };
    let pushed = push(&mut ledger, remote, args.retries, &mut signer, &mut show)?;
    if global.json {
        println!("{}", serde_json::to_string(&pushed)?);
        return Ok(());
    }
    match pushed {
        Pushed::Pushed { seq } => println!("pushed {} to {remote} (seq {seq})", ledger.branch),
        Pushed::NothingOfYours => println!("nothing of yours to push: {} is now at {remote}'s tip", ledger.branch),
        Pushed::AlreadyThere => println!(
            "{remote} already holds exactly your entries (the same rows, signed the same way, at the same time); nothing more to push"
        ),
    }
    Ok(())
}
