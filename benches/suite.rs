//! The benchmark suite of issue 7: `cargo bench --bench suite [-- --commits 1000,10000
//! --big-rows 20000,200000 --actions 7]`.
//!
//! 1. Generates (or reuses, cached under `target/`) realistic ledgers of one action per commit
//!    (each signed by its actor, packed) and big-commit ledgers (2,000 rows per commit).
//! 2. Verify: rows/s, commits/s and peak memory (anonymous and file-backed apart, and how
//!    it grows with commits) of `smartup::verify::walk` in a fresh process, against the
//!    ed25519 batch-verify rate of this machine and threads.
//! 3. The hook on the largest realistic ledger: pushes of 1, 100 and 2,000 one-action commits
//!    through the library `check` (fresh process, warm state cache), the 2,000 through the
//!    real `smartup hook pre-receive`, and the cold-cache rebuild (`smartup/state` removed).
//! 4. Per realistic ledger, in a fresh non-bare `git clone`: the first `smartup status`, then
//!    one-row actions (`smartup deposit-eur`) through the release binary (median), the loose
//!    object bytes each adds, and what `git gc` makes of them.
//! 5. `hledger check` as a peer, when hledger is installed, on the same entries as the
//!    largest realistic ledger (every row as a journal transaction), against `smartup verify`.
//! 6. The floor of git storage: the least time any verify of that ledger could take while
//!    reading history through git at git's own speed, against the goals it bounds.
//!
//! Each goal is printed as MET or NOT MET. Children are this executable with
//! `--verify-only DIR` or `--hook-once FORGE OLD NEW`.

mod common;

use common::*;
use git2::{Oid, Repository};
use smartup::ledger::row::{Location, Row};
use smartup::rules::State;
use smartup::sign::{self, SignatureCheck};
use smartup::time::PINNED_CLOCK;
use smartup::verify::cache::StateCache;
use smartup::verify::{walk, Options};
use smartup::view::journal::{posting_line, postings, Money};
use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Rounds of verify runs over the ledgers; each ledger's best is kept.
const VERIFY_ROUNDS: usize = 3;
/// Pushes timed on the hook, in one-action commits.
const PUSHES: [usize; 3] = [1, 100, 2_000];
/// Signatures in the ed25519 batch-verify reference measurement.
const BATCH_SAMPLE: usize = 40_000;
/// Goals of issue 7.
const GOAL_BATCH_SHARE: f64 = 0.80;
const GOAL_REALISTIC_SHARE: f64 = 0.50;
const GOAL_COMMITS_PER_SEC: f64 = 5_000.0;
const GOAL_SCALING: f64 = 1.05;
const GOAL_PEAK_MB: f64 = 100.0;
/// "Flat": the peak of the largest realistic verify at most this many times the smallest's.
const GOAL_FLAT_MEMORY: f64 = 1.25;
const GOAL_HOOK_SECS: f64 = 2.0;
const GOAL_COLD_SECS: f64 = 30.0;
const GOAL_CLONE_SECS: f64 = 10.0;
const GOAL_ACTION_MS: f64 = 20.0;
/// The size the cold-cache, first-command and per-action goals are stated for.
const GOAL_SIZE: u64 = 100_000;

/// The suite's command line.
struct Args {
    commits: Vec<u64>,
    big_rows: Vec<u64>,
    actions: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    if let Some(dir) = value("--verify-only") {
        verify_child(Path::new(&dir), true, 0);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--hook-once") {
        let get = |k: usize| args.get(i + k).cloned().unwrap_or_else(|| fail("--hook-once FORGE OLD NEW"));
        hook_once(Path::new(&get(1)), &get(2), &get(3));
        return;
    }
    let list = |flag: &str, default: &[u64]| -> Vec<u64> {
        value(flag).map_or_else(
            || default.to_vec(),
            |v| {
                v.split(',')
                    .map(|n| {
                        n.replace('_', "")
                            .parse()
                            .unwrap_or_else(|_| fail(&format!("{flag} takes numbers, comma-separated")))
                    })
                    .collect()
            },
        )
    };
    let mut parsed = Args {
        commits: list("--commits", &[1_000, 10_000]),
        big_rows: list("--big-rows", &[20_000, 200_000]),
        actions: value("--actions").map_or(7, |v| v.parse().unwrap_or_else(|_| fail("--actions takes a number"))),
    };
    // Sizes in order, each once: the linearity and memory lines compare neighbours.
    parsed.commits.sort_unstable();
    parsed.commits.dedup();
    parsed.big_rows.sort_unstable();
    parsed.big_rows.dedup();
    if parsed.commits.iter().chain(&parsed.big_rows).any(|n| *n < 1_000) || parsed.actions == 0 {
        fail("sizes are at least 1000, --actions at least 1");
    }
    suite(&parsed);
}

