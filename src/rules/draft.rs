//! Drafting: what someone wants done (an [`Intent`]) becomes the rows that record it, given
//! the state — the budget from size and phase, the default share and the split of pending SC,
//! session ids, the pair of rows of `stop-work`. Drafting refuses early, in the domain's words,
//! what it can already see is wrong (an unknown task, a task in the wrong state, a size the
//! policy does not know); everything else is left to [`super::apply`], which judges the rows.
//! Pure: no files, no clock (`happened` is an argument).

use super::governance::drafting as governance;
pub use super::governance::drafting::ProposalIntent;
use super::governance::Choice;
use super::state::{State, Task, TaskState};
use super::violation::{ensure, violation, Violation};
use crate::ledger::action::ActionKind;
use crate::ledger::ids::{numbers, numeric_identity, IdKind};
use crate::ledger::policy::{file_reference, Policy};
use crate::ledger::schema::{table_id, TableId};
use crate::money::Amount;
use crate::time::{format_date, Timestamp};

/// One row to be written: its action, table and column values (the envelope is added when
/// it is signed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The action.
    pub action: ActionKind,
    /// The table it goes into.
    pub table: TableId,
    /// Column values by name; columns not named stay empty.
    pub values: Vec<(&'static str, String)>,
}

impl Entry {
    fn new(action: ActionKind, values: &[(&'static str, &str)]) -> Entry {
        Entry::owned(action, values.iter().map(|(k, v)| (*k, v.to_string())).collect())
    }

    /// A row of `action` with these column values.
    pub(crate) fn owned(action: ActionKind, values: Vec<(&'static str, String)>) -> Entry {
        Entry {
            action,
            table: action.table(),
            values,
        }
    }
}

/// The rows of one intent, and the new `ledger.toml` an amendment brings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Draft {
    /// The rows, in order.
    pub entries: Vec<Entry>,
    /// The new policy file (amend-policy only).
    pub policy: Option<Vec<u8>>,
}

/// The deposit that paid for a license: named by its seq, or by the outside reference it was
/// recorded under (an importer knows the Open Collective transaction, not the seq).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaidBy {
    /// The deposit-eur row's seq.
    Seq(u64),
    /// The deposit-eur row's `reference`.
    Reference(String),
}

/// A record of the files kept before the ledger (Smartup Zero's treasury and karma files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyRecord {
    /// `balance.csv` or `transactions.csv`.
    pub source: String,
    /// Its line there.
    pub line: u64,
    /// Its original time.
    pub happened_at: Timestamp,
    /// Its event type, as written.
    pub kind: String,
    /// SK: who received it.
    pub owner: String,
    /// EUR or SK.
    pub currency: String,
    /// The change, signed.
    pub amount: Amount,
    /// Its original reference (may be empty).
    pub reference: String,
    /// Its notes.
    pub note: String,
}

/// Who holds a role and where (assign-role, set-role).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleChange {
    /// The role id: `4_1_Y` captain, `4_2_Y` senior, `4_3_Y` junior, `5_X_Y` mission leader.
    pub role: String,
    /// The new holder; `None` vacates the role (set-role only).
    pub owner: Option<String>,
    /// The team; by default the objective's team (`5_X_Y`) or the role's current team.
    pub team: Option<String>,
    /// Free text.
    pub note: String,
}

