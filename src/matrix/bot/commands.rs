//! What Engelbot answers: `!help`, `!my_tasks`, `!wallet`, `!open_roles`, `!status TASK`,
//! `!treasury`, `!proposals`, `!verify`, and the write requests `!start_work TASK`, `!stop_work`,
//! `!apply ROLE [TEAM]`, which it checks against the rules for the asker now and answers with
//! the `smartup` command to run: it signs nothing for anyone. Pure: the numbers are the read
//! model's ([`crate::view`]), the same `smartup balance/status/proposals --json` print.

use crate::ledger::ids::{numeric_identity, IdKind};
use crate::rules::draft::{trial, Intent, RoleChange};
use crate::rules::state::State;
use crate::time::Timestamp;
use crate::view::balances::balances;
use crate::view::proposals::open_proposals;
use crate::view::status::{board, TaskStatus};

/// A command the bot understands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `!help`.
    Help,
    /// `!link CODE`: prove that this account is the owner whose link row commits to CODE.
    Link(String),
    /// `!my_tasks`.
    MyTasks,
    /// `!wallet`.
    Wallet,
    /// `!open_roles`.
    OpenRoles,
    /// `!status TASK`.
    Status(String),
    /// `!treasury`.
    Treasury,
    /// `!proposals`.
    Proposals,
    /// `!verify`.
    Verify,
    /// `!start_work TASK`.
    StartWork(String),
    /// `!stop_work`.
    StopWork,
    /// `!apply ROLE [TEAM]`.
    Apply(String, Option<String>),
    /// `!rooms`: invite me again to the rooms I belong in (after leaving one).
    Rooms,
}

/// The commands with their arguments, for `!help` and usage lines.
const USAGE: &[(&str, &str, &str)] = &[
    ("help", "", "this list"),
    ("link", " <code>", "prove this account is yours (after `smartup matrix link`)"),
    ("my_tasks", "", "your tasks and open session"),
    ("wallet", "", "your SC, SK after decay, pending SC and vote weight"),
    ("open_roles", "", "vacant roles and tasks waiting for people"),
    ("status", " <task>", "a task's status, budget and people"),
    ("treasury", "", "EUR held, SC outstanding and pending, the 3x rule"),
    ("proposals", "", "open proposals with their tally and time left"),
    ("verify", "", "whether the ledger verifies, and its last commit"),
    ("start_work", " <task>", "whether you may clock in now, and the command"),
    ("stop_work", "", "whether you may clock out now, and the command"),
    (
        "apply",
        " <role> [team]",
        "whether a captain may give you the role, and the command",
    ),
];

fn usage(name: &str) -> String {
    let (_, args, _) = USAGE.iter().find(|(n, _, _)| *n == name).copied().unwrap_or(("help", "", ""));
    format!("**Usage:** !{name}{args}")
}

/// Reads a message: `None` when it is not a command (does not start with `!`), else the
/// command or the usage answer for a bad one.
pub fn parse(body: &str) -> Option<Result<Command, String>> {
    let text = body.trim().strip_prefix('!')?;
    let mut words = text.split_whitespace();
    let name = words.next().unwrap_or_default().to_ascii_lowercase();
    let args: Vec<&str> = words.collect();
    let one = |make: fn(String) -> Command| match args.as_slice() {
        [arg] => Ok(make(arg.to_string())),
        _ => Err(usage(&name)),
    };
    let none = |command: Command| if args.is_empty() { Ok(command) } else { Err(usage(&name)) };
    Some(match name.as_str() {
        "help" => none(Command::Help),
        "link" => match args.as_slice() {
            [] => Err(usage("link")),
            parts => Ok(Command::Link(parts.concat())),
        },
        "my_tasks" => none(Command::MyTasks),
        "wallet" => none(Command::Wallet),
        "open_roles" => none(Command::OpenRoles),
        "status" => one(Command::Status),
        "treasury" => none(Command::Treasury),
        "proposals" => none(Command::Proposals),
        "verify" => none(Command::Verify),
        "start_work" => one(Command::StartWork),
        "stop_work" => none(Command::StopWork),
        "rooms" => none(Command::Rooms),
        "apply" => match args.as_slice() {
            [role] => Ok(Command::Apply(role.to_string(), None)),
            [role, team] => Ok(Command::Apply(role.to_string(), Some(team.to_string()))),
            _ => Err(usage("apply")),
        },
        _ => Err(format!("I do not know !{name}. {} — or !help for every command", usage("help"))),
    })
}

