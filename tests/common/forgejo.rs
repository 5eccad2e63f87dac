//! Helpers for the Forgejo sync tests: the Forgejo double (`tests/forgejo_double/`, a Python
//! server that loads `../shared/forgejo/swagger.v1.json`) started and stopped by PID, a
//! client to act on it as people do, the `[forgejo]` section added to a ledger through a
//! signed `amend-policy`, and `smartup forgejo sync` runs.

use crate::common::{s, Ledger, Run, Sandbox};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The token of the sync's user, a site admin with every scope.
pub const SYNC_TOKEN: &str = "sync-bot-token";
/// A token of the same user limited to reading.
pub const READ_ONLY_TOKEN: &str = "read-only-token";
/// alice's own token (she may write to the team repository).
pub const ALICE_TOKEN: &str = "alice-token";
/// The organisation.
pub const ORG: &str = "smartup";
/// The design team's repository (the default: its full team id).
pub const DESIGN_REPO: &str = "3_2_design_team";
/// The general forum's repository, which holds the proposals (the default: the forum's id).
pub const FORUM_REPO: &str = "1_general_forum";
/// The people of the demo and the standard organisation, each with an account.
const PEOPLE: [&str; 6] = ["founder", "carla", "captain", "maya", "alice", "bob"];

/// The spec the double loads: `../shared/forgejo/swagger.v1.json` next to the crate.
pub fn spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/forgejo/swagger.v1.json")
}

/// A fixture: users (alice, bob, maya, carla, captain, founder, the organisation's owner, the
/// sync's bot), tokens, the organisation, its design repository, whose writers are `writers`,
/// and the general forum's repository, where every person writes (the demo's proposals need
/// it: without it the sync stops).
pub fn fixture(writers: &[&str]) -> Value {
    let mut users: Vec<Value> = PEOPLE.iter().chain(&["owner"]).map(|p| json!({"login": p})).collect();
    users.push(json!({"login": "sync-bot", "admin": true}));
    json!({
        "users": users,
        "tokens": [
            {"token": SYNC_TOKEN, "user": "sync-bot", "scopes": ["all"]},
            {"token": READ_ONLY_TOKEN, "user": "sync-bot", "scopes": ["read:issue", "read:organization", "read:repository", "read:user"]},
            {"token": ALICE_TOKEN, "user": "alice", "scopes": ["write:issue", "read:organization", "read:repository"]},
            {"token": "owner-token", "user": "owner", "scopes": ["all"]}
        ],
        "orgs": [{"name": ORG, "owners": ["owner"]}],
        "repos": [
            {"owner": ORG, "name": DESIGN_REPO, "writers": writers},
            {"owner": ORG, "name": FORUM_REPO, "writers": PEOPLE}
        ],
        "utc_offset_minutes": 60
    })
}

/// How clients reach the double: by default plain HTTP at 127.0.0.1.
#[derive(Clone, Debug, Default)]
pub struct Reach {
    /// The host name in its URL (it still listens on 127.0.0.1 only; whoever uses the URL
    /// must resolve the name to it).
    pub name: Option<String>,
    /// HTTPS with this certificate.
    pub tls: Option<Tls>,
}

/// The double's certificate: its chain and key, and the authority that signed it, which the
/// test's own client trusts.
#[derive(Clone, Debug)]
pub struct Tls {
    /// The certificate chain (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
    /// The signing authority's certificate (PEM).
    pub ca: PathBuf,
}

/// The running double; stopped (by its PID) when dropped.
pub struct Double {
    child: Child,
    /// `http://127.0.0.1:PORT`, or as [`Reach`] says.
    pub url: String,
    stderr: PathBuf,
    http: reqwest::blocking::Client,
}

impl Double {
    /// Starts the double on a free port with `fixture`, at `http://127.0.0.1:PORT`.
    #[track_caller]
    pub fn start(sb: &Sandbox, fixture: &Value) -> Double {
        Double::start_reached(sb, fixture, &Reach::default())
    }

