//! `smartup matrix`: link your Matrix account (a signed row), keep the homeserver's space and
//! rooms in step with the ledger (`sync`), and give open invitations registration tokens
//! (`invite`).

use super::context::{open, print_rows};
use super::exit::Usage;
use super::identity::{self, Who};
use super::{AlreadyReported, Global};
use crate::matrix::client::Client;
use crate::matrix::config::{find_token, Role, Settings};
use crate::matrix::{hub, tokens};
use crate::rules::draft::Intent;
use crate::rules::matrix::link_code_hash;
use crate::sign::Code;
use crate::time::Timestamp;
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use serde_json::json;

/// The `matrix` subcommands.
#[derive(Subcommand, Debug)]
pub enum MatrixCommand {
    /// Link your Matrix account to your handle: writes a link-matrix row signed by you and
    /// prints a one-time code to send to the bot from that account (`!link CODE`)
    Link(LinkArgs),
    /// Make the homeserver's space, rooms, aliases and members match the ledger (the bot's token)
    Sync(DryRun),
    /// Give every open invitation a single-use registration token, delete the tokens of closed
    /// ones, and list the tokens to hand out with the invitation codes (an admin's token)
    Invite(DryRun),
}

/// Arguments of `matrix link`.
#[derive(Args, Debug)]
pub struct LinkArgs {
    /// Your Matrix user id on the smartup's homeserver, like @jane:example.org
    pub account: String,
    #[command(flatten)]
    pub who: Who,
}