/// What someone asks the ledger to record: one variant per action, with its arguments in
/// the domain's terms (public keys as OpenSSH text, the new policy as bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intent {
    /// The genesis row of a new ledger, naming the founder's key.
    RegisterSmartup {
        /// The smartup's name.
        name: String,
        /// The founder's public key (OpenSSH).
        public_key: String,
    },
    /// Create teams (founder): (id, name) pairs.
    BootstrapTeams {
        /// The teams.
        teams: Vec<(String, String)>,
    },
    /// Add an owner, with their first key if given.
    CreateOwner {
        /// Handle.
        owner: String,
        /// License.
        license: String,
        /// Their first public key (OpenSSH).
        public_key: Option<String>,
        /// The deposit that paid the license.
        payment: Option<PaidBy>,
        /// Free text.
        note: String,
    },
    /// Change an owner's license.
    ChangeLicense {
        /// The owner.
        owner: String,
        /// The new license.
        license: String,
        /// The deposit that paid it.
        payment: Option<PaidBy>,
        /// Free text.
        note: String,
    },
    /// Invite someone to become an owner; they join with the one-time code whose key this is.
    Invite {
        /// The license they get.
        license: String,
        /// The public key the one-time code derives (OpenSSH).
        invitation_key: String,
        /// The deposit that paid the license.
        payment: Option<PaidBy>,
        /// Free text.
        note: String,
    },
    /// Register a key.
    RegisterKey {
        /// The owner.
        owner: String,
        /// The key (OpenSSH).
        public_key: String,
        /// Free text.
        note: String,
    },
    /// Replace a key by a new one.
    RotateKey {
        /// The owner.
        owner: String,
        /// Fingerprint of the key retired.
        revokes: String,
        /// The new key (OpenSSH).
        public_key: String,
        /// Free text.
        note: String,
    },
    /// Revoke a key.
    RevokeKey {
        /// The owner.
        owner: String,
        /// Its fingerprint.
        fingerprint: String,
        /// Free text.
        note: String,
    },
    /// Ask to recover an owner's keys.
    RequestRecovery {
        /// The owner.
        owner: String,
        /// The new key (OpenSSH), if any.
        public_key: Option<String>,
        /// Fingerprints revoked; empty with a new key: all the owner's valid keys.
        revokes: Vec<String>,
        /// Free text.
        note: String,
    },
    /// Confirm a recovery (the second authority).
    ConfirmRecovery {
        /// The seq of the request.
        request: u64,
        /// Free text.
        note: String,
    },
    /// Cancel a recovery.
    CancelRecovery {
        /// The seq of the request.
        request: u64,
        /// Free text.
        note: String,
    },
    /// Carry out a confirmed recovery.
    CompleteRecovery {
        /// The seq of the request.
        request: u64,
        /// Free text.
        note: String,
    },
    /// Give a vacant role.
    AssignRole(RoleChange),
    /// Hand a role over, or vacate it.
    SetRole(RoleChange),
    /// Open an objective.
    CreateObjective {
        /// `5_X_Y` with an optional suffix.
        objective: String,
        /// The team.
        team: String,
        /// What it is for.
        title: String,
        /// Free text.
        note: String,
    },
    /// Create a task; its budget follows size and phase.
    CreateTask {
        /// `6_X_Y_Z` with an optional suffix.
        task: String,
        /// The objective.
        objective: String,
        /// What is to be done.
        title: String,
        /// A size or special budget of the policy.
        size: String,
        /// A phase of the policy.
        phase: String,
    },
    /// Name a task's Attacker and Defender.
    AssignTask {
        /// The task.
        task: String,
        /// Who executes.
        attacker: String,
        /// Who oversees and learns.
        defender: String,
    },
    /// Claim an assigned task.
    StartTask {
        /// The task.
        task: String,
    },
    /// Clock in on a task.
    StartWork {
        /// The task.
        task: String,
    },
    /// Clock out of the actor's open session.
    StopWork,
    /// Score a task's work.
    AssessWork {
        /// The task.
        task: String,
        /// Attacker effort, defender learning, collaboration: 1 to 10 each.
        scores: [u32; 3],
        /// Payout share in percent; by default placed in the band by the total.
        share: Option<Amount>,
        /// Free text.
        note: String,
    },
    /// Approve a task's pending SC.
    ApprovePendingSc {
        /// The task.
        task: String,
        /// Free text.
        note: String,
    },
    /// Object to a task's pending SC.
    ObjectPendingSc {
        /// The task.
        task: String,
        /// Why.
        note: String,
    },
    /// Rule on open objections.
    ResolveObjection {
        /// The task.
        task: String,
        /// `sustained` or `dismissed`.
        decision: String,
        /// Free text.
        note: String,
    },
    /// Award pending SC after the window.
    ValidatePendingSc {
        /// The task.
        task: String,
        /// Attacker's SC; by default all still pending.
        attacker_sc: Option<Amount>,
        /// Defender's SC; by default all still pending.
        defender_sc: Option<Amount>,
        /// Free text.
        note: String,
    },
    /// Record EUR received.
    DepositEur {
        /// Amount in EUR that reached the treasury.
        amount: Amount,
        /// What the payer paid before fees, when more than `amount`.
        gross: Option<Amount>,
        /// license, donation, ...
        reason: String,
        /// The paying owner, if any.
        from: Option<String>,
        /// The payment's id outside the ledger (empty if none).
        reference: String,
        /// Free text.
        note: String,
    },
    /// Record that a deposit was given back.
    RefundEur {
        /// The deposit.
        refunds: PaidBy,
        /// Amount in EUR that left the treasury.
        amount: Amount,
        /// Why.
        reason: String,
        /// The refund's id outside the ledger (empty if none).
        reference: String,
        /// Free text.
        note: String,
    },
    /// Pay SC out in EUR.
    PayoutSc {
        /// The owner.
        owner: String,
        /// SC paid out.
        amount: Amount,
        /// Free text.
        note: String,
    },
    /// Award Social Karma.
    AwardSk {
        /// The owner.
        owner: String,
        /// A reason of the policy.
        reason: String,
        /// The day it was earned (`YYYY-MM-DD`); by default the day it happened.
        earned_on: Option<String>,
        /// Free text.
        note: String,
    },
    /// Import one record kept before the ledger (the founder).
    ImportLegacy(LegacyRecord),
    /// Link the signer's Matrix account, committing to its link code by hash.
    LinkMatrix {
        /// The Matrix user id.
        matrix_user: String,
        /// The hash of the link code ([`crate::rules::matrix::link_code_hash`]).
        code_hash: String,
    },
    /// Make a proposal.
    Propose(ProposalIntent),
    /// Object to a lazy-consensus proposal, with a reason.
    Object {
        /// The proposal's seq.
        proposal: u64,
        /// The reason.
        note: String,
    },
    /// Vote on a proposal.
    Vote {
        /// The proposal's seq.
        proposal: u64,
        /// yes, no or abstain.
        choice: Choice,
        /// Free text.
        note: String,
    },
    /// Close a proposal after its window, with the tally of its rows.
    CloseProposal {
        /// The proposal's seq.
        proposal: u64,
        /// Free text.
        note: String,
    },
    /// Release (part of) a tranche of a retrospective award.
    ReleaseTranche {
        /// The tranche id.
        tranche: String,
        /// SC released; by default all that is left.
        amount: Option<Amount>,
        /// The passed tranche-release proposal; by default the one waiting.
        proposal: Option<u64>,
        /// Free text.
        note: String,
    },
    /// Replace `ledger.toml`.
    AmendPolicy {
        /// The new policy file.
        policy: Vec<u8>,
        /// Free text.
        note: String,
    },
}

