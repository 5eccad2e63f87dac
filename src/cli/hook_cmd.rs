//! `smartup hook`: the pre-receive gate itself, its post-receive companion, and installing
//! both into bare repositories.

use super::Global;
use crate::hook::{install, pre_receive, refusals, verdict};
use crate::time::Timestamp;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use std::io::Read;
use std::path::PathBuf;

/// `hook` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum HookCommand {
    /// Run as git's pre-receive hook (reads `<old> <new> <ref>` lines; exit 0 accepts)
    PreReceive,
    /// Run as git's post-receive hook: log the push, witness the ledger's tip (with
    /// SMARTUP_WITNESS_KEY or `git config smartup.witnessKey`), start `git config smartup.postReceive`
    PostReceive,
    /// Install the hooks into one bare repository, or every ledger repository under a root
    Install(Target),
    /// Remove smartup's hooks again (other hooks stay)
    Uninstall(Target),
}

/// Which repositories.
#[derive(Args, Debug, Clone)]
pub struct Target {
    /// A bare repository (PATH.git)
    #[arg(long, value_name = "PATH.git", required_unless_present = "all", conflicts_with = "all")]
    pub repo: Option<PathBuf>,
    /// Forgejo's repository root: every ROOT/<owner>/<name>.git with a ledger.toml on its default branch
    #[arg(long, value_name = "ROOT")]
    pub all: Option<PathBuf>,
    /// Replace hooks that are not smartup's
    #[arg(long)]
    pub force: bool,
}

/// The repositories `--repo PATH.git` or `--all ROOT` name (every ledger under the root).
pub(super) fn repositories(repo: Option<&PathBuf>, all: Option<&std::path::Path>) -> Result<Vec<PathBuf>> {
    let repos = match (repo, all) {
        (Some(repo), _) => vec![repo.clone()],
        (None, Some(root)) => install::find_ledgers(root)?,
        (None, None) => bail!("name a repository with --repo PATH.git or a root with --all ROOT"),
    };
    if repos.is_empty() {
        bail!("no ledger repository found (a bare repository with ledger.toml on its default branch)");
    }
    Ok(repos)
}

/// The most input a pre-receive hook reads (git sends one short line per ref).
const MAX_INPUT: u64 = 1 << 20;

/// Runs a `hook` subcommand.
pub fn run(global: &Global, command: &HookCommand) -> Result<()> {
    match command {
        HookCommand::PreReceive => pre_receive_main(),
        HookCommand::PostReceive => post_receive_main(),
        HookCommand::Install(target) => each_repo(global, target, |repo| {
            let binary = std::env::current_exe().context("cannot tell where the smartup binary is")?;
            let files = install::install(repo, &binary, target.force)?;
            install::warm_cache(repo)?;
            Ok(files)
        }),
        HookCommand::Uninstall(target) => each_repo(global, target, install::uninstall),
    }
}

fn each_repo(global: &Global, target: &Target, action: impl Fn(&std::path::Path) -> Result<Vec<PathBuf>>) -> Result<()> {
    let repos = repositories(target.repo.as_ref(), target.all.as_deref())?;
    for repo in repos {
        let files = action(&repo).with_context(|| format!("in {}", repo.display()))?;
        if global.json {
            println!("{}", serde_json::json!({"repository": repo, "files": files}));
        } else {
            for file in files {
                println!("installed {}", file.display());
            }
        }
    }
    Ok(())
}

/// The gate: any error or panic rejects the push, with a message.
fn pre_receive_main() -> Result<()> {
    let env = pre_receive::PushEnv::from_env();
    let outcome = std::panic::catch_unwind(|| -> Result<verdict::Verdict> {
        let mut input = String::new();
        std::io::stdin()
            .take(MAX_INPUT)
            .read_to_string(&mut input)
            .context("cannot read the ref updates from git")?;
        let updates = pre_receive::parse_updates(&input)?;
        let repo = git2::Repository::open_from_env().context("cannot open the repository the push goes to")?;
        pre_receive::check(&repo, &updates, &env, Timestamp::now())
    });
    let tally = |codes: &[&str]| {
        if let Ok(repo) = git2::Repository::open_from_env() {
            refusals::record(repo.path(), Timestamp::now(), codes);
        }
    };
    let verdict = match outcome {
        Ok(Ok(verdict)) => verdict,
        Ok(Err(error)) => {
            tally(&["hook-error"]);
            eprintln!("smartup: push rejected: {error:#}");
            return Err(super::AlreadyReported(1).into());
        }
        Err(_) => {
            tally(&["hook-panic"]);
            eprintln!("smartup: push rejected: the hook failed unexpectedly (a bug in smartup); nothing was written");
            return Err(super::AlreadyReported(1).into());
        }
    };
    for line in verdict::lines(&verdict, &env) {
        eprintln!("{line}");
    }
    if verdict.accepted() {
        Ok(())
    } else {
        let codes: Vec<&str> = verdict.problems.iter().map(|p| p.code).collect();
        tally(&codes);
        Err(super::AlreadyReported(verdict.problems.len()).into())
    }
}

/// Logs the accepted push and starts the configured follow-up; never fails the push.
fn post_receive_main() -> Result<()> {
    let mut input = String::new();
    let _ = std::io::stdin().take(MAX_INPUT).read_to_string(&mut input);
    let Ok(repo) = git2::Repository::open_from_env() else {
        return Ok(());
    };
    let dir = repo.path().join("smartup");
    let log = dir.join("post-receive.log");
    let _ = std::fs::create_dir_all(&dir);
    let mut line = format!("{} push:", Timestamp::now());
    for update in input.lines() {
        line.push_str(&format!(" [{update}]"));
    }
    let command = repo
        .config()
        .ok()
        .and_then(|c| c.get_string("smartup.postReceive").ok())
        .filter(|c| !c.trim().is_empty());
    if let Some(command) = &command {
        line.push_str(&format!(" -> starting {command:?}"));
    }
    append(&log, &line);
    match crate::clerk::witness::witness(&repo, Timestamp::now()) {
        Ok(Some(commit)) => append(&log, &format!("witnessed the ledger's tip in {commit}")),
        Ok(None) => {}
        Err(e) => append(&log, &format!("cannot write the witness statement: {e:#}")),
    }
    if let Some(command) = command {
        let output = std::fs::OpenOptions::new().create(true).append(true).open(&log);
        if let Ok(output) = output {
            let errors = output.try_clone();
            let mut child = std::process::Command::new("sh");
            child
                .arg("-c")
                .arg(&command)
                .current_dir(repo.path())
                .stdin(std::process::Stdio::null())
                .stdout(output);
            if let Ok(errors) = errors {
                child.stderr(errors);
            }
            if let Err(e) = child.spawn() {
                append(&log, &format!("cannot start {command:?}: {e}"));
            }
        }
    }
    Ok(())
}

fn append(path: &std::path::Path, line: &str) {
    use std::io::Write;
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(file, "{line}");
    }
}
