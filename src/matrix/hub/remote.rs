//! The hub's two contacts with the homeserver: reading what it holds ([`observe`]) and
//! carrying out a plan ([`apply`]). A step that fails is reported and the steps of the same
//! room that need it are skipped; the rest go on, and the next run carries on from there.

use super::desired::RoomKind;
use super::plan::{Observed, ObservedRoom, Step};
use super::{proofs, Proof, Settings};
use crate::matrix::client::{Client, MatrixError, StateEvent};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};

/// What the homeserver holds of the hub: rooms by key, the space's id and the link proofs.
#[derive(Clone, Debug, Default)]
pub struct Remote {
    /// The space's room id, once it exists.
    pub space: Option<String>,
    /// Rooms by key (the space's too).
    pub rooms: Observed,
    /// Proofs of linked accounts, by account.
    pub proofs: BTreeMap<String, Proof>,
}

impl Remote {
    /// The keys of task rooms that exist.
    pub fn task_keys(&self) -> BTreeSet<String> {
        self.rooms.keys().filter(|k| k.starts_with("6_")).cloned().collect()
    }
}

/// The key of an alias of this hub (`#sz_3_2_design_team:example.org` → `3_2_design_team`).
fn key_of(settings: &Settings, alias: &str) -> Option<String> {
    let local = alias.strip_prefix('#')?.strip_suffix(&format!(":{}", settings.server_name))?;
    local.strip_prefix(settings.alias_prefix.as_str()).map(str::to_string)
}

/// A room read from its state.
fn room_of(room_id: &str, state: &[StateEvent]) -> (Option<String>, ObservedRoom) {
    let mut room = ObservedRoom {
        room_id: room_id.to_string(),
        ..ObservedRoom::default()
    };
    let mut alias = None;
    for event in state {
        let text = |field: &str| event.content.get(field).and_then(Value::as_str).unwrap_or_default().to_string();
        match event.event_type.as_str() {
            "m.room.name" => room.name = text("name"),
            "m.room.topic" => room.topic = text("topic"),
            "m.room.canonical_alias" => alias = Some(text("alias")).filter(|a| !a.is_empty()),
            "m.room.member" => match text("membership").as_str() {
                "join" | "invite" => {
                    room.members.insert(event.state_key.clone());
                }
                "leave" if event.sender == event.state_key => {
                    room.left.insert(event.state_key.clone());
                }
                _ => {}
            },
            "m.room.power_levels" => {
                let users = event.content.get("users").and_then(Value::as_object);
                room.moderators = users
                    .into_iter()
                    .flatten()
                    .filter(|(_, level)| level.as_i64().is_some_and(|l| (50..100).contains(&l)))
                    .map(|(user, _)| user.clone())
                    .collect();
                room.read_only = event.content.get("events_default").and_then(Value::as_i64).unwrap_or(0) >= 100;
            }
            _ => {}
        }
    }
    (alias, room)
}

/// Reads the hub from the homeserver: the space (by its alias), its children, each child's
/// state, and the rooms of `wanted` keys that are not (yet) children, by alias.
pub fn observe(client: &Client, settings: &Settings, wanted: &BTreeSet<String>) -> Result<Remote, MatrixError> {
    let mut remote = Remote::default();
    let Some(space) = client.resolve_alias(&settings.alias(&settings.space_alias))? else {
        return Ok(remote);
    };
    let space_state = client.state(&space)?;
    let (_, space_room) = room_of(&space, &space_state);
    remote.rooms.insert(settings.space_alias.clone(), space_room);
    remote.proofs = proofs(&space_state);
    let mut children = BTreeMap::new();
    for event in &space_state {
        if event.event_type == "m.space.child" && event.content.get("via").and_then(Value::as_array).is_some_and(|v| !v.is_empty()) {
            let order = event.content.get("order").and_then(Value::as_str).unwrap_or_default();
            children.insert(event.state_key.clone(), order.to_string());
        }
    }
    for (room_id, order) in &children {
        let (alias, mut room) = room_of(room_id, &client.state(room_id)?);
        room.order = Some(order.clone());
        if let Some(key) = alias.and_then(|a| key_of(settings, &a)) {
            remote.rooms.insert(key, room);
        }
    }
    let missing: Vec<&String> = wanted.iter().filter(|k| !remote.rooms.contains_key(*k)).collect();
    for key in missing {
        if let Some(room_id) = client.resolve_alias(&settings.alias(key))? {
            let (_, room) = room_of(&room_id, &client.state(&room_id)?);
            remote.rooms.insert(key.clone(), room);
        }
    }
    remote.space = Some(space);
    Ok(remote)
}

