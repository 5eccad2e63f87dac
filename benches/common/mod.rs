//! What the benchmarks share: the ledger generator (big commits or one action per commit),
//! the measured verify child, and readings of the machine (/proc).
//!
//! Each bench is its own crate and uses a part of this module, hence `dead_code` is allowed.
#![allow(dead_code)]

use git2::{Oid, Repository};
use sha2::{Digest, Sha256};
use smartup::hook::pre_receive::{check, PushEnv, Update};
use smartup::ledger::action::ActionKind;
use smartup::ledger::policy::{file_reference, Policy, README_TEMPLATE, TEMPLATE};
use smartup::ledger::row::Row;
use smartup::ledger::schema::{self, TableId};
use smartup::ledger::{POLICY_FILE, README_FILE};
use smartup::money::Amount;
use smartup::repo;
use smartup::repo::write::{advance_branch, commit_rows, Author, RootFile};
use smartup::rules::draft::{draft, Intent};
use smartup::rules::state::TaskState;
use smartup::rules::{self, State};
use smartup::sign::{encode_signature, SigningKey};
use smartup::time::{format_date, Timestamp, DAY, HOUR};
use smartup::verify::{walk, Options};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bumped whenever the generator changes, so that an older cached ledger is not reused.
pub const GENERATOR_VERSION: u32 = 8;

/// The ledger id of every generated ledger.
pub const LEDGER_ID: &str = "bench0000000000000000000000000001";
/// The smartup's name.
pub const NAME: &str = "Bench Smartup";
/// The ledger branch (as in the template).
pub const BRANCH: &str = "main";
/// File in the generated repository that records what was generated.
pub const MARKER: &str = "smartup-bench.txt";
/// The work teams (3_2 .. 3_5), each with a captain, a mission leader and workers.
pub const TEAMS: [(&str, &str); 4] = [
    ("design", "Design"),
    ("product", "Product"),
    ("engineering", "Engineering"),
    ("community", "Community"),
];
/// Owners who work on tasks.
pub const WORKERS: usize = 46;
/// Open work sessions the generator aims for.
pub const TARGET_OPEN: usize = 20;
/// Started tasks per team that new sessions are opened on.
pub const RECENT_TASKS: usize = 3;
/// The founder is person 0.
pub const FOUNDER: usize = 0;

// ---------------------------------------------------------------------------------------------
// Measured verify runs and the machine

/// One measured verify (or replay) run, as a child reports it.
#[derive(Clone, Debug)]
pub struct Measured {
    pub rows: u64,
    pub commits: u64,
    pub secs: f64,
    pub hwm_kb: u64,
    /// The largest anonymous resident memory seen (heap, stacks), in kB, sampled.
    pub anon_kb: u64,
    /// The largest file-backed resident memory seen (the mapped pack, its index and the
    /// program), in kB, sampled.
    pub file_kb: u64,
    pub cpu_secs: f64,
    /// Average cores used by other processes during the run (from /proc/stat).
    pub other_cores: f64,
    /// Average cores stolen by the hypervisor during the run.
    pub steal_cores: f64,
}

impl Measured {
    /// Rows per second.
    pub fn rate(&self) -> f64 {
        self.rows as f64 / self.secs
    }

    /// One line of the report.
    pub fn line(&self, label: &str) -> String {
        format!(
            "{label:<34} {:>10.0} rows/s {:>8.2} s {:>8.1} MB peak {:>5.2} cores used {:>5.2} other {:>5.2} steal",
            self.rate(),
            self.secs,
            self.hwm_kb as f64 / 1024.0,
            self.cpu_secs / self.secs,
            self.other_cores,
            self.steal_cores
        )
    }
}

/// Runs one verify child and measures the machine around it.
pub fn run_child(exe: &Path, dir: &Path, extra: &[&str], one_core: bool) -> Measured {
    let mut command = if one_core {
        let mut c = Command::new("taskset");
        c.args(["-c", "0"]).arg(exe);
        c
    } else {
        Command::new(exe)
    };
    command.arg("--verify-only").arg(dir).args(extra);
    let before = CpuStat::read();
    let output = command.output().expect("cannot start the verify child");
    let after = CpuStat::read();
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stdout));
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        panic!("the verify child failed: {}", output.status);
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .unwrap_or_else(|| panic!("the verify child printed no RESULT line:\n{text}"));
    let field = |name: &str| -> f64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line:?}"))
    };
    let secs = field("secs");
    let cpu_secs = field("cpu_secs");
    let (busy, steal) = after.since(&before);
    Measured {
        rows: field("rows") as u64,
        commits: field("commits") as u64,
        secs,
        hwm_kb: field("hwm_kb") as u64,
        anon_kb: field("anon_kb") as u64,
        file_kb: field("file_kb") as u64,
        cpu_secs,
        other_cores: ((busy - cpu_secs) / secs).max(0.0),
        steal_cores: steal / secs,
    }
}

/// True when `taskset -c 0` can run a program here.
pub fn taskset_works() -> bool {
    Command::new("taskset")
        .args(["-c", "0", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Machine-wide CPU counters from the first line of /proc/stat.
pub struct CpuStat {
    busy: u64,
    steal: u64,
}

impl CpuStat {
    /// The counters now.
    pub fn read() -> CpuStat {
        let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let numbers: Vec<u64> = text
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        let at = |i: usize| numbers.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal (guest time is inside user)
        CpuStat {
            busy: at(0) + at(1) + at(2) + at(5) + at(6),
            steal: at(7),
        }
    }

    /// Busy and stolen CPU seconds since `earlier`.
    pub fn since(&self, earlier: &CpuStat) -> (f64, f64) {
        let tick = clock_ticks();
        (
            (self.busy.saturating_sub(earlier.busy)) as f64 / tick,
            (self.steal.saturating_sub(earlier.steal)) as f64 / tick,
        )
    }
}

/// USER_HZ, the unit of /proc/stat and /proc/self/stat (`getconf CLK_TCK`, else 100).
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// How much faster `threads` threads verify a fixed number of signatures than one thread
/// (a check of the machine: shared or hyper-threaded cores scale less).
pub fn parallel_scaling(key: &SigningKey, threads: usize) -> f64 {
    const CHECKS: usize = 3_000;
    let message = b"parallel scaling probe";
    let signature = key.sign("smartup-bench", message);
    let work = |n: usize| {
        for _ in 0..n {
            assert!(key.public().verify("smartup-bench", message, &signature));
        }
    };
    let one = timed_once(|| work(CHECKS));
    let many = timed_once(|| {
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| work(CHECKS / threads));
            }
        })
    });
    one.as_secs_f64() / many.as_secs_f64()
}

