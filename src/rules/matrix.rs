//! Rules for Matrix accounts: an owner links the account of the smartup's homeserver that is
//! theirs, with a row signed by their own key. The row commits to a one-time code by its hash
//! ([`link_code_hash`]); the bot believes the link only once the account itself posts that
//! code, so a typo in the account (or someone else's account) never gets the owner's answers.

use super::columns::Columns;
use super::state::MatrixLink;
use super::{ensure, violation, State, Violation};
use crate::ledger::ids::check_matrix_user;
use crate::ledger::row::Row;
use sha2::{Digest, Sha256};

/// The hash a `link-matrix` row carries: SHA-256 (hex) of the code bound to this ledger and
/// this account, so a code cannot be replayed for another ledger or account.
pub fn link_code_hash(ledger_id: &str, matrix_user: &str, code: &str) -> String {
    let digest = Sha256::digest(format!(
        "smartup-matrix-link-v1\nledger={ledger_id}\naccount={matrix_user}\ncode={code}\n"
    ));
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The owner whose current link names `matrix_user`, with the link.
pub fn owner_of_account<'s>(state: &'s State, matrix_user: &str) -> Option<(&'s str, &'s MatrixLink)> {
    state.owners.iter().find_map(|(handle, owner)| {
        owner
            .matrix
            .as_ref()
            .filter(|m| m.user == matrix_user)
            .map(|m| (handle.as_str(), m))
    })
}

/// `link-matrix`: an owner names their account on the policy's homeserver and the hash of
/// its link code. An account is linked to one owner at a time; a later row replaces the
/// owner's earlier link.
pub fn link_matrix(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let user = c.required("matrix_user")?;
    let hash = c.required("code_hash")?;
    c.text("note");
    c.done()?;
    let server = state.policy.matrix.as_ref().map(|m| m.server_name.as_str()).ok_or_else(|| {
        violation(
            "not-permitted",
            "the policy has no [matrix] section, so there is no homeserver to link an account of; amend the policy first",
        )
    })?;
    check_matrix_user(user, server).map_err(|e| violation("malformed-value", format!("column matrix_user: {e}")))?;
    ensure(
        hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "malformed-value",
        || format!("column code_hash: {hash:?} is not a SHA-256 in lower-case hex (64 characters)"),
    )?;
    if let Some((other, _)) = owner_of_account(state, user).filter(|(other, _)| *other != row.actor) {
        return Err(violation(
            "duplicate-id",
            format!("{user} is linked to {other} already; an account belongs to one owner"),
        ));
    }
    let owner = state.owners.get_mut(&row.actor).ok_or_else(|| {
        violation(
            "unknown-owner",
            format!("{} is not in the Book of Owners; only owners link a Matrix account", row.actor),
        )
    })?;
    owner.matrix = Some(MatrixLink {
        user: user.to_string(),
        code_hash: hash.to_string(),
        seq: row.seq,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::Book;

    const MATRIX: &str =
        "\n[matrix]\nhomeserver = \"https://matrix.example.org\"\nserver_name = \"example.org\"\nbot = \"@engelbot:example.org\"\n";

    fn hash(b: &Book, user: &str, code: &str) -> String {
        link_code_hash(&b.state.ledger_id, user, code)
    }

    #[test]
    fn an_owner_links_their_own_account_and_may_replace_it() {
        let mut b = Book::with_policy(|t| t + MATRIX);
        b.owner("founder", "jane", "work");
        let h = hash(&b, "@jane:example.org", "C0DE");
        b.ok("jane", "link-matrix", &[("matrix_user", "@jane:example.org"), ("code_hash", &h)]);
        let link = b.state.owners["jane"].matrix.clone().unwrap();
        assert_eq!((link.user.as_str(), link.code_hash.as_str()), ("@jane:example.org", h.as_str()));
        assert_eq!(owner_of_account(&b.state, "@jane:example.org").map(|(o, _)| o), Some("jane"));
        let h2 = hash(&b, "@jane2:example.org", "C0DE");
        b.ok("jane", "link-matrix", &[("matrix_user", "@jane2:example.org"), ("code_hash", &h2)]);
        assert_eq!(owner_of_account(&b.state, "@jane:example.org"), None);
        assert_ne!(h, hash(&b, "@jane:example.org", "C0DF"), "the code matters");
        assert_ne!(
            h,
            link_code_hash("another-ledger", "@jane:example.org", "C0DE"),
            "the ledger matters"
        );
    }

    #[test]
    fn links_are_refused_without_a_homeserver_for_another_server_twice_or_malformed() {
        let mut plain = Book::new();
        let h = hash(&plain, "@founder:example.org", "X");
        let words = plain.refused(
            "not-permitted",
            "founder",
            "link-matrix",
            &[("matrix_user", "@founder:example.org"), ("code_hash", &h)],
        );
        assert!(words.contains("no [matrix] section"), "{words}");

        let mut b = Book::with_policy(|t| t + MATRIX);
        b.owner("founder", "jane", "work");
        b.refused(
            "malformed-value",
            "jane",
            "link-matrix",
            &[("matrix_user", "@jane:evil.org"), ("code_hash", &h)],
        );
        b.refused(
            "malformed-value",
            "jane",
            "link-matrix",
            &[("matrix_user", "@jane:example.org"), ("code_hash", "abc")],
        );
        b.ok("founder", "link-matrix", &[("matrix_user", "@boss:example.org"), ("code_hash", &h)]);
        let words = b.refused(
            "duplicate-id",
            "jane",
            "link-matrix",
            &[("matrix_user", "@boss:example.org"), ("code_hash", &h)],
        );
        assert!(words.contains("linked to founder already"), "{words}");
    }
}
