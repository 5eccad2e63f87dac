"""A stateful Forgejo double for the tests of `smartup forgejo sync`.

    python3 server.py --spec swagger.v1.json --fixture fixture.json [--port 0]
        [--name HOST] [--tls-cert CERT.pem --tls-key KEY.pem]

It prints the port it listens on (127.0.0.1) as its first line of standard output, then
answers, over HTTPS with the given certificate when `--tls-cert` is given, with URLs of
`--name` (default 127.0.0.1), the name its clients reach it by:

- `/api/v1/...`: Forgejo's API as the spec describes it and NOTES.md corrects it. A method
  and path the spec does not have answers 404; a request without a valid token
  (`Authorization: token T` or `Bearer T`) answers 401; a token without the scope an
  operation needs answers 403; a body that does not fit the operation's schema answers 422
  with Forgejo's error shape. Every answer is checked against the spec's response schema
  before it is sent; what does not fit is recorded as a self-check error.
- `/_double/...` (no token; outside the API): `GET log` (every API request: number, method,
  path, query, status), `GET state` (everything, rendered), `GET errors` (self-check
  errors), `POST fail` (a failure rule, see `Failures.add`).

The fixture names users (`login`; `admin` marks site admins; optional `email` (default
LOGIN@example.invalid), `full_name`, `must_change_password`, `restricted`, `visibility`,
`login_name`, `source_id`, `password`, and `keys`: [{`key`: "ssh-ed25519 AAAA... comment",
`title`}]), tokens (`user`, `scopes`), organisations (`name`, `owners`, and `teams`: [{`name`,
`members`, `permission` (default "read"), optional `units_map`, `description`,
`includes_all_repositories`, `can_create_org_repo`}]; every organisation also has its "Owners"
team, whose members are `owners`), repositories (`owner`, `name`, `writers`, `admins`,
`has_issues`, `time_tracking`), `utc_offset_minutes`, the server's time zone for the times it
renders, and Forgejo settings: `min_password_length` (8), `password_complexity` (["off"]; or
some of "lower", "upper", "digit", "spec") and `auth_sources` (ids of login sources users may
be created with; none by default).

`GET /_double/state` holds `repos`, `org_labels`, `users` (by login: id, email, full_name,
login_name, source_id, is_admin, must_change_password, restricted, visibility, password,
created, keys [{id, title, fingerprint, key, read_only, created_at}]) and `orgs` (by name: id,
owners, members, teams [{id, name, description, permission, units_map,
includes_all_repositories, can_create_org_repo, members}], members as sorted logins).
"""

import argparse
import json
import re
import socket
import ssl
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import handlers
from spec import Spec
from store import ApiError, Store

# routers/api/v1/api.go: the token scope category of each route group (tokenRequiresScopes).
SCOPE_OF_SEGMENT = {
    "orgs": "organization",
    "teams": "organization",
    "user": "user",
    "users": "user",
    "repos": "repository",
    "admin": "admin",
}
ISSUE_PARTS = {"issues", "labels", "milestones", "times"}


def required_scope(method, template):
    """The token scope Forgejo asks for (`write:issue`, `read:organization`, ...), or None."""
    segments = template.strip("/").split("/")
    category = SCOPE_OF_SEGMENT.get(segments[0])
    if category is None:
        return None
    if category == "repository" and len(segments) > 3 and segments[3] in ISSUE_PARTS:
        category = "issue"
    return f"{'read' if method == 'GET' else 'write'}:{category}"


def has_scope(scopes, needed):
    if needed is None or "all" in scopes or needed in scopes:
        return True
    kind, category = needed.split(":")
    return kind == "read" and f"write:{category}" in scopes


class Failures:
    """Failures to inject. A rule matches requests by method and a regular expression searched
    in the path (`/issues$`), lets `skip`
    of them pass, then acts on the next `times`: `status` answers that status (429 with
    `Retry-After: 0`) without doing anything, `after` does the work and answers 500, `drop`
    closes the connection without an answer, `drop-after` does the work and then drops."""

    def __init__(self):
        self.rules = []

    def add(self, rule):
        rule.setdefault("skip", 0)
        rule.setdefault("times", 1)
        if rule.get("kind") not in ("status", "after", "drop", "drop-after"):
            raise ValueError(f"unknown failure kind {rule.get('kind')!r}")
        self.rules.append(rule)

    def take(self, method, path):
        for rule in self.rules:
            if rule.get("method", method) != method or not re.search(rule.get("path", ""), path):
                continue
            if rule["times"] <= 0:
                continue
            if rule["skip"] > 0:
                rule["skip"] -= 1
                continue
            rule["times"] -= 1
            return rule
        return None


