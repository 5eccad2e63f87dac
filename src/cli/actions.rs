//! One subcommand per ledger action, named as the action (`create-task`, `start-work`, ...).
//! Each turns its arguments and the current state into rows, which are signed, checked by the
//! rules and committed (never pushed).

use super::context::{entry_time, happened_at, print_rows, record, Entry, Ledger};
use super::identity;
use super::{Global, Refused};
use crate::ledger::ids::{numeric_identity, IdKind};
use crate::ledger::policy::{file_reference, Policy};
use crate::ledger::schema::{table_id, table_of_action};
use crate::money::Amount;
use crate::repo::write::RootFile;
use crate::rules::state::TaskState;
use crate::rules::violation;
use crate::rules::State;
use crate::sign::PublicKey;
use crate::time::{format_date, Timestamp};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// The ledger actions.
#[derive(Subcommand, Clone, Debug)]
pub enum Action {
    /// Create teams (founder role): --team 3_2_design_team=Design, repeatable
    BootstrapTeams {
        /// ID=NAME of a team
        #[arg(long = "team", value_name = "ID=NAME", required = true)]
        teams: Vec<String>,
    },
    /// Add an owner to the Book of Owners (captains), with their first key
    CreateOwner {
        /// The owner's handle
        owner: String,
        /// campaign, watch, work or organizational
        #[arg(long)]
        license: String,
        #[command(flatten)]
        key: KeyArg,
        #[command(flatten)]
        payment: Payment,
        #[command(flatten)]
        note: Note,
    },
    /// Record a license change (leadership captains)
    ChangeLicense {
        /// The owner
        owner: String,
        /// The new license
        license: String,
        #[command(flatten)]
        payment: Payment,
        #[command(flatten)]
        note: Note,
    },
    /// Register an additional key of your own (or the first key of an owner you created)
    RegisterKey {
        /// The owner
        owner: String,
        #[command(flatten)]
        key: RequiredKeyArg,
        #[command(flatten)]
        note: Note,
    },
    /// Replace a key of yours by a new one in one row
    RotateKey {
        /// The owner
        owner: String,
        /// Fingerprint (SHA256:...) of the key to retire
        #[arg(long)]
        revokes: String,
        #[command(flatten)]
        key: RequiredKeyArg,
        #[command(flatten)]
        note: Note,
    },
    /// Revoke a key of yours from now on (someone else's: request-recovery)
    RevokeKey {
        /// The owner
        owner: String,
        /// Fingerprint (SHA256:...) of the key
        fingerprint: String,
        #[command(flatten)]
        note: Note,
    },
    /// Ask to recover an owner's lost or compromised keys (a captain of their team; for the
    /// founder or a leadership member, a leadership member); a second authority confirms
    RequestRecovery {
        /// The owner
        owner: String,
        #[command(flatten)]
        key: KeyArg,
        /// Fingerprint (SHA256:...) of a key it revokes, repeatable [default with --public-key:
        /// all the owner's valid keys]
        #[arg(long = "revokes", value_name = "FP")]
        revokes: Vec<String>,
        #[command(flatten)]
        note: Note,
    },
    /// Confirm a recovery as the second authority (not the one who asked); the owner's veto
    /// window starts
    ConfirmRecovery(RecoveryArgs),
    /// Cancel a recovery (the owner, with a valid key, or the one who asked) before it is completed
    CancelRecovery(RecoveryArgs),
    /// Carry out a confirmed recovery after the window (the one who asked or confirmed)
    CompleteRecovery(RecoveryArgs),
    /// Give a vacant role to an owner (4_1_Y captain, 4_2_Y senior, 4_3_Y junior, 5_X_Y mission leader)
    AssignRole(RoleArgs),
    /// Hand a role to a new holder, or vacate it when no owner is given
    SetRole(RoleArgs),
    /// Open an objective in a team (its captains)
    CreateObjective {
        /// 5_X_Y with an optional suffix
        objective: String,
        /// The team
        #[arg(long)]
        team: String,
        /// What it is for
        #[arg(long)]
        title: String,
        #[command(flatten)]
        note: Note,
    },
    /// Create a task under an objective (captains of its team); the budget follows size and phase
    CreateTask {
        /// 6_X_Y_Z with an optional suffix
        task: String,
        /// The objective it serves
        #[arg(long)]
        objective: String,
        /// What is to be done
        #[arg(long)]
        title: String,
        /// small, medium, large, complex, or a special budget
        #[arg(long)]
        size: String,
        /// validation, design, production or organisation
        #[arg(long)]
        phase: String,
    },
    /// Name a task's Attacker and Defender (its mission leader)
    AssignTask {
        /// The task
        task: String,
        /// Who executes (senior)
        #[arg(long)]
        attacker: String,
        /// Who oversees and learns (junior)
        #[arg(long)]
        defender: String,
    },
    /// Claim an assigned task (its Attacker)
    StartTask {
        /// The task
        task: String,
    },
    /// Clock in on a started task
    StartWork {
        /// The task
        task: String,
    },
    /// Clock out of your open session (writes the clock row and the session log)
    StopWork,
    /// Score a task's work (its mission leader): --scores ATTACKER,DEFENDER,COLLABORATION
    AssessWork {
        /// The task
        task: String,
        /// Three scores from 1 to 10
        #[arg(long, value_delimiter = ',', num_args = 1..=3, required = true)]
        scores: Vec<u32>,
        /// Payout share in percent [default: placed in the band by the total]
        #[arg(long)]
        share: Option<Amount>,
        #[command(flatten)]
        note: Note,
    },
    /// Approve a task's pending SC (needed below 60% share and for large awards)
    ApprovePendingSc {
        /// The task
        task: String,
        #[command(flatten)]
        note: Note,
    },
    /// Object to a task's pending SC during the lazy-consensus window
    ObjectPendingSc {
        /// The task
        task: String,
        /// Why
        #[arg(long)]
        reason: String,
    },
    /// Rule on open objections (a captain of the team): sustained or dismissed
    ResolveObjection {
        /// The task
        task: String,
        /// sustained (the assessment is void) or dismissed
        #[arg(long)]
        decision: String,
        #[command(flatten)]
        note: Note,
    },
    /// Award pending SC after the window (a captain of the team who is not paid by it)
    ValidatePendingSc {
        /// The task
        task: String,
        /// Attacker's SC to validate now [default: all still pending]
        #[arg(long)]
        attacker_sc: Option<Amount>,
        /// Defender's SC to validate now [default: all still pending]
        #[arg(long)]
        defender_sc: Option<Amount>,
        #[command(flatten)]
        note: Note,
    },
    /// Record EUR received by the treasury (leadership captains)
    DepositEur {
        /// Amount in EUR
        amount: Amount,
        /// license, donation, ...
        #[arg(long)]
        reason: String,
        /// The paying owner, if any
        #[arg(long)]
        from: Option<String>,
        #[command(flatten)]
        note: Note,
    },
    /// Pay an owner's SC out in EUR (leadership captains)
    PayoutSc {
        /// The owner
        owner: String,
        /// SC to pay out (1 SC = 1 EUR)
        amount: Amount,
        #[command(flatten)]
        note: Note,
    },
    /// Award Social Karma for a reason of the policy (captains)
    AwardSk {
        /// The owner
        owner: String,
        /// review, bug_find, documentation, mentoring, conflict_resolution, governance, ...
        reason: String,
        /// The day the work was done [default: today]
        #[arg(long, value_name = "YYYY-MM-DD")]
        earned_on: Option<String>,
        #[command(flatten)]
        note: Note,
    },
    /// Replace ledger.toml by FILE with a signed amendment (leadership captains)
    AmendPolicy {
        /// The new policy file
        file: PathBuf,
        #[command(flatten)]
        note: Note,
    },
}

