//! The ledger state: everything the rules need to judge the next row, and nothing that grows
//! with the number of rows beyond the live objects (owners, keys, roles, ids, open work).

use super::governance::proposal::weight;
pub use super::governance::proposal::Proposal;
use crate::ledger::policy::Policy;
use crate::money::Amount;
use crate::sign::PublicKey;
use crate::time::{Timestamp, DAY};
use std::collections::{BTreeMap, HashMap};

/// The role id the founder holds from genesis: captain of the leadership team.
pub const FOUNDER_ROLE: &str = "4_1_1";
/// The numeric identity of the leadership team.
pub const LEADERSHIP_TEAM: &str = "3_1";

/// The four license kinds, lowest first.
pub const LICENSES: [&str; 4] = ["campaign", "watch", "work", "organizational"];

/// An owner and their balances.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Owner {
    /// campaign, watch, work or organizational.
    pub license: String,
    /// Smartup Credits held (validated, not yet paid out).
    pub sc: Amount,
    /// Social Karma as of `sk_since` (decay is applied lazily).
    pub sk: Amount,
    /// When SK was last earned.
    pub sk_since: Timestamp,
    /// The UTC day the daily counters are for.
    pub day: i64,
    /// SC minted to this owner on `day`.
    pub sc_today: Amount,
    /// SK earned by this owner on `day`.
    pub sk_today: Amount,
    /// Who entered the owner in the Book of Owners (the founder for themselves): the one
    /// person who may give the owner their first key.
    pub creator: String,
    /// The Matrix account the owner last linked, if any.
    #[serde(default)]
    pub matrix: Option<MatrixLink>,
    /// Seq of the row that made them an owner: they vote on proposals made after it.
    #[serde(default)]
    pub since: u64,
}

/// An owner's claim of a Matrix account (`link-matrix`): the account, and the hash of the
/// code the account must post to the bot before the bot treats it as the owner.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MatrixLink {
    /// The Matrix user id.
    pub user: String,
    /// SHA-256 (hex) of the link code bound to the ledger and the account.
    pub code_hash: String,
    /// The seq of the `link-matrix` row.
    pub seq: u64,
}

/// A signing key and its validity.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KeyRecord {
    /// Whose key.
    pub owner: String,
    /// The key itself (stored as its OpenSSH line).
    #[serde(with = "openssh_key")]
    pub public: PublicKey,
    /// Seq of the row that registered it.
    pub registered: u64,
    /// When it was registered.
    pub registered_at: Timestamp,
    /// Seq of the row that revoked it, if any.
    pub revoked: Option<u64>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

/// A key recovery on its way: requested by one authority, confirmed by a second, completed
/// after the window unless the owner cancels it. Cancelled and completed recoveries leave
/// the state.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recovery {
    /// Whose keys.
    pub owner: String,
    /// The new key (`ssh-ed25519 AAAA...`), if the recovery gives one.
    pub public_key: Option<String>,
    /// Fingerprints of the keys it revokes.
    pub revokes: Vec<String>,
    /// Who asked.
    pub requested_by: String,
    /// The confirmation, once given.
    pub confirmation: Option<Confirmation>,
}

/// The second authority's confirmation of a recovery.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Confirmation {
    /// Seq of the confirm-recovery row.
    pub seq: u64,
    /// Who confirmed.
    pub by: String,
    /// When: the veto window starts here.
    pub at: Timestamp,
}

/// EUR received by the treasury, which may pay for one license.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Deposit {
    /// How much reached the treasury.
    pub amount: Amount,
    /// What the payer paid before fees (`amount` when the row names no gross): a license's
    /// price is checked against it.
    pub paid: Amount,
    /// Seq of the row whose license it paid (an owner's row or an invitation), once spent.
    pub paid_for: Option<u64>,
    /// Seq of the refund-eur row that gave it back, if one did.
    pub refunded: Option<u64>,
}

/// An invitation to become an owner: made by a captain for a license someone paid for,
/// claimed once by a join row that proves the one-time code.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Invitation {
    /// The license the newcomer gets.
    pub license: String,
    /// The key the one-time code derives (its OpenSSH line): the ledger's commitment to the code.
    pub key: String,
    /// When it closes unused.
    pub expires: Timestamp,
    /// The captain who invited (the newcomer's creator).
    pub inviter: String,
    /// Seq of the deposit that paid for it, if any.
    pub payment: Option<u64>,
    /// The handle that claimed it, once joined.
    pub joined: Option<String>,
    /// Seq of the refund that withdrew it (its payment was given back before anyone joined).
    pub withdrawn: Option<u64>,
}

