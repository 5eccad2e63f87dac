//! A blocking client of the Matrix client-server API, and of the few Synapse admin calls the
//! hub needs (registration tokens), over the project's reqwest client.
//!
//! Every request carries the access token as `Authorization: Bearer …`; it never appears in
//! a URL or an error message. Path parameters (room ids `!…`, aliases `#…:server`, user ids
//! `@…:server`, event types, state keys, transaction ids) are percent-encoded whole.
//!
//! What is retried, with bounded exponential back-off: 429 `M_LIMIT_EXCEEDED` always (the
//! homeserver did nothing; its `retry_after_ms` is honoured up to the bound), and a refused
//! connection always (nothing was sent). 5xx answers and lost connections only for `GET` and
//! `PUT`, which the API makes idempotent (`send` by its transaction id, `put_state` by
//! replacing); a `POST` or `DELETE` that may have been carried out is not repeated blindly.

use crate::http::error_chain;
pub use crate::http::Backoff;
use reqwest::blocking::Client as Http;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// The prefix of the client-server API's stable endpoints.
const CLIENT_V3: &str = "/_matrix/client/v3";
/// The prefix of Synapse's admin API.
const ADMIN_V1: &str = "/_synapse/admin/v1";
/// The time limit of a request that does not wait on purpose (everything but `sync`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a `sync` may take beyond the long-poll time it asks the homeserver to wait.
const SYNC_SLACK: Duration = Duration::from_secs(30);
/// What an error message shows instead of the access token, should a server echo it.
const TOKEN_PLACEHOLDER: &str = "<access token>";

/// A request that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// The homeserver answered with an error.
    #[error("{request} answered {status}{}{}", answer_part(.errcode, .message), hint_part(.hint))]
    Status {
        /// `METHOD /path` (never the access token).
        request: String,
        /// The HTTP status.
        status: u16,
        /// The Matrix error code (`M_FORBIDDEN`, `M_NOT_FOUND`, …), empty when the answer had none.
        errcode: String,
        /// The homeserver's `error` text (or the start of a body that was not Matrix JSON).
        message: String,
        /// What it means and what to do, in words.
        hint: String,
    },
    /// No answer: connection refused or reset, time-out.
    #[error("{request} got no answer from the homeserver ({detail}). Check that the homeserver URL is right and Synapse is running; trying again later may help")]
    Network {
        /// `METHOD /path`.
        request: String,
        /// What the HTTP library said, and how many attempts were made.
        detail: String,
    },
    /// A success status whose body is not what the API promises.
    #[error("{request} answered something that is not the Matrix client-server API ({detail}); is the URL the homeserver's?")]
    Body {
        /// `METHOD /path`.
        request: String,
        /// What could not be read.
        detail: String,
    },
    /// The client could not be set up (a homeserver URL that is not one, an access token
    /// that cannot be sent); nothing was sent.
    #[error("cannot set up the Matrix client: {detail}")]
    Setup {
        /// What is wrong and what to do.
        detail: String,
    },
}

impl MatrixError {
    /// True when the failure may pass if one waits: no answer, the homeserver failing (5xx)
    /// or asking to slow down (429).
    pub fn is_transient(&self) -> bool {
        match self {
            MatrixError::Network { .. } => true,
            MatrixError::Status { status, .. } => *status == 429 || *status >= 500,
            MatrixError::Body { .. } | MatrixError::Setup { .. } => false,
        }
    }

    /// The Matrix error code of an error answer (`M_NOT_FOUND`, …), if it had one.
    pub fn errcode(&self) -> Option<&str> {
        match self {
            MatrixError::Status { errcode, .. } if !errcode.is_empty() => Some(errcode),
            _ => None,
        }
    }

    /// The HTTP status, when the homeserver answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            MatrixError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for a 404 `M_NOT_FOUND`: the room, alias, event or token does not exist (an
    /// unknown endpoint is `M_UNRECOGNIZED` and does not count).
    fn is_not_found(&self) -> bool {
        self.status() == Some(404) && self.errcode() == Some("M_NOT_FOUND")
    }
}

/// ` M_CODE (text)` for an error's display, leaving out what the answer lacked.
fn answer_part(errcode: &str, message: &str) -> String {
    let mut part = String::new();
    if !errcode.is_empty() {
        part.push(' ');
        part.push_str(errcode);
    }
    if !message.is_empty() {
        part.push_str(" (");
        part.push_str(message.trim_end_matches('.'));
        part.push(')');
    }
    part
}

/// `. Hint` for an error's display, nothing without a hint.
fn hint_part(hint: &str) -> String {
    if hint.is_empty() {
        String::new()
    } else {
        format!(". {hint}")
    }
}

