//! `smartup bot`: Engelbot, the Midfielder (see [`crate::matrix::bot`]). `run` is the
//! long-running process; `announce` is the one-shot the post-receive companion calls after an
//! accepted push.

use super::context::{ledger_dir, open};
use super::Global;
use crate::matrix::bot::run::{run as run_bot, Bot, Options};
use crate::matrix::client::Client;
use crate::matrix::config::{find_token, Role, Settings};
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// The `bot` subcommands.
#[derive(Subcommand, Debug)]
pub enum BotCommand {
    /// Run Engelbot until SIGTERM: announce ledger events, answer commands, keep the hub and the
    /// registration tokens in step (the bot's token; an admin's for tokens, when set)
    Run(BotArgs),
    /// Announce what is new in the ledger once, and exit (for the post-receive hook)
    Announce(BotArgs),
}

/// Arguments of the `bot` subcommands.
#[derive(Args, Debug)]
pub struct BotArgs {
    /// Where the bot keeps its place [default: smartup/engelbot.json in the ledger's git folder]
    #[arg(long, value_name = "FILE")]
    pub cursor: Option<PathBuf>,
    /// Seconds one wait for news lasts (how often the ledger is looked at)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub poll_seconds: u64,
    /// With no cursor yet, announce only the events after this seq [default: all of them]
    #[arg(long, value_name = "SEQ")]
    pub since: Option<u64>,
}

/// Runs a `bot` subcommand.
pub fn run(global: &Global, command: &BotCommand) -> Result<()> {
    let (args, once) = match command {
        BotCommand::Run(args) => (args, false),
        BotCommand::Announce(args) => (args, true),
    };
    let ledger = open(global)?;
    let settings = Settings::of_policy(ledger.state.policy.matrix.as_ref())?;
    let token = find_token(&settings, Role::Bot)?;
    let client = Client::new(&settings.homeserver, &token.value)?.with_token_source(&token.source);
    let me = client.whoami()?;
    if me != settings.bot {
        bail!("the bot token is {me}'s, but the policy's bot is {}", settings.bot);
    }
    let admin = match find_token(&settings, Role::Admin) {
        Ok(token) => Some(Client::new(&settings.homeserver, &token.value)?.with_token_source(&token.source)),
        Err(_) if !once => {
            eprintln!("engelbot: no admin token (SMARTUP_MATRIX_ADMIN_TOKEN): registration tokens are left alone");
            None
        }
        Err(_) => None,
    };
    if let Some(admin) = &admin {
        if let Err(e) = admin.lift_rate_limits(&me) {
            eprintln!("engelbot: could not lift the bot's rate limits ({e}); a large hub may sync slowly");
        }
    }
    let options = Options {
        ledger: ledger_dir(global),
        cursor: match &args.cursor {
            Some(path) => path.clone(),
            None => ledger.repo.path().join("smartup").join("engelbot.json"),
        },
        poll: Duration::from_secs(args.poll_seconds),
        since: args.since,
        stop: Arc::new(AtomicBool::new(false)),
    };
    drop(ledger);
    let mut bot = Bot::new(&settings, &client, admin.as_ref(), &options)?;
    if once {
        let sent = bot.follow_ledger()?;
        if !global.json {
            println!("{sent} announcement(s) sent.");
        }
        return Ok(());
    }
    let stop = &options.stop;
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(stop)).map_err(|e| anyhow!("cannot listen for signal {signal}: {e}"))?;
    }
    eprintln!("engelbot: running as {me} on {}; stop with SIGTERM", settings.homeserver);
    run_bot(&mut bot)?;
    eprintln!("engelbot: stopped cleanly");
    Ok(())
}
