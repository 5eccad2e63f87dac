//! Onboarding: from an Open Collective payment to an owner. `import` reads a transactions
//! export, plans what it means for the ledger ([`plan`]) and records it through the clerk as
//! one signed commit: deposits, refunds, invitations with one-time codes, upgrades of known
//! owners. Personal data stays out of the ledger: only the private identity file
//! ([`identities`]) links a contributor's slug to an invitation and a handle. A newcomer
//! claims an invitation with `smartup join` ([`join_row`]); an owner relays the row.

pub mod export;
pub mod identities;
pub mod legacy;
pub mod plan;

use crate::clerk::{Ledger, Signer};
use crate::ledger::action::ActionKind;
use crate::ledger::row::Row;
use crate::rules::draft::{Intent, LegacyRecord, PaidBy};
use crate::rules::onboarding::{proof_message, PROOF_NAMESPACE};
use crate::rules::{State, Violation};
use crate::sign::Code;
use crate::sign::{encode_signature, SigningKey};
use crate::time::{format_date, Timestamp};
use anyhow::Result;
use identities::Identities;
use plan::{Planned, Step};

/// What happened to one step of the plan.
#[derive(Debug)]
pub enum Outcome {
    /// Nothing to write (the plan's reason says why).
    Skipped,
    /// Imported before, at this seq: nothing to write.
    Already(u64),
    /// Written (or, in a dry run, would be) as this row.
    Recorded(Box<Row>),
    /// The rules refused it: nothing written for it.
    Refused(Violation),
}

/// An invitation made by the import, with its one-time code (shown once, never stored).
#[derive(Debug)]
pub struct Invited {
    /// Seq of the invite row.
    pub seq: u64,
    /// The code to hand over.
    pub code: Code,
    /// The license.
    pub license: String,
    /// The contributor's slug.
    pub contributor: String,
}

/// What an import did, or in a dry run would do.
#[derive(Debug)]
pub struct Import {
    /// The export's shape, in words.
    pub shape: &'static str,
    /// How many transactions the export holds.
    pub transactions: usize,
    /// The plan, step by step, and what came of each step.
    pub steps: Vec<(Step, Outcome)>,
    /// The invitations written, with their codes (none in a dry run).
    pub invited: Vec<Invited>,
    /// Whether anything was written.
    pub written: bool,
}

/// Imports an Open Collective export into the ledger as `signer`, at `now`: plans, checks
/// every step with the rules, and (unless `dry_run`) records the steps that pass in one
/// commit and notes the invited contributors in `identities`, which it saves.
pub fn import(
    ledger: &mut Ledger,
    signer: &Signer,
    identities: &mut Identities,
    bytes: &[u8],
    now: Timestamp,
    dry_run: bool,
) -> Result<Import> {
    let export = export::parse(bytes)?;
    let today = format_date(now.day());
    identities.resolve_handles(&ledger.state, &today);
    let steps = plan::plan(&export, &ledger.state, identities);
    let mut intents = Vec::new();
    let mut of_step = Vec::new();
    let mut codes = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let code = matches!(step.action, Planned::Invite { .. }).then(Code::generate);
        if let Some(intent) = intent(&step.action, code.as_ref(), &ledger.state) {
            intents.push(intent);
            of_step.push(i);
            codes.push(code);
        }
    }
    let batch = ledger.record_batch(signer, &intents, now, !dry_run)?;
    let mut outcomes: Vec<Outcome> = steps.iter().map(|_| Outcome::Skipped).collect();
    for (index, violation) in batch.refused {
        outcomes[of_step[index]] = Outcome::Refused(violation);
    }
    let mut invited = Vec::new();
    for (row, index) in batch.rows.into_iter().zip(batch.of_intent) {
        let step = &steps[of_step[index]];
        if let (
            Planned::Invite {
                license,
                contributor,
                email,
                ..
            },
            Some(code),
            false,
        ) = (&step.action, &codes[index], dry_run)
        {
            identities.seen(contributor, email, &today).invitation = Some(row.seq);
            invited.push(Invited {
                seq: row.seq,
                code: code.clone(),
                license: license.clone(),
                contributor: contributor.clone(),
            });
        }
        outcomes[of_step[index]] = Outcome::Recorded(Box::new(row));
    }
    let written = !dry_run && outcomes.iter().any(|o| matches!(o, Outcome::Recorded(_)));
    if written {
        identities.save()?;
    }
    Ok(Import {
        shape: export.shape,
        transactions: export.transactions.len(),
        steps: steps.into_iter().zip(outcomes).collect(),
        invited,
        written,
    })
}

