//! Writing witness statements: after an accepted push, the post-receive companion appends a
//! commit to `refs/smartup/witness` (see [`crate::verify::witness`]) saying "at server time T
//! the ledger's tip was commit C", SSH-signed with the forge's instance key. The private key
//! never enters the ledger: its path comes from `SMARTUP_WITNESS_KEY` or `git config
//! smartup.witnessKey` of the bare repository; its public half belongs in `[hook]
//! instance_keys`.

use crate::repo::write::{sign_and_write, Author};
use crate::sign::SigningKey;
use crate::time::Timestamp;
use crate::verify::witness::{message, parse, WITNESS_REF};
use anyhow::{anyhow, Context, Result};
use git2::{Oid, Repository};
use std::path::PathBuf;

/// The environment variable naming the instance's private key file.
pub const KEY_ENV: &str = "SMARTUP_WITNESS_KEY";

/// The instance key's path, when the forge is configured as a witness.
fn key_path(repo: &Repository) -> Option<PathBuf> {
    let configured = || repo.config().ok()?.get_path("smartup.witnessKey").ok();
    std::env::var_os(KEY_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(configured)
}

/// Witnesses the ledger branch's tip at `now`, unless no key is configured (`Ok(None)`) or the
/// last witness already names this tip. Returns the new witness commit.
pub fn witness(repo: &Repository, now: Timestamp) -> Result<Option<Oid>> {
    let Some(path) = key_path(repo) else { return Ok(None) };
    let head = repo.find_reference("HEAD").context("cannot read HEAD")?;
    let branch = head
        .symbolic_target()
        .ok()
        .flatten()
        .ok_or_else(|| anyhow!("HEAD is detached; a ledger repository's HEAD names its branch"))?;
    let tip = repo.refname_to_id(branch).with_context(|| format!("{branch} does not exist"))?;
    let previous = repo.refname_to_id(WITNESS_REF).ok();
    let parent = previous.map(|p| repo.find_commit(p)).transpose()?;
    if parent
        .as_ref()
        .and_then(|p| parse(p.message().unwrap_or("")))
        .is_some_and(|(seen, _)| seen == tip)
    {
        return Ok(None);
    }
    let key = SigningKey::load(&path, None).map_err(|e| anyhow!("cannot load the witness key {}: {e}", path.display()))?;
    let empty = repo.find_tree(repo.treebuilder(None)?.write()?)?;
    let author = Author {
        handle: "smartup-witness".into(),
        email: "witness@smartup.invalid".into(),
    };
    let commit = sign_and_write(repo, parent.as_ref(), &empty, &key, &author, &message(tip, now), now)?;
    let log = format!("smartup: witness {tip} at {now}");
    match previous {
        // Compare-and-swap: a racing post-receive that wrote first wins; the next push is witnessed.
        Some(old) => repo.reference_matching(WITNESS_REF, commit, true, old, &log),
        None => repo.reference(WITNESS_REF, commit, false, &log),
    }
    .with_context(|| format!("cannot move {WITNESS_REF} (another push's witness came first)"))?;
    Ok(Some(commit))
}
