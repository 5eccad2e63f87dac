//! `smartup forgejo sync`: reads the ledger at HEAD and its `[forgejo]` section, reads what
//! Forgejo shows, plans every change and, unless `--dry-run`, applies it. Step lines go to
//! standard output, warnings to standard error, a progress bar to a terminal's standard
//! error; `--json` prints one object with the plan and the result instead.

use super::context::open;
use super::progress::Progress;
use super::{AlreadyReported, Global};
use crate::forgejo::apply::{apply, Applied, Skipped, Stopped};
use crate::forgejo::client::{Backoff, Client};
use crate::forgejo::config::{find_token, Settings};
use crate::forgejo::cursor::{self, Cursor};
use crate::forgejo::desired;
use crate::forgejo::history;
use crate::forgejo::links::RowLinks;
use crate::forgejo::observe::{observe, Observed, Scope};
use crate::forgejo::plan::{plan, Plan};
use crate::time::Timestamp;
use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use serde_json::json;

/// `forgejo` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum ForgejoCommand {
    /// Bring Forgejo's labels, milestones, issues and tracked time in step with the ledger
    ///
    /// The token comes from FORGEJO_TOKEN or ~/.config/smartup/forgejo.toml, never from the
    /// ledger. When Forgejo refuses a change of one object for good (404, 409, 412, 422, 423),
    /// that object's remaining changes are skipped with a warning and the rest is applied.
    /// Exit codes: 0 in step, 1 some changes were refused and skipped (listed), 2 usage
    /// error, 3 failure (ledger, configuration, network, token); after a failure Forgejo is
    /// consistent, and the message says whether running the sync again finishes the job.
    Sync(SyncArgs),
    /// Make Forgejo's accounts follow the ledger: an account per owner (created with a first
    /// password they must change), their ledger keys (revoked ones removed), and membership of
    /// the teams their roles and licenses give
    ///
    /// Needs a site administrator's token (write:admin, write:organization, read:user). Only
    /// owners' accounts, keys the ledger knows and the managed teams are touched. A second
    /// run plans nothing. Exit codes: 0 in step, 1 some steps were refused or an owner has no
    /// known e-mail (listed), 2 usage error, 3 failure (ledger, configuration, network, token).
    Provision(super::provision_cmd::ProvisionArgs),
}

/// Arguments of `forgejo sync`.
#[derive(Args, Debug, Clone)]
pub struct SyncArgs {
    /// Print the plan and change nothing (only reading requests are sent)
    #[arg(long)]
    pub dry_run: bool,
    /// Sync again and again, this long apart (`90s`, `5m`, `1h`), until stopped: labels
    /// follow the clock (a lazy-consensus window that closes) even when nobody pushes. A
    /// failed run is reported and the next one tries again.
    #[arg(long, value_name = "INTERVAL", value_parser = interval)]
    pub watch: Option<std::time::Duration>,
    /// Read every issue, not only what changed since the last sync (a full reconcile; it
    /// also runs when there is no sync cursor and once a day)
    #[arg(long)]
    pub full: bool,
}

/// `90`, `90s`, `5m` or `1h` as a duration of at least one second.
fn interval(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, "s"),
    };
    let seconds_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("{text:?} is not an interval: write 90s, 5m or 1h")),
    };
    match number.parse::<u64>() {
        Ok(n) if n > 0 => Ok(std::time::Duration::from_secs(n.saturating_mul(seconds_per))),
        _ => Err(format!("{text:?} is not an interval: write 90s, 5m or 1h (at least one second)")),
    }
}

/// Runs a `forgejo` subcommand.
pub fn run(global: &Global, command: &ForgejoCommand) -> Result<()> {
    match command {
        ForgejoCommand::Sync(args) => match args.watch {
            Some(every) => watch(global, args, every),
            None => sync(global, args),
        },
        ForgejoCommand::Provision(args) => super::provision_cmd::provision(global, args),
    }
}

/// Syncs every `every` until the process is stopped; a failed run is reported on standard
/// error (as one line) and does not end the watch.
fn watch(global: &Global, args: &SyncArgs, every: std::time::Duration) -> Result<()> {
    loop {
        if let Err(error) = sync(global, args) {
            eprintln!("smartup: {} sync failed: {error:#}", Timestamp::now());
        }
        if !global.json {
            println!("next sync in {} s", every.as_secs());
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        std::thread::sleep(every);
    }
}

/// What `report` was told: the plan, whether it was a dry run, what was applied and skipped.
struct Outcome<'p> {
    plan: &'p Plan,
    dry_run: bool,
    applied: usize,
    skipped: &'p [Skipped],
}

fn sync(global: &Global, args: &SyncArgs) -> Result<()> {
    let mut reported = false;
    let result = sync_reporting(global, args, &mut reported);
    if let (Err(error), true, false) = (&result, global.json, reported) {
        // A sync that fails before it has a plan (no token, 401, a missing organisation)
        // still answers with the one JSON object scripts read.
        let line = json!({"dry_run": args.dry_run, "ok": false, "changes": [], "applied": 0, "skipped": [], "warnings": [], "requests": {"read": 0, "write": 0}, "error": format!("{error:#}")});
        println!("{line}");
    }
    result
}

