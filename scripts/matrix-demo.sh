#!/usr/bin/env bash
# scripts/matrix-demo.sh DIR: the contributor journey with its chat. Starts a local Synapse
# (DIR/synapse, 127.0.0.1, a free port, defederated and token-only), runs `smartup demo`
# into DIR/demo, gives the ledger a [matrix] section, starts Engelbot on the forge, links and
# proves everyone's account, runs `smartup matrix sync` and `smartup matrix invite`, then
# walks a second task through its life with the hub live and prints what the bot announced
# in the task's room. Synapse and the bot keep running afterwards; the script says how to
# stop them (their PIDs are in DIR/synapse/pid and DIR/bot.pid).
#
# Needs: smartup (on PATH, or SMARTUP_BIN: `cargo build --release` then
# SMARTUP_BIN=target/release/smartup), git, GNU date, and Synapse 1.163.2 in a
# venv ($SMARTUP_SYNAPSE_VENV; else tests/matrix/install-synapse.sh makes one, which needs
# python3 >= 3.10 with venv). Its HTTP calls are the venv's Python standard library.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
started=$SECONDS

die() {
  echo "matrix-demo: error: $*" >&2
  exit 1
}
stage="getting ready"
say() {
  stage=$*
  printf '\n== %s\n' "$*"
}
indent() { sed 's/^/  /'; }

