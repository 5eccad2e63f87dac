//! `smartup forgejo provision`: Forgejo's accounts, SSH keys and team membership follow the
//! ledger's owners (see [`crate::forgejo::accounts`]); e-mails for new accounts come from the
//! private identity file or a placeholder domain.

use super::context::open;
use super::exit::Usage;
use super::{AlreadyReported, Global};
use crate::forgejo::accounts;
use crate::forgejo::client::{Backoff, Client};
use crate::forgejo::config::{find_token, Settings};
use crate::time::Timestamp;
use anyhow::{anyhow, Result};
use clap::Args;
use serde_json::json;

/// Arguments of `forgejo provision`.
#[derive(Args, Debug, Clone)]
pub struct ProvisionArgs {
    /// Print the plan and change nothing (only reading requests are sent)
    #[arg(long)]
    pub dry_run: bool,
    /// E-mail domain for owners whose e-mail the identity file does not know: HANDLE@DOMAIN
    #[arg(long, value_name = "DOMAIN")]
    pub placeholder_email_domain: Option<String>,
    #[command(flatten)]
    pub identity_file: super::onboard_cmd::IdentityFile,
}

/// `smartup forgejo provision`: accounts, keys and teams of owners.
pub fn provision(global: &Global, args: &ProvisionArgs) -> Result<()> {
    if let Some(domain) = &args.placeholder_email_domain {
        if domain.is_empty() || domain.contains(['@', '/', ' ']) || !domain.contains('.') {
            return Err(Usage(format!(
                "--placeholder-email-domain {domain:?} is not a domain like users.example.org"
            ))
            .into());
        }
    }
    let ledger = open(global)?;
    let state = &ledger.state;
    let section = state.policy.forgejo.as_ref().ok_or_else(|| {
        anyhow!("ledger.toml has no [forgejo] section, so there is no Forgejo to provision: add one (url, organisation) with `smartup amend-policy FILE`")
    })?;
    let settings = Settings::from_section(section)?;
    let mut identities = super::onboard_cmd::identities_at(global, &args.identity_file)?;
    identities.resolve_handles(state, &crate::time::format_date(Timestamp::now().day()));
    let known = identities
        .contributors
        .iter()
        .filter(|c| !c.email.is_empty())
        .filter_map(|c| c.handle.clone().map(|h| (h, c.email.clone())))
        .collect();
    let emails = accounts::Emails {
        known: &known,
        placeholder_domain: args.placeholder_email_domain.as_deref(),
    };
    let desired = accounts::desired(state, &emails);
    let client = Client::new(&settings, find_token(&settings)?, Backoff::default())?;
    let observed = accounts::remote::observe(&client, &settings.organisation, &desired)?;
    let plan = accounts::plan(&desired, &observed);
    let applied = if args.dry_run {
        None
    } else {
        let mut show = |step: &accounts::Step| {
            if !global.json {
                println!("done: {}", step.describe());
            }
        };
        Some(accounts::remote::apply(
            &client,
            &settings.organisation,
            &plan,
            &observed,
            &mut show,
        )?)
    };
    let refused = applied.as_ref().map_or(0, |a| a.refused.len());
    if global.json {
        let line = json!({
            "dry_run": args.dry_run,
            "steps": plan.steps.iter().map(accounts::Step::describe).collect::<Vec<_>>(),
            "blocked": plan.blocked,
            "applied": applied.as_ref().map_or(0, |a| a.done),
            "refused": applied.as_ref().map_or_else(Vec::new, |a| a.refused.iter().map(|r| json!({"step": r.step, "why": r.why, "skipped": r.skipped})).collect()),
            "passwords": applied.as_ref().map_or_else(Vec::new, |a| a.passwords.iter().map(|(l, p)| json!({"login": l, "password": p})).collect()),
        });
        println!("{line}");
    } else {
        print_provision(&plan, applied.as_ref());
    }
    let problems = plan.blocked.len() + refused;
    if problems > 0 {
        return Err(AlreadyReported(problems).into());
    }
    Ok(())
}

fn print_provision(plan: &accounts::Plan, applied: Option<&accounts::remote::Applied>) {
    for blocked in &plan.blocked {
        eprintln!("warning: {blocked}");
    }
    let Some(applied) = applied else {
        for step in &plan.steps {
            println!("would {}", step.describe());
        }
        println!("{} changes planned (dry run: nothing changed).", plan.steps.len());
        return;
    };
    for refusal in &applied.refused {
        eprintln!("refused: {}: {}", refusal.step, refusal.why);
        for skipped in &refusal.skipped {
            eprintln!("  skipped with it: {skipped}");
        }
    }
    println!(
        "{} changes made, {} refused; Forgejo's accounts {} the ledger.",
        applied.done,
        applied.refused.len(),
        if applied.refused.is_empty() && plan.blocked.is_empty() {
            "follow"
        } else {
            "do not yet fully follow"
        }
    );
    if !applied.passwords.is_empty() {
        println!("\nFirst passwords (shown this once; each must be changed at the first login). Hand them over privately:");
        for (login, password) in &applied.passwords {
            println!("  {login:<20} {password}");
        }
    }
}
