//! The governance bench of issue 13: `cargo bench --bench governance [-- --voters 10000
//! --votes 50000 --other-rows 200000 --proposals 1000]`.
//!
//! 1. Tally: a proposal with `--voters` eligible owners and `--votes` vote rows (each voter
//!    changing their mind a few times), applied through `smartup::rules::apply` in this
//!    process: the rate of vote rows, the cost of making the proposal (it weighs every
//!    eligible owner once) and of closing it. The rows carry a placeholder signature here (the
//!    rules decode signatures but never check their value: `verify` does, below).
//! 2. The same proposal on a ledger grown by `--other-rows` rows outside it (deposits and
//!    closed proposals): closing must cost the same (MET when within 3x + 50 us).
//! 3. Verify: a git ledger of `--proposals` proposals, each voted on by 10 owners and closed,
//!    one signed action per commit, checked by `smartup::verify::walk` in a fresh process:
//!    rows/s, commits/s and peak memory.
//! 4. The hook on that ledger, its state cache warm at the tip: a push of one proposal and 99
//!    votes on it, one signed action per commit, checked through the library in a fresh
//!    process.

#[path = "common/mod.rs"]
mod common;

use common::{hook_child, hook_once, key_of, run_child, verify_child, BRANCH, LEDGER_ID, NAME};
use smartup::ledger::action::ActionKind;
use smartup::ledger::policy::{file_reference, Policy, README_TEMPLATE, TEMPLATE};
use smartup::ledger::row::Row;
use smartup::ledger::{POLICY_FILE, README_FILE};
use smartup::repo::write::{advance_branch, RootFile};
use smartup::rules::draft::{draft, Intent, ProposalIntent};
use smartup::rules::governance::{Choice, Kind};
use smartup::rules::{self, State};
use smartup::sign::{encode_signature, SigningKey};
use smartup::time::{Timestamp, DAY, HOUR};
use smartup::verify::cache::StateCache;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

const TEXT_HASH: &str = "sha256:5555555555555555555555555555555555555555555555555555555555555555";

struct Args {
    voters: usize,
    votes: usize,
    other_rows: usize,
    proposals: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    if let Some(dir) = value("--verify-only") {
        verify_child(Path::new(&dir), true, 0);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--hook-once") {
        let get = |k: usize| args.get(i + k).cloned().unwrap_or_default();
        hook_once(Path::new(&get(1)), &get(2), &get(3));
        return;
    }
    let number = |flag: &str, default: usize| -> usize {
        value(flag).map_or(default, |v| {
            v.replace('_', "").parse().unwrap_or_else(|_| {
                eprintln!("governance bench: {flag} takes a number");
                eprintln!(
                    "usage: cargo bench --bench governance -- [--voters 10000] [--votes 50000] [--other-rows 200000] [--proposals 1000]"
                );
                std::process::exit(2)
            })
        })
    };
    let args = Args {
        voters: number("--voters", 10_000).max(2),
        votes: number("--votes", 50_000).max(1),
        other_rows: number("--other-rows", 200_000),
        proposals: number("--proposals", 1_000).max(1),
    };
    println!(
        "machine: {}, {} cores, {}; load average {}",
        common::cpu_model(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        common::mem_total(),
        common::read_trimmed("/proc/loadavg")
    );
    tally(&args);
    verify(&args);
}

/// A ledger in memory: the state and the next row's time; rows get a placeholder signature.
struct Book {
    state: State,
    now: Timestamp,
    keys: HashMap<String, String>,
    placeholder: String,
}

impl Book {
    fn new() -> Book {
        let text = Policy::render_template(TEMPLATE, LEDGER_ID, NAME);
        let policy = Policy::parse(&text).expect("template policy");
        let now = Timestamp::now();
        let mut book = Book {
            state: State::new(policy, file_reference(text.as_bytes())),
            now: Timestamp(now.0 - 400 * DAY),
            keys: HashMap::new(),
            placeholder: encode_signature(&[0; 64]),
        };
        let founder = key_of("founder").public().to_openssh();
        book.keys.insert("founder".into(), key_of("founder").public().fingerprint());
        let reference = book.state.policy_reference.clone();
        book.apply(
            "founder",
            "register-smartup",
            &[("subject", NAME), ("reference", &reference), ("public_key", &founder)],
        );
        book.apply(
            "founder",
            "bootstrap-teams",
            &[("team", "3_1_leadership_team"), ("name", "Leadership")],
        );
        book
    }