impl Intent {
    /// The action it records.
    pub fn kind(&self) -> ActionKind {
        match self {
            Intent::RegisterSmartup { .. } => ActionKind::RegisterSmartup,
            Intent::BootstrapTeams { .. } => ActionKind::BootstrapTeams,
            Intent::CreateOwner { .. } => ActionKind::CreateOwner,
            Intent::ChangeLicense { .. } => ActionKind::ChangeLicense,
            Intent::Invite { .. } => ActionKind::Invite,
            Intent::RegisterKey { .. } => ActionKind::RegisterKey,
            Intent::RotateKey { .. } => ActionKind::RotateKey,
            Intent::RevokeKey { .. } => ActionKind::RevokeKey,
            Intent::RequestRecovery { .. } => ActionKind::RequestRecovery,
            Intent::ConfirmRecovery { .. } => ActionKind::ConfirmRecovery,
            Intent::CancelRecovery { .. } => ActionKind::CancelRecovery,
            Intent::CompleteRecovery { .. } => ActionKind::CompleteRecovery,
            Intent::AssignRole(_) => ActionKind::AssignRole,
            Intent::SetRole(_) => ActionKind::SetRole,
            Intent::CreateObjective { .. } => ActionKind::CreateObjective,
            Intent::CreateTask { .. } => ActionKind::CreateTask,
            Intent::AssignTask { .. } => ActionKind::AssignTask,
            Intent::StartTask { .. } => ActionKind::StartTask,
            Intent::StartWork { .. } => ActionKind::StartWork,
            Intent::StopWork => ActionKind::StopWork,
            Intent::AssessWork { .. } => ActionKind::AssessWork,
            Intent::ApprovePendingSc { .. } => ActionKind::ApprovePendingSc,
            Intent::ObjectPendingSc { .. } => ActionKind::ObjectPendingSc,
            Intent::ResolveObjection { .. } => ActionKind::ResolveObjection,
            Intent::ValidatePendingSc { .. } => ActionKind::ValidatePendingSc,
            Intent::DepositEur { .. } => ActionKind::DepositEur,
            Intent::RefundEur { .. } => ActionKind::RefundEur,
            Intent::PayoutSc { .. } => ActionKind::PayoutSc,
            Intent::AwardSk { .. } => ActionKind::AwardSk,
            Intent::ImportLegacy(_) => ActionKind::ImportLegacy,
            Intent::LinkMatrix { .. } => ActionKind::LinkMatrix,
            Intent::AmendPolicy { .. } => ActionKind::AmendPolicy,
            Intent::Propose(_) => ActionKind::Propose,
            Intent::Object { .. } => ActionKind::Object,
            Intent::Vote { .. } => ActionKind::Vote,
            Intent::CloseProposal { .. } => ActionKind::CloseProposal,
            Intent::ReleaseTranche { .. } => ActionKind::ReleaseTranche,
        }
    }
}

