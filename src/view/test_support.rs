//! A small ledger for the views' tests: rows drafted with `Row::draft`, judged by
//! `rules::apply`, and kept with their locations, as the views read them.

use crate::ledger::policy::{file_reference, Policy, TEMPLATE};
use crate::ledger::row::{Location, Row};
use crate::ledger::schema;
use crate::rules::{apply, State};
use crate::sign::SigningKey;
use crate::time::{Timestamp, HOUR};
use std::collections::HashMap;

const SIG: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";

/// A ledger under construction, with every row it accepted.
pub struct Book {
    /// The state after the last row.
    pub state: State,
    /// The state before genesis.
    pub genesis: State,
    /// The time of the next row.
    pub now: Timestamp,
    /// Every row with where it would be written.
    pub rows: Vec<(Row, Location)>,
    keys: HashMap<String, String>,
    lines: HashMap<String, u64>,
    seed: u8,
}

impl Book {
    /// A ledger with only its genesis row.
    pub fn new() -> Book {
        let text = Policy::render_template(TEMPLATE, "0123456789abcdef0123", "Test");
        let policy = Policy::parse(&text).unwrap();
        let state = State::new(policy, file_reference(text.as_bytes()));
        let mut book = Book {
            genesis: state.clone(),
            state,
            now: "2026-01-05T09:00:00Z".parse().unwrap(),
            rows: Vec::new(),
            keys: HashMap::new(),
            lines: HashMap::new(),
            seed: 1,
        };
        let founder = book.new_key("founder");
        let reference = book.state.policy_reference.clone();
        book.ok(
            "founder",
            "register-smartup",
            &[("subject", "Test"), ("reference", &reference), ("public_key", &founder)],
        );
        book
    }

    /// A new key for `handle`, as its OpenSSH line.
    pub fn new_key(&mut self, handle: &str) -> String {
        let key = SigningKey::from_seed([self.seed; 32], "test");
        self.seed += 1;
        self.keys.insert(handle.to_string(), key.public().fingerprint());
        key.public().to_openssh()
    }

    /// Records a row that the rules must accept.
    #[track_caller]
    pub fn ok(&mut self, actor: &str, action: &str, values: &[(&str, &str)]) {
        let table = if action == "stop-work" && values.iter().any(|(c, _)| *c == "seconds") {
            schema::table_id("session_logs").unwrap()
        } else {
            schema::table_of_action(action).unwrap()
        };
        let now = self.now.to_string();
        let mut values = values.to_vec();
        if schema::tables()[table].name == "work_clock" {
            values.push(("happened_at", &now));
        }
        let mut row = Row::draft(table, self.state.last_seq + 1, self.now, actor, action, &values).unwrap();
        row.key = self.keys.get(actor).cloned().unwrap_or_default();
        row.signature = SIG.into();
        if let Err(v) = apply(&mut self.state, &row, None) {
            panic!("{action} by {actor} refused: {v}");
        }
        let name = row.schema().name.clone();
        let line = self.lines.entry(name.clone()).or_insert(1);
        *line += 1;
        let at = Location {
            file: format!("tables/{name}/1/01.csv"),
            line: *line,
            table: name,
        };
        self.rows.push((row, at));
    }

    /// Moves the clock on.
    pub fn later(&mut self, hours: i64) {
        self.now = self.now.plus(hours * HOUR);
    }

    /// An owner with a key.
    pub fn owner(&mut self, by: &str, handle: &str, license: &str) {
        self.ok(by, "create-owner", &[("owner", handle), ("license", license)]);
        let public = self.new_key(handle);
        self.ok(by, "register-key", &[("owner", handle), ("public_key", &public)]);
    }

    fn role(&mut self, by: &str, role: &str, owner: &str, team: &str, position: &str) {
        let values = [("role", role), ("owner", owner), ("team", team), ("position", position)];
        self.ok(by, "assign-role", &values);
    }

