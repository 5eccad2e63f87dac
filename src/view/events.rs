//! The event timeline: what each row did, typed and in plain words ("alice started work on
//! 6_2_1_1 (Design the logo)"), for the announcements of the bot and the site.

use super::{amount_of as amount, duration, proposals, shown};
use crate::ledger::ids::{numeric_identity, IdKind};
use crate::ledger::row::Row;
use crate::money::Amount;
use crate::rules::governance::Proposal;
use crate::rules::{self, State, Violation};
use crate::time::{Timestamp, HOUR};
use serde::Serialize;

/// What a row did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EventKind {
    /// The ledger began (genesis).
    SmartupRegistered,
    /// The policy was amended.
    PolicyAmended,
    /// Someone was entered in the Book of Owners.
    OwnerJoined {
        /// The new owner.
        owner: String,
        /// Their license.
        license: String,
    },
    /// An owner's license changed.
    LicenseChanged {
        /// Whose.
        owner: String,
        /// The new license.
        license: String,
    },
    /// A key was registered.
    KeyRegistered {
        /// Whose.
        owner: String,
    },
    /// An owner replaced their key.
    KeyRotated {
        /// Whose.
        owner: String,
    },
    /// A key was revoked.
    KeyRevoked {
        /// Whose.
        owner: String,
    },
    /// A key recovery was requested, confirmed, cancelled or completed.
    Recovery {
        /// Whose keys.
        owner: String,
        /// `requested`, `confirmed`, `cancelled` or `completed`.
        step: String,
    },
    /// A team was set up.
    TeamCreated {
        /// The team id as written.
        team: String,
    },
    /// Someone was given a role.
    RoleAssigned {
        /// The role id as written.
        role: String,
        /// Who holds it now.
        owner: String,
    },
    /// An objective was created.
    ObjectiveCreated {
        /// The objective id as written.
        objective: String,
    },
    /// A task was created with a budget.
    TaskCreated {
        /// Numeric identity.
        task: String,
        /// Its budget in SC.
        #[serde(serialize_with = "shown::text")]
        budget: Amount,
    },
    /// A task got its Attacker and Defender.
    TaskAssigned {
        /// Numeric identity.
        task: String,
        /// The Attacker.
        attacker: String,
        /// The Defender.
        defender: String,
    },
    /// The Attacker started a task.
    TaskStarted {
        /// Numeric identity.
        task: String,
    },
    /// A work session began.
    WorkStarted {
        /// Numeric identity.
        task: String,
        /// Who works.
        owner: String,
    },
    /// A work session ended (the clock row).
    WorkStopped {
        /// Numeric identity.
        task: String,
        /// Who worked.
        owner: String,
        /// How long.
        seconds: i64,
    },
    /// A finished session was written to the session log.
    SessionLogged {
        /// Numeric identity.
        task: String,
        /// Who worked.
        owner: String,
        /// How long.
        seconds: i64,
    },
    /// A task was assessed; its SC are pending.
    Assessed {
        /// Numeric identity.
        task: String,
        /// SC pending in all (Attacker and Defender).
        #[serde(serialize_with = "shown::text")]
        pending_sc: Amount,
    },
    /// Someone approved pending SC.
    Approved {
        /// Numeric identity.
        task: String,
    },
    /// Someone objected to pending SC.
    Objection {
        /// Numeric identity.
        task: String,
    },
    /// A captain ruled on an objection.
    ObjectionResolved {
        /// Numeric identity.
        task: String,
        /// Sustained (the assessment is void) or dismissed.
        sustained: bool,
    },
    /// Pending SC were validated and awarded.
    ScValidated {
        /// Numeric identity.
        task: String,
        /// SC awarded in all.
        #[serde(serialize_with = "shown::text")]
        sc: Amount,
    },
    /// A captain invited someone to become an owner.
    Invited {
        /// The license offered.
        license: String,
    },
    /// EUR went back to a payer: a deposit was refunded.
    EurRefunded {
        /// How much.
        #[serde(serialize_with = "shown::text")]
        amount: Amount,
    },
    /// A record kept before the ledger was imported.
    LegacyImported {
        /// EUR or SK.
        currency: String,
        /// The change, signed.
        #[serde(serialize_with = "shown::text")]
        amount: Amount,
    },
    /// EUR came into the treasury.
    EurDeposited {
        /// How much.
        #[serde(serialize_with = "shown::text")]
        amount: Amount,
    },
    /// SC were paid out in EUR.
    Payout {
        /// To whom.
        owner: String,
        /// How much.
        #[serde(serialize_with = "shown::text")]
        amount: Amount,
    },
    /// Social Karma was awarded.
    SkAwarded {
        /// To whom.
        owner: String,
        /// How much.
        #[serde(serialize_with = "shown::text")]
        amount: Amount,
        /// The policy's reason.
        reason: String,
    },
    /// An owner linked their Matrix account (believed once the account posts its code).
    MatrixLinked {
        /// Whose.
        owner: String,
        /// The Matrix user id.
        account: String,
    },
    /// A proposal was made.
    Proposed {
        /// Its number (the seq of this row).
        proposal: u64,
        /// Its kind (`policy-amendment`, ...).
        proposal_kind: String,
        /// Its title.
        title: String,
    },
    /// An owner objected to a lazy-consensus proposal.
    ProposalObjected {
        /// The proposal's number.
        proposal: u64,
        /// Objections so far, this one included.
        objections: u64,
        /// Whether this objection turned it into a binding vote.
        escalated: bool,
    },
    /// An owner voted on a proposal.
    Voted {
        /// The proposal's number.
        proposal: u64,
        /// yes, no or abstain.
        choice: String,
        /// Whether it replaces the owner's earlier vote.
        changed: bool,
    },
    /// A proposal was closed with its tally.
    ProposalClosed {
        /// The proposal's number.
        proposal: u64,
        /// Whether it passed.
        passed: bool,
        /// Weight of yes votes, in votes (`3.120`).
        yes: String,
        /// Weight of no votes.
        no: String,
        /// Weight of abstentions.
        abstain: String,
        /// Total weight of the eligible voters.
        eligible: String,
    },
    /// SC of a tranche of a retrospective award were released to its recipient.
    TrancheReleased {
        /// The tranche id.
        tranche: String,
        /// Who received them.
        recipient: String,
        /// How much.
        #[serde(serialize_with = "shown::text")]
        amount: Amount,
    },
    /// A row of an action this version does not describe.
    Other,
}