/// The intent of a planned step (none for a skip).
fn intent(action: &Planned, code: Option<&Code>, state: &State) -> Option<Intent> {
    let note = "Open Collective".to_string();
    Some(match action {
        Planned::Deposit {
            reference,
            amount,
            gross,
            tier,
            payer,
        } => Intent::DepositEur {
            amount: *amount,
            gross: (gross > amount).then_some(*gross),
            reason: if tier.is_some() { "license" } else { "donation" }.into(),
            from: payer.clone(),
            reference: reference.clone(),
            note: tier.as_ref().map_or(note, |t| format!("Open Collective: {t}")),
        },
        Planned::Invite { license, payment, .. } => Intent::Invite {
            license: license.clone(),
            invitation_key: code?.key(&state.ledger_id).public().to_openssh(),
            payment: Some(PaidBy::Reference(payment.clone())),
            note,
        },
        Planned::Upgrade { owner, license, payment } => Intent::ChangeLicense {
            owner: owner.clone(),
            license: license.clone(),
            payment: Some(PaidBy::Reference(payment.clone())),
            note,
        },
        Planned::Refund {
            reference,
            amount,
            refunds,
        } => Intent::RefundEur {
            refunds: PaidBy::Reference(refunds.clone()),
            amount: *amount,
            reason: "refunded on Open Collective".into(),
            reference: reference.clone(),
            note,
        },
        Planned::Skip { .. } => return None,
    })
}

/// Why a join row cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// No open invitation of this ledger has this code.
    #[error("no open invitation of this ledger has this code: check it with the captain who gave it to you (it may have expired, been used, or be for another ledger; fetch the ledger if it is new)")]
    NoInvitation,
    /// The rules refuse the row.
    #[error("{0}")]
    Refused(Violation),
}

/// The join row a newcomer signs with `key` to claim the invitation whose code is `code`,
/// as `handle`: found among the open invitations of `state`, proven with the code, signed,
/// and checked by the rules as if it came next. The row is portable: an owner relays it.
pub fn join_row(state: &State, code: &Code, handle: &str, key: &SigningKey, now: Timestamp) -> Result<Row, JoinError> {
    let invitation_key = code.key(&state.ledger_id);
    let line = invitation_key.public().to_openssh();
    let (seq, _) = state
        .invitations
        .iter()
        .find(|(_, i)| i.key == line && i.open_at(now))
        .ok_or(JoinError::NoInvitation)?;
    let fingerprint = key.public().fingerprint();
    let proof = invitation_key.sign(PROOF_NAMESPACE, &proof_message(&state.ledger_id, *seq, handle, &fingerprint));
    let public = key.public().to_openssh();
    let values = [
        ("invitation", seq.to_string()),
        ("public_key", public),
        ("proof", encode_signature(&proof)),
    ];
    let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let action = ActionKind::Join;
    let at = state.last_timestamp.map_or(now, |last| now.max(last));
    let mut row = Row::draft(action.table(), state.last_seq + 1, at, handle, action.name(), &values)
        .map_err(|e| JoinError::Refused(crate::rules::violation("malformed-value", e)))?;
    row.sign(key, &state.ledger_id, &state.policy.ledger.namespace);
    crate::rules::apply(&mut state.clone(), &row, None).map_err(JoinError::Refused)?;
    Ok(row)
}

/// What a legacy import did, or in a dry run would do.
#[derive(Debug)]
pub struct LegacyImport {
    /// Each record with what came of it.
    pub records: Vec<(LegacyRecord, Outcome)>,
    /// What did not add up, by file and line.
    pub problems: Vec<String>,
    /// Whether anything was written.
    pub written: bool,
}

/// Imports Smartup Zero's files kept before the ledger (`balance.csv` and `transactions.csv`,
/// either may be absent but not both) as `signer` (the founder), in one commit unless
/// `dry_run`. Records imported before are shown as such and written again by no one.
pub fn import_legacy(
    ledger: &mut Ledger,
    signer: &Signer,
    balance: Option<&[u8]>,
    karma: Option<&[u8]>,
    now: Timestamp,
    dry_run: bool,
) -> Result<LegacyImport> {
    let mut read = legacy::Read::default();
    for part in [balance.map(legacy::balance), karma.map(|k| legacy::karma(k, &ledger.state))]
        .into_iter()
        .flatten()
    {
        let part = part.map_err(anyhow::Error::msg)?;
        read.records.extend(part.records);
        read.problems.extend(part.problems);
    }
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut intents = Vec::new();
    let mut of_record = Vec::new();
    for (i, record) in read.records.iter().enumerate() {
        let key = crate::rules::legacy::record_key(&record.source, &record.reference, &record.line.to_string());
        match ledger.state.references.get(&key) {
            Some(seq) => outcomes.push(Outcome::Already(*seq)),
            None => {
                outcomes.push(Outcome::Skipped);
                intents.push(Intent::ImportLegacy(record.clone()));
                of_record.push(i);
            }
        }
    }
    let batch = ledger.record_batch(signer, &intents, now, !dry_run)?;
    for (index, violation) in batch.refused {
        outcomes[of_record[index]] = Outcome::Refused(violation);
    }
    let written = !dry_run && !batch.rows.is_empty();
    for (row, index) in batch.rows.into_iter().zip(batch.of_intent) {
        outcomes[of_record[index]] = Outcome::Recorded(Box::new(row));
    }
    Ok(LegacyImport {
        records: read.records.into_iter().zip(outcomes).collect(),
        problems: read.problems,
        written,
    })
}
