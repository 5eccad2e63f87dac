//! The Matrix benchmark of issue 12: `cargo bench --bench matrix [-- --events 30 --commands
//! 200 --rows 1000000 --big-wait 300]`, against a real Synapse of its own
//! (`tests/common/synapse.rs`; the venv of `SMARTUP_SYNAPSE_VENV`), through the release binary.
//!
//! On the demo (`smartup demo`: a forge with the hook, a clone per participant) with a
//! `[matrix]` section amended in and pushed, and the founder's own account proven to the bot
//! (`!link CODE`) and watching the general forum from a thread of its own (a long-polled
//! `/sync`, so a notice is seen the moment the homeserver has it):
//!
//! 1. **Announcement latency**: N times (`--events`), the founder records one row
//!    (`deposit-eur 1`) and runs `smartup push` (after a pause of 0 to 1 s, so that pushes
//!    fall anywhere in the bot's poll); the time from the push's return to the forum notice
//!    carrying that seq (`org.smartup.seq`). Once with the forge's `smartup.postReceive`
//!    running `smartup bot announce` after each accepted push (no bot running), once with a
//!    running `smartup bot run --poll-seconds 1` alone (polling).
//! 2. **Commands per second**: one user sends M (`--commands`) `!treasury` into a direct chat
//!    with the running bot as fast as one client can; the time from the first send to the
//!    M-th reply, the send rate into a room without the bot, and the CPU per command of the
//!    bot and of Synapse.
//! 3. **A bot on a large ledger** (`--rows`, the big-commit benchmark ledger, generated or
//!    reused from `target/`): a scratch clone with `[matrix]` amended in through the library,
//!    `smartup bot run --since <last seq>` on it; the time to its hub's forum room, to its
//!    first `/sync` (it joins a direct chat it was invited to) and to its first answer, its
//!    peak and current memory (VmHWM, VmRSS), its CPU time and Synapse's, the requests it
//!    sent (from Synapse's access log), and the time to announce one more row; then SIGTERM,
//!    which must end it with exit code 0. The first hub sync makes a room per open task: when
//!    it has not ended after `--big-wait` seconds, the bench says how far it got and stops
//!    the bot.
//!
//! `--events 0`, `--commands 0` or `--rows 0` leaves that part out.

mod common;
#[path = "../tests/common/mod.rs"]
mod testing;

use common::{cpu_model, cpu_secs_of, ensure_ledger, git, human_secs, key_of, mem_total, people, proc_status_kb, read_trimmed, Shape};
use serde_json::{json, Value};
use smartup::clerk::{Ledger as OpenLedger, Signer};
use smartup::rules::draft::Intent;
use smartup::time::Timestamp;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use testing::synapse::{Account, Synapse, TestClient};
use testing::{s, Run, Sandbox, SMARTUP};

/// How long one announcement, reply or set-up step may take before the bench gives up.
const WAIT: Duration = Duration::from_secs(60);
/// The bot's user id in the demo's `[matrix]` section.
const BOT: &str = "@engelbot:localhost";
/// The bot's user id on the large ledger (an account of its own, so its place and its direct
/// chats are its own).
const BIG_BOT: &str = "@bigbot:localhost";
/// The alias prefix of the large ledger's hub (the demo's hub has none).
const BIG_PREFIX: &str = "big_";

/// The bench's command line.
struct Args {
    events: usize,
    commands: usize,
    rows: u64,
    /// How long the bot on the large ledger may take to its first /sync.
    big_wait: Duration,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |flag: &str, default: u64| -> u64 {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| {
                v.replace('_', "")
                    .parse()
                    .unwrap_or_else(|_| fail(&format!("{flag} takes a number")))
            })
    };
    let parsed = Args {
        events: number("--events", 30) as usize,
        commands: number("--commands", 200) as usize,
        rows: number("--rows", 1_000_000),
        big_wait: Duration::from_secs(number("--big-wait", 300)),
    };
    if parsed.rows != 0 && parsed.rows < 1_000 {
        fail("--rows is 0 (left out) or at least 1000");
    }
    bench(&parsed);
}

/// Prints a usage error and exits.
fn fail(message: &str) -> ! {
    eprintln!("matrix bench: {message}");
    eprintln!(
        "usage: cargo bench --bench matrix -- [--events 30] [--commands 200] [--rows 1000000] [--big-wait 300] (0 leaves a part out)"
    );
    std::process::exit(2)
}

