//! Rules for invitations: a captain invites someone who paid for a license; the newcomer
//! claims the invitation with a row signed by their own new key, proving the one-time code.
//!
//! The code never enters the ledger. It derives an ed25519 key (the invitation key); the
//! invite row carries that key's public half as its commitment, and the join row carries the
//! invitation key's signature over [`proof_message`], which binds the claim to this ledger,
//! this invitation, the chosen handle and the newcomer's key. A guessed code makes a proof
//! that does not verify; a join row copied from someone else cannot be re-pointed at another
//! handle or key.

use super::columns::Columns;
use super::keys::{public_key, register, unregistered};
use super::people::{license, new_owner, payment, spend};
use super::state::{Invitation, State};
use super::{ensure, violation, Violation};
use crate::ledger::ids;
use crate::ledger::row::Row;
use crate::sign::{decode_signature, PublicKey};
use crate::time::DAY;

/// The SSHSIG namespace of invitation proofs (distinct from the rows' own namespace).
pub const PROOF_NAMESPACE: &str = "smartup-invitation";

/// The bytes an invitation key signs to let `handle` join with the key `fingerprint`.
pub fn proof_message(ledger_id: &str, invitation: u64, handle: &str, fingerprint: &str) -> Vec<u8> {
    format!("smartup-invitation-v1\nledger={ledger_id}\ninvitation={invitation}\nowner={handle}\nkey={fingerprint}\n").into_bytes()
}

/// `invite`: a captain invites someone to become an owner of a license (paid for by a
/// deposit outside the bootstrap phase), open until `expires`.
pub fn invite(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let license = license(c)?;
    let key = public_key(c, "invitation_key")?;
    let expires = c.timestamp("expires")?;
    c.text("note");
    ensure(state.is_captain(&row.actor), "not-permitted", || {
        format!("{} is not a team captain; only captains invite owners", row.actor)
    })?;
    let days = state.policy.onboarding.invitation_days;
    ensure(
        expires > row.timestamp && expires <= row.timestamp.plus(days * DAY),
        "malformed-value",
        || format!("column expires: {expires} is not within the {days} days after the row ([onboarding] invitation_days)"),
    )?;
    let line = key.to_openssh();
    unregistered(state, &key)?;
    ensure(!state.invitations.values().any(|i| i.key == line), "duplicate-id", || {
        format!(
            "invitation key {} was used by another invitation; every invitation has its own code",
            key.fingerprint()
        )
    })?;
    let paid_by = payment(state, row, c, license)?;
    c.done()?;
    state.invitations.insert(
        row.seq,
        Invitation {
            license: license.to_string(),
            key: line,
            expires,
            inviter: row.actor.clone(),
            payment: paid_by,
            joined: None,
            withdrawn: None,
        },
    );
    spend(state, paid_by, row);
    Ok(())
}

