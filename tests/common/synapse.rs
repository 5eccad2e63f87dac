//! A real Synapse for the Matrix tests: a homeserver of its own per test on 127.0.0.1 (a free
//! port, a temporary folder, a file SQLite database), defederated and token-only like Smartup
//! Zero's, with every rate limit raised; accounts made by shared-secret registration; a small
//! client for the tests' own checks, independent of `smartup::matrix::client` on purpose.
//!
//! Synapse comes from a Python venv: `$SMARTUP_SYNAPSE_VENV`, else
//! `$HOME/.cache/smartup/synapse-1.163.2`; `tests/matrix/install-synapse.sh` makes it. Without
//! it [`Synapse::start`] skips (says so loudly and returns `None`), except under CI, where it
//! fails.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Synapse release the tests are written against.
pub const SYNAPSE_VERSION: &str = "1.163.2";

/// The room version new rooms get: 12, which Synapse 1.163.2 supports and makes its default
/// (pinned so that a later default cannot change the tests unnoticed). Its room ids carry no
/// `:server` suffix.
pub const ROOM_VERSION: &str = "12";

/// The homeserver's name: user ids are `@name:localhost`.
pub const SERVER_NAME: &str = "localhost";

/// The secret of shared-secret registration (admin API `/_synapse/admin/v1/register`).
const SHARED_SECRET: &str = "smartup-test-registration-shared-secret";

/// How long Synapse may take to answer its first request (a loaded CI machine is slow).
const START_LIMIT: Duration = Duration::from_secs(90);

/// How long Synapse may take to stop after SIGTERM before it is killed.
const STOP_LIMIT: Duration = Duration::from_secs(5);

/// The rate limits of Synapse's configuration, each raised to 10000 per second.
const RATE_LIMITS: &[&str] = &[
    "rc_message",
    "rc_registration",
    "rc_registration_token_validity",
    "rc_login.address",
    "rc_login.account",
    "rc_login.failed_attempts",
    "rc_joins.local",
    "rc_joins.remote",
    "rc_joins_per_room",
    "rc_invites.per_room",
    "rc_invites.per_user",
    "rc_invites.per_issuer",
    "rc_room_creation",
    "rc_admin_redaction",
    "rc_third_party_invite",
    "rc_3pid_validation",
    "rc_media_create",
    "rc_presence.per_user",
    "rc_delayed_event_mgmt",
    "rc_reports",
    "rc_user_directory",
    "rc_profile",
    "rc_key_requests",
];

/// An account on the homeserver.
#[derive(Clone, Debug)]
pub struct Account {
    /// `@localpart:localhost`.
    pub user_id: String,
    /// A token of one of its devices.
    pub access_token: String,
    /// Its password.
    pub password: String,
}

/// A running Synapse, stopped (by its PID) when dropped.
pub struct Synapse {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// [`SERVER_NAME`].
    pub server_name: String,
    /// A server admin, made at start.
    pub admin: Account,
    dir: tempfile::TempDir,
    python: PathBuf,
    child: Option<Child>,
    http: reqwest::blocking::Client,
}

