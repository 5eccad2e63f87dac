//! Commit rules: what must hold of a whole commit, beyond each of its rows. Like the row
//! rules they are pure: they judge facts that `verify` gathers from git (the `ledger.toml` a
//! commit carries, the key that signed it, whether a merge adds anything) and read nothing
//! themselves.

use super::{ensure, violation, State, Violation};
use crate::ledger::policy::{file_reference, Policy};
use crate::sign::PublicKey;

/// One commit, as the commit rules need to know it.
#[derive(Clone, Copy, Debug)]
pub struct CommitFacts<'a> {
    /// The commit id, as messages name it.
    pub id: &'a str,
    /// True for the root commit (it has no parent).
    pub root: bool,
    /// The content of `ledger.toml` when the commit adds or changes it.
    pub policy_file: Option<&'a [u8]>,
    /// The key that signed the commit, when signatures are checked and the signature could be
    /// read (whether it matches is checked elsewhere).
    pub signer: Option<SignerFacts<'a>>,
}

/// The key that signed a commit.
#[derive(Clone, Copy, Debug)]
pub struct SignerFacts<'a> {
    /// The key's fingerprint (`SHA256:...`).
    pub fingerprint: &'a str,
    /// Whether it was a valid key of the ledger before the commit's rows ([`key_valid`]).
    pub valid_before: bool,
    /// Whether the commit is a merge whose tree is one of its parents' trees: it adds nothing
    /// of its own.
    pub empty_merge: bool,
}

/// The state before the root commit's rows, from the `ledger.toml` the root commit carries.
pub fn genesis(policy_file: Option<&[u8]>) -> Result<State, Violation> {
    let bytes = policy_file.ok_or_else(|| violation("policy", "the root commit has no ledger.toml"))?;
    Ok(State::new(parse_policy(bytes)?, file_reference(bytes)))
}

