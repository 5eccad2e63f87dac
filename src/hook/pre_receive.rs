//! git's pre-receive hook: reads `<old> <new> <ref>` lines and accepts the push only when
//! every update keeps the ledger's promises. The ledger branch moves forward only, along first
//! parents; every new commit is SSH-signed by a ledger key (or, for a pull-request merge that
//! adds nothing of its own, by the forge's key); every new row passes the rules in order,
//! with its signature checked. Other refs are refused unless the policy allows them.

use super::verdict::{Note, Verdict};
use crate::repo::Finding;
use crate::rules::{self, State};
use crate::time::Timestamp;
use crate::verify::cache::{StateCache, CHECKPOINT_EVERY};
use crate::verify::{walk_from, Options, Report};
use anyhow::{bail, Context, Result};
use git2::{Oid, Repository};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Seconds a row's timestamp may run ahead of the server's clock.
const CLOCK_SKEW: i64 = 300;
/// Seconds the hook may spend rebuilding the state of the ledger already on the server (a
/// lost or damaged cache) before it refuses the push with its progress saved.
const REBUILD_BUDGET: u64 = 20;

/// One line of the hook's input: a ref moving from `old` to `new` (zero: created / deleted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// The ref's value before the push.
    pub old: Oid,
    /// The value the push proposes.
    pub new: Oid,
    /// The full ref name.
    pub name: String,
}

/// Parses git's pre-receive input.
pub fn parse_updates(input: &str) -> Result<Vec<Update>> {
    let mut updates = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let parts: Vec<&str> = line.split(' ').collect();
        let oid = |text: &str| Oid::from_str(text).ok().filter(|_| text.len() == 40 || text.len() == 64);
        match parts.as_slice() {
            [old, new, name] if name.starts_with("refs/") => match (oid(old), oid(new)) {
                (Some(old), Some(new)) => updates.push(Update {
                    old,
                    new,
                    name: name.to_string(),
                }),
                _ => bail!("line {} of the hook's input has a malformed object id: {line:?}", n + 1),
            },
            _ => bail!("line {} of the hook's input is not `<old> <new> <ref>`: {line:?}", n + 1),
        }
    }
    if updates.is_empty() {
        bail!("the hook received no ref updates");
    }
    Ok(updates)
}

/// What Forgejo tells a hook about the push (`GITEA_*`). Used in messages and the
/// registered-pusher policy; signatures, not these, decide who did what.
#[derive(Clone, Debug, Default)]
pub struct PushEnv {
    /// `GITEA_PUSHER_NAME`.
    pub pusher: Option<String>,
    /// `GITEA_REPO_USER_NAME` / `GITEA_REPO_NAME`.
    pub repo: Option<String>,
    /// `GITEA_PR_ID`, set for pull-request merges.
    pub pr: Option<String>,
    /// `GITEA_DEPLOY_KEY_ID`, set for pushes with a deploy key.
    pub deploy_key: Option<String>,
    /// `GITEA_INTERNAL_PUSH`, set for Forgejo's own pushes.
    pub internal: bool,
}

impl PushEnv {
    /// Reads the environment of the hook process.
    pub fn from_env() -> PushEnv {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let repo = match (var("GITEA_REPO_USER_NAME"), var("GITEA_REPO_NAME")) {
            (Some(owner), Some(name)) => Some(format!("{owner}/{name}")),
            (None, Some(name)) => Some(name),
            _ => None,
        };
        PushEnv {
            pusher: var("GITEA_PUSHER_NAME"),
            repo,
            pr: var("GITEA_PR_ID").filter(|v| v != "0"),
            deploy_key: var("GITEA_DEPLOY_KEY_ID").filter(|v| v != "0"),
            internal: var("GITEA_INTERNAL_PUSH").is_some_and(|v| v == "true"),
        }
    }

    /// The push's details for messages, as ` (pusher p, repository r, ...)`; empty when the
    /// forge told nothing.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.pusher {
            parts.push(format!("pusher {p}"));
        }
        if let Some(r) = &self.repo {
            parts.push(format!("repository {r}"));
        }
        if let Some(pr) = &self.pr {
            parts.push(format!("pull request #{pr}"));
        }
        if let Some(k) = &self.deploy_key {
            parts.push(format!("deploy key {k}"));
        }
        if self.internal {
            parts.push("internal push".into());
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        }
    }
}