impl Invitation {
    /// Whether it can still be claimed at `at`: not joined, not withdrawn, not expired.
    pub fn open_at(&self, at: Timestamp) -> bool {
        self.joined.is_none() && self.withdrawn.is_none() && at <= self.expires
    }
}

/// A role and its holder.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RoleRecord {
    /// The role id as written (with suffix).
    pub id: String,
    /// Current holder, if any.
    pub holder: Option<String>,
    /// Numeric identity of the team.
    pub team: String,
    /// captain, mission_leader, senior or junior.
    pub position: String,
}

/// A team.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Team {
    /// The id as written.
    pub id: String,
    /// Readable name.
    pub name: String,
}

/// An objective.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Objective {
    /// The id as written.
    pub id: String,
    /// Numeric identity of its team.
    pub team: String,
    /// Title.
    pub title: String,
}

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskState {
    /// Created with a budget.
    Created,
    /// Attacker and defender assigned.
    Assigned,
    /// Claimed by its attacker; sessions may run.
    Started,
    /// Assessed: pending SC in the lazy-consensus window or awaiting validation.
    Assessed,
    /// All pending SC validated.
    Paid,
}

impl TaskState {
    /// Every state, in the order of a task's life.
    pub const ALL: [TaskState; 5] = [
        TaskState::Created,
        TaskState::Assigned,
        TaskState::Started,
        TaskState::Assessed,
        TaskState::Paid,
    ];

    /// The word used in messages and output.
    pub fn word(self) -> &'static str {
        match self {
            TaskState::Created => "created",
            TaskState::Assigned => "assigned",
            TaskState::Started => "started",
            TaskState::Assessed => "assessed",
            TaskState::Paid => "paid",
        }
    }
}

/// A task.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Task {
    /// The id as written.
    pub id: String,
    /// Numeric identity of its objective.
    pub objective: String,
    /// Numeric identity of its team.
    pub team: String,
    /// Title.
    pub title: String,
    /// Size or special budget name.
    pub size: String,
    /// Budget in SC.
    pub budget: Amount,
    /// Life-cycle state.
    pub state: TaskState,
    /// Attacker, once assigned.
    pub attacker: Option<String>,
    /// Defender, once assigned.
    pub defender: Option<String>,
    /// Sessions currently open on the task.
    pub open_sessions: u32,
    /// Closed sessions so far.
    pub closed_sessions: u32,
    /// Total seconds of closed sessions.
    pub worked_seconds: i64,
    /// When the last session ended.
    pub last_session_end: Option<Timestamp>,
    /// The pending SC of its current assessment.
    pub pending: Option<Pending>,
}

impl Task {
    /// A task just created: no people, no sessions, no assessment.
    pub fn new(id: &str, objective: String, team: String, title: &str, size: &str, budget: Amount) -> Task {
        Task {
            id: id.to_string(),
            objective,
            team,
            title: title.to_string(),
            size: size.to_string(),
            budget,
            state: TaskState::Created,
            attacker: None,
            defender: None,
            open_sessions: 0,
            closed_sessions: 0,
            worked_seconds: 0,
            last_session_end: None,
            pending: None,
        }
    }
}

/// Pending SC produced by an assessment, on their way to validation.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    /// When the assessment was made (the window starts here).
    pub assessed_at: Timestamp,
    /// Who assessed.
    pub assessor: String,
    /// Payout share in percent.
    pub share: Amount,
    /// Total pending SC (attacker + defender) as assessed.
    pub total: Amount,
    /// Attacker's SC not yet validated.
    pub attacker_left: Amount,
    /// Defender's SC not yet validated.
    pub defender_left: Amount,
    /// Distinct owners who approved.
    pub approvals: Vec<String>,
    /// Whether a captain of the team approved.
    pub captain_approved: bool,
    /// Owners whose objections are open.
    pub objectors: Vec<String>,
    /// Seq of the assess-work row: a community review must come after it.
    #[serde(default)]
    pub assessed_seq: u64,
}

/// An open work session.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OpenSession {
    /// Seq of its start-work row.
    pub session: u64,
    /// Numeric identity of the task.
    pub task: String,
    /// When it started.
    pub started: Timestamp,
}