/// The venv's python, when Synapse [`SYNAPSE_VERSION`] can be imported there; else why not.
fn synapse_python() -> Result<PathBuf, String> {
    let venv = match std::env::var_os("SMARTUP_SYNAPSE_VENV").filter(|v| !v.is_empty()) {
        Some(venv) => PathBuf::from(venv),
        None => {
            let home = std::env::var_os("HOME").ok_or("neither SMARTUP_SYNAPSE_VENV nor HOME is set")?;
            Path::new(&home).join(".cache/smartup").join(format!("synapse-{SYNAPSE_VERSION}"))
        }
    };
    let python = venv.join("bin/python");
    if !python.exists() {
        return Err(format!("{} does not exist", python.display()));
    }
    let out = Command::new(&python)
        .args(["-c", "import synapse; print(synapse.__version__)"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() {
        return Err(format!("{} cannot import synapse", python.display()));
    }
    if version != SYNAPSE_VERSION {
        return Err(format!("{} has Synapse {version}, not {SYNAPSE_VERSION}", python.display()));
    }
    Ok(python)
}

/// The venv's python when Synapse [`SYNAPSE_VERSION`] is installed; else `None` after a loud
/// SKIP on stderr, except under CI, where that fails the test.
#[track_caller]
pub fn installed_or_skip() -> Option<PathBuf> {
    match synapse_python() {
        Ok(python) => Some(python),
        Err(why) => {
            let message = format!(
                "Synapse is not installed ({why}): set SMARTUP_SYNAPSE_VENV to a venv with matrix-synapse=={SYNAPSE_VERSION} \
                 or run tests/matrix/install-synapse.sh"
            );
            let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
            assert!(!ci, "CI must not skip the Matrix tests: {message}");
            eprintln!("\n**********\nSKIP: this test needs a real homeserver, but {message}\n**********\n");
            None
        }
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("cannot bind a port on 127.0.0.1");
    listener.local_addr().expect("a bound address").port()
}

/// The last `lines` lines of a file.
fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| format!("(cannot read {}: {e})", path.display()));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A path parameter percent-encoded whole (everything but `A–Z a–z 0–9 - . _ ~`).
fn enc(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A blocking HTTP client for the tests.
fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("cannot build an HTTP client")
}

/// Sends a request; its status and JSON body (`null` when not JSON). Panics without an answer.
fn call(http: &reqwest::blocking::Client, method: reqwest::Method, url: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    let mut request = http.request(method.clone(), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().unwrap_or_else(|e| panic!("{method} {url}: no answer: {e}"));
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Like [`call`], and the status must be a success.
#[track_caller]
fn call_ok(http: &reqwest::blocking::Client, method: reqwest::Method, url: &str, token: Option<&str>, body: Option<&Value>) -> Value {
    let (status, answer) = call(http, method.clone(), url, token, body);
    assert!((200..300).contains(&status), "{method} {url} answered {status}: {answer}");
    answer
}

impl Synapse {
    /// Starts a homeserver as the module says, with `default_room_version` [`ROOM_VERSION`],
    /// and registers its admin; `None` (after a loud SKIP on stderr) when Synapse is not
    /// installed, except under CI, where that fails the test.
    #[track_caller]
    pub fn start() -> Option<Synapse> {
        let python = installed_or_skip()?;
        let dir = tempfile::tempdir().expect("cannot create Synapse's temporary folder");
        let mut key = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut key);
        let signing_key = format!(
            "ed25519 a_1 {}\n",
            <base64ct::Base64Unpadded as base64ct::Encoding>::encode_string(&key)
        );
        std::fs::write(dir.path().join("signing.key"), signing_key).expect("cannot write the signing key");
        let mut synapse = Synapse {
            url: String::new(),
            server_name: SERVER_NAME.to_string(),
            admin: Account {
                user_id: String::new(),
                access_token: String::new(),
                password: String::new(),
            },
            dir,
            python,
            child: None,
            http: http_client(),
        };
        let started = Instant::now();
        // A port found free can be taken by another test before Synapse binds it: try another.
        for attempt in 1..=3 {
            synapse.configure(free_port());
            match synapse.launch() {
                Ok(()) => break,
                Err(log) if attempt < 3 && log.contains("Address already in use") => continue,
                Err(log) => panic!("Synapse did not start; the end of its log:\n{log}"),
            }
        }
        synapse.admin = synapse.register("admin", true);
        eprintln!(
            "Synapse {SYNAPSE_VERSION} ready at {} in {:.1} s",
            synapse.url,
            started.elapsed().as_secs_f64()
        );
        Some(synapse)
    }

    /// The process id of the running Synapse.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Synapse's log (its standard output and error), in its temporary folder.
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("synapse.log")
    }

    /// Writes `homeserver.yaml` for `port` (as JSON, which YAML reads).
    fn configure(&mut self, port: u16) {
        let dir = self.dir.path();
        let raised = json!({"per_second": 10000, "burst_count": 10000});
        let mut config = json!({
            "server_name": SERVER_NAME,
            "public_baseurl": format!("http://127.0.0.1:{port}/"),
            "pid_file": dir.join("homeserver.pid"),
            "listeners": [{
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": false,
                "x_forwarded": false,
                "resources": [{"names": ["client"], "compress": false}]
            }],
            "database": {"name": "sqlite3", "args": {"database": dir.join("homeserver.db")}},
            "media_store_path": dir.join("media"),
            "signing_key_path": dir.join("signing.key"),
            "report_stats": false,
            "enable_metrics": false,
            "registration_shared_secret": SHARED_SECRET,
            "macaroon_secret_key": "smartup-test-macaroon-secret",
            "form_secret": "smartup-test-form-secret",
            "trusted_key_servers": [],
            "suppress_key_server_warning": true,
            "federation_domain_whitelist": [],
            "presence": {"enabled": false},
            "enable_registration": true,
            "registration_requires_token": true,
            "default_room_version": ROOM_VERSION,
            "url_preview_enabled": false,
            // Cheap password hashes: 12 rounds (the default) cost ~0.3 s per registration or login.
            "bcrypt_rounds": 4,
        });
        for name in RATE_LIMITS {
            match name.split_once('.') {
                Some((group, member)) => {
                    if config[group].is_null() {
                        config[group] = json!({});
                    }
                    config[group][member] = raised.clone();
                }
                None => config[*name] = raised.clone(),
            }
        }
        std::fs::write(dir.join("homeserver.yaml"), serde_json::to_string_pretty(&config).expect("JSON"))
            .expect("cannot write homeserver.yaml");
        self.url = format!("http://127.0.0.1:{port}");
    }

    /// Starts the process and waits for `/_matrix/client/versions`; the log's tail if it
    /// does not answer.
    fn launch(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log())
            .expect("cannot open Synapse's log");
        let child = Command::new(&self.python)
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(self.dir.path().join("homeserver.yaml"))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log twice"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.python.display()));
        self.child = Some(child);
        let versions = format!("{}/_matrix/client/versions", self.url);
        let quick = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("an HTTP client");
        let deadline = Instant::now() + START_LIMIT;
        loop {
            if quick.get(&versions).send().is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            let exited = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                self.child = None;
                return Err(format!("(it exited: {status})\n{}", tail(&self.log(), 40)));
            }
            if Instant::now() > deadline {
                self.stop();
                return Err(format!("(no answer in {} s)\n{}", START_LIMIT.as_secs(), tail(&self.log(), 40)));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Registers `localpart` by shared secret (works while registration needs tokens); the
    /// account with the access token the registration returned.
    #[track_caller]
    pub fn register(&self, localpart: &str, admin: bool) -> Account {
        let url = format!("{}/_synapse/admin/v1/register", self.url);
        let nonce = call_ok(&self.http, reqwest::Method::GET, &url, None, None)["nonce"]
            .as_str()
            .expect("a nonce")
            .to_string();
        let password = format!("{localpart}-password-1");
        let role = if admin { "admin" } else { "notadmin" };
        let mac = self.hmac_sha1(SHARED_SECRET, &format!("{nonce}\0{localpart}\0{password}\0{role}"));
        let body = json!({"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac});
        let answer = call_ok(&self.http, reqwest::Method::POST, &url, None, Some(&body));
        Account {
            user_id: answer["user_id"].as_str().expect("a user_id").to_string(),
            access_token: answer["access_token"].as_str().expect("an access_token").to_string(),
            password,
        }
    }

    /// Hex HMAC-SHA1 of `message` with `key`, computed by the venv's python (no SHA-1 crate
    /// here); the message goes by standard input, since it holds NUL bytes.
    fn hmac_sha1(&self, key: &str, message: &str) -> String {
        let mut child = Command::new(&self.python)
            .args([
                "-c",
                "import hashlib, hmac, sys; print(hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha1).hexdigest())",
                key,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("cannot run python for the HMAC");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(message.as_bytes())
            .expect("cannot write to python");
        let mut out = String::new();
        child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut out)
            .expect("python's answer");
        assert!(child.wait().expect("python ends").success(), "python failed to compute the HMAC");
        out.trim().to_string()
    }

    /// Stops Synapse by its PID: SIGTERM, SIGKILL if it has not exited within a few seconds;
    /// waits for it. Nothing when it is not running.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + STOP_LIMIT;
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Stops Synapse and starts it again on the same port with the same database.
    #[track_caller]
    pub fn restart(&mut self) {
        self.stop();
        if let Err(log) = self.launch() {
            panic!("Synapse did not start again; the end of its log:\n{log}");
        }
    }

    /// A client acting as `account`.
    pub fn client(&self, account: &Account) -> TestClient {
        TestClient {
            url: self.url.clone(),
            user_id: account.user_id.clone(),
            token: account.access_token.clone(),
            http: http_client(),
        }
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A user acting on the homeserver, for the tests' own setup and checks.
pub struct TestClient {
    url: String,
    user_id: String,
    token: String,
    http: reqwest::blocking::Client,
}

impl TestClient {
    /// A client of the homeserver at `url` acting as `user_id` with `token` (for a homeserver
    /// the test did not start itself).
    pub fn new(url: &str, user_id: &str, token: &str) -> TestClient {
        TestClient {
            url: url.trim_end_matches('/').to_string(),
            user_id: user_id.to_string(),
            token: token.to_string(),
            http: http_client(),
        }
    }

    /// The user's id.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// `URL/_matrix/client/v3/PATH` (PATH already encoded).
    fn v3(&self, path: &str) -> String {
        format!("{}/_matrix/client/v3/{path}", self.url)
    }

    #[track_caller]
    fn get(&self, path: &str) -> Value {
        call_ok(&self.http, reqwest::Method::GET, &self.v3(path), Some(&self.token), None)
    }

    #[track_caller]
    fn post(&self, path: &str, body: &Value) -> Value {
        call_ok(&self.http, reqwest::Method::POST, &self.v3(path), Some(&self.token), Some(body))
    }

    /// Leaves a room (or declines its invitation).
    #[track_caller]
    pub fn leave(&self, room: &str) {
        self.post(&format!("rooms/{}/leave", enc(room)), &json!({}));
    }

    /// A direct chat with `with`, who is invited. Its room id.
    #[track_caller]
    pub fn create_dm(&self, with: &str) -> String {
        let body = json!({"is_direct": true, "invite": [with], "preset": "trusted_private_chat"});
        self.post("createRoom", &body)["room_id"].as_str().expect("a room_id").to_string()
    }

    /// Joins a room by id or alias. Its room id.
    #[track_caller]
    pub fn join(&self, room_or_alias: &str) -> String {
        self.post(&format!("join/{}", enc(room_or_alias)), &json!({}))["room_id"]
            .as_str()
            .expect("a room_id")
            .to_string()
    }

    /// Sends an `m.text` message. Its event id.
    #[track_caller]
    pub fn send_text(&self, room: &str, body: &str) -> String {
        self.send_message(room, "m.text", body)
    }

    /// Sends an `m.notice` (what bots send; a bot must never answer one); its event id.
    #[track_caller]
    pub fn send_notice(&self, room: &str, body: &str) -> String {
        self.send_message(room, "m.notice", body)
    }

    #[track_caller]
    fn send_message(&self, room: &str, msgtype: &str, body: &str) -> String {
        static SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let txn = format!("test-{nanos}-{n}");
        let url = self.v3(&format!("rooms/{}/send/m.room.message/{}", enc(room), enc(&txn)));
        let content = json!({"msgtype": msgtype, "body": body});
        call_ok(&self.http, reqwest::Method::PUT, &url, Some(&self.token), Some(&content))["event_id"]
            .as_str()
            .expect("an event_id")
            .to_string()
    }

    /// Every `m.room.message` event of a room the user can see, oldest first.
    #[track_caller]
    pub fn messages(&self, room: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut from: Option<String> = None;
        loop {
            let mut path = format!("rooms/{}/messages?dir=b&limit=100", enc(room));
            if let Some(from) = &from {
                path.push_str(&format!("&from={}", enc(from)));
            }
            let page = self.get(&path);
            let chunk = page["chunk"].as_array().cloned().unwrap_or_default();
            let done = chunk.is_empty();
            all.extend(chunk.into_iter().filter(|e| e["type"] == "m.room.message"));
            match page["end"].as_str() {
                Some(end) if !done => from = Some(end.to_string()),
                _ => break,
            }
        }
        all.reverse();
        all
    }

    /// The oldest message of `from_sender` in the room that `pred` accepts, waiting up to
    /// `timeout` for it; panics with the room's messages when none comes.
    #[track_caller]
    pub fn wait_for_message(&self, room: &str, from_sender: &str, pred: impl Fn(&Value) -> bool, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages(room);
            if let Some(found) = messages.iter().find(|m| m["sender"] == from_sender && pred(m)) {
                return found.clone();
            }
            if Instant::now() > deadline {
                let lines: Vec<String> = messages
                    .iter()
                    .map(|m| format!("  {}: {}", m["sender"].as_str().unwrap_or("?"), m["content"]["body"]))
                    .collect();
                panic!(
                    "no message from {from_sender} as expected in {room} within {} s; its messages:\n{}",
                    timeout.as_secs_f64(),
                    lines.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A room's current state events.
    #[track_caller]
    pub fn state(&self, room: &str) -> Vec<Value> {
        self.get(&format!("rooms/{}/state", enc(room)))
            .as_array()
            .cloned()
            .expect("a list of state events")
    }

    /// The user ids of a room's joined members, sorted.
    #[track_caller]
    pub fn joined_members(&self, room: &str) -> Vec<String> {
        let answer = self.get(&format!("rooms/{}/joined_members", enc(room)));
        let mut members: Vec<String> = answer["joined"].as_object().expect("joined members").keys().cloned().collect();
        members.sort();
        members
    }

    /// The room an alias points to, if any.
    #[track_caller]
    pub fn resolve_alias(&self, alias: &str) -> Option<String> {
        let url = self.v3(&format!("directory/room/{}", enc(alias)));
        let (status, answer) = call(&self.http, reqwest::Method::GET, &url, Some(&self.token), None);
        match status {
            200 => Some(answer["room_id"].as_str().expect("a room_id").to_string()),
            404 => None,
            _ => panic!("GET {url} answered {status}: {answer}"),
        }
    }
}

/// A newcomer's registration with a registration token, following the flows the homeserver
/// offers: `{username, password}` → 401 with a session, then each stage of the flow holding
/// `m.login.registration_token` (the token, then `m.login.dummy`). The new user id, or the
/// status and body of the answer that refused.
pub fn register_with_token(url: &str, localpart: &str, password: &str, token: &str) -> Result<String, (u16, Value)> {
    let http = http_client();
    let register = format!("{url}/_matrix/client/v3/register");
    let mut body = json!({"username": localpart, "password": password});
    let (status, answer) = call(&http, reqwest::Method::POST, &register, None, Some(&body));
    if status == 200 {
        return Ok(answer["user_id"].as_str().unwrap_or_default().to_string());
    }
    let session = answer["session"].as_str().map(str::to_string);
    let flow = answer["flows"].as_array().and_then(|flows| {
        flows
            .iter()
            .filter_map(|f| f["stages"].as_array())
            .find(|stages| stages.iter().any(|s| s == "m.login.registration_token"))
            .cloned()
    });
    let (Some(session), Some(stages), 401) = (session, flow, status) else {
        return Err((status, answer));
    };
    let mut last = (status, answer);
    for stage in stages {
        if last.1["completed"].as_array().is_some_and(|done| done.contains(&stage)) {
            continue;
        }
        let auth = match stage.as_str() {
            Some("m.login.registration_token") => json!({"type": stage, "token": token, "session": session}),
            Some("m.login.dummy") => json!({"type": stage, "session": session}),
            _ => return Err(last),
        };
        body["auth"] = auth;
        let (status, answer) = call(&http, reqwest::Method::POST, &register, None, Some(&body));
        match status {
            200 => return Ok(answer["user_id"].as_str().unwrap_or_default().to_string()),
            // A stage done, the next one asked for; an errcode means this stage failed.
            401 if answer.get("errcode").is_none() => last = (status, answer),
            _ => return Err((status, answer)),
        }
    }
    Err(last)
}

/// Whether the homeserver would accept `token` for a registration now
/// (`GET /_matrix/client/v1/register/m.login.registration_token/validity`).
pub fn token_valid(url: &str, token: &str) -> bool {
    let http = http_client();
    let mut check = reqwest::Url::parse(&format!("{url}/_matrix/client/v1/register/m.login.registration_token/validity")).expect("a URL");
    check.query_pairs_mut().append_pair("token", token);
    let (status, answer) = call(&http, reqwest::Method::GET, check.as_str(), None, None);
    assert_eq!(status, 200, "the validity check answered {status}: {answer}");
    answer["valid"].as_bool().expect("a `valid` field")
}
