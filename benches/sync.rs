//! The Forgejo sync against the double (issue 14): `cargo bench --bench sync [-- --tasks
//! 150,1000]`. For a ledger of N tasks (the demo plus N-1 tasks written through the library,
//! one commit each), it prints the requests (reading, writing) and the wall time of:
//!
//! 1. the first sync into an empty organisation (a full reconcile);
//! 2. the sync right after it (it reads again what the first one wrote);
//! 3. a quiet sync (nothing changed since the last one);
//! 4. the sync after a 10-row push (ten new tasks);
//! 5. a full reconcile (`--full`) with nothing to change.
//!
//! The goal: 3 and 4 do not grow with the number of tasks. The double is Python on the same
//! cores, so times are the double's as much as the sync's; the request counts are exact.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/forgejo.rs"]
#[allow(dead_code)]
mod forgejo_double;

use common::{Ledger, Sandbox};
use forgejo_double::{configure, fixture, sync, Double, SYNC_TOKEN};
use smartup::clerk::{Ledger as Open, Signer};
use smartup::rules::draft::Intent;
use smartup::sign::SigningKey;
use smartup::time::Timestamp;
use std::time::{Duration, Instant};

/// Who may write to the double's repositories.
const WRITERS: &[&str] = &["founder", "carla", "maya", "alice", "bob"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sizes: Vec<usize> = match args.iter().position(|a| a == "--tasks").and_then(|i| args.get(i + 1)) {
        Some(list) => list
            .split(',')
            .map(|n| {
                n.replace('_', "")
                    .parse()
                    .unwrap_or_else(|_| panic!("--tasks takes numbers, comma-separated"))
            })
            .collect(),
        None => vec![150, 1000],
    };
    println!("== smartup forgejo sync against the double ==");
    println!("load average at start: {}", load_average());
    println!("{:>7}  {:<34} {:>6} {:>6} {:>9}", "tasks", "run", "reads", "writes", "seconds");
    for tasks in sizes {
        bench(tasks);
    }
    println!("load average at end: {}", load_average());
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim().to_string()
}

/// One ledger of `tasks` tasks, synced as the module doc says.
fn bench(tasks: usize) {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    let started = Instant::now();
    let demo_tasks = 1;
    add_tasks(&ledger, 0, tasks.saturating_sub(demo_tasks));
    let double = Double::start(&sb, &fixture(WRITERS));
    configure(&sb, &ledger, &double, "");
    println!("{tasks:>7}  (ledger written in {:.1} s)", started.elapsed().as_secs_f64());
    let run = |what: &str, extra: &[&str]| {
        // Forgejo keeps whole seconds: runs in seconds of their own, as in real life.
        std::thread::sleep(Duration::from_millis(1100));
        let mut args = vec!["--json"];
        args.extend_from_slice(extra);
        let started = Instant::now();
        let report = sync(&sb, &ledger, Some(SYNC_TOKEN), &args).ok().json();
        let seconds = started.elapsed().as_secs_f64();
        let count = |kind: &str| report["requests"][kind].as_u64().unwrap_or_default();
        println!("{tasks:>7}  {what:<34} {:>6} {:>6} {seconds:>9.2}", count("read"), count("write"));
    };
    run("1. first sync (full)", &[]);
    run("2. right after", &[]);
    run("3. quiet", &[]);
    add_tasks(&ledger, tasks, 10);
    run("4. after a 10-row push", &[]);
    run("5. --full, nothing to change", &["--full"]);
}

/// Writes `count` new tasks of objective 5_2_1 (carla, its team's captain), numbered after
/// `from`, one commit each, after a deposit that keeps the treasury rule satisfied.
fn add_tasks(ledger: &Ledger, from: usize, count: usize) {
    let mut open = Open::open(&ledger.dir).expect("the demo ledger opens");
    let signer = |who: &str| Signer::new(who, SigningKey::load(&ledger.keys[who], None).expect("the demo's key"));
    let deposit = Intent::DepositEur {
        amount: "1000000".parse().expect("an amount"),
        gross: None,
        reason: "donation".into(),
        from: None,
        reference: String::new(),
        note: "bench".into(),
    };
    open.record(&signer("founder"), &deposit, None, Timestamp::now())
        .expect("the deposit is accepted");
    let carla = signer("carla");
    for n in from..from + count {
        let task = Intent::CreateTask {
            task: format!("6_2_1_{}_bench", n + 100),
            objective: "5_2_1".into(),
            title: format!("Bench task {n}"),
            size: "small".into(),
            phase: "design".into(),
        };
        open.record(&carla, &task, None, Timestamp::now())
            .unwrap_or_else(|e| panic!("task {n} is refused: {e:#}"));
    }
}
