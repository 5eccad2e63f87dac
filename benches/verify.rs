//! Benchmark of `smartup verify` on a big generated ledger.
//!
//! `cargo bench --bench verify [-- --rows N --dir DIR --ssh-keygen-sample K --commit-rows R]`
//!
//! 1. Generates (or reuses) a valid, signed ledger of N rows through the library API, in
//!    commits of about R rows (default 2000).
//! 2. Runs `smartup::verify::walk` with signatures in fresh child processes (so the peak
//!    memory is that of one walk), three times on all cores and once on one core.
//! 3. Runs the state replay without signatures (what the CLI pays before drafting an entry).
//! 4. Times each phase of the walk on its own (profile child).
//! 5. Times `ssh-keygen -Y verify` on K rows of the ledger for comparison.
//!
//! Children are this same executable started with `--verify-only DIR [--no-signatures]
//! [--blob-cache-mb M]` or `--profile-only DIR`.

use git2::{Oid, Repository};
use sha2::{Digest, Sha256};
use smartup::ledger::policy::{file_reference, Policy, README_TEMPLATE, TEMPLATE};
use smartup::ledger::row::{Location, Row};
use smartup::ledger::schema::{self, TableId};
use smartup::ledger::segment::{self, SegmentError};
use smartup::ledger::{POLICY_FILE, README_FILE};
use smartup::money::Amount;
use smartup::repo::write::{advance_branch, commit_rows, Author, RootFile};
use smartup::repo::{self, RowStream};
use smartup::rules::{self, State};
use smartup::sign::{self, encode_signature, PublicKey, SignatureCheck, SigningKey};
use smartup::time::{format_date, Timestamp, DAY, HOUR};
use smartup::verify::{walk, Options};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Rows when `--rows` is not given.
const DEFAULT_ROWS: u64 = 1_000_000;
/// Rows per generated commit by default (a commit is closed at the first event boundary past
/// this).
const DEFAULT_COMMIT_ROWS: usize = 2_000;
/// Bumped whenever the generator changes, so that an older cached ledger is not reused.
const GENERATOR_VERSION: u32 = 3;
/// Blob cache tried in the cache experiment (libgit2 caches no blobs by default).
const EXPERIMENT_BLOB_CACHE_MB: usize = 64;
/// The throughput the product must exceed on two cores.
const GOAL_ROWS_PER_SEC: f64 = 50_000.0;
/// The ledger id of every generated ledger.
const LEDGER_ID: &str = "bench0000000000000000000000000001";
/// The smartup's name.
const NAME: &str = "Bench Smartup";
/// The ledger branch (as in the template).
const BRANCH: &str = "main";
/// File in the generated repository that records what was generated.
const MARKER: &str = "smartup-bench.txt";
/// The work teams (3_2 .. 3_5), each with a captain, a mission leader and workers.
const TEAMS: [(&str, &str); 4] = [
    ("design", "Design"),
    ("product", "Product"),
    ("engineering", "Engineering"),
    ("community", "Community"),
];
/// Owners who work on tasks.
const WORKERS: usize = 46;
/// Open work sessions the generator aims for.
const TARGET_OPEN: usize = 20;
/// Started tasks per team that new sessions are opened on.
const RECENT_TASKS: usize = 6;
/// The founder is person 0.
const FOUNDER: usize = 0;
/// Rows sampled for signature timings in the profile.
const PROFILE_SAMPLE: usize = 40_000;

fn main() {
    let args = parse_args();
    match args.mode {
        Mode::Verify {
            ref dir,
            signatures,
            blob_cache_mb,
        } => verify_child(dir, signatures, blob_cache_mb),
        Mode::Profile { ref dir, blob_cache_mb } => profile_child(dir, blob_cache_mb),
        Mode::Bench => bench(&args),
    }
}

// ---------------------------------------------------------------------------------------------
// Arguments

/// What this process is asked to do.
enum Mode {
    /// The whole benchmark (the parent process).
    Bench,
    /// One verify walk of a ledger (a child process), with or without signatures, optionally
    /// with a libgit2 blob cache of that many MB (an experiment; 0 is the product's setting).
    Verify {
        dir: PathBuf,
        signatures: bool,
        blob_cache_mb: usize,
    },
    /// Phase timings over a ledger (a child process).
    Profile { dir: PathBuf, blob_cache_mb: usize },
}

