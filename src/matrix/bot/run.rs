//! The bot's loop: follow the ledger repository (announce what is new, keep the hub and the
//! registration tokens in step) and the homeserver (join rooms it is invited to, answer
//! commands). Errors from a homeserver that went away are waited out with back-off; the
//! cursor moves only after a step is done, so nothing is lost or said twice.

use super::announce::announcement;
use super::commands::{self, Asker, Command};
use super::cursor::{Cursor, CursorFile};
use crate::clerk::Ledger;
use crate::matrix::client::{Client, MatrixError, RawEvent};
use crate::matrix::config::Settings;
use crate::matrix::hub::{self, Proof, LINK_EVENT};
use crate::matrix::tokens;
use crate::rules::matrix::{link_code_hash, owner_of_account};
use crate::sign::Code;
use crate::time::Timestamp;
use anyhow::{Context, Result};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How the bot runs.
pub struct Options {
    /// The ledger repository it follows (the forge's bare repository, or a clone).
    pub ledger: PathBuf,
    /// The cursor file.
    pub cursor: PathBuf,
    /// How long one `/sync` waits for news (and so how often the ledger is looked at).
    pub poll: Duration,
    /// When there is no cursor yet: announce only what follows this seq.
    pub since: Option<u64>,
    /// Set when the bot should stop (SIGTERM): also a hub sync stops between its steps.
    pub stop: std::sync::Arc<AtomicBool>,
}

/// What the bot knows of the ledger at the commit it follows.
struct Followed {
    ledger: Ledger,
    /// Owner by proven account.
    owners: BTreeMap<String, String>,
    /// The verification of this commit, once asked for: its words when done, computed on a
    /// thread of its own so that a long history does not keep the bot from answering.
    verified: Option<std::sync::mpsc::Receiver<String>>,
    /// The words of the finished verification.
    verdict: Option<String>,
}

/// The running bot.
pub struct Bot<'a> {
    settings: &'a Settings,
    client: &'a Client,
    admin: Option<&'a Client>,
    options: &'a Options,
    file: CursorFile,
    followed: Option<Followed>,
}