/// What applying a plan did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Steps carried out.
    pub done: usize,
    /// Steps that failed, with the error.
    pub failed: Vec<(Step, MatrixError)>,
    /// Steps skipped because their room could not be created, or the process was stopping.
    pub skipped: Vec<Step>,
}

/// The power levels that create a room: invitations, kicks and state changes for moderators
/// (50) and the bot; messages for everyone unless the room is read-only. The creator (the
/// bot) keeps its own power whatever the room version.
fn power_override(read_only: bool) -> Value {
    json!({
        "events_default": if read_only { 100 } else { 0 },
        "invite": 50, "kick": 50, "ban": 50, "redact": 50, "state_default": 50,
    })
}

/// Carries out `steps` (from [`super::plan::plan`] against `remote`), in order, until `stop`
/// is set (the rest are skipped; the next run plans them again).
pub fn apply(client: &Client, settings: &Settings, remote: &mut Remote, steps: &[Step], stop: Option<&AtomicBool>) -> Applied {
    let mut applied = Applied::default();
    let mut failed_rooms = BTreeSet::new();
    for step in steps {
        if failed_rooms.contains(step.key()) || stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            applied.skipped.push(step.clone());
            continue;
        }
        match apply_one(client, settings, remote, step) {
            Ok(()) => applied.done += 1,
            Err(e) => {
                if matches!(step, Step::Create { .. }) {
                    failed_rooms.insert(step.key().to_string());
                }
                applied.failed.push((step.clone(), e));
            }
        }
    }
    applied
}

fn room_id(remote: &Remote, key: &str) -> Result<String, MatrixError> {
    remote.rooms.get(key).map(|r| r.room_id.clone()).ok_or_else(|| MatrixError::Setup {
        detail: format!("the room {key} does not exist (its creation failed or was skipped)"),
    })
}

fn apply_one(client: &Client, settings: &Settings, remote: &mut Remote, step: &Step) -> Result<(), MatrixError> {
    let via = json!([settings.server_name]);
    match step {
        Step::Create {
            key,
            kind,
            name,
            topic,
            read_only,
        } => {
            let mut body = json!({
                "name": name,
                "topic": topic,
                "room_alias_name": format!("{}{key}", settings.alias_prefix),
                "preset": "private_chat",
                "visibility": "private",
                "power_level_content_override": power_override(*read_only),
            });
            if *kind == RoomKind::Space {
                body["creation_content"] = json!({ "type": "m.space" });
            } else if let Some(space) = &remote.space {
                body["initial_state"] =
                    json!([{ "type": "m.space.parent", "state_key": space, "content": { "via": via, "canonical": true } }]);
            }
            let room_id = client.create_room(&body)?;
            if *kind == RoomKind::Space {
                remote.space = Some(room_id.clone());
            }
            let room = ObservedRoom {
                room_id,
                name: name.clone(),
                topic: topic.clone(),
                read_only: *read_only,
                ..ObservedRoom::default()
            };
            remote.rooms.insert(key.clone(), room);
        }
        Step::Name { key, name } => {
            client.put_state(&room_id(remote, key)?, "m.room.name", "", &json!({ "name": name }))?;
        }
        Step::Topic { key, topic } => {
            client.put_state(&room_id(remote, key)?, "m.room.topic", "", &json!({ "topic": topic }))?;
        }
        Step::Child { key, order } => {
            let space = remote.space.clone().ok_or_else(|| MatrixError::Setup {
                detail: "the space does not exist (its creation failed)".into(),
            })?;
            let content = json!({ "via": via, "order": order, "suggested": true });
            client.put_state(&space, "m.space.child", &room_id(remote, key)?, &content)?;
        }
        Step::Power {
            key,
            moderators,
            read_only,
        } => {
            let room = room_id(remote, key)?;
            let mut levels = client.state_event(&room, "m.room.power_levels", "")?.unwrap_or_else(|| json!({}));
            let users = levels.as_object_mut().map(|o| o.entry("users").or_insert_with(|| json!({})));
            if let Some(Value::Object(users)) = users {
                users.retain(|_, level| level.as_i64().is_some_and(|l| l >= 100));
                for account in moderators {
                    users.insert(account.clone(), json!(50));
                }
            }
            levels["events_default"] = json!(if *read_only { 100 } else { 0 });
            client.put_state(&room, "m.room.power_levels", "", &levels)?;
        }
        Step::Invite { key, account, .. } => client.invite(&room_id(remote, key)?, account)?,
        Step::Kick { key, account, reason } => client.kick(&room_id(remote, key)?, account, reason)?,
    }
    Ok(())
}