/// The refusal of a personal command to an account no owner proved, if `owner` is none.
pub fn refuse_stranger(asker: &Asker, command: &Command) -> Option<String> {
    let personal = matches!(
        command,
        Command::MyTasks | Command::Wallet | Command::StartWork(_) | Command::StopWork | Command::Apply(..) | Command::Rooms
    );
    (personal && asker.owner.is_none()).then(|| asker.stranger())
}

/// `!help`.
pub fn help() -> String {
    let lines: Vec<String> = USAGE.iter().map(|(name, args, what)| format!("!{name}{args} — {what}")).collect();
    format!(
        "I am Engelbot, the Midfielder: I announce what the ledger records and answer questions; I never sign or decide.\n{}",
        lines.join("\n")
    )
}

/// Whom the bot is answering, and when.
pub struct Asker<'a> {
    /// The ledger's state at the commit the bot follows.
    pub state: &'a State,
    /// Now.
    pub now: Timestamp,
    /// The owner whose proven account asks, if any.
    pub owner: Option<&'a str>,
    /// The account that asks.
    pub account: &'a str,
}

impl Asker<'_> {
    fn stranger(&self) -> String {
        format!(
            "I do not know whose account {} is, so I keep personal answers to myself. Link it: run `smartup matrix link {}` in your clone of the ledger, `smartup push`, then send me `!link CODE` with the code it printed.",
            self.account, self.account
        )
    }
}

/// The answer to a command other than `!link`, `!verify` and `!rooms` (which need the
/// homeserver or the repository: the caller answers them).
pub fn answer(asker: &Asker, command: &Command) -> String {
    if let Some(refusal) = refuse_stranger(asker, command) {
        return refusal;
    }
    let owner = asker.owner.unwrap_or_default();
    let state = asker.state;
    match command {
        Command::Help => help(),
        Command::MyTasks => my_tasks(state, asker.now, owner),
        Command::Wallet => wallet(state, asker.now, owner),
        Command::OpenRoles => open_roles(state, asker.now),
        Command::Status(task) => status(state, asker.now, task),
        Command::Treasury => treasury(state, asker.now),
        Command::Proposals => proposals(state, asker.now),
        Command::StartWork(task) => advise(
            state,
            owner,
            asker.now,
            &Intent::StartWork { task: task.clone() },
            &format!("smartup start-work {task}"),
        ),
        Command::StopWork => advise(state, owner, asker.now, &Intent::StopWork, "smartup stop-work"),
        Command::Apply(role, team) => apply(state, owner, asker.now, role, team.as_deref()),
        Command::Link(_) | Command::Verify | Command::Rooms => help(),
    }
}

fn my_tasks(state: &State, now: Timestamp, owner: &str) -> String {
    let board = board(state, now);
    let mine: Vec<String> = board
        .tasks
        .iter()
        .filter(|t| t.status != TaskStatus::Paid)
        .filter_map(|t| {
            let part = if t.attacker.as_deref() == Some(owner) {
                "Attacker"
            } else if t.defender.as_deref() == Some(owner) {
                "Defender"
            } else {
                return None;
            };
            Some(format!("{} ({}): {part}, {}, {} SC", t.task, t.title, t.describe(), t.budget))
        })
        .collect();
    let session = board
        .open_sessions
        .iter()
        .find(|s| s.owner == owner)
        .map_or("No open session.".to_string(), |s| {
            format!("Open session on {} since {}.", s.task, s.since)
        });
    if mine.is_empty() {
        format!("{owner}, you have no open tasks. {session}")
    } else {
        format!("{owner}, your tasks:\n{}\n{session}", mine.join("\n"))
    }
}

fn wallet(state: &State, now: Timestamp, owner: &str) -> String {
    let view = balances(state, now);
    match view.owners.iter().find(|o| o.owner == owner) {
        Some(o) => format!(
            "{owner} ({} license): {} SC, {} SK (after decay, at {}), {} SC pending validation, vote weight {}",
            o.license, o.sc, o.sk, view.at, o.pending_sc, o.vote_weight
        ),
        None => format!("{owner} is not in the Book of Owners at this commit."),
    }
}

fn treasury(state: &State, now: Timestamp) -> String {
    let t = balances(state, now).treasury;
    let rule = if t.three_x_rule_ok { "kept" } else { "BROKEN" };
    format!(
        "Treasury: {} EUR. SC outstanding {} (at most {} under the 3x rule: {rule}); SC pending validation {} and in tranches of retrospective awards {} (not outstanding until validated or released).",
        t.eur, t.sc_outstanding, t.sc_limit, t.sc_pending, t.sc_pending_in_tranches
    )
}