impl Action {
    /// Whether the action says when something happened (a session's clock-in or clock-out,
    /// the day SK were earned), which `--at` sets.
    pub fn says_when(&self) -> bool {
        matches!(self, Action::StartWork { .. } | Action::StopWork | Action::AwardSk { .. })
    }
}

/// `--note`.
#[derive(Args, Clone, Debug, Default)]
pub struct Note {
    /// Free text for the row's note column
    #[arg(long, default_value = "")]
    pub note: String,
}

/// An optional public key for a new owner.
#[derive(Args, Clone, Debug, Default)]
pub struct KeyArg {
    /// Their public key file (ssh-ed25519 ....pub)
    #[arg(long = "public-key", value_name = "FILE")]
    pub public_key: Option<PathBuf>,
}

/// `--payment SEQ`.
#[derive(Args, Clone, Debug, Default)]
pub struct Payment {
    /// The deposit-eur row (its seq) that paid the license [needed outside the bootstrap phase]
    #[arg(long, value_name = "SEQ")]
    pub payment: Option<u64>,
}

/// Arguments of confirm-, cancel- and complete-recovery.
#[derive(Args, Clone, Debug)]
pub struct RecoveryArgs {
    /// The seq of the request-recovery row
    pub request: u64,
    #[command(flatten)]
    pub note: Note,
}