/// The seq a payment names, as its column holds it ("" for none); a reference must name a
/// row of the ledger.
fn paid_by(state: &State, payment: Option<&PaidBy>) -> Result<String, Violation> {
    match payment {
        None => Ok(String::new()),
        Some(PaidBy::Seq(seq)) => Ok(seq.to_string()),
        Some(PaidBy::Reference(reference)) => state
            .references
            .get(reference)
            .map(u64::to_string)
            .ok_or_else(|| violation("unknown-id", format!("no row of the ledger records the payment {reference}"))),
    }
}

/// Whether an action records when something happened (a session's clock-in or clock-out, the
/// day SK were earned): only these take a time of happening other than their recording.
pub fn says_when(action: ActionKind) -> bool {
    matches!(action, ActionKind::StartWork | ActionKind::StopWork | ActionKind::AwardSk)
}

/// Whether the rules would accept `intent` by `actor` recorded at `at` on top of `state`:
/// drafts it and applies the unsigned rows to a copy of the state (the signature is the only
/// thing not judged: the rows name one of the actor's valid keys and carry a blank
/// signature of the right shape). Front ends that advise
/// without signing (the bot) ask this.
pub fn trial(state: &State, actor: &str, at: Timestamp, intent: &Intent) -> Result<(), Violation> {
    let draft = draft(state, actor, at, intent)?;
    let key = state.valid_keys_of(actor).first().map(|k| k.to_string()).unwrap_or_default();
    let blank = crate::sign::encode_signature(&[0; 64]);
    let mut trial = state.clone();
    for entry in &draft.entries {
        let values: Vec<(&str, &str)> = entry.values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut row = crate::ledger::row::Row::draft(entry.table, trial.last_seq + 1, at, actor, entry.action.name(), &values)
            .map_err(|e| violation("malformed-value", e))?;
        row.key = key.clone();
        row.signature = blank.clone();
        super::apply(&mut trial, &row, Some(at))?;
    }
    Ok(())
}

