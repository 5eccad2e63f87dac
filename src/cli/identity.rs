//! Who is signing: the handle and ed25519 key, from flags, then git config, then
//! `~/.ssh/id_ed25519`; passphrases from `SMARTUP_KEY_PASSPHRASE` or the terminal.

use super::Global;
use crate::ledger::row::Row;
use crate::repo::write::Author;
use crate::rules::State;
use crate::sign::{encode_signature, SigningKey};
use anyhow::{bail, Context, Result};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The signer of new entries.
pub struct Signer {
    /// The owner's handle.
    pub handle: String,
    /// Their private key.
    pub key: SigningKey,
    /// E-mail for commits (git config user.email, or a placeholder).
    pub email: String,
}

impl Signer {
    /// The commit author these entries are recorded under.
    pub fn author(&self) -> Author {
        Author {
            handle: self.handle.clone(),
            email: self.email.clone(),
        }
    }

    /// Signs a row for the ledger `state` describes: names this key and fills the signature.
    pub fn sign(&self, row: &mut Row, state: &State) {
        row.key = self.key.public().fingerprint();
        let message = row.message(&state.ledger_id);
        row.signature = encode_signature(&self.key.sign(&state.policy.ledger.namespace, &message));
    }
}

fn config_string(repo: Option<&git2::Repository>, name: &str) -> Option<String> {
    let config = match repo {
        Some(r) => r.config().ok()?,
        None => git2::Config::open_default().ok()?,
    };
    config.get_string(name).ok().filter(|s| !s.trim().is_empty())
}

/// Finds the handle and key and unlocks the key.
pub fn resolve(global: &Global, repo: Option<&git2::Repository>) -> Result<Signer> {
    let handle = match global.handle.clone().or_else(|| config_string(repo, "smartup.handle")) {
        Some(h) => h,
        None => bail!("who is signing? pass --handle HANDLE, set SMARTUP_HANDLE, or run `git config smartup.handle HANDLE`"),
    };
    let path = key_path(global, repo)?;
    let key = load(&path)?;
    let email = config_string(repo, "user.email").unwrap_or_else(|| format!("{handle}@users.smartup.invalid"));
    Ok(Signer { handle, key, email })
}

fn key_path(global: &Global, repo: Option<&git2::Repository>) -> Result<PathBuf> {
    if let Some(path) = &global.key {
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