/// A small file's content without surrounding white space ("?" if unreadable).
pub fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path).map_or_else(|_| "?".to_string(), |t| t.trim().to_string())
}

/// The CPU model name from /proc/cpuinfo.
pub fn cpu_model() -> String {
    let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown CPU".to_string(), |(_, v)| v.trim().to_string())
}

/// MemTotal from /proc/meminfo, in GB.
pub fn mem_total() -> String {
    let kb = proc_status_kb("/proc/meminfo", "MemTotal:");
    format!("{:.1} GB", kb as f64 / 1024.0 / 1024.0)
}

/// A `Name: N kB` value of a /proc file.
pub fn proc_status_kb(path: &str, name: &str) -> u64 {
    status_kb(&std::fs::read_to_string(path).unwrap_or_default(), name)
}

/// A `Name: N kB` value in the text of a /proc file (0 when it has none).
fn status_kb(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// This process's user + system CPU seconds, all threads included.
pub fn own_cpu_secs() -> f64 {
    cpu_secs_of("/proc/self/stat")
}

/// The user + system CPU seconds of this process's children that have ended and been
/// waited for.
pub fn children_cpu_secs() -> f64 {
    // cutime and cstime, fields 16 and 17
    stat_secs("/proc/self/stat", 13)
}

/// The user + system CPU seconds of the process whose `/proc/PID/stat` is `stat` (0 when it
/// cannot be read).
pub fn cpu_secs_of(stat: &str) -> f64 {
    // utime and stime, fields 14 and 15
    stat_secs(stat, 11)
}

/// The sum, in seconds, of the two clock-tick fields of `/proc/PID/stat` at `first` and the
/// one after it, counted after the command name (where the state, field 3, is 0).
fn stat_secs(stat: &str, first: usize) -> f64 {
    let text = std::fs::read_to_string(stat).unwrap_or_default();
    let after = text.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(first) + ticks(first + 1)) / clock_ticks()
}

/// Seconds as `1h 02m`, `3m 05s` or `12.3 s`.
pub fn human_secs(secs: f64) -> String {
    let whole = secs as u64;
    if whole >= 3600 {
        format!("{}h {:02}m", whole / 3600, whole % 3600 / 60)
    } else if whole >= 60 {
        format!("{}m {:02}s", whole / 60, whole % 60)
    } else {
        format!("{secs:.1} s")
    }
}
// ---------------------------------------------------------------------------------------------
// Generation

/// An owner of the generated ledger and their key.
pub struct Person {
    pub handle: String,
    pub key: SigningKey,
    pub fingerprint: String,
}

/// Everyone in the generated ledger: the founder, one captain per team, then the workers.
/// Keys are derived from the handles, so a reused ledger still matches.
pub fn people() -> Vec<Person> {
    let mut handles = vec!["founder".to_string()];
    handles.extend(TEAMS.iter().map(|(slug, _)| format!("captain-{slug}")));
    handles.extend((1..=WORKERS).map(|i| format!("worker{i:02}")));
    handles
        .into_iter()
        .map(|handle| {
            let key = key_of(&handle);
            let fingerprint = key.public().fingerprint();
            Person { handle, key, fingerprint }
        })
        .collect()
}

/// The key of a generated owner: derived from the handle, so a reused ledger still matches.
pub fn key_of(handle: &str) -> SigningKey {
    let seed: [u8; 32] = Sha256::digest(format!("smartup-bench:{handle}").as_bytes()).into();
    SigningKey::from_seed(seed, handle)
}

/// What kind of ledger to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `rows` rows in commits of about `commit_rows` rows (closed at an event boundary), all
    /// signed by the founder; loose objects.
    Big { rows: u64, commit_rows: usize },
    /// `commits` commits of one action each (1 to 3 rows), each signed by its actor, packed
    /// at the end as a clone would be.
    Realistic { commits: u64 },
}

impl Shape {
    /// The folder under `target/` a ledger of this shape is cached in.
    pub fn default_dir(&self) -> PathBuf {
        match *self {
            Shape::Big { rows, commit_rows: 2_000 } => PathBuf::from(format!("target/bench-ledger-{rows}")),
            Shape::Big { rows, commit_rows } => PathBuf::from(format!("target/bench-ledger-{rows}-c{commit_rows}")),
            Shape::Realistic { commits } => PathBuf::from(format!("target/bench-realistic-{commits}")),
        }
    }

    /// The shape as recorded in the marker file.
    fn record(&self) -> String {
        match *self {
            Shape::Big { rows, commit_rows } => format!("rows={rows}\ncommit_rows={commit_rows}\n"),
            Shape::Realistic { commits } => format!("commits={commits}\ncommit_rows=action\n"),
        }
    }
}

