//! `smartup push`: pushes the ledger branch with your own `git` (so credential helpers and
//! SSH config work). When someone else pushed first, it fetches, re-bases your unpushed
//! entries on top (new seq, re-signed) and tries again, a bounded number of times.

use super::context::Ledger;
use super::rebase::{needs_restamp, rebase, Rebased};
use super::{identity, AlreadyReported, Global};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use std::process::Command;

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

/// What one `git push` did.
enum Attempt {
    Pushed,
    /// The remote moved on: fetch, re-base, retry.
    Behind,
    /// The server's hook refused the entries.
    Refused,
}

/// Pushes, re-basing as needed.
pub fn run(global: &Global, args: &PushArgs) -> Result<()> {
    let mut ledger = Ledger::open(global)?;
    let dir = ledger.repo.workdir().unwrap_or(ledger.repo.path()).to_path_buf();
    let mut signer = restamp(global, &mut ledger, &args.remote)?;
    for attempt in 0..=args.retries {
        match push_once(&dir, &args.remote, &ledger.branch)? {
            Attempt::Pushed => {
                if !global.json {
                    println!("pushed {} to {} (seq {})", ledger.branch, args.remote, ledger.state.last_seq);
                }
                return Ok(());
            }
            Attempt::Refused => {
                eprintln!("error: the server refused the push for the reasons above (remote: lines); nothing was pushed");
                return Err(AlreadyReported(1).into());
            }
            Attempt::Behind if attempt == args.retries => break,
            Attempt::Behind => std::thread::sleep(back_off(attempt)),
        }
        let upstream = fetch(&dir, &args.remote, &ledger.branch, &ledger.repo)?;
        if signer.is_none() {
            signer = Some(identity::resolve(global, Some(&ledger.repo))?);
        }
        let signer = signer.as_ref().context("no signer for re-basing")?;
        match rebase(&mut ledger, upstream, signer)? {
            Rebased::FastForwarded => {
                println!("nothing of yours to push: {} is now at {}'s tip", ledger.branch, args.remote);
                return Ok(());
            }
            Rebased::AlreadyOnTop if upstream == ledger.head => {
                println!(
                    "{} already holds exactly your entries (the same rows, signed the same way, at the same time); nothing more to push",
                    args.remote
                );
                return Ok(());
            }
            // The remote moved back under us (a push that lost the ref race): push again.
            Rebased::AlreadyOnTop => {}
            Rebased::Moved(n) => eprintln!(
                "{} pushed first: re-based {n} commit(s) of yours onto it (now up to seq {}); pushing again",
                args.remote, ledger.state.last_seq
            ),
        }
    }
    bail!(
        "{} kept moving: gave up after {} attempts; run `smartup push` again",
        args.remote,
        args.retries + 1
    )
}

/// The longest pause between two attempts.
const MAX_BACK_OFF_MS: u64 = 2_000;

/// A random pause before attempt `attempt + 1` ("full jitter"): up to 50 ms after the first
/// lost race, doubling each time up to two seconds, so that pushers who collided spread out.
fn back_off(attempt: u32) -> std::time::Duration {
    use rand_core::RngCore;
    let ceiling = (50u64 << attempt.min(6)).min(MAX_BACK_OFF_MS);
    std::time::Duration::from_millis(rand_core::OsRng.next_u64() % (ceiling + 1))
}

/// Re-stamps and re-signs your unpushed rows recorded so long ago that the forge would refuse
/// them (on top of the remote-tracking branch), before the first attempt; returns the signer
/// when it was needed.
fn restamp(global: &Global, ledger: &mut Ledger, remote: &str) -> Result<Option<identity::Signer>> {
    let tracking = format!("refs/remotes/{remote}/{}", ledger.branch);
    let Ok(upstream) = ledger.repo.refname_to_id(&tracking) else {
        return Ok(None);
    };
    if !needs_restamp(ledger, upstream)? {
        return Ok(None);
    }
    let signer = identity::resolve(global, Some(&ledger.repo))?;
    if let Rebased::Moved(n) = rebase(ledger, upstream, &signer)? {
        eprintln!(
            "re-stamped and re-signed {n} unpushed commit(s) recorded longer ago than the forge accepts (now up to seq {})",
            ledger.state.last_seq
        );
    }
    Ok(Some(signer))
}

fn git(dir: &std::path::Path) -> Command {
    let mut command = Command::new("git");
    command.arg("-C").arg(dir);
    command
}

fn push_once(dir: &std::path::Path, remote: &str, branch: &str) -> Result<Attempt> {
    let output = git(dir)
        .args(["push", "--porcelain", remote, &format!("refs/heads/{branch}:refs/heads/{branch}")])
        .output()
        .context("cannot run git (is it installed?)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for line in stderr.lines().filter(|l| l.starts_with("remote:")) {
        eprintln!("{line}");
    }
    if output.status.success() {
        return Ok(Attempt::Pushed);
    }
    if stdout.contains("pre-receive hook declined") || stderr.contains("pre-receive hook declined") {
        return Ok(Attempt::Refused);
    }
    let lost_race = stderr.contains("cannot lock ref") || stdout.contains("failed to update ref");
    if lost_race || (stdout.contains("[rejected]") && (stdout.contains("fetch first") || stdout.contains("non-fast-forward"))) {
        return Ok(Attempt::Behind);
    }
    Err(anyhow!("git push to {remote} failed: {}", stderr.trim()))
}

fn fetch(dir: &std::path::Path, remote: &str, branch: &str, repo: &git2::Repository) -> Result<git2::Oid> {
    let tracking = format!("refs/remotes/{remote}/{branch}");
    let output = git(dir)
        .args(["fetch", "--quiet", remote, &format!("+refs/heads/{branch}:{tracking}")])
        .output()
        .context("cannot run git fetch")?;
    if !output.status.success() {
        bail!("git fetch from {remote} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    repo.refname_to_id(&tracking)
        .with_context(|| format!("{remote} has no branch {branch}"))
}