/// A required public key.
#[derive(Args, Clone, Debug)]
pub struct RequiredKeyArg {
    /// The public key file (ssh-ed25519 ....pub)
    #[arg(long = "public-key", value_name = "FILE")]
    pub public_key: PathBuf,
}

/// Arguments of assign-role and set-role.
#[derive(Args, Clone, Debug)]
pub struct RoleArgs {
    /// The role id
    pub role: String,
    /// The holder (set-role without it vacates the role)
    pub owner: Option<String>,
    /// The team [default: the objective's team for 5_X_Y, the role's current team otherwise]
    #[arg(long)]
    pub team: Option<String>,
    #[command(flatten)]
    pub note: Note,
}

/// Runs an action subcommand.
pub fn run(global: &Global, action: &Action) -> Result<()> {
    let mut ledger = Ledger::open(global)?;
    let signer = identity::resolve(global, Some(&ledger.repo))?;
    let at = entry_time(Some(&ledger.state))?;
    let happened = happened_at(global, action.says_when(), at)?;
    let (entries, policy_file) = entries(&ledger.state, &signer.handle, happened, action)?;
    let files: Vec<RootFile> = policy_file
        .iter()
        .map(|bytes| RootFile {
            name: crate::ledger::POLICY_FILE,
            bytes,
        })
        .collect();
    let rows = record(&mut ledger, &signer, at, &entries, &files)?;
    print_rows(global, &rows);
    Ok(())
}

fn entry(action: &'static str, values: &[(&'static str, &str)]) -> Entry {
    let table = table_of_action(action).unwrap_or_default();
    Entry {
        table,
        action,
        values: values.iter().map(|(k, v)| (*k, v.to_string())).collect(),
    }
}

fn read_public_key(path: &PathBuf) -> Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read public key {}", path.display()))?;
    Ok(PublicKey::parse_openssh(&text)?.to_openssh())
}

fn identity(id: &str, kind: IdKind) -> Result<String> {
    numeric_identity(id, kind).map_err(|e| anyhow!(e))
}