/// Reuses the ledger in `dir` if it was generated in this shape, else generates it.
/// Returns the generation time, or `None` when reused.
pub fn ensure_ledger(dir: &Path, shape: Shape, people: &[Person]) -> Option<f64> {
    let marker = dir.join(MARKER);
    if let Ok(text) = std::fs::read_to_string(&marker) {
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
                .unwrap_or("")
                .to_string()
        };
        let tip_matches = Repository::open_bare(dir)
            .ok()
            .and_then(|repo| repo.refname_to_id(&format!("refs/heads/{BRANCH}")).ok())
            .is_some_and(|tip| tip.to_string() == value("tip"));
        let same = text.starts_with(&shape.record()) && value("generator") == GENERATOR_VERSION.to_string() && value("ledger") == LEDGER_ID;
        if same && tip_matches {
            println!("reusing the ledger in {} ({shape:?}, tip {})", dir.display(), value("tip"));
            return None;
        }
        println!(
            "the ledger in {} is incomplete, of another size or from another generator: generating it again",
            dir.display()
        );
        std::fs::remove_dir_all(dir).unwrap_or_else(|e| panic!("cannot remove {}: {e}", dir.display()));
    } else if dir.exists() && std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_some()) {
        eprintln!(
            "{} exists and was not made by this benchmark (no {MARKER}); choose another --dir",
            dir.display()
        );
        std::process::exit(2);
    }
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    std::fs::write(&marker, "generating\n").unwrap_or_else(|e| panic!("cannot write {}: {e}", marker.display()));
    let start = Instant::now();
    let (tip, commits, mut timings) = generate(dir, shape, people);
    if let Shape::Realistic { .. } = shape {
        let packing = Instant::now();
        git(dir, &["repack", "-adq"]);
        git(dir, &["pack-refs", "--all"]);
        timings.pack = packing.elapsed();
    }
    let secs = start.elapsed().as_secs_f64();
    let rows = timings.rows;
    let record = format!("{}generator={GENERATOR_VERSION}\ntip={tip}\nledger={LEDGER_ID}\n", shape.record());
    std::fs::write(&marker, record).unwrap_or_else(|e| panic!("cannot write {}: {e}", marker.display()));
    println!(
        "generated {rows} rows in {commits} commits in {secs:.1} s (drafting + rules {:.1} s, signing {:.1} s, git writes {:.1} s, repack {:.1} s); {:.1} MB on disk",
        timings.rules.as_secs_f64(),
        timings.signing.as_secs_f64(),
        timings.git.as_secs_f64(),
        timings.pack.as_secs_f64(),
        dir_size(dir) as f64 / 1e6
    );
    Some(secs)
}

/// Bytes of all files under `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

/// Where generation time went.
#[derive(Default)]
pub struct GenTimings {
    rules: Duration,
    signing: Duration,
    git: Duration,
    pack: Duration,
    rows: u64,
}

/// Runs `git -C dir ARGS` and requires success.
pub fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("cannot run git: {e}"));
    assert!(status.success(), "git {} failed in {}", args.join(" "), dir.display());
}

/// splitmix64: a small deterministic generator, so every run builds the same ledger.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A started task that sessions are opened on.
pub struct TaskModel {
    id: String,
    attacker: usize,
    defender: usize,
}

/// A work team as the generator sees it.
pub struct TeamModel {
    /// X of `3_X`.
    number: usize,
    slug: &'static str,
    captain: usize,
    /// Mission leader of objective `5_X_1` (one of the workers).
    leader: usize,
    workers: Vec<usize>,
    /// The most recently started tasks.
    tasks: Vec<TaskModel>,
    next_task: u64,
}

/// Builds the ledger row by row. Every row is checked by `smartup::rules::apply` as it is
/// drafted (with a placeholder signature, which the rules only decode), and the rows of a
/// commit are signed in parallel just before the commit is written.
pub struct Generator<'a> {
    repo: &'a Repository,
    people: &'a [Person],
    by_fingerprint: HashMap<&'a str, usize>,
    state: State,
    clock: Timestamp,
    max_step: usize,
    rng: Rng,
    rows: Vec<Row>,
    parent: Option<Oid>,
    commits: u64,
    busy: Vec<bool>,
    open: Vec<usize>,
    teams: Vec<TeamModel>,
    placeholder: String,
    awards: Vec<(String, Amount)>,
    sizes: Vec<String>,
    phases: Vec<String>,
    timings: GenTimings,
    /// One action per commit, signed by its actor, until this many commits (realistic shape).
    target: Option<u64>,
    /// The target is reached: everything further is dropped.
    full: bool,
    /// Tasks that left the recent ones, to assess once their sessions are closed.
    to_assess: VecDeque<(usize, String)>,
    /// Assessed tasks, to validate once their window has passed.
    to_validate: VecDeque<(usize, String)>,
}

