//! Benchmark of the pre-receive hook on a big ledger: `cargo bench --bench hook`.
//!
//! It uses the ledger `cargo bench --bench verify` generates (default: 1,000,000 rows in
//! `target/bench-ledger-1000000`), shares its objects into a scratch bare repository, builds
//! new commits of 10 and 10,000 valid signed rows on top of its tip, and times the hook's
//! check of each push in a fresh process (cold: no cached state, rebuilt from genesis; warm:
//! the tip's state cached), with peak memory. Then it runs the real `smartup hook
//! pre-receive` binary once on the warm 10-row push, as git would.

mod common;

use common::{hook_once, key_of, work_actions};
use smartup::ledger::row::Row;
use smartup::repo::write::{commit_rows, Author};
use smartup::rules::State;
use smartup::verify::{walk, Options};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--hook-once") {
        let get = |k: usize| args.get(i + k).cloned().unwrap_or_else(|| fail("--hook-once FORGE OLD NEW"));
        hook_once(Path::new(&get(1)), &get(2), &get(3));
        return;
    }
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let rows: u64 = value("--rows").map_or(1_000_000, |v| v.parse().unwrap_or_else(|_| fail("--rows takes a number")));
    let dir = value("--dir").map_or_else(|| PathBuf::from(format!("target/bench-ledger-{rows}")), PathBuf::from);
    if !dir.join("smartup-bench.txt").exists() {
        fail(&format!(
            "{} holds no generated ledger: run `cargo bench --bench verify -- --rows {rows}` first",
            dir.display()
        ));
    }
    bench(&dir);
}

fn fail(message: &str) -> ! {
    eprintln!("hook bench: {message}");
    std::process::exit(2)
}

fn bench(ledger: &Path) {
    let scratch = std::env::temp_dir().join(format!("smartup-hook-bench-{}", std::process::id()));
    let forge = scratch.join("forge.git");
    std::fs::create_dir_all(&scratch).expect("scratch folder");
    let status = Command::new("git")
        .args(["clone", "-q", "--bare", "--shared"])
        .arg(ledger)
        .arg(&forge)
        .status()
        .expect("git clone");
    assert!(status.success(), "git clone --bare --shared failed");
    let repo = git2::Repository::open_bare(&forge).expect("open the scratch forge");
    let tip = repo.refname_to_id("refs/heads/main").expect("main");
    let started = Instant::now();
    let report = walk(&repo, tip, &Options::default()).expect("replay");
    let state = report.state.expect("a ledger");
    println!(
        "ledger: {} rows in {} commits (replayed in {:.2} s to build the pushes)",
        report.rows,
        report.commits,
        started.elapsed().as_secs_f64()
    );

    let small = build_push(&repo, tip, &state, 10);
    let large = build_push(&repo, tip, &state, 10_000);
    let exe = std::env::current_exe().expect("bench binary");
    println!("\n{:<28} {:>10} {:>12}", "push", "hook time", "peak memory");
    for (label, new, cold) in [
        ("10 rows, cold cache", small, true),
        ("10 rows, warm cache", small, false),
        ("10,000 rows, cold cache", large, true),
        ("10,000 rows, warm cache", large, false),
    ] {
        if cold {
            let _ = std::fs::remove_dir_all(forge.join("smartup"));
        }
        let out = Command::new(&exe)
            .args(["--hook-once"])
            .arg(&forge)
            .arg(tip.to_string())
            .arg(new.to_string())
            .output()
            .expect("child");
        let text = String::from_utf8_lossy(&out.stdout);
        if out.status.success() {
            println!("{label:<28} {text}");
        } else {
            // A cold cache can exceed the hook's time budget: it then rejects (fails closed).
            let errors = String::from_utf8_lossy(&out.stderr);
            assert!(cold, "a warm push failed: {text}{errors}");
            let why = errors.lines().find(|l| l.contains("hook check")).unwrap_or("failed");
            println!("{label:<28} rejected: {why}");
        }
    }
    let binary = env!("CARGO_BIN_EXE_smartup");
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(["hook", "pre-receive"])
        .env("GIT_DIR", &forge)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smartup hook");
    writeln!(child.stdin.take().expect("stdin"), "{tip} {small} refs/heads/main").expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    println!(
        "{:<28} {:>7.1} ms  (the real `smartup hook pre-receive` process, warm)",
        "10 rows, binary",
        started.elapsed().as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_dir_all(&scratch);
    println!(
        "\nmachine: {} cores, load {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim()
    );
}

/// A commit on top of `tip` with `n` valid rows: paired work sessions of the generated
/// workers on their started tasks, all at the tip's last timestamp.
fn build_push(repo: &git2::Repository, tip: git2::Oid, state: &State, n: usize) -> git2::Oid {
    let mut state = state.clone();
    let rows: Vec<Row> = work_actions(&mut state, n).into_iter().flatten().take(n).collect();
    let parent = repo.find_commit(tip).expect("tip");
    let handle = rows[0].actor.clone();
    let author = Author {
        handle: handle.clone(),
        email: "bench@smartup.invalid".into(),
    };
    commit_rows(
        repo,
        Some(&parent),
        &rows,
        &[],
        state.policy.ledger.segment_rows,
        &key_of(&handle),
        &author,
        "bench push",
        rows[0].timestamp,
    )
    .expect("commit")
}
