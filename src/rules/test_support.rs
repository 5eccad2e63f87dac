//! A ledger under construction for unit tests (of the rules and of the views): rows drafted
//! with `Row::draft` (a placeholder signature; the rules never check its value), judged by
//! [`apply`], and kept with where they would be written.

use super::{apply, State, Violation};
use crate::ledger::policy::{file_reference, Policy, TEMPLATE};
use crate::ledger::row::{Location, Row};
use crate::ledger::schema;
use crate::sign::SigningKey;
use crate::time::{format_date, Timestamp, HOUR};
use std::collections::HashMap;

/// A ledger under construction: keeps seq and time, knows everyone's key fingerprint.
pub struct Book {
    /// The state after the last row.
    pub state: State,
    /// The state before genesis.
    pub genesis: State,
    /// The time of the next row.
    pub now: Timestamp,
    /// Key fingerprints by handle.
    pub keys: HashMap<String, String>,
    /// Every accepted row with where it would be written.
    pub rows: Vec<(Row, Location)>,
    lines: HashMap<String, u64>,
    seed: u8,
}

/// Assess-work values for task 6_2_1_1 at 90% with scores 9, 8, 8: 44.55 SC to the
/// Attacker and 4.95 to the Defender.
pub const ASSESS_WELL: [(&str, &str); 7] = [
    ("task", "6_2_1_1"),
    ("attacker_score", "9"),
    ("defender_score", "8"),
    ("collaboration_score", "8"),
    ("share", "90"),
    ("attacker_sc", "44.55"),
    ("defender_sc", "4.95"),
];

/// A well-formed placeholder signature.
pub const SIG: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";

impl Default for Book {
    fn default() -> Self {
        Book::new()
    }
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_seed([seed; 32], "test")
}