/// The rows `actor` writes for `intent` on top of `state`; `happened` is when it happened
/// (for actions that [`says_when`]; the recording time for the others).
pub fn draft(state: &State, actor: &str, happened: Timestamp, intent: &Intent) -> Result<Draft, Violation> {
    use ActionKind as A;
    let one = |action: ActionKind, values: &[(&'static str, &str)]| Ok(vec![Entry::new(action, values)]);
    let entries = match intent {
        Intent::RegisterSmartup { name, public_key } => one(
            A::RegisterSmartup,
            &[
                ("subject", name),
                ("reference", &state.policy_reference),
                ("public_key", public_key),
            ],
        ),
        Intent::BootstrapTeams { teams } => Ok(teams
            .iter()
            .map(|(id, name)| Entry::new(A::BootstrapTeams, &[("team", id), ("name", name)]))
            .collect()),
        Intent::CreateOwner {
            owner,
            license,
            public_key,
            payment,
            note,
        } => {
            let payment = paid_by(state, payment.as_ref())?;
            let mut out = vec![Entry::new(
                A::CreateOwner,
                &[("owner", owner), ("license", license), ("payment", &payment), ("note", note)],
            )];
            if let Some(key) = public_key {
                out.push(Entry::new(A::RegisterKey, &[("owner", owner), ("public_key", key)]));
            }
            Ok(out)
        }
        Intent::ChangeLicense {
            owner,
            license,
            payment,
            note,
        } => {
            let payment = paid_by(state, payment.as_ref())?;
            one(
                A::ChangeLicense,
                &[("owner", owner), ("license", license), ("payment", &payment), ("note", note)],
            )
        }
        Intent::Invite {
            license,
            invitation_key,
            payment,
            note,
        } => {
            let payment = paid_by(state, payment.as_ref())?;
            let expires = happened
                .plus(state.policy.onboarding.invitation_days * crate::time::DAY)
                .to_string();
            one(
                A::Invite,
                &[
                    ("license", license),
                    ("invitation_key", invitation_key),
                    ("expires", &expires),
                    ("payment", &payment),
                    ("note", note),
                ],
            )
        }
        Intent::RegisterKey { owner, public_key, note } => {
            one(A::RegisterKey, &[("owner", owner), ("public_key", public_key), ("note", note)])
        }
        Intent::RotateKey {
            owner,
            revokes,
            public_key,
            note,
        } => one(
            A::RotateKey,
            &[("owner", owner), ("public_key", public_key), ("revokes", revokes), ("note", note)],
        ),
        Intent::RevokeKey { owner, fingerprint, note } => one(A::RevokeKey, &[("owner", owner), ("revokes", fingerprint), ("note", note)]),
        Intent::RequestRecovery {
            owner,
            public_key,
            revokes,
            note,
        } => {
            let revokes = if revokes.is_empty() && public_key.is_some() {
                state.valid_keys_of(owner).join(" ")
            } else {
                revokes.join(" ")
            };
            let key = public_key.as_deref().unwrap_or("");
            one(
                A::RequestRecovery,
                &[("owner", owner), ("public_key", key), ("revokes", &revokes), ("note", note)],
            )
        }
        Intent::ConfirmRecovery { request, note } => Ok(vec![recovery(state, A::ConfirmRecovery, *request, note)]),
        Intent::CancelRecovery { request, note } => Ok(vec![recovery(state, A::CancelRecovery, *request, note)]),
        Intent::CompleteRecovery { request, note } => Ok(vec![recovery(state, A::CompleteRecovery, *request, note)]),
        Intent::AssignRole(change) => role(state, A::AssignRole, change).map(|e| vec![e]),
        Intent::SetRole(change) => role(state, A::SetRole, change).map(|e| vec![e]),
        Intent::CreateObjective {
            objective,
            team,
            title,
            note,
        } => one(
            A::CreateObjective,
            &[("objective", objective), ("team", team), ("title", title), ("note", note)],
        ),
        Intent::CreateTask {
            task,
            objective,
            title,
            size,
            phase,
        } => {
            let serves = state
                .objectives
                .get(&identity(objective, IdKind::Objective)?)
                .ok_or_else(|| violation("unknown-id", format!("objective {objective} does not exist")))?;
            let base = state
                .policy
                .size_budget(size)
                .ok_or_else(|| violation("budget", format!("{size:?} is not a size of the policy: {}", sizes(&state.policy))))?;
            let multiplier = state.policy.phases.get(phase).ok_or_else(|| {
                let known: Vec<&str> = state.policy.phases.keys().map(String::as_str).collect();
                violation("budget", format!("{phase:?} is not a phase of the policy: {}", known.join(", ")))
            })?;
            let budget = base.times(multiplier.0).to_string();
            one(
                A::CreateTask,
                &[
                    ("task", task),
                    ("objective", objective),
                    ("team", &serves.team),
                    ("title", title),
                    ("size", size),
                    ("phase", phase),
                    ("budget", &budget),
                ],
            )
        }
        Intent::AssignTask { task, attacker, defender } => {
            one(A::AssignTask, &[("task", task), ("attacker", attacker), ("defender", defender)])
        }
        Intent::StartTask { task } => {
            let t = find_task(state, task)?;
            ensure(t.state == TaskState::Assigned, "task-state", || {
                format!("task {} is {}; start-task needs it assigned", t.id, t.state.word())
            })?;
            let (a, d) = (t.attacker.clone().unwrap_or_default(), t.defender.clone().unwrap_or_default());
            one(A::StartTask, &[("task", task), ("attacker", &a), ("defender", &d)])
        }
        Intent::StartWork { task } => {
            let session = (state.last_seq + 1).to_string();
            one(
                A::StartWork,
                &[
                    ("session", &session),
                    ("task", task),
                    ("owner", actor),
                    ("happened_at", &happened.to_string()),
                ],
            )
        }
        Intent::StopWork => stop_work(state, actor, happened),
        Intent::AssessWork { task, scores, share, note } => assessment(state, task, scores, *share, note).map(|e| vec![e]),
        Intent::ApprovePendingSc { task, note } => one(A::ApprovePendingSc, &[("task", task), ("note", note)]),
        Intent::ObjectPendingSc { task, note } => one(A::ObjectPendingSc, &[("task", task), ("note", note)]),
        Intent::ResolveObjection { task, decision, note } => {
            one(A::ResolveObjection, &[("task", task), ("decision", decision), ("note", note)])
        }
        Intent::ValidatePendingSc {
            task,
            attacker_sc,
            defender_sc,
            note,
        } => {
            let t = find_task(state, task)?;
            let pending = t.pending.as_ref().filter(|_| t.state == TaskState::Assessed).ok_or_else(|| {
                violation(
                    "task-state",
                    format!("task {} has no pending SC to validate (it is {})", t.id, t.state.word()),
                )
            })?;
            let a = attacker_sc.unwrap_or(pending.attacker_left).to_string();
            let d = defender_sc.unwrap_or(pending.defender_left).to_string();
            one(
                A::ValidatePendingSc,
                &[("task", task), ("attacker_sc", &a), ("defender_sc", &d), ("note", note)],
            )
        }
        Intent::DepositEur {
            amount,
            gross,
            reason,
            from,
            reference,
            note,
        } => one(
            A::DepositEur,
            &[
                ("owner", from.as_deref().unwrap_or("")),
                ("currency", "EUR"),
                ("amount", &amount.to_string()),
                ("gross", &gross.map(|g| g.to_string()).unwrap_or_default()),
                ("reason", reason),
                ("reference", reference),
                ("note", note),
            ],
        ),
        Intent::RefundEur {
            refunds,
            amount,
            reason,
            reference,
            note,
        } => {
            let refunds = paid_by(state, Some(refunds))?;
            one(
                A::RefundEur,
                &[
                    ("currency", "EUR"),
                    ("amount", &amount.to_string()),
                    ("reason", reason),
                    ("reference", reference),
                    ("refunds", &refunds),
                    ("note", note),
                ],
            )
        }
        Intent::PayoutSc { owner, amount, note } => one(
            A::PayoutSc,
            &[
                ("owner", owner),
                ("currency", "SC"),
                ("amount", &amount.to_string()),
                ("note", note),
            ],
        ),
        Intent::AwardSk {
            owner,
            reason,
            earned_on,
            note,
        } => {
            let amount = state.policy.sk.awards.get(reason).ok_or_else(|| {
                let known: Vec<&str> = state.policy.sk.awards.keys().map(String::as_str).collect();
                violation(
                    "malformed-value",
                    format!("{reason:?} is not an SK reason of the policy: {}", known.join(", ")),
                )
            })?;
            let on = earned_on.clone().unwrap_or_else(|| format_date(happened.day()));
            one(
                A::AwardSk,
                &[
                    ("owner", owner),
                    ("currency", "SK"),
                    ("amount", &amount.0.to_string()),
                    ("reason", reason),
                    ("earned_on", &on),
                    ("note", note),
                ],
            )
        }
        Intent::ImportLegacy(r) => one(
            A::ImportLegacy,
            &[
                ("source", &r.source),
                ("source_line", &r.line.to_string()),
                ("happened_at", &r.happened_at.to_string()),
                ("kind", &r.kind),
                ("owner", &r.owner),
                ("currency", &r.currency),
                ("amount", &r.amount.to_string()),
                ("reference", &r.reference),
                ("note", &r.note),
            ],
        ),
        Intent::LinkMatrix { matrix_user, code_hash } => one(
            A::LinkMatrix,
            &[("matrix_user", matrix_user), ("code_hash", code_hash), ("note", "")],
        ),
        Intent::Propose(p) => governance::propose(state, p),
        Intent::Object { proposal, note } => governance::object(state, *proposal, note),
        Intent::Vote { proposal, choice, note } => governance::vote(state, *proposal, *choice, note),
        Intent::CloseProposal { proposal, note } => governance::close(state, *proposal, note),
        Intent::ReleaseTranche {
            tranche,
            amount,
            proposal,
            note,
        } => governance::release_tranche(state, tranche, *amount, *proposal, note),
        Intent::AmendPolicy { policy, note } => {
            let text = std::str::from_utf8(policy).map_err(|_| violation("policy", "the new policy is not UTF-8 text"))?;
            let parsed = Policy::parse(text).map_err(|e| violation("policy", format!("the new policy: {e}")))?;
            ensure(parsed.keeps_identity_of(&state.policy), "policy", || {
                "the new policy must keep [ledger] id, namespace, format and segment_rows as they are".to_string()
            })?;
            let reference = file_reference(policy);
            ensure(reference != state.policy_reference, "policy", || {
                "the new policy is the policy in force, byte for byte: there is nothing to amend".to_string()
            })?;
            return Ok(Draft {
                entries: vec![Entry::new(
                    A::AmendPolicy,
                    &[("subject", crate::ledger::POLICY_FILE), ("reference", &reference), ("note", note)],
                )],
                policy: Some(policy.clone()),
            });
        }
    }?;
    Ok(Draft { entries, policy: None })
}

fn identity(id: &str, kind: IdKind) -> Result<String, Violation> {
    numeric_identity(id, kind).map_err(|e| violation("malformed-value", e))
}

fn find_task<'s>(state: &'s State, task: &str) -> Result<&'s Task, Violation> {
    state
        .tasks
        .get(&identity(task, IdKind::Task)?)
        .ok_or_else(|| violation("unknown-id", format!("task {task} does not exist")))
}