/// The ledger as it stands on the server.
struct Current {
    reference: String,
    tip: Oid,
    state: State,
}

/// Judges a push: the findings that refuse it (none: it may land) and notes on what passed.
/// Printing is [`super::verdict::lines`].
pub fn check(repo: &Repository, updates: &[Update], env: &PushEnv, now: Timestamp) -> Result<Verdict> {
    let started = Instant::now();
    let cache = StateCache::of(repo);
    let current = current_ledger(repo, &cache, started + Duration::from_secs(REBUILD_BUDGET))?;
    let budget = current.as_ref().map_or(20, |c| c.state.policy.hook.time_budget_seconds);
    let deadline = started + Duration::from_secs(budget);
    let ledger_ref = current.as_ref().map(|c| c.reference.clone());
    let mut verdict = Verdict::default();
    for update in updates {
        let is_ledger = match &ledger_ref {
            Some(name) => *name == update.name,
            None => update.name.starts_with("refs/heads/"),
        };
        if !is_ledger {
            let allowed = current
                .as_ref()
                .is_some_and(|c| c.state.policy.hook.allow_refs.iter().any(|p| ref_matches(p, &update.name)));
            if allowed {
                verdict.notes.push(Note::AllowedRef(update.name.clone()));
            } else {
                let branch = ledger_ref.as_deref().unwrap_or("the ledger branch");
                verdict.problems.push(Finding::general(
                    "ref-policy",
                    format!(
                        "{}: only {branch} may be pushed to this repository (the policy's [hook] allow_refs names no other ref)",
                        update.name
                    ),
                ));
            }
            continue;
        }
        match check_ledger_update(repo, &cache, current.as_ref(), update, env, now, deadline)? {
            Ok((report, state)) => {
                if report.commits as usize >= CHECKPOINT_EVERY {
                    if let Err(e) = cache.store(update.new, &state) {
                        verdict.notes.push(Note::NoCheckpoint(format!("{e:#}")));
                    }
                }
                verdict.notes.push(Note::Accepted {
                    branch: update.name.trim_start_matches("refs/heads/").to_string(),
                    rows: report.rows,
                    commits: report.commits,
                    shown: report.accepted,
                });
            }
            Err(found) => verdict.problems.extend(found),
        }
    }
    Ok(verdict)
}

fn ref_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

fn current_ledger(repo: &Repository, cache: &StateCache, deadline: Instant) -> Result<Option<Current>> {
    let head = repo.find_reference("HEAD").context("cannot read HEAD")?;
    let Some(reference) = head.symbolic_target().ok().flatten().map(str::to_string) else {
        bail!("HEAD of the repository is detached; a ledger repository's HEAD names its branch")
    };
    let Ok(tip) = repo.refname_to_id(&reference) else { return Ok(None) };
    let state = state_at(repo, cache, tip, deadline)?;
    let branch_ref = format!("refs/heads/{}", state.policy.ledger.branch);
    if branch_ref != reference {
        bail!("HEAD names {reference} but the ledger's branch is {branch_ref}; set the repository's default branch to it");
    }
    Ok(Some(Current { reference, tip, state }))
}

/// The state after `commit`: the nearest checkpoint and a replay of what follows it. A rebuild
/// that runs out of time keeps its progress and refuses with how far it got.
fn state_at(repo: &Repository, cache: &StateCache, commit: Oid, deadline: Instant) -> Result<State> {
    cache.state_at(repo, commit, Some(deadline)).map_err(|e| {
        if e.is::<crate::verify::cache::Rebuilding>() {
            e
        } else {
            e.context("the ledger already on the server cannot be replayed")
        }
    })
}

/// A ledger update that may land (the walk and the state after it), or why not.
type Outcome = std::result::Result<(Report, State), Vec<Finding>>;

