//! Tools for reviewers who check with OpenSSH: `keys allowed-signers` and `sig SEQ`.

use super::context::open;
use super::Global;
use crate::sign::{armor, decode_signature};
use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use std::io::Write;

/// `keys` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum KeysCommand {
    /// Print an allowed-signers file of every key the ledger ever registered (for
    /// `ssh-keygen -Y verify` and `git -c gpg.ssh.allowedSignersFile=FILE verify-commit`)
    AllowedSigners,
}

/// Prints the allowed-signers file.
pub fn keys(global: &Global, command: &KeysCommand) -> Result<()> {
    let KeysCommand::AllowedSigners = command;
    let ledger = open(global)?;
    let namespace = &ledger.state.policy.ledger.namespace;
    let mut keys: Vec<_> = ledger.state.keys.values().collect();
    keys.sort_by_key(|k| k.registered);
    for k in keys {
        // OpenSSH and git honour these bounds: a revoked key's signatures count only for
        // what it signed before its revocation (git checks at the commit's time; for a row,
        // pass `-Overify-time=` with the row's time to `ssh-keygen -Y verify`).
        let mut options = format!(
            "namespaces=\"git,{namespace}\",valid-after=\"{}\"",
            k.registered_at.openssh_compact()
        );
        if let Some(at) = k.revoked_at {
            // The revoking row itself may still be signed by the key it revokes.
            options.push_str(&format!(",valid-before=\"{}\"", at.plus(1).openssh_compact()));
        }
        let status = match k.revoked {
            Some(seq) => format!("registered at seq {}, revoked at seq {seq}", k.registered),
            None => format!("registered at seq {}", k.registered),
        };
        println!("{} {options} {} {status}", k.owner, k.public.to_openssh());
    }
    Ok(())
}

/// Arguments of `sig`.
#[derive(Args, Debug, Clone)]
pub struct SigArgs {
    /// The row's seq
    pub seq: u64,
    /// Print the exact bytes the signature covers instead
    #[arg(long)]
    pub message: bool,
}

/// Prints a row's armored signature or signed message.
pub fn sig(global: &Global, args: &SigArgs) -> Result<()> {
    let ledger = open(global)?;
    let state = &ledger.state;
    let mut found = None;
    ledger.for_each_row(|row, location| {
        let wanted = row.seq == args.seq;
        if wanted {
            found = Some((row, location));
        }
        Ok(!wanted)
    })?;
    let Some((row, location)) = found else {
        let words = format!("no row has seq {} (the ledger has {} rows)", args.seq, state.last_seq);
        return Err(super::exit::Unknown(crate::rules::violation("unknown-id", words)).into());
    };
    if args.message {
        std::io::stdout().write_all(&row.message(&state.ledger_id))?;
        return Ok(());
    }
    let key = state.keys.get(&row.key).ok_or_else(|| {
        anyhow!(
            "{}:{}: key {} is not registered in this ledger",
            location.file,
            location.line,
            row.key
        )
    })?;
    let signature = decode_signature(&row.signature)
        .ok_or_else(|| anyhow!("{}:{}: the signature column is not a valid signature", location.file, location.line))?;
    print!("{}", armor(&key.public, &state.policy.ledger.namespace, &signature));
    Ok(())
}