/// What an error answer means to the admin running the hub or the bot, and what to do;
/// `source` says where the access token came from.
fn hint(request: &str, status: u16, errcode: &str, source: &str) -> String {
    let admin_api = request.split_once(' ').is_some_and(|(_, path)| path.starts_with(ADMIN_V1));
    let text = match errcode {
        "M_UNKNOWN_TOKEN" => "The access token is not valid on this homeserver: check SMARTUP_MATRIX_TOKEN (a token of this homeserver, not logged out)",
        "M_MISSING_TOKEN" => "The homeserver got no access token: set SMARTUP_MATRIX_TOKEN",
        "M_FORBIDDEN" if admin_api => {
            "The Synapse admin API needs the access token of a server admin: check SMARTUP_MATRIX_TOKEN, or make its user an admin"
        }
        "M_FORBIDDEN" => {
            "The homeserver refused: the token's user is not in the room, or lacks the power level this needs (an admin of the room can raise it)"
        }
        "M_NOT_FOUND" => "The homeserver has no such room, alias, event or registration token (or the token's user may not see it)",
        "M_LIMIT_EXCEEDED" => {
            "The homeserver keeps asking to slow down: try again later, or lift this user's rate limit (Synapse admin API: override_ratelimit)"
        }
        "M_ROOM_IN_USE" => "The room alias is taken already: resolve it to the existing room, or choose another",
        "M_UNRECOGNIZED" => "The homeserver does not know this request: is the URL a Synapse homeserver, and is it new enough?",
        "M_BAD_JSON" | "M_NOT_JSON" | "M_INVALID_PARAM" | "M_MISSING_PARAM" => "The homeserver found the request invalid",
        "M_UNSUPPORTED_ROOM_VERSION" => "The homeserver does not support the room version asked for",
        "M_USER_IN_USE" => "That user name is taken already",
        _ => match status {
            401 => "The homeserver did not accept the access token: check SMARTUP_MATRIX_TOKEN",
            403 => "The homeserver refused: the token's user may not do this",
            404 => "The homeserver has no such object, or the URL is not a Matrix homeserver's",
            429 => "The homeserver keeps asking to slow down: try again later",
            500..=599 => "The homeserver failed: try again later; its log says why",
            _ => "",
        },
    };
    text.replace("SMARTUP_MATRIX_TOKEN", source)
}

/// An error answer's `errcode`, `error` and `retry_after_ms`; a body that is not Matrix JSON
/// (a proxy's HTML page) gives no code and its start, on one line, as the message.
fn parse_error(body: &[u8]) -> (String, String, Option<Duration>) {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) if value.is_object() => (
            value["errcode"].as_str().unwrap_or_default().to_string(),
            value["error"].as_str().unwrap_or_default().trim().to_string(),
            value["retry_after_ms"].as_u64().map(Duration::from_millis),
        ),
        _ => {
            let text = String::from_utf8_lossy(body).split_whitespace().collect::<Vec<_>>().join(" ");
            (String::new(), text.chars().take(200).collect(), None)
        }
    }
}

/// A path parameter percent-encoded whole: everything but the unreserved characters
/// (`A–Z a–z 0–9 - . _ ~`), so `!`, `#`, `:`, `@`, `/`, `?` and `%` cannot change the path.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `PREFIX/seg/seg…` with every segment encoded; an empty segment (the empty state key)
/// leaves the trailing `/` the API asks for.
fn endpoint(prefix: &str, segments: &[&str]) -> String {
    let mut path = prefix.to_string();
    for segment in segments {
        path.push('/');
        path.push_str(&encode_segment(segment));
    }
    path
}

/// The answer to `GET /sync`, reduced to what the hub and the bot read.
#[derive(Clone, Debug)]
pub struct Sync {
    /// The `since` of the next sync.
    pub next_batch: String,
    /// The joined rooms with new timeline events (rooms without any are left out).
    pub joined: Vec<JoinedRoom>,
    /// The ids of the rooms the user is invited to.
    pub invited: Vec<String>,
}

/// A joined room's part of a sync.
#[derive(Clone, Debug)]
pub struct JoinedRoom {
    /// The room.
    pub room_id: String,
    /// Its new timeline events, oldest first.
    pub timeline: Vec<RawEvent>,
    /// Whether the homeserver left out older new events (more than [`SYNC_TIMELINE_LIMIT`]).
    pub limited: bool,
}

/// A room event as the client-server API serves it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct RawEvent {
    /// Its id (`$…`).
    pub event_id: String,
    /// Who sent it.
    pub sender: String,
    /// Its type (`m.room.message`, …).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The state key of a state event.
    #[serde(default)]
    pub state_key: Option<String>,
    /// When the sender's homeserver received it, milliseconds since the epoch.
    pub origin_server_ts: i64,
    /// Its content (empty for a redacted event).
    #[serde(default)]
    pub content: Value,
}