impl<'a> Bot<'a> {
    /// A bot that keeps its place in `options.cursor`.
    pub fn new(settings: &'a Settings, client: &'a Client, admin: Option<&'a Client>, options: &'a Options) -> Result<Bot<'a>> {
        let start = Cursor {
            since: None,
            announced: options.since.unwrap_or(0),
        };
        Ok(Bot {
            settings,
            client,
            admin,
            options,
            file: CursorFile::new(&options.cursor, start)?,
            followed: None,
        })
    }

    /// One pass over the ledger: when its HEAD moved, sync the hub and the tokens, then
    /// announce every event after the cursor. Returns how many announcements were sent.
    pub fn follow_ledger(&mut self) -> Result<usize> {
        let head = crate::repo::open(&self.options.ledger)
            .and_then(|repo| crate::repo::head(&repo, &self.options.ledger).map(|(head, _)| head))
            .with_context(|| format!("cannot read the ledger at {}", self.options.ledger.display()))?;
        if self.followed.as_ref().is_none_or(|f| f.ledger.head != head) {
            let ledger = Ledger::open(&self.options.ledger)?;
            let now = Timestamp::now();
            let synced = hub::sync(
                self.client,
                self.settings,
                &ledger.state,
                now,
                &run_of(self.options, &BTreeSet::new()),
            )?;
            if let Some(applied) = &synced.applied {
                for (step, error) in &applied.failed {
                    eprintln!("engelbot: the hub could not {step}: {error}");
                }
            }
            if let Some(admin) = self.admin {
                let existing = admin.registration_tokens()?;
                let steps = tokens::plan(&ledger.state, &existing, now, |seq| tokens::new_token(&ledger.state.ledger_id, seq));
                for (step, error) in tokens::apply(admin, &steps) {
                    eprintln!("engelbot: could not {step}: {error}");
                }
            }
            let owners = self.proven_owners(&ledger)?;
            self.followed = Some(Followed {
                ledger,
                owners,
                verified: None,
                verdict: None,
            });
        }
        self.announce()
    }

    /// The owner of each proven account, read from the space.
    fn proven_owners(&self, ledger: &Ledger) -> Result<BTreeMap<String, String>> {
        let Some(space) = self.client.resolve_alias(&self.settings.alias(&self.settings.space_alias))? else {
            return Ok(BTreeMap::new());
        };
        let proofs = hub::proofs(&self.client.state(&space)?);
        Ok(hub::accounts(&ledger.state, &proofs)
            .into_iter()
            .map(|(owner, account)| (account, owner))
            .collect())
    }

    /// Sends the announcements after the cursor, each with a transaction id made of the
    /// ledger, the seq and the room, so that a resend after a crash is the same event.
    fn announce(&mut self) -> Result<usize> {
        let Some(followed) = &self.followed else {
            return Ok(0);
        };
        let ledger = &followed.ledger;
        let mut held = self.file.hold()?;
        let events = ledger.events_since(held.cursor.announced)?;
        let mut rooms: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut sent = 0;
        let ledger_tag: String = ledger.state.ledger_id.chars().take(8).collect();
        for event in events {
            if self.options.stop.load(Ordering::Relaxed) {
                break; // the cursor says where to go on
            }
            if let Some(said) = announcement(&event, &ledger.state) {
                for key in &said.rooms {
                    if !rooms.contains_key(key) {
                        rooms.insert(key.clone(), self.client.resolve_alias(&self.settings.alias(key))?);
                    }
                    let Some(Some(room)) = rooms.get(key) else {
                        eprintln!(
                            "engelbot: no room {key} for seq {} (run `smartup matrix sync`); not announced there",
                            said.seq
                        );
                        continue;
                    };
                    let content = json!({ "msgtype": "m.notice", "body": said.text, "org.smartup.seq": said.seq });
                    let txn = format!("announce-{ledger_tag}-{}-{key}", said.seq);
                    self.client.send(room, "m.room.message", &txn, &content)?;
                    sent += 1;
                }
            }
            held.cursor.announced = event.seq;
            held.save()?;
        }
        Ok(sent)
    }

    /// One long-poll of the homeserver: joins the rooms it is invited to and answers the
    /// commands that arrived. The first sync ever only takes its position: the backlog is not
    /// answered.
    pub fn follow_homeserver(&mut self) -> Result<()> {
        let since = self.file.hold()?.cursor.since;
        let first = since.is_none();
        let timeout = if first { 0 } else { self.options.poll.as_millis() as u64 };
        let batch = self.client.sync(since.as_deref(), timeout)?;
        for room in &batch.invited {
            if let Err(e) = self.client.join(room) {
                eprintln!("engelbot: could not join {room}: {e}");
            }
        }
        if !first {
            for room in &batch.joined {
                if room.limited {
                    eprintln!(
                        "engelbot: more than {} new messages in {} at once; the older ones are not answered",
                        crate::matrix::client::SYNC_TIMELINE_LIMIT,
                        room.room_id
                    );
                }
                for event in &room.timeline {
                    self.handle(&room.room_id, event)?;
                }
            }
        }
        let mut held = self.file.hold()?;
        held.cursor.since = Some(batch.next_batch);
        held.save()
    }

    /// Answers one event if it is a command from someone else (never a notice: bots do not
    /// answer bots).
    fn handle(&mut self, room: &str, event: &RawEvent) -> Result<()> {
        let content = &event.content;
        let text = content.get("body").and_then(|b| b.as_str()).unwrap_or_default();
        let is_notice = content.get("msgtype").and_then(|m| m.as_str()) == Some("m.notice");
        if event.event_type != "m.room.message" || event.sender == self.settings.bot || is_notice {
            return Ok(());
        }
        let Some(parsed) = commands::parse(text) else {
            return Ok(());
        };
        let reply = match parsed {
            Err(usage) => usage,
            Ok(command) => self.answer(&event.sender, &event.event_id, &command)?,
        };
        let content = json!({ "msgtype": "m.notice", "body": reply });
        self.client
            .send(room, "m.room.message", &format!("reply-{}", event.event_id), &content)?;
        Ok(())
    }

    fn answer(&mut self, sender: &str, event_id: &str, command: &Command) -> Result<String> {
        if self.followed.is_none() {
            self.follow_ledger()?;
        }
        let Some(followed) = self.followed.as_mut() else {
            return Ok("I cannot read the ledger right now; try again in a minute.".into());
        };
        match command {
            Command::Link(code) => self.link(sender, event_id, code),
            Command::Rooms => {
                let owner = followed.owners.get(sender).cloned();
                let asker = Asker {
                    state: &followed.ledger.state,
                    now: Timestamp::now(),
                    owner: owner.as_deref(),
                    account: sender,
                };
                if let Some(refusal) = commands::refuse_stranger(&asker, command) {
                    return Ok(refusal);
                }
                let mine = invite_again(self.client, self.settings, self.options, &followed.ledger.state, sender)?;
                Ok(format!("I invited you again to {mine} room(s) you belong in."))
            }
            Command::Verify => Ok(followed.verification(&self.options.ledger)),
            other => {
                let asker = Asker {
                    state: &followed.ledger.state,
                    now: Timestamp::now(),
                    owner: followed.owners.get(sender).map(String::as_str),
                    account: sender,
                };
                Ok(commands::answer(&asker, other))
            }
        }
    }

    /// `!link CODE`: when the code matches the hash in the sender's current link row, the
    /// proof goes into the space, and the hub invites the owner where they belong.
    fn link(&mut self, sender: &str, event_id: &str, code: &str) -> Result<String> {
        let Some(followed) = self.followed.as_mut() else {
            return Ok("I cannot read the ledger right now; try again in a minute.".into());
        };
        let state = &followed.ledger.state;
        let Some((owner, link)) = owner_of_account(state, sender) else {
            return Ok(format!("No owner's link-matrix row names {sender} at the ledger's last commit. Run `smartup matrix link {sender}` and `smartup push` first."));
        };
        let code = match Code::parse(code) {
            Ok(code) => code,
            Err(e) => return Ok(format!("{e}. **Usage:** !link <code>")),
        };
        if link_code_hash(&state.ledger_id, sender, code.as_str()) != link.code_hash {
            return Ok(format!(
                "That is not the code of {owner}'s link row (seq {}). Nothing changed.",
                link.seq
            ));
        }
        let Some(space) = self.client.resolve_alias(&self.settings.alias(&self.settings.space_alias))? else {
            return Ok("The hub is not set up yet: an admin runs `smartup matrix sync` first.".into());
        };
        let proof = Proof {
            owner: owner.to_string(),
            seq: link.seq,
            event_id: event_id.to_string(),
        };
        self.client
            .put_state(&space, LINK_EVENT, &hub::link_state_key(sender), &serde_json::to_value(&proof)?)?;
        followed.owners.insert(sender.to_string(), owner.to_string());
        let words = format!("Thank you: {sender} is {owner}'s account now (link row seq {}).", link.seq);
        invite_again(self.client, self.settings, self.options, &followed.ledger.state, sender)?;
        Ok(words)
    }
}