fn sizes(policy: &Policy) -> String {
    let names: Vec<&str> = policy
        .budgets
        .sizes
        .keys()
        .chain(policy.budgets.specials.keys())
        .map(String::as_str)
        .collect();
    names.join(", ")
}

/// The clock row closing the actor's open session, and its session log.
fn stop_work(state: &State, actor: &str, happened: Timestamp) -> Result<Vec<Entry>, Violation> {
    let open = state
        .sessions
        .get(actor)
        .ok_or_else(|| violation("session", format!("{actor} has no open work session to stop")))?;
    let task = state.tasks.get(&open.task).map_or(open.task.clone(), |t| t.id.clone());
    let session = open.session.to_string();
    let seconds = (happened.0 - open.started.0).to_string();
    let at = happened.to_string();
    let clock = Entry::new(
        ActionKind::StopWork,
        &[("session", &session), ("task", &task), ("owner", actor), ("happened_at", &at)],
    );
    let mut log = Entry::new(
        ActionKind::StopWork,
        &[
            ("session", &session),
            ("task", &task),
            ("owner", actor),
            ("started", &open.started.to_string()),
            ("stopped", &at),
            ("seconds", &seconds),
        ],
    );
    log.table = table_id("session_logs").unwrap_or_default();
    Ok(vec![clock, log])
}