/// Prints a usage error and exits.
fn fail(message: &str) -> ! {
    eprintln!("suite bench: {message}");
    eprintln!("usage: cargo bench --bench suite -- [--commits 1000,10000] [--big-rows 20000,200000] [--actions 7]");
    std::process::exit(2)
}

/// MET or NOT MET.
fn verdict(met: bool) -> &'static str {
    if met {
        "MET"
    } else {
        "NOT MET"
    }
}

/// The median of some values.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Verify runs in fresh processes: [`VERIFY_ROUNDS`] rounds over every ledger in turn, so
/// that a slow spell of the machine (other tenants) falls on all sizes alike rather than on
/// one; the best run of each ledger is kept.
fn verify_best(exe: &Path, dirs: &[&Path]) -> Vec<Measured> {
    let mut best: Vec<Option<Measured>> = dirs.iter().map(|_| None).collect();
    for _ in 0..VERIFY_ROUNDS {
        for (dir, kept) in dirs.iter().zip(&mut best) {
            let m = run_child(exe, dir, &[], false);
            if kept.as_ref().is_none_or(|k| m.rate() > k.rate()) {
                *kept = Some(m);
            }
        }
    }
    best.into_iter().map(|m| m.expect("at least one round")).collect()
}

/// A verify line with commits per second.
fn verify_line(label: &str, m: &Measured) -> String {
    format!(
        "{label:<30} {:>8} rows {:>7} commits {:>9.0} rows/s {:>8.0} commits/s {:>7.3} s {:>6.1} MB peak (anonymous {:.1}, files {:.1})",
        m.rows,
        m.commits,
        m.rate(),
        m.commits as f64 / m.secs,
        m.secs,
        m.hwm_kb as f64 / 1024.0,
        m.anon_kb as f64 / 1024.0,
        m.file_kb as f64 / 1024.0
    )
}

/// Whether verify's peak memory stays flat as commits grow, between the smallest and the
/// largest realistic ledger: the peak at the larger may exceed the smaller's by at most
/// [`GOAL_FLAT_MEMORY`]. The growth is shown per 1,000 commits, anonymous (the walk's own)
/// and file-backed (git's pack index and pack windows) apart.
fn memory_growth(small: &Measured, large: &Measured) -> String {
    let per_1k = |a: u64, b: u64| (b as f64 - a as f64) / 1024.0 / (large.commits - small.commits) as f64 * 1000.0;
    let ratio = large.hwm_kb as f64 / small.hwm_kb as f64;
    format!(
        "verify peak memory flat as commits grow (x{} commits: peak <= {GOAL_FLAT_MEMORY:.2}x): {}: {:.1} -> {:.1} MB ({ratio:.2}x); per 1,000 commits {:+.2} MB anonymous, {:+.2} MB files",
        large.commits / small.commits.max(1),
        verdict(ratio <= GOAL_FLAT_MEMORY),
        small.hwm_kb as f64 / 1024.0,
        large.hwm_kb as f64 / 1024.0,
        per_1k(small.anon_kb, large.anon_kb),
        per_1k(small.file_kb, large.file_kb)
    )
}