/// The whole bench.
fn bench(args: &Args) {
    let started = Instant::now();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load_start = read_trimmed("/proc/loadavg");
    println!("== smartup Matrix benchmark (issue 12) ==");
    println!("machine: {}, {cores} cores, {} memory", cpu_model(), mem_total());
    println!("load average at start: {load_start}");
    let Some(hs) = Synapse::start() else {
        eprintln!(
            "the Matrix bench needs Synapse {}: nothing measured",
            testing::synapse::SYNAPSE_VERSION
        );
        std::process::exit(2);
    };
    let synapse_pid = hs.pid().expect("Synapse runs");
    let sb = Sandbox::new();
    let bot = hs.register("engelbot", false);
    let asker = hs.register("asker", false);
    write_token_file(&sb, &hs, &bot);
    let mut figures: Vec<String> = Vec::new();

    if args.events > 0 || args.commands > 0 {
        let (mut demo, forum) = Demo::set_up(&sb, &hs, &bot);
        if args.events > 0 {
            println!("\n-- 1b. announcement latency, polling only: `smartup bot run --poll-seconds 1`, no post-receive");
            let polling = demo.events(&sb, &forum, args.events, synapse_pid);
            figures.push(polling.line("1b. announced by `bot run --poll-seconds 1` (polling)"));
        }
        if args.commands > 0 {
            println!("\n-- 2. commands answered per second by one `smartup bot run`");
            figures.extend(demo.commands(&hs, &asker, args.commands, synapse_pid));
        }
        demo.stop_bot();
        if args.events > 0 {
            println!("\n-- 1a. announcement latency with the forge's post-receive trigger: `smartup bot announce`, no bot running");
            let command = format!("'{SMARTUP}' bot announce");
            git(&demo.forge, &["config", "smartup.postReceive", &command]);
            let triggered = demo.events(&sb, &forum, args.events, synapse_pid);
            git(&demo.forge, &["config", "--unset", "smartup.postReceive"]);
            figures.insert(0, triggered.line("1a. announced by the post-receive `bot announce`"));
            let once = timed(|| demo.smartup(&sb, &demo.forge, &["bot", "announce"]).ok());
            let line = format!(
                "    a `smartup bot announce` in the forge with nothing new (process, ledger, hub check): {:.0} ms",
                once * 1e3
            );
            println!("{line}");
            figures.insert(1, line);
        }
    }

    if args.rows > 0 {
        println!("\n-- 3. `smartup bot run` on the big-commit ledger of {} rows", args.rows);
        figures.extend(big_ledger(&sb, &hs, &asker, args.rows, args.big_wait, synapse_pid));
    }

    let load_end = read_trimmed("/proc/loadavg");
    println!("\n== figures ==");
    for line in &figures {
        println!("{line}");
    }
    println!(
        "machine: {}, {cores} cores; load average at start {load_start}, at end {load_end}; the bench took {}",
        cpu_model(),
        human_secs(started.elapsed().as_secs_f64())
    );
}

// ---------------------------------------------------------------------------------------------
// The homeserver

/// CPU seconds of a process so far (user and system).
fn cpu_of(pid: u32) -> f64 {
    cpu_secs_of(&format!("/proc/{pid}/stat"))
}

/// The bot's and the admin's tokens in the sandbox user's `~/.config/smartup/matrix.toml`
/// (mode 0600), where every `smartup` the bench starts, and the forge's hooks, find them.
fn write_token_file(sb: &Sandbox, hs: &Synapse, bot: &Account) {
    let dir = sb.home().join(".config").join("smartup");
    std::fs::create_dir_all(&dir).expect("the sandbox's configuration folder");
    let file = dir.join("matrix.toml");
    let text = format!(
        "[tokens.\"{}\"]\nbot = \"{}\"\nadmin = \"{}\"\n",
        hs.url, bot.access_token, hs.admin.access_token
    );
    std::fs::write(&file, text).expect("write the token file");
    let mut permissions = std::fs::metadata(&file).expect("the token file").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o600);
    std::fs::set_permissions(&file, permissions).expect("chmod 600 the token file");
}