fn check_ledger_update(
    repo: &Repository,
    cache: &StateCache,
    current: Option<&Current>,
    update: &Update,
    env: &PushEnv,
    now: Timestamp,
    deadline: Instant,
) -> Result<Outcome> {
    let name = &update.name;
    if update.new.is_zero() {
        return Ok(Err(vec![Finding::general(
            "history",
            format!("{name}: deleting the ledger branch is never allowed"),
        )]));
    }
    let start = match (current, update.old.is_zero()) {
        (None, true) => None,
        (Some(_), true) => {
            return Ok(Err(vec![Finding::general(
                "history",
                format!("{name}: the ledger branch exists already; push on top of it"),
            )]))
        }
        (Some(c), false) if c.tip == update.old => Some((update.old, c.state.clone())),
        (_, false) => Some((update.old, state_at(repo, cache, update.old, deadline)?)),
    };
    let before: HashSet<String> = start.as_ref().map(|(_, s)| valid_keys(s)).unwrap_or_default();
    // The first push of a ledger brings its history as it is; later rows must be fresh.
    let not_before = start.as_ref().map(|(_, s)| now.plus(-s.policy.hook.recording_lag_seconds()));
    if let (true, Some((_, state))) = (
        current.is_some_and(|c| c.state.policy.hook.require_registered_pusher),
        start.as_ref(),
    ) {
        match &env.pusher {
            Some(p) if state.owners.contains_key(p) => {}
            Some(p) => {
                return Ok(Err(vec![Finding::general(
                    "pusher",
                    format!("{name}: the pusher {p} is not an owner of this ledger, and the policy requires one"),
                )]))
            }
            None => {
                return Ok(Err(vec![Finding::general(
                    "pusher",
                    format!("{name}: the policy requires a registered pusher, but the forge did not name one (GITEA_PUSHER_NAME)"),
                )]))
            }
        }
    }
    let options = Options {
        check_signatures: true,
        not_after: Some(now.plus(CLOCK_SKEW)),
        not_before,
        deadline: Some(deadline),
        ..Options::default()
    };
    let mut report = walk_from(repo, start, update.new, &options)?;
    let mut problems = std::mem::take(&mut report.findings);
    let Some(state) = report.state.clone() else {
        problems.push(Finding::general("policy", format!("{name}: the pushed history holds no ledger")));
        return Ok(Err(problems));
    };
    problems.extend(side_commit_problems(repo, update, &before, &valid_keys(&state))?);
    if problems.is_empty() {
        Ok(Ok((report, state)))
    } else {
        Ok(Err(problems))
    }
}

/// The fingerprints of the keys valid in `state`.
fn valid_keys(state: &State) -> HashSet<String> {
    state
        .keys
        .keys()
        .filter(|fp| rules::commit::key_valid(state, fp))
        .cloned()
        .collect()
}

/// Commits the push brings in off the first-parent line (the side of a merge) must be signed
/// by a ledger key too; their rows are checked where the merge brings them in.
fn side_commit_problems(repo: &Repository, update: &Update, before: &HashSet<String>, after: &HashSet<String>) -> Result<Vec<Finding>> {
    let first_parents: HashSet<Oid> = crate::repo::chain_after(repo, update.new, (!update.old.is_zero()).then_some(update.old))?
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut walk = repo.revwalk()?;
    walk.push(update.new)?;
    if !update.old.is_zero() {
        walk.hide(update.old)?;
    }
    let mut problems = Vec::new();
    for oid in walk {
        let oid = oid?;
        if first_parents.contains(&oid) {
            continue;
        }
        let signer = crate::repo::verified_signer(repo, oid).map(|key| key.fingerprint());
        let valid = signer.as_ref().is_some_and(|fp| before.contains(fp) || after.contains(fp));
        if let Err(v) = rules::commit::merged_in_signer(&oid.to_string(), signer.as_deref(), valid) {
            problems.push(Finding::of(v).in_commit(oid));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_git_input_strictly() {
        let a = "1111111111111111111111111111111111111111";
        let z = "0000000000000000000000000000000000000000";
        let updates = parse_updates(&format!("{z} {a} refs/heads/main\n")).unwrap();
        assert!(updates[0].old.is_zero());
        assert_eq!(updates[0].name, "refs/heads/main");
        for bad in [
            "",
            "x y z",
            &format!("{a} {a}"),
            &format!("{a} {a} main"),
            &format!("{a}  {a} refs/heads/main"),
            &format!("{a} 1234 refs/heads/main"),
        ] {
            assert!(parse_updates(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ref_patterns() {
        assert!(ref_matches("refs/heads/drafts/*", "refs/heads/drafts/alice"));
        assert!(!ref_matches("refs/heads/drafts/*", "refs/heads/main"));
        assert!(ref_matches("refs/tags/v1", "refs/tags/v1"));
    }
}