impl Book {
    /// A ledger with only its genesis row, under the template policy as `edit` changes it.
    pub fn with_policy(edit: impl Fn(String) -> String) -> Book {
        let text = edit(Policy::render_template(TEMPLATE, "0123456789abcdef0123", "Test"));
        let policy = Policy::parse(&text).unwrap();
        let state = State::new(policy, file_reference(text.as_bytes()));
        let mut book = Book {
            genesis: state.clone(),
            state,
            now: "2026-01-05T09:00:00Z".parse().unwrap(),
            keys: HashMap::new(),
            rows: Vec::new(),
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

    /// A ledger with only its genesis row.
    pub fn new() -> Book {
        Book::with_policy(|t| t)
    }

    /// A new key for `handle`, as its OpenSSH line.
    pub fn new_key(&mut self, handle: &str) -> String {
        let k = key(self.seed);
        self.seed += 1;
        self.keys.insert(handle.to_string(), k.public().fingerprint());
        k.public().to_openssh()
    }

    /// The next row `actor` would write, with a placeholder signature.
    pub fn row(&self, actor: &str, action: &str, values: &[(&str, &str)]) -> Row {
        let table = if action == "stop-work" && values.iter().any(|(c, _)| *c == "seconds") {
            schema::table_id("session_logs").unwrap()
        } else {
            crate::ledger::action::ActionKind::parse(action).unwrap().table()
        };
        // Clock rows happen when they are recorded unless a test says otherwise.
        let now = self.now.to_string();
        let mut values = values.to_vec();
        if schema::tables()[table].name == "work_clock" && !values.iter().any(|(c, _)| *c == "happened_at") {
            values.push(("happened_at", &now));
        }
        let mut row = Row::draft(table, self.state.last_seq + 1, self.now, actor, action, &values).unwrap();
        row.key = self.keys.get(actor).cloned().unwrap_or_else(|| "SHA256:none".into());
        row.signature = SIG.into();
        row
    }

    /// Applies the next row; a refused row leaves the state exactly as it was.
    pub fn try_row(&mut self, actor: &str, action: &str, values: &[(&str, &str)]) -> Result<(), Violation> {
        let row = self.row(actor, action, values);
        let before = format!("{:?}", self.state);
        let result = apply(&mut self.state, &row, None);
        match result {
            Ok(()) => self.keep(row),
            Err(_) => assert_eq!(before, format!("{:?}", self.state), "a refused row changed the state"),
        }
        result
    }

    #[track_caller]
    /// Records a row that the rules must accept.
    pub fn ok(&mut self, actor: &str, action: &str, values: &[(&str, &str)]) {
        if let Err(v) = self.try_row(actor, action, values) {
            panic!("{action} by {actor} refused: {v}");
        }
    }

    #[track_caller]
    /// Tries a row that the rules must refuse with `code`; returns their words.
    pub fn refused(&mut self, code: &str, actor: &str, action: &str, values: &[(&str, &str)]) -> String {
        match self.try_row(actor, action, values) {
            Ok(()) => panic!("{action} by {actor} was accepted, expected {code}"),
            Err(v) => {
                assert_eq!(v.code, code, "{v}");
                v.message
            }
        }
    }

    /// Records the rows `actor` writes for `intent` now, drafted as the CLI drafts them (so
    /// they copy what the policy says); the rules must accept them.
    #[track_caller]
    pub fn act(&mut self, actor: &str, intent: &crate::rules::draft::Intent) {
        let drafted = crate::rules::draft::draft(&self.state, actor, self.now, intent).unwrap_or_else(|v| panic!("{intent:?}: {v}"));
        for entry in drafted.entries {
            let values: Vec<(&str, &str)> = entry.values.iter().map(|(c, v)| (*c, v.as_str())).collect();
            self.ok(actor, entry.action.name(), &values);
        }
    }

    /// Moves the clock on.
    pub fn later(&mut self, hours: i64) {
        self.now = self.now.plus(hours * HOUR);
    }

    /// An owner with a key, created by `by`.
    pub fn owner(&mut self, by: &str, handle: &str, license: &str) {
        self.ok(by, "create-owner", &[("owner", handle), ("license", license)]);
        let public = self.new_key(handle);
        self.ok(by, "register-key", &[("owner", handle), ("public_key", &public)]);
    }

    /// `by` gives `owner` a role.
    pub fn role(&mut self, by: &str, role: &str, owner: &str, team: &str, position: &str) {
        self.ok(
            by,
            "assign-role",
            &[("role", role), ("owner", owner), ("team", team), ("position", position)],
        );
    }

    /// Founder, teams 3_1 and 3_2, captain `cap` of 3_2, mission leader `maya` of 5_2_1,
    /// senior `alice`, junior `bob`, campaign owner `carol`, a funded treasury and task
    /// 6_2_1_1 (medium, design: 55 SC).
    pub fn organisation() -> Book {
        let mut b = Book::new();
        b.ok(
            "founder",
            "bootstrap-teams",
            &[("team", "3_1_leadership_team"), ("name", "Leadership")],
        );
        b.ok("founder", "bootstrap-teams", &[("team", "3_2_design_team"), ("name", "Design")]);
        for (h, l) in [
            ("cap", "organizational"),
            ("maya", "work"),
            ("alice", "work"),
            ("bob", "work"),
            ("carol", "campaign"),
            ("dave", "work"),
        ] {
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
        b.ok(
            "cap",
            "create-task",
            &[
                ("task", "6_2_1_1_logo"),
                ("objective", "5_2_1"),
                ("team", "3_2"),
                ("title", "Design the logo"),
                ("size", "medium"),
                ("phase", "design"),
                ("budget", "55.00"),
            ],
        );
        b
    }

    /// The organisation with 6_2_1_1 assigned to alice and bob, and started.
    pub fn started() -> Book {
        let mut b = Book::organisation();
        b.ok(
            "maya",
            "assign-task",
            &[("task", "6_2_1_1"), ("attacker", "alice"), ("defender", "bob")],
        );
        b.ok(
            "alice",
            "start-task",
            &[("task", "6_2_1_1"), ("attacker", "alice"), ("defender", "bob")],
        );
        b
    }

    /// A closed session of `who` on 6_2_1_1, `hours` long.
    pub fn session(&mut self, who: &str, hours: i64) {
        let started = self.now;
        let seq = self.open_session(who);
        self.later(hours);
        self.ok(who, "stop-work", &[("session", &seq), ("task", "6_2_1_1"), ("owner", who)]);
        let (a, b, secs) = (started.to_string(), self.now.to_string(), (hours * HOUR).to_string());
        self.ok(
            who,
            "stop-work",
            &[
                ("session", &seq),
                ("task", "6_2_1_1"),
                ("owner", who),
                ("started", &a),
                ("stopped", &b),
                ("seconds", &secs),
            ],
        );
    }

    /// Started, two 2-hour sessions, then assessed with these scores and amounts.
    pub fn assessed(share: &str, attacker: &str, defender: &str, scores: [&str; 3]) -> Book {
        let mut b = Book::started();
        b.session("alice", 2);
        b.session("bob", 2);
        b.ok(
            "maya",
            "assess-work",
            &[
                ("task", "6_2_1_1"),
                ("attacker_score", scores[0]),
                ("defender_score", scores[1]),
                ("collaboration_score", scores[2]),
                ("share", share),
                ("attacker_sc", attacker),
                ("defender_sc", defender),
            ],
        );
        b
    }

    /// Assessed at 90%: 44.55 SC pending for alice, 4.95 for bob.
    pub fn assessed_well() -> Book {
        // total 25 -> band 80-95%; 90% of 55 = 49.50 -> 44.55 / 4.95
        Book::assessed("90", "44.55", "4.95", ["9", "8", "8"])
    }

    /// Files an accepted row under the segment it would be written to.
    fn keep(&mut self, row: Row) {
        let name = row.schema().name.clone();
        let line = self.lines.entry(name.clone()).or_insert(1);
        *line += 1;
        let at = Location {
            file: format!("tables/{name}/1/01.csv").into(),
            line: *line,
            table: name.into(),
        };
        self.rows.push((row, at));
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

    /// maya assesses 6_2_1_1 at 90%: 44.55 SC to alice and 4.95 to bob pending.
    pub fn assess(&mut self) {
        self.ok("maya", "assess-work", &ASSESS_WELL);
    }

    /// cap validates all pending SC of 6_2_1_1 (the window must be over).
    pub fn validate(&mut self) {
        let all = [("task", "6_2_1_1"), ("attacker_sc", "44.55"), ("defender_sc", "4.95")];
        self.ok("cap", "validate-pending-sc", &all);
    }

    /// The organisation with 6_2_1_1 assigned, started, worked by alice for 2 hours and
    /// assessed at 90%.
    pub fn assessed_after_one_session() -> Book {
        let mut b = Book::organisation();
        b.assign();
        b.start();
        b.session("alice", 2);
        b.assess();
        b
    }

    /// [`Book::assessed_after_one_session`], then validated after the 48-hour window.
    pub fn paid_after_one_session() -> Book {
        let mut b = Book::assessed_after_one_session();
        b.later(48);
        b.validate();
        b
    }

    /// cap awards `owner` 20 SK for governance, earned today.
    pub fn award_governance(&mut self, owner: &str) {
        let today = format_date(self.now.day());
        let award = [
            ("owner", owner),
            ("currency", "SK"),
            ("amount", "20"),
            ("reason", "governance"),
            ("earned_on", &today),
        ];
        self.ok("cap", "award-sk", &award);
    }
}
