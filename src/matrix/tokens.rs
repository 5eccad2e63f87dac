//! Registration tokens for invited owners: the homeserver is token-only, and each open
//! invitation of the ledger gets one single-use token that expires with the invitation.
//! When the invitation closes (claimed, withdrawn by a refund, expired) the token is deleted.
//! Plan, then apply, like the hub; a second run changes nothing.
//!
//! A token is `i<seq>.<ledger>.<secret>`: the invitation's seq and the first 8 characters of
//! the ledger id say whose it is (so other tokens of the homeserver are left alone); 20
//! random characters make it unguessable.

use crate::matrix::client::{Client, MatrixError, RegistrationToken};
use crate::rules::state::State;
use crate::time::Timestamp;
use std::collections::BTreeMap;
use std::fmt;

/// One change to the homeserver's registration tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenStep {
    /// Create a token for an open invitation.
    Create {
        /// The invitation's seq.
        invitation: u64,
        /// The token.
        token: String,
        /// When the invitation (and the token) expires.
        expires: Timestamp,
    },
    /// Delete the token of an invitation that closed.
    Delete {
        /// The invitation's seq.
        invitation: u64,
        /// The token.
        token: String,
        /// Why, in words.
        why: String,
    },
}

impl fmt::Display for TokenStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenStep::Create { invitation, expires, .. } => {
                write!(
                    f,
                    "create a single-use registration token for invitation {invitation}, expiring {expires}"
                )
            }
            TokenStep::Delete { invitation, why, .. } => write!(f, "delete the registration token of invitation {invitation}: {why}"),
        }
    }
}

/// The prefix of this ledger's token for `invitation`.
fn prefix(ledger_id: &str, invitation: u64) -> String {
    let ledger: String = ledger_id.chars().filter(char::is_ascii_alphanumeric).take(8).collect();
    format!("i{invitation}.{ledger}.")
}

/// The invitation a token of this ledger belongs to.
fn invitation_of(ledger_id: &str, token: &str) -> Option<u64> {
    let seq: u64 = token.strip_prefix('i')?.split('.').next()?.parse().ok()?;
    token.starts_with(&prefix(ledger_id, seq)).then_some(seq)
}

/// A fresh token for `invitation`.
pub fn new_token(ledger_id: &str, invitation: u64) -> String {
    format!("{}{}", prefix(ledger_id, invitation), crate::sign::Code::generate().as_str())
}

/// This ledger's tokens among `tokens`, by invitation.
pub fn ours<'t>(ledger_id: &str, tokens: &'t [RegistrationToken]) -> BTreeMap<u64, &'t RegistrationToken> {
    tokens
        .iter()
        .filter_map(|t| invitation_of(ledger_id, &t.token).map(|seq| (seq, t)))
        .collect()
}

/// The steps that give every open invitation at `now` a token and delete the tokens of
/// closed ones. `fresh` makes a new token for an invitation.
pub fn plan(state: &State, tokens: &[RegistrationToken], now: Timestamp, fresh: impl Fn(u64) -> String) -> Vec<TokenStep> {
    let ours = ours(&state.ledger_id, tokens);
    let mut steps = Vec::new();
    for (seq, invitation) in &state.invitations {
        let open = invitation.open_at(now);
        match (open, ours.get(seq)) {
            (true, None) => steps.push(TokenStep::Create {
                invitation: *seq,
                token: fresh(*seq),
                expires: invitation.expires,
            }),
            (false, Some(token)) => {
                let why = match (&invitation.joined, invitation.withdrawn) {
                    (Some(handle), _) => format!("claimed by {handle}"),
                    (None, Some(refund)) => format!("withdrawn by the refund at seq {refund}"),
                    (None, None) => format!("expired at {}", invitation.expires),
                };
                steps.push(TokenStep::Delete {
                    invitation: *seq,
                    token: token.token.clone(),
                    why,
                });
            }
            _ => {}
        }
    }
    steps
}

/// Carries out the steps with an admin's client; the failures, with their errors.
pub fn apply(admin: &Client, steps: &[TokenStep]) -> Vec<(TokenStep, MatrixError)> {
    let mut failed = Vec::new();
    for step in steps {
        let done = match step {
            TokenStep::Create { token, expires, .. } => admin.create_registration_token(token, 1, Some(expires.0 * 1000)).map(|_| ()),
            TokenStep::Delete { token, .. } => admin.delete_registration_token(token),
        };
        if let Err(e) = done {
            failed.push((step.clone(), e));
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::Book;

    fn token(name: &str) -> RegistrationToken {
        RegistrationToken {
            token: name.into(),
            uses_allowed: Some(1),
            pending: 0,
            completed: 0,
            expiry_time: None,
        }
    }

    #[test]
    fn open_invitations_get_a_token_and_closed_ones_lose_it() {
        let mut b = Book::organisation();
        let key = b.new_key("invitation");
        let expires = b.now.plus(2 * crate::time::DAY).to_string();
        b.ok(
            "cap",
            "invite",
            &[("license", "work"), ("invitation_key", &key), ("expires", &expires)],
        );
        let seq = b.state.last_seq;
        let id = b.state.ledger_id.clone();
        let now = b.now;
        let steps = plan(&b.state, &[], now, |s| new_token(&id, s));
        let [TokenStep::Create {
            invitation, token: made, ..
        }] = steps.as_slice()
        else {
            panic!("{steps:?}")
        };
        assert_eq!(*invitation, seq);
        assert_eq!(invitation_of(&id, made), Some(seq));
        assert!(made.len() <= 64 && made.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.'));
        let tokens = [token(made), token("someone-elses"), token(&format!("i{seq}.otherled.X"))];
        assert_eq!(
            plan(&b.state, &tokens, now, |s| new_token(&id, s)),
            vec![],
            "a second run plans nothing"
        );
        let later = now.plus(3 * crate::time::DAY);
        let steps = plan(&b.state, &tokens, later, |s| new_token(&id, s));
        assert_eq!(
            steps,
            vec![TokenStep::Delete {
                invitation: seq,
                token: made.clone(),
                why: format!("expired at {expires}"),
            }]
        );
    }
}