[ $# -eq 1 ] || die "usage: $0 DIR (an empty or new folder)"
mkdir -p "$1"
dir=$(cd "$1" && pwd)
[ -z "$(ls -A "$dir")" ] || die "$dir is not empty; the demo starts from an empty folder"

if [ -n "${SMARTUP_BIN:-}" ]; then
  smartup=$SMARTUP_BIN
elif command -v smartup >/dev/null 2>&1; then
  smartup=$(command -v smartup)
else
  die "no smartup on PATH: build it (cargo build --release) and set SMARTUP_BIN=target/release/smartup"
fi
{ [ -f "$smartup" ] && [ -x "$smartup" ]; } || die "$smartup is not an executable"
smartup=$(cd "$(dirname "$smartup")" && pwd)/$(basename "$smartup")
for tool in git date; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is needed (Debian: git, coreutils)"
done

venv=$(bash "$here/tests/matrix/install-synapse.sh" | tail -n 1) || die "no Synapse venv (tests/matrix/install-synapse.sh failed)"
py=$venv/bin/python

# A failure from here on says in which stage, and stops what this run started.
synapse_pid=
bot_pid=
running() {
  local state
  state=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [ "$state" != Z ]
}
# `stop PID`: SIGTERM, SIGKILL after ten seconds; says whether it was running.
stop() {
  running "$1" || return 1
  kill "$1" 2>/dev/null || true
  for _ in $(seq 100); do
    running "$1" || return 0
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
}
finish() {
  local status=$?
  [ "$status" -ne 0 ] || return 0
  echo "matrix-demo: error: failed (exit $status) at: $stage" >&2
  if [ -n "$bot_pid" ] && stop "$bot_pid"; then
    echo "matrix-demo: stopped the bot (its log: $dir/bot.log)" >&2
  fi
  if [ -n "$synapse_pid" ] && stop "$synapse_pid"; then
    echo "matrix-demo: stopped Synapse (its log: $dir/synapse/synapse.log)" >&2
  fi
  echo "matrix-demo: failed after $((SECONDS - started)) s" >&2
}
trap finish EXIT

# The Matrix side, in Python's standard library: `mx COMMAND ARGS...`.
read -r -d '' MX_PY <<'PY' || true
import base64, hashlib, hmac, json, os, secrets, socket, sys, time
import urllib.error, urllib.parse, urllib.request

BOT = "@engelbot:localhost"

def fail(message):
    print(f"matrix-demo: error: {message}", file=sys.stderr)
    sys.exit(1)

def enc(segment):
    return urllib.parse.quote(segment, safe="")

def call(method, url, token=None, body=None, check=True, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    except OSError as error:
        fail(f"{method} {url.split('?')[0]}: no answer ({error})")
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if check and not 200 <= status < 300:
        fail(f"{method} {url.split('?')[0]} answered {status}: {answer}")
    return status, answer

def accounts(path):
    with open(path) as f:
        return json.load(f)

class User:
    def __init__(self, url, path, name):
        account = accounts(path)[name]
        self.url, self.user_id, self.token = url, account["user_id"], account["access_token"]

    def v3(self, method, path, body=None, check=True):
        return call(method, f"{self.url}/_matrix/client/v3/{path}", self.token, body, check)[1]

    def send(self, room, text):
        txn = f"demo-{time.time_ns()}"
        content = {"msgtype": "m.text", "body": text}
        return self.v3("PUT", f"rooms/{enc(room)}/send/m.room.message/{txn}", content)["event_id"]

    def messages(self, room):
        found, since = [], None
        while True:
            path = f"rooms/{enc(room)}/messages?dir=b&limit=100"
            if since:
                path += f"&from={enc(since)}"
            page = self.v3("GET", path)
            chunk = page.get("chunk", [])
            found += [e for e in chunk if e.get("type") == "m.room.message"]
            if not chunk or not page.get("end"):
                return found[::-1]
            since = page["end"]

    def resolve(self, alias):
        status, answer = call("GET", f"{self.url}/_matrix/client/v3/directory/room/{enc(alias)}", self.token, check=False)
        return answer["room_id"] if status == 200 else None

def wait(what, done, seconds, log=None):
    deadline = time.time() + seconds
    while True:
        result = done()
        if result:
            return result
        if time.time() > deadline:
            fail(f"waited {seconds} s in vain for {what}" + (f"; see {log}" if log else ""))
        time.sleep(0.2)

def main(command, *args):
    if command == "port":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            print(s.getsockname()[1])
    elif command == "secret":
        print(secrets.token_hex(24))
    elif command == "config":
        folder, port, secret = args
        raised = {"per_second": 10000, "burst_count": 10000}
        config = {
            "server_name": "localhost",
            "public_baseurl": f"http://127.0.0.1:{port}/",
            "listeners": [{"port": int(port), "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
                           "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}]}],
            "database": {"name": "sqlite3", "args": {"database": f"{folder}/homeserver.db"}},
            "media_store_path": f"{folder}/media",
            "signing_key_path": f"{folder}/signing.key",
            "report_stats": False,
            "enable_metrics": False,
            "registration_shared_secret": secret,
            "macaroon_secret_key": secrets.token_hex(24),
            "form_secret": secrets.token_hex(24),
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],
            "presence": {"enabled": False},
            "enable_registration": True,
            "registration_requires_token": True,
            "default_room_version": "12",
            "url_preview_enabled": False,
        }
        for name in ["rc_message", "rc_registration", "rc_registration_token_validity", "rc_login.address",
                     "rc_login.account", "rc_login.failed_attempts", "rc_joins.local", "rc_joins.remote",
                     "rc_joins_per_room", "rc_invites.per_room", "rc_invites.per_user", "rc_invites.per_issuer",
                     "rc_room_creation", "rc_admin_redaction", "rc_third_party_invite", "rc_3pid_validation",
                     "rc_media_create", "rc_presence.per_user", "rc_delayed_event_mgmt", "rc_reports",
                     "rc_user_directory", "rc_profile", "rc_key_requests"]:
            group, _, member = name.partition(".")
            if member:
                config.setdefault(group, {})[member] = raised
            else:
                config[group] = raised
        with open(f"{folder}/homeserver.yaml", "w") as f:
            json.dump(config, f, indent=2)  # YAML reads JSON
        key = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        with open(f"{folder}/signing.key", "w") as f:
            f.write(f"ed25519 a_1 {key}\n")
    elif command == "wait-up":
        url, pid, seconds = args
        deadline = time.time() + int(seconds)
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_matrix/client/versions", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                sys.exit(2)
            time.sleep(0.1)
        sys.exit(3)
    elif command == "register":
        url, secret, path, name, password, role = args
        endpoint = f"{url}/_synapse/admin/v1/register"
        nonce = call("GET", endpoint)[1]["nonce"]
        mac = hmac.new(secret.encode(), f"{nonce}\0{name}\0{password}\0{role}".encode(), hashlib.sha1).hexdigest()
        body = {"nonce": nonce, "username": name, "password": password, "admin": role == "admin", "mac": mac}
        answer = call("POST", endpoint, body=body)[1]
        known = accounts(path) if os.path.exists(path) else {}
        known[name] = {"user_id": answer["user_id"], "password": password, "access_token": answer["access_token"]}
        with open(path, "w") as f:
            json.dump(known, f, indent=2)
        print(answer["user_id"])
    elif command == "token":
        path, name = args
        print(accounts(path)[name]["access_token"])
    elif command == "prove":
        # A direct message to the bot, `!link CODE`, and the bot's answer.
        url, path, name, code, log = args
        me = User(url, path, name)
        room = me.v3("POST", "createRoom", {"is_direct": True, "invite": [BOT], "preset": "trusted_private_chat"})["room_id"]
        joined = lambda: BOT in me.v3("GET", f"rooms/{enc(room)}/joined_members")["joined"]
        wait(f"the bot to join {name}'s direct message", joined, 60, log)
        asked = me.send(room, f"!link {code}")
        def answered():
            later = False
            for event in me.messages(room):
                later = later or event["event_id"] == asked
                if later and event["sender"] == BOT and event["content"].get("msgtype") == "m.notice":
                    return event["content"].get("body", "")
        reply = wait(f"the bot's answer to {name}'s !link", answered, 60, log)
        print(f"{me.user_id} -> {BOT}: !link {code}\n{BOT}: {reply}")
        if not reply.startswith("Thank you"):
            fail(f"the bot did not accept {name}'s proof")
    elif command == "accept":
        # Joins every room the user is invited to (the space, the forum, their team's, ...).
        url, path, name = args
        me = User(url, path, name)
        invited = me.v3("GET", "sync?timeout=0").get("rooms", {}).get("invite", {})
        for room in invited:
            me.v3("POST", f"join/{enc(room)}", {})
        print(f"{me.user_id} accepted {len(invited)} invitation(s)")
    elif command == "announced":
        # The bot's announcements in a room, oldest first, as `seq N: words`.
        url, path, name, alias = args
        me = User(url, path, name)
        room = me.resolve(alias) or fail(f"no room {alias}")
        for event in me.messages(room):
            seq = event["content"].get("org.smartup.seq")
            if event["sender"] == BOT and seq is not None:
                print(f"seq {seq}: {event['content'].get('body', '')}")
    elif command == "wait-bot":
        # Until the bot's cursor has passed `seq` (it announced everything up to it).
        cursor, seq, pid, log = args
        def caught_up():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                fail(f"the bot stopped; see {log}")
            try:
                with open(cursor) as f:
                    return json.load(f).get("announced", 0) >= int(seq)
            except (OSError, ValueError):
                return False
        wait(f"the bot to announce seq {seq}", caught_up, 120, log)
    else:
        fail(f"unknown helper command {command}")

main(*sys.argv[1:])
PY
mx() { "$py" -c "$MX_PY" "$@"; }

# 1. The homeserver.
hs=$dir/synapse
mkdir -p "$hs"
secret=$(mx secret)
say "Synapse on 127.0.0.1 in $hs (defederated; registration only with a token)"
for attempt in 1 2 3; do
  port=$(mx port)
  url=http://127.0.0.1:$port
  mx config "$hs" "$port" "$secret"
  "$py" -m synapse.app.homeserver -c "$hs/homeserver.yaml" </dev/null >>"$hs/synapse.log" 2>&1 &
  synapse_pid=$!
  echo "$synapse_pid" >"$hs/pid"
  up=0
  mx wait-up "$url" "$synapse_pid" 90 || up=$?
  [ "$up" -ne 0 ] || break
  stop "$synapse_pid" || true
  synapse_pid=
  if [ "$attempt" -lt 3 ] && grep -q "Address already in use" "$hs/synapse.log"; then
    continue
  fi
  echo "--- the end of $hs/synapse.log:" >&2
  tail -n 40 "$hs/synapse.log" >&2
  [ "$up" -eq 2 ] && die "Synapse exited at start (see above)"
  die "Synapse did not answer $url/_matrix/client/versions within 90 s (see above)"
done
echo "Synapse answers at $url (PID $synapse_pid, in $hs/pid; stop it with kill \$(cat $hs/pid))"

# 2. Accounts, by shared-secret registration: an admin, the bot and the demo's people.
people=(founder carla maya alice bob)
accounts=$hs/accounts.json
(umask 077 && echo '{}' >"$accounts")
mx register "$url" "$secret" "$accounts" admin "admin-$(mx secret | cut -c1-12)" admin >/dev/null
mx register "$url" "$secret" "$accounts" engelbot "engelbot-$(mx secret | cut -c1-12)" notadmin >/dev/null
for who in "${people[@]}"; do
  mx register "$url" "$secret" "$accounts" "$who" "$who-password" notadmin >/dev/null
done
echo "registered @admin:localhost (server admin), @engelbot:localhost and ${people[*]/#/@} (on localhost); passwords and tokens in $accounts"
bot_token=$(mx token "$accounts" engelbot)
admin_token=$(mx token "$accounts" admin)

# 3. The demo, on a clock pinned three days back, so that the second task below can cross its
# 48-hour objection window and still lie in the past.
t0=$(($(date -u +%s) / 3600 * 3600 - 72 * 3600))
at() { date -u -d "@$((t0 + $1 * 3600))" +%Y-%m-%dT%H:%M:%SZ; }
demo=$dir/demo
forge=$demo/forge.git
say "smartup demo --dir $demo (its story: $dir/demo.log)"
SMARTUP_NOW=$(at 0) "$smartup" demo --dir "$demo" >"$dir/demo.log" 2>&1 || {
  tail -n 20 "$dir/demo.log" >&2
  die "smartup demo failed (see above)"
}
grep -E '^ *[0-9]+\. ' "$dir/demo.log" | awk '{ sub(/^ +/, ""); print "  " (length > 100 ? substr($0, 1, 97) "..." : $0) }'

# `act WHO HOURS smartup-args...`: WHO brings their clone up to date and acts in it with their
# own key, on the pinned clock HOURS after t0.
act() {
  local who=$1 hours=$2
  shift 2
  git -C "$demo/$who" pull -q --ff-only origin main
  SMARTUP_HANDLE=$who SMARTUP_KEY=$demo/keys/$who SMARTUP_NOW=$(at "$hours") \
    "$smartup" --ledger "$demo/$who" "$@"
}
# `push WHO HOURS`: pushes WHO's clone through the forge's hook (re-basing if others pushed).
push() {
  SMARTUP_HANDLE=$1 SMARTUP_KEY=$demo/keys/$1 SMARTUP_NOW=$(at "$2") \
    "$smartup" --ledger "$demo/$1" push 2>&1 | indent
}
last_seq() {
  "$smartup" --ledger "$forge" status --json | "$py" -c 'import json, sys; print(json.load(sys.stdin)["last_seq"])'
}
wait_bot() { mx wait-bot "$forge/smartup/engelbot.json" "$(last_seq)" "$bot_pid" "$dir/bot.log"; }

# 4. The [matrix] section, by the founder.
say "The founder gives the ledger a [matrix] section (smartup amend-policy) and pushes"
policy=$dir/ledger-with-matrix.toml
git -C "$demo/founder" pull -q --ff-only origin main
{
  cat "$demo/founder/ledger.toml"
  printf '\n[matrix]\nhomeserver = "%s"\nserver_name = "localhost"\nbot = "@engelbot:localhost"\n' "$url"
} >"$policy"
act founder 0 amend-policy "$policy" | indent
push founder 0

# 5. Engelbot on the forge, with its token and the admin's (for registration tokens).
say "Engelbot runs on the forge (smartup bot run; PID in $dir/bot.pid, log in $dir/bot.log)"
env -u SMARTUP_NOW SMARTUP_MATRIX_TOKEN="$bot_token" SMARTUP_MATRIX_ADMIN_TOKEN="$admin_token" \
  "$smartup" --ledger "$forge" bot run --poll-seconds 1 </dev/null >>"$dir/bot.log" 2>&1 &
bot_pid=$!
echo "$bot_pid" >"$dir/bot.pid"
wait_bot
echo "the bot built the hub and announced the ledger's $(last_seq) rows"

# 6. Each person links their account in their own clone, pushes, and proves it to the bot.
say "Everyone links their Matrix account (smartup matrix link, smartup push) and proves it (!link CODE)"
declare -A codes
for who in "${people[@]}"; do
  out=$(act "$who" 0 matrix link "@$who:localhost")
  echo "$out" | grep -v '^Push with' | indent
  codes[$who]=$(echo "$out" | sed -n 's/^Link code (shown this once): //p')
  [ -n "${codes[$who]}" ] || die "smartup matrix link printed no code for $who"
  push "$who" 0
done
wait_bot
for who in "${people[@]}"; do
  mx prove "$url" "$accounts" "$who" "${codes[$who]}" "$dir/bot.log" | indent
done

# 7. The admin's tools: the hub is in step already (the bot syncs), the invitations are claimed.
say "smartup matrix sync (the bot keeps the hub in step, so little or nothing is left to do)"
git -C "$demo/ledger" pull -q --ff-only origin main
SMARTUP_MATRIX_TOKEN=$bot_token "$smartup" --ledger "$demo/ledger" matrix sync 2>&1 | indent
say "smartup matrix invite (registration tokens for open invitations; the demo's are all claimed)"
invited=$(SMARTUP_MATRIX_ADMIN_TOKEN=$admin_token "$smartup" --ledger "$demo/ledger" matrix invite 2>&1)
indent <<<"${invited:-nothing to do: no invitation is open}"

# 8. A task's whole life with the hub live: the bot opens its room, invites its people and
# announces each step there. (The demo's task was paid before the hub existed, so it has no
# room of its own; its news went to the design team's room.)
task=6_2_1_2
say "A second task's journey, each step pushed by its actor and announced by the bot"
echo "(The demo's task 6_2_1_1 was paid before the hub existed, so it has no room of its own;"
echo "its news is in the design team's room #3_2_design_team:localhost.)"
step() {
  local who=$1 hours=$2
  shift 2
  act "$who" "$hours" "$@" | indent
  push "$who" "$hours"
  wait_bot
}
step carla 1 create-task "${task}_palette" --objective 5_2_1 --title "Choose the brand colours" --size medium --phase design
step maya 1 assign-task "$task" --attacker alice --defender bob
step alice 1 start-task "$task"
step alice 1 start-work "$task"
step bob 1 start-work "$task"
step alice 3 stop-work
step bob 3 stop-work
step maya 4 assess-work "$task" --scores 9,8,8 --share 90
step carla 52 validate-pending-sc "$task"

say "The people accept the bot's invitations"
for who in "${people[@]}"; do
  mx accept "$url" "$accounts" "$who" | indent
done

say "What Engelbot announced in the task's room #$task:localhost (read as alice)"
mx announced "$url" "$accounts" alice "#$task:localhost" | indent

say "Running: Synapse at $url, Engelbot on $forge ($((SECONDS - started)) s)"
cat <<EOF
What to try next:
  - Open a Matrix client that may use http:// (Element Desktop, for one) with the homeserver
    $url and log in as alice, password alice-password (bob, carla, maya,
    founder likewise): the space "Smartup Zero" with the general forum, the design team's
    room and the task's room, and the bot's announcements in them.
  - Write to @engelbot:localhost (alice's direct message with it exists already):
    !help, !wallet, !my_tasks, !open_roles, !status $task, !treasury, !verify.
  - Act as someone in their clone and push; the bot announces it within seconds, e.g.
    export SMARTUP_HANDLE=carla SMARTUP_KEY=$demo/keys/carla
    cd $demo/carla && git pull -q origin main
    $smartup award-sk maya mentoring && $smartup push
Stop them with:
  kill \$(cat $dir/bot.pid) \$(cat $hs/pid)
EOF