/// Parsed command line.
struct Args {
    rows: u64,
    commit_rows: usize,
    dir: Option<PathBuf>,
    ssh_sample: usize,
    mode: Mode,
}

/// Prints a usage error and exits.
fn fail(message: &str) -> ! {
    eprintln!("verify bench: {message}");
    eprintln!("usage: cargo bench --bench verify -- [--rows N] [--dir DIR] [--ssh-keygen-sample K] [--commit-rows R]");
    std::process::exit(2)
}

/// Reads the arguments (cargo adds `--bench`, which is ignored).
fn parse_args() -> Args {
    let mut args = Args {
        rows: DEFAULT_ROWS,
        commit_rows: DEFAULT_COMMIT_ROWS,
        dir: None,
        ssh_sample: 200,
        mode: Mode::Bench,
    };
    let mut signatures = true;
    let mut blob_cache_mb = 0;
    let mut child: Option<(PathBuf, bool)> = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().unwrap_or_else(|| fail(&format!("{name} needs a value")));
        match arg.as_str() {
            "--rows" => {
                args.rows = value("--rows")
                    .replace('_', "")
                    .parse()
                    .unwrap_or_else(|_| fail("--rows takes a whole number"))
            }
            "--dir" => args.dir = Some(PathBuf::from(value("--dir"))),
            "--ssh-keygen-sample" => {
                args.ssh_sample = value("--ssh-keygen-sample")
                    .parse()
                    .unwrap_or_else(|_| fail("--ssh-keygen-sample takes a whole number"))
            }
            "--verify-only" => child = Some((PathBuf::from(value("--verify-only")), false)),
            "--profile-only" => child = Some((PathBuf::from(value("--profile-only")), true)),
            "--commit-rows" => {
                args.commit_rows = value("--commit-rows")
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .unwrap_or_else(|| fail("--commit-rows takes a whole number above 0"))
            }
            "--no-signatures" => signatures = false,
            "--blob-cache-mb" => {
                blob_cache_mb = value("--blob-cache-mb")
                    .parse()
                    .unwrap_or_else(|_| fail("--blob-cache-mb takes a whole number"))
            }
            "--bench" => {}
            other => fail(&format!("unknown argument {other:?}")),
        }
    }
    args.mode = match child {
        Some((dir, false)) => Mode::Verify {
            dir,
            signatures,
            blob_cache_mb,
        },
        Some((dir, true)) => Mode::Profile { dir, blob_cache_mb },
        None => Mode::Bench,
    };
    args
}

// ---------------------------------------------------------------------------------------------
// The parent: generate, run the children, compare with ssh-keygen, print the table

