//! `smartup verify`: re-checks a whole clone from genesis.

use super::context::ledger_dir;
use super::progress::Progress;
use super::{AlreadyReported, Global};
use crate::repo;
use crate::time::Timestamp;
use crate::verify::witness::{self, WITNESS_REF};
use crate::verify::{walk, Options};
use anyhow::Result;
use clap::Args;
use std::time::Instant;

/// Arguments of `verify`.
#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    /// The commit history must start at (the trust anchor)
    #[arg(long, value_name = "COMMIT")]
    pub genesis: Option<String>,
    /// What to verify [default: HEAD]
    #[arg(long, default_value = "HEAD")]
    pub rev: String,
}

/// A violation as one line of `verify --json`.
#[derive(serde::Serialize)]
struct FindingLine<'a> {
    r#type: &'static str,
    #[serde(flatten)]
    finding: &'a crate::repo::Finding,
}

/// The last line of `verify --json`.
#[derive(serde::Serialize)]
struct Summary<'a, W: serde::Serialize> {
    r#type: &'static str,
    ok: bool,
    rows: u64,
    commits: u64,
    tip: String,
    seconds: f64,
    witnessed: Option<&'a W>,
}

/// Runs the verification and prints its findings and a summary (`--json`: JSON Lines, a
/// `finding` per violation, then the `summary`).
pub fn run(global: &Global, args: &VerifyArgs) -> Result<()> {
    let repo = repo::open(&ledger_dir(global))?;
    let tip = repo::resolve(&repo, &args.rev)?;
    let genesis = args.genesis.as_deref().map(|g| repo::resolve(&repo, g)).transpose()?;
    let bar = Progress::new(global);
    let progress = |done: usize, all: usize| {
        if done == all || done.is_multiple_of(64) {
            bar.show("verifying commits", done, all);
        }
    };
    let started = Instant::now();
    let options = Options {
        check_signatures: true,
        genesis,
        not_after: Some(Timestamp::now().plus(300)),
        not_before: None,
        progress: Some(&progress),
        read_ahead: true,
        ..Options::default()
    };
    let mut report = walk(&repo, tip, &options)?;
    let witnessed = match report.state.as_ref() {
        Some(state) => witness::check(&repo, &report, &state.policy)?,
        None => None,
    };
    if let Some(coverage) = &witnessed {
        report.findings.extend(coverage.findings.iter().cloned());
    }
    let seconds = started.elapsed().as_secs_f64();
    if global.json {
        for finding in &report.findings {
            println!(
                "{}",
                serde_json::to_string(&FindingLine {
                    r#type: "finding",
                    finding
                })?
            );
        }
        let summary = Summary {
            r#type: "summary",
            ok: report.findings.is_empty(),
            rows: report.rows,
            commits: report.commits,
            tip: report.tip.to_string(),
            seconds,
            witnessed: witnessed.as_ref(),
        };
        println!("{}", serde_json::to_string(&summary)?);
    } else if report.findings.is_empty() {
        let state = report.state.as_ref();
        println!(
            "ok: {} rows in {} commits verified from genesis to {} in {:.2} s. Every row is signed by a key its actor held at that point, every commit is SSH-signed by a ledger key, history only appends, seq has no gap and every rule of the policy holds. Ledger {} ({}), {} owners, {} tasks.",
            report.rows,
            report.commits,
            &report.tip.to_string()[..12],
            seconds,
            state.map_or("?", |s| s.name.as_str()),
            state.map_or("?", |s| s.ledger_id.as_str()),
            state.map_or(0, |s| s.owners.len()),
            state.map_or(0, |s| s.tasks.len()),
        );
    } else {
        for finding in &report.findings {
            println!("{finding}");
        }
        println!(
            "\n{} violation(s) in {} rows and {} commits.",
            report.findings.len(),
            report.rows,
            report.commits
        );
    }
    if let (Some(c), false) = (&witnessed, global.json) {
        println!(
            "witnesses ({WITNESS_REF}): {} statement(s) of the forge; {} row(s) checked against them, {} row(s) from before the first, {} row(s) after the last (not yet witnessed).",
            c.witnesses, c.covered, c.before_witnessing, c.unwitnessed
        );
    }
    if report.findings.is_empty() {
        Ok(())
    } else {
        Err(AlreadyReported(report.findings.len()).into())
    }
}