/// The session-log row that must come next, after a stop-work clock row.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AwaitedLog {
    /// Seq of the stop-work clock row.
    pub after_seq: u64,
    /// Session id.
    pub session: u64,
    /// Task as written.
    pub task: String,
    /// Who worked.
    pub owner: String,
    /// Clock-in time.
    pub started: Timestamp,
    /// Clock-out time.
    pub stopped: Timestamp,
}

/// Everything the rules know at one point of the ledger.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct State {
    /// The ledger id every signature is bound to.
    pub ledger_id: String,
    /// The policy in force.
    pub policy: Policy,
    /// `sha256:` reference of the policy file in force.
    pub policy_reference: String,
    /// Reference named by an amend-policy row whose file has not been switched in yet.
    pub amended_policy: Option<String>,
    /// Seq of the last row applied (0 before genesis).
    pub last_seq: u64,
    /// Timestamp of the last row applied.
    pub last_timestamp: Option<Timestamp>,
    /// The smartup's name, from genesis.
    pub name: String,
    /// Owners by handle.
    pub owners: HashMap<String, Owner>,
    /// Keys by fingerprint (revoked ones stay, so they cannot be registered again).
    pub keys: HashMap<String, KeyRecord>,
    /// Teams by numeric identity.
    pub teams: BTreeMap<String, Team>,
    /// Roles by numeric identity.
    pub roles: BTreeMap<String, RoleRecord>,
    /// Objectives by numeric identity.
    pub objectives: BTreeMap<String, Objective>,
    /// Tasks by numeric identity.
    pub tasks: BTreeMap<String, Task>,
    /// Open sessions by owner.
    pub sessions: HashMap<String, OpenSession>,
    /// The session log the next row must be, if any.
    pub awaited_log: Option<AwaitedLog>,
    /// EUR in the treasury.
    pub treasury: Amount,
    /// Validated SC held by owners (not yet paid out).
    pub outstanding: Amount,
    /// SC assessed and not yet validated.
    pub pending: Amount,
    /// Open key recoveries by the seq of their request.
    pub recoveries: BTreeMap<u64, Recovery>,
    /// EUR deposits by seq, and the license each paid for.
    pub deposits: BTreeMap<u64, Deposit>,
    /// Invitations by the seq of their invite row.
    pub invitations: BTreeMap<u64, Invitation>,
    /// The seq of the row that recorded each outside payment reference (deposit-eur and
    /// refund-eur `reference`): a reference is recorded once.
    pub references: HashMap<String, u64>,
    /// Who registered the smartup (the genesis row's actor): the `founder` of the policy's
    /// tranches.
    pub founder: String,
    /// Proposals still open, by the seq of their propose row.
    pub proposals: BTreeMap<u64, Proposal>,
    /// Closed proposals, by seq, without their individual votes.
    pub decided: BTreeMap<u64, Proposal>,
    /// What passed binding votes declared (`working-mvp`), and the seq of the closing row.
    pub declared: BTreeMap<String, u64>,
    /// SC released so far of each tranche of the policy's retrospective awards.
    pub released: BTreeMap<String, Amount>,
}

impl State {
    /// The state before genesis: the ledger id and the policy the genesis commit carries.
    pub fn new(policy: Policy, policy_reference: String) -> State {
        State {
            ledger_id: policy.ledger.id.clone(),
            policy,
            policy_reference,
            amended_policy: None,
            last_seq: 0,
            last_timestamp: None,
            name: String::new(),
            owners: HashMap::new(),
            keys: HashMap::new(),
            teams: BTreeMap::new(),
            roles: BTreeMap::new(),
            objectives: BTreeMap::new(),
            tasks: BTreeMap::new(),
            sessions: HashMap::new(),
            awaited_log: None,
            treasury: Amount::ZERO,
            outstanding: Amount::ZERO,
            pending: Amount::ZERO,
            recoveries: BTreeMap::new(),
            deposits: BTreeMap::new(),
            invitations: BTreeMap::new(),
            references: HashMap::new(),
            founder: String::new(),
            proposals: BTreeMap::new(),
            decided: BTreeMap::new(),
            declared: BTreeMap::new(),
            released: BTreeMap::new(),
        }
    }

    /// True when the key with this fingerprint is registered to `owner` and not revoked.
    pub fn key_valid_for(&self, fingerprint: &str, owner: &str) -> bool {
        self.keys.get(fingerprint).is_some_and(|k| k.owner == owner && k.revoked.is_none())
    }