/// Ends a commit after its rows: no session log is still awaited, a new `ledger.toml` takes
/// effect as its amend-policy row says ([`switch_policy`]), and the commit is signed by a
/// valid key ([`committer_key`]). Returns what the commit breaks, in that order.
pub fn end_commit(state: &mut State, commit: &CommitFacts) -> Vec<Violation> {
    [
        awaited_log(state),
        switch_policy(state, commit.policy_file, commit.root),
        commit.signer.map_or(Ok(()), |signer| committer_key(state, commit.id, &signer)),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect()
}

/// A stop-work row's session log comes in the same commit: a commit may not end while one is
/// awaited. The awaited log is dropped either way, so the next commit starts clean.
pub fn awaited_log(state: &mut State) -> Result<(), Violation> {
    match state.awaited_log.take() {
        Some(awaited) => Err(violation(
            "session",
            format!(
                "the stop-work row at seq {} has no session log row in the same commit",
                awaited.after_seq
            ),
        )),
        None => Ok(()),
    }
}

/// Applies a change of `ledger.toml` at the end of a commit (`new_file`: its content when the
/// commit changed it; the root commit's is the policy the ledger starts with). A change needs
/// an amend-policy row naming its hash in the same commit, and an amend-policy row needs the
/// change; the new policy keeps the ledger's identity. On `Err` the policy in force stays.
pub fn switch_policy(state: &mut State, new_file: Option<&[u8]>, root: bool) -> Result<(), Violation> {
    let announced = state.amended_policy.take();
    let Some(bytes) = new_file.filter(|_| !root) else {
        return match announced {
            Some(reference) => Err(violation(
                "policy",
                format!("an amend-policy row names {reference}, but this commit does not change ledger.toml to it"),
            )),
            None => Ok(()),
        };
    };
    let reference = file_reference(bytes);
    ensure(announced.as_deref() == Some(reference.as_str()), "policy", || {
        format!("ledger.toml changed to {reference} without an amend-policy row naming that hash")
    })?;
    let policy = parse_policy(bytes)?;
    ensure(policy.keeps_identity_of(&state.policy), "policy", || {
        "an amendment may not change [ledger] id, namespace, format or segment_rows".to_string()
    })?;
    state.policy = policy;
    state.policy_reference = reference;
    Ok(())
}

/// A commit is signed by a key that is valid before or after its rows (a commit may register
/// its signer's key, or revoke it), or it is a merge that adds nothing of its own signed by
/// one of the forge's keys (`[hook] instance_keys`: a pull-request merge).
pub fn committer_key(state: &State, commit: &str, signer: &SignerFacts) -> Result<(), Violation> {
    let fingerprint = signer.fingerprint;
    let valid = signer.valid_before || key_valid(state, fingerprint) || (signer.empty_merge && instance_key(state, fingerprint));
    ensure(valid, "commit-signature", || {
        format!("commit {commit} is signed by key {fingerprint}, which is not a valid key of this ledger")
    })
}

/// A commit the push brings in off the first-parent line (the side of a merge; its rows are
/// judged where the merge brings them in) is signed by a key valid before or after the push.
/// `signer` is the key whose signature on the commit was verified, if any.
pub fn merged_in_signer(commit: &str, signer: Option<&str>, valid: bool) -> Result<(), Violation> {
    match signer {
        Some(_) if valid => Ok(()),
        Some(fingerprint) => Err(violation(
            "commit-signature",
            format!("commit {commit} (merged in) is signed by {fingerprint}, not a valid key of this ledger"),
        )),
        None => Err(violation(
            "commit-signature",
            format!("commit {commit} (merged in) has no valid SSH signature"),
        )),
    }
}

/// Whether the key with this fingerprint is registered in the ledger and not revoked.
pub fn key_valid(state: &State, fingerprint: &str) -> bool {
    state.keys.get(fingerprint).is_some_and(|k| k.revoked.is_none())
}

/// Whether the key with this fingerprint is one of the forge's (`[hook] instance_keys`).
fn instance_key(state: &State, fingerprint: &str) -> bool {
    state
        .policy
        .hook
        .instance_keys
        .iter()
        .any(|k| PublicKey::parse_openssh(k).is_ok_and(|p| p.fingerprint() == fingerprint))
}

/// Reads a `ledger.toml`.
fn parse_policy(bytes: &[u8]) -> Result<Policy, Violation> {
    std::str::from_utf8(bytes)
        .map_err(|e| e.to_string())
        .and_then(|text| Policy::parse(text).map_err(|e| e.to_string()))
        .map_err(|message| violation("policy", message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::policy::TEMPLATE;
    use crate::rules::state::{AwaitedLog, KeyRecord};
    use crate::sign::SigningKey;
    use crate::time::Timestamp;

    const ID: &str = "0123456789abcdef0123";
    const COMMIT: &str = "c0ffee0000000000000000000000000000000000";

    fn policy_text(edit: impl Fn(String) -> String) -> String {
        edit(Policy::render_template(TEMPLATE, ID, "Test"))
    }

    fn state() -> State {
        genesis(Some(policy_text(|t| t).as_bytes())).expect("the template is a valid policy")
    }

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_seed([seed; 32], "test")
    }

    /// Registers `key` for alice, revoked at seq `revoked` if given.
    fn register(state: &mut State, key: &SigningKey, revoked: Option<u64>) {
        let at: Timestamp = "2026-01-05T09:00:00Z".parse().unwrap();
        state.keys.insert(
            key.public().fingerprint(),
            KeyRecord {
                owner: "alice".into(),
                public: key.public().clone(),
                registered: 2,
                registered_at: at,
                revoked,
                revoked_at: revoked.map(|_| at),
            },
        );
    }

    fn signer(fingerprint: &str, valid_before: bool, empty_merge: bool) -> SignerFacts<'_> {
        SignerFacts {
            fingerprint,
            valid_before,
            empty_merge,
        }
    }

    fn code_and_words(result: Result<impl std::fmt::Debug, Violation>) -> (&'static str, String) {
        let v = result.expect_err("a violation");
        (v.code, v.message)
    }

    #[test]
    fn the_root_commit_carries_the_policy() {
        let text = policy_text(|t| t);
        let state = genesis(Some(text.as_bytes())).unwrap();
        assert_eq!(state.ledger_id, ID);
        assert_eq!(state.policy_reference, file_reference(text.as_bytes()));
        assert_eq!(
            code_and_words(genesis(None)),
            ("policy", "the root commit has no ledger.toml".to_string())
        );
        let (code, words) = code_and_words(genesis(Some(b"\xff\xfe")));
        assert_eq!(code, "policy");
        assert!(words.contains("invalid utf-8"), "{words}");
        let (code, words) = code_and_words(genesis(Some(policy_text(|t| t.replace(ID, "short")).as_bytes())));
        assert_eq!(code, "policy");
        assert!(words.starts_with("ledger.toml is not a valid policy: [ledger] id"), "{words}");
    }

    #[test]
    fn a_policy_switches_only_as_its_amend_policy_row_says() {
        let raised = policy_text(|t| t.replace("lazy_consensus_hours = 48", "lazy_consensus_hours = 72"));
        assert_ne!(raised, policy_text(|t| t), "the edit changes the policy");
        let reference = file_reference(raised.as_bytes());

        // Nothing announced, nothing changed.
        let mut s = state();
        assert_eq!(switch_policy(&mut s, None, false), Ok(()));

        // Announced and carried: the new policy is in force, the announcement is used up.
        s.amended_policy = Some(reference.clone());
        assert_eq!(switch_policy(&mut s, Some(raised.as_bytes()), false), Ok(()));
        assert_eq!(s.policy.sc.lazy_consensus_hours, 72);
        assert_eq!(s.policy_reference, reference);
        assert_eq!(s.amended_policy, None);

        // Announced, not carried.
        let mut s = state();
        s.amended_policy = Some(reference.clone());
        assert_eq!(
            code_and_words(switch_policy(&mut s, None, false)),
            (
                "policy",
                format!("an amend-policy row names {reference}, but this commit does not change ledger.toml to it")
            )
        );
        assert_eq!(s.amended_policy, None, "the next commit starts clean");

        // Carried, not announced (or announced with another hash).
        for announced in [None, Some("sha256:other".to_string())] {
            let mut s = state();
            s.amended_policy = announced;
            assert_eq!(
                code_and_words(switch_policy(&mut s, Some(raised.as_bytes()), false)),
                (
                    "policy",
                    format!("ledger.toml changed to {reference} without an amend-policy row naming that hash")
                )
            );
            assert_eq!(s.policy.sc.lazy_consensus_hours, 48, "the old policy stays");
        }

        // The root commit's file is the policy the ledger starts with, not a switch.
        let mut s = state();
        assert_eq!(switch_policy(&mut s, Some(raised.as_bytes()), true), Ok(()));
        assert_eq!(s.policy.sc.lazy_consensus_hours, 48);
    }

    #[test]
    fn an_amendment_keeps_the_ledgers_identity_and_parses() {
        for (edit, expected) in [
            (
                policy_text(|t| t.replace(ID, "fedcba9876543210fedc")),
                "an amendment may not change [ledger] id, namespace, format or segment_rows",
            ),
            (policy_text(|t| format!("{t}\n[[[")), "ledger.toml is not a valid policy: "),
        ] {
            let mut s = state();
            let before = s.policy_reference.clone();
            s.amended_policy = Some(file_reference(edit.as_bytes()));
            let (code, words) = code_and_words(switch_policy(&mut s, Some(edit.as_bytes()), false));
            assert_eq!(code, "policy");
            assert!(words.starts_with(expected), "{words}");
            assert_eq!(s.policy_reference, before, "the old policy stays");
        }
    }

    #[test]
    fn a_commit_does_not_end_while_a_session_log_is_awaited() {
        let mut s = state();
        assert_eq!(awaited_log(&mut s), Ok(()));
        let at: Timestamp = "2026-01-05T09:00:00Z".parse().unwrap();
        s.awaited_log = Some(AwaitedLog {
            after_seq: 41,
            session: 30,
            task: "6_1_1_1".into(),
            owner: "alice".into(),
            started: at,
            stopped: at,
        });
        assert_eq!(
            code_and_words(awaited_log(&mut s)),
            (
                "session",
                "the stop-work row at seq 41 has no session log row in the same commit".to_string()
            )
        );
        assert!(s.awaited_log.is_none(), "the next commit starts clean");
    }

    #[test]
    fn a_commit_is_signed_by_a_key_valid_before_or_after_its_rows() {
        let mut s = state();
        let (valid, revoked, stranger) = (key(1), key(2), key(3));
        register(&mut s, &valid, None);
        register(&mut s, &revoked, Some(9));
        let fp = |k: &SigningKey| k.public().fingerprint();

        assert!(key_valid(&s, &fp(&valid)));
        assert!(!key_valid(&s, &fp(&revoked)));
        assert!(!key_valid(&s, &fp(&stranger)));
        // Valid after (registered by the commit), valid before (revoked by the commit).
        assert_eq!(committer_key(&s, COMMIT, &signer(&fp(&valid), false, false)), Ok(()));
        assert_eq!(committer_key(&s, COMMIT, &signer(&fp(&revoked), true, false)), Ok(()));
        for k in [&revoked, &stranger] {
            assert_eq!(
                code_and_words(committer_key(&s, COMMIT, &signer(&fp(k), false, false))),
                (
                    "commit-signature",
                    format!(
                        "commit {COMMIT} is signed by key {}, which is not a valid key of this ledger",
                        fp(k)
                    )
                )
            );
        }
    }

    #[test]
    fn the_forge_signs_only_merges_that_add_nothing() {
        let forge = key(7);
        let line = forge.public().to_openssh();
        let text = policy_text(|t| t.replace("instance_keys = []", &format!("instance_keys = [\"{line}\"]")));
        let s = genesis(Some(text.as_bytes())).unwrap();
        let by_forge = forge.public().fingerprint();
        assert_eq!(committer_key(&s, COMMIT, &signer(&by_forge, false, true)), Ok(()));
        let (code, _) = code_and_words(committer_key(&s, COMMIT, &signer(&by_forge, false, false)));
        assert_eq!(code, "commit-signature", "a forge commit that adds rows");
        let other = key(8).public().fingerprint();
        let (code, _) = code_and_words(committer_key(&s, COMMIT, &signer(&other, false, true)));
        assert_eq!(code, "commit-signature", "an empty merge by a key that is not the forge's");
        // Without instance keys in the policy, the forge signs nothing.
        let (code, _) = code_and_words(committer_key(&state(), COMMIT, &signer(&by_forge, false, true)));
        assert_eq!(code, "commit-signature");
    }

    #[test]
    fn merged_in_commits_are_signed_by_a_valid_key() {
        assert_eq!(merged_in_signer(COMMIT, Some("SHA256:k"), true), Ok(()));
        assert_eq!(
            code_and_words(merged_in_signer(COMMIT, Some("SHA256:k"), false)),
            (
                "commit-signature",
                format!("commit {COMMIT} (merged in) is signed by SHA256:k, not a valid key of this ledger")
            )
        );
        assert_eq!(
            code_and_words(merged_in_signer(COMMIT, None, true)),
            (
                "commit-signature",
                format!("commit {COMMIT} (merged in) has no valid SSH signature")
            )
        );
    }

    #[test]
    fn a_commit_ends_with_every_violation_in_order() {
        let mut s = state();
        let stranger = key(3).public().fingerprint();
        let facts = CommitFacts {
            id: COMMIT,
            root: false,
            policy_file: None,
            signer: Some(signer(&stranger, false, false)),
        };
        let at: Timestamp = "2026-01-05T09:00:00Z".parse().unwrap();
        s.awaited_log = Some(AwaitedLog {
            after_seq: 5,
            session: 4,
            task: "6_1_1_1".into(),
            owner: "alice".into(),
            started: at,
            stopped: at,
        });
        s.amended_policy = Some("sha256:announced".into());
        let codes: Vec<&str> = end_commit(&mut s, &facts).iter().map(|v| v.code).collect();
        assert_eq!(codes, ["session", "policy", "commit-signature"]);
        // The same commit again finds the state clean; only the key is still wrong.
        let codes: Vec<&str> = end_commit(&mut s, &facts).iter().map(|v| v.code).collect();
        assert_eq!(codes, ["commit-signature"]);
        let unsigned = CommitFacts { signer: None, ..facts };
        assert!(end_commit(&mut s, &unsigned).is_empty());
    }
}
