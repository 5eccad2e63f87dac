//! Violations: what the rules say when a row breaks them.

/// A broken rule: a stable code scripts can match and a sentence a contributor understands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("[{code}] {message}")]
pub struct Violation {
    /// Stable machine-readable code, e.g. `not-permitted`.
    pub code: &'static str,
    /// What is wrong, in plain words.
    pub message: String,
}

/// Builds a violation.
pub fn violation(code: &'static str, message: impl Into<String>) -> Violation {
    Violation {
        code,
        message: message.into(),
    }
}

/// Returns `Err(violation)` unless `condition` holds.
pub fn ensure(condition: bool, code: &'static str, message: impl FnOnce() -> String) -> Result<(), Violation> {
    if condition {
        Ok(())
    } else {
        Err(violation(code, message()))
    }
}

/// Every violation code, with the rule in words (for `smartup verify --help` and the docs).
pub const CODES: &[(&str, &str)] = &[
    ("sequence", "rows are numbered 1, 2, 3, ... across all tables without gap or repeat"),
    (
        "time-order",
        "a row's timestamp is never before the previous row's, nor in the future",
    ),
    (
        "recorded-late",
        "a row is recorded when it is written: the forge refuses rows recorded longer ago than the policy's lag, and witnesses show them",
    ),
    ("genesis", "the first row is register-smartup, and only the first"),
    ("wrong-table", "each action writes to its own table"),
    (
        "malformed-value",
        "every column holds a value of its kind, and columns an action does not use stay empty",
    ),
    ("unknown-owner", "the actor and every owner named must be in the Book of Owners"),
    ("unknown-id", "teams, roles, objectives and tasks named must exist"),
    ("duplicate-id", "identifiers are unique by their numbers; handles, keys, invitation keys and outside payment references are recorded once"),
    ("invitation", "an invitation is claimed once, while it is open: not after `expires`, not once its payment was refunded"),
    ("invitation-code", "a join row proves the invitation's one-time code for exactly this ledger, invitation, handle and key"),
    (
        "key-not-valid",
        "a row is signed by a key of its actor that is registered and not revoked",
    ),
    ("bad-signature", "the signature matches the row and the key"),
    (
        "key-authority",
        "only you change your keys, with a key you hold; the person who created you may give you your first key; anything else needs a recovery by two authorities",
    ),
    (
        "recovery",
        "a recovery is asked for by one authority, confirmed by a second, different one, and completed only after the window in which the owner can cancel it; it never leaves a founder or leadership member without a key",
    ),
    ("not-permitted", "the actor's roles at that moment allow the action"),
    (
        "license",
        "the owner's license allows it (campaign and watch owners cannot earn SC; campaign owners earn SK only for community building, governance and mentoring)",
    ),
    (
        "license-payment",
        "outside the bootstrap phase a license granted or upgraded names the deposit that paid its price; a deposit pays for one license",
    ),
    (
        "karma-threshold",
        "the owner has the SK the role or license requires (100 captain or mission leader, 200 to lead a second objective, 500 for any role in the leadership team)",
    ),
    (
        "self-validation",
        "no one validates, approves or assesses their own reward (in the bootstrap phase a captain who is also the mission leader may assess their own, visibly)",
    ),
    ("task-state", "tasks follow created, assigned, started, assessed, paid"),
    (
        "session",
        "one open session per person, on a started task, by its attacker or defender, closed by its owner, with a matching session log",
    ),
    ("assessment", "scores are 1 to 10 and the share lies in the band of their total"),
    (
        "budget",
        "a task's budget is its size's budget times its phase multiplier; pending SC split as the policy says",
    ),
    (
        "lazy-consensus",
        "pending SC are validated after the window, without open objection, with the approvals they need",
    ),
    ("daily-cap", "no one earns more SC or SK in one day than their license allows"),
    (
        "treasury",
        "outstanding SC never exceed the treasury multiple of the EUR treasury; payouts are covered",
    ),
    (
        "treasury-reserve",
        "a payout leaves at least the policy's reserve in the EUR treasury",
    ),
    ("retroactive", "work older than the retroactive limit cannot be claimed"),
    (
        "shift",
        "no work session lasts longer than the policy's shift, and a mission leader does not assess at the end of a longer one",
    ),
    (
        "proposal",
        "a proposal copies the policy's numbers, is objected to within its lazy-consensus window, is voted on while it is a vote, and is closed after its window",
    ),
    (
        "vote",
        "an owner votes while the vote runs, on a proposal they may vote on: owners as of the proposal, or the team or groups it names",
    ),
    (
        "tally",
        "a closing row states the result, weights and participation the rules recompute from the proposal's rows",
    ),
    (
        "governance",
        "outside the bootstrap phase, policy amendments, captain appointments and recalls, large awards and voted tranches need a passed proposal",
    ),
    (
        "tranche",
        "a tranche of a retrospective award is released after its trigger, at most what is left of it",
    ),
    ("policy", "ledger.toml changes only with an amend-policy row naming its hash"),
    ("history", "history only appends: no row, header or closed segment ever changes"),
    ("commit-signature", "every commit is SSH-signed by a key valid in the ledger"),
    (
        "ref-policy",
        "a push changes the ledger branch only; other refs only as the policy's [hook] allow_refs allows",
    ),
    (
        "pusher",
        "when the policy requires a registered pusher, the forge names who pushes and they are an owner",
    ),
    ("unexpected-file", "nothing outside the tables, ledger.toml and README.md"),
    ("unreadable", "every file of the ledger can be read and parsed"),
];

#[cfg(test)]
mod tests {
    use super::CODES;

    #[test]
    fn every_code_is_documented_in_the_rules() {
        let doc = include_str!("../../docs/rules.md");
        for (code, rule) in CODES {
            assert!(
                doc.contains(&format!("| {code} | {rule} |")),
                "docs/rules.md lacks | {code} | {rule} |"
            );
        }
        let documented = doc
            .lines()
            .filter(|l| l.starts_with("| ") && l.matches(" | ").count() == 1 && *l != "| code | rule |")
            .count();
        assert_eq!(documented, CODES.len(), "docs/rules.md lists codes that violation.rs does not");
    }
}
