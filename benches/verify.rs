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

mod common;

use common::*;
use smartup::ledger::policy::{file_reference, Policy};
use smartup::ledger::row::{Location, Row};
use smartup::ledger::segment::{self, SegmentError};
use smartup::repo::{self, RowStream};
use smartup::rules::{self, State};
use smartup::sign::{self, PublicKey, SignatureCheck};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Rows when `--rows` is not given.
const DEFAULT_ROWS: u64 = 1_000_000;
/// Rows per generated commit by default (a commit is closed at the first event boundary past
/// this).
const DEFAULT_COMMIT_ROWS: usize = 2_000;
/// Blob cache tried in the cache experiment (libgit2 caches no blobs by default).
const EXPERIMENT_BLOB_CACHE_MB: usize = 64;
/// The throughput the product must exceed on two cores.
const GOAL_ROWS_PER_SEC: f64 = 50_000.0;
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

/// The benchmark proper.
fn bench(args: &Args) {
    if args.rows < 1_000 {
        fail("--rows must be at least 1000");
    }
    let shape = Shape::Big {
        rows: args.rows,
        commit_rows: args.commit_rows,
    };
    let dir = args.dir.clone().unwrap_or_else(|| shape.default_dir());
    let exe = std::env::current_exe().expect("cannot find the bench executable");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("== smartup verify benchmark: {} rows in {} ==", args.rows, dir.display());
    let load_before = read_trimmed("/proc/loadavg");
    println!("machine: {cores} cores (nproc), {}, {} memory", cpu_model(), mem_total());
    println!("load average before: {load_before}");

    let people = people();
    let scaling_before = parallel_scaling(&people[FOUNDER].key, cores);
    println!("parallel scaling of strict ed25519 verification on {cores} threads: {scaling_before:.2}x (ideal {cores}x)");
    let generation = ensure_ledger(&dir, shape, &people);

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
    // Keeps each table's last segment from one commit to the next, as the walk does.
    let mut segments = repo::Trees::new(&repo);
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
            let kept = source
                .grows
                .map(|old| repo.find_blob(old).expect("the segment's earlier version").size());
            timed(&mut p.csv_parse, || {
                let header_end = segment::check_header(source.table, &source.file, bytes).expect("a good header");
                let offset = kept.unwrap_or(header_end);
                segment::parse_body::<SegmentError>(source.table, &source.file, &bytes[offset..], 2, |_, _| Ok(()))
                    .expect("a good segment");
            });
        }
        let mut stream = RowStream::new(&mut segments, changes.sources, segment_rows);
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
            if rows.is_multiple_of(7) && sample.len() < PROFILE_SAMPLE {
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