/// The rows an action writes, given the state, when it happened (`at`: a session's clock-in
/// or clock-out, the day SK were earned; the recording time for other actions), and the new
/// policy file for amend-policy.
pub fn entries(state: &State, actor: &str, at: Timestamp, action: &Action) -> Result<(Vec<Entry>, Option<Vec<u8>>)> {
    let e = match action {
        Action::BootstrapTeams { teams } => {
            let mut out = Vec::new();
            for team in teams {
                let (id, name) = team
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--team {team:?}: write ID=NAME, like 3_2_design_team=Design"))?;
                out.push(entry("bootstrap-teams", &[("team", id), ("name", name)]));
            }
            out
        }
        Action::CreateOwner {
            owner,
            license,
            key,
            payment,
            note,
        } => {
            let mut out = vec![entry(
                "create-owner",
                &[
                    ("owner", owner),
                    ("license", license),
                    ("payment", &payment.seq()),
                    ("note", &note.note),
                ],
            )];
            if let Some(path) = &key.public_key {
                out.push(entry("register-key", &[("owner", owner), ("public_key", &read_public_key(path)?)]));
            }
            out
        }
        Action::ChangeLicense {
            owner,
            license,
            payment,
            note,
        } => vec![entry(
            "change-license",
            &[
                ("owner", owner),
                ("license", license),
                ("payment", &payment.seq()),
                ("note", &note.note),
            ],
        )],
        Action::RegisterKey { owner, key, note } => vec![entry(
            "register-key",
            &[
                ("owner", owner),
                ("public_key", &read_public_key(&key.public_key)?),
                ("note", &note.note),
            ],
        )],
        Action::RotateKey { owner, revokes, key, note } => {
            vec![entry(
                "rotate-key",
                &[
                    ("owner", owner),
                    ("public_key", &read_public_key(&key.public_key)?),
                    ("revokes", revokes),
                    ("note", &note.note),
                ],
            )]
        }
        Action::RevokeKey { owner, fingerprint, note } => vec![entry(
            "revoke-key",
            &[("owner", owner), ("revokes", fingerprint), ("note", &note.note)],
        )],
        Action::RequestRecovery { owner, key, revokes, note } => {
            let public_key = match &key.public_key {
                Some(path) => read_public_key(path)?,
                None => String::new(),
            };
            let revokes = if revokes.is_empty() && key.public_key.is_some() {
                state.valid_keys_of(owner).join(" ")
            } else {
                revokes.join(" ")
            };
            vec![entry(
                "request-recovery",
                &[
                    ("owner", owner),
                    ("public_key", &public_key),
                    ("revokes", &revokes),
                    ("note", &note.note),
                ],
            )]
        }
        Action::ConfirmRecovery(args) => vec![recovery_entry(state, "confirm-recovery", args)],
        Action::CancelRecovery(args) => vec![recovery_entry(state, "cancel-recovery", args)],
        Action::CompleteRecovery(args) => vec![recovery_entry(state, "complete-recovery", args)],
        Action::AssignRole(args) => vec![role_entry(state, "assign-role", args)?],
        Action::SetRole(args) => vec![role_entry(state, "set-role", args)?],
        Action::CreateObjective {
            objective,
            team,
            title,
            note,
        } => {
            vec![entry(
                "create-objective",
                &[("objective", objective), ("team", team), ("title", title), ("note", &note.note)],
            )]
        }
        Action::CreateTask {
            task,
            objective,
            title,
            size,
            phase,
        } => {
            let o = state
                .objectives
                .get(&identity(objective, IdKind::Objective)?)
                .ok_or_else(|| anyhow!("objective {objective} does not exist"))?;
            let base = state
                .policy
                .size_budget(size)
                .ok_or_else(|| anyhow!("{size:?} is not a size of the policy ({})", sizes(&state.policy)))?;
            let multiplier = state
                .policy
                .phases
                .get(phase)
                .ok_or_else(|| anyhow!("{phase:?} is not a phase of the policy"))?
                .0;
            let budget = base.times(multiplier).to_string();
            vec![entry(
                "create-task",
                &[
                    ("task", task),
                    ("objective", objective),
                    ("team", &o.team),
                    ("title", title),
                    ("size", size),
                    ("phase", phase),
                    ("budget", &budget),
                ],
            )]
        }
        Action::AssignTask { task, attacker, defender } => vec![entry(
            "assign-task",
            &[("task", task), ("attacker", attacker), ("defender", defender)],
        )],
        Action::StartTask { task } => {
            let t = find_task(state, task)?;
            let (a, d) = (t.attacker.clone().unwrap_or_default(), t.defender.clone().unwrap_or_default());
            vec![entry("start-task", &[("task", task), ("attacker", &a), ("defender", &d)])]
        }
        Action::StartWork { task } => {
            let session = (state.last_seq + 1).to_string();
            let at = at.to_string();
            vec![entry(
                "start-work",
                &[("session", &session), ("task", task), ("owner", actor), ("happened_at", &at)],
            )]
        }
        Action::StopWork => {
            let open = state
                .sessions
                .get(actor)
                .ok_or_else(|| anyhow!("{actor} has no open work session"))?;
            let task = state.tasks.get(&open.task).map_or(open.task.clone(), |t| t.id.clone());
            let session = open.session.to_string();
            let seconds = (at.0 - open.started.0).to_string();
            let mut log = entry(
                "stop-work",
                &[
                    ("session", &session),
                    ("task", &task),
                    ("owner", actor),
                    ("started", &open.started.to_string()),
                    ("stopped", &at.to_string()),
                    ("seconds", &seconds),
                ],
            );
            log.table = table_id("session_logs").unwrap_or_default();
            let at = at.to_string();
            let clock = entry(
                "stop-work",
                &[("session", &session), ("task", &task), ("owner", actor), ("happened_at", &at)],
            );
            vec![clock, log]
        }
        Action::AssessWork { task, scores, share, note } => vec![assessment(state, task, scores, *share, &note.note)?],
        Action::ApprovePendingSc { task, note } => vec![entry("approve-pending-sc", &[("task", task), ("note", &note.note)])],
        Action::ObjectPendingSc { task, reason } => vec![entry("object-pending-sc", &[("task", task), ("note", reason)])],
        Action::ResolveObjection { task, decision, note } => vec![entry(
            "resolve-objection",
            &[("task", task), ("decision", decision), ("note", &note.note)],
        )],
        Action::ValidatePendingSc {
            task,
            attacker_sc,
            defender_sc,
            note,
        } => {
            let t = find_task(state, task)?;
            let pending = t
                .pending
                .as_ref()
                .filter(|_| t.state == TaskState::Assessed)
                .ok_or_else(|| anyhow!("task {task} has no pending SC (it is {})", t.state.word()))?;
            let a = attacker_sc.unwrap_or(pending.attacker_left).to_string();
            let d = defender_sc.unwrap_or(pending.defender_left).to_string();
            vec![entry(
                "validate-pending-sc",
                &[("task", task), ("attacker_sc", &a), ("defender_sc", &d), ("note", &note.note)],
            )]
        }
        Action::DepositEur {
            amount,
            reason,
            from,
            note,
        } => {
            let from = from.clone().unwrap_or_default();
            vec![entry(
                "deposit-eur",
                &[
                    ("owner", &from),
                    ("currency", "EUR"),
                    ("amount", &amount.to_string()),
                    ("reason", reason),
                    ("note", &note.note),
                ],
            )]
        }
        Action::PayoutSc { owner, amount, note } => vec![entry(
            "payout-sc",
            &[
                ("owner", owner),
                ("currency", "SC"),
                ("amount", &amount.to_string()),
                ("note", &note.note),
            ],
        )],
        Action::AwardSk {
            owner,
            reason,
            earned_on,
            note,
        } => {
            let amount = state.policy.sk.awards.get(reason).map(|d| d.0.to_string()).unwrap_or_default();
            let on = earned_on.clone().unwrap_or_else(|| format_date(at.day()));
            vec![entry(
                "award-sk",
                &[
                    ("owner", owner),
                    ("currency", "SK"),
                    ("amount", &amount),
                    ("reason", reason),
                    ("earned_on", &on),
                    ("note", &note.note),
                ],
            )]
        }
        Action::AmendPolicy { file, note } => {
            let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let text = std::str::from_utf8(&bytes).context("the new policy is not UTF-8")?;
            let policy = Policy::parse(text)?;
            if !policy.keeps_identity_of(&state.policy) {
                bail!("the new policy must keep [ledger] id, namespace, format and segment_rows as they are");
            }
            let reference = file_reference(&bytes);
            return Ok((
                vec![entry(
                    "amend-policy",
                    &[
                        ("subject", crate::ledger::POLICY_FILE),
                        ("reference", &reference),
                        ("note", &note.note),
                    ],
                )],
                Some(bytes),
            ));
        }
    };
    Ok((e, None))
}