    /// Fingerprints of the keys of an owner that are valid now, sorted.
    pub fn valid_keys_of(&self, owner: &str) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .keys
            .iter()
            .filter(|(_, k)| k.owner == owner && k.revoked.is_none())
            .map(|(fingerprint, _)| fingerprint.as_str())
            .collect();
        keys.sort_unstable();
        keys
    }

    /// True when a key was ever registered to the owner (revoked ones count).
    pub fn ever_had_key(&self, owner: &str) -> bool {
        self.keys.values().any(|k| k.owner == owner)
    }

    /// The roles an owner holds now.
    pub fn roles_of<'a>(&'a self, owner: &'a str) -> impl Iterator<Item = &'a RoleRecord> + 'a {
        self.roles.values().filter(move |r| r.holder.as_deref() == Some(owner))
    }

    /// True when the owner holds the founder role.
    pub fn is_founder(&self, owner: &str) -> bool {
        self.roles.get(FOUNDER_ROLE).is_some_and(|r| r.holder.as_deref() == Some(owner))
    }

    /// True when the owner is a captain of the team (numeric identity).
    pub fn is_captain_of(&self, owner: &str, team: &str) -> bool {
        self.roles_of(owner).any(|r| r.position == "captain" && r.team == team)
    }

    /// True when the owner holds any role in the leadership team (the founder does).
    pub fn is_leadership_member(&self, owner: &str) -> bool {
        self.roles_of(owner).any(|r| r.team == LEADERSHIP_TEAM)
    }

    /// True when the owner is a captain of any team.
    pub fn is_captain(&self, owner: &str) -> bool {
        self.roles_of(owner).any(|r| r.position == "captain")
    }

    /// True when the owner is the mission leader of the objective (numeric identity).
    pub fn is_mission_leader_of(&self, owner: &str, objective: &str) -> bool {
        self.roles
            .get(objective)
            .is_some_and(|r| r.position == "mission_leader" && r.holder.as_deref() == Some(owner))
    }

    /// True when the owner holds a role of this position in the team.
    pub fn holds_position_in(&self, owner: &str, position: &str, team: &str) -> bool {
        self.roles_of(owner).any(|r| r.position == position && r.team == team)
    }

    /// An owner's SK at an instant, after decay.
    pub fn karma(&self, owner: &str, at: Timestamp) -> Amount {
        self.owners
            .get(owner)
            .map_or(Amount::ZERO, |o| decayed(&self.policy, o.sk, o.sk_since, at))
    }

    /// Vote weight of an owner at an instant, in thousandths: `min(1.5, 1 + SK/1000)`.
    pub fn vote_weight(&self, owner: &str, at: Timestamp) -> u64 {
        weight(self.karma(owner, at))
    }

    /// The recipient a tranche names: a handle, or `founder` for whoever registered the
    /// smartup.
    pub fn tranche_recipient<'a>(&'a self, named: &'a str) -> &'a str {
        if named == "founder" {
            &self.founder
        } else {
            named
        }
    }

    /// SC of a tranche of the policy not yet released.
    pub fn tranche_left(&self, id: &str) -> Amount {
        let total = self.policy.governance.tranche(id).map_or(Amount::ZERO, |t| t.amount.0);
        total.minus(self.released.get(id).copied().unwrap_or(Amount::ZERO))
    }

    /// SC pending in the tranches of retrospective awards: never outstanding until released.
    pub fn tranches_pending(&self) -> Amount {
        self.policy
            .governance
            .tranches
            .iter()
            .fold(Amount::ZERO, |sum, t| sum.plus(self.tranche_left(&t.id)))
    }
}

/// SK after the monthly decay that applies once the grace period has passed.
pub fn decayed(policy: &Policy, sk: Amount, since: Timestamp, at: Timestamp) -> Amount {
    let idle_days = (at.0 - since.0) / DAY - policy.sk.decay_grace_days;
    if idle_days < 30 {
        return sk;
    }
    let keep = Amount::units(100).minus(policy.sk.decay_percent_per_month.0);
    let mut value = sk;
    for _ in 0..(idle_days / 30).min(1200) {
        value = value.percent(keep);
        if value == Amount::ZERO {
            break;
        }
    }
    value
}

/// Serialises a public key as its `ssh-ed25519 AAAA...` line.
mod openssh_key {
    use crate::sign::PublicKey;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(key: &PublicKey, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&key.to_openssh())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PublicKey, D::Error> {
        let line = String::deserialize(d)?;
        PublicKey::parse_openssh(&line).map_err(serde::de::Error::custom)
    }
}
