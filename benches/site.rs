//! The site benchmark of the transparency-site issue: `cargo bench --bench site [-- --rows
//! 1000000]`.
//!
//! On the big-commit benchmark ledger (generated, or reused from `target/`), through the
//! release binary on a scratch copy of it: a full `smartup site build` (wall time and peak
//! memory, polled from /proc), a rebuild that finds nothing new, and a rebuild after a push of
//! about 10 rows (one-action commits of work sessions, as people write them). Goals: full
//! build < 30 s and < 200 MB; rebuild after a 10-row push < 1 s. Each is printed MET or NOT MET.

mod common;

use common::*;
use git2::Repository;
use smartup::verify::{walk, Options};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const GOAL_FULL_SECS: f64 = 30.0;
const GOAL_FULL_MB: f64 = 200.0;
const GOAL_REBUILD_SECS: f64 = 1.0;
/// Rows the timed push adds (one-action commits of one or two rows, at least this many).
const PUSH_ROWS: usize = 10;

/// A build's wall time, peak memory and the line it printed.
struct Build {
    secs: f64,
    peak_mb: f64,
    said: String,
}

/// Runs `smartup --ledger LEDGER site build --out OUT --json`, polling its peak memory.
fn site_build(binary: &Path, ledger: &Path, out: &Path) -> Build {
    let started = Instant::now();
    let mut child = Command::new(binary)
        .arg("--ledger")
        .arg(ledger)
        .args(["site", "build", "--json", "--out"])
        .arg(out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("smartup site build");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0;
    while child.try_wait().expect("wait for the build").is_none() {
        peak_kb = peak_kb.max(proc_status_kb(&status_file, "VmHWM:"));
        std::thread::sleep(Duration::from_millis(10));
    }
    let secs = started.elapsed().as_secs_f64();
    let output = child.wait_with_output().expect("the build's output");
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        panic!("smartup site build failed: {}", output.status);
    }
    Build {
        secs,
        peak_mb: peak_kb as f64 / 1024.0,
        said: String::from_utf8_lossy(&output.stdout).trim().to_string(),
    }
}

fn verdict(met: bool) -> &'static str {
    if met {
        "MET"
    } else {
        "NOT MET"
    }
}

/// Appends one-action commits of work sessions to the ledger in `forge` until at least
/// `rows` rows were added; returns the rows added.
fn push_rows(forge: &Path, rows: usize) -> usize {
    let repo = Repository::open_bare(forge).expect("the scratch ledger");
    let tip = repo.refname_to_id("refs/heads/main").expect("main");
    let mut state = walk(&repo, tip, &Options::default()).expect("replay").state.expect("a ledger");
    let mut parent = repo.find_commit(tip).expect("tip");
    let mut added = 0;
    while added < rows {
        for entry in work_actions(&mut state, 1) {
            let oid = commit_action(&repo, Some(&parent), &state, &entry, &[]);
            parent = repo.find_commit(oid).expect("the new commit");
            added += entry.len();
        }
    }
    repo.reference("refs/heads/main", parent.id(), true, "bench: a push")
        .expect("move main");
    added
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows: u64 = args
        .iter()
        .position(|a| a == "--rows")
        .and_then(|i| args.get(i + 1))
        .map_or(1_000_000, |v| {
            v.replace('_', "").parse().unwrap_or_else(|_| panic!("--rows takes a number"))
        });
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_smartup"));
    println!("== smartup site benchmark ==");
    println!("machine: {}, {} memory", cpu_model(), mem_total());
    println!("load average at start: {}", read_trimmed("/proc/loadavg"));
    let shape = Shape::Big { rows, commit_rows: 2_000 };
    let dir = shape.default_dir();
    ensure_ledger(&dir, shape, &people());
    let dir = std::fs::canonicalize(&dir).expect("the ledger folder");

    std::fs::create_dir_all("target/tmp").expect("target/tmp");
    let scratch = tempfile::tempdir_in("target/tmp").expect("a scratch folder");
    let forge = scratch.path().join("ledger.git");
    git(
        scratch.path(),
        &["clone", "-q", "--bare", "--shared", &dir.display().to_string(), "ledger.git"],
    );
    let out = scratch.path().join("site");

    let full = site_build(&binary, &forge, &out);
    let files = walk_size(&out);
    println!(
        "full build of {rows} rows:        {:>8.2} s  {:>7.1} MB peak  ({:.1} MB of site in {} files)",
        full.secs,
        full.peak_mb,
        files.0 as f64 / 1e6,
        files.1
    );
    println!("  {}", full.said);
    let same = site_build(&binary, &forge, &out);
    println!(
        "rebuild, nothing new:            {:>8.2} s  {:>7.1} MB peak",
        same.secs, same.peak_mb
    );
    let added = push_rows(&forge, PUSH_ROWS);
    let after = site_build(&binary, &forge, &out);
    println!(
        "rebuild after a {added}-row push:     {:>8.2} s  {:>7.1} MB peak",
        after.secs, after.peak_mb
    );
    println!("  {}", after.said);
    println!("load average at end: {}", read_trimmed("/proc/loadavg"));
    println!("\n-- goals");
    println!(
        "full build of {rows} rows < {GOAL_FULL_SECS:.0} s: {}: {:.2} s",
        verdict(full.secs < GOAL_FULL_SECS),
        full.secs
    );
    println!(
        "full build < {GOAL_FULL_MB:.0} MB peak: {}: {:.1} MB",
        verdict(full.peak_mb < GOAL_FULL_MB),
        full.peak_mb
    );
    println!(
        "rebuild after a {added}-row push < {GOAL_REBUILD_SECS:.0} s: {}: {:.2} s",
        verdict(after.secs < GOAL_REBUILD_SECS),
        after.secs
    );
}

/// Bytes and files under `dir`.
fn walk_size(dir: &Path) -> (u64, u64) {
    let mut total = (0, 0);
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        match entry.file_type() {
            Ok(t) if t.is_dir() => {
                let (bytes, files) = walk_size(&entry.path());
                total = (total.0 + bytes, total.1 + files);
            }
            _ => total = (total.0 + entry.metadata().map_or(0, |m| m.len()), total.1 + 1),
        }
    }
    total
}
