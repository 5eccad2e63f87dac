//! One subcommand per ledger action, named as the action (`create-task`, `start-work`, ...).
//! Each turns its arguments into an [`Intent`] (reading the files it names), which the clerk
//! drafts, signs, checks with the rules and commits (never pushes). Shapes are checked here,
//! by clap: a malformed argument is a usage error (exit 2).

use super::context::{open, print_rows};
use super::decisions::ProposeArgs;
use super::exit::Usage;
use super::identity::{self, Scoped};
use super::Global;
use crate::money::Amount;
use crate::rules::draft::{Intent, PaidBy, RoleChange};
use crate::rules::governance::Choice;
use crate::sign::PublicKey;
use crate::time::Timestamp;
use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The ledger actions.
#[derive(Subcommand, Clone, Debug)]
pub enum Action {
    /// Create teams (founder role): --team 3_2_design_team=Design, repeatable
    BootstrapTeams {
        /// ID=NAME of a team
        #[arg(long = "team", value_name = "ID=NAME", required = true, value_parser = team_pair)]
        teams: Vec<(String, String)>,
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
        /// Three scores from 1 to 10: attacker effort, defender learning, collaboration
        #[arg(long, value_delimiter = ',', num_args = 1..=3, required = true, value_parser = clap::value_parser!(u32).range(1..=10))]
        scores: Vec<u32>,
        /// Payout share in percent [default: placed in the band by the total]
        #[arg(long, value_parser = positive_amount)]
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
        /// Why you object
        #[arg(long)]
        note: String,
    },
    /// Rule on open objections (a captain of the team): sustained or dismissed
    ResolveObjection {
        /// The task
        task: String,
        /// sustained (the assessment is void) or dismissed
        #[arg(long)]
        decision: Decision,
        #[command(flatten)]
        note: Note,
    },
    /// Award pending SC after the window (a captain of the team who is not paid by it)
    ValidatePendingSc {
        /// The task
        task: String,
        /// Attacker's SC to validate now [default: all still pending]
        #[arg(long, value_parser = positive_amount)]
        attacker_sc: Option<Amount>,
        /// Defender's SC to validate now [default: all still pending]
        #[arg(long, value_parser = positive_amount)]
        defender_sc: Option<Amount>,
        #[command(flatten)]
        note: Note,
    },
    /// Record EUR received by the treasury (leadership captains)
    DepositEur {
        /// Amount in EUR
        #[arg(allow_negative_numbers = true, value_parser = positive_amount)]
        amount: Amount,
        /// license, donation, ...
        #[arg(long)]
        reason: String,
        /// The paying owner, if any
        #[arg(long)]
        from: Option<String>,
        /// What the payer paid before fees, when more than AMOUNT (a license's price is checked against it)
        #[arg(long, value_parser = positive_amount)]
        gross: Option<Amount>,
        /// The payment's id outside the ledger (e.g. opencollective/<group>/<transaction>); recorded once
        #[arg(long, default_value = "")]
        reference: String,
        #[command(flatten)]
        note: Note,
    },
    /// Record that a deposit was given back (leadership captains): a compensating row
    RefundEur {
        /// The deposit-eur row (its seq) given back
        #[arg(long, value_name = "SEQ")]
        refunds: u64,
        /// Amount in EUR that left the treasury
        #[arg(allow_negative_numbers = true, value_parser = positive_amount)]
        amount: Amount,
        /// Why
        #[arg(long)]
        reason: String,
        /// The refund's id outside the ledger; recorded once
        #[arg(long, default_value = "")]
        reference: String,
        #[command(flatten)]
        note: Note,
    },
    /// Pay an owner's SC out in EUR (leadership captains)
    PayoutSc {
        /// The owner
        owner: String,
        /// SC to pay out (1 SC = 1 EUR)
        #[arg(allow_negative_numbers = true, value_parser = positive_amount)]
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
        /// The day the work was done [default: the day of --at, or today]
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
        earned_on: Option<String>,
        #[command(flatten)]
        note: Note,
    },
    /// Make a proposal: its numbers come from the policy in force (owners with the SK to propose)
    Propose(ProposeArgs),
    /// Object to a lazy-consensus proposal within its window; enough objections make it a vote
    Object {
        /// The proposal (the seq of its propose row)
        proposal: u64,
        /// Why
        #[arg(long)]
        note: String,
    },
    /// Vote yes, no or abstain while a vote runs; your latest vote counts
    Vote {
        /// The proposal (the seq of its propose row)
        proposal: u64,
        /// yes, no or abstain
        #[arg(value_parser = super::decisions::choice)]
        choice: Choice,
        #[command(flatten)]
        note: Note,
    },
    /// Close a proposal after its window, with the tally of its votes (anyone)
    CloseProposal {
        /// The proposal (the seq of its propose row)
        proposal: u64,
        #[command(flatten)]
        note: Note,
    },
    /// Release a tranche of a retrospective award once its trigger holds (not its recipient)
    ReleaseTranche {
        /// The tranche id of the policy's [[governance.tranches]]
        tranche: String,
        /// SC to release [default: all that is left]
        #[arg(long)]
        amount: Option<Amount>,
        /// The passed tranche-release proposal [default: the one waiting]
        #[arg(long, value_name = "SEQ")]
        proposal: Option<u64>,
        #[command(flatten)]
        note: Note,
    },
    /// Replace ledger.toml by FILE with a signed amendment (a passed policy-amendment proposal
    /// naming its hash; in the bootstrap phase also leadership captains)
    AmendPolicy {
        /// The new policy file
        file: PathBuf,
        #[command(flatten)]
        note: Note,
    },
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

/// How a captain rules on objections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Decision {
    /// The objection stands: the assessment is void.
    Sustained,
    /// The objection is set aside.
    Dismissed,
}

