//! Pushing the ledger branch with the person's own `git` (so credential helpers and SSH
//! config work). When someone else pushed first, it fetches, re-bases the unpushed entries on
//! top (new seq, re-signed) and tries again, a bounded number of times, with a random pause
//! that grows with each lost race.

use super::rebase::{needs_restamp, rebase, Rebased};
use super::{Ledger, Signer};
use crate::time::Timestamp;
use anyhow::{anyhow, bail, Context, Result};
use std::process::Command;

/// What one `git push` did.
enum Attempt {
    Pushed,
    /// The remote moved on: fetch, re-base, retry.
    Behind,
    /// The server's hook refused the entries.
    Refused,
}

/// How a push ended well.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Pushed {
    /// The branch is on the remote, up to this seq.
    Pushed {
        /// The last seq pushed.
        seq: u64,
    },
    /// Nothing of yours was unpushed: the branch now stands at the remote's tip.
    NothingOfYours,
    /// The remote already holds exactly your entries (the same rows, signed the same way).
    AlreadyThere,
}

/// What happens along the way, for the front end to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// A line the server printed (`remote: ...`).
    Remote(String),
    /// Unpushed commits recorded too long ago were re-stamped and re-signed (count, last seq).
    Restamped(usize, u64),
    /// The remote moved on; this many commits of yours were re-based onto it (count, last seq).
    Rebased(usize, u64),
}

/// The server's hook refused the push; its reasons came as [`Progress::Remote`] lines.
#[derive(Debug, thiserror::Error)]
#[error("the server refused the push for the reasons above (remote: lines); nothing was pushed")]
pub struct PushRefused;

/// Pushes the ledger branch to `remote`, re-basing up to `retries` times. `signer` is asked
/// for only when entries must be re-signed (it may prompt for a passphrase).
pub fn push(
    ledger: &mut Ledger,
    remote: &str,
    retries: u32,
    signer: &mut dyn FnMut() -> Result<Signer>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Pushed> {
    let dir = ledger.repo.workdir().unwrap_or(ledger.repo.path()).to_path_buf();
    let mut signed_by = restamp(ledger, remote, signer, progress)?;
    for attempt in 0..=retries {
        match push_once(&dir, remote, &ledger.branch, progress)? {
            Attempt::Pushed => {
                return Ok(Pushed::Pushed {
                    seq: ledger.state.last_seq,
                })
            }
            Attempt::Refused => return Err(PushRefused.into()),
            Attempt::Behind if attempt == retries => break,
            Attempt::Behind => std::thread::sleep(back_off(attempt)),
        }
        let upstream = fetch(&dir, remote, &ledger.branch, &ledger.repo)?;
        if signed_by.is_none() {
            signed_by = Some(signer()?);
        }
        let signer = signed_by.as_ref().context("no signer for re-basing")?;
        match rebase(ledger, upstream, signer, Timestamp::now())? {
            Rebased::FastForwarded => return Ok(Pushed::NothingOfYours),
            Rebased::AlreadyOnTop if upstream == ledger.head => return Ok(Pushed::AlreadyThere),
            // The remote moved back under us (a push that lost the ref race): push again.
            Rebased::AlreadyOnTop => {}
            Rebased::Moved(n) => progress(Progress::Rebased(n, ledger.state.last_seq)),
        }
    }
    bail!(
        "{remote} kept moving: gave up after {} attempts; run `smartup push` again",
        retries + 1
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
fn restamp(
    ledger: &mut Ledger,
    remote: &str,
    signer: &mut dyn FnMut() -> Result<Signer>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Option<Signer>> {
    let tracking = format!("refs/remotes/{remote}/{}", ledger.branch);
    let Ok(upstream) = ledger.repo.refname_to_id(&tracking) else {
        return Ok(None);
    };
    let now = Timestamp::now();
    if !needs_restamp(ledger, upstream, now)? {
        return Ok(None);
    }
    let signer = signer()?;
    if let Rebased::Moved(n) = rebase(ledger, upstream, &signer, now)? {
        progress(Progress::Restamped(n, ledger.state.last_seq));
    }
    Ok(Some(signer))
}

fn git(dir: &std::path::Path) -> Command {
    let mut command = Command::new("git");
    command.arg("-C").arg(dir);
    command
}

fn push_once(dir: &std::path::Path, remote: &str, branch: &str, progress: &mut dyn FnMut(Progress)) -> Result<Attempt> {
    let output = git(dir)
        .args(["push", "--porcelain", remote, &format!("refs/heads/{branch}:refs/heads/{branch}")])
        .output()
        .context("cannot run git (is it installed?)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for line in stderr.lines().filter(|l| l.starts_with("remote:")) {
        progress(Progress::Remote(line.to_string()));
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
