//! From what the ledger wants and what the homeserver holds to the steps that close the gap.
//! Pure. A second plan after applying the first is empty.

use super::desired::{Desired, RoomKind, RoomSpec};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A room as the homeserver holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObservedRoom {
    /// Its id.
    pub room_id: String,
    /// `m.room.name`.
    pub name: String,
    /// `m.room.topic`.
    pub topic: String,
    /// Accounts that joined or are invited.
    pub members: BTreeSet<String>,
    /// Accounts that left or declined the invitation themselves: not invited again unless
    /// they ask (`!rooms`).
    pub left: BTreeSet<String>,
    /// Accounts with moderator power (at least 50, below the bot's 100).
    pub moderators: BTreeSet<String>,
    /// Whether only the bot may write (`events_default` 100 or more).
    pub read_only: bool,
    /// Its `m.space.child` order in the space, when it is a child of the space.
    pub order: Option<String>,
}

/// The homeserver's rooms by key (the space's too), as far as the hub manages them.
pub type Observed = BTreeMap<String, ObservedRoom>;

/// One change on the homeserver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Create a room (or the space) with its alias, name, topic and write power.
    Create {
        /// Room key.
        key: String,
        /// What it is.
        kind: RoomKind,
        /// Name.
        name: String,
        /// Topic.
        topic: String,
        /// Whether only the bot writes.
        read_only: bool,
    },
    /// Rename a room.
    Name {
        /// Room key.
        key: String,
        /// The name.
        name: String,
    },
    /// Set a room's topic.
    Topic {
        /// Room key.
        key: String,
        /// The topic.
        topic: String,
    },
    /// Make a room a child of the space (or change its order there).
    Child {
        /// Room key.
        key: String,
        /// Where it sorts.
        order: String,
    },
    /// Set who moderates a room and whether it is read-only.
    Power {
        /// Room key.
        key: String,
        /// Accounts with power 50.
        moderators: BTreeSet<String>,
        /// Whether only the bot writes.
        read_only: bool,
    },
    /// Invite an owner's account.
    Invite {
        /// Room key.
        key: String,
        /// The account.
        account: String,
        /// Whose it is.
        owner: String,
    },
    /// Remove an account, with the reason shown in the room.
    Kick {
        /// Room key.
        key: String,
        /// The account.
        account: String,
        /// Why, in words.
        reason: String,
    },
}

impl Step {
    /// The key of the room the step changes.
    pub fn key(&self) -> &str {
        match self {
            Step::Create { key, .. }
            | Step::Name { key, .. }
            | Step::Topic { key, .. }
            | Step::Child { key, .. }
            | Step::Power { key, .. }
            | Step::Invite { key, .. }
            | Step::Kick { key, .. } => key,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Create { key, kind, name, .. } => write!(f, "create the {} {key} ({name})", kind_word(*kind)),
            Step::Name { key, name } => write!(f, "rename {key} to {name:?}"),
            Step::Topic { key, topic } => write!(f, "set the topic of {key} to {topic:?}"),
            Step::Child { key, order } => write!(f, "place {key} in the space (order {order:?})"),
            Step::Power {
                key,
                moderators,
                read_only,
            } => {
                let who = if moderators.is_empty() {
                    "no moderators".to_string()
                } else {
                    format!("moderators {}", moderators.iter().cloned().collect::<Vec<_>>().join(", "))
                };
                let write = if *read_only { ", read-only" } else { "" };
                write!(f, "set the power in {key}: {who}{write}")
            }
            Step::Invite { key, account, owner } => write!(f, "invite {account} ({owner}) to {key}"),
            Step::Kick { key, account, reason } => write!(f, "remove {account} from {key}: {reason}"),
        }
    }
}

fn kind_word(kind: RoomKind) -> &'static str {
    match kind {
        RoomKind::Space => "space",
        RoomKind::Forum => "forum room",
        RoomKind::Team => "team room",
        RoomKind::Objective => "objective room",
        RoomKind::Task => "task room",
    }
}