/// Syncs the hub inviting `account` again even where it left a room; how many invitations
/// it got.
fn invite_again(client: &Client, settings: &Settings, options: &Options, state: &crate::rules::State, account: &str) -> Result<usize> {
    let rejoin = BTreeSet::from([account.to_string()]);
    let synced = hub::sync(client, settings, state, Timestamp::now(), &run_of(options, &rejoin))?;
    let invited = synced
        .steps
        .iter()
        .filter(|s| matches!(s, hub::plan::Step::Invite { account: a, .. } if a == account));
    Ok(invited.count())
}

/// How the hub syncs for the bot: for real, stopping with the bot.
fn run_of<'r>(options: &'r Options, rejoin: &'r BTreeSet<String>) -> hub::Run<'r> {
    hub::Run {
        dry_run: false,
        rejoin,
        stop: Some(&options.stop),
    }
}

/// How long `!verify` waits for a verification before answering that it runs.
const VERIFY_PATIENCE: Duration = Duration::from_secs(3);

impl Followed {
    /// `!verify`: the words of the verification of the followed commit, started on a thread
    /// of its own at the first ask; "still running" when it takes longer than
    /// [`VERIFY_PATIENCE`].
    fn verification(&mut self, dir: &std::path::Path) -> String {
        if let Some(verdict) = &self.verdict {
            return verdict.clone();
        }
        let receiver = self.verified.get_or_insert_with(|| {
            let (send, receive) = std::sync::mpsc::channel();
            let (dir, head) = (dir.to_path_buf(), self.ledger.head);
            std::thread::spawn(move || {
                let words = verify_words(&dir, head).unwrap_or_else(|e| format!("The ledger could not be verified: {e:#}"));
                let _ = send.send(words);
            });
            receive
        });
        match receiver.recv_timeout(VERIFY_PATIENCE) {
            Ok(words) => {
                self.verdict = Some(words.clone());
                words
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => format!(
                "I am verifying the whole history at {} ({} rows); ask again in a moment.",
                self.ledger.head, self.ledger.state.last_seq
            ),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                self.verified = None;
                "The verification stopped without a result; ask again to start it anew.".to_string()
            }
        }
    }
}