fn sizes(policy: &Policy) -> String {
    policy
        .budgets
        .sizes
        .keys()
        .chain(policy.budgets.specials.keys())
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
}

fn find_task<'s>(state: &'s State, task: &str) -> Result<&'s crate::rules::state::Task> {
    state
        .tasks
        .get(&identity(task, IdKind::Task)?)
        .ok_or_else(|| Refused(violation("unknown-id", format!("task {task} does not exist"))).into())
}

impl Payment {
    /// The payment column: the seq, or empty.
    fn seq(&self) -> String {
        self.payment.map(|seq| seq.to_string()).unwrap_or_default()
    }
}

/// A row about an open recovery; completion repeats what the request and confirmation said.
/// A request that is not open leaves the columns empty, for the rules to refuse.
fn recovery_entry(state: &State, action: &'static str, args: &RecoveryArgs) -> Entry {
    let recovery = state.recoveries.get(&args.request);
    let request = args.request.to_string();
    let owner = recovery.map_or("", |r| r.owner.as_str());
    let revokes = recovery.map(|r| r.revokes.join(" ")).unwrap_or_default();
    let confirmation = recovery
        .and_then(|r| r.confirmation.as_ref())
        .map(|c| c.seq.to_string())
        .unwrap_or_default();
    let mut values = vec![("owner", owner), ("request", &request), ("note", &args.note.note)];
    if action == "complete-recovery" {
        values.push(("public_key", recovery.and_then(|r| r.public_key.as_deref()).unwrap_or("")));
        values.push(("revokes", &revokes));
        values.push(("confirmation", &confirmation));
    }
    entry(action, &values)
}