fn team_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((id, name)) if !id.is_empty() && !name.is_empty() => Ok((id.to_string(), name.to_string())),
        _ => Err("write ID=NAME, like 3_2_design_team=Design".to_string()),
    }
}

fn three_scores(scores: &[u32]) -> Result<[u32; 3]> {
    scores.try_into().map_err(|_| {
        let words = format!(
            "--scores takes three scores from 1 to 10 (attacker effort, defender learning, collaboration), like 9,8,8; got {}",
            scores.len()
        );
        Usage(words).into()
    })
}

fn positive_amount(text: &str) -> Result<Amount, String> {
    match text.parse::<Amount>() {
        Ok(amount) if amount > Amount::ZERO => Ok(amount),
        Ok(_) => Err("an amount is more than zero, like 12.50".to_string()),
        Err(_) => Err("an amount has at most two decimals, like 12.50".to_string()),
    }
}

fn date(text: &str) -> Result<String, String> {
    crate::time::parse_date(text)
        .map(|_| text.to_string())
        .ok_or_else(|| "a day is written YYYY-MM-DD, like 2026-11-30".to_string())
}

fn public_key(path: &PathBuf) -> Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read public key {}", path.display()))?;
    let key = PublicKey::parse_openssh(&text).with_context(|| format!("{} holds no ed25519 public key", path.display()))?;
    Ok(key.to_openssh())
}

fn optional_key(key: &KeyArg) -> Result<Option<String>> {
    key.public_key.as_ref().map(public_key).transpose()
}

fn role(args: &RoleArgs) -> RoleChange {
    RoleChange {
        role: args.role.clone(),
        owner: args.owner.clone(),
        team: args.team.clone(),
        note: args.note.note.clone(),
    }
}