fn sync_reporting(global: &Global, args: &SyncArgs, reported: &mut bool) -> Result<()> {
    let ledger = open(global)?;
    let state = &ledger.state;
    let section = state.policy.forgejo.as_ref().ok_or_else(|| {
        anyhow!(
            "ledger.toml has no [forgejo] section, so there is nothing to sync to: add one (url, organisation, and optionally repositories and objectives_as) with `smartup amend-policy FILE`"
        )
    })?;
    let settings = Settings::from_section(section)?;
    let client = Client::new(&settings, find_token(&settings)?, Backoff::default())?;
    let history = history::read(&ledger.repo, ledger.head, state.policy.ledger.segment_rows)?;
    let links = RowLinks::of_repository(&ledger.repo, &settings.url, &ledger.branch);
    let desired = desired::build(state, &history, &settings, &links, Timestamp::now());
    let progress = Progress::new(global);
    // This machine's clock (never the pinned ledger clock); Forgejo's is preferred below.
    let local_start = Timestamp::system();
    let cursor_path = cursor::path_in(ledger.repo.path());
    let cursor = Cursor::load(&cursor_path, settings.instance(), &settings.organisation, &desired)
        .filter(|c| !args.full && !c.full_due(local_start));
    let scope = cursor.as_ref().map_or(Scope::Full, Scope::Since);
    let observed = observe(&client, &settings, &desired, scope, &|done, all| {
        progress.show("reading Forgejo", done, all)
    })?;
    let plan = plan(&desired, &observed);
    if !global.json {
        for warning in &plan.warnings {
            eprintln!("warning: {warning}");
        }
    }
    *reported = true;
    if args.dry_run {
        let outcome = Outcome {
            plan: &plan,
            dry_run: true,
            applied: 0,
            skipped: &[],
        };
        report(global, &client, &outcome, None);
        return Ok(());
    }
    let total = plan.steps.len();
    let applied = apply(&client, &settings.organisation, &plan, &mut |done, step| {
        if !global.json {
            progress.line(&format!("  {}", step.describe()));
        }
        progress.show("applying", done, total);
    });
    if let Ok(Applied { skipped, .. }) = &applied {
        let started = cursor::run_start(client.first_answer(), local_start);
        let run = cursor_run(started, cursor.is_none(), &observed, skipped);
        let next = Cursor::after_run(cursor.as_ref(), settings.instance(), &settings.organisation, &desired, &run);
        if let Err(e) = next.save(&cursor_path) {
            eprintln!("warning: the next sync reads every issue again: {e:#}");
        }
    }
    match applied {
        Ok(Applied { done, skipped }) => {
            let outcome = Outcome {
                plan: &plan,
                dry_run: false,
                applied: done,
                skipped: &skipped,
            };
            if skipped.is_empty() {
                report(global, &client, &outcome, None);
                return Ok(());
            }
            let error = format!(
                "Forgejo refused {} of {total} changes, which were skipped (listed above); the other {done} were applied. \
                 Fix what Forgejo refused (the reasons say what), then sync again",
                skipped.len()
            );
            report(global, &client, &outcome, Some(&error));
            if !global.json {
                eprintln!("smartup: {error}");
            }
            Err(AlreadyReported(skipped.len()).into())
        }
        Err(Stopped {
            done,
            error,
            transient,
            skipped,
        }) => {
            let next = if transient {
                "Forgejo is consistent, and running the sync again finishes the job"
            } else {
                "Forgejo is consistent; fix the cause above, then sync again"
            };
            let error = error.context(format!("the sync stopped after {done} of {total} changes; {next}"));
            let outcome = Outcome {
                plan: &plan,
                dry_run: false,
                applied: done,
                skipped: &skipped,
            };
            report(global, &client, &outcome, Some(&format!("{error:#}")));
            Err(error)
        }
    }
}

/// What the run that began at `started` read (every issue when `full`) and what Forgejo
/// refused, for the next cursor.
fn cursor_run(started: Timestamp, full: bool, observed: &Observed, skipped: &[Skipped]) -> cursor::Run {
    let mut run = cursor::Run {
        started,
        full,
        checked: Default::default(),
        numbers: Default::default(),
        refused: skipped.iter().map(|s| s.object.clone()).collect(),
    };
    for (repo, state) in &observed.repos {
        for (key, found) in &state.issues {
            run.numbers.insert((repo.clone(), key.clone()), found.item.number);
        }
        for key in state.checked.iter().flatten() {
            run.checked.insert((repo.clone(), key.clone()));
        }
    }
    run
}

/// Prints the plan (dry run) or the summary of what was applied and skipped; with `--json`
/// one object.
fn report(global: &Global, client: &Client, outcome: &Outcome, error: Option<&str>) {
    let (reads, writes) = client.requests();
    let Outcome {
        plan,
        dry_run,
        applied,
        skipped,
    } = *outcome;
    if global.json {
        let steps: Vec<_> = plan.steps.iter().map(|s| s.to_json()).collect();
        println!(
            "{}",
            json!({"dry_run": dry_run, "ok": error.is_none(), "changes": steps, "applied": applied, "skipped": skipped, "warnings": plan.warnings, "requests": {"read": reads, "write": writes}, "error": error})
        );
        return;
    }
    for s in skipped {
        eprintln!("warning: skipped: {} ({}): {}", s.change, s.object, s.reason);
    }
    if plan.steps.is_empty() {
        println!("Forgejo shows the ledger: nothing to change ({reads} reading requests).");
    } else if dry_run {
        println!("{} change(s) planned; dry run, nothing was changed:", plan.steps.len());
        for step in &plan.steps {
            println!("  {}", step.describe());
        }
    } else if error.is_none() {
        println!("{applied} change(s) applied ({reads} reading and {writes} writing requests).");
    }
}

#[cfg(test)]
mod tests {
    use super::interval;
    use std::time::Duration;

    #[test]
    fn intervals_are_seconds_minutes_or_hours() {
        assert_eq!(interval("90"), Ok(Duration::from_secs(90)));
        assert_eq!(interval("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(interval("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(interval("1h"), Ok(Duration::from_secs(3600)));
        for bad in ["0", "0s", "5d", "m", "", "-5m", "1.5h"] {
            assert!(interval(bad).is_err(), "{bad:?} is refused");
        }
    }
}