/// `!proposals`: the open proposals, each with its window, time left and tally, and how to
/// take part.
fn proposals(state: &State, now: Timestamp) -> String {
    let open = open_proposals(state, now);
    if open.is_empty() {
        return "No proposal is open. Make one with `smartup propose KIND --title T --text FILE` in your clone.".to_string();
    }
    let lines: Vec<String> = open.iter().map(|p| p.summary()).collect();
    format!(
        "Open proposals: {}\n{}\nVote with `smartup vote N yes|no|abstain`, object with `smartup object N --note WHY`, in your clone; `smartup proposals N` shows one whole.",
        open.len(),
        lines.join("\n")
    )
}

fn status(state: &State, now: Timestamp, task: &str) -> String {
    let Ok(identity) = numeric_identity(task, IdKind::Task) else {
        return format!("{task:?} is not a task id (like 6_2_1_1). {}", usage("status"));
    };
    let board = board(state, now);
    let Some(t) = board
        .tasks
        .iter()
        .find(|t| numeric_identity(&t.task, IdKind::Task).as_deref() == Ok(identity.as_str()))
    else {
        return format!("There is no task {identity} in the ledger.");
    };
    let people = match (&t.attacker, &t.defender) {
        (Some(a), Some(d)) => format!("Attacker {a}, Defender {d}"),
        _ => "nobody assigned yet".to_string(),
    };
    format!(
        "{} ({}): {}; budget {} SC; {people}; worked {}",
        t.task,
        t.title,
        t.describe(),
        t.budget,
        crate::view::duration(t.worked_seconds)
    )
}

fn open_roles(state: &State, now: Timestamp) -> String {
    let vacant: Vec<String> = state
        .roles
        .values()
        .filter(|r| r.holder.is_none())
        .map(|r| format!("{} ({} in team {})", r.id, r.position.replace('_', " "), r.team))
        .collect();
    let board = board(state, now);
    let waiting: Vec<String> = board
        .with_status(TaskStatus::Open)
        .map(|t| format!("{} ({}), {} SC", t.task, t.title, t.budget))
        .collect();
    let list = |items: Vec<String>| if items.is_empty() { "none".to_string() } else { items.join("; ") };
    format!(
        "Vacant roles: {}.\nTasks waiting for an Attacker and a Defender: {}.",
        list(vacant),
        list(waiting)
    )
}

/// Whether the rules accept `intent` by `owner` now, in words, with the command to run.
fn advise(state: &State, owner: &str, now: Timestamp, intent: &Intent, command: &str) -> String {
    match trial(state, owner, now, intent) {
        Ok(()) => format!("The rules would accept it now. Run `{command}` in your clone, then `smartup push`: your key signs it, not me."),
        Err(v) => format!("The rules would refuse it ({}): {}", v.code, v.message),
    }
}