/// Generates the ledger; returns the tip, the number of commits and the timings.
pub fn generate(dir: &Path, shape: Shape, people: &[Person]) -> (Oid, u64, GenTimings) {
    let mut options = git2::RepositoryInitOptions::new();
    options.bare(true).initial_head(BRANCH);
    let repo = Repository::init_opts(dir, &options).unwrap_or_else(|e| panic!("cannot create a repository in {}: {e}", dir.display()));
    let policy_text = Policy::render_template(TEMPLATE, LEDGER_ID, NAME);
    let readme = Policy::render_template(README_TEMPLATE, LEDGER_ID, NAME);
    let policy = Policy::parse(&policy_text).expect("the template renders to a valid policy");
    assert_eq!(policy.ledger.branch, BRANCH, "the template's branch");
    let reference = file_reference(policy_text.as_bytes());
    // Start about two years back; steps of up to 40 s keep a million rows well in the past.
    // One-action commits (about 1.6 rows each) are spread wider: up to 15 minutes apart, so
    // that lazy-consensus windows pass even in a small ledger.
    let now = Timestamp::now();
    let start = Timestamp(now.0 - 730 * DAY - now.0.rem_euclid(DAY) + 9 * HOUR);
    let span = (700 * DAY) as u64;
    let (rows, commit_rows, target, widest) = match shape {
        Shape::Big { rows, commit_rows } => (rows, commit_rows, None, 40),
        Shape::Realistic { commits } => (u64::MAX, 1, Some(commits), 900),
    };
    let estimate = target.map_or(rows, |c| c * 2);
    let max_step = (span * 2 / estimate.max(1)).clamp(2, widest) as usize;
    let mut g = Generator {
        repo: &repo,
        people,
        by_fingerprint: people.iter().enumerate().map(|(i, p)| (p.fingerprint.as_str(), i)).collect(),
        awards: policy.sk.awards.iter().map(|(k, v)| (k.clone(), v.0)).collect(),
        sizes: policy.budgets.sizes.keys().cloned().collect(),
        phases: policy.phases.keys().cloned().collect(),
        state: State::new(policy, reference.clone()),
        clock: start,
        max_step,
        rng: Rng(0x5eed),
        rows: Vec::with_capacity(commit_rows + 8),
        parent: None,
        commits: 0,
        busy: vec![false; people.len()],
        open: Vec::new(),
        teams: Vec::new(),
        placeholder: encode_signature(&[0u8; 64]),
        timings: GenTimings::default(),
        target,
        full: false,
        to_assess: VecDeque::new(),
        to_validate: VecDeque::new(),
    };
    // Genesis: its own commit, with ledger.toml and README.md, as `smartup init` writes it.
    let founder_key = people[FOUNDER].key.public().to_openssh();
    g.emit(
        FOUNDER,
        "register-smartup",
        None,
        &[("subject", NAME), ("reference", &reference), ("public_key", &founder_key)],
        false,
    );
    g.flush(&[
        RootFile {
            name: POLICY_FILE,
            bytes: policy_text.as_bytes(),
        },
        RootFile {
            name: README_FILE,
            bytes: readme.as_bytes(),
        },
    ]);
    repo.set_head(&format!("refs/heads/{BRANCH}"))
        .expect("cannot point HEAD at the ledger branch");
    g.setup();
    let mut reported = 0;
    if target.is_some() {
        while !g.full {
            g.step(u64::MAX);
            if g.commits >= reported + 10_000 {
                reported = g.commits;
                println!("  generated {reported} commits ({} rows)", g.state.last_seq);
            }
        }
    }
    while target.is_none() && g.state.last_seq < rows {
        g.step(rows - g.state.last_seq);
        if g.rows.len() >= commit_rows {
            g.flush(&[]);
            if g.state.last_seq >= reported + 100_000 {
                reported = g.state.last_seq;
                println!("  generated {reported} rows ({} commits)", g.commits);
            }
        }
    }
    g.flush(&[]);
    if target.is_none() {
        assert_eq!(g.state.last_seq, rows, "generated row count");
    }
    g.timings.rows = g.state.last_seq;
    assert!(g.clock < now, "the generated timestamps must stay in the past");
    let tip = g.parent.expect("at least the genesis commit");
    (tip, g.commits, g.timings)
}