/// One entry of a room's current state.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct StateEvent {
    /// Its type (`m.room.name`, `m.space.child`, …).
    #[serde(rename = "type")]
    pub event_type: String,
    /// Its state key (empty for most room-wide state).
    pub state_key: String,
    /// Who set it.
    pub sender: String,
    /// Its content.
    #[serde(default)]
    pub content: Value,
}

/// A user's membership of a room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The user (`@name:server`).
    pub user_id: String,
    /// `join`, `invite`, `leave`, `ban` or `knock`.
    pub membership: String,
    /// Why, when the membership came with a reason (a kick's or a ban's).
    pub reason: Option<String>,
}

/// A page of a room's timeline.
#[derive(Clone, Debug, Deserialize)]
pub struct Messages {
    /// Its events, in the direction asked for.
    #[serde(default)]
    pub chunk: Vec<RawEvent>,
    /// The `from` of the next page; none when there are no more events.
    #[serde(default)]
    pub end: Option<String>,
}

/// A Synapse registration token.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RegistrationToken {
    /// The token itself.
    pub token: String,
    /// How many registrations it allows in all; none for unlimited.
    #[serde(default)]
    pub uses_allowed: Option<u32>,
    /// Registrations that used it and are still under way.
    pub pending: u32,
    /// Registrations completed with it.
    pub completed: u32,
    /// When it expires, milliseconds since the epoch; none for never.
    #[serde(default)]
    pub expiry_time: Option<i64>,
}

/// The most timeline events one sync brings per room (Synapse's default is 10, which would
/// drop commands sent in a burst).
pub const SYNC_TIMELINE_LIMIT: u32 = 1000;

/// The sync filter: room messages only (no state, presence, receipts or account data, which
/// a bot in hundreds of rooms does not need), up to [`SYNC_TIMELINE_LIMIT`] per room.
fn sync_filter() -> String {
    json!({
        "presence": { "types": [] },
        "account_data": { "types": [] },
        "room": {
            "state": { "types": [] },
            "ephemeral": { "types": [] },
            "account_data": { "types": [] },
            "timeline": { "limit": SYNC_TIMELINE_LIMIT, "types": ["m.room.message"] },
        },
    })
    .to_string()
}

/// `GET /sync` as sent, what is read of it.
#[derive(Deserialize)]
struct SyncWire {
    next_batch: String,
    #[serde(default)]
    rooms: RoomsWire,
}

