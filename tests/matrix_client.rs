//! `smartup::matrix::client::Client` against a real Synapse 1.163.2 (tests/common/synapse.rs):
//! who the token belongs to, spaces, rooms, aliases and state, membership, idempotent sends,
//! sync, registration tokens, and the errors of a bad token and a stopped homeserver; and the
//! harness itself keeping a room across a restart.
//!
//! Each test starts its own homeserver (3–5 s on two cores, ~120 MB); without Synapse installed
//! they skip, except under CI. Install it with `tests/matrix/install-synapse.sh`.

mod common;

use common::synapse::{register_with_token, token_valid, Account, Synapse, ROOM_VERSION};
use serde_json::{json, Value};
use smartup::http::Backoff;
use smartup::matrix::client::{Client, MatrixError, RegistrationToken, Sync};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A client of `hs` acting as `account`.
fn client(hs: &Synapse, account: &Account) -> Client {
    Client::new(&hs.url, &account.access_token).expect("a client")
}

/// Syncs from `since` until `found` holds for an answer; that answer. Panics after 20 s.
fn sync_until(client: &Client, since: &str, found: impl Fn(&Sync) -> bool) -> Sync {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut since = since.to_string();
    loop {
        let answer = client.sync(Some(&since), 2000).expect("a sync");
        if found(&answer) {
            return answer;
        }
        assert!(Instant::now() < deadline, "the expected events did not come in a sync within 20 s");
        since = answer.next_batch;
    }
}

#[test]
fn whoami_names_the_user_and_a_bad_token_is_explained_without_being_shown() {
    let Some(hs) = Synapse::start() else { return };
    let admin = client(&hs, &hs.admin);
    assert_eq!(admin.homeserver(), hs.url);
    assert_eq!(admin.whoami().expect("whoami"), "@admin:localhost");
    assert_eq!(hs.admin.user_id, "@admin:localhost");

    let bad_token = "syt_YWRtaW4_NotARealToken_0badc0de";
    let error = Client::new(&hs.url, bad_token)
        .expect("a client")
        .whoami()
        .expect_err("a bad token");
    assert!(matches!(error, MatrixError::Status { status: 401, .. }), "{error:?}");
    assert_eq!(error.errcode(), Some("M_UNKNOWN_TOKEN"));
    assert!(!error.is_transient());
    let text = error.to_string();
    assert!(!text.contains(bad_token) && !format!("{error:?}").contains(bad_token), "{text}");
    assert!(
        text.starts_with("GET /_matrix/client/v3/account/whoami answered 401 M_UNKNOWN_TOKEN"),
        "{text}"
    );
    assert!(text.contains("check SMARTUP_MATRIX_TOKEN"), "{text}");
}

#[test]
fn a_space_a_room_with_an_alias_and_the_space_child_state() {
    let Some(hs) = Synapse::start() else { return };
    let admin = client(&hs, &hs.admin);
    let space = admin
        .create_room(&json!({"name": "Test Smartup", "preset": "private_chat", "creation_content": {"type": "m.space"}}))
        .expect("a space");
    let room = admin
        .create_room(&json!({"name": "Design", "topic": "3_2", "preset": "private_chat", "room_alias_name": "design"}))
        .expect("a room");
    assert!(space.starts_with('!') && room.starts_with('!') && space != room);

    assert_eq!(admin.resolve_alias("#design:localhost").expect("resolve"), Some(room.clone()));
    assert_eq!(admin.resolve_alias("#nothing:localhost").expect("resolve"), None);
    let taken = admin
        .create_room(&json!({"room_alias_name": "design"}))
        .expect_err("the alias is taken");
    assert_eq!(taken.errcode(), Some("M_ROOM_IN_USE"), "{taken}");

    let child = json!({"via": ["localhost"], "suggested": true});
    let event_id = admin.put_state(&space, "m.space.child", &room, &child).expect("m.space.child");
    assert!(event_id.starts_with('$'), "{event_id}");

    let state = admin.state(&space).expect("the space's state");
    let create = state.iter().find(|e| e.event_type == "m.room.create").expect("m.room.create");
    assert_eq!(create.content["type"], "m.space");
    assert_eq!(create.content["room_version"], ROOM_VERSION);
    let children: Vec<_> = state.iter().filter(|e| e.event_type == "m.space.child").collect();
    assert_eq!(children.len(), 1, "{state:?}");
    assert_eq!(
        (children[0].state_key.as_str(), children[0].sender.as_str()),
        (room.as_str(), "@admin:localhost")
    );
    assert_eq!(children[0].content, child);

    assert_eq!(admin.state_event(&space, "m.space.child", &room).expect("state event"), Some(child));
    assert_eq!(admin.state_event(&space, "m.space.child", "!nothing").expect("state event"), None);
    // The empty state key.
    let name = admin.state_event(&room, "m.room.name", "").expect("the name");
    assert_eq!(name.expect("a name")["name"], "Design");

    let mut joined = admin.joined_rooms().expect("joined rooms");
    joined.sort();
    let mut expected = vec![space.clone(), room.clone()];
    expected.sort();
    assert_eq!(joined, expected);

    // The test's own client sees the same.
    let tc = hs.client(&hs.admin);
    assert_eq!(tc.resolve_alias("#design:localhost"), Some(room.clone()));
    assert!(tc
        .state(&space)
        .iter()
        .any(|e| e["type"] == "m.space.child" && e["state_key"] == room.as_str()));

    // Emptying the child's content removes it from the space.
    admin
        .put_state(&space, "m.space.child", &room, &json!({}))
        .expect("remove the child");
    assert_eq!(
        admin.state_event(&space, "m.space.child", &room).expect("state event"),
        Some(json!({}))
    );
}