impl Action {
    /// What the arguments ask for, with the files they name read.
    pub fn intent(&self) -> Result<Intent> {
        Ok(match self.clone() {
            Action::BootstrapTeams { teams } => Intent::BootstrapTeams { teams },
            Action::CreateOwner {
                owner,
                license,
                key,
                payment,
                note,
            } => Intent::CreateOwner {
                owner,
                license,
                public_key: optional_key(&key)?,
                payment: payment.payment.map(PaidBy::Seq),
                note: note.note,
            },
            Action::ChangeLicense {
                owner,
                license,
                payment,
                note,
            } => Intent::ChangeLicense {
                owner,
                license,
                payment: payment.payment.map(PaidBy::Seq),
                note: note.note,
            },
            Action::RegisterKey { owner, key, note } => Intent::RegisterKey {
                owner,
                public_key: public_key(&key.public_key)?,
                note: note.note,
            },
            Action::RotateKey { owner, revokes, key, note } => Intent::RotateKey {
                owner,
                revokes,
                public_key: public_key(&key.public_key)?,
                note: note.note,
            },
            Action::RevokeKey { owner, fingerprint, note } => Intent::RevokeKey {
                owner,
                fingerprint,
                note: note.note,
            },
            Action::RequestRecovery { owner, key, revokes, note } => Intent::RequestRecovery {
                owner,
                public_key: optional_key(&key)?,
                revokes,
                note: note.note,
            },
            Action::ConfirmRecovery(args) => Intent::ConfirmRecovery {
                request: args.request,
                note: args.note.note,
            },
            Action::CancelRecovery(args) => Intent::CancelRecovery {
                request: args.request,
                note: args.note.note,
            },
            Action::CompleteRecovery(args) => Intent::CompleteRecovery {
                request: args.request,
                note: args.note.note,
            },
            Action::AssignRole(args) => Intent::AssignRole(role(&args)),
            Action::SetRole(args) => Intent::SetRole(role(&args)),
            Action::CreateObjective {
                objective,
                team,
                title,
                note,
            } => Intent::CreateObjective {
                objective,
                team,
                title,
                note: note.note,
            },
            Action::CreateTask {
                task,
                objective,
                title,
                size,
                phase,
            } => Intent::CreateTask {
                task,
                objective,
                title,
                size,
                phase,
            },
            Action::AssignTask { task, attacker, defender } => Intent::AssignTask { task, attacker, defender },
            Action::StartTask { task } => Intent::StartTask { task },
            Action::StartWork { task } => Intent::StartWork { task },
            Action::StopWork => Intent::StopWork,
            Action::AssessWork { task, scores, share, note } => Intent::AssessWork {
                task,
                scores: three_scores(&scores)?,
                share,
                note: note.note,
            },
            Action::ApprovePendingSc { task, note } => Intent::ApprovePendingSc { task, note: note.note },
            Action::ObjectPendingSc { task, note } => Intent::ObjectPendingSc { task, note },
            Action::ResolveObjection { task, decision, note } => Intent::ResolveObjection {
                task,
                decision: match decision {
                    Decision::Sustained => "sustained",
                    Decision::Dismissed => "dismissed",
                }
                .to_string(),
                note: note.note,
            },
            Action::ValidatePendingSc {
                task,
                attacker_sc,
                defender_sc,
                note,
            } => Intent::ValidatePendingSc {
                task,
                attacker_sc,
                defender_sc,
                note: note.note,
            },
            Action::DepositEur {
                amount,
                reason,
                from,
                gross,
                reference,
                note,
            } => Intent::DepositEur {
                amount,
                gross,
                reason,
                from,
                reference,
                note: note.note,
            },
            Action::RefundEur {
                refunds,
                amount,
                reason,
                reference,
                note,
            } => Intent::RefundEur {
                refunds: PaidBy::Seq(refunds),
                amount,
                reason,
                reference,
                note: note.note,
            },
            Action::PayoutSc { owner, amount, note } => Intent::PayoutSc {
                owner,
                amount,
                note: note.note,
            },
            Action::AwardSk {
                owner,
                reason,
                earned_on,
                note,
            } => Intent::AwardSk {
                owner,
                reason,
                earned_on,
                note: note.note,
            },
            Action::Propose(args) => Intent::Propose(args.intent()?),
            Action::Object { proposal, note } => Intent::Object { proposal, note },
            Action::Vote { proposal, choice, note } => Intent::Vote {
                proposal,
                choice,
                note: note.note,
            },
            Action::CloseProposal { proposal, note } => Intent::CloseProposal { proposal, note: note.note },
            Action::ReleaseTranche {
                tranche,
                amount,
                proposal,
                note,
            } => Intent::ReleaseTranche {
                tranche,
                amount,
                proposal,
                note: note.note,
            },
            Action::AmendPolicy { file, note } => Intent::AmendPolicy {
                policy: std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?,
                note: note.note,
            },
        })
    }
}

/// Runs an action subcommand: records it in the ledger (never pushes).
pub fn run(global: &Global, scoped: &Scoped, action: &Action) -> Result<()> {
    let intent = action.intent()?;
    let mut ledger = open(global)?;
    let signer = identity::resolve(&scoped.who, Some(&ledger.repo))?;
    let rows = ledger.record(&signer, &intent, scoped.at, Timestamp::now())?;
    print_rows(global, &rows);
    Ok(())
}