impl Generator<'_> {
    /// Drafts a row, checks it against the rules (it must be accepted) and queues it.
    /// With a commit target, each action is its own commit: a row of another action or actor
    /// closes the queued one (and once the target is reached, nothing more is drafted).
    fn emit(&mut self, who: usize, action: &str, table: Option<TableId>, values: &[(&str, &str)], tick: bool) {
        if self.full {
            return;
        }
        if let (Some(target), Some(last)) = (self.target, self.rows.last()) {
            if last.actor != self.people[who].handle || last.action != action {
                if self.commits + 1 >= target {
                    self.full = true;
                    return;
                }
                self.flush(&[]);
            }
        }
        let start = Instant::now();
        if tick {
            self.tick();
        }
        let table = table.unwrap_or_else(|| ActionKind::parse(action).unwrap_or_else(|| panic!("no action {action}")).table());
        let handle = &self.people[who].handle;
        let mut row = Row::draft(table, self.state.last_seq + 1, self.clock, handle, action, values)
            .unwrap_or_else(|e| panic!("cannot draft {action}: {e}"));
        row.key = self.people[who].fingerprint.clone();
        row.signature = self.placeholder.clone();
        if let Err(v) = rules::apply(&mut self.state, &row, None) {
            panic!("generated row seq {} ({action} by {handle}) is refused: {v}", row.seq);
        }
        self.rows.push(row);
        self.timings.rules += start.elapsed();
    }

    /// Moves the clock forward by a few seconds.
    fn tick(&mut self) {
        self.clock = self.clock.plus(1 + self.rng.below(self.max_step) as i64);
    }

    /// Signs the queued rows and writes them as one commit on the ledger branch.
    fn flush(&mut self, root_files: &[RootFile]) {
        if self.rows.is_empty() {
            return;
        }
        let start = Instant::now();
        sign_rows(
            &mut self.rows,
            self.people,
            &self.by_fingerprint,
            &self.state.ledger_id,
            &self.state.policy.ledger.namespace,
        );
        let signed = Instant::now();
        self.timings.signing += signed - start;
        let parent = self
            .parent
            .map(|p| self.repo.find_commit(p).expect("cannot read the previous commit"));
        let (first, last) = (&self.rows[0], &self.rows[self.rows.len() - 1]);
        let message = format!("bench: seq {} to {} ({} rows)\n", first.seq, last.seq, self.rows.len());
        // Big commits are the founder's; a one-action commit is signed by its actor.
        let signer = match self.target {
            Some(_) => &self.people[self.by_fingerprint[first.key.as_str()]],
            None => &self.people[FOUNDER],
        };
        let author = Author {
            handle: signer.handle.clone(),
            email: format!("{}@bench.smartup.invalid", signer.handle),
        };
        let segment_rows = self.state.policy.ledger.segment_rows;
        let oid = commit_rows(
            self.repo,
            parent.as_ref(),
            &self.rows,
            root_files,
            segment_rows,
            &signer.key,
            &author,
            &message,
            last.timestamp,
        )
        .unwrap_or_else(|e| panic!("cannot write commit {}: {e:#}", self.commits + 1));
        advance_branch(self.repo, BRANCH, self.parent, oid, "bench").unwrap_or_else(|e| panic!("cannot move {BRANCH}: {e:#}"));
        self.parent = Some(oid);
        self.commits += 1;
        self.rows.clear();
        self.timings.git += signed.elapsed();
    }

    /// Teams, owners with keys, captains, objectives, mission leaders, roles, first tasks.
    fn setup(&mut self) {
        self.emit(
            FOUNDER,
            "bootstrap-teams",
            None,
            &[("team", "3_1_leadership_team"), ("name", "Leadership")],
            true,
        );
        for (i, (slug, name)) in TEAMS.iter().enumerate() {
            let id = format!("3_{}_{slug}_team", i + 2);
            self.emit(
                FOUNDER,
                "bootstrap-teams",
                None,
                &[("team", &id), ("name", name), ("note", "bootstrap")],
                true,
            );
        }
        for who in 1..self.people.len() {
            let handle = self.people[who].handle.clone();
            let license = if who <= TEAMS.len() { "organizational" } else { "work" };
            self.emit(
                FOUNDER,
                "create-owner",
                None,
                &[
                    ("owner", &handle),
                    ("license", license),
                    ("note", "license bought on Open Collective"),
                ],
                true,
            );
            let key = self.people[who].key.public().to_openssh();
            self.emit(FOUNDER, "register-key", None, &[("owner", &handle), ("public_key", &key)], false);
        }
        let per_team = WORKERS.div_ceil(TEAMS.len());
        for (i, (slug, _)) in TEAMS.iter().enumerate() {
            let workers: Vec<usize> =
                (1 + TEAMS.len() + i * per_team..(1 + TEAMS.len() + (i + 1) * per_team).min(self.people.len())).collect();
            self.teams.push(TeamModel {
                number: i + 2,
                slug,
                captain: 1 + i,
                leader: workers[0],
                workers,
                tasks: Vec::new(),
                next_task: 0,
            });
        }
        let mut role = 0;
        for t in 0..self.teams.len() {
            let (n, slug, captain, leader) = (
                self.teams[t].number,
                self.teams[t].slug,
                self.teams[t].captain,
                self.teams[t].leader,
            );
            let team = format!("3_{n}");
            let captain_handle = self.people[captain].handle.clone();
            let role_id = format!("4_1_{n}_tc_{slug}");
            self.emit(
                FOUNDER,
                "assign-role",
                None,
                &[
                    ("role", &role_id),
                    ("owner", &captain_handle),
                    ("team", &team),
                    ("position", "captain"),
                ],
                true,
            );
            let objective = format!("5_{n}_1_roadmap");
            let title = format!("The {slug} roadmap");
            self.emit(
                captain,
                "create-objective",
                None,
                &[("objective", &objective), ("team", &team), ("title", &title)],
                true,
            );
            let leader_handle = self.people[leader].handle.clone();
            let leader_role = format!("5_{n}_1");
            self.emit(
                FOUNDER,
                "assign-role",
                None,
                &[
                    ("role", &leader_role),
                    ("owner", &leader_handle),
                    ("team", &team),
                    ("position", "mission_leader"),
                ],
                true,
            );
            for w in self.teams[t].workers.clone() {
                role += 1;
                let handle = self.people[w].handle.clone();
                for (group, position) in [(2, "senior"), (3, "junior")] {
                    let id = format!("4_{group}_{role}");
                    self.emit(
                        captain,
                        "assign-role",
                        None,
                        &[("role", &id), ("owner", &handle), ("team", &team), ("position", position)],
                        true,
                    );
                }
            }
        }
        for t in 0..self.teams.len() {
            for _ in 0..3 {
                self.new_task(t, true);
            }
        }
    }

    /// One event of the bulk: sessions opened and closed, new tasks, SK awards.
    fn step(&mut self, left: u64) {
        if left < 4 {
            // The last rows: single-row events only, so the count comes out exact.
            let t = self.rng.below(self.teams.len());
            self.new_task(t, false);
            return;
        }
        if let Some(i) = self.overdue_session() {
            self.close_session(i);
            return;
        }
        let r = self.rng.below(1000);
        let t = self.rng.below(self.teams.len());
        if r < 6 {
            self.award(t);
        } else if r < 30 {
            self.new_task(t, true);
        } else if r < 56 && self.settle() {
            // a validation or an assessment was due
        } else if self.open.is_empty() || (self.open.len() < TARGET_OPEN && self.rng.below(2) == 0) {
            // Any team with a free pair on a recent task; else someone clocks out first.
            let teams = self.teams.len();
            if !(0..teams).any(|i| self.open_pair((t + i) % teams)) {
                if self.open.is_empty() {
                    self.new_task(t, true);
                } else {
                    self.close_one();
                }
            }
        } else {
            self.close_one();
        }
    }

    /// A captain creates a task; with `assign_and_start`, the mission leader (or the captain)
    /// assigns it and the Attacker starts it.
    fn new_task(&mut self, t: usize, assign_and_start: bool) {
        let team = &mut self.teams[t];
        team.next_task += 1;
        let (n, z, slug, captain, leader) = (team.number, team.next_task, team.slug, team.captain, team.leader);
        let kind = ["ui", "api", "docs", "tests", "fix", "design"][self.rng.below(6)];
        let id = format!("6_{n}_1_{z}_{kind}");
        let size = self.sizes[self.rng.below(self.sizes.len())].clone();
        let phase = self.phases[self.rng.below(self.phases.len())].clone();
        let policy = &self.state.policy;
        let base = policy.size_budget(&size).expect("a size of the policy");
        let budget = base.times(policy.phases[&phase].0).to_string();
        let title = format!("Task {z} of the {slug} team, {kind} work");
        let (team_id, objective) = (format!("3_{n}"), format!("5_{n}_1"));
        let values = [
            ("task", id.as_str()),
            ("objective", &objective),
            ("team", &team_id),
            ("title", &title),
            ("size", &size),
            ("phase", &phase),
            ("budget", &budget),
        ];
        self.emit(captain, "create-task", None, &values, true);
        if !assign_and_start {
            return;
        }
        // The mission leader assesses the team's tasks, so never works on them.
        let workers: Vec<usize> = self.teams[t].workers.iter().copied().filter(|w| *w != leader).collect();
        let attacker = workers[self.rng.below(workers.len())];
        let mut defender = workers[self.rng.below(workers.len())];
        while defender == attacker {
            defender = workers[self.rng.below(workers.len())];
        }
        let (a, d) = (self.people[attacker].handle.clone(), self.people[defender].handle.clone());
        let assigner = if self.rng.below(3) == 0 { captain } else { leader };
        self.emit(
            assigner,
            "assign-task",
            None,
            &[("task", &id), ("attacker", &a), ("defender", &d)],
            true,
        );
        self.emit(
            attacker,
            "start-task",
            None,
            &[("task", &id), ("attacker", &a), ("defender", &d)],
            true,
        );
        let tasks = &mut self.teams[t].tasks;
        tasks.push(TaskModel { id, attacker, defender });
        if tasks.len() > RECENT_TASKS {
            let old = tasks.remove(0);
            self.to_assess.push_back((t, old.id));
        }
    }

    /// Attacker and Defender of a recent task of team `t` clock in; false if no pair is free.
    fn open_pair(&mut self, t: usize) -> bool {
        let free: Vec<usize> = self.teams[t]
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, k)| !self.busy[k.attacker] && !self.busy[k.defender])
            .map(|(i, _)| i)
            .collect();
        if free.is_empty() {
            return false;
        }
        let task = &self.teams[t].tasks[free[self.rng.below(free.len())]];
        let (id, pair) = (task.id.clone(), [task.attacker, task.defender]);
        for who in pair {
            let session = (self.state.last_seq + 1).to_string();
            let handle = self.people[who].handle.clone();
            let happened = self.clock.to_string();
            self.emit(
                who,
                "start-work",
                None,
                &[("session", &session), ("task", &id), ("owner", &handle), ("happened_at", &happened)],
                true,
            );
            self.busy[who] = true;
            self.open.push(who);
        }
        true
    }

    /// The open session (an index into `open`) that has run for more than half the policy's
    /// longest shift, if any: it is closed before it could outrun the shift limit.
    fn overdue_session(&self) -> Option<usize> {
        let limit = self.state.policy.work.max_shift_hours * HOUR / 2;
        self.open.iter().position(|who| {
            let handle = &self.people[*who].handle;
            self.state.sessions.get(handle).is_some_and(|s| self.clock.0 - s.started.0 > limit)
        })
    }

    /// Someone with an open session clocks out: the clock row and the session log row.
    fn close_one(&mut self) {
        let i = self.rng.below(self.open.len());
        self.close_session(i);
    }

    /// The owner of `open[i]` clocks out: the clock row and the session log row.
    fn close_session(&mut self, i: usize) {
        let who = self.open.swap_remove(i);
        self.busy[who] = false;
        let handle = self.people[who].handle.clone();
        let open = self.state.sessions.get(&handle).expect("the generator's open session").clone();
        let task = self.state.tasks.get(&open.task).expect("the session's task").id.clone();
        self.tick();
        let stopped = self.clock;
        let (session, started, stopped_text, seconds) = (
            open.session.to_string(),
            open.started.to_string(),
            stopped.to_string(),
            (stopped.0 - open.started.0).to_string(),
        );
        self.emit(
            who,
            "stop-work",
            None,
            &[
                ("session", &session),
                ("task", &task),
                ("owner", &handle),
                ("happened_at", &stopped_text),
            ],
            false,
        );
        let log = schema::table_id("session_logs").expect("the session_logs table");
        let values = [
            ("session", session.as_str()),
            ("task", &task),
            ("owner", &handle),
            ("started", &started),
            ("stopped", &stopped_text),
            ("seconds", &seconds),
        ];
        self.emit(who, "stop-work", Some(log), &values, false);
    }

    /// Settles finished work: validates pending SC whose window has passed, else assesses a
    /// task that left the recent ones; false when nothing is due.
    fn settle(&mut self) -> bool {
        self.validate() || self.assess()
    }

    /// The mission leader assesses the oldest task no longer worked on (once its sessions are
    /// closed); a large award gets two captains' approvals (community review).
    fn assess(&mut self) -> bool {
        let horizon = (self.state.policy.sc.retroactive_days - 1) * DAY;
        while let Some((t, id)) = self.to_assess.front().cloned() {
            let Some(task) = self.state.tasks.values().find(|k| k.id == id) else {
                self.to_assess.pop_front();
                continue;
            };
            if task.open_sessions > 0 {
                return false;
            }
            let recent = task.last_session_end.is_some_and(|end| self.clock.0 - end.0 < horizon);
            self.to_assess.pop_front();
            if task.state != TaskState::Started || task.closed_sessions == 0 || !recent {
                continue;
            }
            let budget = task.budget;
            let scores: Vec<u32> = (0..3).map(|_| 6 + self.rng.below(5) as u32).collect();
            let policy = &self.state.policy;
            let share = policy.band(scores.iter().sum()).expect("a band for 18 to 30").min_percent.0;
            let pending = budget.percent(share);
            let attacker = pending.percent(policy.adm.attacker_percent.0);
            let defender = pending.minus(attacker);
            let review = pending > policy.sc.community_review_above.0;
            let s: Vec<String> = scores.iter().map(u32::to_string).collect();
            let (share, attacker, defender) = (share.to_string(), attacker.to_string(), defender.to_string());
            let values = [
                ("task", id.as_str()),
                ("attacker_score", &s[0]),
                ("defender_score", &s[1]),
                ("collaboration_score", &s[2]),
                ("share", &share),
                ("attacker_sc", &attacker),
                ("defender_sc", &defender),
                ("note", ""),
            ];
            self.emit(self.teams[t].leader, "assess-work", None, &values, true);
            if review {
                for captain in [self.teams[t].captain, self.teams[(t + 1) % self.teams.len()].captain] {
                    self.emit(captain, "approve-pending-sc", None, &[("task", &id), ("note", "")], true);
                }
            }
            self.to_validate.push_back((t, id));
            return true;
        }
        false
    }

    /// The team's captain validates the oldest assessment once its window has passed, within
    /// the daily caps; the founder deposits EUR first when the treasury rule needs it.
    fn validate(&mut self) -> bool {
        let Some((t, id)) = self.to_validate.front().cloned() else {
            return false;
        };
        let policy = &self.state.policy;
        let task = self.state.tasks.values().find(|k| k.id == id);
        let Some((task, pending)) = task.and_then(|k| Some((k, k.pending.as_ref().filter(|_| k.state == TaskState::Assessed)?))) else {
            self.to_validate.pop_front();
            return false;
        };
        let end = pending.assessed_at.plus(policy.sc.lazy_consensus_hours * HOUR);
        if self.clock < end {
            return false;
        }
        let day = self.clock.day();
        let (a, d) = (pending.attacker_left, pending.defender_left);
        for (who, amount) in [(&task.attacker, a), (&task.defender, d)] {
            let owner = &self.state.owners[who.as_deref().expect("an assigned task")];
            let today = if owner.day == day { owner.sc_today } else { Amount::ZERO };
            if today.plus(amount) > policy.licenses[&owner.license].sc_per_day.0 {
                return false;
            }
        }
        if self.state.outstanding.plus(a).plus(d) > self.state.treasury.times(policy.sc.treasury_multiple.0) {
            let values = [
                ("owner", ""),
                ("currency", "EUR"),
                ("amount", "10000"),
                ("reason", "donation"),
                ("note", ""),
            ];
            self.emit(FOUNDER, "deposit-eur", None, &values, false);
        }
        let (a, d) = (a.to_string(), d.to_string());
        let values = [("task", id.as_str()), ("attacker_sc", &a), ("defender_sc", &d), ("note", "")];
        self.emit(self.teams[t].captain, "validate-pending-sc", None, &values, false);
        self.to_validate.pop_front();
        true
    }

    /// The team's captain awards SK to one of its workers, within the daily cap.
    fn award(&mut self, t: usize) {
        let team = &self.teams[t];
        let (captain, worker) = (team.captain, team.workers[self.rng.below(team.workers.len())]);
        let (reason, amount) = self.awards[self.rng.below(self.awards.len())].clone();
        self.tick();
        let day = self.clock.day();
        let handle = self.people[worker].handle.clone();
        let owner = &self.state.owners[&handle];
        let today = if owner.day == day { owner.sk_today } else { Amount::ZERO };
        let cap = self.state.policy.licenses[&owner.license].sk_per_day.0;
        if today.plus(amount) > cap {
            return;
        }
        let (amount, on) = (amount.to_string(), format_date(day));
        let values = [
            ("owner", handle.as_str()),
            ("currency", "SK"),
            ("amount", &amount),
            ("reason", &reason),
            ("earned_on", &on),
            ("note", "thanks"),
        ];
        self.emit(captain, "award-sk", None, &values, false);
    }
}