#[test]
fn invite_join_kick_with_a_reason_and_leave() {
    let Some(hs) = Synapse::start() else { return };
    let admin = client(&hs, &hs.admin);
    let bob_account = hs.register("bob", false);
    let bob = client(&hs, &bob_account);
    let room = admin
        .create_room(&json!({"name": "Design", "preset": "private_chat", "room_alias_name": "design"}))
        .expect("a room");
    let membership = |user: &str| {
        admin
            .members(&room)
            .expect("members")
            .into_iter()
            .find(|m| m.user_id == user)
            .map(|m| (m.membership, m.reason))
    };
    assert_eq!(membership("@bob:localhost"), None);

    admin.invite(&room, "@bob:localhost").expect("invite");
    assert_eq!(membership("@bob:localhost"), Some(("invite".to_string(), None)));
    // Joined by alias: the room id comes back.
    assert_eq!(bob.join("#design:localhost").expect("join"), room);
    assert_eq!(membership("@bob:localhost"), Some(("join".to_string(), None)));
    assert_eq!(hs.client(&hs.admin).joined_members(&room), ["@admin:localhost", "@bob:localhost"]);

    admin.kick(&room, "@bob:localhost", "left the design team").expect("kick");
    assert_eq!(
        membership("@bob:localhost"),
        Some(("leave".to_string(), Some("left the design team".to_string())))
    );
    assert_eq!(bob.joined_rooms().expect("joined rooms"), Vec::<String>::new());

    // bob may not kick, and cannot join again uninvited.
    let refused = bob.join(&room).expect_err("a private room");
    assert_eq!(refused.errcode(), Some("M_FORBIDDEN"), "{refused}");
    assert!(!refused.is_transient());
    let no_member = admin.kick(&room, "@nobody:localhost", "x").expect_err("not in the room");
    assert_eq!(no_member.errcode(), Some("M_FORBIDDEN"), "{no_member}");
    assert!(
        no_member.to_string().starts_with("POST /_matrix/client/v3/rooms/%21"),
        "{no_member}"
    );

    // Invited again, bob joins and leaves by himself.
    admin.invite(&room, "@bob:localhost").expect("invite");
    bob.join(&room).expect("join");
    bob.leave(&room).expect("leave");
    assert_eq!(membership("@bob:localhost"), Some(("leave".to_string(), None)));
}