/// One event: a row, typed and in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// The seq of its row.
    pub seq: u64,
    /// When.
    #[serde(serialize_with = "shown::text")]
    pub at: Timestamp,
    /// Who signed the row.
    pub actor: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
    /// The same in a sentence for people.
    pub words: String,
}

/// `a work`, `an organizational`.
pub fn with_article(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {word}")
}

/// `6_2_1_1 (Design the logo)`, or the id alone for a task the state does not know.
fn task_words(task: &str, before: &State) -> String {
    match before.tasks.get(task) {
        Some(t) => format!("{task} ({})", t.title),
        None => task.to_string(),
    }
}

/// `alice amended the policy, as #33 decided` (or without the proposal, in the bootstrap
/// phase).
fn amended(row: &Row, before: &State) -> String {
    let reference = row.get("reference");
    let decided = crate::rules::governance::passed_decision(before, crate::rules::governance::Kind::PolicyAmendment, |p| {
        p.reference.as_deref() == Some(reference)
    });
    match decided {
        Some(seq) => format!("{} amended the policy, as #{seq} decided", row.actor),
        None => format!("{} amended the policy", row.actor),
    }
}

/// The event of `row`, read against the state `before` it was applied.
pub fn event_of(row: &Row, before: &State) -> Event {
    let actor = row.actor.as_str();
    let owner = row.get("owner").to_string();
    let task = numeric_identity(row.get("task"), IdKind::Task).unwrap_or_default();
    let on = task_words(&task, before);
    let recovery_owner = || {
        let request: u64 = row.get("request").parse().unwrap_or(0);
        before.recoveries.get(&request).map_or_else(String::new, |r| r.owner.clone())
    };
    let (kind, words) = match (row.action.as_str(), row.schema().name.as_str()) {
        ("register-smartup", _) => (
            EventKind::SmartupRegistered,
            format!("{actor} founded {} and its ledger", row.get("subject")),
        ),
        ("amend-policy", _) => (EventKind::PolicyAmended, amended(row, before)),
        ("create-owner", _) => {
            let license = row.get("license").to_string();
            let words = format!(
                "{owner} joined as an owner with {} license (entered by {actor})",
                with_article(&license)
            );
            (EventKind::OwnerJoined { owner, license }, words)
        }
        ("invite", _) => {
            let license = row.get("license").to_string();
            let words = format!("{actor} invited someone to become an owner with {} license", with_article(&license));
            (EventKind::Invited { license }, words)
        }
        ("join", _) => {
            let invitation: u64 = row.get("invitation").parse().unwrap_or(0);
            let (license, inviter) = before
                .invitations
                .get(&invitation)
                .map_or_else(Default::default, |i| (i.license.clone(), i.inviter.clone()));
            let words = format!(
                "{actor} joined as an owner with {} license (invited by {inviter})",
                with_article(&license)
            );
            let owner = actor.to_string();
            (EventKind::OwnerJoined { owner, license }, words)
        }
        ("change-license", _) => {
            let license = row.get("license").to_string();
            let words = format!("{actor} changed {owner}'s license to {license}");
            (EventKind::LicenseChanged { owner, license }, words)
        }
        ("register-key", _) => {
            let words = format!("{actor} registered a signing key for {owner}");
            (EventKind::KeyRegistered { owner }, words)
        }
        ("rotate-key", _) => {
            let words = format!("{owner} replaced their signing key");
            (EventKind::KeyRotated { owner }, words)
        }
        ("revoke-key", _) => {
            let words = format!("{actor} revoked a signing key of {owner}");
            (EventKind::KeyRevoked { owner }, words)
        }
        ("request-recovery", _) => {
            let words = format!("{actor} asked to recover {owner}'s keys");
            let step = "requested".to_string();
            (EventKind::Recovery { owner, step }, words)
        }
        (step @ ("confirm-recovery" | "cancel-recovery" | "complete-recovery"), _) => {
            let owner = recovery_owner();
            let (step, words) = match step {
                "confirm-recovery" => ("confirmed", format!("{actor} confirmed the recovery of {owner}'s keys")),
                "cancel-recovery" => ("cancelled", format!("{actor} cancelled the recovery of {owner}'s keys")),
                _ => ("completed", format!("the recovery of {owner}'s keys was completed by {actor}")),
            };
            let step = step.to_string();
            (EventKind::Recovery { owner, step }, words)
        }
        ("bootstrap-teams", _) => {
            let team = row.get("team").to_string();
            let words = format!("{actor} set up the team {} ({team})", row.get("name"));
            (EventKind::TeamCreated { team }, words)
        }
        ("assign-role" | "set-role", _) => {
            let role = row.get("role").to_string();
            let position = row.get("position").replace('_', " ");
            let words = format!("{actor} made {owner} {position} ({role})");
            (EventKind::RoleAssigned { role, owner }, words)
        }
        ("create-objective", _) => {
            let objective = row.get("objective").to_string();
            let words = format!("{actor} created the objective {objective} ({})", row.get("title"));
            (EventKind::ObjectiveCreated { objective }, words)
        }
        ("create-task", _) => {
            let budget = amount(row, "budget");
            let words = format!("{actor} created the task {task} ({}) with {budget} SC", row.get("title"));
            (EventKind::TaskCreated { task, budget }, words)
        }
        ("assign-task", _) => {
            let (attacker, defender) = (row.get("attacker").to_string(), row.get("defender").to_string());
            let words = format!("{actor} gave {on} to {attacker} (Attacker) and {defender} (Defender)");
            (EventKind::TaskAssigned { task, attacker, defender }, words)
        }
        ("start-task", _) => (EventKind::TaskStarted { task }, format!("{actor} started the task {on}")),
        ("start-work", _) => {
            let words = format!("{owner} started work on {on}");
            (EventKind::WorkStarted { task, owner }, words)
        }
        ("stop-work", "work_clock") => {
            let started = before.sessions.get(&owner).map(|s| s.started);
            let stopped: Option<Timestamp> = row.get("happened_at").parse().ok();
            let seconds = match (started, stopped) {
                (Some(a), Some(b)) => (b.0 - a.0).max(0),
                _ => 0,
            };
            let words = format!("{owner} stopped work on {on} after {}", duration(seconds));
            (EventKind::WorkStopped { task, owner, seconds }, words)
        }
        ("stop-work", _) => {
            let seconds: i64 = row.get("seconds").parse().unwrap_or(0);
            let words = format!("{owner}'s session of {} on {on} was logged", duration(seconds));
            (EventKind::SessionLogged { task, owner, seconds }, words)
        }
        ("assess-work", _) => {
            let pending_sc = amount(row, "attacker_sc").plus(amount(row, "defender_sc"));
            let words = format!("{actor} assessed {on} at {}%: {pending_sc} SC pending validation", row.get("share"));
            (EventKind::Assessed { task, pending_sc }, words)
        }
        ("approve-pending-sc", _) => {
            let words = format!("{actor} approved the pending SC of {on}");
            (EventKind::Approved { task }, words)
        }
        ("object-pending-sc", _) => {
            let words = format!("{actor} objected to the pending SC of {on}");
            (EventKind::Objection { task }, words)
        }
        ("resolve-objection", _) => {
            let sustained = row.get("decision") == "sustained";
            let words = if sustained {
                format!("{actor} upheld the objection to {on}: its assessment is void")
            } else {
                format!("{actor} dismissed the objection to {on}")
            };
            (EventKind::ObjectionResolved { task, sustained }, words)
        }
        ("validate-pending-sc", _) => {
            let sc = amount(row, "attacker_sc").plus(amount(row, "defender_sc"));
            let words = format!("{actor} validated {sc} SC of {on}: they are awarded");
            (EventKind::ScValidated { task, sc }, words)
        }
        ("deposit-eur", _) => {
            let amount = amount(row, "amount");
            let words = format!("{actor} recorded {amount} EUR paid into the treasury");
            (EventKind::EurDeposited { amount }, words)
        }
        ("refund-eur", _) => {
            let amount = amount(row, "amount");
            let words = format!(
                "{actor} recorded a refund of {amount} EUR (the deposit at seq {})",
                row.get("refunds")
            );
            (EventKind::EurRefunded { amount }, words)
        }
        ("import-legacy", _) => {
            let (currency, amount) = (row.get("currency").to_string(), amount(row, "amount"));
            let whose = if row.get("owner").is_empty() {
                "the treasury".to_string()
            } else {
                row.get("owner").to_string()
            };
            let words = format!(
                "{actor} imported an earlier record ({} of {}): {amount} {currency} for {whose}",
                row.get("kind"),
                row.get("happened_at")
            );
            (EventKind::LegacyImported { currency, amount }, words)
        }
        ("payout-sc", _) => {
            let amount = amount(row, "amount");
            let words = format!("{actor} paid {owner} {amount} EUR for {amount} SC");
            (EventKind::Payout { owner, amount }, words)
        }
        ("award-sk", _) => {
            let (amount, reason) = (amount(row, "amount"), row.get("reason").to_string());
            let words = format!("{actor} awarded {owner} {amount} SK for {}", reason.replace('_', " "));
            (EventKind::SkAwarded { owner, amount, reason }, words)
        }
        ("link-matrix", _) => {
            let account = row.get("matrix_user").to_string();
            let words = format!("{actor} linked the Matrix account {account}");
            let kind = EventKind::MatrixLinked {
                owner: row.actor.clone(),
                account,
            };
            (kind, words)
        }
        (action, "proposals") => governance(row, before).unwrap_or_else(|| (EventKind::Other, format!("{actor}: {action}"))),
        (action, _) => (EventKind::Other, format!("{actor}: {action}")),
    };
    Event {
        seq: row.seq,
        at: row.timestamp,
        actor: row.actor.clone(),
        kind,
        words,
    }
}