/// `join`: a newcomer claims an open invitation, once, before it expires: the row's actor is
/// the handle they choose (refused if taken), its key the one it registers, and its proof
/// made with the invitation's code. They become an owner of the invitation's license, with
/// the inviter as their creator.
pub fn join(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let seq = c.integer("invitation")?;
    let key = public_key(c, "public_key")?;
    let proof = c.required("proof")?;
    c.text("note");
    c.done()?;
    ids::check_handle(&row.actor).map_err(|e| violation("malformed-value", format!("actor: {e}")))?;
    ensure(!state.owners.contains_key(&row.actor), "duplicate-id", || {
        format!("the handle {} is taken: choose another one", row.actor)
    })?;
    unregistered(state, &key)?;
    let invitation = state
        .invitations
        .get(&seq)
        .ok_or_else(|| violation("unknown-id", format!("seq {seq} is not an invitation")))?;
    if let Some(owner) = &invitation.joined {
        return Err(violation(
            "invitation",
            format!("the invitation at seq {seq} was claimed already, by {owner}; an invitation is used once"),
        ));
    }
    if let Some(refund) = invitation.withdrawn {
        return Err(violation(
            "invitation",
            format!("the invitation at seq {seq} was withdrawn when its payment was refunded (seq {refund})"),
        ));
    }
    ensure(row.timestamp <= invitation.expires, "invitation", || {
        format!(
            "the invitation at seq {seq} expired at {}; a captain can invite again with the same payment",
            invitation.expires
        )
    })?;
    let commitment = PublicKey::parse_openssh(&invitation.key)
        .map_err(|e| violation("invitation", format!("the invitation at seq {seq} holds no usable key: {e}")))?;
    let message = proof_message(&state.ledger_id, seq, &row.actor, &key.fingerprint());
    let proven = decode_signature(proof).is_some_and(|signature| commitment.verify(PROOF_NAMESPACE, &message, &signature));
    ensure(proven, "invitation-code", || {
        format!("the proof does not match the code of the invitation at seq {seq}: the code is wrong, or the row was changed")
    })?;
    let license = invitation.license.clone();
    let inviter = invitation.inviter.clone();
    let mut owner = new_owner(&license, row);
    owner.creator = inviter;
    state.owners.insert(row.actor.clone(), owner);
    register(state, &row.actor, key, row);
    if let Some(invitation) = state.invitations.get_mut(&seq) {
        invitation.joined = Some(row.actor.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::Book;
    use crate::sign::{encode_signature, SigningKey};

    /// The invitation key of a code (the tests skip the derivation from text).
    fn code(n: u8) -> SigningKey {
        SigningKey::from_seed([200 + n; 32], "code")
    }

    /// Outside the bootstrap phase, the founder records a 189.50 EUR deposit of a 200 EUR
    /// work license and invites with code 1; returns the book and the invitation's seq.
    fn invited() -> (Book, u64) {
        let mut b = Book::with_policy(|t| t.replace("active = true", "active = false"));
        b.ok(
            "founder",
            "deposit-eur",
            &[
                ("currency", "EUR"),
                ("amount", "189.50"),
                ("gross", "200"),
                ("reason", "license"),
                ("reference", "oc/1"),
            ],
        );
        let paid = b.state.last_seq.to_string();
        let expires = b.now.plus(30 * DAY).to_string();
        let key = code(1).public().to_openssh();
        b.ok(
            "founder",
            "invite",
            &[
                ("license", "work"),
                ("invitation_key", &key),
                ("expires", &expires),
                ("payment", &paid),
            ],
        );
        let seq = b.state.last_seq;
        (b, seq)
    }

    /// The columns of `handle`'s join row for invitation `seq`, proven with `code`; the key
    /// is made and named for `handle`.
    fn join_row(b: &mut Book, seq: u64, handle: &str, code: &SigningKey) -> Vec<(&'static str, String)> {
        let public = b.new_key(handle);
        let fingerprint = b.keys[handle].clone();
        let proof = code.sign(PROOF_NAMESPACE, &proof_message(&b.state.ledger_id, seq, handle, &fingerprint));
        vec![
            ("invitation", seq.to_string()),
            ("public_key", public),
            ("proof", encode_signature(&proof)),
        ]
    }

    fn values<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
        v.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    #[test]
    fn a_newcomer_joins_once_with_the_code_and_their_own_key() {
        let (mut b, seq) = invited();
        let row = join_row(&mut b, seq, "newbie", &code(1));
        b.ok("newbie", "join", &values(&row));
        let owner = &b.state.owners["newbie"];
        assert_eq!((owner.license.as_str(), owner.creator.as_str()), ("work", "founder"));
        assert!(b.state.key_valid_for(&b.keys["newbie"], "newbie"));
        assert_eq!(b.state.invitations[&seq].joined.as_deref(), Some("newbie"));
        // the same invitation again, by someone else with a proof of the right code
        let again = join_row(&mut b, seq, "second", &code(1));
        let msg = b.refused("invitation", "second", "join", &values(&again));
        assert!(msg.contains("claimed already, by newbie"), "{msg}");
    }

    #[test]
    fn a_wrong_code_a_taken_handle_a_foreign_key_and_an_expired_invitation_are_refused() {
        let (mut b, seq) = invited();
        let guessed = join_row(&mut b, seq, "guess", &code(2));
        b.refused("invitation-code", "guess", "join", &values(&guessed));
        // a proof made for another handle does not carry over
        let mut moved = join_row(&mut b, seq, "newbie", &code(1));
        b.keys.insert("thief".into(), b.keys["newbie"].clone());
        moved[2] = join_row(&mut b, seq, "newbie", &code(1))[2].clone();
        b.refused("invitation-code", "thief", "join", &values(&moved));
        // the row's key must be the one it registers
        let own = join_row(&mut b, seq, "newbie", &code(1));
        b.new_key("newbie");
        let msg = b.refused("key-not-valid", "newbie", "join", &values(&own));
        assert!(msg.contains("a join row must be signed by the key it registers"), "{msg}");
        // a handle that is taken
        let taken = join_row(&mut b, seq, "founder", &code(1));
        b.refused("duplicate-id", "founder", "join", &values(&taken));
        b.later(30 * 24 + 1);
        let late = join_row(&mut b, seq, "late", &code(1));
        let msg = b.refused("invitation", "late", "join", &values(&late));
        assert!(msg.contains("expired"), "{msg}");
    }

    #[test]
    fn an_invitation_is_paid_for_once_and_only_captains_invite() {
        let (mut b, _) = invited();
        let key = code(3).public().to_openssh();
        let expires = b.now.plus(DAY).to_string();
        let twice = [
            ("license", "work"),
            ("invitation_key", key.as_str()),
            ("expires", expires.as_str()),
            ("payment", "2"),
        ];
        let msg = b.refused("license-payment", "founder", "invite", &twice);
        assert!(msg.contains("one license"), "{msg}");
        let too_long = b.now.plus(31 * DAY).to_string();
        let long = [
            ("license", "watch"),
            ("invitation_key", key.as_str()),
            ("expires", too_long.as_str()),
        ];
        b.refused("malformed-value", "founder", "invite", &long);
        let reused = code(1).public().to_openssh();
        let again = [
            ("license", "work"),
            ("invitation_key", reused.as_str()),
            ("expires", expires.as_str()),
        ];
        b.refused("duplicate-id", "founder", "invite", &again);
        let mut o = Book::organisation();
        let expires = o.now.plus(DAY).to_string();
        let by_worker = [
            ("license", "campaign"),
            ("invitation_key", key.as_str()),
            ("expires", expires.as_str()),
        ];
        o.refused("not-permitted", "alice", "invite", &by_worker);
        o.ok("cap", "invite", &by_worker);
    }

    #[test]
    fn an_expired_invitation_frees_its_payment_and_a_refund_withdraws_an_open_one() {
        let (mut b, seq) = invited();
        b.later(30 * 24 + 1);
        let key = code(4).public().to_openssh();
        let expires = b.now.plus(DAY).to_string();
        let again = [
            ("license", "work"),
            ("invitation_key", key.as_str()),
            ("expires", expires.as_str()),
            ("payment", "2"),
        ];
        b.ok("founder", "invite", &again);
        let second = b.state.last_seq;
        assert_ne!(second, seq);
        let refund = [
            ("currency", "EUR"),
            ("amount", "200"),
            ("reason", "refunded"),
            ("reference", "oc/2"),
            ("refunds", "2"),
        ];
        let msg = b.refused("treasury", "founder", "refund-eur", &refund);
        assert!(msg.contains("189.50"), "{msg}");
        let refund = [
            ("currency", "EUR"),
            ("amount", "189.50"),
            ("reason", "refunded"),
            ("reference", "oc/2"),
            ("refunds", "2"),
        ];
        b.ok("founder", "refund-eur", &refund);
        assert_eq!(b.state.treasury.to_string(), "0.00");
        assert!(b.state.invitations[&second].withdrawn.is_some());
        let row = join_row(&mut b, second, "newbie", &code(4));
        let msg = b.refused("invitation", "newbie", "join", &values(&row));
        assert!(msg.contains("withdrawn"), "{msg}");
        let msg = b.refused("duplicate-id", "founder", "refund-eur", &refund);
        assert!(msg.contains("oc/2"), "{msg}");
    }

    #[test]
    fn a_payment_reference_is_recorded_once() {
        let (mut b, _) = invited();
        let deposit = [("currency", "EUR"), ("amount", "10"), ("reason", "donation"), ("reference", "oc/1")];
        let msg = b.refused("duplicate-id", "founder", "deposit-eur", &deposit);
        assert!(msg.contains("recorded already, at seq 2"), "{msg}");
        let low_gross = [("currency", "EUR"), ("amount", "10"), ("gross", "9"), ("reason", "donation")];
        b.refused("malformed-value", "founder", "deposit-eur", &low_gross);
        // A refund names no owner: the column is not free text.
        let named = [
            ("owner", "anyone at all"),
            ("currency", "EUR"),
            ("amount", "1"),
            ("reason", "r"),
            ("refunds", "2"),
        ];
        let msg = b.refused("malformed-value", "founder", "refund-eur", &named);
        assert!(msg.contains("column owner"), "{msg}");
    }
}