impl RoomSpec {
    /// Whether only the bot writes: the space (no chatting in it) and archived rooms.
    pub fn read_only(&self) -> bool {
        self.archived || self.kind == RoomKind::Space
    }
}

/// Why an account no longer belongs in a room, in words for its members.
fn reason(spec: &RoomSpec, owner: Option<&str>) -> String {
    let Some(owner) = owner else {
        return "this account is not proven to belong to an owner of the ledger".into();
    };
    match spec.kind {
        RoomKind::Space | RoomKind::Forum => format!("{owner} is no longer an owner with a linked account"),
        RoomKind::Team => format!("{owner} no longer holds a role in this team"),
        RoomKind::Objective => format!("{owner} no longer leads or works on this objective"),
        RoomKind::Task => format!("{owner} is no longer the Attacker, Defender or mission leader of this task"),
    }
}

/// Who the hub works for and with: the bot's own account (never removed), the owner each
/// known account belongs to (for the reasons), and the accounts that asked to be invited
/// again to rooms they had left.
pub struct People<'a> {
    /// The bot.
    pub bot: &'a str,
    /// Owner by account.
    pub owners: &'a BTreeMap<String, String>,
    /// Accounts invited again even where they left.
    pub rejoin: &'a BTreeSet<String>,
}

/// The steps that make the homeserver hold `desired`, given `observed`.
pub fn plan(desired: &Desired, observed: &Observed, people: &People) -> Vec<Step> {
    let (bot, owners) = (people.bot, people.owners);
    let mut steps = Vec::new();
    for spec in desired.all() {
        let key = spec.key.clone();
        let read_only = spec.read_only();
        let Some(room) = observed.get(&key) else {
            steps.push(Step::Create {
                key: key.clone(),
                kind: spec.kind,
                name: spec.name.clone(),
                topic: spec.topic.clone(),
                read_only,
            });
            if spec.kind != RoomKind::Space {
                steps.push(Step::Child {
                    key: key.clone(),
                    order: spec.order.clone(),
                });
            }
            if !spec.moderators.is_empty() {
                steps.push(Step::Power {
                    key: key.clone(),
                    moderators: spec.moderators.clone(),
                    read_only,
                });
            }
            for (account, owner) in &spec.members {
                steps.push(Step::Invite {
                    key: key.clone(),
                    account: account.clone(),
                    owner: owner.clone(),
                });
            }
            continue;
        };
        if room.name != spec.name {
            steps.push(Step::Name {
                key: key.clone(),
                name: spec.name.clone(),
            });
        }
        if room.topic != spec.topic {
            steps.push(Step::Topic {
                key: key.clone(),
                topic: spec.topic.clone(),
            });
        }
        if spec.kind != RoomKind::Space && room.order.as_deref() != Some(spec.order.as_str()) {
            steps.push(Step::Child {
                key: key.clone(),
                order: spec.order.clone(),
            });
        }
        if room.moderators != spec.moderators || room.read_only != read_only {
            steps.push(Step::Power {
                key: key.clone(),
                moderators: spec.moderators.clone(),
                read_only,
            });
        }
        if spec.archived {
            continue; // an archived room keeps the members it had
        }
        for (account, owner) in &spec.members {
            let declined = room.left.contains(account) && !people.rejoin.contains(account);
            if !room.members.contains(account) && !declined {
                steps.push(Step::Invite {
                    key: key.clone(),
                    account: account.clone(),
                    owner: owner.clone(),
                });
            }
        }
        for account in &room.members {
            if account != bot && !spec.members.contains_key(account) {
                let reason = reason(spec, owners.get(account).map(String::as_str));
                steps.push(Step::Kick {
                    key: key.clone(),
                    account: account.clone(),
                    reason,
                });
            }
        }
    }
    steps
}
