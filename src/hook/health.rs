//! What an admin would otherwise learn from a refused push: whether a ledger repository's
//! hooks are installed and point at a smartup binary of this version, whether its state cache
//! is there and current, and whether the ledger replays from it. Each finding says how to fix
//! it. (`smartup doctor` adds the Forgejo checks.)

use crate::verify::cache::StateCache;
use anyhow::{Context, Result};
use git2::Repository;
use std::path::{Path, PathBuf};

/// More commits than this to replay before a push is checked is worth a fix: about a tenth
/// of a second at replay speed, and a sign that checkpoints are not being kept (the hook and
/// the commands write one every [`crate::verify::cache::CHECKPOINT_EVERY`] commits).
const SLOW_REPLAY: usize = 1_000;

/// One check's outcome.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// What was checked (`pre-receive hook`, `state cache`, ...).
    pub check: String,
    /// True when all is well.
    pub ok: bool,
    /// What was found.
    pub message: String,
    /// What to do about it, when something is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    /// A check that passed.
    pub fn ok(check: &str, message: String) -> Check {
        Check {
            check: check.into(),
            ok: true,
            message,
            fix: None,
        }
    }

    /// A check that found something to fix, and how.
    pub fn problem(check: &str, message: String, fix: impl Into<String>) -> Check {
        Check {
            check: check.into(),
            ok: false,
            message,
            fix: Some(fix.into()),
        }
    }
}

/// The binary a smartup shim runs: the path in its `SMARTUP="${SMARTUP_BIN:-…}"` line.
fn shim_binary(script: &str) -> Option<PathBuf> {
    let line = script.lines().find(|l| l.starts_with("SMARTUP=\"${SMARTUP_BIN:-"))?;
    let path = line.strip_prefix("SMARTUP=\"${SMARTUP_BIN:-")?.strip_suffix("}\"")?;
    Some(PathBuf::from(path))
}

/// The version a binary reports (`smartup 0.1.0`), if it runs.
fn version_of(binary: &Path) -> Option<String> {
    let out = std::process::Command::new(binary).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Checks one installed hook (`which` is `pre-receive` or `post-receive`).
fn hook_check(git_dir: &Path, which: &str, fix: &str) -> Check {
    let name = format!("{which} hook");
    let hooks = git_dir.join("hooks");
    let path = [hooks.join(format!("{which}.d/smartup")), hooks.join(which)]
        .into_iter()
        .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(super::install::MARKER)));
    let Some(path) = path else {
        return Check::problem(&name, format!("no smartup {which} hook in {}", hooks.display()), fix);
    };
    let script = std::fs::read_to_string(&path).unwrap_or_default();
    let Some(binary) = shim_binary(&script) else {
        return Check::problem(&name, format!("{} names no smartup binary", path.display()), fix);
    };
    let ours = format!("smartup {}", env!("CARGO_PKG_VERSION"));
    match version_of(&binary) {
        None => Check::problem(
            &name,
            format!(
                "{} runs {}, which does not run (missing or not executable): every push is refused",
                path.display(),
                binary.display()
            ),
            fix,
        ),
        Some(version) if version != ours => Check::problem(
            &name,
            format!("{} runs {} ({version}), not {ours}", path.display(), binary.display()),
            fix,
        ),
        Some(version) => Check::ok(&name, format!("{} runs {} ({version})", path.display(), binary.display())),
    }
}

/// The checks of one ledger repository.
pub fn check(repo_path: &Path) -> Result<Vec<Check>> {
    let repo = Repository::open_bare(repo_path)
        .or_else(|_| Repository::open(repo_path))
        .with_context(|| format!("{} is not a git repository", repo_path.display()))?;
    let shown = repo_path.display();
    let install = format!("smartup hook install --repo {shown} (with --force to replace someone else's hook)");
    let mut checks = vec![
        hook_check(repo.path(), "pre-receive", &install),
        hook_check(repo.path(), "post-receive", &install),
    ];
    let Ok(tip) = repo.head().and_then(|h| h.peel_to_commit()).map(|c| c.id()) else {
        checks.push(Check::ok("ledger", "the repository has no commits yet".into()));
        return Ok(checks);
    };
    let cache = StateCache::of(&repo);
    let chain = crate::repo::first_parent_chain(&repo, tip)?;
    let warm = format!("smartup --ledger {shown} status (it replays the ledger once and stores a checkpoint)");
    let nearest = cache.nearest(&repo, tip)?.map(|(at, _)| at);
    let behind = match nearest {
        Some(at) => chain.iter().rev().position(|c| *c == at).unwrap_or(chain.len()),
        None => chain.len(),
    };
    let from = if nearest.is_some() {
        "the newest checkpoint"
    } else {
        "genesis (no checkpoint)"
    };
    if behind > SLOW_REPLAY {
        checks.push(Check::problem(
            "state cache",
            format!("the next push first replays {behind} commits from {from}"),
            warm,
        ));
    } else {
        checks.push(Check::ok(
            "state cache",
            format!("a push replays at most {behind} commits from {from}"),
        ));
    }
    match cache.state_at(&repo, tip, None) {
        Ok(state) => checks.push(Check::ok(
            "ledger",
            format!("{} rows replay through the rules up to {tip}", state.last_seq),
        )),
        Err(e) => checks.push(Check::problem(
            "ledger",
            format!("the ledger does not replay: {e:#}; every push is refused"),
            format!("smartup --ledger {shown} verify lists what is wrong"),
        )),
    }
    Ok(checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binary_is_read_from_the_shim() {
        let script = "#!/bin/sh\nSMARTUP=\"${SMARTUP_BIN:-/usr/local/bin/smartup}\"\nexec \"$SMARTUP\" hook pre-receive\n";
        assert_eq!(shim_binary(script), Some(PathBuf::from("/usr/local/bin/smartup")));
        assert_eq!(shim_binary("#!/bin/sh\nexit 0\n"), None);
    }
}