fn role_entry(state: &State, action: &'static str, args: &RoleArgs) -> Result<Entry> {
    let objective = args.role.starts_with("5_");
    let identity = identity(&args.role, if objective { IdKind::Objective } else { IdKind::Role })?;
    let team = match (&args.team, objective) {
        (Some(team), _) => team.clone(),
        (None, true) => state
            .objectives
            .get(&identity)
            .map(|o| o.team.clone())
            .ok_or_else(|| anyhow!("objective {identity} does not exist"))?,
        (None, false) => state
            .roles
            .get(&identity)
            .map(|r| r.team.clone())
            .ok_or_else(|| anyhow!("role {} is new: give its team with --team", args.role))?,
    };
    let position = match crate::ledger::ids::numbers(&identity).as_slice() {
        [4, 1, _] => "captain",
        [4, 2, _] => "senior",
        [4, 3, _] => "junior",
        [5, _, _] => "mission_leader",
        _ => bail!(
            "{} is not a role id (4_1_Y captain, 4_2_Y senior, 4_3_Y junior, 5_X_Y mission leader)",
            args.role
        ),
    };
    let owner = args.owner.clone().unwrap_or_default();
    Ok(entry(
        action,
        &[
            ("role", &args.role),
            ("owner", &owner),
            ("team", &team),
            ("position", position),
            ("note", &args.note.note),
        ],
    ))
}

fn assessment(state: &State, task: &str, scores: &[u32], share: Option<Amount>, note: &str) -> Result<Entry> {
    let t = find_task(state, task)?;
    if scores.len() != 3 || scores.iter().any(|s| !(1..=10).contains(s)) {
        bail!("--scores takes three scores from 1 to 10: attacker effort, defender learning, collaboration (e.g. 9,8,8)");
    }
    let total: u32 = scores.iter().sum();
    let band = state
        .policy
        .band(total)
        .ok_or_else(|| anyhow!("no assessment band covers a total of {total}"))?;
    // Default share: the total's place in its band, linearly between the band's bounds.
    let share = share.unwrap_or_else(|| {
        let (lo, hi) = (band.min_percent.0, band.max_percent.0);
        let steps = (band.max_total - band.min_total).max(1) as i64;
        Amount(lo.0 + (hi.0 - lo.0) * (total - band.min_total) as i64 / steps)
    });
    let pending = t.budget.percent(share);
    let attacker = pending.percent(state.policy.adm.attacker_percent.0);
    let defender = pending.minus(attacker);
    let s: Vec<String> = scores.iter().map(u32::to_string).collect();
    Ok(entry(
        "assess-work",
        &[
            ("task", task),
            ("attacker_score", &s[0]),
            ("defender_score", &s[1]),
            ("collaboration_score", &s[2]),
            ("share", &share.to_string()),
            ("attacker_sc", &attacker.to_string()),
            ("defender_sc", &defender.to_string()),
            ("note", note),
        ],
    ))
}