fn apply(state: &State, owner: &str, now: Timestamp, role: &str, team: Option<&str>) -> String {
    let known = state
        .roles
        .get(&numeric_identity(role, IdKind::Role).unwrap_or_default())
        .map(|r| r.team.clone());
    let team_of = team.and_then(|t| numeric_identity(t, IdKind::Team).ok()).or(known).or_else(|| {
        numeric_identity(role, IdKind::Objective)
            .ok()
            .and_then(|o| state.objectives.get(&o).map(|o| o.team.clone()))
    });
    let Some(team_id) = team_of else {
        return format!("Which team is {role} in? {}", usage("apply"));
    };
    let mut captains: Vec<&str> = state
        .roles
        .values()
        .filter(|r| r.team == team_id && r.position == "captain")
        .filter_map(|r| r.holder.as_deref())
        .collect();
    captains.sort_unstable();
    let Some(captain) = captains.first() else {
        return format!("Team {team_id} has no captain to give you {role}; ask the leadership team.");
    };
    let change = RoleChange {
        role: role.to_string(),
        owner: Some(owner.to_string()),
        team: team.map(str::to_string),
        note: String::new(),
    };
    let team_flag = team.map_or(String::new(), |t| format!(" --team {t}"));
    match trial(state, captain, now, &Intent::AssignRole(change)) {
        Ok(()) => format!(
            "The rules would let a captain of team {team_id} ({}) give you {role} now: they run `smartup assign-role {role} {owner}{team_flag}`. Ask them; I decide nothing.",
            captains.join(", ")
        ),
        Err(v) => format!("The rules would refuse {role} for you now ({}): {}", v.code, v.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::Book;

    fn ask<'a>(b: &'a Book, owner: Option<&'a str>) -> Asker<'a> {
        Asker {
            state: &b.state,
            now: b.now,
            owner,
            account: "@someone:example.org",
        }
    }

    #[test]
    fn commands_parse_and_bad_ones_get_usage() {
        assert_eq!(parse("hello"), None);
        assert_eq!(parse("!wallet"), Some(Ok(Command::Wallet)));
        assert_eq!(parse("  !STATUS 6_2_1_1 "), Some(Ok(Command::Status("6_2_1_1".into()))));
        assert_eq!(parse("!link K7QM 3XPA"), Some(Ok(Command::Link("K7QM3XPA".into()))));
        assert_eq!(parse("!status"), Some(Err("**Usage:** !status <task>".into())));
        assert_eq!(parse("!wallet now"), Some(Err("**Usage:** !wallet".into())));
        assert_eq!(parse("!proposals"), Some(Ok(Command::Proposals)));
        assert_eq!(parse("!proposals 12"), Some(Err("**Usage:** !proposals".into())));
        assert!(parse("!frobnicate").unwrap().unwrap_err().contains("**Usage:** !help"));
        assert_eq!(
            parse("!apply 4_2_9 3_2"),
            Some(Ok(Command::Apply("4_2_9".into(), Some("3_2".into()))))
        );
    }

    #[test]
    fn strangers_get_no_personal_answers_but_public_ones() {
        let b = Book::started();
        let stranger = ask(&b, None);
        for personal in [
            Command::Wallet,
            Command::MyTasks,
            Command::StopWork,
            Command::StartWork("6_2_1_1".into()),
        ] {
            assert!(
                answer(&stranger, &personal).starts_with("I do not know whose account"),
                "{personal:?}"
            );
        }
        assert!(answer(&stranger, &Command::Treasury).starts_with("Treasury: 1000.00 EUR"));
        assert!(answer(&stranger, &Command::Treasury).contains("in tranches of retrospective awards 82200.00"));
        assert!(answer(&stranger, &Command::Proposals).starts_with("No proposal is open."));
        assert!(answer(&stranger, &Command::Status("6_2_1_1".into())).contains("Attacker alice, Defender bob"));
    }

    #[test]
    fn write_requests_are_checked_against_the_rules_for_the_asker() {
        let b = Book::started();
        let alice = ask(&b, Some("alice"));
        let yes = answer(&alice, &Command::StartWork("6_2_1_1".into()));
        assert!(
            yes.contains("would accept") && yes.contains("`smartup start-work 6_2_1_1`"),
            "{yes}"
        );
        let carol = ask(&b, Some("carol"));
        let no = answer(&carol, &Command::StartWork("6_2_1_1".into()));
        assert!(no.starts_with("The rules would refuse it ("), "{no}");
        let stop = answer(&alice, &Command::StopWork);
        assert!(stop.starts_with("The rules would refuse it"), "no session is open: {stop}");
        let role = answer(&ask(&b, Some("dave")), &Command::Apply("4_2_7".into(), Some("3_2".into())));
        assert!(
            role.contains("(cap)") && role.contains("smartup assign-role 4_2_7 dave --team 3_2"),
            "{role}"
        );
        assert!(answer(&alice, &Command::Wallet).starts_with("alice (work license): 0.00 SC"));
    }

    #[test]
    fn proposals_lists_the_open_ones_with_tally_and_time_left_and_help_names_it() {
        let (mut b, d) = crate::view::proposals::testing::debating();
        let said = answer(&ask(&b, None), &Command::Proposals);
        let lines: Vec<&str> = said.lines().collect();
        assert_eq!(lines[0], "Open proposals: 2");
        assert!(
            lines[1].starts_with(&format!("#{} (policy-amendment) End bootstrap: voting until", d.amendment))
                && lines[1].contains("(6 d 23 h left); yes 2.000, no 1.000, abstain 0.000 of 7.000 eligible (3 voters); participation 42.85% (quorum 20.00%)"),
            "{said}"
        );
        assert!(
            lines[2].starts_with(&format!("#{} (lazy-consensus) Adopt the logo: lazy consensus until", d.lazy))
                && lines[2].ends_with("1 of 3 objections that would make it a vote"),
            "{said}"
        );
        assert!(lines[3].contains("`smartup vote N yes|no|abstain`"), "{said}");
        b.later(168);
        let closing = answer(&ask(&b, None), &Command::Proposals);
        assert!(closing.contains("anyone closes it with `smartup close-proposal"), "{closing}");
        assert!(help().contains("!proposals — open proposals with their tally and time left"));
    }
}