/// `--dry-run`.
#[derive(Args, Debug)]
pub struct DryRun {
    /// Print the plan and change nothing (only reading requests are sent)
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs a `matrix` subcommand.
pub fn run(global: &Global, command: &MatrixCommand) -> Result<()> {
    match command {
        MatrixCommand::Link(args) => link(global, args),
        MatrixCommand::Sync(args) => sync(global, args.dry_run),
        MatrixCommand::Invite(args) => invite(global, args.dry_run),
    }
}

fn link(global: &Global, args: &LinkArgs) -> Result<()> {
    let mut ledger = open(global)?;
    let settings = Settings::of_policy(ledger.state.policy.matrix.as_ref())?;
    crate::ledger::ids::check_matrix_user(&args.account, &settings.server_name).map_err(Usage)?;
    let signer = identity::resolve(&args.who, Some(&ledger.repo))?;
    let code = Code::generate();
    let intent = Intent::LinkMatrix {
        matrix_user: args.account.clone(),
        code_hash: link_code_hash(&ledger.state.ledger_id, &args.account, code.as_str()),
    };
    let rows = ledger.record(&signer, &intent, None, Timestamp::now())?;
    print_rows(global, &rows);
    if global.json {
        println!("{}", json!({ "code": code.shown(), "bot": settings.bot }));
    } else {
        println!("Link code (shown this once): {}", code.shown());
        println!(
            "Push with `smartup push`, then send `!link {}` from {} to {} in a direct message.",
            code.shown(),
            args.account,
            settings.bot
        );
    }
    Ok(())
}

/// A client acting with the `role`'s token, the user the token belongs to (`whoami`), and
/// where the token came from. A token the homeserver refuses is named by its source (the
/// environment variable or the token file), never shown.
fn client(settings: &Settings, role: Role) -> Result<(Client, String, String)> {
    let token = find_token(settings, role)?;
    let client = Client::new(&settings.homeserver, &token.value)?.with_token_source(&token.source);
    match client.whoami() {
        Ok(me) => Ok((client, me, token.source)),
        Err(error) if error.status() == Some(401) => {
            let whose = match role {
                Role::Bot => "the bot's",
                Role::Admin => "a server admin's",
            };
            bail!(
                "{} does not accept the access token from {} ({}); it must be {whose} access token on this homeserver, not logged out",
                settings.homeserver,
                token.source,
                error.errcode().unwrap_or("401")
            )
        }
        Err(error) => Err(error.into()),
    }
}

fn sync(global: &Global, dry_run: bool) -> Result<()> {
    let ledger = open(global)?;
    let settings = Settings::of_policy(ledger.state.policy.matrix.as_ref())?;
    let (bot, me, _) = client(&settings, Role::Bot)?;
    if me != settings.bot {
        bail!(
            "the bot token is {me}'s, but the policy's bot is {}; the rooms belong to the bot",
            settings.bot
        );
    }
    let synced = hub::sync(
        &bot,
        &settings,
        &ledger.state,
        Timestamp::now(),
        &hub::Run {
            dry_run,
            rejoin: &Default::default(),
            stop: None,
        },
    )?;
    let failed = synced.applied.as_ref().map_or(0, |a| a.failed.len() + a.skipped.len());
    if global.json {
        let line = json!({
            "dry_run": dry_run,
            "steps": synced.steps.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "applied": synced.applied.as_ref().map_or(0, |a| a.done),
            "failed": synced.applied.as_ref().map_or_else(Vec::new, |a| a.failed.iter().map(|(s, e)| json!({"step": s.to_string(), "why": e.to_string()})).collect()),
        });
        println!("{line}");
    } else {
        let verb = if dry_run { "would" } else { "plan:" };
        for step in &synced.steps {
            println!("{verb} {step}");
        }
        match &synced.applied {
            None => println!("{} changes planned (dry run: nothing changed).", synced.steps.len()),
            Some(applied) => {
                for (step, error) in &applied.failed {
                    eprintln!("failed: {step}: {error}");
                }
                for step in &applied.skipped {
                    eprintln!("skipped (its room was not created): {step}");
                }
                let follows = if failed == 0 { "follows" } else { "does not yet fully follow" };
                println!(
                    "{} changes made, {failed} failed or skipped; the homeserver {follows} the ledger.",
                    applied.done
                );
            }
        }
    }
    if failed > 0 {
        return Err(AlreadyReported(failed).into());
    }
    Ok(())
}

fn invite(global: &Global, dry_run: bool) -> Result<()> {
    let ledger = open(global)?;
    let state = &ledger.state;
    let settings = Settings::of_policy(state.policy.matrix.as_ref())?;
    let (admin, me, source) = client(&settings, Role::Admin)?;
    let now = Timestamp::now();
    let existing = admin.registration_tokens().map_err(|error| match error.status() {
        Some(403) => anyhow!(
            "the access token from {source} is {me}'s, who is not a server admin of {}; registration tokens need an admin's token",
            settings.homeserver
        ),
        _ => error.into(),
    })?;
    let steps = tokens::plan(state, &existing, now, |seq| tokens::new_token(&state.ledger_id, seq));
    let failed = if dry_run { Vec::new() } else { tokens::apply(&admin, &steps) };
    let verb = if dry_run { "would" } else { "plan:" };
    for step in &steps {
        eprintln!("{verb} {step}");
    }
    for (step, error) in &failed {
        eprintln!("failed: {step}: {error}");
    }
    let mut handed = Vec::new();
    let fresh = steps.iter().filter_map(|s| match s {
        tokens::TokenStep::Create { invitation, token, .. } => Some((*invitation, token.clone(), false)),
        _ => None,
    });
    // A token whose one registration is done (or under way) is listed as used, not to hand out.
    let mut all: Vec<(u64, String, bool)> = tokens::ours(&state.ledger_id, &existing)
        .into_iter()
        .map(|(s, t)| (s, t.token.clone(), t.uses_allowed.is_some_and(|n| t.completed + t.pending >= n)))
        .collect();
    if !dry_run {
        all.extend(fresh);
    }
    for (seq, token, used) in all {
        let Some(invitation) = state.invitations.get(&seq).filter(|i| i.open_at(now)) else {
            continue;
        };
        if failed
            .iter()
            .any(|(s, _)| matches!(s, tokens::TokenStep::Create { invitation, .. } if *invitation == seq))
        {
            continue;
        }
        handed.push(json!({"invitation": seq, "license": invitation.license, "expires": invitation.expires.to_string(), "token": token, "used": used}));
        if !global.json {
            let what = if used { ", used: an account was registered with it" } else { "" };
            println!(
                "invitation {seq} ({} license, open until {}): registration token {token}{what}",
                invitation.license, invitation.expires
            );
        }
    }
    if global.json {
        println!(
            "{}",
            json!({ "dry_run": dry_run, "steps": steps.iter().map(ToString::to_string).collect::<Vec<_>>(), "tokens": handed })
        );
    } else if handed.iter().any(|h| h["used"] == false) {
        println!("Hand each unused token privately to the newcomer with their invitation code: it registers one account on {} until the invitation closes.", settings.server_name);
    }
    if !failed.is_empty() {
        return Err(AlreadyReported(failed.len()).into());
    }
    Ok(())
}