/// Signs rows on all cores (the rules never look at a signature's value, only its encoding).
pub fn sign_rows(rows: &mut [Row], people: &[Person], by_fingerprint: &HashMap<&str, usize>, ledger_id: &str, namespace: &str) {
    let sign = |part: &mut [Row]| {
        for row in part {
            let key = &people[by_fingerprint[row.key.as_str()]].key;
            row.sign(key, ledger_id, namespace);
        }
    };
    // Threads pay off for big commits only (a one-action commit has 1 to 3 rows).
    if rows.len() < 64 {
        sign(rows);
        return;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = rows.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for part in rows.chunks_mut(chunk) {
            scope.spawn(move || sign(part));
        }
    });
}

/// Commits one action's `rows` (with `root_files` beside them: the genesis commit's) on
/// `parent` as their actor would: signed by the actor's key, named after the action. Returns
/// the new commit.
pub fn commit_action(repo: &Repository, parent: Option<&git2::Commit>, state: &State, rows: &[Row], root_files: &[RootFile]) -> Oid {
    let handle = rows[0].actor.clone();
    let author = Author {
        email: format!("{handle}@bench.smartup.invalid"),
        handle: handle.clone(),
    };
    let message = format!("{} by {handle}", rows[0].action);
    commit_rows(
        repo,
        parent,
        rows,
        root_files,
        state.policy.ledger.segment_rows,
        &key_of(&handle),
        &author,
        &message,
        rows[0].timestamp,
    )
    .expect("a one-action commit")
}