/// The event of a row of the proposals table, read against the state `before` it: `None` for
/// an action this version does not describe.
fn governance(row: &Row, before: &State) -> Option<(EventKind, String)> {
    let proposal: u64 = row.get("proposal").parse().unwrap_or(0);
    let open = before.proposals.get(&proposal);
    match row.action.as_str() {
        "propose" => Some(proposed(row)),
        "object" => Some(objected(row, proposal, open)),
        "vote" => Some(voted(row, proposal, open)),
        "close-proposal" => Some(closed(row, proposal, open?)),
        "release-tranche" => Some(released(row, before)),
        _ => None,
    }
}

/// `founder proposed #33 (policy-amendment): End bootstrap`.
fn proposed(row: &Row) -> (EventKind, String) {
    let (proposal, proposal_kind, title) = (row.seq, row.get("kind").to_string(), row.get("title").to_string());
    let words = format!("{} proposed #{proposal} ({proposal_kind}): {title}", row.actor);
    let kind = EventKind::Proposed {
        proposal,
        proposal_kind,
        title,
    };
    (kind, words)
}

/// `carol objected to #12 (3 of 3 objections): too early; it goes to a binding vote until T`.
fn objected(row: &Row, proposal: u64, open: Option<&Proposal>) -> (EventKind, String) {
    let objections = open.map_or(0, |p| p.objectors.len() as u64) + 1;
    let needed = open.map_or(u64::MAX, |p| p.objections_needed);
    let escalated = objections >= needed;
    let reason = row.get("note").replace(['\n', '\r'], " ");
    let mut words = format!(
        "{} objected to #{proposal} ({objections} of {needed} objections): {reason}",
        row.actor
    );
    if let (true, Some(p)) = (escalated, open) {
        let until = row.timestamp.plus(p.vote_hours * HOUR);
        words.push_str(&format!("; it goes to a binding vote until {until}"));
    }
    let kind = EventKind::ProposalObjected {
        proposal,
        objections,
        escalated,
    };
    (kind, words)
}