/// Sends a request; its status and JSON body (`null` when not JSON).
fn call(http: &reqwest::blocking::Client, url: reqwest::Url, token: &str) -> (u16, Value) {
    let response = http
        .get(url.clone())
        .bearer_auth(token)
        .send()
        .unwrap_or_else(|e| panic!("GET {}: no answer: {e}", url.path()));
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A message a [`Watcher`] saw, and when it arrived.
struct Seen {
    at: Instant,
    sender: String,
    content: Value,
}

/// What a watcher's thread shares with the bench.
type Shared = Arc<(Mutex<Vec<Seen>>, Condvar)>;

/// One account following one room from a thread of its own by long-polling `/sync` (a filter
/// keeps the room's messages only, up to 1000 per answer, so none is skipped): every message
/// with the moment it arrived here.
struct Watcher {
    seen: Shared,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts following `room` as `account`; what the room held before is not kept.
    fn start(hs: &Synapse, account: &Account, room: &str) -> Watcher {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        let filter = json!({
            "presence": {"not_types": ["*"]},
            "account_data": {"not_types": ["*"]},
            "room": {
                "rooms": [room],
                "timeline": {"limit": 1000, "types": ["m.room.message"]},
                "state": {"lazy_load_members": true, "types": []},
                "ephemeral": {"not_types": ["*"]},
                "account_data": {"not_types": ["*"]},
            },
        })
        .to_string();
        let url = format!("{}/_matrix/client/v3/sync", hs.url);
        let token = account.access_token.clone();
        let sync = move |since: Option<&str>, timeout: &str| -> (u16, Value) {
            let mut url = reqwest::Url::parse(&url).expect("the sync URL");
            url.query_pairs_mut().append_pair("filter", &filter).append_pair("timeout", timeout);
            if let Some(since) = since {
                url.query_pairs_mut().append_pair("since", since);
            }
            call(&http, url, &token)
        };
        let (status, first) = sync(None, "0");
        assert_eq!(status, 200, "the watcher's first sync: {first}");
        let mut since = first["next_batch"].as_str().expect("a next_batch").to_string();
        let seen: Shared = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (shared, stopped, room) = (Arc::clone(&seen), Arc::clone(&stop), room.to_string());
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let (status, batch) = sync(Some(&since), "1000");
                if status != 200 {
                    if stopped.load(Ordering::Relaxed) {
                        return;
                    }
                    panic!("the watcher's sync answered {status}: {batch}");
                }
                let at = Instant::now();
                let events = batch["rooms"]["join"][&room]["timeline"]["events"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if !events.is_empty() {
                    let (lock, arrived) = &*shared;
                    let mut list = lock.lock().expect("the watcher's list");
                    list.extend(events.into_iter().map(|e| Seen {
                        at,
                        sender: e["sender"].as_str().unwrap_or_default().to_string(),
                        content: e["content"].clone(),
                    }));
                    arrived.notify_all();
                }
                since = batch["next_batch"].as_str().expect("a next_batch").to_string();
            }
        });
        Watcher {
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// Waits up to `limit` until `done` says yes of the messages seen so far; its answer.
    fn wait<T>(&self, limit: Duration, mut done: impl FnMut(&[Seen]) -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + limit;
        let (lock, arrived) = &*self.seen;
        let mut list = lock.lock().expect("the watcher's list");
        loop {
            if let Some(answer) = done(&list) {
                return Some(answer);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            list = arrived.wait_timeout(list, deadline - now).expect("the watcher's list").0;
        }
    }

    /// How many messages were seen so far.
    fn len(&self) -> usize {
        self.seen.0.lock().expect("the watcher's list").len()
    }

    /// When the first notice of `sender` at or after position `from` arrived, waiting up to
    /// `limit` for it; and its text.
    fn notice_after(&self, from: usize, sender: &str, limit: Duration) -> Option<(Instant, String)> {
        self.wait(limit, |list| {
            list.iter()
                .skip(from)
                .find(|m| m.sender == sender && m.content["msgtype"] == "m.notice")
                .map(|m| (m.at, m.content["body"].as_str().unwrap_or_default().to_string()))
        })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Waits up to [`WAIT`] for `done`, checking every 100 ms; panics with `what` otherwise.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "waited {} s in vain for {what}", WAIT.as_secs());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether `account` is invited to (or in) `room`, as the bot sees its state.
fn invited(bot: &TestClient, room: &str, account: &str) -> bool {
    bot.state(room).iter().any(|e| {
        e["type"] == "m.room.member" && e["state_key"] == account && matches!(e["content"]["membership"].as_str(), Some("invite" | "join"))
    })
}

/// A direct chat of `account` with `bot`, once the bot has joined it.
fn direct_chat(hs: &Synapse, account: &Account, bot: &str) -> String {
    let client = hs.client(account);
    let room = client.create_dm(bot);
    wait_until(&format!("{bot} joining the direct chat of {}", account.user_id), || {
        client.joined_members(&room).iter().any(|m| m == bot)
    });
    room
}

/// Stops a process by its id with SIGTERM and waits for it; panics unless it exits 0 within
/// [`WAIT`].
fn terminate(child: &mut Child, what: &str, log: &Path) {
    let status = stop(child, WAIT);
    assert!(
        status.is_some_and(|s| s.success()),
        "{what} did not exit 0 on SIGTERM ({status:?}); its log:\n{}",
        tail(log)
    );
}

/// SIGTERM to a child; its exit status if it ends within `grace`, else `None` (and it is
/// killed).
fn stop(child: &mut Child, grace: Duration) -> Option<std::process::ExitStatus> {
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert!(term.is_ok_and(|s| s.success()), "cannot send SIGTERM to {}", child.id());
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait for the bot") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// The last 30 lines of a log.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Starts `smartup ARGS` (a `bot run`) in the sandbox, its standard error to `log`.
fn start_smartup(sb: &Sandbox, args: &[&str], env: &[(&str, &str)], log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("the bot's log");
    let mut command = sb.command(SMARTUP);
    command.args(args).stdout(Stdio::null()).stderr(log);
    for (name, value) in env {
        command.env(name, value);
    }
    command.spawn().expect("cannot start smartup")
}

/// Seconds `f` takes.
fn timed<T>(f: impl FnOnce() -> T) -> f64 {
    let started = Instant::now();
    f();
    started.elapsed().as_secs_f64()
}

// ---------------------------------------------------------------------------------------------
// 1. and 2. on the demo

/// The demo with its hub: the forge, the founder's clone and key, and the running bot.
struct Demo {
    forge: PathBuf,
    clone: PathBuf,
    key: PathBuf,
    bot: Option<Child>,
    log: PathBuf,
}

/// Latencies of announcements, in seconds, and the CPU time spent on them.
struct Latencies {
    after_return: Vec<f64>,
    after_start: Vec<f64>,
    pushes: Vec<f64>,
    /// The running bot's, when one runs.
    bot_cpu: Option<f64>,
    synapse_cpu: f64,
}

/// Nearest-rank percentile `p` (0..100) of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// `median X ms, p95 Y ms, min .., max ..` of seconds.
fn spread(values: &[f64]) -> String {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    format!(
        "median {:.0} ms, p95 {:.0} ms, min {:.0} ms, max {:.0} ms",
        percentile(&sorted, 50.0) * 1e3,
        percentile(&sorted, 95.0) * 1e3,
        sorted[0] * 1e3,
        sorted[sorted.len() - 1] * 1e3
    )
}

impl Latencies {
    /// The figure's lines.
    fn line(&self, label: &str) -> String {
        let n = self.after_return.len();
        let bot = self.bot_cpu.map_or(String::new(), |cpu| format!("{cpu:.1} s the bot, "));
        format!(
            "{label}, {n} events: from the push's return to the forum notice: {}\n    from the push's start: {}; the push itself: {}; CPU {bot}{:.1} s Synapse",
            spread(&self.after_return),
            spread(&self.after_start),
            spread(&self.pushes),
            self.synapse_cpu,
        )
    }
}

impl Demo {
    /// `smartup demo`, `[matrix]` amended in by the founder, the founder's account linked and
    /// pushed; `smartup bot run` started on the forge (it makes the hub); the founder proves
    /// the account with `!link CODE`, is invited to the forum and joins it. The demo, and the
    /// founder's account watching the forum.
    fn set_up(sb: &Sandbox, hs: &Synapse, bot: &Account) -> (Demo, Watcher) {
        let started = Instant::now();
        let dir = sb.demo().dir.parent().expect("the demo folder").to_path_buf();
        let mut demo = Demo {
            forge: dir.join("forge.git"),
            clone: dir.join("founder"),
            key: dir.join("keys").join("founder"),
            bot: None,
            log: sb.path().join("bot.log"),
        };
        git(&demo.clone, &["pull", "-q", "--ff-only", "origin", "main"]);
        let policy = sb.path().join("with-matrix.toml");
        let text = std::fs::read_to_string(demo.clone.join("ledger.toml")).expect("the demo's ledger.toml");
        let matrix = format!(
            "\n[matrix]\nhomeserver = \"{}\"\nserver_name = \"localhost\"\nbot = \"{BOT}\"\n",
            hs.url
        );
        std::fs::write(&policy, text + &matrix).expect("write the amended policy");
        demo.founder(sb, &["amend-policy", s(&policy)]).ok();
        let founder = hs.register("founder", false);
        let linked = demo.founder(sb, &["matrix", "link", &founder.user_id]).ok();
        let code = linked
            .stdout
            .lines()
            .find(|l| l.starts_with("Link code"))
            .and_then(|l| l.rsplit(' ').next())
            .expect("a link code")
            .to_string();
        demo.founder(sb, &["push"]).ok();
        let last = demo.last_seq(sb);
        println!(
            "demo written, [matrix] amended in, the founder's account linked and pushed in {:.1} s (seq {last})",
            started.elapsed().as_secs_f64()
        );

        let started = Instant::now();
        demo.start_bot(sb, &["--since", &last.to_string()]);
        let as_bot = hs.client(bot);
        let alias = "#1_general_forum:localhost";
        wait_until("the bot's hub", || as_bot.resolve_alias(alias).is_some());
        let forum = as_bot.resolve_alias(alias).expect("the forum");
        println!(
            "`smartup bot run` made the hub's forum room {:.1} s after it started",
            started.elapsed().as_secs_f64()
        );
        let dm = direct_chat(hs, &founder, BOT);
        let chat = Watcher::start(hs, &founder, &dm);
        let asked = Instant::now();
        hs.client(&founder).send_text(&dm, &format!("!link {code}"));
        let (_, thanks) = chat.notice_after(0, BOT, WAIT).expect("an answer to !link");
        assert!(thanks.starts_with("Thank you"), "{thanks}");
        wait_until("the founder's invitation to the forum", || {
            invited(&as_bot, &forum, &founder.user_id)
        });
        hs.client(&founder).join(&forum);
        println!(
            "the founder's account proven (`!link`), invited to the forum and joined in {:.1} s",
            asked.elapsed().as_secs_f64()
        );
        let watcher = Watcher::start(hs, &founder, &forum);
        (demo, watcher)
    }

    /// `smartup ARGS` in `dir`, as the founder.
    fn smartup(&self, sb: &Sandbox, dir: &Path, args: &[&str]) -> Run {
        sb.smartup_with(args, |c| {
            c.current_dir(dir).env("SMARTUP_HANDLE", "founder").env("SMARTUP_KEY", &self.key);
        })
    }

    /// `smartup ARGS` in the founder's clone, as the founder.
    fn founder(&self, sb: &Sandbox, args: &[&str]) -> Run {
        self.smartup(sb, &self.clone, args)
    }

    /// The last seq of the forge.
    fn last_seq(&self, sb: &Sandbox) -> u64 {
        let status = self.smartup(sb, &self.forge, &["status", "--json"]).ok().json();
        status["last_seq"].as_u64().expect("the last seq")
    }

    /// Starts `smartup bot run --poll-seconds 1 EXTRA` on the forge.
    fn start_bot(&mut self, sb: &Sandbox, extra: &[&str]) {
        let mut args = vec!["--ledger", s(&self.forge), "bot", "run", "--poll-seconds", "1"];
        args.extend_from_slice(extra);
        self.bot = Some(start_smartup(sb, &args, &[], &self.log));
    }

    /// Stops the running bot with SIGTERM (it must exit 0).
    fn stop_bot(&mut self) {
        if let Some(mut child) = self.bot.take() {
            terminate(&mut child, "`smartup bot run`", &self.log);
            println!("`smartup bot run` stopped by SIGTERM: exit code 0");
        }
    }

    /// `n` times: one row and a push by the founder, then the wait for its notice.
    fn events(&self, sb: &Sandbox, forum: &Watcher, n: usize, synapse_pid: u32) -> Latencies {
        let bot_pid = self.bot.as_ref().map(Child::id);
        let (bot_before, synapse_before) = (bot_pid.map(cpu_of), cpu_of(synapse_pid));
        let mut latencies = Latencies {
            after_return: Vec::with_capacity(n),
            after_start: Vec::with_capacity(n),
            pushes: Vec::with_capacity(n),
            bot_cpu: None,
            synapse_cpu: 0.0,
        };
        for i in 0..n {
            let recorded = self.founder(sb, &["deposit-eur", "1", "--reason", "donation"]).ok();
            let seq: u64 = recorded
                .stdout
                .lines()
                .find_map(|l| l.strip_prefix("seq ").and_then(|rest| rest.split(':').next()))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no seq in {recorded:?}"));
            // Pushes come at any moment of the bot's poll: a pause of 0 to 1 s, spread evenly.
            std::thread::sleep(Duration::from_millis((i as u64 * 618) % 1000));
            let start = Instant::now();
            self.founder(sb, &["push"]).ok();
            let returned = Instant::now();
            let seen = forum.wait(WAIT, |list| {
                list.iter()
                    .find(|m| m.content["org.smartup.seq"].as_u64() == Some(seq))
                    .map(|m| m.at)
            });
            let Some(seen) = seen else {
                let hook_log = self.forge.join("smartup").join("post-receive.log");
                panic!(
                    "no notice of seq {seq} in the forum within {} s; the bot's log:\n{}\nthe post-receive log:\n{}",
                    WAIT.as_secs(),
                    tail(&self.log),
                    tail(&hook_log)
                );
            };
            latencies.after_return.push(seen.saturating_duration_since(returned).as_secs_f64());
            latencies.after_start.push(seen.saturating_duration_since(start).as_secs_f64());
            latencies.pushes.push((returned - start).as_secs_f64());
            if i == 0 || (i + 1) % 10 == 0 {
                println!(
                    "  event {}/{n} (seq {seq}): push {:.0} ms, notice {:.0} ms after the push returned",
                    i + 1,
                    latencies.pushes[i] * 1e3,
                    latencies.after_return[i] * 1e3
                );
            }
        }
        latencies.bot_cpu = bot_pid.zip(bot_before).map(|(pid, before)| cpu_of(pid) - before);
        latencies.synapse_cpu = cpu_of(synapse_pid) - synapse_before;
        let line = latencies.line("result");
        println!("{line}");
        latencies
    }

    /// M `!treasury` from one user into a direct chat with the running bot, as fast as one
    /// client sends them; the figures' lines.
    fn commands(&self, hs: &Synapse, asker: &Account, m: usize, synapse_pid: u32) -> Vec<String> {
        let dm = direct_chat(hs, asker, BOT);
        let chat = Watcher::start(hs, asker, &dm);
        let client = hs.client(asker);
        // One command first: the bot is in the room and answers; its round trip.
        let asked = Instant::now();
        client.send_text(&dm, "!treasury");
        let (answered, reply) = chat.notice_after(0, BOT, WAIT).expect("an answer to !treasury");
        assert!(reply.starts_with("Treasury:"), "{reply}");
        let round_trip = answered.saturating_duration_since(asked).as_secs_f64();
        println!("one `!treasury` alone: answered {:.0} ms after it was sent", round_trip * 1e3);

        // Sending alone: as many messages into a room of the user's without the bot.
        let alone = client.create_dm(&hs.admin.user_id);
        let synapse_before = cpu_of(synapse_pid);
        let send_alone = timed(|| {
            for _ in 0..m {
                client.send_text(&alone, "!treasury");
            }
        });
        let synapse_per_send = (cpu_of(synapse_pid) - synapse_before) / m as f64;

        let bot_pid = self.bot.as_ref().map(Child::id).expect("a running bot");
        let cpu = || (cpu_of(bot_pid), cpu_of(synapse_pid));
        let before = cpu();
        let from = chat.len();
        let first = Instant::now();
        for _ in 0..m {
            client.send_text(&dm, "!treasury");
        }
        let sent = Instant::now();
        let replies = |list: &[Seen]| -> Vec<Instant> {
            list.iter()
                .skip(from)
                .filter(|x| x.sender == BOT && x.content["msgtype"] == "m.notice")
                .map(|x| x.at)
                .collect()
        };
        // Until the M-th reply, or until replies stop coming for 10 s (CPU read at the last).
        let (mut all, mut at_last) = (Vec::new(), cpu());
        loop {
            let grown = chat.wait(Duration::from_secs(10), |list| Some(replies(list)).filter(|r| r.len() > all.len()));
            let Some(grown) = grown else { break };
            all = grown;
            at_last = cpu();
            if all.len() >= m {
                break;
            }
        }
        let answered = all.len();
        let last = *all.last().expect("at least one reply");
        let total = last.saturating_duration_since(first).as_secs_f64();
        let rate = answered as f64 / total;
        let (bot_cpu, synapse_cpu) = (at_last.0 - before.0, at_last.1 - before.1);
        let behind = all.iter().filter(|at| **at > sent).count();
        let mut lines = vec![format!(
            "2. {m} `!treasury` from one client into a direct chat with one `bot run`: {answered} answered, the last {total:.2} s after the first send: {rate:.1} commands/s"
        )];
        if answered < m {
            lines.push(format!(
                "    {} commands were NEVER answered (no reply for 10 s after the last): the bot skips what a gappy /sync leaves out (see the report)",
                m - answered
            ));
        }
        lines.push(format!(
            "    sending alone (a room without the bot): {:.1} messages/s ({:.0} ms of Synapse CPU each); with the bot answering, {:.1} messages/s",
            m as f64 / send_alone,
            synapse_per_send * 1e3,
            m as f64 / (sent - first).as_secs_f64()
        ));
        lines.push(format!(
            "    {behind} replies came after the last send, the last {:.0} ms after it: {}",
            last.saturating_duration_since(sent).as_secs_f64() * 1e3,
            if behind * 10 < answered {
                "the bot kept up with the sender, so the rate is the sender's (and Synapse's), a lower bound of the bot's"
            } else {
                "the bot fell behind the sender: the rate is the bot's"
            }
        ));
        lines.push(format!(
            "    CPU per command: {:.1} ms the bot, {:.0} ms Synapse; one `!treasury` alone is answered in {:.0} ms",
            bot_cpu / answered as f64 * 1e3,
            synapse_cpu / answered as f64 * 1e3,
            round_trip * 1e3
        ));
        for line in &lines {
            println!("{line}");
        }
        lines
    }
}

// ---------------------------------------------------------------------------------------------
// 3. the large ledger

/// The requests of `smartup` (by its user agent) in Synapse's access log after byte `from`:
/// (kind, count, seconds Synapse took), most time first; the kind is the method and the
/// endpoint without ids.
fn smartup_requests(hs: &Synapse, from: u64) -> Vec<(String, usize, f64)> {
    let bytes = std::fs::read(hs.log()).unwrap_or_default();
    let text = String::from_utf8_lossy(bytes.get(from as usize..).unwrap_or_default());
    let mut kinds: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for line in text.lines() {
        let Some((_, processed)) = line.split_once("Processed request: ") else {
            continue;
        };
        let quoted: Vec<&str> = processed.split('"').collect();
        let (Some(request), Some(agent)) = (quoted.get(1), quoted.get(3)) else {
            continue;
        };
        if !agent.starts_with("smartup/") {
            continue;
        }
        let secs: f64 = processed.split("sec").next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
        let mut words = request.split_whitespace();
        let (Some(method), Some(path)) = (words.next(), words.next()) else {
            continue;
        };
        let path = path.split('?').next().unwrap_or_default();
        let parts: Vec<&str> = path.trim_start_matches("/_matrix/client/").split('/').collect();
        let endpoint = match parts.as_slice() {
            [_, "rooms", _, what, ..] => format!("rooms/*/{what}"),
            [_, "directory", "room", ..] => "directory/room/*".to_string(),
            [_, "join", ..] => "join/*".to_string(),
            [_, rest @ ..] => rest.join("/"),
            [] => path.to_string(),
        };
        let entry = kinds.entry(format!("{method} {endpoint}")).or_insert((0, 0.0));
        entry.0 += 1;
        entry.1 += secs;
    }
    let mut list: Vec<(String, usize, f64)> = kinds.into_iter().map(|(k, (n, s))| (k, n, s)).collect();
    list.sort_by(|a, b| b.2.total_cmp(&a.2));
    list
}

/// The rooms `smartup` created after byte `from` of Synapse's access log.
fn created_rooms(hs: &Synapse, from: u64) -> usize {
    smartup_requests(hs, from)
        .iter()
        .find(|(kind, _, _)| kind == "POST createRoom")
        .map_or(0, |(_, n, _)| *n)
}

/// [`smartup_requests`] in words.
fn requests_since(hs: &Synapse, from: u64) -> String {
    let list = smartup_requests(hs, from);
    let total: usize = list.iter().map(|(_, n, _)| n).sum();
    let words: Vec<String> = list.iter().map(|(k, n, secs)| format!("{n} {k} ({secs:.1} s)")).collect();
    format!("{total}: {}", words.join(", "))
}

/// The bot on the big-commit ledger of `rows` rows; the figures' lines.
fn big_ledger(sb: &Sandbox, hs: &Synapse, asker: &Account, rows: u64, limit: Duration, synapse_pid: u32) -> Vec<String> {
    let mut lines = Vec::new();
    let shape = Shape::Big { rows, commit_rows: 2_000 };
    let dir = shape.default_dir();
    match ensure_ledger(&dir, shape, &people()) {
        Some(secs) => lines.push(format!("3. the ledger of {rows} rows was generated in {}", human_secs(secs))),
        None => println!("(generated before: its generation time is not measured again)"),
    }
    let dir = std::fs::canonicalize(&dir).expect("the ledger folder");
    std::fs::create_dir_all("target/tmp").expect("target/tmp");
    let scratch = tempfile::tempdir_in("target/tmp").expect("a scratch folder");
    let clone = scratch.path().join("ledger.git");
    git(scratch.path(), &["clone", "-q", "--bare", "--shared", s(&dir), "ledger.git"]);

    // [matrix] amended in through the library, signed by the generated founder.
    let started = Instant::now();
    let mut ledger = OpenLedger::open(&clone).expect("the scratch clone opens");
    let opened = started.elapsed().as_secs_f64();
    let policy = ledger
        .repo
        .revparse_single("HEAD:ledger.toml")
        .and_then(|o| o.peel_to_blob())
        .expect("ledger.toml at HEAD")
        .content()
        .to_vec();
    let matrix = format!(
        "\n[matrix]\nhomeserver = \"{}\"\nserver_name = \"localhost\"\nbot = \"{BIG_BOT}\"\nalias_prefix = \"{BIG_PREFIX}\"\nspace_alias = \"bench\"\n",
        hs.url
    );
    let amend = Intent::AmendPolicy {
        policy: [policy, matrix.into_bytes()].concat(),
        note: "the Matrix bench".into(),
    };
    let founder = Signer::new("founder", key_of("founder"));
    ledger
        .record(&founder, &amend, None, Timestamp::now())
        .expect("the founder amends the policy");
    let last = ledger.state.last_seq;
    let tasks = ledger.state.tasks.len();
    let open_tasks = ledger
        .state
        .tasks
        .values()
        .filter(|t| t.state != smartup::rules::state::TaskState::Paid)
        .count();
    let (owners, teams, objectives) = (ledger.state.owners.len(), ledger.state.teams.len(), ledger.state.objectives.len());
    drop(ledger);
    println!(
        "scratch clone opened (its state replayed once, which leaves a checkpoint) in {opened:.1} s; [matrix] amended in at seq {last}"
    );
    println!("the ledger holds {owners} owners, {teams} teams, {objectives} objectives and {tasks} tasks ({open_tasks} not paid)");

    let rooms = 2 + teams + objectives + open_tasks;
    let bigbot = hs.register("bigbot", false);
    let asking = hs.client(asker);
    let dm = asking.create_dm(BIG_BOT);
    let chat = Watcher::start(hs, asker, &dm);
    let as_bot = hs.client(&bigbot);
    let forum_alias = format!("#{BIG_PREFIX}1_general_forum:localhost");
    let log = sb.path().join("bigbot.log");
    let log_from = std::fs::metadata(hs.log()).map_or(0, |m| m.len());
    let synapse_before = cpu_of(synapse_pid);
    let started = Instant::now();
    let mut child = start_smartup(
        sb,
        &[
            "--ledger",
            s(&clone),
            "bot",
            "run",
            "--poll-seconds",
            "1",
            "--since",
            &last.to_string(),
        ],
        &[("SMARTUP_MATRIX_TOKEN", &bigbot.access_token)],
        &log,
    );
    let pid = child.id();
    let usage = || Usage::of(pid, synapse_pid, synapse_before);
    // The bot joins the direct chat at its first /sync, which follows its first pass over the
    // ledger (the hub sync); a command sent before that would be history to it.
    let mut forum = None;
    let mut report = Duration::from_secs(30);
    let joined = loop {
        if let Some(status) = child.try_wait().expect("the bot") {
            panic!("the bot on the large ledger exited with {status}; its log:\n{}", tail(&log));
        }
        if forum.is_none() && as_bot.resolve_alias(&forum_alias).is_some() {
            forum = Some((started.elapsed().as_secs_f64(), usage()));
        }
        if asking.joined_members(&dm).iter().any(|m| m == BIG_BOT) {
            break Some(started.elapsed().as_secs_f64());
        }
        if started.elapsed() >= limit {
            break None;
        }
        if started.elapsed() >= report {
            let made = created_rooms(hs, log_from);
            println!(
                "  after {}: {made} of {rooms} rooms made; {}",
                human_secs(started.elapsed().as_secs_f64()),
                usage().words()
            );
            report += Duration::from_secs(30);
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let forum_words = forum.as_ref().map_or("the forum room was not made".to_string(), |(at, usage)| {
        format!("the forum room was made after {at:.1} s ({})", usage.words())
    });
    lines.push(format!(
        "3. `bot run --since {last}` on {rows} rows ({owners} owners, {tasks} tasks of which {open_tasks} not paid: a hub of {rooms} rooms): {forum_words}"
    ));
    match joined {
        Some(joined) => {
            let from = chat.len();
            let asked = Instant::now();
            asking.send_text(&dm, "!treasury");
            let (answered, reply) = chat.notice_after(from, BIG_BOT, WAIT).expect("an answer to !treasury");
            assert!(reply.starts_with("Treasury:"), "{reply}");
            let at_answer = usage();
            let first = answered.saturating_duration_since(started).as_secs_f64();
            let round_trip = answered.saturating_duration_since(asked).as_secs_f64();
            let from = chat.len();
            let again = Instant::now();
            asking.send_text(&dm, "!treasury");
            let (answered, _) = chat.notice_after(from, BIG_BOT, WAIT).expect("a second answer");
            let second = answered.saturating_duration_since(again).as_secs_f64();
            lines.push(format!(
                "    first /sync (the hub sync done) after {joined:.1} s; first `!treasury` answered {first:.1} s after the start ({:.0} ms after it was sent); the next in {:.0} ms",
                round_trip * 1e3,
                second * 1e3
            ));
            lines.push(format!("    at the first answer: {}", at_answer.words()));
            lines.push(format!(
                "    the bot's requests to its first answer: {}",
                requests_since(hs, log_from)
            ));
            lines.push(one_more_row(hs, &bigbot, &clone, &founder, limit, &usage));
            terminate(&mut child, "`smartup bot run` on the large ledger", &log);
            lines.push("    exit 0 on SIGTERM".to_string());
        }
        None => {
            let at_limit = usage();
            let made = created_rooms(hs, log_from);
            let requests = requests_since(hs, log_from);
            let rate = made as f64 / limit.as_secs_f64();
            let stopped = stop(&mut child, Duration::from_secs(30));
            lines.push(format!(
                "    NOT DONE: no first /sync within {} (the limit, --big-wait): {made} of {rooms} rooms made, {rate:.1} rooms/s; at that rate the first hub sync takes {}",
                human_secs(limit.as_secs_f64()),
                human_secs(rooms as f64 / rate.max(1e-9))
            ));
            lines.push(format!("    the bot's requests to the limit: {requests}"));
            lines.push(format!(
                "    at the limit: {}; SIGTERM: {}",
                at_limit.words(),
                match stopped {
                    Some(status) if status.success() => "exit 0".to_string(),
                    Some(status) => format!("{status}"),
                    None => "still running after 30 s (killed): the stop flag is looked at between steps, and the hub sync is one step"
                        .to_string(),
                }
            ));
        }
    }
    for line in &lines {
        println!("{line}");
    }
    lines
}

/// One more row on the large ledger (a deposit by the founder, through the library) under the
/// running bot: the time from its commit to its notice in the forum, which the bot sends
/// after it has synced the hub again; the figure's line.
fn one_more_row(hs: &Synapse, bot: &Account, clone: &Path, founder: &Signer, limit: Duration, usage: &dyn Fn() -> Usage) -> String {
    let forum = hs
        .client(bot)
        .resolve_alias(&format!("#{BIG_PREFIX}1_general_forum:localhost"))
        .expect("the forum");
    let announced = Watcher::start(hs, bot, &forum);
    let log_from = std::fs::metadata(hs.log()).map_or(0, |m| m.len());
    let deposit = Intent::DepositEur {
        amount: "1".parse().expect("an amount"),
        gross: None,
        reason: "donation".into(),
        from: None,
        reference: String::new(),
        note: "the Matrix bench".into(),
    };
    let mut ledger = OpenLedger::open(clone).expect("the scratch clone opens");
    let seq = ledger
        .record(founder, &deposit, None, Timestamp::now())
        .expect("the deposit is accepted")[0]
        .seq;
    let recorded = Instant::now();
    drop(ledger);
    let seen = announced.wait(limit, |list| {
        list.iter()
            .find(|m| m.content["org.smartup.seq"].as_u64() == Some(seq))
            .map(|m| m.at)
    });
    let after = match seen {
        Some(at) => format!(
            "announced {:.1} s after its commit",
            at.saturating_duration_since(recorded).as_secs_f64()
        ),
        None => format!("NOT announced within {}", human_secs(limit.as_secs_f64())),
    };
    format!(
        "    one more row (seq {seq}, a deposit): {after}; then {}\n    the bot's requests for it: {}",
        usage().words(),
        requests_since(hs, log_from)
    )
}

/// Memory and CPU of the bot, and Synapse's CPU, at one moment.
struct Usage {
    hwm_kb: u64,
    rss_kb: u64,
    bot_cpu: f64,
    synapse_cpu: f64,
}

impl Usage {
    /// Now, for the bot `pid` and Synapse (its CPU since it read `synapse_before`).
    fn of(pid: u32, synapse_pid: u32, synapse_before: f64) -> Usage {
        let status = format!("/proc/{pid}/status");
        Usage {
            hwm_kb: proc_status_kb(&status, "VmHWM:"),
            rss_kb: proc_status_kb(&status, "VmRSS:"),
            bot_cpu: cpu_of(pid),
            synapse_cpu: cpu_of(synapse_pid) - synapse_before,
        }
    }

    /// In words.
    fn words(&self) -> String {
        format!(
            "peak memory (VmHWM) {:.1} MB, current (VmRSS) {:.1} MB, CPU {:.1} s the bot, {:.1} s Synapse",
            self.hwm_kb as f64 / 1024.0,
            self.rss_kb as f64 / 1024.0,
            self.bot_cpu,
            self.synapse_cpu
        )
    }
}
