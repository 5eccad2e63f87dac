//! What the ledger wants the homeserver to look like: the space, one room per group (the
//! general forum, each team, each objective, each open task), their names, topics and
//! members, who moderates, and which rooms are archived. Pure: a function of the state, the
//! accounts proven to belong to owners, and `now`.

use super::Settings;
use crate::ledger::ids::{numeric_identity, IdKind};
use crate::rules::state::{State, TaskState};
use crate::time::Timestamp;
use crate::view::status::task_status;
use std::collections::{BTreeMap, BTreeSet};

/// The alias key of the general forum room.
pub const FORUM: &str = "1_general_forum";

/// What kind of room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoomKind {
    /// The smartup's space, parent of every room.
    Space,
    /// The general forum: every owner.
    Forum,
    /// A team: its role holders; its captains moderate.
    Team,
    /// An objective: its mission leader and the people of its open tasks.
    Objective,
    /// A task: its Attacker, Defender and the objective's mission leader.
    Task,
}

/// One room as the ledger wants it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomSpec {
    /// The alias local part without the policy's prefix: `1_general_forum`,
    /// `3_2_design_team`, `5_2_1`, `6_2_1_1`, or the space's alias.
    pub key: String,
    /// What it is.
    pub kind: RoomKind,
    /// Its name.
    pub name: String,
    /// Its topic.
    pub topic: String,
    /// Where it sorts among the space's children (`3_2/5_2_1/6_2_1_1` puts a task under its
    /// objective and the objective under its team).
    pub order: String,
    /// Matrix accounts that belong in it.
    pub members: BTreeMap<String, String>,
    /// Accounts with moderator power (50).
    pub moderators: BTreeSet<String>,
    /// Read-only: a paid task's room. Nobody but the bot writes; members stay.
    pub archived: bool,
}

/// Everything the ledger wants of the homeserver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired {
    /// The space.
    pub space: RoomSpec,
    /// The rooms, in order.
    pub rooms: Vec<RoomSpec>,
}

impl Desired {
    /// The space and the rooms.
    pub fn all(&self) -> impl Iterator<Item = &RoomSpec> {
        std::iter::once(&self.space).chain(&self.rooms)
    }
}

/// The owner each proven account belongs to, by owner: accounts whose proof names the
/// owner's current link (a proof of an earlier link no longer counts).
pub type Accounts = BTreeMap<String, String>;

/// The room key of a team, objective or task id (the id as written, in lower case; a task
/// by its numeric identity, as its alias `#6_2_1_1`).
pub fn room_key(id: &str, kind: RoomKind) -> String {
    match kind {
        RoomKind::Task => numeric_identity(id, IdKind::Task).unwrap_or_else(|_| id.to_string()),
        _ => id.to_ascii_lowercase(),
    }
}

/// What the ledger at `state` wants, with `accounts` (owner → proven Matrix account) and
/// task rooms that exist already (`existing_tasks`, room keys), so that a paid task's room
/// is archived and a task paid before it had a room gets none.
pub fn desired(state: &State, settings: &Settings, accounts: &Accounts, existing_tasks: &BTreeSet<String>, now: Timestamp) -> Desired {
    let account = |owner: &str| accounts.get(owner).map(|a| (a.clone(), owner.to_string()));
    let of = |owners: &mut dyn Iterator<Item = &str>| -> BTreeMap<String, String> { owners.filter_map(account).collect() };
    let name = if state.name.is_empty() {
        "the smartup"
    } else {
        state.name.as_str()
    };
    let space = RoomSpec {
        key: settings.space_alias.clone(),
        kind: RoomKind::Space,
        name: name.to_string(),
        topic: format!("{name}: the rooms of its general forum, teams, objectives and tasks, kept in step with its ledger"),
        order: String::new(),
        members: of(&mut state.owners.keys().map(String::as_str)),
        moderators: BTreeSet::new(),
        archived: false,
    };
    let mut rooms = vec![RoomSpec {
        key: FORUM.into(),
        kind: RoomKind::Forum,
        name: "General forum".into(),
        topic: format!("Every owner of {name}. Engelbot announces new owners and policy amendments here; say !help to it"),
        order: "1".into(),
        members: space.members.clone(),
        moderators: BTreeSet::new(),
        archived: false,
    }];
    for (identity, team) in &state.teams {
        let roles: Vec<_> = state.roles.values().filter(|r| &r.team == identity).collect();
        let mut holders = roles.iter().filter_map(|r| r.holder.as_deref());
        let mut captains = roles.iter().filter(|r| r.position == "captain").filter_map(|r| r.holder.as_deref());
        rooms.push(RoomSpec {
            key: room_key(&team.id, RoomKind::Team),
            kind: RoomKind::Team,
            name: format!("{} {}", identity, team.name),
            topic: format!(
                "Team {}: tasks, assignments, sessions, assessments and payouts of the team",
                team.id
            ),
            order: identity.clone(),
            members: of(&mut holders),
            moderators: of(&mut captains).into_keys().collect(),
            archived: false,
        });
    }
    let leader = |objective: &str| state.roles.get(objective).and_then(|r| r.holder.clone());
    for (identity, objective) in &state.objectives {
        let open = state
            .tasks
            .values()
            .filter(|t| &t.objective == identity && t.state != TaskState::Paid);
        let mut people: Vec<String> = open.flat_map(|t| [t.attacker.clone(), t.defender.clone()]).flatten().collect();
        people.extend(leader(identity));
        rooms.push(RoomSpec {
            key: room_key(&objective.id, RoomKind::Objective),
            kind: RoomKind::Objective,
            name: format!("{} {}", identity, objective.title),
            topic: format!(
                "Objective {}: {}",
                objective.id,
                leader(identity).map_or("no mission leader yet".into(), |l| format!("mission leader {l}"))
            ),
            order: format!("{}/{identity}", objective.team),
            members: of(&mut people.iter().map(String::as_str)),
            moderators: BTreeSet::new(),
            archived: false,
        });
    }
    for (identity, task) in &state.tasks {
        let key = room_key(identity, RoomKind::Task);
        let archived = task.state == TaskState::Paid;
        if archived && !existing_tasks.contains(&key) {
            continue;
        }
        let people = [task.attacker.clone(), task.defender.clone(), leader(&task.objective)];
        let status = task_status(task, &state.policy, now).word();
        let pair = match (&task.attacker, &task.defender) {
            (Some(a), Some(d)) => format!("; Attacker {a}, Defender {d}"),
            _ => String::new(),
        };
        rooms.push(RoomSpec {
            key,
            kind: RoomKind::Task,
            name: format!("{identity} {}", task.title),
            topic: format!(
                "Task {}: {} SC, {status}{pair}{}",
                task.id,
                task.budget,
                if archived { " (archived: read-only)" } else { "" }
            ),
            order: format!("{}/{}/{identity}", task.team, task.objective),
            members: of(&mut people.iter().flatten().map(String::as_str)),
            moderators: BTreeSet::new(),
            archived,
        });
    }
    Desired { space, rooms }
}