    /// Starts the double on a free port with `fixture`, reached as `reach` says.
    #[track_caller]
    pub fn start_reached(sb: &Sandbox, fixture: &Value, reach: &Reach) -> Double {
        let dir = sb.path().join("double");
        std::fs::create_dir_all(&dir).expect("cannot create the double's folder");
        let fixture_file = dir.join("fixture.json");
        std::fs::write(&fixture_file, fixture.to_string()).expect("cannot write the fixture");
        let stderr = dir.join("stderr.txt");
        let server = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/forgejo_double/server.py");
        // -B: no __pycache__ in the source tree.
        let mut command = Command::new("python3");
        command
            .arg("-B")
            .arg(&server)
            .arg("--spec")
            .arg(spec_path())
            .arg("--fixture")
            .arg(&fixture_file);
        if let Some(name) = &reach.name {
            command.arg("--name").arg(name);
        }
        if let Some(tls) = &reach.tls {
            command.arg("--tls-cert").arg(&tls.cert).arg("--tls-key").arg(&tls.key);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("cannot create the double's log"))
            .spawn()
            .expect("cannot start python3 (the Forgejo double needs python3 with jsonschema)");
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out).read_line(&mut line).ok();
        }
        let port: u16 = match line.trim().parse() {
            Ok(port) => port,
            Err(_) => {
                child.kill().ok();
                child.wait().ok();
                panic!(
                    "the Forgejo double did not start (is jsonschema installed? see .ci/run): {}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                );
            }
        };
        let scheme = if reach.tls.is_some() { "https" } else { "http" };
        let host = reach.name.as_deref().unwrap_or("127.0.0.1");
        let mut http = reqwest::blocking::Client::builder().no_proxy();
        if let Some(name) = &reach.name {
            http = http.resolve(name, std::net::SocketAddr::from(([127, 0, 0, 1], port)));
        }
        if let Some(tls) = &reach.tls {
            let pem = std::fs::read(&tls.ca).expect("cannot read the double's authority");
            http = http.add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("the double's authority is PEM"));
        }
        Double {
            child,
            url: format!("{scheme}://{host}:{port}"),
            stderr,
            http: http.build().expect("an HTTP client"),
        }
    }

    /// An API request as a person or script would send it: (status, headers, JSON body).
    #[track_caller]
    pub fn request(&self, token: Option<&str>, method: &str, path: &str, body: Option<Value>) -> (u16, reqwest::header::HeaderMap, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.header("Authorization", format!("token {token}"));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().unwrap_or_else(|e| panic!("the double did not answer {path}: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().unwrap_or_default();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, headers, value)
    }

    /// An API request that must succeed with `status`; its body.
    #[track_caller]
    pub fn api(&self, token: &str, method: &str, path: &str, body: Option<Value>, status: u16) -> Value {
        let (got, _, value) = self.request(Some(token), method, &format!("/api/v1{path}"), body);
        assert_eq!(got, status, "{method} {path} answered {got}: {value}");
        value
    }

    /// Every API request so far: `{n, method, path, query, status}`.
    pub fn log(&self) -> Vec<Value> {
        match self.request(None, "GET", "/_double/log", None).2 {
            Value::Array(entries) => entries,
            other => panic!("unexpected log {other}"),
        }
    }

    /// Everything the double holds.
    pub fn state(&self) -> Value {
        self.request(None, "GET", "/_double/state", None).2
    }

    /// The issues of the organisation's repository `repo`, by number.
    pub fn issues_of(&self, repo: &str) -> Vec<Value> {
        self.state()["repos"][format!("{ORG}/{repo}")]["issues"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The issues of the design repository, by number.
    pub fn issues(&self) -> Vec<Value> {
        self.issues_of(DESIGN_REPO)
    }

    /// The issues of the general forum's repository (the proposals'), by number.
    pub fn forum_issues(&self) -> Vec<Value> {
        self.issues_of(FORUM_REPO)
    }

    /// The organisation's labels.
    pub fn org_labels(&self) -> Vec<Value> {
        self.state()["org_labels"][ORG].as_array().cloned().unwrap_or_default()
    }

    /// Adds a failure rule (see `Failures` in server.py).
    #[track_caller]
    pub fn fail(&self, rule: Value) {
        let (status, _, body) = self.request(None, "POST", "/_double/fail", Some(rule));
        assert_eq!(status, 204, "the failure rule was refused: {body}");
    }

    /// Asserts the double answered everything according to the spec.
    #[track_caller]
    pub fn assert_followed_the_spec(&self) {
        let errors = self.request(None, "GET", "/_double/errors", None).2;
        assert_eq!(
            errors,
            json!([]),
            "the double's answers broke the spec (stderr: {})",
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        );
    }
}

impl Drop for Double {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Requests of a log slice that change something.
pub fn writes(log: &[Value]) -> Vec<String> {
    log.iter()
        .filter(|e| e["method"] != "GET")
        .map(|e| format!("{} {}", e["method"].as_str().unwrap_or(""), e["path"].as_str().unwrap_or("")))
        .collect()
}

/// Sets `[forgejo]` (pointing at the double, plus `extra` lines) as the last section of the
/// ledger's policy with a signed `amend-policy` by the founder, as an organisation would.
#[track_caller]
pub fn configure(sb: &Sandbox, ledger: &Ledger, double: &Double, extra: &str) {
    let text = std::fs::read_to_string(ledger.file("ledger.toml")).expect("ledger.toml");
    let policy = text.split("\n[forgejo]").next().unwrap_or_default();
    let amended = format!("{policy}\n[forgejo]\nurl = \"{}\"\norganisation = \"{ORG}\"\n{extra}", double.url);
    let file = sb.path().join("ledger-with-forgejo.toml");
    std::fs::write(&file, amended).expect("cannot write the amended policy");
    ledger
        .act(sb, "founder", None, &["amend-policy", s(&file), "--note", "Forgejo sync"])
        .ok();
}

/// `smartup --ledger DIR forgejo sync ARGS` with `token` in FORGEJO_TOKEN (none: unset).
pub fn sync(sb: &Sandbox, ledger: &Ledger, token: Option<&str>, args: &[&str]) -> Run {
    sync_with_env(sb, ledger, token, args, &[])
}

/// Like [`sync`], with extra environment variables (such as Forgejo's hook environment).
pub fn sync_with_env(sb: &Sandbox, ledger: &Ledger, token: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec!["--ledger", s(&ledger.dir), "forgejo", "sync"];
    all.extend_from_slice(args);
    sb.smartup_with(&all, |command| to_the_double(command, token, env))
}

/// Sets a smartup command up to talk to the double: no proxy, `token` (none: unset) in
/// FORGEJO_TOKEN, none of Forgejo's hook variables, and `env`.
pub fn to_the_double(command: &mut std::process::Command, token: Option<&str>, env: &[(&str, &str)]) {
    for name in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "FORGEJO_TOKEN",
        "GITEA_REPO_USER_NAME",
        "GITEA_REPO_NAME",
    ] {
        command.env_remove(name);
    }
    command.env("NO_PROXY", "127.0.0.1,localhost");
    if let Some(token) = token {
        command.env("FORGEJO_TOKEN", token);
    }
    command.envs(env.iter().copied());
}

/// A sync that must succeed; its JSON report.
#[track_caller]
pub fn sync_ok(sb: &Sandbox, ledger: &Ledger) -> Value {
    sync(sb, ledger, Some(SYNC_TOKEN), &["--json"]).ok().json()
}