/// `n` one-action entries on top of `state` (which they are applied to): work sessions of the
/// generated workers on their started tasks, opened (one row) and closed (clock row and
/// session log), all at the state's last timestamp, each signed by its worker. Drafted by the
/// rules' own drafting, as the CLI drafts them.
pub fn work_actions(state: &mut State, n: usize) -> Vec<Vec<Row>> {
    let at = state.last_timestamp.expect("rows");
    let workers: Vec<(String, String)> = state
        .tasks
        .values()
        .filter(|t| t.state == TaskState::Started)
        .flat_map(|t| {
            [t.attacker.clone(), t.defender.clone()]
                .into_iter()
                .flatten()
                .map(move |w| (w, t.id.clone()))
        })
        .filter(|(w, _)| !state.sessions.contains_key(w))
        .collect();
    assert!(!workers.is_empty(), "no worker is free to start a session");
    let (ledger_id, namespace) = (state.ledger_id.clone(), state.policy.ledger.namespace.clone());
    let mut actions = Vec::with_capacity(n);
    for i in 0..n {
        let (who, task) = &workers[i / 2 % workers.len()];
        let key = key_of(who);
        let intent = match state.sessions.get(who) {
            None => Intent::StartWork { task: task.clone() },
            Some(_) => Intent::StopWork,
        };
        let entries = draft(state, who, at, &intent).expect("a session to open or close").entries;
        let mut rows = Vec::new();
        for entry in entries {
            let values: Vec<(&str, &str)> = entry.values.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let mut row = Row::draft(entry.table, state.last_seq + 1, at, who, entry.action.name(), &values).expect("draft");
            row.sign(&key, &ledger_id, &namespace);
            rules::apply(state, &row, None).expect("a valid row");
            rows.push(row);
        }
        actions.push(rows);
    }
    actions
}