/// The whole suite (the parent process).
fn suite(args: &Args) {
    let exe = std::env::current_exe().expect("the suite executable");
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_smartup"));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load_start = read_trimmed("/proc/loadavg");
    println!("== smartup benchmark suite (issue 7) ==");
    println!("machine: {}, {cores} cores (threads used), {} memory", cpu_model(), mem_total());
    println!("load average at start: {load_start}");
    let people = people();

    let batch_start = batch_rate(&people, cores);
    println!("ed25519 batch verify (smartup::sign::verify_all, {cores} threads, {BATCH_SAMPLE} signatures): {batch_start:.0} signatures/s");

    println!("\n-- ledgers");
    let big: Vec<(PathBuf, Shape)> = args
        .big_rows
        .iter()
        .map(|&rows| Shape::Big { rows, commit_rows: 2_000 })
        .chain(args.commits.iter().map(|&commits| Shape::Realistic { commits }))
        .map(|shape| {
            let dir = shape.default_dir();
            ensure_ledger(&dir, shape, &people);
            (std::fs::canonicalize(&dir).expect("the ledger folder"), shape)
        })
        .collect();

    println!("\n-- 1. verify (fresh process, best of {VERIFY_ROUNDS} rounds over the ledgers, all cores)");
    let dirs: Vec<&Path> = big.iter().map(|(dir, _)| dir.as_path()).collect();
    let mut measured: Vec<(Shape, Measured)> = Vec::new();
    for ((_, shape), m) in big.iter().zip(verify_best(&exe, &dirs)) {
        let label = match shape {
            Shape::Big { .. } => "big-commit",
            Shape::Realistic { .. } => "realistic (one action/commit)",
        };
        println!("{}", verify_line(label, &m));
        measured.push((*shape, m));
    }
    let series = |realistic: bool| -> Vec<&Measured> {
        measured
            .iter()
            .filter(|(s, _)| matches!(s, Shape::Realistic { .. }) == realistic)
            .map(|(_, m)| m)
            .collect()
    };
    let (bigs, reals) = (series(false), series(true));
    // The reference is measured again after the verify runs and the faster one kept, so
    // that load from others at one moment does not flatter the ratio.
    let batch_end = batch_rate(&people, cores);
    let batch = batch_start.max(batch_end);
    println!("ed25519 batch verify again: {batch_end:.0} signatures/s; the goal uses the faster, {batch:.0}");
    let mut goals: Vec<String> = Vec::new();
    if let Some(b) = bigs.last() {
        let share = b.rate() / batch;
        goals.push(format!(
            "big-commit verify >= {:.0}% of the batch-verify rate: {}: {:.0} rows/s = {:.0}% of {batch:.0}",
            GOAL_BATCH_SHARE * 100.0,
            verdict(share >= GOAL_BATCH_SHARE),
            b.rate(),
            share * 100.0
        ));
        if let Some(r) = reals.last() {
            let share = r.rate() / b.rate();
            let cps = r.commits as f64 / r.secs;
            goals.push(format!(
                "realistic verify >= {:.0}% of big-commit per row and >= {GOAL_COMMITS_PER_SEC:.0} commits/s: {}: {:.0} rows/s = {:.0}%, {cps:.0} commits/s ({} commits)",
                GOAL_REALISTIC_SHARE * 100.0,
                verdict(share >= GOAL_REALISTIC_SHARE && cps >= GOAL_COMMITS_PER_SEC),
                r.rate(),
                share * 100.0,
                r.commits
            ));
        }
    }
    for (name, list) in [("big-commit", &bigs), ("realistic", &reals)] {
        for pair in list.windows(2) {
            let (rows, time) = (pair[1].rows as f64 / pair[0].rows as f64, pair[1].secs / pair[0].secs);
            goals.push(format!(
                "{name}: {rows:.1}x rows in <= {:.1}x the time: {}: {time:.2}x the time ({} -> {} rows; {:.2} of linear; CPU {:.2}x)",
                rows * GOAL_SCALING,
                verdict(time <= rows * GOAL_SCALING),
                pair[0].rows,
                pair[1].rows,
                time / rows,
                pair[1].cpu_secs / pair[0].cpu_secs
            ));
        }
    }
    let peak = measured.iter().map(|(_, m)| m.hwm_kb as f64 / 1024.0).fold(0.0, f64::max);
    goals.push(format!(
        "verify peak memory < {GOAL_PEAK_MB:.0} MB: {}: {peak:.1} MB at most",
        verdict(peak < GOAL_PEAK_MB)
    ));
    if let [first, .., last] = reals[..] {
        goals.push(memory_growth(first, last));
    }

    let scratch = tempfile::tempdir().expect("a scratch folder");
    let realistic: Vec<(&PathBuf, u64)> = big
        .iter()
        .filter_map(|(dir, s)| match s {
            Shape::Realistic { commits } => Some((dir, *commits)),
            Shape::Big { .. } => None,
        })
        .collect();
    if let Some((dir, commits)) = realistic.last() {
        println!("\n-- 2. the hook on the realistic ledger of {commits} commits");
        hook(&exe, &binary, dir, *commits, scratch.path(), &mut goals);
    }
    println!("\n-- 3.-5. a fresh clone: first command, one-row actions, repository size");
    for (dir, commits) in &realistic {
        clone_and_act(&binary, dir, *commits, args.actions, scratch.path(), &people, &mut goals);
    }

    println!("\n-- 6. peers");
    let hledger = hledger_peer(&binary, realistic.last().map(|(dir, _)| dir.as_path()), scratch.path(), &mut goals);

    if let (Some((dir, _)), Some(real)) = (realistic.last(), reals.last()) {
        println!("\n-- 7. the floor of git storage");
        let limits = Limits {
            batch,
            cores,
            big_rate: bigs.last().map(|b| b.rate()),
            hledger,
        };
        goals.extend(git_floor(dir, real, &limits));
    }

    let load_end = read_trimmed("/proc/loadavg");
    println!("\n== goals ==");
    for g in &goals {
        println!("{g}");
    }
    println!(
        "machine: {}, {cores} cores; load average at start {load_start}, at end {load_end}",
        cpu_model()
    );
}