/// One measured verify (or replay) run, as a child reports it.
#[derive(Clone, Debug)]
struct Measured {
    rows: u64,
    commits: u64,
    secs: f64,
    hwm_kb: u64,
    cpu_secs: f64,
    /// Average cores used by other processes during the run (from /proc/stat).
    other_cores: f64,
    /// Average cores stolen by the hypervisor during the run.
    steal_cores: f64,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.rows as f64 / self.secs
    }

    fn line(&self, label: &str) -> String {
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

/// The benchmark proper.
fn bench(args: &Args) {
    if args.rows < 1_000 {
        fail("--rows must be at least 1000");
    }
    let default_dir = match args.commit_rows {
        DEFAULT_COMMIT_ROWS => format!("target/bench-ledger-{}", args.rows),
        r => format!("target/bench-ledger-{}-c{r}", args.rows),
    };
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(default_dir));
    let exe = std::env::current_exe().expect("cannot find the bench executable");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("== smartup verify benchmark: {} rows in {} ==", args.rows, dir.display());
    let load_before = read_trimmed("/proc/loadavg");
    println!("machine: {cores} cores (nproc), {}, {} memory", cpu_model(), mem_total());
    println!("load average before: {load_before}");

    let people = people();
    let scaling_before = parallel_scaling(&people[FOUNDER].key, cores);
    println!("parallel scaling of strict ed25519 verification on {cores} threads: {scaling_before:.2}x (ideal {cores}x)");
    let generation = ensure_ledger(&dir, args.rows, args.commit_rows, &people);

    let mut runs = Vec::new();
    for i in 1..=3 {
        let m = run_child(&exe, &dir, &[], false);
        println!("{}", m.line(&format!("verify, all cores, run {i}")));
        runs.push(m);
    }
    let best = runs
        .iter()
        .max_by(|a, b| a.rate().total_cmp(&b.rate()))
        .cloned()
        .expect("three runs");
    println!("{}", best.line("verify, all cores, best"));

    let single = if taskset_works() {
        let m = run_child(&exe, &dir, &[], true);
        println!("{}", m.line("verify, one core (taskset -c 0)"));
        Some(m)
    } else {
        println!("taskset is missing or does not work: no single-core figure");
        None
    };

    let mut replays = Vec::new();
    for i in 1..=2 {
        let m = run_child(&exe, &dir, &["--no-signatures"], false);
        println!("{}", m.line(&format!("replay without signatures, run {i}")));
        replays.push(m);
    }
    let replay = replays
        .iter()
        .max_by(|a, b| a.rate().total_cmp(&b.rate()))
        .cloned()
        .expect("two runs");

    // Not the product's configuration: how much a libgit2 blob cache would save.
    let cache = EXPERIMENT_BLOB_CACHE_MB.to_string();
    let cached = run_child(&exe, &dir, &["--blob-cache-mb", &cache], false);
    let cached_label = format!("experiment: {cache} MB blob cache");
    println!("{}", cached.line(&cached_label));

    println!();
    let status = Command::new(&exe)
        .arg("--profile-only")
        .arg(&dir)
        .status()
        .expect("cannot start the profile child");
    assert!(status.success(), "the profile child failed: {status}");

    println!();
    let ssh = ssh_keygen_compare(&dir, args.rows, args.ssh_sample, &people);

    let load_after = read_trimmed("/proc/loadavg");
    let scaling_after = parallel_scaling(&people[FOUNDER].key, cores);
    println!();
    println!("== summary: {} rows, {} commits, {} ==", best.rows, best.commits, dir.display());
    println!(
        "machine: {cores} cores, {}; load average before {load_before}, after {load_after}",
        cpu_model()
    );
    println!("parallel scaling of ed25519 verification on {cores} threads: {scaling_before:.2}x before, {scaling_after:.2}x after (ideal {cores}x)");
    match generation {
        Some(secs) => println!("generation: {secs:.1} s"),
        None => println!("generation: reused the ledger generated earlier"),
    }
    for (i, m) in runs.iter().enumerate() {
        println!("{}", m.line(&format!("verify run {}", i + 1)));
    }
    println!("{}", best.line("verify best (all cores)"));
    if let Some(m) = &single {
        println!("{}", m.line("verify one core"));
    }
    println!("{}", replay.line("replay, no signatures (best of 2)"));
    println!("{}", cached.line(&cached_label));
    if let Some((ms, sampled)) = ssh {
        let projected = ms / 1000.0 * best.rows as f64;
        println!(
            "ssh-keygen -Y verify: {ms:.2} ms/row over {sampled} rows -> {} projected for {} rows; smartup: {:.2} s ({:.0}x faster, {:.4} ms/row)",
            human_secs(projected),
            best.rows,
            best.secs,
            projected / best.secs,
            best.secs * 1000.0 / best.rows as f64
        );
    } else {
        println!("ssh-keygen comparison: skipped");
    }
    let margin = (best.rate() / GOAL_ROWS_PER_SEC - 1.0) * 100.0;
    let verdict = match margin {
        m if m >= 50.0 => "MET",
        m if m > 0.0 => "MET, but not by far (not 'well over')",
        _ => "NOT MET",
    };
    println!(
        "goal (well over {GOAL_ROWS_PER_SEC:.0} rows/s on all cores): {verdict}: {:.0} rows/s, {margin:+.0}%; {:.0} rows per commit",
        best.rate(),
        best.rows as f64 / best.commits as f64
    );
    let all = runs.iter().chain(&replays).chain(&single).chain([&cached]);
    if all.into_iter().any(|m| m.other_cores > 0.25 || m.steal_cores > 0.25) {
        println!("note: other load or hypervisor steal above 0.25 cores was present during some runs (see the columns)");
    }
}

/// Runs one verify child and measures the machine around it.
fn run_child(exe: &Path, dir: &Path, extra: &[&str], one_core: bool) -> Measured {
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
        cpu_secs,
        other_cores: ((busy - cpu_secs) / secs).max(0.0),
        steal_cores: steal / secs,
    }
}