/// Runs a child hook check with the server's clock at `now` (`SMARTUP_NOW`: the generated
/// history lies in the past, and the hook refuses rows recorded long before its clock);
/// returns its printed time and memory, or the failure.
pub fn hook_child(exe: &Path, forge: &Path, old: Oid, new: Oid, now: &str) -> Result<String, String> {
    let out = Command::new(exe)
        .env(smartup::time::PINNED_CLOCK, now)
        .arg("--hook-once")
        .arg(forge)
        .arg(old.to_string())
        .arg(new.to_string())
        .output()
        .expect("the hook child");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// One push's check through the library, measured in this fresh process (a child): prints
/// its time and peak memory; exits 1 when the check fails.
pub fn hook_once(forge: &Path, old: &str, new: &str) {
    repo::tune_object_reading(); // as `smartup hook pre-receive` does, before the forge is opened
    let repo = Repository::open_bare(forge).expect("open forge");
    let update = Update {
        old: old.parse().expect("old"),
        new: new.parse().expect("new"),
        name: "refs/heads/main".into(),
    };
    let started = Instant::now();
    let verdict = check(&repo, &[update], &PushEnv::default(), Timestamp::now()).unwrap_or_else(|e| {
        eprintln!("hook check: {e:#}");
        std::process::exit(1)
    });
    let elapsed = started.elapsed();
    assert!(verdict.accepted(), "the push was refused: {:?}", verdict.problems);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .map_or("?".to_string(), |l| l.trim_start_matches("VmHWM:").trim().to_string());
    print!("{:>7.1} ms {:>12}", elapsed.as_secs_f64() * 1e3, peak);
}

// ---------------------------------------------------------------------------------------------
// Children

/// Opens a generated ledger and its branch tip.
pub fn open_ledger(dir: &Path) -> (Repository, Oid) {
    repo::tune_object_reading(); // as the CLI does, before the first object is read
    let repo = Repository::open(dir).unwrap_or_else(|e| panic!("cannot open {}: {e}", dir.display()));
    let tip = repo::resolve(&repo, &format!("refs/heads/{BRANCH}")).unwrap_or_else(|e| panic!("no {BRANCH} in {}: {e:#}", dir.display()));
    (repo, tip)
}

/// Lets libgit2 keep blobs of up to 8 MB in its object cache of `mb` MB (0: leave libgit2's
/// default, which caches no blobs). An experiment, not the product's configuration.
pub fn enable_blob_cache(mb: usize) {
    if mb > 0 {
        // SAFETY: libgit2 globals, set before any thread exists (and before any repository is
        // opened); the walk's own threads start later.
        unsafe {
            git2::opts::set_cache_object_limit(git2::ObjectType::Blob, 8 << 20).expect("cannot enable the blob cache");
            git2::opts::set_cache_max_size((mb << 20) as isize).expect("cannot size the object cache");
        }
    }
}

/// The measured child: one walk, findings must be none, then one RESULT line.
pub fn verify_child(dir: &Path, signatures: bool, blob_cache_mb: usize) {
    enable_blob_cache(blob_cache_mb);
    let (repo, tip) = open_ledger(dir);
    let sampler = ResidentSampler::start();
    let start = Instant::now();
    let report = walk(
        &repo,
        tip,
        &Options {
            check_signatures: signatures,
            read_ahead: true, // as `smartup verify` walks
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("the walk failed: {e:#}"));
    let secs = start.elapsed().as_secs_f64();
    let (anon_kb, file_kb) = sampler.stop();
    if !report.findings.is_empty() {
        for finding in report.findings.iter().take(10) {
            eprintln!("{finding}");
        }
        eprintln!("{} finding(s) on a ledger that must verify clean", report.findings.len());
        std::process::exit(1);
    }
    println!(
        "RESULT rows={} commits={} secs={secs:.6} hwm_kb={} anon_kb={anon_kb} file_kb={file_kb} cpu_secs={:.3}",
        report.rows,
        report.commits,
        proc_status_kb("/proc/self/status", "VmHWM:"),
        own_cpu_secs()
    );
}

/// Samples this process's anonymous and file-backed resident memory every few milliseconds
/// on a thread of its own (Linux keeps only the peak of their sum, `VmHWM`).
struct ResidentSampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(u64, u64)>,
}

impl ResidentSampler {
    fn start() -> ResidentSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let (mut anon, mut file) = (0, 0);
            loop {
                let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
                anon = anon.max(status_kb(&status, "RssAnon:"));
                file = file.max(status_kb(&status, "RssFile:"));
                if stopped.load(Ordering::Relaxed) {
                    return (anon, file);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        ResidentSampler { stop, thread }
    }

    /// The largest anonymous and file-backed resident kB seen.
    fn stop(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the memory sampler")
    }
}

/// How long `f` takes.
pub fn timed_once(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}
