//! `smartup doctor`: an admin's health check of ledger repositories on the forge — the hooks,
//! the state cache, the ledger replaying, and the Forgejo sync's configuration, token and its
//! scopes (asked with creates that Forgejo refuses either way) —
//! each finding with how to fix it. Exit 1 when anything needs fixing.

use super::hook_cmd::repositories;
use super::{AlreadyReported, Global};
use crate::forgejo::client::{Backoff, Client};
use crate::forgejo::config::{find_token, Settings};
use crate::hook::health::{self, Check};
use anyhow::Result;
use clap::Args;
use std::path::{Path, PathBuf};

/// Arguments of `doctor`.
#[derive(Args, Debug, Clone)]
pub struct DoctorArgs {
    /// A bare ledger repository (PATH.git)
    #[arg(long, value_name = "PATH.git", required_unless_present = "all", conflicts_with = "all")]
    pub repo: Option<PathBuf>,
    /// Forgejo's repository root: every ROOT/<owner>/<name>.git with a ledger.toml
    #[arg(long, value_name = "ROOT")]
    pub all: Option<PathBuf>,
}

/// The Forgejo sync's checks: its section, a token for its instance, the organisation and
/// the team repositories reachable with it.
fn forgejo_checks(repo: &Path) -> Vec<Check> {
    let ledger = (|| {
        let r = git2::Repository::open_bare(repo).ok()?;
        let tip = r.head().ok()?.peel_to_commit().ok()?.id();
        crate::verify::cache::StateCache::of(&r).state_at(&r, tip, None).ok()
    })();
    let Some(state) = ledger else {
        return vec![Check::ok(
            "forgejo",
            "no ledger state to read [forgejo] from (see the ledger check)".into(),
        )];
    };
    let Some(section) = state.policy.forgejo.as_ref() else {
        return vec![Check::ok(
            "forgejo",
            "ledger.toml has no [forgejo] section: the Forgejo sync is off".into(),
        )];
    };
    let settings = match Settings::from_section(section) {
        Ok(settings) => settings,
        Err(e) => {
            return vec![Check::problem(
                "forgejo",
                format!("{e:#}"),
                "correct [forgejo] in ledger.toml with `smartup amend-policy`",
            )]
        }
    };
    let token = match find_token(&settings) {
        Ok(token) => token,
        Err(e) => {
            return vec![Check::problem(
                "forgejo token",
                format!("{e:#}"),
                "give the sync a token (FORGEJO_TOKEN or ~/.config/smartup/forgejo.toml)",
            )]
        }
    };
    let client = match Client::new(&settings, token, Backoff::default()) {
        Ok(client) => client,
        Err(e) => return vec![Check::problem("forgejo", format!("{e:#}"), "check the [forgejo] url")],
    };
    let org = settings.organisation.as_str();
    let mut checks = Vec::new();
    match client.get::<serde::de::IgnoredAny>(&["orgs", org]) {
        Ok(_) => checks.push(Check::ok("forgejo organisation", format!("{org} is readable with the token"))),
        Err(e) => {
            checks.push(Check::problem(
                "forgejo organisation",
                format!("{e}"),
                "create the organisation, or give the token its scopes",
            ));
            return checks;
        }
    }
    checks.push(write_probe(
        &client,
        &["orgs", org, "labels"],
        "write:organization",
        "manage the organisation's labels",
    ));
    // The repositories the sync writes to: those of the teams with objectives or tasks, and
    // the general forum's once there are proposals.
    let busy = |id: &String| state.objectives.values().any(|o| o.team == *id) || state.tasks.values().any(|t| t.team == *id);
    let mut repos: Vec<String> = state
        .teams
        .iter()
        .filter(|(id, _)| busy(id))
        .map(|(id, team)| settings.repository_of(id, Some(team)))
        .collect();
    if !state.proposals.is_empty() || !state.decided.is_empty() {
        repos.push(settings.forum_repository().to_string());
    }
    repos.sort();
    repos.dedup();
    for name in repos {
        match client.get::<serde::de::IgnoredAny>(&["repos", org, &name]) {
            Ok(_) => {
                checks.push(Check::ok("forgejo repository", format!("{org}/{name} is readable with the token")));
                let what = format!("write issues in {org}/{name}");
                checks.push(write_probe(&client, &["repos", org, &name, "issues"], "write:issue", &what));
            }
            Err(e) => checks.push(Check::problem(
                "forgejo repository",
                format!("{e}"),
                "create it, or name the team's (or 1_general_forum's) repository under [forgejo.repositories]",
            )),
        }
    }
    checks
}

/// Whether the token may create what the sync creates at `path`, asked without changing
/// anything: a create with an empty body is refused for a missing scope or right (403)
/// before Forgejo reads the body, and for the body (422) after; nothing is created.
fn write_probe(client: &Client, path: &[&str], scope: &str, what: &str) -> Check {
    const CHECK: &str = "forgejo token scopes";
    let empty = serde_json::json!({});
    match client.write::<_, serde::de::IgnoredAny>(reqwest::Method::POST, path, &empty) {
        Err(e) if e.status() == Some(422) => Check::ok(CHECK, format!("the token may {what} ({scope})")),
        Err(e) if e.status() == Some(403) => Check::problem(
            CHECK,
            format!("the token may not {what}: {e}"),
            format!("give the token the scope {scope}, and its user the right to {what}"),
        ),
        Err(e) => Check::problem(CHECK, format!("could not ask whether the token may {what}: {e}"), "see the message"),
        Ok(_) => Check::problem(
            CHECK,
            format!("Forgejo accepted an empty create at /{} (it should refuse it)", path.join("/")),
            "check that the [forgejo] url is a Forgejo instance",
        ),
    }
}

/// Runs the checks and prints them; exit 1 when anything needs fixing.
pub fn run(global: &Global, args: &DoctorArgs) -> Result<()> {
    let mut problems = 0;
    for repo in repositories(args.repo.as_ref(), args.all.as_deref())? {
        let mut checks = health::check(&repo)?;
        checks.extend(forgejo_checks(&repo));
        problems += checks.iter().filter(|c| !c.ok).count();
        if global.json {
            println!(
                "{}",
                serde_json::json!({"repository": repo, "ok": checks.iter().all(|c| c.ok), "checks": checks})
            );
            continue;
        }
        println!("{}", repo.display());
        for c in &checks {
            match &c.fix {
                None => println!("  ok       {}: {}", c.check, c.message),
                Some(fix) => println!("  PROBLEM  {}: {}\n           fix: {fix}", c.check, c.message),
            }
        }
    }
    if problems > 0 {
        if !global.json {
            eprintln!("smartup: {problems} problem(s) to fix (above)");
        }
        return Err(AlreadyReported(problems).into());
    }
    Ok(())
}