/// True when `taskset -c 0` can run a program here.
fn taskset_works() -> bool {
    Command::new("taskset")
        .args(["-c", "0", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Machine-wide CPU counters from the first line of /proc/stat.
struct CpuStat {
    busy: u64,
    steal: u64,
}

impl CpuStat {
    fn read() -> CpuStat {
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
    fn since(&self, earlier: &CpuStat) -> (f64, f64) {
        let tick = clock_ticks();
        (
            (self.busy.saturating_sub(earlier.busy)) as f64 / tick,
            (self.steal.saturating_sub(earlier.steal)) as f64 / tick,
        )
    }
}

/// USER_HZ, the unit of /proc/stat and /proc/self/stat (`getconf CLK_TCK`, else 100).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// How much faster `threads` threads verify a fixed number of signatures than one thread
/// (a check of the machine: shared or hyper-threaded cores scale less).
fn parallel_scaling(key: &SigningKey, threads: usize) -> f64 {
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
fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path).map_or_else(|_| "?".to_string(), |t| t.trim().to_string())
}

/// The CPU model name from /proc/cpuinfo.
fn cpu_model() -> String {
    let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown CPU".to_string(), |(_, v)| v.trim().to_string())
}

/// MemTotal from /proc/meminfo, in GB.
fn mem_total() -> String {
    let kb = proc_status_kb("/proc/meminfo", "MemTotal:");
    format!("{:.1} GB", kb as f64 / 1024.0 / 1024.0)
}

/// A `Name: N kB` value of a /proc file.
fn proc_status_kb(path: &str, name: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// This process's user + system CPU seconds, all threads included.
fn own_cpu_secs() -> f64 {
    let text = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = text.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // after the command name: state is field 3, utime 14 and stime 15
    (ticks(11) + ticks(12)) / clock_ticks()
}

/// Seconds as `1h 02m`, `3m 05s` or `12.3 s`.
fn human_secs(secs: f64) -> String {
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
struct Person {
    handle: String,
    key: SigningKey,
    fingerprint: String,
}

/// Everyone in the generated ledger: the founder, one captain per team, then the workers.
/// Keys are derived from the handles, so a reused ledger still matches.
fn people() -> Vec<Person> {
    let mut handles = vec!["founder".to_string()];
    handles.extend(TEAMS.iter().map(|(slug, _)| format!("captain-{slug}")));
    handles.extend((1..=WORKERS).map(|i| format!("worker{i:02}")));
    handles
        .into_iter()
        .map(|handle| {
            let seed: [u8; 32] = Sha256::digest(format!("smartup-bench:{handle}").as_bytes()).into();
            let key = SigningKey::from_seed(seed, &handle);
            let fingerprint = key.public().fingerprint();
            Person { handle, key, fingerprint }
        })
        .collect()
}

/// Reuses the ledger in `dir` if it was generated with `rows` rows, else generates it.
/// Returns the generation time, or `None` when reused.
fn ensure_ledger(dir: &Path, rows: u64, commit_rows: usize, people: &[Person]) -> Option<f64> {
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
        let same = value("rows") == rows.to_string()
            && value("commit_rows") == commit_rows.to_string()
            && value("generator") == GENERATOR_VERSION.to_string()
            && value("ledger") == LEDGER_ID;
        if same && tip_matches {
            println!("reusing the ledger in {} ({rows} rows, tip {})", dir.display(), value("tip"));
            return None;
        }
        println!(
            "the ledger in {} is incomplete, of another size or from another generator: generating it again",
            dir.display()
        );
        std::fs::remove_dir_all(dir).unwrap_or_else(|e| panic!("cannot remove {}: {e}", dir.display()));
    } else if dir.exists() && std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_some()) {
        fail(&format!(
            "{} exists and was not made by this benchmark (no {MARKER}); choose another --dir",
            dir.display()
        ));
    }
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    std::fs::write(&marker, "generating\n").unwrap_or_else(|e| panic!("cannot write {}: {e}", marker.display()));
    let start = Instant::now();
    let (tip, commits, timings) = generate(dir, rows, commit_rows, people);
    let secs = start.elapsed().as_secs_f64();
    let record = format!("rows={rows}\ncommit_rows={commit_rows}\ngenerator={GENERATOR_VERSION}\ntip={tip}\nledger={LEDGER_ID}\n");
    std::fs::write(&marker, record).unwrap_or_else(|e| panic!("cannot write {}: {e}", marker.display()));
    println!(
        "generated {rows} rows in {commits} commits in {secs:.1} s (drafting + rules {:.1} s, signing {:.1} s on all cores, git writes {:.1} s); {:.0} MB on disk",
        timings.rules.as_secs_f64(),
        timings.signing.as_secs_f64(),
        timings.git.as_secs_f64(),
        dir_size(dir) as f64 / 1e6
    );
    Some(secs)
}

/// Bytes of all files under `dir`.
fn dir_size(dir: &Path) -> u64 {
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
struct GenTimings {
    rules: Duration,
    signing: Duration,
    git: Duration,
}

/// splitmix64: a small deterministic generator, so every run builds the same ledger.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A started task that sessions are opened on.
struct TaskModel {
    id: String,
    attacker: usize,
    defender: usize,
}

/// A work team as the generator sees it.
struct TeamModel {
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
struct Generator<'a> {
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
}

/// Generates the ledger; returns the tip, the number of commits and the timings.
fn generate(dir: &Path, rows: u64, commit_rows: usize, people: &[Person]) -> (Oid, u64, GenTimings) {
    let mut options = git2::RepositoryInitOptions::new();
    options.bare(true).initial_head(BRANCH);
    let repo = Repository::init_opts(dir, &options).unwrap_or_else(|e| panic!("cannot create a repository in {}: {e}", dir.display()));
    let policy_text = Policy::render_template(TEMPLATE, LEDGER_ID, NAME);
    let readme = Policy::render_template(README_TEMPLATE, LEDGER_ID, NAME);
    let policy = Policy::parse(&policy_text).expect("the template renders to a valid policy");
    assert_eq!(policy.ledger.branch, BRANCH, "the template's branch");
    let reference = file_reference(policy_text.as_bytes());
    // Start about two years back; steps of up to 40 s keep a million rows well in the past.
    let now = Timestamp::now();
    let start = Timestamp(now.0 - 730 * DAY - now.0.rem_euclid(DAY) + 9 * HOUR);
    let span = (700 * DAY) as u64;
    let max_step = (span * 2 / rows).clamp(2, 40) as usize;
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
    while g.state.last_seq < rows {
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
    assert_eq!(g.state.last_seq, rows, "generated row count");
    assert!(g.clock < now, "the generated timestamps must stay in the past");
    let tip = g.parent.expect("at least the genesis commit");
    (tip, g.commits, g.timings)
}

impl Generator<'_> {
    /// Drafts a row, checks it against the rules (it must be accepted) and queues it.
    fn emit(&mut self, who: usize, action: &str, table: Option<TableId>, values: &[(&str, &str)], tick: bool) {
        let start = Instant::now();
        if tick {
            self.tick();
        }
        let table = table.unwrap_or_else(|| schema::table_of_action(action).unwrap_or_else(|| panic!("no table for action {action}")));
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
        let founder = &self.people[FOUNDER];
        let author = Author {
            handle: founder.handle.clone(),
            email: "founder@bench.smartup.invalid".into(),
        };
        let segment_rows = self.state.policy.ledger.segment_rows;
        let oid = commit_rows(
            self.repo,
            parent.as_ref(),
            &self.rows,
            root_files,
            segment_rows,
            &founder.key,
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
        let r = self.rng.below(1000);
        let t = self.rng.below(self.teams.len());
        if r < 6 {
            self.award(t);
        } else if r < 14 {
            self.new_task(t, true);
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
        let workers = &self.teams[t].workers;
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
            tasks.remove(0);
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
            self.emit(
                who,
                "start-work",
                None,
                &[("session", &session), ("task", &id), ("owner", &handle)],
                true,
            );
            self.busy[who] = true;
            self.open.push(who);
        }
        true
    }

    /// Someone with an open session clocks out: the clock row and the session log row.
    fn close_one(&mut self) {
        let who = self.open.swap_remove(self.rng.below(self.open.len()));
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
            &[("session", &session), ("task", &task), ("owner", &handle)],
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
fn sign_rows(rows: &mut [Row], people: &[Person], by_fingerprint: &HashMap<&str, usize>, ledger_id: &str, namespace: &str) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = rows.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for part in rows.chunks_mut(chunk) {
            scope.spawn(move || {
                for row in part {
                    let key = &people[by_fingerprint[row.key.as_str()]].key;
                    row.signature = encode_signature(&key.sign(namespace, &row.message(ledger_id)));
                }
            });
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Children

/// Opens a generated ledger and its branch tip.
fn open_ledger(dir: &Path) -> (Repository, Oid) {
    let repo = Repository::open(dir).unwrap_or_else(|e| panic!("cannot open {}: {e}", dir.display()));
    let tip = repo::resolve(&repo, &format!("refs/heads/{BRANCH}")).unwrap_or_else(|e| panic!("no {BRANCH} in {}: {e:#}", dir.display()));
    (repo, tip)
}

/// Lets libgit2 keep blobs of up to 8 MB in its object cache of `mb` MB (0: leave libgit2's
/// default, which caches no blobs). An experiment, not the product's configuration.
fn enable_blob_cache(mb: usize) {
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
fn verify_child(dir: &Path, signatures: bool, blob_cache_mb: usize) {
    enable_blob_cache(blob_cache_mb);
    let (repo, tip) = open_ledger(dir);
    let start = Instant::now();
    let report = walk(
        &repo,
        tip,
        &Options {
            check_signatures: signatures,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("the walk failed: {e:#}"));
    let secs = start.elapsed().as_secs_f64();
    if !report.findings.is_empty() {
        for finding in report.findings.iter().take(10) {
            eprintln!("{finding}");
        }
        eprintln!("{} finding(s) on a ledger that must verify clean", report.findings.len());
        std::process::exit(1);
    }
    println!(
        "RESULT rows={} commits={} secs={secs:.6} hwm_kb={} cpu_secs={:.3}",
        report.rows,
        report.commits,
        proc_status_kb("/proc/self/status", "VmHWM:"),
        own_cpu_secs()
    );
}

/// Time spent in each phase of a walk, measured one call at a time on one thread.
#[derive(Default)]
struct Phases {
    chain: Duration,
    changes: Duration,
    commit_signature: Duration,
    blob_reads: Duration,
    csv_parse: Duration,
    stream: Duration,
    signer_key: Duration,
    message: Duration,
    item: Duration,
    signed_data: Duration,
    apply: Duration,
}

/// Adds the time `f` takes to `slot` and returns its result.
fn timed<T>(slot: &mut Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    *slot += start.elapsed();
    out
}

/// The profile child: the walk's phases one by one, single-threaded, plus signature checks
/// on a sample, so the owner of `src/` can see where the time goes.
fn profile_child(dir: &Path, blob_cache_mb: usize) {
    enable_blob_cache(blob_cache_mb);
    let (repo, tip) = open_ledger(dir);
    let mut p = Phases::default();
    let total = Instant::now();
    let chain = timed(&mut p.chain, || repo::first_parent_chain(&repo, tip)).expect("cannot list the commits");
    let mut state: Option<State> = None;
    let mut rows = 0u64;
    let mut bytes_read = 0u64;
    let mut message = Vec::with_capacity(512);
    let mut sample: Vec<(PublicKey, Vec<u8>, [u8; 64])> = Vec::new();
    for oid in &chain {
        let commit = repo.find_commit(*oid).expect("cannot read a commit");
        let segment_rows = state.as_ref().map_or(u64::MAX, |s| s.policy.ledger.segment_rows);
        let changes = timed(&mut p.changes, || repo::commit_changes(&repo, &commit)).expect("cannot diff a commit");
        assert!(changes.findings.is_empty(), "structural findings in {oid}");
        if state.is_none() {
            let bytes = changes.policy.as_ref().expect("the root commit's ledger.toml");
            let policy = Policy::parse(std::str::from_utf8(bytes).expect("UTF-8 policy")).expect("a valid policy");
            state = Some(State::new(policy, file_reference(bytes)));
        }
        let state = state.as_mut().expect("state after the root commit");
        timed(&mut p.commit_signature, || {
            let (signature, data) = repo.extract_signature(oid, None).expect("a signed commit");
            sign::verify_git_commit(signature.as_str().expect("UTF-8 signature"), &data).expect("a good commit signature");
        });
        for source in &changes.sources {
            let blob = timed(&mut p.blob_reads, || repo.find_blob(source.blob)).expect("cannot read a segment");
            let bytes = blob.content();
            bytes_read += bytes.len() as u64;
            timed(&mut p.csv_parse, || {
                let offset = segment::check_header(source.table, &source.file, bytes).expect("a good header");
                segment::parse_body::<SegmentError>(source.table, &source.file, &bytes[offset..], 2, |_, _| Ok(()))
                    .expect("a good segment");
            });
        }
        let mut stream = RowStream::new(&repo, changes.sources, segment_rows);
        let commit_text = oid.to_string();
        loop {
            let next = timed(&mut p.stream, || stream.next_row()).unwrap_or_else(|f| panic!("unreadable: {f}"));
            let Some((row, location)) = next else { break };
            rows += 1;
            let key = timed(&mut p.signer_key, || rules::signer_key(state, &row)).expect("a valid signer");
            timed(&mut p.message, || {
                message.clear();
                row.write_message(&state.ledger_id, &mut message);
            });
            // What the verify pipeline copies per row besides the message.
            let item = timed(&mut p.item, || {
                (
                    row.message(&state.ledger_id),
                    row.actor.clone(),
                    location.clone(),
                    commit_text.clone(),
                )
            });
            std::hint::black_box::<(Vec<u8>, String, Location, String)>(item);
            std::hint::black_box(timed(&mut p.signed_data, || {
                sign::signed_data(&state.policy.ledger.namespace, &message)
            }));
            timed(&mut p.apply, || rules::apply(state, &row, None)).unwrap_or_else(|v| panic!("seq {}: {v}", row.seq));
            if rows % 7 == 0 && sample.len() < PROFILE_SAMPLE {
                sample.push((
                    key,
                    message.clone(),
                    sign::decode_signature(&row.signature).expect("a base64 signature"),
                ));
            }
        }
    }
    let walked = total.elapsed();
    let namespace = state.as_ref().expect("a ledger").policy.ledger.namespace.clone();
    let checks: Vec<SignatureCheck> = sample
        .iter()
        .map(|(key, message, signature)| SignatureCheck {
            key,
            message,
            signature: *signature,
        })
        .collect();
    let one_thread = timed_once(|| assert!(sign::verify_all(&namespace, &checks, 1).is_empty(), "bad signatures in the sample"));
    let two_threads = timed_once(|| assert!(sign::verify_all(&namespace, &checks, 2).is_empty(), "bad signatures in the sample"));
    let strict_n = checks.len().min(5_000);
    let strict = timed_once(|| assert!(checks[..strict_n].iter().all(|c| c.key.verify(&namespace, c.message, &c.signature))));
    let per_sig = one_thread.as_secs_f64() / checks.len() as f64;

    let n = rows as f64;
    let us = |d: Duration| d.as_secs_f64() * 1e6 / n;
    println!(
        "== profile: where one walk's time goes ({rows} rows, {} commits, {:.0} MB of segment blobs) ==",
        chain.len(),
        bytes_read as f64 / 1e6
    );
    println!("single thread, each call timed on its own (about 0.03 us of timer overhead per call)");
    let blob_and_parse = p.blob_reads + p.csv_parse;
    let merge = p.stream.saturating_sub(blob_and_parse);
    let main_thread = p.chain + p.changes + p.commit_signature + p.stream + p.signer_key + p.item + p.apply;
    let lines: [(&str, Duration); 14] = [
        ("first-parent chain", p.chain),
        ("commit diff (trees, 2 blob reads per changed segment)", p.changes),
        ("commit signature check", p.commit_signature),
        ("  of the row stream: segment blob reads (inflate)", p.blob_reads),
        ("  of the row stream: CSV parse + canonical check", p.csv_parse),
        ("  of the row stream: merge by seq, Location, rest", merge),
        ("row stream (blob read + parse + merge)", p.stream),
        ("signer_key (key lookup + PublicKey clone)", p.signer_key),
        ("message into a reused buffer", p.message),
        ("pipeline item (message Vec, actor, Location, commit id)", p.item),
        ("rules::apply", p.apply),
        ("SSHSIG signed data (SHA-512 of the message)", p.signed_data),
        ("ed25519 batch verify, 1 thread (sample)", Duration::from_secs_f64(per_sig * n)),
        ("main thread of verify (everything but signatures)", main_thread),
    ];
    for (name, d) in lines {
        println!("  {name:<58} {:>8.2} s {:>8.2} us/row", d.as_secs_f64(), us(d));
    }
    println!(
        "  signatures on {} sampled rows: batch 1 thread {:.2} us/row, batch 2 threads {:.2} us/row, strict one by one {:.2} us/row",
        checks.len(),
        per_sig * 1e6,
        two_threads.as_secs_f64() * 1e6 / checks.len() as f64,
        strict.as_secs_f64() * 1e6 / strict_n as f64
    );
    let signature_work = p.signed_data.as_secs_f64() + per_sig * n;
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get()) as f64;
    let main = main_thread.as_secs_f64();
    let bound = main.max((main + signature_work) / cores);
    println!(
        "  model: main thread {:.2} s + signature work {:.2} s; on {cores} cores at best {:.2} s = {:.0} rows/s (one core: {:.0} rows/s)",
        main,
        signature_work,
        bound,
        n / bound,
        n / (main + signature_work)
    );
    println!(
        "  (profile walk itself took {:.1} s; peak RSS {:.1} MB)",
        walked.as_secs_f64(),
        proc_status_kb("/proc/self/status", "VmHWM:") as f64 / 1024.0
    );
}

/// How long `f` takes.
fn timed_once(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

// ---------------------------------------------------------------------------------------------
// ssh-keygen

/// Verifies `k` rows spread over the ledger with `ssh-keygen -Y verify`, one process per row;
/// returns milliseconds per row and the number of rows, or `None` when skipped.
fn ssh_keygen_compare(dir: &Path, rows: u64, k: usize, people: &[Person]) -> Option<(f64, usize)> {
    if k == 0 {
        println!("ssh-keygen comparison skipped (--ssh-keygen-sample 0)");
        return None;
    }
    if Command::new("ssh-keygen")
        .arg("-?")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        println!("ssh-keygen is not installed: comparison skipped");
        return None;
    }
    let (repo, tip) = open_ledger(dir);
    let commit = repo.find_commit(tip).expect("cannot read the tip");
    let (sources, policy_bytes, findings) = repo::head_sources(&repo, &commit).expect("cannot list the segments");
    assert!(findings.is_empty(), "layout findings at the tip");
    let policy = Policy::parse(std::str::from_utf8(&policy_bytes).expect("UTF-8 policy")).expect("a valid policy");
    let namespace = policy.ledger.namespace.clone();
    let wanted: HashSet<u64> = (0..k as u64).map(|i| 1 + i * rows / k as u64).collect();
    let mut picked: Vec<Row> = Vec::new();
    for source in &sources {
        let blob = repo.find_blob(source.blob).expect("cannot read a segment");
        for (row, _) in segment::parse_segment(source.table, &source.file, blob.content()).expect("a good segment") {
            if wanted.contains(&row.seq) {
                picked.push(row);
            }
        }
    }
    picked.sort_by_key(|r| r.seq);
    let by_fingerprint: HashMap<&str, &Person> = people.iter().map(|p| (p.fingerprint.as_str(), p)).collect();
    let temp = tempfile::tempdir().expect("cannot create a temporary folder");
    let allowed = temp.path().join("allowed_signers");
    let lines: String = people
        .iter()
        .map(|p| format!("{} namespaces=\"{namespace}\" {}\n", p.handle, p.key.public().to_openssh()))
        .collect();
    std::fs::write(&allowed, lines).expect("cannot write the allowed-signers file");
    let (message_file, signature_file) = (temp.path().join("message"), temp.path().join("message.sig"));
    let mut spent = Duration::ZERO;
    for row in &picked {
        let person = by_fingerprint[row.key.as_str()];
        let signature = sign::decode_signature(&row.signature).expect("a base64 signature");
        std::fs::write(&message_file, row.message(&policy.ledger.id)).expect("cannot write the message file");
        std::fs::write(&signature_file, sign::armor(person.key.public(), &namespace, &signature)).expect("cannot write the signature file");
        let stdin = std::fs::File::open(&message_file).expect("cannot open the message file");
        let start = Instant::now();
        let output = Command::new("ssh-keygen")
            .args(["-Y", "verify", "-f"])
            .arg(&allowed)
            .args(["-I", &person.handle, "-n", &namespace, "-s"])
            .arg(&signature_file)
            .stdin(stdin)
            .output()
            .expect("cannot run ssh-keygen");
        spent += start.elapsed();
        assert!(
            output.status.success(),
            "ssh-keygen rejects row seq {}: {}{}",
            row.seq,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let ms = spent.as_secs_f64() * 1000.0 / picked.len() as f64;
    println!(
        "ssh-keygen -Y verify: {} rows (seq {} to {}) all accepted, {ms:.2} ms per row (one process per row) -> {} projected for {rows} rows",
        picked.len(),
        picked.first().map_or(0, |r| r.seq),
        picked.last().map_or(0, |r| r.seq),
        human_secs(ms / 1000.0 * rows as f64)
    );
    Some((ms, picked.len()))
}