#[test]
fn a_send_repeated_with_its_transaction_id_is_one_event() {
    let Some(hs) = Synapse::start() else { return };
    let admin = client(&hs, &hs.admin);
    let room = admin.create_room(&json!({"name": "Announcements"})).expect("a room");
    let hello = json!({"msgtype": "m.notice", "body": "hello"});
    let txn = "announce/7?#1";
    let first = admin.send(&room, "m.room.message", txn, &hello).expect("send");
    let again = admin.send(&room, "m.room.message", txn, &hello).expect("send again");
    assert_eq!(first, again);
    // Synapse answers a known transaction id with its event, whatever the new content.
    let changed = admin
        .send(&room, "m.room.message", txn, &json!({"msgtype": "m.notice", "body": "other"}))
        .expect("send once more");
    assert_eq!(changed, first);
    let second = admin
        .send(
            &room,
            "m.room.message",
            "announce-8",
            &json!({"msgtype": "m.notice", "body": "bye"}),
        )
        .expect("send");
    assert_ne!(second, first);

    let bodies = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .map(|e| e["content"]["body"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(bodies(&hs.client(&hs.admin).messages(&room)), ["hello", "bye"]);

    // The API's own pages: newest first backwards, one at a time.
    let page = admin.messages(&room, None, true, 1).expect("messages");
    assert_eq!(page.chunk.len(), 1);
    assert_eq!(
        (page.chunk[0].event_id.as_str(), page.chunk[0].content["body"].as_str()),
        (second.as_str(), Some("bye"))
    );
    assert_eq!(page.chunk[0].sender, "@admin:localhost");
    let next = admin.messages(&room, page.end.as_deref(), true, 1).expect("the next page");
    assert_eq!(next.chunk[0].event_id, first);
    let all = admin.messages(&room, None, true, 100).expect("messages");
    let sent: Vec<_> = all.chunk.iter().filter(|e| e.event_type == "m.room.message").collect();
    assert_eq!(sent.len(), 2, "{all:?}");
    assert!(all
        .chunk
        .iter()
        .any(|e| e.event_type == "m.room.create" && e.state_key.as_deref() == Some("")));
}

#[test]
fn sync_brings_invites_and_other_peoples_messages() {
    let Some(hs) = Synapse::start() else { return };
    let bob_account = hs.register("bob", false);
    let bob = client(&hs, &bob_account);
    let first = bob.sync(None, 0).expect("the first sync");
    assert!(!first.next_batch.is_empty());
    assert!(first.joined.is_empty() && first.invited.is_empty());

    let admin = hs.client(&hs.admin);
    let dm = admin.create_dm("@bob:localhost");
    let invited = sync_until(&bob, &first.next_batch, |s| s.invited.contains(&dm));
    assert_eq!(bob.join(&dm).expect("join"), dm);
    assert_eq!(admin.joined_members(&dm), ["@admin:localhost", "@bob:localhost"]);

    // The sync brings room messages only (no state): a join alone brings nothing to see.
    let joined = bob.sync(Some(&invited.next_batch), 0).expect("a sync after joining");
    let event_id = admin.send_text(&dm, "!wallet please");
    let news = sync_until(&bob, &joined.next_batch, |s| {
        s.joined
            .iter()
            .any(|r| r.room_id == dm && r.timeline.iter().any(|e| e.event_id == event_id))
    });
    let room = news.joined.iter().find(|r| r.room_id == dm).expect("the room");
    let event = room.timeline.iter().find(|e| e.event_id == event_id).expect("the event");
    assert_eq!(
        (event.sender.as_str(), event.event_type.as_str()),
        ("@admin:localhost", "m.room.message")
    );
    assert_eq!(event.content, json!({"msgtype": "m.text", "body": "!wallet please"}));
    assert_eq!(event.state_key, None);
    assert!(event.origin_server_ts > 1_700_000_000_000);

    // bob answers; the test client sees it.
    bob.send(&dm, "m.room.message", "reply-1", &json!({"msgtype": "m.notice", "body": "0 EUR"}))
        .expect("reply");
    let reply = admin.wait_for_message(&dm, "@bob:localhost", |m| m["content"]["body"] == "0 EUR", Duration::from_secs(10));
    assert_eq!(reply["content"]["msgtype"], "m.notice");

    // Nothing new: the long poll returns empty after its time-out.
    let quiet = bob.sync(Some(&news.next_batch), 500).expect("a quiet sync");
    assert!(
        quiet.joined.iter().all(|r| r.timeline.iter().all(|e| e.event_id != event_id)),
        "{quiet:?}"
    );
}

#[test]
fn registration_tokens_let_one_newcomer_in() {
    let Some(hs) = Synapse::start() else { return };
    let admin = client(&hs, &hs.admin);
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_millis() as i64;
    let expiry = now_ms + 3_600_000;

    let made = admin.create_registration_token("welcome-alice", 1, Some(expiry)).expect("a token");
    let expected = RegistrationToken {
        token: "welcome-alice".into(),
        uses_allowed: Some(1),
        pending: 0,
        completed: 0,
        expiry_time: Some(expiry),
    };
    assert_eq!(made, expected);
    let forever = admin.create_registration_token("welcome-bob", 3, None).expect("a token");
    assert_eq!(forever.expiry_time, None);
    let mut listed = admin.registration_tokens().expect("the tokens");
    listed.sort_by(|a, b| a.token.cmp(&b.token));
    assert_eq!(listed, [expected, forever]);
    assert!(token_valid(&hs.url, "welcome-alice"));
    assert!(!token_valid(&hs.url, "welcome-nobody"));

    assert_eq!(
        register_with_token(&hs.url, "alice", "alice-password-1", "welcome-alice"),
        Ok("@alice:localhost".to_string())
    );
    let used = admin.registration_tokens().expect("the tokens");
    let alice_token = used.iter().find(|t| t.token == "welcome-alice").expect("still listed");
    assert_eq!((alice_token.completed, alice_token.pending), (1, 0));
    assert!(!token_valid(&hs.url, "welcome-alice"));
    let (status, body) = register_with_token(&hs.url, "mallory", "mallory-password-1", "welcome-alice").expect_err("used up");
    assert_eq!((status, body["errcode"].as_str()), (401, Some("M_UNAUTHORIZED")), "{body}");

    admin.delete_registration_token("welcome-alice").expect("delete");
    assert!(admin
        .registration_tokens()
        .expect("the tokens")
        .iter()
        .all(|t| t.token != "welcome-alice"));
    let unknown = admin.delete_registration_token("welcome-alice").expect_err("deleted already");
    assert_eq!((unknown.status(), unknown.errcode()), (Some(404), Some("M_NOT_FOUND")), "{unknown}");
    assert!(!unknown.is_transient());
    assert!(
        unknown
            .to_string()
            .contains("DELETE /_synapse/admin/v1/registration_tokens/welcome-alice"),
        "{unknown}"
    );

    // A user who is not a server admin may not.
    let bob = client(&hs, &hs.register("bob", false));
    let refused = bob.registration_tokens().expect_err("not an admin");
    assert_eq!(refused.errcode(), Some("M_FORBIDDEN"), "{refused}");
    assert!(refused.to_string().contains("server admin"), "{refused}");
}

#[test]
fn a_stopped_homeserver_is_a_transient_network_error() {
    let Some(mut hs) = Synapse::start() else { return };
    let admin = client(&hs, &hs.admin);
    assert_eq!(admin.whoami().expect("whoami"), "@admin:localhost");
    hs.stop();

    // The default back-off: 4 attempts, 0.25 + 0.5 + 1 s apart.
    let started = Instant::now();
    let error = admin.whoami().expect_err("nobody answers");
    assert!(started.elapsed() >= Duration::from_millis(1700), "{:?}", started.elapsed());
    assert!(matches!(error, MatrixError::Network { .. }), "{error:?}");
    assert!(error.is_transient());
    assert_eq!(error.errcode(), None);
    let text = error.to_string();
    assert!(text.starts_with("GET /_matrix/client/v3/account/whoami got no answer"), "{text}");
    assert!(text.contains("4 attempts"), "{text}");
    assert!(!text.contains(&hs.admin.access_token), "{text}");

    // A refused connection sent nothing, so even a POST is tried again.
    let quick = client(&hs, &hs.admin).with_backoff(Backoff {
        attempts: 2,
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(10),
    });
    let error = quick.create_room(&json!({})).expect_err("nobody answers");
    assert!(error.is_transient() && error.to_string().contains("2 attempts"), "{error}");
}

#[test]
fn restart_keeps_rooms_aliases_messages_and_tokens() {
    let Some(mut hs) = Synapse::start() else { return };
    let admin = client(&hs, &hs.admin);
    let room = admin
        .create_room(&json!({"name": "Kept", "room_alias_name": "kept"}))
        .expect("a room");
    let tc = hs.client(&hs.admin);
    tc.send_text(&room, "before");
    let started = Instant::now();
    hs.restart();
    eprintln!("Synapse restarted in {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(admin.whoami().expect("the token still works"), "@admin:localhost");
    assert_eq!(tc.resolve_alias("#kept:localhost"), Some(room.clone()));
    tc.send_text(&room, "after");
    let bodies: Vec<Value> = tc.messages(&room).iter().map(|m| m["content"]["body"].clone()).collect();
    assert_eq!(bodies, [json!("before"), json!("after")]);
}