#[derive(Default, Deserialize)]
struct RoomsWire {
    #[serde(default)]
    join: BTreeMap<String, JoinedWire>,
    #[serde(default)]
    invite: BTreeMap<String, serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct JoinedWire {
    #[serde(default)]
    timeline: TimelineWire,
}

#[derive(Default, Deserialize)]
struct TimelineWire {
    #[serde(default)]
    events: Vec<RawEvent>,
    #[serde(default)]
    limited: bool,
}

/// An `m.room.member` event of `GET /members`.
#[derive(Deserialize)]
struct MemberWire {
    state_key: String,
    content: MembershipWire,
}

#[derive(Deserialize)]
struct MembershipWire {
    membership: String,
    #[serde(default)]
    reason: Option<String>,
}

/// A blocking connection to one homeserver with one access token.
pub struct Client {
    http: Http,
    base: Url,
    homeserver: String,
    token: String,
    authorization: HeaderValue,
    backoff: Backoff,
    token_source: String,
}

impl Client {
    /// A client of the homeserver at `homeserver_url` (`https://matrix.example.org`) acting
    /// with `access_token`, retrying with the default back-off (4 attempts, from 250 ms
    /// doubling, at most 10 s). Nothing is sent yet.
    pub fn new(homeserver_url: &str, access_token: &str) -> Result<Client, MatrixError> {
        let token = access_token.trim();
        // Should the token have been passed as the URL, the message must not show it.
        let setup = |detail: String| MatrixError::Setup {
            detail: if token.is_empty() {
                detail
            } else {
                detail.replace(token, TOKEN_PLACEHOLDER)
            },
        };
        let mut base = Url::parse(homeserver_url.trim()).map_err(|e| {
            setup(format!(
                "the homeserver URL {homeserver_url:?} is not a URL ({e}); write it as https://matrix.example.org"
            ))
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(setup(format!(
                "the homeserver URL {homeserver_url:?} is not an http(s) URL of a host; write it as https://matrix.example.org"
            )));
        }
        if !base.username().is_empty() || base.password().is_some() || base.query().is_some() || base.fragment().is_some() {
            return Err(setup(
                "the homeserver URL must not carry a user, password, query or fragment; write it as https://matrix.example.org".to_string(),
            ));
        }
        let path = base.path().trim_end_matches('/').to_string();
        base.set_path(&path);
        let homeserver = base.as_str().trim_end_matches('/').to_string();
        if token.is_empty() {
            return Err(setup("the access token is empty: set SMARTUP_MATRIX_TOKEN".to_string()));
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| setup("the access token holds characters a token cannot have: check SMARTUP_MATRIX_TOKEN".to_string()))?;
        authorization.set_sensitive(true);
        // No overall time limit here: each request sets its own (a sync's is its long poll's).
        let http = Http::builder()
            .user_agent(concat!("smartup/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| setup(format!("the HTTP client: {}", error_chain(&e))))?;
        Ok(Client {
            http,
            base,
            homeserver,
            token: token.to_string(),
            authorization,
            backoff: Backoff::default(),
            token_source: "SMARTUP_MATRIX_TOKEN".into(),
        })
    }

    /// The same client, naming `source` (an environment variable or a file) as where its
    /// token came from in the hints of its errors.
    pub fn with_token_source(mut self, source: &str) -> Client {
        self.token_source = source.to_string();
        self
    }

    /// The same client retrying as `backoff` says.
    pub fn with_backoff(mut self, backoff: Backoff) -> Client {
        self.backoff = backoff;
        self
    }

    /// The homeserver's URL, without a trailing `/`.
    pub fn homeserver(&self) -> &str {
        &self.homeserver
    }

    /// The user id the access token belongs to (`GET /account/whoami`).
    pub fn whoami(&self) -> Result<String, MatrixError> {
        #[derive(Deserialize)]
        struct WhoAmI {
            user_id: String,
        }
        let answer: WhoAmI = self.get(&endpoint(CLIENT_V3, &["account", "whoami"]), &[])?;
        Ok(answer.user_id)
    }

    /// The events since `since` (everything recent without it: the first sync returns
    /// history, which a bot skips), waiting up to `timeout_ms` for one to arrive.
    pub fn sync(&self, since: Option<&str>, timeout_ms: u64) -> Result<Sync, MatrixError> {
        let timeout = timeout_ms.to_string();
        let filter = sync_filter();
        let mut query = vec![("timeout", timeout.as_str()), ("filter", filter.as_str())];
        if let Some(since) = since {
            query.push(("since", since));
        }
        let path = endpoint(CLIENT_V3, &["sync"]);
        let wait = Duration::from_millis(timeout_ms).saturating_add(SYNC_SLACK);
        let value = self.call(Method::GET, &path, &query, None, wait)?;
        let wire: SyncWire = decode(&request_text(&Method::GET, &path), value)?;
        Ok(Sync {
            next_batch: wire.next_batch,
            joined: wire
                .rooms
                .join
                .into_iter()
                .filter(|(_, room)| !room.timeline.events.is_empty())
                .map(|(room_id, room)| JoinedRoom {
                    room_id,
                    timeline: room.timeline.events,
                    limited: room.timeline.limited,
                })
                .collect(),
            invited: wire.rooms.invite.into_keys().collect(),
        })
    }

    /// Sends a room event; the same `txn_id` with the same token sends it once however often
    /// it is repeated. Its event id.
    pub fn send(&self, room_id: &str, event_type: &str, txn_id: &str, content: &Value) -> Result<String, MatrixError> {
        let path = endpoint(CLIENT_V3, &["rooms", room_id, "send", event_type, txn_id]);
        self.event_id(Method::PUT, &path, content)
    }

    /// Sets a state event (`state_key` may be empty). Its event id.
    pub fn put_state(&self, room_id: &str, event_type: &str, state_key: &str, content: &Value) -> Result<String, MatrixError> {
        let path = endpoint(CLIENT_V3, &["rooms", room_id, "state", event_type, state_key]);
        self.event_id(Method::PUT, &path, content)
    }

    /// A room's whole current state.
    pub fn state(&self, room_id: &str) -> Result<Vec<StateEvent>, MatrixError> {
        self.get(&endpoint(CLIENT_V3, &["rooms", room_id, "state"]), &[])
    }

    /// The content of one state event; `None` when the room has none of that type and key.
    pub fn state_event(&self, room_id: &str, event_type: &str, state_key: &str) -> Result<Option<Value>, MatrixError> {
        let path = endpoint(CLIENT_V3, &["rooms", room_id, "state", event_type, state_key]);
        none_if_not_found(self.get(&path, &[]))
    }

    /// Creates a room or space from a `createRoom` body. Its room id.
    pub fn create_room(&self, body: &Value) -> Result<String, MatrixError> {
        self.room_id(Method::POST, &endpoint(CLIENT_V3, &["createRoom"]), body)
    }

    /// Invites a user to a room.
    pub fn invite(&self, room_id: &str, user_id: &str) -> Result<(), MatrixError> {
        let path = endpoint(CLIENT_V3, &["rooms", room_id, "invite"]);
        self.call(Method::POST, &path, &[], Some(&json!({ "user_id": user_id })), REQUEST_TIMEOUT)?;
        Ok(())
    }

    /// Removes a user from a room, saying why (the reason is kept in their membership event).
    pub fn kick(&self, room_id: &str, user_id: &str, reason: &str) -> Result<(), MatrixError> {
        let path = endpoint(CLIENT_V3, &["rooms", room_id, "kick"]);
        let body = json!({ "user_id": user_id, "reason": reason });
        self.call(Method::POST, &path, &[], Some(&body), REQUEST_TIMEOUT)?;
        Ok(())
    }

    /// Joins a room by id or alias (accepting an invitation). The room id.
    pub fn join(&self, room_id_or_alias: &str) -> Result<String, MatrixError> {
        self.room_id(Method::POST, &endpoint(CLIENT_V3, &["join", room_id_or_alias]), &json!({}))
    }

    /// Leaves a room (or declines an invitation).
    pub fn leave(&self, room_id: &str) -> Result<(), MatrixError> {
        let path = endpoint(CLIENT_V3, &["rooms", room_id, "leave"]);
        self.call(Method::POST, &path, &[], Some(&json!({})), REQUEST_TIMEOUT)?;
        Ok(())
    }

    /// The room an alias (`#name:server`) points to; `None` when there is no such alias.
    pub fn resolve_alias(&self, alias: &str) -> Result<Option<String>, MatrixError> {
        #[derive(Deserialize)]
        struct Resolved {
            room_id: String,
        }
        let answer: Option<Resolved> = none_if_not_found(self.get(&endpoint(CLIENT_V3, &["directory", "room", alias]), &[]))?;
        Ok(answer.map(|a| a.room_id))
    }

    /// Everyone with a membership in a room: joined, invited, left (or kicked), banned,
    /// knocking.
    pub fn members(&self, room_id: &str) -> Result<Vec<Member>, MatrixError> {
        #[derive(Deserialize)]
        struct Chunk {
            chunk: Vec<MemberWire>,
        }
        let answer: Chunk = self.get(&endpoint(CLIENT_V3, &["rooms", room_id, "members"]), &[])?;
        Ok(answer
            .chunk
            .into_iter()
            .map(|m| Member {
                user_id: m.state_key,
                membership: m.content.membership,
                reason: m.content.reason,
            })
            .collect())
    }

    /// The ids of the rooms the user has joined.
    pub fn joined_rooms(&self) -> Result<Vec<String>, MatrixError> {
        #[derive(Deserialize)]
        struct Joined {
            joined_rooms: Vec<String>,
        }
        let answer: Joined = self.get(&endpoint(CLIENT_V3, &["joined_rooms"]), &[])?;
        Ok(answer.joined_rooms)
    }

    /// A page of up to `limit` events of a room's timeline from `from` (a sync's or an
    /// earlier page's token; the newest end, or the oldest going forwards, without it),
    /// newest first when `dir_backwards`.
    pub fn messages(&self, room_id: &str, from: Option<&str>, dir_backwards: bool, limit: u32) -> Result<Messages, MatrixError> {
        let limit = limit.to_string();
        let mut query = vec![("dir", if dir_backwards { "b" } else { "f" }), ("limit", limit.as_str())];
        if let Some(from) = from {
            query.push(("from", from));
        }
        self.get(&endpoint(CLIENT_V3, &["rooms", room_id, "messages"]), &query)
    }

    /// Every registration token of the homeserver, used up and expired ones included
    /// (Synapse admin API).
    pub fn registration_tokens(&self) -> Result<Vec<RegistrationToken>, MatrixError> {
        #[derive(Deserialize)]
        struct Tokens {
            registration_tokens: Vec<RegistrationToken>,
        }
        let answer: Tokens = self.get(&endpoint(ADMIN_V1, &["registration_tokens"]), &[])?;
        Ok(answer.registration_tokens)
    }

    /// Creates the registration token `token`, good for `uses_allowed` registrations until
    /// `expiry_ms` (milliseconds since the epoch; never without) (Synapse admin API).
    pub fn create_registration_token(
        &self,
        token: &str,
        uses_allowed: u32,
        expiry_ms: Option<i64>,
    ) -> Result<RegistrationToken, MatrixError> {
        let path = endpoint(ADMIN_V1, &["registration_tokens", "new"]);
        let body = json!({ "token": token, "uses_allowed": uses_allowed, "expiry_time": expiry_ms });
        let value = self.call(Method::POST, &path, &[], Some(&body), REQUEST_TIMEOUT)?;
        decode(&request_text(&Method::POST, &path), value)
    }

    /// Deletes a registration token (Synapse admin API); an unknown token is an error
    /// (`M_NOT_FOUND`), for the caller to judge.
    pub fn delete_registration_token(&self, token: &str) -> Result<(), MatrixError> {
        let path = endpoint(ADMIN_V1, &["registration_tokens", token]);
        self.call(Method::DELETE, &path, &[], None, REQUEST_TIMEOUT)?;
        Ok(())
    }

    /// Lifts every rate limit of `user_id` (Synapse admin API): a bot that invites and
    /// announces for a whole organisation would otherwise be slowed to a few actions a second.
    pub fn lift_rate_limits(&self, user_id: &str) -> Result<(), MatrixError> {
        let path = endpoint(ADMIN_V1, &["users", user_id, "override_ratelimit"]);
        let body = json!({ "messages_per_second": 0, "burst_count": 0 });
        self.call(Method::POST, &path, &[], Some(&body), REQUEST_TIMEOUT)?;
        Ok(())
    }

    /// `GET` of a JSON answer.
    fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T, MatrixError> {
        let value = self.call(Method::GET, path, query, None, REQUEST_TIMEOUT)?;
        decode(&request_text(&Method::GET, path), value)
    }

    /// A request answered by `{"event_id": …}`.
    fn event_id(&self, method: Method, path: &str, body: &Value) -> Result<String, MatrixError> {
        #[derive(Deserialize)]
        struct Sent {
            event_id: String,
        }
        let value = self.call(method.clone(), path, &[], Some(body), REQUEST_TIMEOUT)?;
        let sent: Sent = decode(&request_text(&method, path), value)?;
        Ok(sent.event_id)
    }

    /// A request answered by `{"room_id": …}`.
    fn room_id(&self, method: Method, path: &str, body: &Value) -> Result<String, MatrixError> {
        #[derive(Deserialize)]
        struct Room {
            room_id: String,
        }
        let value = self.call(method.clone(), path, &[], Some(body), REQUEST_TIMEOUT)?;
        let room: Room = decode(&request_text(&method, path), value)?;
        Ok(room.room_id)
    }

    /// Sends a request, retrying as the module's documentation says; the answer's JSON.
    fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<Value, MatrixError> {
        let mut url = self.base.clone();
        url.set_path(&format!("{}{path}", self.base.path().trim_end_matches('/')));
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let request = request_text(&method, url.path());
        let repeatable = matches!(method, Method::GET | Method::PUT);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.backoff.attempts;
            let mut builder = self
                .http
                .request(method.clone(), url.clone())
                .header(AUTHORIZATION, self.authorization.clone())
                .timeout(timeout);
            if let Some(body) = body {
                builder = builder.json(body);
            }
            let failure = match builder.send() {
                Ok(response) => {
                    let status = response.status();
                    let asked = retry_after_header(response.headers());
                    match response.bytes() {
                        Ok(bytes) if status.is_success() => return self.parse_success(&request, &bytes),
                        Ok(bytes) => {
                            let (errcode, message, retry_after) = parse_error(&bytes);
                            let retry = status == StatusCode::TOO_MANY_REQUESTS || (status.is_server_error() && repeatable);
                            if retry && !last {
                                std::thread::sleep(self.backoff.delay(attempt, retry_after.or(asked)));
                                continue;
                            }
                            return Err(MatrixError::Status {
                                hint: hint(&request, status.as_u16(), &errcode, &self.token_source),
                                request,
                                status: status.as_u16(),
                                errcode,
                                message: self.scrub(&message),
                            });
                        }
                        // The answer broke off: like no answer.
                        Err(error) => (false, error),
                    }
                }
                Err(error) => (error.is_connect(), error),
            };
            let (nothing_sent, error) = failure;
            if (nothing_sent || repeatable) && !last {
                std::thread::sleep(self.backoff.delay(attempt, None));
                continue;
            }
            let attempts = if attempt > 1 {
                format!("; {attempt} attempts")
            } else {
                String::new()
            };
            return Err(MatrixError::Network {
                request,
                detail: self.scrub(&format!("{}{attempts}", error_chain(&error.without_url()))),
            });
        }
    }

    /// A success answer's JSON; an empty body reads as `{}`.
    fn parse_success(&self, request: &str, bytes: &[u8]) -> Result<Value, MatrixError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(json!({}));
        }
        serde_json::from_slice(bytes).map_err(|e| MatrixError::Body {
            request: request.to_string(),
            detail: format!("not JSON: {e}"),
        })
    }

