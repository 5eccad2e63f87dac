//! `scripts/matrix-demo.sh` against a real Synapse: it starts the homeserver, runs the demo,
//! links and proves everyone's account, runs the bot, `matrix sync` and `matrix invite`, and
//! walks a task through its life with the hub live; the task's room then holds the bot's
//! announcements of that journey, in order and each once, alice is a member of it, and the
//! script prints them. Whatever happens, the bot and Synapse are stopped by the PIDs the
//! script recorded.

mod common;

use common::synapse::{installed_or_skip, TestClient};
use common::{run, Sandbox};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BOT: &str = "@engelbot:localhost";

/// The processes the script leaves running, stopped when the test ends (also when it fails):
/// the bot first, then Synapse.
struct LeftRunning {
    pid_files: Vec<PathBuf>,
}

impl Drop for LeftRunning {
    fn drop(&mut self) {
        for file in &self.pid_files {
            if let Some(pid) = std::fs::read_to_string(file).ok().and_then(|t| t.trim().parse::<u32>().ok()) {
                stop(pid);
            }
        }
    }
}

/// Whether a process runs (a zombie does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

/// SIGTERM, then SIGKILL if it has not ended within ten seconds.
fn stop(pid: u32) {
    if !alive(pid) {
        return;
    }
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    if alive(pid) {
        eprintln!("process {pid} ignored SIGTERM: killing it");
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[test]
fn the_matrix_demo_shows_the_journey_in_the_task_room() {
    let Some(python) = installed_or_skip() else { return };
    let venv = python.parent().and_then(Path::parent).expect("the venv of bin/python");
    let sb = Sandbox::new();
    let dir = sb.path().join("matrix-demo");
    let _left = LeftRunning {
        pid_files: vec![dir.join("bot.pid"), dir.join("synapse").join("pid")],
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join("matrix-demo.sh");
    let mut command = sb.command("bash");
    command
        .arg(&script)
        .arg(&dir)
        .env("SMARTUP_BIN", env!("CARGO_BIN_EXE_smartup"))
        .env("SMARTUP_SYNAPSE_VENV", venv);
    let started = Instant::now();
    let out = run(command);
    eprintln!("scripts/matrix-demo.sh took {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(
        out.code,
        0,
        "the script failed: {out:?}\n--- bot.log ---\n{}\n--- synapse.log ---\n{}",
        tail(&dir.join("bot.log"), 40),
        tail(&dir.join("synapse/synapse.log"), 40)
    );

    let config: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("synapse/homeserver.yaml")).unwrap()).unwrap();
    let url = config["public_baseurl"].as_str().expect("public_baseurl");
    let accounts: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("synapse/accounts.json")).unwrap()).unwrap();
    let client = |name: &str| {
        let account = &accounts[name];
        TestClient::new(
            url,
            account["user_id"].as_str().expect("a user id"),
            account["access_token"].as_str().expect("a token"),
        )
    };
    let bot = client("engelbot");
    assert_eq!(bot.user_id(), BOT);

    // The task's room: the bot's announcements of its journey, in order, each seq once.
    let room = bot.resolve_alias("#6_2_1_2:localhost").expect("the task's room exists");
    let announced: Vec<(u64, String)> = bot
        .messages(&room)
        .iter()
        .filter(|m| m["sender"] == BOT)
        .filter_map(|m| {
            let seq = m["content"]["org.smartup.seq"].as_u64()?;
            Some((seq, m["content"]["body"].as_str().unwrap_or_default().to_string()))
        })
        .collect();
    let journey = [
        "carla created the task 6_2_1_2 (Choose the brand colours) with 55.00 SC",
        "maya gave 6_2_1_2 (Choose the brand colours) to alice (Attacker) and bob (Defender)",
        "alice started the task 6_2_1_2",
        "alice started work on 6_2_1_2",
        "bob started work on 6_2_1_2",
        "alice stopped work on 6_2_1_2 (Choose the brand colours) after 2",
        "bob stopped work on 6_2_1_2 (Choose the brand colours) after 2",
        "maya assessed 6_2_1_2 (Choose the brand colours) at 90.00%: 49.50 SC pending validation",
        "carla validated 49.50 SC of 6_2_1_2",
    ];
    let listing = announced
        .iter()
        .map(|(s, b)| format!("  seq {s}: {b}"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(announced.len(), journey.len(), "the task room's announcements:\n{listing}");
    for ((_, body), start) in announced.iter().zip(journey) {
        assert!(body.starts_with(start), "{body:?} should start with {start:?}; all:\n{listing}");
    }
    assert!(
        announced.windows(2).all(|w| w[0].0 < w[1].0),
        "one announcement per seq, in the ledger's order:\n{listing}"
    );
    let assessed = &announced[7].1;
    assert!(assessed.contains("; objections are heard until 20"), "{assessed}");
    assert!(announced[8].1.ends_with("they are awarded"), "{}", announced[8].1);

    // Its people are in it: alice (who accepted the bot's invitation), bob and maya.
    let members = bot.joined_members(&room);
    for who in ["@alice:localhost", "@bob:localhost", "@maya:localhost", BOT] {
        assert!(members.iter().any(|m| m == who), "{who} is a member of the task room: {members:?}");
    }
    // ... and alice sees the same announcements.
    let alice_sees = client("alice").messages(&room).iter().filter(|m| m["sender"] == BOT).count();
    assert_eq!(alice_sees, journey.len());

    // The script printed them, and the proofs, and how to stop what runs.
    for (seq, body) in &announced {
        let line = format!("seq {seq}: {body}");
        assert!(out.stdout.contains(&line), "the output shows {line:?}: {out:?}");
    }
    assert!(
        out.stdout
            .contains("@engelbot:localhost: Thank you: @alice:localhost is alice's account"),
        "{out:?}"
    );
    assert!(out.stdout.contains("kill $(cat "), "{out:?}");
}