/// ed25519 signatures per second that `smartup::sign::verify_all` checks on `threads`
/// threads (the ceiling a verify of signed rows can approach).
fn batch_rate(people: &[Person], threads: usize) -> f64 {
    let namespace = "smartup-ledger";
    let messages: Vec<Vec<u8>> = (0..BATCH_SAMPLE)
        .map(|i| format!("{i},2026-01-01T00:00:00Z,worker{:02},start-work,{i},6_2_1_{i}_ui,worker", i % 46).into_bytes())
        .collect();
    let signed: Vec<(usize, [u8; 64])> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (i % people.len(), people[i % people.len()].key.sign(namespace, m)))
        .collect();
    let checks: Vec<SignatureCheck> = signed
        .iter()
        .zip(&messages)
        .map(|((who, signature), message)| SignatureCheck {
            key: people[*who].key.public(),
            message,
            signature: *signature,
        })
        .collect();
    let best = (0..3)
        .map(|_| timed_once(|| assert!(sign::verify_all(namespace, &checks, threads).is_empty())))
        .min()
        .expect("three runs");
    BATCH_SAMPLE as f64 / best.as_secs_f64()
}

/// Milliseconds from a child's `  12.3 ms   45 MB` line.
fn child_ms(line: &str) -> f64 {
    line.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

/// The hook benchmarks on one realistic ledger.
fn hook(exe: &Path, binary: &Path, ledger: &Path, commits: u64, scratch: &Path, goals: &mut Vec<String>) {
    let forge = scratch.join("forge.git");
    git(
        scratch,
        &["clone", "-q", "--bare", "--shared", &ledger.display().to_string(), "forge.git"],
    );
    let repo = Repository::open_bare(&forge).expect("the scratch forge");
    let tip = repo.refname_to_id("refs/heads/main").expect("main");
    let report = walk(&repo, tip, &Options::default()).expect("replay");
    let mut state = report.state.expect("a ledger");
    let cache = StateCache::of(&repo);
    cache.store(tip, &state).expect("cache the tip's state");
    let most = PUSHES.iter().copied().max().unwrap_or(1);
    // The pushed rows are recorded at the ledger's last time; the server's clock says so too.
    let now = state.last_timestamp.expect("rows").to_string();
    let started = Instant::now();
    let mut chain = Vec::with_capacity(most);
    let mut parent = repo.find_commit(tip).expect("tip");
    for rows in work_actions(&mut state, most) {
        let oid = commit_action(&repo, Some(&parent), &state, &rows, &[]);
        parent = repo.find_commit(oid).expect("the new commit");
        chain.push(oid);
    }
    println!(
        "built {most} one-action commits on the tip in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!("{:<44} {:>10} {:>12}", "push (library check, fresh process)", "time", "peak memory");
    for n in PUSHES {
        match hook_child(exe, &forge, tip, chain[n - 1], &now) {
            Ok(line) => println!("{:<44} {line}", format!("{n} commits, warm cache")),
            Err(e) => println!("{:<44} failed: {e}", format!("{n} commits, warm cache")),
        }
    }
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(["hook", "pre-receive"])
        .env("GIT_DIR", &forge)
        .env(PINNED_CLOCK, &now)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smartup hook pre-receive");
    writeln!(child.stdin.take().expect("stdin"), "{tip} {} refs/heads/main", chain[most - 1]).expect("write stdin");
    let out = child.wait_with_output().expect("wait for the hook");
    let secs = started.elapsed().as_secs_f64();
    let accepted = out.status.success();
    println!(
        "{:<44} {:>7.1} ms  ({})",
        format!("{most} commits, `smartup hook pre-receive`"),
        secs * 1e3,
        if accepted { "accepted" } else { "REJECTED" }
    );
    if !accepted {
        println!("{}", String::from_utf8_lossy(&out.stderr));
    }
    goals.push(format!(
        "hook, push of {most} one-action commits through the binary < {GOAL_HOOK_SECS:.0} s: {}: {secs:.2} s on {commits} commits",
        verdict(accepted && secs < GOAL_HOOK_SECS)
    ));
    std::fs::remove_dir_all(forge.join("smartup").join("state")).expect("remove the state cache");
    let started = Instant::now();
    let cold = hook_child(exe, &forge, tip, chain[0], &now);
    let (line, took) = match &cold {
        Ok(line) => (line.clone(), format!("{:.2} s", child_ms(line) / 1e3)),
        // The hook gives up rebuilding after its own deadline (and rejects: fails closed).
        Err(e) => (
            format!("failed: {e}"),
            format!("failed after {:.1} s", started.elapsed().as_secs_f64()),
        ),
    };
    println!("{:<44} {line}", "1 commit, cold cache (rebuilt from genesis)");
    let met = cold.as_ref().is_ok_and(|line| child_ms(line) / 1e3 < GOAL_COLD_SECS);
    goals.push(format!(
        "cold-cache rebuild < {GOAL_COLD_SECS:.0} s at {GOAL_SIZE} commits: {}: {took} at {commits} commits",
        size_verdict(met, commits)
    ));
}

/// MET / NOT MET, marked when the ledger is smaller than the goal's size.
fn size_verdict(met: bool, commits: u64) -> String {
    if commits >= GOAL_SIZE {
        verdict(met).to_string()
    } else {
        format!("{} (at a smaller ledger than the goal's)", verdict(met))
    }
}

/// Bytes of the loose objects of a repository (`.git/objects/??/`).
fn loose_bytes(git_dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(git_dir.join("objects")) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().len() == 2)
        .map(|e| dir_size(&e.path()))
        .sum()
}

/// Runs the release binary in `dir`; returns the seconds it took.
fn timed_smartup(binary: &Path, dir: &Path, args: &[&str]) -> f64 {
    let started = Instant::now();
    let out = Command::new(binary).args(args).current_dir(dir).output().expect("smartup");
    let secs = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "smartup {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    secs
}

/// A fresh non-bare clone of a realistic ledger: the first command, one-row actions and
/// the repository size they add.
fn clone_and_act(binary: &Path, ledger: &Path, commits: u64, actions: usize, scratch: &Path, people: &[Person], goals: &mut Vec<String>) {
    let name = format!("clone-{commits}");
    let clone = scratch.join(&name);
    let started = Instant::now();
    git(scratch, &["clone", "-q", "--no-local", &ledger.display().to_string(), &name]);
    let clone_secs = started.elapsed().as_secs_f64();
    let git_dir = clone.join(".git");
    let packed = dir_size(&git_dir.join("objects"));
    let first = timed_smartup(binary, &clone, &["status"]);
    let second = timed_smartup(binary, &clone, &["status"]);
    let verify = timed_smartup(binary, &clone, &["verify"]);
    println!(
        "{commits} commits: git clone {clone_secs:.2} s ({:.1} MB of objects); first `smartup status` {:.0} ms, second {:.0} ms; `smartup verify` accepts it in {verify:.2} s",
        packed as f64 / 1e6,
        first * 1e3,
        second * 1e3
    );
    goals.push(format!(
        "first command on a fresh clone < {GOAL_CLONE_SECS:.0} s at {GOAL_SIZE} commits: {}: {first:.2} s at {commits} commits",
        size_verdict(first < GOAL_CLONE_SECS, commits)
    ));

    // The baseline for the size after `git gc`: the clone, gc'd before any action.
    git(&clone, &["gc", "-q"]);
    let baseline = dir_size(&git_dir.join("objects"));
    let founder = &people[FOUNDER];
    let key = scratch.join(format!("founder-{commits}"));
    founder.key.write_openssh(&key).expect("write the founder's key");
    let key_text = key.display().to_string();
    let (ms, bytes) = one_row_actions(binary, &clone, &git_dir, &founder.handle, &key_text, actions);
    println!(
        "{commits} commits, working-tree clone: one-row action (`smartup deposit-eur`), {actions} runs: median {ms:.1} ms; loose objects added: median {:.1} KB per action",
        bytes / 1024.0
    );
    goals.push(format!(
        "one-row action < {GOAL_ACTION_MS:.0} ms at {GOAL_SIZE} commits, working-tree clone: {}: median {ms:.1} ms at {commits} commits",
        size_verdict(ms < GOAL_ACTION_MS, commits)
    ));
    // The same in a bare clone (no index to rewrite), as the README advises for long ledgers.
    let bare = scratch.join(format!("bare-{commits}"));
    git(
        scratch,
        &[
            "clone",
            "-q",
            "--bare",
            "--no-local",
            &ledger.display().to_string(),
            &bare.display().to_string(),
        ],
    );
    timed_smartup(binary, &bare, &["status"]);
    let (bare_ms, _) = one_row_actions(binary, &bare, &bare, &founder.handle, &key_text, actions);
    println!("{commits} commits, bare clone: one-row action, {actions} runs: median {bare_ms:.1} ms");
    goals.push(format!(
        "one-row action < {GOAL_ACTION_MS:.0} ms at {GOAL_SIZE} commits, bare clone: {}: median {bare_ms:.1} ms at {commits} commits",
        size_verdict(bare_ms < GOAL_ACTION_MS, commits)
    ));
    let before_gc = dir_size(&git_dir.join("objects"));
    git(&clone, &["gc", "-q"]);
    let after_gc = dir_size(&git_dir.join("objects"));
    println!(
        "{commits} commits: objects {:.1} KB after clone, {:.1} KB after `git gc`, {:.1} KB after {actions} actions, {:.1} KB after `git gc` again: {:+.2} KB per action once packed",
        packed as f64 / 1024.0,
        baseline as f64 / 1024.0,
        before_gc as f64 / 1024.0,
        after_gc as f64 / 1024.0,
        (after_gc as f64 - baseline as f64) / 1024.0 / actions as f64
    );
    goals.push(format!(
        "loose bytes per one-row action: a few KB: {}: median {:.1} KB ({commits} commits)",
        verdict(bytes <= 8.0 * 1024.0),
        bytes / 1024.0
    ));
}

/// Runs `actions` one-row actions (`deposit-eur` by `handle`) in the ledger at `dir` (its git
/// dir `git_dir`) and prints each run; returns the median time (ms) and the median loose
/// bytes each added.
fn one_row_actions(binary: &Path, dir: &Path, git_dir: &Path, handle: &str, key: &str, actions: usize) -> (f64, f64) {
    let mut times = Vec::with_capacity(actions);
    let mut added = Vec::with_capacity(actions);
    for _ in 0..actions {
        let before = loose_bytes(git_dir);
        let args = ["deposit-eur", "--handle", handle, "--key", key, "1", "--reason", "donation"];
        times.push(timed_smartup(binary, dir, &args) * 1e3);
        added.push((loose_bytes(git_dir) - before) as f64);
    }
    let runs: Vec<String> = times.iter().map(|t| format!("{t:.1}")).collect();
    println!("  runs: {} ms", runs.join(", "));
    (median(&mut times), median(&mut added))
}

/// `hledger check` as a peer, if installed: on the same entries as the largest realistic
/// ledger (every row, written by [`same_entries_journal`] twice: with the key and signature
/// of each row as text, and without), against `smartup verify` of them. The goal, judged
/// against the faster of the two: verify, signatures included, at least as fast as hledger.
/// Returns the faster hledger time, if it was measured.
fn hledger_peer(binary: &Path, ledger: Option<&Path>, scratch: &Path, goals: &mut Vec<String>) -> Option<f64> {
    const GOAL: &str = "verify at least as fast as `hledger check` of the same entries";
    let installed = Command::new("sh")
        .args(["-c", "command -v hledger"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let Some(ledger) = ledger.filter(|_| installed) else {
        println!("hledger not installed (or no realistic ledger): no peer figure");
        goals.push(format!("{GOAL}: NOT MEASURED (hledger is not installed)"));
        return None;
    };
    let (signed, plain) = (scratch.join("signed.journal"), scratch.join("plain.journal"));
    let entries = same_entries_journal(ledger, &signed, &plain);
    let best = |run: &dyn Fn() -> f64| run().min(run());
    let check = |journal: &Path| {
        best(&|| {
            let started = Instant::now();
            let out = Command::new("hledger")
                .arg("-f")
                .arg(journal)
                .arg("check")
                .output()
                .expect("hledger");
            assert!(out.status.success(), "hledger check: {}", String::from_utf8_lossy(&out.stderr));
            started.elapsed().as_secs_f64()
        })
    };
    let megabytes = |journal: &Path| std::fs::metadata(journal).map_or(0, |m| m.len()) as f64 / 1e6;
    let (with_signatures, without) = (check(&signed), check(&plain));
    let path = ledger.to_str().expect("UTF-8 path");
    let verify = best(&|| timed_smartup(binary, scratch, &["--ledger", path, "verify"]));
    let hledger = with_signatures.min(without);
    println!(
        "the same {entries} entries as a journal (each row's fields as tags, its money as postings)\n\
         hledger check: {with_signatures:.2} s with each row's key and signature as text ({:.1} MB), {without:.2} s without ({:.1} MB)\n\
         `smartup verify`, signatures included: {verify:.2} s ({:.2}x the faster hledger)",
        megabytes(&signed),
        megabytes(&plain),
        verify / hledger
    );
    goals.push(format!(
        "{GOAL}: {}: {verify:.2} s against {hledger:.2} s ({entries} entries)",
        verdict(verify <= hledger)
    ));
    Some(hledger)
}

/// What the floor of git storage is judged against.
struct Limits {
    /// The batch-verify rate, signatures per second on `cores` threads.
    batch: f64,
    cores: usize,
    /// Rows per second of the largest big-commit verify, if one ran.
    big_rate: Option<f64>,
    /// The faster `hledger check`, in seconds, if hledger ran.
    hledger: Option<f64>,
}

/// The least time any verify of the realistic ledger in `ledger` (verified as `real`) could
/// take on this machine while reading history through git at git's own speed: git's read of
/// every commit and tree (`git rev-list --objects --all`, its CPU seconds, best of two; it
/// does not even read the blobs) spread over every core, plus the ledger's signatures (one
/// per row and one per commit) at the batch-verify rate. Prints it, and returns a line for
/// each time goal saying whether the floor leaves it within reach.
fn git_floor(ledger: &Path, real: &Measured, limits: &Limits) -> Vec<String> {
    let read_cpu = || {
        let before = children_cpu_secs();
        let status = Command::new("git")
            .arg("-C")
            .arg(ledger)
            .args(["rev-list", "--objects", "--all"])
            .stdout(Stdio::null())
            .status()
            .expect("git rev-list");
        assert!(status.success(), "git rev-list --objects failed in {}", ledger.display());
        children_cpu_secs() - before
    };
    let git_cpu = read_cpu().min(read_cpu());
    let signatures = real.rows + real.commits;
    let signing = signatures as f64 / limits.batch;
    let floor = git_cpu / limits.cores as f64 + signing;
    println!(
        "git's own read of every commit and tree of the {}-commit ledger (`git rev-list --objects --all`; blobs not read): {git_cpu:.2} s of CPU\n\
         its {signatures} signatures (one per row, one per commit) at the batch-verify rate: {signing:.2} s on {} threads\n\
         no verify reading history through git at git's own speed can take less than {floor:.2} s here; `smartup verify` took {:.2} s ({:.2}x the floor)",
        real.commits,
        limits.cores,
        real.secs,
        real.secs / floor
    );
    let within = |needed: f64| if floor <= needed { "within reach" } else { "OUT OF REACH" };
    let mut lines = Vec::new();
    if let Some(hledger) = limits.hledger {
        lines.push(format!(
            "floor of git storage {floor:.2} s against `hledger check` {hledger:.2} s: the hledger goal is {}",
            within(hledger)
        ));
    }
    if let Some(big) = limits.big_rate {
        let needed_now = real.rows as f64 / (GOAL_REALISTIC_SHARE * big);
        let needed_at_goal = real.rows as f64 / (GOAL_REALISTIC_SHARE * GOAL_BATCH_SHARE * limits.batch);
        lines.push(format!(
            "floor of git storage {floor:.2} s against the realistic-share goal: it needs <= {needed_now:.2} s at today's big-commit rate ({}), <= {needed_at_goal:.2} s once big-commit verify meets its own goal ({})",
            within(needed_now),
            within(needed_at_goal)
        ));
    }
    lines
}

/// Writes every row of the ledger at `ledger` as one transaction of a plain-text accounting
/// journal (hledger's syntax): its envelope and columns as tags and, for a row that moved
/// money, the postings `smartup journal` gives it. `signed` also has each row's key and
/// signature (as text, which hledger does not check), `plain` not. Returns how many rows.
fn same_entries_journal(ledger: &Path, signed: &Path, plain: &Path) -> u64 {
    let repo = Repository::open_bare(ledger).expect("the ledger");
    let tip = repo.head().and_then(|h| h.peel_to_commit()).expect("the ledger's HEAD").id();
    let texts = RefCell::new((String::new(), String::new()));
    // A row's postings need the money after it: each row waits for the next one's state.
    let waiting = RefCell::new(None::<(Row, Money)>);
    let settle = |after: &Money| {
        if let Some((row, before)) = waiting.borrow_mut().take() {
            let (signed, plain) = &mut *texts.borrow_mut();
            journal_entry(signed, &row, &before, after, true);
            journal_entry(plain, &row, &before, after, false);
        }
    };
    let observe = |row: &Row, _: &Location, _: Oid, before: &State| {
        let now = Money::of(before);
        settle(&now);
        *waiting.borrow_mut() = Some((row.clone(), now));
    };
    let options = Options {
        observe: Some(&observe),
        read_ahead: true,
        ..Options::default()
    };
    let report = walk(&repo, tip, &options).expect("a walk of the ledger");
    assert!(report.findings.is_empty(), "the ledger is broken: {:?}", report.findings.first());
    settle(&Money::of(report.state.as_ref().expect("the ledger's state")));
    let (signed_text, plain_text) = texts.into_inner();
    std::fs::write(signed, signed_text).expect("the journal");
    std::fs::write(plain, plain_text).expect("the journal");
    report.rows
}

/// One row as a journal transaction (see [`same_entries_journal`]), with its key and
/// signature as tags when `signed`.
fn journal_entry(text: &mut String, row: &Row, before: &Money, after: &Money, signed: bool) {
    let table = smartup::ledger::schema::table(row.table);
    let date = &row.timestamp.to_string()[..10];
    let _ = write!(
        text,
        "{date} * {} by {}\n    ; seq: {}, table: {}",
        row.action, row.actor, row.seq, table.name
    );
    for (column, value) in table.columns.iter().zip(&row.columns) {
        let _ = write!(text, ", {}: {}", column.name, value.replace([',', '\n'], " "));
    }
    if signed {
        let _ = write!(text, ", key: {}, signature: {}", row.key, row.signature);
    }
    text.push('\n');
    for posting in postings(row, before, after) {
        text.push_str(&posting_line(&posting));
    }
    text.push('\n');
}