/// The whole history re-checked, signatures included, up to commit `head` of the ledger in `dir`.
fn verify_words(dir: &std::path::Path, head: git2::Oid) -> Result<String> {
    let repo = crate::repo::open(dir)?;
    let options = crate::verify::Options {
        check_signatures: true,
        read_ahead: true,
        ..Default::default()
    };
    let report = crate::verify::walk(&repo, head, &options)?;
    Ok(if report.findings.is_empty() {
        format!(
            "The ledger verifies: {} rows in {} commits, every signature and rule checked; last commit {}.",
            report.rows, report.commits, head
        )
    } else {
        let first = report.findings.first().map(|f| f.to_string()).unwrap_or_default();
        format!(
            "The ledger does NOT verify at {}: {} finding(s); the first: {first}",
            head,
            report.findings.len()
        )
    })
}

/// Runs until the options' `stop` is set (SIGTERM, SIGINT): follows the ledger and the
/// homeserver, and waits out a homeserver that went away (doubling back-off up to 30 s).
pub fn run(bot: &mut Bot) -> Result<()> {
    let stop = std::sync::Arc::clone(&bot.options.stop);
    let stop = stop.as_ref();
    let mut wait = Duration::from_millis(500);
    while !stop.load(Ordering::Relaxed) {
        let step = bot.follow_ledger().and_then(|_| bot.follow_homeserver());
        match step {
            Ok(()) => wait = Duration::from_millis(500),
            Err(e) if transient(&e) => {
                eprintln!(
                    "engelbot: the homeserver did not answer ({e:#}); trying again in {} s",
                    wait.as_secs_f32()
                );
                sleep_unless_stopped(wait, stop);
                wait = (wait * 2).min(Duration::from_secs(30));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Whether an error is one that waiting may cure.
fn transient(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| cause.downcast_ref::<MatrixError>().is_some_and(MatrixError::is_transient))
}

fn sleep_unless_stopped(wait: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(100);
    let mut waited = Duration::ZERO;
    while waited < wait && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(step);
        waited += step;
    }
}