/// `alice voted yes on #33`, or `alice changed their vote on #33 to no`.
fn voted(row: &Row, proposal: u64, open: Option<&Proposal>) -> (EventKind, String) {
    let (actor, choice) = (row.actor.as_str(), row.get("choice").to_string());
    let changed = open.is_some_and(|p| p.votes.contains_key(actor));
    let words = if changed {
        format!("{actor} changed their vote on #{proposal} to {choice}")
    } else {
        format!("{actor} voted {choice} on #{proposal}")
    };
    (EventKind::Voted { proposal, choice, changed }, words)
}

/// `#33 passed: yes 3.120, no 0.000, abstain 0.000 of 5.000 eligible (3 voters)`, or `#12
/// passed by lazy consensus (1 of 3 objections)`: the tally of the proposal as it stood.
fn closed(row: &Row, proposal: u64, open: &Proposal) -> (EventKind, String) {
    let view = proposals::proposal(open, row.timestamp);
    let result = row.get("result");
    let words = if view.vote {
        format!("#{proposal} {result}: {}", view.votes_words())
    } else {
        let (objections, needed) = (view.objections, view.objections_needed);
        format!("#{proposal} {result} by lazy consensus ({objections} of {needed} objections)")
    };
    let kind = EventKind::ProposalClosed {
        proposal,
        passed: result == "passed",
        yes: view.yes,
        no: view.no,
        abstain: view.abstain,
        eligible: view.eligible,
    };
    (kind, words)
}