    /// Founder, teams 3_1 and 3_2, captain `cap` of 3_2, mission leader `maya` of 5_2_1,
    /// senior `alice`, junior `bob`, a treasury of 1000 EUR and task 6_2_1_1 "Design the
    /// logo" (medium, design: 55 SC).
    pub fn organisation() -> Book {
        let mut b = Book::new();
        b.ok(
            "founder",
            "bootstrap-teams",
            &[("team", "3_1_leadership_team"), ("name", "Leadership")],
        );
        b.ok("founder", "bootstrap-teams", &[("team", "3_2_design_team"), ("name", "Design")]);
        for (h, l) in [("cap", "organizational"), ("maya", "work"), ("alice", "work"), ("bob", "work")] {
            b.owner("founder", h, l);
        }
        b.role("founder", "4_1_2_tc_design_team", "cap", "3_2", "captain");
        b.ok(
            "cap",
            "create-objective",
            &[("objective", "5_2_1"), ("team", "3_2"), ("title", "Logo")],
        );
        b.role("founder", "5_2_1", "maya", "3_2", "mission_leader");
        b.role("cap", "4_2_1", "alice", "3_2", "senior");
        b.role("cap", "4_3_1", "bob", "3_2", "junior");
        b.ok(
            "founder",
            "deposit-eur",
            &[("currency", "EUR"), ("amount", "1000"), ("reason", "license")],
        );
        let task = [
            ("task", "6_2_1_1_logo"),
            ("objective", "5_2_1"),
            ("team", "3_2"),
            ("title", "Design the logo"),
            ("size", "medium"),
            ("phase", "design"),
            ("budget", "55.00"),
        ];
        b.ok("cap", "create-task", &task);
        b
    }

    /// Assigns 6_2_1_1 to alice (Attacker) and bob (Defender).
    pub fn assign(&mut self) {
        let pair = [("task", "6_2_1_1"), ("attacker", "alice"), ("defender", "bob")];
        self.ok("maya", "assign-task", &pair);
    }

    /// alice starts 6_2_1_1.
    pub fn start(&mut self) {
        let pair = [("task", "6_2_1_1"), ("attacker", "alice"), ("defender", "bob")];
        self.ok("alice", "start-task", &pair);
    }

    /// Opens a session of `who` on 6_2_1_1; returns its id.
    pub fn open_session(&mut self, who: &str) -> String {
        let seq = (self.state.last_seq + 1).to_string();
        self.ok(who, "start-work", &[("session", &seq), ("task", "6_2_1_1"), ("owner", who)]);
        seq
    }

    /// A closed session of `who` on 6_2_1_1, `hours` long.
    pub fn session(&mut self, who: &str, hours: i64) {
        let started = self.now;
        let seq = self.open_session(who);
        self.later(hours);
        self.ok(who, "stop-work", &[("session", &seq), ("task", "6_2_1_1"), ("owner", who)]);
        let (a, b, secs) = (started.to_string(), self.now.to_string(), (hours * HOUR).to_string());
        let log = [
            ("session", seq.as_str()),
            ("task", "6_2_1_1"),
            ("owner", who),
            ("started", &a),
            ("stopped", &b),
            ("seconds", &secs),
        ];
        self.ok(who, "stop-work", &log);
    }

    /// maya assesses 6_2_1_1 at 90%: 44.55 SC to alice and 4.95 to bob pending.
    pub fn assess(&mut self) {
        let scores = [
            ("task", "6_2_1_1"),
            ("attacker_score", "9"),
            ("defender_score", "8"),
            ("collaboration_score", "8"),
            ("share", "90"),
            ("attacker_sc", "44.55"),
            ("defender_sc", "4.95"),
        ];
        self.ok("maya", "assess-work", &scores);
    }

    /// cap validates all pending SC of 6_2_1_1 (the window must be over).
    pub fn validate(&mut self) {
        let all = [("task", "6_2_1_1"), ("attacker_sc", "44.55"), ("defender_sc", "4.95")];
        self.ok("cap", "validate-pending-sc", &all);
    }
}
