//! The `smartup` command line: argument parsing, dispatch and exit codes.
//!
//! Exit codes: 0 success; 1 a rule refused the entry, or `verify` found violations;
//! 2 the command line was wrong; 3 anything else failed (files, keys, git, input).

mod actions;
mod context;
mod demo;
mod forgejo_cmd;
mod hook_cmd;
mod identity;
mod init;
mod inspect;
mod progress;
mod push_cmd;
mod read;
mod rebase;
mod verify_cmd;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::time::Timestamp;

/// The ledger refused an entry: exit code 1.
#[derive(Debug, thiserror::Error)]
#[error("refused: {0}")]
pub struct Refused(pub crate::rules::Violation);

/// Violations were found and have been printed already (by `verify`, the hook, or the
/// server during `push`): exit code 1 with nothing more to say.
#[derive(Debug, thiserror::Error)]
#[error("{0} violation(s), reported above")]
pub struct AlreadyReported(pub usize);

/// smartup — the signed, append-only ledger of a smartup, kept in git.
#[derive(Parser)]
#[command(name = "smartup", version, about, long_about = None, after_help = "Exit codes: 0 success, 1 refused by a rule or violations found, 2 usage error, 3 other failure.")]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Args, Clone, Debug, Default)]
pub struct Global {
    /// The ledger repository [default: the current directory]
    #[arg(long, global = true, value_name = "DIR", env = "SMARTUP_LEDGER")]
    pub ledger: Option<PathBuf>,
    /// Print machine-readable JSON
    #[arg(long, global = true)]
    pub json: bool,
    /// Your handle [default: git config smartup.handle]
    #[arg(long, global = true, env = "SMARTUP_HANDLE")]
    pub handle: Option<String>,
    /// Your ed25519 private key [default: git config user.signingkey, then ~/.ssh/id_ed25519]
    #[arg(long, global = true, value_name = "FILE", env = "SMARTUP_KEY")]
    pub key: Option<PathBuf>,
    /// When the work happened (UTC, e.g. 2026-11-26T09:30:00Z) [default: now]: the clock-in of
    /// start-work, the clock-out of stop-work, the day of award-sk; never in the future, within
    /// the retroactive limit. Other actions refuse it: every row is recorded now
    #[arg(long, global = true, value_name = "TIME")]
    pub at: Option<Timestamp>,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new ledger (in an empty folder or empty git repository), with its genesis row
    #[command(visible_alias = "register-smartup")]
    Init(init::InitArgs),
    #[command(flatten)]
    Action(actions::Action),
    /// Tasks by state, open sessions, pending SC and their windows
    Status,
    /// SC, SK and pending SC per owner, and the treasury
    Balance(read::BalanceArgs),
    /// The audit log: every row of every table in seq order
    Log(read::LogArgs),
    /// One table as a single seed-style CSV file
    Export(read::ExportArgs),
    /// Re-check the whole history: signatures, append-only commits, every rule
    Verify(verify_cmd::VerifyArgs),
    /// Key tools: an allowed-signers file for ssh-keygen and git
    #[command(subcommand)]
    Keys(inspect::KeysCommand),
    /// A row's signature as an armored SSHSIG (or, with --message, the bytes it signs)
    Sig(inspect::SigArgs),
    /// Run the whole contributor journey on a fresh local ledger, step by step
    Demo(demo::DemoArgs),
    /// The server side: the pre-receive hook that enforces the ledger, and its installation
    #[command(subcommand)]
    Hook(hook_cmd::HookCommand),
    /// Push the ledger branch, re-basing your unpushed entries when someone pushed first
    Push(push_cmd::PushArgs),
    /// Keep Forgejo issues, labels, milestones and tracked time in step with the ledger
    #[command(subcommand)]
    Forgejo(forgejo_cmd::ForgejoCommand),
}

/// Runs the command line and turns the outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if error.downcast_ref::<AlreadyReported>().is_some() {
                return ExitCode::from(1);
            }
            eprintln!("error: {error:#}");
            if error.downcast_ref::<Refused>().is_some() {
                ExitCode::from(1)
            } else {
                ExitCode::from(3)
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let g = &cli.global;
    if let Some(Err(e)) = crate::time::pinned() {
        anyhow::bail!("{}: {e}", crate::time::PINNED_CLOCK);
    }
    match &cli.command {
        Command::Init(args) => init::run(g, args),
        Command::Action(action) => actions::run(g, action),
        Command::Status => read::status(g),
        Command::Balance(args) => read::balance(g, args),
        Command::Log(args) => read::log(g, args),
        Command::Export(args) => read::export(g, args),
        Command::Verify(args) => verify_cmd::run(g, args),
        Command::Keys(command) => inspect::keys(g, command),
        Command::Sig(args) => inspect::sig(g, args),
        Command::Demo(args) => demo::run(g, args),
        Command::Hook(command) => hook_cmd::run(g, command),
        Command::Push(args) => push_cmd::run(g, args),
        Command::Forgejo(command) => forgejo_cmd::run(g, command),
    }
}