/// A row about an open recovery; completion repeats what the request and confirmation said.
/// A request that is not open leaves the columns empty, for the rules to refuse.
fn recovery(state: &State, action: ActionKind, request: u64, note: &str) -> Entry {
    let open = state.recoveries.get(&request);
    let seq = request.to_string();
    let owner = open.map_or("", |r| r.owner.as_str());
    let revokes = open.map(|r| r.revokes.join(" ")).unwrap_or_default();
    let confirmation = open
        .and_then(|r| r.confirmation.as_ref())
        .map(|c| c.seq.to_string())
        .unwrap_or_default();
    let mut values = vec![("owner", owner), ("request", seq.as_str()), ("note", note)];
    if action == ActionKind::CompleteRecovery {
        values.push(("public_key", open.and_then(|r| r.public_key.as_deref()).unwrap_or("")));
        values.push(("revokes", &revokes));
        values.push(("confirmation", &confirmation));
    }
    Entry::new(action, &values)
}

fn role(state: &State, action: ActionKind, change: &RoleChange) -> Result<Entry, Violation> {
    let objective = change.role.starts_with("5_");
    let identity = identity(&change.role, if objective { IdKind::Objective } else { IdKind::Role })?;
    let team = match (&change.team, objective) {
        (Some(team), _) => team.clone(),
        (None, true) => state
            .objectives
            .get(&identity)
            .map(|o| o.team.clone())
            .ok_or_else(|| violation("unknown-id", format!("objective {identity} does not exist")))?,
        (None, false) => state
            .roles
            .get(&identity)
            .map(|r| r.team.clone())
            .ok_or_else(|| violation("unknown-id", format!("role {} is new: name its team (--team)", change.role)))?,
    };
    let position = match numbers(&identity).as_slice() {
        [4, 1, _] => "captain",
        [4, 2, _] => "senior",
        [4, 3, _] => "junior",
        [5, _, _] => "mission_leader",
        _ => {
            return Err(violation(
                "malformed-value",
                format!(
                    "{} is not a role id (4_1_Y captain, 4_2_Y senior, 4_3_Y junior, 5_X_Y mission leader)",
                    change.role
                ),
            ))
        }
    };
    let owner = change.owner.as_deref().unwrap_or("");
    Ok(Entry::new(
        action,
        &[
            ("role", &change.role),
            ("owner", owner),
            ("team", &team),
            ("position", position),
            ("note", &change.note),
        ],
    ))
}