    /// Applies a row that must be accepted.
    fn apply(&mut self, actor: &str, action: &str, values: &[(&str, &str)]) {
        let table = ActionKind::parse(action).expect("an action").table();
        let mut row = Row::draft(table, self.state.last_seq + 1, self.now, actor, action, values).expect("draft");
        row.key = self.keys.get(actor).cloned().unwrap_or_default();
        row.signature = self.placeholder.clone();
        rules::apply(&mut self.state, &row, None).unwrap_or_else(|v| panic!("{action} by {actor}: {v}"));
    }

    /// Applies the rows of an intent, drafted as the CLI drafts them.
    fn act(&mut self, actor: &str, intent: &Intent) {
        for entry in draft(&self.state, actor, self.now, intent).expect("a draft").entries {
            let values: Vec<(&str, &str)> = entry.values.iter().map(|(k, v)| (*k, v.as_str())).collect();
            self.apply(actor, entry.action.name(), &values);
        }
    }

    /// `n` owners `voter0..`, each with a key (fingerprints from a cheap per-owner seed).
    fn owners(&mut self, n: usize) {
        for i in 0..n {
            let handle = format!("voter{i}");
            self.apply("founder", "create-owner", &[("owner", &handle), ("license", "work")]);
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let key = SigningKey::from_seed(seed, &handle).public().clone();
            self.apply("founder", "register-key", &[("owner", &handle), ("public_key", &key.to_openssh())]);
            self.keys.insert(handle, key.fingerprint());
        }
    }
}

fn binding_vote() -> Intent {
    Intent::Propose(ProposalIntent::new(Kind::BindingVote, "Bench", TEXT_HASH, ""))
}

const CHOICES: [Choice; 3] = [Choice::Yes, Choice::No, Choice::Abstain];

/// Proposes, applies the votes and closes on `book`; returns (propose, votes, close) seconds.
fn one_proposal(book: &mut Book, voters: usize, votes: usize) -> (f64, f64, f64) {
    let started = Instant::now();
    book.act("founder", &binding_vote());
    let propose = started.elapsed().as_secs_f64();
    let seq = book.state.last_seq;
    let mut rng = common::Rng::new(7);
    let started = Instant::now();
    for i in 0..votes {
        let voter = format!("voter{}", i % voters);
        let choice = CHOICES[rng.below(3)];
        book.act(
            &voter,
            &Intent::Vote {
                proposal: seq,
                choice,
                note: String::new(),
            },
        );
    }
    let voted = started.elapsed().as_secs_f64();
    book.now = book.now.plus(169 * HOUR);
    let started = Instant::now();
    book.act(
        "voter0",
        &Intent::CloseProposal {
            proposal: seq,
            note: String::new(),
        },
    );
    (propose, voted, started.elapsed().as_secs_f64())
}

fn tally(args: &Args) {
    println!(
        "\n1. Tally: a proposal with {} eligible voters and {} vote rows (rules only, placeholder signatures)",
        args.voters, args.votes
    );
    let mut book = Book::new();
    let started = Instant::now();
    book.owners(args.voters);
    println!(
        "   {} owners with keys built in {:.2} s",
        args.voters,
        started.elapsed().as_secs_f64()
    );
    let (propose, voted, close) = one_proposal(&mut book, args.voters, args.votes);
    println!(
        "   propose {:.2} ms (weighs {} owners once); {} votes in {:.3} s = {:.0} vote rows/s; close {:.1} us",
        propose * 1e3,
        args.voters,
        args.votes,
        voted,
        args.votes as f64 / voted,
        close * 1e6
    );
    let decided = book.state.decided.values().next().expect("the closed proposal");
    println!(
        "   result: {} (yes {}, no {}, abstain {} of {} eligible; {} voters)",
        if decided.outcome.as_ref().is_some_and(|o| o.passed) {
            "passed"
        } else {
            "failed"
        },
        smartup::rules::governance::format_weight(decided.tally.yes),
        smartup::rules::governance::format_weight(decided.tally.no),
        smartup::rules::governance::format_weight(decided.tally.abstain),
        smartup::rules::governance::format_weight(decided.eligible),
        decided.tally.voters
    );

    println!(
        "\n2. The same proposal after {} rows outside it (deposits and 1,000 closed proposals)",
        args.other_rows
    );
    let mut rows = 0;
    while rows < args.other_rows.saturating_sub(3_000) {
        book.apply(
            "founder",
            "deposit-eur",
            &[("currency", "EUR"), ("amount", "1"), ("reason", "donation")],
        );
        rows += 1;
    }
    for _ in 0..1_000.min(args.other_rows / 3) {
        let (_, _, _) = one_proposal(&mut book, 1, 1);
    }
    let (_, _, close_big) = one_proposal(&mut book, args.voters, args.votes);
    let met = close_big <= close * 3.0 + 50e-6;
    println!(
        "   ledger of {} rows: close {:.1} us (was {:.1} us on the small ledger): {}",
        book.state.last_seq,
        close_big * 1e6,
        close * 1e6,
        if met {
            "MET (closing does not grow with the ledger)"
        } else {
            "NOT MET"
        }
    );
}

fn verify(args: &Args) {
    let dir = PathBuf::from(format!("target/bench-governance-{}", args.proposals));
    println!(
        "\n3. Verify a ledger of {} proposals (10 votes and a close each, one signed action per commit) in {}",
        args.proposals,
        dir.display()
    );
    let _ = std::fs::remove_dir_all(&dir);
    let started = Instant::now();
    let mut ledger = generate(&dir, args.proposals);
    println!(
        "   generated {} commits in {:.1} s",
        ledger.commits,
        started.elapsed().as_secs_f64()
    );
    let exe = std::env::current_exe().expect("this bench's executable");
    let measured = run_child(&exe, &dir, &[], false);
    println!("   {}", measured.line("verify (signatures and rules)"));
    println!("   {:.0} commits/s", measured.commits as f64 / measured.secs);
    hook(&exe, &dir, &mut ledger);
}

/// Part 4, the forge's hook on that ledger (state cache warm at its tip): a push of one
/// proposal and 99 votes on it, one signed action per commit, checked in a fresh process.
fn hook(exe: &Path, dir: &Path, ledger: &mut Writer) {
    const VOTES: usize = 99;
    let tip = ledger.parent.expect("a tip");
    StateCache::of(&ledger.repo)
        .store(tip, &ledger.state)
        .expect("cache the tip's state");
    let at = ledger.state.last_timestamp.expect("rows").plus(60);
    ledger.act("founder", &binding_vote(), at, &[]);
    let proposal = ledger.state.last_seq;
    let mut rng = common::Rng::new(13);
    for _ in 0..VOTES {
        let voter = owner(1 + rng.below(OWNERS));
        let vote = Intent::Vote {
            proposal,
            choice: CHOICES[rng.below(3)],
            note: String::new(),
        };
        ledger.act(&voter, &vote, at, &[]);
    }
    let new = ledger.parent.expect("the pushed tip");
    println!("\n4. The hook (library check, fresh process, state cache warm at the tip)");
    match hook_child(exe, dir, tip, new, &at.to_string()) {
        Ok(line) => println!("   push of 1 proposal and {VOTES} votes, one commit each: {line}"),
        Err(e) => println!("   push of 1 proposal and {VOTES} votes: failed: {e}"),
    }
}

/// Owners of the verify ledger besides the founder.
const OWNERS: usize = 40;

fn owner(i: usize) -> String {
    format!("owner{i:02}")
}

/// Writes the proposals ledger: genesis, the leadership team, `OWNERS` owners with their
/// keys, then batches of 50 proposals voted on by 10 owners each and closed after the window;
/// every action its own commit signed by its actor, drafted as the CLI drafts it.
fn generate(dir: &Path, proposals: usize) -> Writer {
    let mut options = git2::RepositoryInitOptions::new();
    options.bare(true).initial_head(BRANCH);
    let repo = git2::Repository::init_opts(dir, &options).expect("a bench repository");
    let text = Policy::render_template(TEMPLATE, LEDGER_ID, NAME);
    let readme = Policy::render_template(README_TEMPLATE, LEDGER_ID, NAME);
    let policy = Policy::parse(&text).expect("template policy");
    let mut ledger = Writer {
        repo,
        parent: None,
        commits: 0,
        state: State::new(policy, file_reference(text.as_bytes())),
    };
    let mut clock = Timestamp(Timestamp::now().0 - (proposals as i64 / 50 + 2) * 8 * DAY);
    let genesis = Intent::RegisterSmartup {
        name: NAME.into(),
        public_key: key_of("founder").public().to_openssh(),
    };
    let roots = [
        RootFile {
            name: POLICY_FILE,
            bytes: text.as_bytes(),
        },
        RootFile {
            name: README_FILE,
            bytes: readme.as_bytes(),
        },
    ];
    ledger.act("founder", &genesis, clock, &roots);
    ledger.repo.set_head(&format!("refs/heads/{BRANCH}")).expect("HEAD");
    let teams = Intent::BootstrapTeams {
        teams: vec![("3_1_leadership_team".into(), "Leadership".into())],
    };
    ledger.act("founder", &teams, clock, &[]);
    for i in 1..=OWNERS {
        let create = Intent::CreateOwner {
            owner: owner(i),
            license: "work".into(),
            public_key: Some(key_of(&owner(i)).public().to_openssh()),
            payment: None,
            note: String::new(),
        };
        ledger.act("founder", &create, clock, &[]);
    }
    let mut rng = common::Rng::new(11);
    let mut made = 0;
    while made < proposals {
        let batch = (proposals - made).min(50);
        let mut seqs = Vec::new();
        for _ in 0..batch {
            clock = clock.plus(60);
            ledger.act("founder", &binding_vote(), clock, &[]);
            seqs.push(ledger.state.last_seq);
        }
        for &proposal in &seqs {
            for _ in 0..10 {
                clock = clock.plus(5);
                let vote = Intent::Vote {
                    proposal,
                    choice: CHOICES[rng.below(3)],
                    note: String::new(),
                };
                ledger.act(&owner(1 + rng.below(OWNERS)), &vote, clock, &[]);
            }
        }
        clock = clock.plus(169 * HOUR);
        for &proposal in &seqs {
            clock = clock.plus(5);
            ledger.act(
                &owner(1),
                &Intent::CloseProposal {
                    proposal,
                    note: String::new(),
                },
                clock,
                &[],
            );
        }
        made += batch;
    }
    assert!(clock < Timestamp::now(), "the generated timestamps stay in the past");
    ledger
}

/// Writes one commit per action on the ledger branch, keeping the state after it.
struct Writer {
    repo: git2::Repository,
    parent: Option<git2::Oid>,
    commits: u64,
    state: State,
}

impl Writer {
    /// `actor` records `intent` at `at`: drafted, signed with their key, checked by the rules
    /// and committed (with `roots` beside the rows: the genesis commit's files).
    fn act(&mut self, actor: &str, intent: &Intent, at: Timestamp, roots: &[RootFile]) {
        let key = key_of(actor);
        let (ledger_id, namespace) = (self.state.ledger_id.clone(), self.state.policy.ledger.namespace.clone());
        let mut rows = Vec::new();
        for entry in draft(&self.state, actor, at, intent).expect("a draft").entries {
            let values: Vec<(&str, &str)> = entry.values.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let mut row = Row::draft(entry.table, self.state.last_seq + 1, at, actor, entry.action.name(), &values).expect("a row");
            row.key = key.public().fingerprint();
            row.sign(&key, &ledger_id, &namespace);
            rules::apply(&mut self.state, &row, None).unwrap_or_else(|v| panic!("{}: {v}", entry.action.name()));
            rows.push(row);
        }
        let parent = self.parent.map(|p| self.repo.find_commit(p).expect("the previous commit"));
        let oid = common::commit_action(&self.repo, parent.as_ref(), &self.state, &rows, roots);
        advance_branch(&self.repo, BRANCH, self.parent, oid, "bench").expect("move the branch");
        self.parent = Some(oid);
        self.commits += 1;
    }
}
