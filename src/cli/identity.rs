//! Who is signing: the handle and ed25519 key, from flags, then git config (the ledger
//! repository's own, then the user's), then `~/.ssh/id_ed25519`; passphrases from
//! `SMARTUP_KEY_PASSPHRASE` or the terminal. The flags saying who signs (`--handle`, `--key`)
//! and when work happened (`--at`) belong to the commands that write, and only to them.

use crate::clerk::Signer;
use crate::ledger::action::ActionKind;
use crate::rules::draft::says_when;
use crate::sign::SigningKey;
use crate::time::Timestamp;
use anyhow::{bail, Context, Result};
use clap::{ArgMatches, Args, FromArgMatches};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// A git config value of the ledger repository (else the user's), when set and not blank.
pub fn config_string(repo: Option<&git2::Repository>, name: &str) -> Option<String> {
    let config = match repo {
        Some(r) => r.config().ok()?,
        None => git2::Config::open_default().ok()?,
    };
    config.get_string(name).ok().filter(|s| !s.trim().is_empty())
}

/// Who signs: flags of the commands that write.
#[derive(Args, Clone, Debug, Default)]
pub struct Who {
    /// Your handle [default: git config smartup.handle]
    #[arg(long, env = "SMARTUP_HANDLE")]
    pub handle: Option<String>,
    /// Your ed25519 private key [default: git config user.signingkey, then ~/.ssh/id_ed25519]
    #[arg(long, value_name = "FILE", env = "SMARTUP_KEY")]
    pub key: Option<PathBuf>,
}

/// When work happened: a flag of the actions that say so.
#[derive(Args, Clone, Debug, Default)]
pub struct When {
    /// When the work happened (UTC, e.g. 2026-11-26T09:30:00Z) [default: now]: the clock-in of
    /// start-work, the clock-out of stop-work, the day of award-sk; never in the future, within
    /// the retroactive limit. The row itself is always recorded now
    #[arg(long, value_name = "TIME")]
    pub at: Option<Timestamp>,
}

/// The scoped flags of the command being run.
#[derive(Clone, Debug, Default)]
pub struct Scoped {
    /// `--handle`, `--key` (writing commands).
    pub who: Who,
    /// `--at` (actions that say when work happened).
    pub at: Option<Timestamp>,
}

/// The subcommands that write entries: every action (`join` among them), `init`, `push` and
/// `relay`.
fn writes(name: &str) -> bool {
    name == "init" || name == "push" || name == "relay" || ActionKind::parse(name).is_some()
}

/// The subcommands that take `--at`.
fn takes_at(name: &str) -> bool {
    ActionKind::parse(name).is_some_and(says_when)
}

/// Gives the writing subcommands `--handle` and `--key`, and the actions that say when work
/// happened `--at`.
pub fn scope_flags(mut command: clap::Command) -> clap::Command {
    let names: Vec<String> = command.get_subcommands().map(|c| c.get_name().to_string()).collect();
    for name in names {
        if writes(&name) {
            command = command.mut_subcommand(&name, |sub| keeping_about(sub, Who::augment_args));
        }
        if takes_at(&name) {
            command = command.mut_subcommand(&name, |sub| keeping_about(sub, When::augment_args));
        }
    }
    command
}

/// Adds arguments to a subcommand without letting their struct's doc replace its own.
fn keeping_about(sub: clap::Command, augment: fn(clap::Command) -> clap::Command) -> clap::Command {
    let about = sub.get_about().cloned();
    let long_about = sub.get_long_about().cloned();
    let augmented = augment(sub);
    let augmented = match about {
        Some(text) => augmented.about(text),
        None => augmented.about(None::<&str>),
    };
    match long_about {
        Some(text) => augmented.long_about(text),
        None => augmented.long_about(None::<&str>),
    }
}

impl Scoped {
    /// Reads the scoped flags of the subcommand that was given.
    pub fn from_matches(matches: &ArgMatches) -> Result<Scoped, clap::Error> {
        let Some((name, sub)) = matches.subcommand() else {
            return Ok(Scoped::default());
        };
        Ok(Scoped {
            who: if writes(name) {
                Who::from_arg_matches(sub)?
            } else {
                Who::default()
            },
            at: if takes_at(name) { When::from_arg_matches(sub)?.at } else { None },
        })
    }
}

/// Finds the handle and key and unlocks the key; `repo` is the ledger's repository, whose
/// own git config comes before the user's.
pub fn resolve(who: &Who, repo: Option<&git2::Repository>) -> Result<Signer> {
    let handle = match who.handle.clone().or_else(|| config_string(repo, "smartup.handle")) {
        Some(h) => h,
        None => bail!("who is signing? pass --handle HANDLE, set SMARTUP_HANDLE, or run `git config smartup.handle HANDLE`"),
    };
    let path = key_path(who, repo)?;
    let key = load(&path)?;
    let mut signer = Signer::new(&handle, key);
    if let Some(email) = config_string(repo, "user.email") {
        signer.email = email;
    }
    Ok(signer)
}

/// The private key file `who` names: `--key`, else git config user.signingkey (its private half),
/// else `~/.ssh/id_ed25519`.
pub fn key_path(who: &Who, repo: Option<&git2::Repository>) -> Result<PathBuf> {
    if let Some(path) = &who.key {
        return Ok(path.clone());
    }
    if let Some(configured) = config_string(repo, "user.signingkey") {
        if configured.starts_with("key::") || configured.starts_with("ssh-") {
            bail!("git config user.signingkey holds a public key; smartup needs the private key file: pass --key FILE");
        }
        let expanded = expand_home(&configured);
        let private = match expanded.to_str().and_then(|s| s.strip_suffix(".pub")) {
            Some(stem) => PathBuf::from(stem),
            None => expanded,
        };
        return Ok(private);
    }
    let home = std::env::var_os("HOME").context("no --key given and HOME is not set")?;
    Ok(Path::new(&home).join(".ssh/id_ed25519"))
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// Loads a private key, asking for its passphrase when it has one.
pub fn load(path: &Path) -> Result<SigningKey> {
    if !SigningKey::is_encrypted(path)? {
        return Ok(SigningKey::load(path, None)?);
    }
    if let Ok(passphrase) = std::env::var("SMARTUP_KEY_PASSPHRASE") {
        return Ok(SigningKey::load(path, Some(&passphrase))?);
    }
    let passphrase = ask_passphrase(path)?;
    Ok(SigningKey::load(path, Some(&passphrase))?)
}

fn ask_passphrase(path: &Path) -> Result<String> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "{} is protected by a passphrase: set SMARTUP_KEY_PASSPHRASE (no terminal to ask on)",
            path.display()
        );
    }
    eprint!("Passphrase for {}: ", path.display());
    std::io::stderr().flush().ok();
    let echo_off = std::process::Command::new("stty")
        .arg("-echo")
        .stdin(std::process::Stdio::inherit())
        .status()
        .is_ok_and(|s| s.success());
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if echo_off {
        let _ = std::process::Command::new("stty")
            .arg("echo")
            .stdin(std::process::Stdio::inherit())
            .status();
    }
    eprintln!();
    read.context("cannot read the passphrase")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