fn assessment(state: &State, task: &str, scores: &[u32; 3], share: Option<Amount>, note: &str) -> Result<Entry, Violation> {
    let t = find_task(state, task)?;
    ensure(scores.iter().all(|s| (1..=10).contains(s)), "assessment", || {
        "scores are three numbers from 1 to 10: attacker effort, defender learning, collaboration (e.g. 9,8,8)".to_string()
    })?;
    let total: u32 = scores.iter().sum();
    let band = state
        .policy
        .band(total)
        .ok_or_else(|| violation("assessment", format!("no assessment band of the policy covers a total of {total}")))?;
    // Default share: the total's place in its band, linearly between the band's bounds.
    let share = share.unwrap_or_else(|| {
        let (lo, hi) = (band.min_percent.0, band.max_percent.0);
        let steps = (band.max_total - band.min_total).max(1) as i64;
        Amount(lo.0 + (hi.0 - lo.0) * (total - band.min_total) as i64 / steps)
    });
    let pending = t.budget.percent(share);
    let attacker = pending.percent(state.policy.adm.attacker_percent.0);
    let defender = pending.minus(attacker);
    let [a, d, c] = scores.map(|s| s.to_string());
    Ok(Entry::new(
        ActionKind::AssessWork,
        &[
            ("task", task),
            ("attacker_score", &a),
            ("defender_score", &d),
            ("collaboration_score", &c),
            ("share", &share.to_string()),
            ("attacker_sc", &attacker.to_string()),
            ("defender_sc", &defender.to_string()),
            ("note", note),
        ],
    ))
}
