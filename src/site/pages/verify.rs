//! How to verify: the commands a reader runs to check everything on the site themselves.

use super::{row_link, Context};
use crate::site::doc::{text, Block, Inline, Page};

/// The "How to verify" page (`verify`).
pub fn page(ctx: &Context) -> Page {
    let namespace = &ctx.state.policy.ledger.namespace;
    let clone_from = ctx.web.as_deref().map_or_else(
        || "<the ledger repository's address>".to_string(),
        |web| format!("{}.git", web.trim_end_matches('/')),
    );
    let mut page = Page::new("verify", "How to verify");
    page.para(vec![text(
        "Nothing here needs trusting the people who run this site. The ledger is a git repository of signed CSV rows: \
         clone it, and check every signature and every rule yourself with smartup, or each signature with OpenSSH alone.",
    )]);
    page.heading("1. Clone the ledger and check all of it");
    page.para(vec![
        text("This site was built from commit "),
        Inline::Code(ctx.commit.clone()),
        text(format!(" ({} rows, the last is ", ctx.state.last_seq)),
        row_link(ctx.state.last_seq),
        text("). The ledger begins at its genesis commit "),
        Inline::Code(ctx.genesis.clone()),
        text(": pin it, so a rewritten history cannot pass."),
    ]);
    page.push(Block::Commands(vec![
        format!("git clone {clone_from} ledger"),
        "cd ledger".into(),
        format!("smartup verify --genesis {}", ctx.genesis),
        format!(
            "git merge-base --is-ancestor {} HEAD && echo 'this site is in the history'",
            ctx.commit
        ),
        "smartup status; smartup balance   # the same numbers as on this site".into(),
    ]));
    page.heading("2. Check commits and rows with OpenSSH alone");
    page.para(vec![
        text("Every commit is SSH-signed the git way, and every row carries its own ed25519 signature (SSHSIG, namespace "),
        Inline::Code(namespace.clone()),
        text("). The audit log shows each row's seq, actor and key fingerprint."),
    ]);
    page.push(Block::Commands(vec![
        "smartup keys allowed-signers > allowed".into(),
        "git -c gpg.ssh.allowedSignersFile=allowed log --show-signature".into(),
        "smartup sig 42 > row.sig; smartup sig 42 --message > row.msg".into(),
        format!("ssh-keygen -Y verify -f allowed -I <actor of row 42> -n {namespace} -s row.sig < row.msg"),
    ]));
    page.para(vec![text(
        "For a row signed by a key that was revoked later, add -Overify-time=YYYYMMDDHHMMSSZ with the row's own time.",
    )]);
    page
}
