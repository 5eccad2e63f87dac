//! The `smartup` command line: argument parsing, dispatch and exit codes.
//!
//! Exit codes are carried by the error's type: see [`exit`].

mod actions;
mod bot_cmd;
mod context;
mod decisions;
mod demo;
mod doctor;
pub mod exit;
mod forgejo_cmd;
mod hook_cmd;
mod identity;
mod init;
mod inspect;
mod journal;
mod matrix_cmd;
mod onboard_cmd;
mod progress;
mod provision_cmd;
mod push_cmd;
mod read;
mod site_cmd;
mod verify_cmd;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Violations were found and have been printed already (by `verify` or the hook): exit
/// code 1 with nothing more to say.
#[derive(Debug, thiserror::Error)]
#[error("{0} violation(s), reported above")]
pub struct AlreadyReported(pub usize);

/// smartup — the signed, append-only ledger of a smartup, kept in git.
#[derive(Parser)]
#[command(name = "smartup", version, about, long_about = None, after_help = "Exit codes: 0 success; 1 a rule refused, verify found violations, or an id is unknown; 2 the command line is wrong; 3 anything else.")]
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
    /// Print machine-readable JSON (errors too, on standard error)
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new ledger (in an empty folder or empty git repository), with its genesis row
    #[command(visible_alias = "register-smartup")]
    Init(init::InitArgs),
    #[command(flatten)]
    Action(actions::Action),
    /// Tasks by state, open sessions, pending SC and their windows, open proposals
    Status,
    /// SC, SK and pending SC per owner, and the treasury with the SC pending in tranches
    Balance(read::BalanceArgs),
    /// Open proposals with their tally and time left, and the tranches; or one proposal whole
    Proposals(read::ProposalsArgs),
    /// The audit log: every row of every table in seq order
    Log(read::LogArgs),
    /// What happened, one event per row in words: everything, or what followed --since SEQ
    Events(read::EventsArgs),
    /// One table as a single seed-style CSV file
    Export(read::ExportArgs),
    /// The money (EUR treasury, SC owed to owners) as a journal for hledger or Ledger
    Journal(journal::JournalArgs),
    /// The ledger as Prometheus gauges (treasury, SC, the 3x rule, owners, tasks, rows, refused pushes)
    Metrics(read::MetricsArgs),
    /// Re-check the whole history: signatures, append-only commits, every rule
    Verify(verify_cmd::VerifyArgs),
    /// Key tools: an allowed-signers file for ssh-keygen and git
    #[command(subcommand)]
    Keys(inspect::KeysCommand),
    /// A row's signature as an armored SSHSIG (or, with --message, the bytes it signs)
    Sig(inspect::SigArgs),
    /// Run the whole contributor journey on a fresh local ledger, step by step
    Demo(demo::DemoArgs),
    /// An admin's health check: hooks, state cache, the ledger replaying, the Forgejo sync's token
    Doctor(doctor::DoctorArgs),
    /// The server side: the pre-receive hook that enforces the ledger, and its installation
    #[command(subcommand)]
    Hook(hook_cmd::HookCommand),
    /// Push the ledger branch, re-basing your unpushed entries when someone pushed first
    Push(push_cmd::PushArgs),
    /// Onboarding: record an Open Collective export (deposits, refunds, invitations), invite by hand
    #[command(subcommand)]
    Onboard(onboard_cmd::OnboardCommand),
    /// Claim an invitation with its one-time code: writes a join row signed by your own key (made if you have none)
    Join(onboard_cmd::JoinArgs),
    /// Record a newcomer's signed join row (captains and every owner may relay), then push
    Relay(onboard_cmd::RelayArgs),
    /// Keep Forgejo issues, labels, milestones and tracked time in step with the ledger
    #[command(subcommand)]
    Forgejo(forgejo_cmd::ForgejoCommand),
    /// The public transparency site, built from the verified ledger
    #[command(subcommand)]
    Site(site_cmd::SiteCommand),
    /// The Matrix hub: link your account, mirror the ledger's rooms, registration tokens for invitations
    #[command(subcommand)]
    Matrix(matrix_cmd::MatrixCommand),
    /// Engelbot, the Midfielder: announces ledger events in Matrix and answers; never signs
    #[command(subcommand)]
    Bot(bot_cmd::BotCommand),
}

/// Runs the command line and turns the outcome into an exit code (see [`exit`]).
pub fn main() -> ExitCode {
    let parsed = identity::scope_flags(Cli::command())
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, identity::Scoped::from_matches(&matches)?)));
    let (cli, scoped) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return exit::usage(e),
    };
    let json = cli.global.json;
    crate::repo::tune_object_reading(); // before any repository is opened: see its doc
    match run(cli, &scoped) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => exit::report(&error, json),
    }
}

fn run(cli: Cli, scoped: &identity::Scoped) -> anyhow::Result<()> {
    let g = &cli.global;
    if let Some(Err(e)) = crate::time::pinned() {
        return Err(exit::Usage(format!("{}: {e}", crate::time::PINNED_CLOCK)).into());
    }
    match &cli.command {
        Command::Init(args) => init::run(g, scoped, args),
        Command::Action(action) => actions::run(g, scoped, action),
        Command::Status => read::status(g),
        Command::Balance(args) => read::balance(g, args),
        Command::Proposals(args) => read::proposals(g, args),
        Command::Log(args) => read::log(g, args),
        Command::Events(args) => read::events(g, args),
        Command::Export(args) => read::export(g, args),
        Command::Journal(args) => journal::journal(g, args),
        Command::Metrics(args) => read::metrics(g, args),
        Command::Verify(args) => verify_cmd::run(g, args),
        Command::Keys(command) => inspect::keys(g, command),
        Command::Sig(args) => inspect::sig(g, args),
        Command::Demo(args) => demo::run(g, args),
        Command::Hook(command) => hook_cmd::run(g, command),
        Command::Doctor(args) => doctor::run(g, args),
        Command::Push(args) => push_cmd::run(g, scoped, args),
        Command::Onboard(command) => onboard_cmd::run(g, command),
        Command::Join(args) => onboard_cmd::join(g, scoped, args),
        Command::Relay(args) => onboard_cmd::relay(g, scoped, args),
        Command::Forgejo(command) => forgejo_cmd::run(g, command),
        Command::Site(command) => site_cmd::run(g, command),
        Command::Matrix(command) => matrix_cmd::run(g, command),
        Command::Bot(command) => bot_cmd::run(g, command),
    }
}