class Double:
    """The double's state: spec, store, request log, self-check errors, failure rules."""

    def __init__(self, spec, fixture, app_url):
        self.spec = spec
        self.store = Store(fixture, app_url)
        self.log = []
        self.errors = []
        self.failures = Failures()
        self.lock = threading.Lock()

    def token_user(self, headers):
        """The login a request's Authorization header names, or an ApiError 401."""
        value = headers.get("Authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() not in ("token", "bearer") or not token.strip():
            raise ApiError(401, "token is required")
        entry = self.store.tokens.get(token.strip())
        if entry is None:
            raise ApiError(401, "user does not exist [uid: 0, name: ]: invalid token")
        return entry

    def answer(self, error):
        """Forgejo's error answer: `{"message", "url"}`, and `errors` for `ctx.NotFound(...)`."""
        body = {"message": error.message, "url": self.store.app_url + "api/swagger"}
        if getattr(error, "errors", None) is not None:
            body["errors"] = error.errors
        return error.status, body, {}

    def api(self, method, path, query, raw, headers, number):
        """(status, body, headers) of an API request, and the operation it matched."""
        found = self.spec.route(method, path)
        if found is None:
            return self.answer(ApiError(404, "The target couldn't be found.")), None
        template, operation, params = found
        try:
            entry = self.token_user(headers)
            needed = required_scope(method, template)
            if not has_scope(entry["scopes"], needed):
                raise ApiError(403, f"token does not have at least one of required scope(s): [{needed}]")
            body = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError(422, "[body]: not valid JSON")
            problems = self.spec.request_errors(operation, body)
            if problems:
                raise ApiError(422, "; ".join(problems))
            handler = handlers.HANDLERS.get((method, template))
            if handler is None:
                raise ApiError(501, f"the Forgejo double does not implement {method} {template}")
            context = handlers.Context(self.store, params, query, body, entry["user"], number, path)
            return handler(context), operation
        except ApiError as error:
            return self.answer(error), operation
        except Exception as error:  # a bug of the double: answer 500 and record it
            self.errors.append(f"{method} {path}: the double failed: {traceback.format_exc()}")
            return self.answer(ApiError(500, f"the double failed: {error}")), operation

    def check(self, operation, method, path, status, body, headers):
        if operation is None:
            return
        for problem in self.spec.response_errors(operation, status, body, headers):
            message = f"{method} {path}: {problem}"
            self.errors.append(message)
            print(f"self-check: {message}", file=sys.stderr, flush=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    double = None

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.serve()

    def do_POST(self):
        self.serve()

    def do_PUT(self):
        self.serve()

    def do_PATCH(self):
        self.serve()

    def do_DELETE(self):
        self.serve()

    def send(self, status, body, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def serve(self):
        double = self.double
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with double.lock:
            if url.path.startswith("/_double/"):
                return self.admin(url.path[len("/_double/") :], raw)
            if not url.path.startswith(double.spec.base + "/"):
                return self.send(404, {"message": "not found"})
            number = len(double.log) + 1
            entry = {"n": number, "method": self.command, "path": url.path, "query": query}
            double.log.append(entry)
            rule = double.failures.take(self.command, url.path)
            kind = rule["kind"] if rule else None
            if kind == "drop":
                entry["status"] = "dropped"
                return self.drop()
            if kind == "status":
                entry["status"] = rule["status"]
                extra = {"Retry-After": "0"} if rule["status"] == 429 else {}
                return self.send(rule["status"], {"message": f"injected failure {rule['status']}", "url": ""}, extra)
            (status, body, headers), operation = double.api(self.command, url.path, query, raw, self.headers, number)
            double.check(operation, self.command, url.path, status, body, headers)
            if kind == "drop-after":
                entry["status"] = "dropped after the work"
                return self.drop()
            if kind == "after":
                entry["status"] = 500
                return self.send(500, {"message": "injected failure after the work", "url": ""})
            entry["status"] = status
            self.send(status, body, headers)

    def admin(self, what, raw):
        double = self.double
        if self.command == "GET" and what == "log":
            return self.send(200, double.log)
        if self.command == "GET" and what == "state":
            return self.send(200, double.store.dump())
        if self.command == "GET" and what == "errors":
            return self.send(200, double.errors)
        if self.command == "POST" and what == "fail":
            try:
                double.failures.add(json.loads(raw))
            except ValueError as error:
                return self.send(400, {"message": str(error)})
            return self.send(204, None)
        return self.send(404, {"message": f"no admin endpoint {self.command} {what}"})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--fixture", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--name", default="127.0.0.1", help="the host name clients use, for the URLs in answers")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate chain (PEM)")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM)")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    with open(args.fixture, encoding="utf-8") as f:
        fixture = json.load(f)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    scheme = "http"
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    port = server.server_address[1]
    Handler.double = Double(Spec(args.spec), fixture, f"{scheme}://{args.name}:{port}/")
    print(port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