    /// `text` with the access token blotted out, should a server or library have echoed it.
    fn scrub(&self, text: &str) -> String {
        text.replace(&self.token, TOKEN_PLACEHOLDER)
    }
}

/// `METHOD /path` for messages.
fn request_text(method: &Method, path: &str) -> String {
    format!("{method} {path}")
}

/// A successful answer read as `T`.
fn decode<T: DeserializeOwned>(request: &str, value: Value) -> Result<T, MatrixError> {
    serde_json::from_value(value).map_err(|e| MatrixError::Body {
        request: request.to_string(),
        detail: e.to_string(),
    })
}

/// A lookup's answer with 404 `M_NOT_FOUND` as `None`.
fn none_if_not_found<T>(result: Result<T, MatrixError>) -> Result<Option<T>, MatrixError> {
    match result {
        Ok(found) => Ok(Some(found)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}

/// A `Retry-After` header in seconds.
fn retry_after_header(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_are_encoded_whole() {
        assert_eq!(encode_segment("!abc:example.org"), "%21abc%3Aexample.org");
        assert_eq!(encode_segment("!HVHBf_H0Ctm-Yb3"), "%21HVHBf_H0Ctm-Yb3");
        assert_eq!(encode_segment("#design:localhost"), "%23design%3Alocalhost");
        assert_eq!(encode_segment("@alice:localhost"), "%40alice%3Alocalhost");
        assert_eq!(encode_segment("a/b?c=d&e%f g"), "a%2Fb%3Fc%3Dd%26e%25f%20g");
        assert_eq!(encode_segment("$event+id="), "%24event%2Bid%3D");
        assert_eq!(encode_segment("é"), "%C3%A9");
        assert_eq!(encode_segment("m.space.child"), "m.space.child");
        assert_eq!(
            endpoint(CLIENT_V3, &["rooms", "!r:s", "send", "m.room.message", "txn 1"]),
            "/_matrix/client/v3/rooms/%21r%3As/send/m.room.message/txn%201"
        );
        // The empty state key keeps the trailing slash.
        assert_eq!(
            endpoint(CLIENT_V3, &["rooms", "!r", "state", "m.room.name", ""]),
            "/_matrix/client/v3/rooms/%21r/state/m.room.name/"
        );
    }

    #[test]
    fn the_homeserver_url_is_checked_and_kept_with_its_path() {
        let client = Client::new("https://matrix.example.org/", "t").expect("a URL");
        assert_eq!(client.homeserver(), "https://matrix.example.org");
        let proxied = Client::new("http://127.0.0.1:8008/matrix/", "t").expect("a URL");
        assert_eq!(proxied.homeserver(), "http://127.0.0.1:8008/matrix");
        for bad in [
            "matrix.example.org",
            "ftp://example.org",
            "https://u:p@example.org",
            "https://example.org/?x=1",
            "",
        ] {
            let error = Client::new(bad, "t").err().unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(matches!(error, MatrixError::Setup { .. }), "{bad:?}: {error}");
            assert!(!error.is_transient());
        }
        let empty = Client::new("https://example.org", " ").err().expect("an empty token refused");
        assert!(empty.to_string().contains("SMARTUP_MATRIX_TOKEN"), "{empty}");
        let newline = Client::new("https://example.org", "abc\ndef")
            .err()
            .expect("a token with a line break refused");
        assert!(!newline.to_string().contains("abc"), "{newline}");
        let swapped = Client::new("syt_secret_token", "syt_secret_token")
            .err()
            .expect("a token is no URL");
        assert!(!swapped.to_string().contains("syt_secret"), "{swapped}");
    }

    #[test]
    fn error_answers_are_read_and_explained() {
        let (errcode, message, retry) = parse_error(br#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests","retry_after_ms":1500}"#);
        assert_eq!((errcode.as_str(), message.as_str()), ("M_LIMIT_EXCEEDED", "Too Many Requests"));
        assert_eq!(retry, Some(Duration::from_millis(1500)));
        let (errcode, message, retry) = parse_error(b"<html>\n  <body>502 Bad Gateway</body>\n</html>\n");
        assert_eq!((errcode.as_str(), retry), ("", None));
        assert_eq!(message, "<html> <body>502 Bad Gateway</body> </html>");
        assert_eq!(parse_error(b""), (String::new(), String::new(), None));

        let request = "GET /_matrix/client/v3/account/whoami";
        let error = MatrixError::Status {
            request: request.into(),
            status: 401,
            errcode: "M_UNKNOWN_TOKEN".into(),
            message: "Invalid access token passed.".into(),
            hint: hint(request, 401, "M_UNKNOWN_TOKEN", "SMARTUP_MATRIX_TOKEN"),
        };
        assert_eq!(
            error.to_string(),
            "GET /_matrix/client/v3/account/whoami answered 401 M_UNKNOWN_TOKEN (Invalid access token passed). \
             The access token is not valid on this homeserver: check SMARTUP_MATRIX_TOKEN (a token of this homeserver, not logged out)"
        );
        assert_eq!(error.errcode(), Some("M_UNKNOWN_TOKEN"));
        let admin = hint(
            "GET /_synapse/admin/v1/registration_tokens",
            403,
            "M_FORBIDDEN",
            "SMARTUP_MATRIX_ADMIN_TOKEN",
        );
        assert!(admin.contains("check SMARTUP_MATRIX_ADMIN_TOKEN"), "{admin}");
        assert!(admin.contains("server admin"), "{admin}");
        assert!(hint("PUT /_matrix/client/v3/rooms/%21r/state/x/", 403, "M_FORBIDDEN", "T").contains("power level"));
        assert!(hint("GET /x", 502, "", "T").contains("try again later"));
        let bare = MatrixError::Status {
            request: "GET /x".into(),
            status: 418,
            errcode: String::new(),
            message: String::new(),
            hint: String::new(),
        };
        assert_eq!(bare.errcode(), None);
        assert_eq!(bare.to_string(), "GET /x answered 418");
    }

    #[test]
    fn transient_errors_are_no_answer_busy_and_failing() {
        let status = |status: u16, errcode: &str| MatrixError::Status {
            request: "GET /x".into(),
            status,
            errcode: errcode.into(),
            message: String::new(),
            hint: String::new(),
        };
        assert!(status(429, "M_LIMIT_EXCEEDED").is_transient());
        assert!(status(500, "M_UNKNOWN").is_transient());
        assert!(status(502, "").is_transient());
        assert!(!status(403, "M_FORBIDDEN").is_transient());
        assert!(!status(404, "M_NOT_FOUND").is_transient());
        assert!(!status(401, "M_UNKNOWN_TOKEN").is_transient());
        let network = MatrixError::Network {
            request: "GET /x".into(),
            detail: "connection refused".into(),
        };
        assert!(network.is_transient());
        assert_eq!(network.errcode(), None);
        let body = MatrixError::Body {
            request: "GET /x".into(),
            detail: "missing field".into(),
        };
        assert!(!body.is_transient());
        assert!(status(404, "M_NOT_FOUND").is_not_found());
        assert!(!status(404, "M_UNRECOGNIZED").is_not_found());
    }

    #[test]
    fn the_token_never_reaches_a_message() {
        let client = Client::new("http://127.0.0.1:1", "syt_secret_token").expect("a client");
        assert_eq!(client.scrub("echo syt_secret_token back"), "echo <access token> back");
    }

    #[test]
    fn events_read_as_the_api_serves_them() {
        let sync: SyncWire = serde_json::from_value(json!({
            "next_batch": "s72595_4483_1934",
            "rooms": {
                "join": {
                    "!quiet": {"timeline": {"events": []}},
                    "!busy": {"timeline": {"events": [
                        {"event_id": "$a", "sender": "@bob:localhost", "type": "m.room.message", "origin_server_ts": 1,
                         "content": {"msgtype": "m.text", "body": "hi"}, "unsigned": {"age": 3}},
                        {"event_id": "$b", "sender": "@bob:localhost", "type": "m.room.name", "state_key": "",
                         "origin_server_ts": 2, "content": {"name": "x"}}
                    ], "limited": false}}
                },
                "invite": {"!invited": {"invite_state": {"events": []}}}
            }
        }))
        .expect("a sync answer");
        assert_eq!(sync.rooms.join["!busy"].timeline.events[1].state_key.as_deref(), Some(""));
        assert_eq!(sync.rooms.join["!busy"].timeline.events[0].content["body"], "hi");
        assert!(sync.rooms.invite.contains_key("!invited"));
        let empty: SyncWire = serde_json::from_value(json!({"next_batch": "s1"})).expect("a sync without rooms");
        assert!(empty.rooms.join.is_empty());
        let token: RegistrationToken = serde_json::from_value(json!({
            "token": "abc", "uses_allowed": null, "pending": 0, "completed": 1, "expiry_time": null
        }))
        .expect("a token");
        assert_eq!((token.uses_allowed, token.expiry_time), (None, None));
    }
}