/// `tranche design released: 24660.00 SC to founder`.
fn released(row: &Row, before: &State) -> (EventKind, String) {
    let tranche = row.get("tranche").to_string();
    let named = before.policy.governance.tranche(&tranche).map_or("", |t| t.recipient.as_str());
    let recipient = before.tranche_recipient(named).to_string();
    let amount = amount(row, "amount");
    let words = format!("tranche {tranche} released: {amount} SC to {recipient}");
    (
        EventKind::TrancheReleased {
            tranche,
            recipient,
            amount,
        },
        words,
    )
}

/// The events of `rows` after seq `since`, replaying them on `state` (the state before the
/// first of them), which is left after the last. Fails on a row the rules refuse. What ends
/// a commit (a new policy) is the caller's to apply between commits.
pub fn since(state: &mut State, rows: impl IntoIterator<Item = Row>, since: u64) -> Result<Vec<Event>, Violation> {
    let mut events = Vec::new();
    for row in rows {
        if row.seq > since {
            events.push(event_of(&row, state));
        }
        rules::apply(state, &row, None)?;
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::Book;
    use crate::time::HOUR;

    fn events(b: &Book, after: u64) -> Vec<Event> {
        since(&mut b.genesis.clone(), b.rows.iter().map(|(r, _)| r.clone()), after).unwrap()
    }

    #[test]
    fn every_row_of_a_tasks_life_is_one_event_in_words() {
        let created = Book::organisation().state.last_seq;
        let b = Book::paid_after_one_session();
        let all = events(&b, 0);
        assert_eq!(all.len(), b.rows.len());
        assert_eq!(
            all.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (1..=b.state.last_seq).collect::<Vec<_>>()
        );
        let tail = events(&b, created - 1);
        let words: Vec<&str> = tail.iter().map(|e| e.words.as_str()).collect();
        assert_eq!(
            words,
            [
                "cap created the task 6_2_1_1 (Design the logo) with 55.00 SC",
                "maya gave 6_2_1_1 (Design the logo) to alice (Attacker) and bob (Defender)",
                "alice started the task 6_2_1_1 (Design the logo)",
                "alice started work on 6_2_1_1 (Design the logo)",
                "alice stopped work on 6_2_1_1 (Design the logo) after 2 h 00 min",
                "alice's session of 2 h 00 min on 6_2_1_1 (Design the logo) was logged",
                "maya assessed 6_2_1_1 (Design the logo) at 90%: 49.50 SC pending validation",
                "cap validated 49.50 SC of 6_2_1_1 (Design the logo): they are awarded",
            ]
        );
        assert_eq!(
            tail[4].kind,
            EventKind::WorkStopped {
                task: "6_2_1_1".into(),
                owner: "alice".into(),
                seconds: 2 * HOUR
            }
        );
        let json = serde_json::to_value(&tail[6]).unwrap();
        assert_eq!(json["kind"], "assessed");
        assert_eq!(json["pending_sc"], "49.50");
        assert_eq!(json["seq"], tail[6].seq);
        assert_eq!(json["words"], words[6]);
    }

    #[test]
    fn people_keys_roles_and_money_are_events_too() {
        let mut b = Book::organisation();
        b.award_governance("alice");
        let all = events(&b, 0);
        let kinds = |f: fn(&EventKind) -> bool| all.iter().filter(|e| f(&e.kind)).count();
        assert_eq!(kinds(|k| matches!(k, EventKind::OwnerJoined { .. })), 6);
        assert_eq!(kinds(|k| matches!(k, EventKind::KeyRegistered { .. })), 6);
        assert_eq!(kinds(|k| matches!(k, EventKind::RoleAssigned { .. })), 4);
        assert_eq!(kinds(|k| matches!(k, EventKind::Other)), 0, "every action is described");
        let words = |seq: u64| all.iter().find(|e| e.seq == seq).map(|e| e.words.clone()).unwrap_or_default();
        assert_eq!(words(1), "founder founded Test and its ledger");
        assert_eq!(
            words(4),
            "cap joined as an owner with an organizational license (entered by founder)"
        );
        assert_eq!(words(6), "maya joined as an owner with a work license (entered by founder)");
        assert_eq!(
            all.last().map(|e| e.words.as_str()),
            Some("cap awarded alice 20.00 SK for governance")
        );
        let deposit = all.iter().find(|e| matches!(e.kind, EventKind::EurDeposited { .. })).unwrap();
        assert_eq!(deposit.words, "founder recorded 1000.00 EUR paid into the treasury");
    }

    #[test]
    fn proposals_objections_votes_closings_and_releases_are_told_in_words() {
        use crate::rules::governance::{Choice, Kind};
        use crate::view::proposals::testing::{close, debating, object, propose, vote};
        let (mut b, d) = debating();
        let before = b.state.last_seq;
        vote(&mut b, "bob", d.amendment, Choice::Abstain);
        object(&mut b, "dave", d.lazy, "not now");
        let escalating = b.now;
        object(&mut b, "alice", d.lazy, "the colours");
        b.later(168);
        close(&mut b, "maya", d.amendment);
        let tranche = propose(&mut b, "founder", Kind::TrancheRelease, "Design tranche", |p| {
            p.tranche = Some("design".into());
        });
        vote(&mut b, "cap", tranche, Choice::Yes);
        b.later(168);
        close(&mut b, "cap", tranche);
        close(&mut b, "cap", d.lazy);
        let release = crate::rules::draft::Intent::ReleaseTranche {
            tranche: "design".into(),
            amount: Some("1000".parse().unwrap()),
            proposal: None,
            note: String::new(),
        };
        b.act("cap", &release);
        let reference = b.state.decided[&d.amendment].reference.clone().unwrap_or_default();
        b.ok("alice", "amend-policy", &[("subject", "ledger.toml"), ("reference", &reference)]);

        let all = events(&b, 0);
        assert_eq!(kinds_of(&all, |k| matches!(k, EventKind::Other)), 0, "every action is described");
        let words = |seq: u64| all.iter().find(|e| e.seq == seq).map(|e| e.words.clone()).unwrap_or_default();
        let (a, l) = (d.amendment, d.lazy);
        assert_eq!(words(a), format!("founder proposed #{a} (policy-amendment): End bootstrap"));
        assert_eq!(words(a + 1), format!("cap voted yes on #{a}"));
        assert_eq!(words(l + 1), format!("carol objected to #{l} (1 of 3 objections): too early"));
        let mut lazy = crate::rules::test_support::Book::organisation();
        let quiet = propose(&mut lazy, "founder", Kind::LazyConsensus, "Adopt the logo", |_| {});
        lazy.later(48);
        close(&mut lazy, "cap", quiet);
        let last = events(&lazy, quiet).pop().map(|e| e.words);
        assert_eq!(last, Some(format!("#{quiet} passed by lazy consensus (0 of 3 objections)")));
        let tail: Vec<&str> = all.iter().filter(|e| e.seq > before).map(|e| e.words.as_str()).collect();
        let until = escalating.plus(168 * HOUR);
        assert_eq!(
            tail,
            [
                format!("bob changed their vote on #{a} to abstain"),
                format!("dave objected to #{l} (2 of 3 objections): not now"),
                format!("alice objected to #{l} (3 of 3 objections): the colours; it goes to a binding vote until {until}"),
                format!("#{a} passed: yes 2.000, no 0.000, abstain 1.000 of 7.000 eligible (3 voters)"),
                format!("founder proposed #{tranche} (tranche-release): Design tranche"),
                format!("cap voted yes on #{tranche}"),
                format!("#{tranche} passed: yes 1.000, no 0.000, abstain 0.000 of 1.000 eligible (1 voter)"),
                format!("#{l} failed: yes 0.000, no 0.000, abstain 0.000 of 7.000 eligible (0 voters)"),
                "tranche design released: 1000.00 SC to founder".to_string(),
                format!("alice amended the policy, as #{a} decided"),
            ]
        );
        let closed = all.iter().find(|e| matches!(e.kind, EventKind::ProposalClosed { .. })).unwrap();
        let json = serde_json::to_value(closed).unwrap();
        assert_eq!(json["kind"], "proposal-closed");
        assert_eq!((json["passed"].as_bool(), json["abstain"].as_str()), (Some(true), Some("1.000")));
        let objected = all
            .iter()
            .rev()
            .find(|e| matches!(e.kind, EventKind::ProposalObjected { .. }))
            .unwrap();
        assert_eq!(
            objected.kind,
            EventKind::ProposalObjected {
                proposal: l,
                objections: 3,
                escalated: true
            }
        );
        let released = serde_json::to_value(&all[all.len() - 2]).unwrap();
        assert_eq!(
            (released["kind"].as_str(), released["amount"].as_str()),
            (Some("tranche-released"), Some("1000.00"))
        );
    }

    fn kinds_of(all: &[Event], f: fn(&EventKind) -> bool) -> usize {
        all.iter().filter(|e| f(&e.kind)).count()
    }
}
