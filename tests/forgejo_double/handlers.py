"""The operations the double implements, each as Forgejo behaves (NOTES.md): status codes
(PATCH issue 201, POST tracked time 200), label filters with "all of" semantics, a search
index that lags behind, exclusive labels, tracked time booked to the token's user unless an
admin names another, user accounts and SSH keys through the admin API, organisation teams and
their members, and so on. Every other operation of the spec answers 501."""

import datetime
import re

import sshkey
from paging import paginate
from store import ADMIN, ACCESS_MODES, EXTERNAL_UNITS, NONE, OWNER_TEAM_NAME, ApiError, label_scope, normalize_color, not_found, parse_access_mode, unit_key

HANDLERS = {}

# A just-created or just-edited issue is found by `q` only after this many more API requests.
INDEX_LAG = 5


def handles(method, template):
    def register(function):
        HANDLERS[(method, template)] = function
        return function

    return register


class Context:
    """One request as the handlers see it."""

    def __init__(self, store, params, query, body, login, request_number, path):
        self.store = store
        self.params = params
        self.query = query
        self.body = body if body is not None else {}
        self.login = login
        self.request_number = request_number
        self.path = path

    def repo(self):
        return self.store.repo(self.params["owner"], self.params["repo"])

    def writable_repo(self):
        repo = self.repo()
        if not self.store.may_write_repo(self.login, repo):
            raise ApiError(403, "user should have a permission to write to the repository")
        return repo

    def issue(self, repo):
        return self.store.issue(repo, self.params["index"])


def page(ctx, items, render=None, link=True):
    """One page of `items`, each passed through `render` after paging: rendering only the
    page keeps a long list linear to page through."""
    chunk, headers = paginate(items, ctx.query, ctx.store.app_url, ctx.path, link)
    if render is not None:
        chunk = [render(item) for item in chunk]
    return 200, chunk, headers


# -- instance and users ----------------------------------------------------------------------


@handles("GET", "/version")
def version(ctx):
    return 200, {"version": "17.0.0-dev (smartup test double)"}, {}


@handles("GET", "/settings/api")
def settings_api(ctx):
    body = {"default_paging_num": 30, "max_response_items": 50, "default_git_trees_per_page": 1000, "default_max_blob_size": 10485760}
    return 200, body, {}


@handles("GET", "/user")
def current_user(ctx):
    return 200, ctx.store.render_user(ctx.store.users[ctx.login]), {}


@handles("GET", "/users/{username}")
def get_user(ctx):
    return 200, ctx.store.render_user(ctx.store.user(ctx.params["username"])), {}


@handles("GET", "/orgs/{org}")
def get_org(ctx):
    return 200, ctx.store.render_org(ctx.store.org(ctx.params["org"])), {}


@handles("GET", "/repos/{owner}/{repo}")
def get_repo(ctx):
    return 200, ctx.store.render_repo(ctx.repo(), ctx.login), {}


@handles("GET", "/repos/{owner}/{repo}/assignees")
def assignees(ctx):
    repo = ctx.repo()
    people = sorted(repo["writers"] | repo["admins"])
    users = [ctx.store.render_user(ctx.store.users[p]) for p in people if p in ctx.store.users]
    return 200, users, {"X-Total-Count": str(len(users))}


# -- labels ----------------------------------------------------------------------------------


def sorted_labels(labels, query):
    order = query.get("sort", "")
    if order == "reversealphabetically":
        return sorted(labels, key=lambda l: (l["name"], l["id"]), reverse=True)
    return sorted(labels, key=lambda l: (l["name"], l["id"]))


def new_label(ctx, org=None, repo=None):
    body = ctx.body
    if not body.get("name"):
        raise ApiError(422, "[Name]: Required")
    label = {
        "id": ctx.store.next_id(),
        "name": body["name"],
        "color": normalize_color(body.get("color")),
        "description": body.get("description", ""),
        "exclusive": body.get("exclusive", False),
        "is_archived": body.get("is_archived", False),
        "org": org,
        "repo": repo,
    }
    ctx.store.labels[label["id"]] = label
    return 201, ctx.store.render_label(label), {}


def edit_label(ctx, label):
    body = ctx.body
    if "name" in body:
        if not body["name"]:
            raise ApiError(422, "[Name]: Required")
        label["name"] = body["name"]
    if "color" in body:
        label["color"] = normalize_color(body["color"])
    if "description" in body:
        label["description"] = body["description"]
    if "exclusive" in body:
        label["exclusive"] = body["exclusive"]
    # As in Forgejo: a PATCH without is_archived un-archives the label.
    label["is_archived"] = body.get("is_archived", False)
    return 200, ctx.store.render_label(label), {}


def org_label(ctx, org):
    label = ctx.store.labels.get(int(ctx.params["id"]))
    if not label or label["org"] is not org:
        raise ApiError(404, "The target couldn't be found.")
    return label


@handles("GET", "/orgs/{org}/labels")
def list_org_labels(ctx):
    org = ctx.store.org(ctx.params["org"])
    labels = [l for l in ctx.store.labels.values() if l["org"] is org]
    return page(ctx, sorted_labels(labels, ctx.query), ctx.store.render_label)


@handles("POST", "/orgs/{org}/labels")
def create_org_label(ctx):
    org = ctx.store.org(ctx.params["org"])
    if not ctx.store.may_admin_org(ctx.login, org):
        raise ApiError(403, "Must be an organization owner")
    return new_label(ctx, org=org)


@handles("GET", "/orgs/{org}/labels/{id}")
def get_org_label(ctx):
    return 200, ctx.store.render_label(org_label(ctx, ctx.store.org(ctx.params["org"]))), {}


@handles("PATCH", "/orgs/{org}/labels/{id}")
def patch_org_label(ctx):
    org = ctx.store.org(ctx.params["org"])
    if not ctx.store.may_admin_org(ctx.login, org):
        raise ApiError(403, "Must be an organization owner")
    return edit_label(ctx, org_label(ctx, org))


@handles("GET", "/repos/{owner}/{repo}/labels")
def list_repo_labels(ctx):
    repo = ctx.repo()
    labels = [l for l in ctx.store.labels.values() if l["repo"] is repo]
    return page(ctx, sorted_labels(labels, ctx.query), ctx.store.render_label)


@handles("POST", "/repos/{owner}/{repo}/labels")
def create_repo_label(ctx):
    return new_label(ctx, repo=ctx.writable_repo())


# -- milestones ------------------------------------------------------------------------------


def milestone_of(ctx, repo):
    milestone = repo["milestones"].get(int(ctx.params["id"]))
    if not milestone:
        raise ApiError(404, "The target couldn't be found.")
    return milestone


def set_milestone_state(ctx, milestone, state):
    if state not in ("open", "closed"):
        raise ApiError(422, f"[State]: unknown state {state!r}")
    milestone["state"] = state
    milestone["closed_at"] = ctx.store.now() if state == "closed" else None


@handles("GET", "/repos/{owner}/{repo}/milestones")
def list_milestones(ctx):
    repo = ctx.repo()
    state = ctx.query.get("state", "all")  # NOTES.md: without state, open and closed ones
    name = ctx.query.get("name", "").lower()
    found = [
        m
        for m in sorted(repo["milestones"].values(), key=lambda m: m["id"])
        if (state == "all" or m["state"] == state) and name in m["title"].lower()
    ]
    return page(ctx, found, lambda m: ctx.store.render_milestone(m, repo))


@handles("POST", "/repos/{owner}/{repo}/milestones")
def create_milestone(ctx):
    repo = ctx.writable_repo()
    now = ctx.store.now()
    milestone = {
        "id": ctx.store.next_id(),
        "title": ctx.body.get("title", ""),
        "description": ctx.body.get("description", ""),
        "state": "open",
        "created": now,
        "updated": now,
        "closed_at": None,
    }
    set_milestone_state(ctx, milestone, ctx.body.get("state", "open"))
    repo["milestones"][milestone["id"]] = milestone
    return 201, ctx.store.render_milestone(milestone, repo), {}


@handles("GET", "/repos/{owner}/{repo}/milestones/{id}")
def get_milestone(ctx):
    repo = ctx.repo()
    return 200, ctx.store.render_milestone(milestone_of(ctx, repo), repo), {}


@handles("PATCH", "/repos/{owner}/{repo}/milestones/{id}")
def patch_milestone(ctx):
    repo = ctx.writable_repo()
    milestone = milestone_of(ctx, repo)
    for field in ("title", "description"):
        if field in ctx.body:
            milestone[field] = ctx.body[field]
    if "state" in ctx.body:
        set_milestone_state(ctx, milestone, ctx.body["state"])
    milestone["updated"] = ctx.store.now()
    return 200, ctx.store.render_milestone(milestone, repo), {}


# -- issues ----------------------------------------------------------------------------------


def words(text):
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def parse_time(text, name):
    """An RFC 3339 query time, as Forgejo parses it; anything else is refused with 422."""
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, f"invalid {name}: {text!r} is not an RFC 3339 time")
    if moment.tzinfo is None:
        raise ApiError(422, f"invalid {name}: {text!r} has no time zone")
    return moment


def issue_matches(ctx, repo, issue, label_ids, milestone_ids, query_words):
    state = ctx.query.get("state", "open")
    if state != "all" and issue["state"] != state:
        return False
    if label_ids and not label_ids <= set(issue["labels"]):
        return False  # NOTES.md: all of the named labels, not any
    if milestone_ids is not None and issue["milestone"] not in milestone_ids:
        return False
    if query_words:
        if issue["indexed_at"] > ctx.request_number:
            return False  # the indexer has not seen it yet
        if not query_words <= words(issue["title"] + " " + issue["body"]):
            return False
    since = ctx.query.get("since")
    if since and issue["updated"] < parse_time(since, "since"):
        return False  # Forgejo: updated_unix >= since
    if ctx.query.get("created_by") and issue["poster"] != ctx.query["created_by"].lower():
        return False
    if ctx.query.get("assigned_by") and ctx.query["assigned_by"].lower() not in issue["assignees"]:
        return False
    return True


def known_label_ids(ctx, repo):
    """Ids of the labels named in `labels=`: unknown names are dropped."""
    names = [n for n in ctx.query.get("labels", "").split(",") if n]
    usable = ctx.store.labels_of(repo)
    return {l["id"] for l in usable if l["name"] in names or str(l["id"]) in names}


def known_milestone_ids(ctx, repo):
    names = [n for n in ctx.query.get("milestones", "").split(",") if n]
    if not names:
        return None
    return {m["id"] for m in repo["milestones"].values() if m["title"] in names or str(m["id"]) in names}


@handles("GET", "/repos/{owner}/{repo}/issues")
def list_issues(ctx):
    repo = ctx.repo()
    if ctx.query.get("type") == "pulls":
        return page(ctx, [])
    label_ids = known_label_ids(ctx, repo)
    milestone_ids = known_milestone_ids(ctx, repo)
    query_words = words(ctx.query.get("q", ""))
    found = [i for i in repo["issues"].values() if issue_matches(ctx, repo, i, label_ids, milestone_ids, query_words)]
    newest_first = ctx.query.get("sort", "latest") != "oldest"
    found.sort(key=lambda i: i["number"], reverse=newest_first)
    return page(ctx, found, lambda i: ctx.store.render_issue(i, repo))


def checked_assignees(ctx, repo, logins):
    result = []
    for login in logins:
        user = ctx.store.users.get(login.lower())
        if not user:
            raise ApiError(422, f"user does not exist [uid: 0, name: {login}]")
        if not ctx.store.may_write_repo(user["login"].lower(), repo):
            raise ApiError(422, f"user {login} cannot be assigned: no write access to the repository")
        if user["login"].lower() not in result:
            result.append(user["login"].lower())
    return result


def checked_milestone(repo, milestone_id):
    if not milestone_id:
        return None
    if milestone_id not in repo["milestones"]:
        raise ApiError(404, "The target couldn't be found.")
    return milestone_id


def resolve_labels(ctx, repo, wanted):
    """Label ids for a list of ids or names; names that exist nowhere are dropped, ids that do
    not belong to the repository or its organisation are refused."""
    usable = {l["id"]: l for l in ctx.store.labels_of(repo)}
    ids = []
    for item in wanted:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise ApiError(422, f"[Labels]: {item!r} is neither a label id nor a name")
        if isinstance(item, int):
            if item not in usable:
                raise ApiError(422, f"label does not exist [id: {item}]")
            ids.append(item)
        else:
            ids.extend(i for i, l in usable.items() if l["name"] == item)
    return ids


def with_exclusive_scopes(store, ids):
    """Applies labels in order; an exclusive label removes the others of its scope."""
    result = []
    for label_id in ids:
        label = store.labels[label_id]
        scope = label_scope(label["name"]) if label["exclusive"] else None
        if scope is not None:
            result = [i for i in result if label_scope(store.labels[i]["name"]) != scope]
        if label_id not in result:
            result.append(label_id)
    return result


def touch(ctx, issue):
    issue["updated"] = ctx.store.now()
    issue["indexed_at"] = ctx.request_number + INDEX_LAG


def set_issue_state(ctx, issue, state):
    if state not in ("open", "closed"):
        raise ApiError(422, f"[State]: unknown state {state!r}")
    # Forgejo refuses to close an issue that depends on an open one (after the other fields
    # of the same edit were changed).
    blocked = [
        d for d in issue.get("dependencies", [])
        if ctx.store.issue(ctx.store.repo(d["owner"], d["repo"]), d["index"])["state"] == "open"
    ]
    if state == "closed" and issue["state"] != "closed" and blocked:
        raise ApiError(412, "cannot close this issue or pull because it still has open dependencies")
    if issue["state"] != state:
        issue["state"] = state
        issue["closed_at"] = ctx.store.now() if state == "closed" else None


@handles("POST", "/repos/{owner}/{repo}/issues")
def create_issue(ctx):
    repo = ctx.writable_repo()
    if not repo["has_issues"]:
        raise ApiError(404, "The target couldn't be found.")
    body = ctx.body
    if not body.get("title", "").strip():
        raise ApiError(422, "[Title]: Required")
    if len(body["title"]) > 255:
        raise ApiError(422, "[Title]: MaxSize")
    now = ctx.store.now()
    issue = {
        "id": ctx.store.next_id(),
        "number": len(repo["issues"]) + 1,
        "poster": ctx.login,
        "title": body["title"].strip(),
        "body": body.get("body", ""),
        "state": "open",
        "closed_at": None,
        "labels": with_exclusive_scopes(ctx.store, resolve_labels(ctx, repo, body.get("labels", []))),
        "assignees": checked_assignees(ctx, repo, body.get("assignees", []) + ([body["assignee"]] if body.get("assignee") else [])),
        "milestone": checked_milestone(repo, body.get("milestone")),
        "created": now,
        "updated": now,
        "comments": [],
        "times": [],
        "indexed_at": 0,
    }
    if body.get("closed"):
        set_issue_state(ctx, issue, "closed")
    touch(ctx, issue)
    repo["issues"][issue["number"]] = issue
    return 201, ctx.store.render_issue(issue, repo), {}


@handles("GET", "/repos/{owner}/{repo}/issues/{index}")
def get_issue(ctx):
    repo = ctx.repo()
    return 200, ctx.store.render_issue(ctx.issue(repo), repo), {}


@handles("PATCH", "/repos/{owner}/{repo}/issues/{index}")
def patch_issue(ctx):
    repo = ctx.writable_repo()
    issue = ctx.issue(repo)
    body = ctx.body
    if "title" in body:
        if not body["title"].strip():
            raise ApiError(422, "[Title]: Required")
        issue["title"] = body["title"].strip()
    if "body" in body:
        issue["body"] = body["body"]
    if "assignees" in body:
        issue["assignees"] = checked_assignees(ctx, repo, body["assignees"])
    if "milestone" in body:
        issue["milestone"] = checked_milestone(repo, body["milestone"])
    if "state" in body:
        set_issue_state(ctx, issue, body["state"])
    touch(ctx, issue)
    return 201, ctx.store.render_issue(issue, repo), {}  # NOTES.md: 201, not 200


@handles("POST", "/repos/{owner}/{repo}/issues/{index}/dependencies")
def add_issue_dependency(ctx):
    """Makes the issue depend on (be blocked by) the issue the body names."""
    repo = ctx.writable_repo()
    issue = ctx.issue(repo)
    other_repo = ctx.store.repo(ctx.body["owner"], ctx.body["repo"])
    other = ctx.store.issue(other_repo, ctx.body["index"])
    if other is issue:
        raise ApiError(422, "an issue cannot depend on itself")
    meta = {"owner": ctx.body["owner"], "repo": ctx.body["repo"], "index": int(ctx.body["index"])}
    dependencies = issue.setdefault("dependencies", [])
    if meta not in dependencies:
        dependencies.append(meta)
    touch(ctx, issue)
    return 201, ctx.store.render_issue(other, other_repo), {}


@handles("GET", "/repos/{owner}/{repo}/issues/{index}/labels")
def issue_labels(ctx):
    repo = ctx.repo()
    return 200, [ctx.store.render_label(ctx.store.labels[i]) for i in ctx.issue(repo)["labels"]], {}


@handles("PUT", "/repos/{owner}/{repo}/issues/{index}/labels")
def replace_issue_labels(ctx):
    repo = ctx.writable_repo()
    issue = ctx.issue(repo)
    issue["labels"] = with_exclusive_scopes(ctx.store, resolve_labels(ctx, repo, ctx.body.get("labels") or []))
    touch(ctx, issue)
    return 200, [ctx.store.render_label(ctx.store.labels[i]) for i in issue["labels"]], {}


@handles("POST", "/repos/{owner}/{repo}/issues/{index}/labels")
def add_issue_labels(ctx):
    repo = ctx.writable_repo()
    issue = ctx.issue(repo)
    added = resolve_labels(ctx, repo, ctx.body.get("labels") or [])
    issue["labels"] = with_exclusive_scopes(ctx.store, issue["labels"] + added)
    touch(ctx, issue)
    return 200, [ctx.store.render_label(ctx.store.labels[i]) for i in issue["labels"]], {}


@handles("GET", "/repos/{owner}/{repo}/issues/{index}/comments")
def list_comments(ctx):
    repo = ctx.repo()
    issue = ctx.issue(repo)
    comments = [ctx.store.render_comment(c, issue, repo) for c in issue["comments"]]
    return 200, comments, {"X-Total-Count": str(len(comments))}  # not paginated


@handles("POST", "/repos/{owner}/{repo}/issues/{index}/comments")
def create_comment(ctx):
    repo = ctx.writable_repo()
    issue = ctx.issue(repo)
    if not ctx.body.get("body", "").strip():
        raise ApiError(422, "[Body]: Required")
    comment = {"id": ctx.store.next_id(), "user": ctx.login, "body": ctx.body["body"], "created": ctx.store.now()}
    issue["comments"].append(comment)
    return 201, ctx.store.render_comment(comment, issue, repo), {}


# -- tracked time ----------------------------------------------------------------------------


@handles("GET", "/repos/{owner}/{repo}/issues/{index}/times")
def list_times(ctx):
    repo = ctx.repo()
    issue = ctx.issue(repo)
    entries = issue["times"]
    if ctx.query.get("user"):
        entries = [t for t in entries if t["user"] == ctx.query["user"].lower()]
    rendered = [ctx.store.render_time(t, issue, repo) for t in entries]
    return page(ctx, rendered, link=False)  # NOTES.md: X-Total-Count only


@handles("GET", "/repos/{owner}/{repo}/times")
def list_repo_times(ctx):
    """Every issue's tracked time in the repository, oldest first. Writers see everyone's;
    others only their own (a `user` filter for someone else is refused)."""
    repo = ctx.repo()
    writer = ctx.store.may_write_repo(ctx.login, repo)
    wanted = ctx.query.get("user", "").lower()
    if not writer and wanted and wanted != ctx.login:
        raise ApiError(403, "query by user not allowed; not enough rights")
    if not writer:
        wanted = ctx.login
    rendered = [
        ctx.store.render_time(entry, issue, repo)
        for issue in sorted(repo["issues"].values(), key=lambda i: i["number"])
        for entry in issue["times"]
        if not wanted or entry["user"] == wanted
    ]
    rendered.sort(key=lambda t: (t["created"], t["id"]))
    return page(ctx, rendered, link=False)  # NOTES.md: X-Total-Count only


@handles("POST", "/repos/{owner}/{repo}/issues/{index}/times")
def add_time(ctx):
    repo = ctx.writable_repo()
    issue = ctx.issue(repo)
    if not repo["time_tracking"]:
        raise ApiError(400, "time tracking disabled")
    seconds = ctx.body.get("time", 0)
    if seconds == 0:
        raise ApiError(400, "[Time]: Required")
    user = ctx.login
    named = ctx.body.get("user_name")
    if named and (ctx.store.is_admin(ctx.login) or ctx.login in repo["admins"]):
        user = ctx.store.user(named)["login"].lower()
    created = ctx.body.get("created")
    moment = datetime.datetime.fromisoformat(created.replace("Z", "+00:00")) if created else ctx.store.now()
    entry = {"id": ctx.store.next_id(), "user": user, "time": seconds, "created": moment}
    issue["times"].append(entry)
    return 200, ctx.store.render_time(entry, issue, repo), {}  # NOTES.md: 200, not 201


# -- admin: user accounts and their SSH keys -------------------------------------------------
#
# Sources (Forgejo, also v7-v11 unless said): routers/api/v1/api.go (route groups and their
# checks), routers/api/v1/admin/user.go (CreateUser, SearchUsers, CreatePublicKey,
# DeleteUserPublicKey), routers/api/v1/user/key.go (listPublicKeys, CreateUserPublicKey),
# routers/api/v1/repo/key.go (HandleCheckKeyStringError, HandleAddKeyError), models/user/user.go
# (createUser), models/asymkey (ssh_key.go AddPublicKey, ssh_key_parse.go), services/asymkey
# (DeletePublicKey), modules/validation (binding rules), services/context/api.go (APIContext.Error,
# NotFound).

# models/user/user.go reservedUsernames and reservedUserPatterns (Forgejo 17.0-dev; v11 also has
# "devtest" and lacks "report_abuse"; v7 also reserves commits, debug, devtest, error, new, raw,
# search and serviceworker.js).
RESERVED_USERNAMES = {
    ".", "..", "-", ".well-known", "api", "metrics", "v2", "assets", "attachments", "avatar",
    "avatars", "repo-avatars", "captcha", "login", "org", "repo", "user", "admin", "explore",
    "issues", "pulls", "milestones", "notifications", "report_abuse", "favicon.ico",
    "manifest.json", "robots.txt", "sitemap.xml", "ssh_info", "swagger.v1.json", "ghost",
    "gitea-actions", "forgejo-actions",
}
RESERVED_USER_PATTERNS = ["*.keys", "*.gpg", "*.rss", "*.atom", "*.png"]

# modules/validation/helpers.go IsValidUsername (ALLOW_DOTS_IN_USERNAMES defaults to true).
VALID_USERNAME = re.compile(r"^[\da-zA-Z][-.\w]*$", re.ASCII)
INVALID_USERNAME = re.compile(r"[-._]{2,}|[-._]$")

# modules/validation/email.go validateEmailBasic: net/mail.ParseAddress must accept the text as a
# bare address. Approximated by RFC 5322's addr-spec (dot-atom or quoted local part, dot-atom or
# literal domain; UTF-8 allowed as Go allows it); display names and comments are refused.
_ATEXT = r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\U0010ffff]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
EMAIL = re.compile(rf'^(?:{_DOT_ATOM}|"[^"\\\r\n]*")@(?:{_DOT_ATOM}|\[[^\[\]\\\s]*\])$')

# modules/auth/password/password.go charComplexities.
COMPLEXITY = {
    "lower": "abcdefghijklmnopqrstuvwxyz",
    "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "digit": "0123456789",
    "spec": " !\"#$%&'()*+,-./:;<=>?@[\\]^_{|}~`",
}


def require_site_admin(ctx):
    """reqSiteAdmin (routers/api/v1/permissions/req_site_admin.go)."""
    if not ctx.store.is_admin(ctx.login):
        raise ApiError(403, "user should be the site admin")


def internal_error(ctx, message):
    """APIContext.Error with 500: in production (RUN_MODE=prod, the default) the message is
    blank unless the doer is a site admin."""
    return ApiError(500, message if ctx.store.is_admin(ctx.login) else "")


class Binding:
    """go-chi/binding as Forgejo's `bind()` uses it: rules checked field by field in the
    struct's order, the first failing rule of a field ends that field, and the answer is 422
    "[Field]: message" for the first error."""

    def __init__(self, body):
        self.body = body

    def text(self, key, field, required=False, max_size=None, rule=None, allowed=None):
        value = self.body.get(key)
        value = "" if value is None else value
        if required and value == "":
            raise ApiError(422, f"[{field}]: Required")
        if rule is not None and (value != "" or required):
            problem = rule(value)
            if problem:
                raise ApiError(422, f"[{field}]: {problem}")
        if max_size is not None and len(value) > max_size:  # utf8.RuneCountInString
            raise ApiError(422, f"[{field}]: MaxSize")
        if allowed is not None and value not in allowed:
            raise ApiError(422, f"[{field}]: In")
        return value


def username_rule(value):
    if not VALID_USERNAME.match(value) or INVALID_USERNAME.search(value):
        return "invalid username"  # validation.ErrUsername
    return None


def email_rule(value):
    if not EMAIL.match(value):
        return f"e-mail invalid [email: {value}]"  # validation.ErrEmailInvalid
    return None


def alpha_dash_dot_rule(value):
    if re.search(r"[^0-9A-Za-z_\-.]", value):
        return "AlphaDashDot"
    return None


def password_complex_enough(store, password):
    """password.IsComplexEnough: "off" (the default) checks nothing; otherwise every named
    class (all four if none is known) must occur."""
    wanted = store.password_complexity
    if len(wanted) == 1 and wanted[0] == "off":
        return True
    classes = [COMPLEXITY[c] for c in wanted if c in COMPLEXITY] or list(COMPLEXITY.values())
    return all(any(ch in chars for ch in password) for chars in classes)


def sorted_users(users, order):
    """utils.GetDbSearchOrder: alphabetically (by name) unless `sort` says otherwise."""
    keys = {
        "oldest": (lambda u: (u["created"], u["id"]), False),
        "newest": (lambda u: (u["created"], u["id"]), True),
        "reversealphabetically": (lambda u: (u["login"], u["id"]), True),
        "recentupdate": (lambda u: (u["updated"], u["id"]), True),
        "leastupdate": (lambda u: (u["updated"], u["id"]), False),
    }
    key, reverse = keys.get(order, (lambda u: (u["login"], u["id"]), False))
    return sorted(users, key=key, reverse=reverse)


@handles("GET", "/admin/users")
def admin_list_users(ctx):
    """SearchUsers: individual users (not organisations), filtered by login_name, source_id and
    is_2fa_enabled (nobody has 2FA here), with X-Total-Count and Link."""
    require_site_admin(ctx)
    users = list(ctx.store.users.values())
    login_name = ctx.query.get("login_name", "").strip()
    if login_name:
        users = [u for u in users if u["login_name"] == login_name]
    source = ctx.query.get("source_id", "")
    if re.fullmatch(r"[+-]?\d+", source):
        users = [u for u in users if u["source_id"] == int(source)]
    if ctx.query.get("is_2fa_enabled", "").lower() in ("1", "t", "true"):
        users = []
    users = sorted_users(users, ctx.query.get("sort", ""))
    return page(ctx, users, lambda u: ctx.store.render_user(u, viewer=ctx.login))


@handles("POST", "/admin/users")
def admin_create_user(ctx):
    """CreateUser: binding (CreateUserOption), the login source, the password (400), then
    models/user createUser: reserved names, taken name (users and organisations), used e-mail
    (422). must_change_password defaults to true; the new user is active."""
    require_site_admin(ctx)
    store = ctx.store
    body = ctx.body
    form = Binding(body)
    username = form.text("username", "Username", required=True, rule=username_rule, max_size=40)
    full_name = form.text("full_name", "FullName", max_size=100)
    email = form.text("email", "Email", required=True, rule=email_rule, max_size=254)
    password = form.text("password", "Password", max_size=255)
    visibility = form.text("visibility", "Visibility", allowed=("", "public", "limited", "private"))

    source_id = body.get("source_id") or 0
    if source_id and source_id not in store.auth_sources:
        raise ApiError(422, f"login source does not exist [id: {source_id}]")  # auth.ErrSourceNotExist
    if not source_id:  # auth.Plain: a local password is needed
        if len(password.encode("utf-8")) < store.min_password_length:
            raise ApiError(400, "PasswordIsRequired")
        if not password_complex_enough(store, password):
            raise ApiError(400, "PasswordComplexity")
        # PASSWORD_CHECK_PWN defaults to false: no "PasswordPwned" check.

    lower = username.strip().lower()  # db.IsUsableName
    if lower in RESERVED_USERNAMES:
        raise ApiError(422, f"name is reserved [name: {lower}]")
    for pattern in RESERVED_USER_PATTERNS:
        if lower.endswith(pattern[1:]):
            raise ApiError(422, f"name pattern is not allowed [pattern: {pattern}]")
    if username.lower() in store.users or username.lower() in store.orgs:
        raise ApiError(422, f"user already exists [name: {username}]")
    if any(u["email"].lower() == email.lower() for u in store.users.values()):
        raise ApiError(422, f"e-mail already in use [email: {email}]")

    created = None
    if body.get("created_at"):
        created = parse_time(body["created_at"], "created_at").replace(microsecond=0)
    must_change = body.get("must_change_password")
    user = store.add_user(
        username,
        email=email,
        full_name=full_name,
        must_change_password=True if must_change is None else must_change,
        restricted=bool(body.get("restricted") or False),
        visibility=visibility or "public",
        login_name=body.get("login_name") or "",
        source_id=source_id,
        password=password,
        created=created,
    )
    return 201, store.render_user(user, viewer=ctx.login), {}


@handles("POST", "/admin/users/{username}/keys")
def admin_create_key(ctx):
    """CreatePublicKey -> CreateUserPublicKey: CheckPublicKeyString (422 "Invalid key content:
    ..."), then AddPublicKey: the fingerprint must be new across all users' keys, the title new
    among the user's keys. `read_only` is ignored: a user key always has write mode."""
    require_site_admin(ctx)
    store = ctx.store
    user = store.user(ctx.params["username"])
    form = Binding(ctx.body)
    title = form.text("title", "Title", required=True)
    text = form.text("key", "Key", required=True)
    try:
        content, parsed = sshkey.check_public_key_string(text)
    except sshkey.UnableToVerify:
        raise ApiError(422, "Unable to verify key content")
    except sshkey.NotPorted as error:
        raise ApiError(422, f"Invalid key content: {error}")
    except sshkey.GoError as error:
        raise ApiError(422, f"Invalid key content: {error}")
    found = sshkey.fingerprint(parsed)
    if any(k["fingerprint"] == found for k in store.keys.values()):
        raise ApiError(422, "Key content has been used as non-deploy key")  # ErrKeyAlreadyExist
    login = user["login"].lower()
    if any(k["owner"] == login and k["title"] == title for k in store.keys.values()):
        raise ApiError(422, "Key title has been used")  # ErrKeyNameAlreadyUsed
    key = store.add_key(login, title, content, found)
    return 201, store.render_key(key, ctx.login), {}


@handles("DELETE", "/admin/users/{username}/keys/{id}")
def admin_delete_key(ctx):
    """DeleteUserPublicKey -> asymkey_service.DeletePublicKey(user, id): an unknown key is 404;
    a key of another user is refused with 403 unless the named user is a site admin (Forgejo
    checks the named user's rights, not the doer's), in which case it is deleted."""
    require_site_admin(ctx)
    store = ctx.store
    user = store.user(ctx.params["username"])
    key = store.keys.get(int(ctx.params["id"]))
    if key is None:
        raise not_found()
    if not user["admin"] and key["owner"] != user["login"].lower():
        raise ApiError(403, "You do not have access to this key")
    del store.keys[key["id"]]
    return 204, None, {}


@handles("GET", "/users/{username}/keys")
def list_user_keys(ctx):
    """ListPublicKeys: the user's keys by id, paginated with X-Total-Count only (no Link);
    with `fingerprint`, every key of the user with that fingerprint, unpaginated. key_type,
    user and read_only only for site admins and the owner. An organisation has no keys."""
    store = ctx.store
    name = ctx.params["username"]
    if name.lower() in store.orgs and name.lower() not in store.users:
        return page(ctx, [], link=False)
    user = store.user(name)
    keys = store.keys_of(user["login"].lower())
    wanted = ctx.query.get("fingerprint", "")
    if wanted:
        found = [store.render_key(k, ctx.login) for k in keys if k["fingerprint"] == wanted]
        return 200, found, {"X-Total-Count": str(len(found))}
    return page(ctx, keys, lambda k: store.render_key(k, ctx.login), link=False)


# -- organisation teams ----------------------------------------------------------------------
#
# Sources: routers/api/v1/api.go (the /orgs/{org}/teams and /teams/{teamid} groups),
# routers/api/v1/permissions (ReqOrgMembership, ReqOrgOwnership, ReqTeamMembership; in v7-v11
# the same functions live in api.go), routers/api/v1/org/team.go, models/org_team.go (NewTeam,
# InsertTeamMember, removeTeamMember), models/organization (team.go, org.go), services/convert.


def team_org(ctx):
    """orgAssignment: the organisation, or NotFound("GetOrgByName", redirect error)."""
    name = ctx.params["org"]
    org = ctx.store.orgs.get(name.lower())
    if org is None:
        raise not_found("GetOrgByName", f"user redirect does not exist [name: {name}]")
    return org


def require_org_member(ctx, org):
    """reqOrgMembership on an /orgs/{org} route."""
    if ctx.store.is_admin(ctx.login) or ctx.login in ctx.store.org_members(org):
        return
    raise ApiError(403, "Must be an organization member")


def require_org_owner(ctx, org, via_team=False):
    """reqOrgOwnership: 403 on /orgs/{org} routes, but 404 on /teams/{id} routes (there the
    context holds a team, not an organisation)."""
    if ctx.store.is_admin(ctx.login) or ctx.login in org["owners"]:
        return
    if via_team:
        raise not_found()
    raise ApiError(403, "Must be an organization owner")


def visible_team(ctx):
    """orgTeamAssignment and reqTeamMembership: site admins, org owners and the team's members
    pass; other org members get 403, everyone else 404."""
    team = ctx.store.team(ctx.params["id"])
    org = team["org"]
    if ctx.store.is_admin(ctx.login) or ctx.login in org["owners"] or ctx.login in team["members"]:
        return team
    if ctx.login in ctx.store.org_members(org):
        raise ApiError(403, "Must be a team member")
    raise not_found()


@handles("GET", "/orgs/{org}/teams")
def list_org_teams(ctx):
    """ListTeams: by lower name, paginated with X-Total-Count only (no Link), without the
    organisation (ToTeams(..., false))."""
    org = team_org(ctx)
    require_org_member(ctx, org)
    teams = sorted(org["teams"].values(), key=lambda t: (t["name"].lower(), t["id"]))
    return page(ctx, teams, lambda t: ctx.store.render_team(t, False), link=False)


@handles("POST", "/orgs/{org}/teams")
def create_org_team(ctx):
    """CreateTeam. `permission` read/write/admin; below admin, a non-empty units_map lowers the
    team's permission to the least unit permission above none (MinUnitAccessMode, ignoring the
    external tracker and wiki) and gives the units their own modes; else the deprecated `units`
    get the team's permission (unknown names dropped); with neither Forgejo fails with 500
    "units permission should not be empty". Admin teams get every unit. A duplicate name
    (case-insensitive) is 422 ErrTeamAlreadyExist; the name "new" is reserved, which Forgejo
    answers with 500."""
    org = team_org(ctx)
    require_org_member(ctx, org)
    require_org_owner(ctx, org)
    store = ctx.store
    body = ctx.body
    form = Binding(body)
    name = form.text("name", "Name", required=True, rule=alpha_dash_dot_rule, max_size=255)
    description = form.text("description", "Description", max_size=255)
    units_map = body.get("units_map") or {}
    units = body.get("units") or []
    mode = parse_access_mode(body.get("permission") or "")
    if mode < ADMIN and units_map:
        least = NONE
        for key, value in units_map.items():
            if unit_key(key) in EXTERNAL_UNITS:
                continue
            unit_mode = parse_access_mode(value)
            if unit_mode > NONE and (least == NONE or unit_mode < least):
                least = unit_mode
        mode = least
    team_units = None
    if mode < ADMIN:
        if units_map:
            team_units = [(unit_key(k), ACCESS_MODES[parse_access_mode(v)]) for k, v in units_map.items()]
        elif units:
            seen = []
            for item in units:
                found = unit_key(item)
                if found and found not in seen:
                    seen.append(found)
            team_units = [(k, ACCESS_MODES[mode]) for k in seen]
        else:
            raise internal_error(ctx, "units permission should not be empty")
    if name == "new":  # organization.IsUsableTeamName -> db.ErrNameReserved, not a 422 there
        raise internal_error(ctx, "name is reserved [name: new]")
    if any(t["name"].lower() == name.lower() for t in org["teams"].values()):
        raise ApiError(422, f"team already exists [org_id: {org['id']}, name: {name.lower()}]")
    team = store.new_team(
        org,
        name,
        ACCESS_MODES[mode],
        team_units,
        description=description,
        includes_all=bool(body.get("includes_all_repositories") or False),
        can_create_org_repo=bool(body.get("can_create_org_repo") or False),
    )
    return 201, store.render_team(team, True), {}


@handles("GET", "/teams/{id}")
def get_team(ctx):
    return 200, ctx.store.render_team(visible_team(ctx), True), {}


@handles("GET", "/teams/{id}/members")
def list_team_members(ctx):
    """GetTeamMembers: ordered by full name then name, paginated with X-Total-Count (the team's
    member count) only, each rendered for the doer (ToUser(member, doer))."""
    team = visible_team(ctx)
    members = sorted((ctx.store.users[m] for m in team["members"]), key=lambda u: (u["full_name"], u["login"]))
    return page(ctx, members, lambda u: ctx.store.render_user(u, viewer=ctx.login), link=False)


@handles("PUT", "/teams/{id}/members/{username}")
def add_team_member(ctx):
    """AddTeamMember: org owners and site admins (others: 404); 404 NotFound("GetUserByName")
    for an unknown user; adding a member again changes nothing and answers 204 too
    (InsertTeamMember returns early). The user becomes an organisation member."""
    team = visible_team(ctx)
    require_org_owner(ctx, team["org"], via_team=True)
    user = ctx.store.user_by_params(ctx.params["username"])
    team["members"].add(user["login"].lower())
    return 204, None, {}


@handles("DELETE", "/teams/{id}/members/{username}")
def remove_team_member(ctx):
    """RemoveTeamMember: removing a non-member changes nothing and answers 204; removing the last
    member of the Owners team fails with ErrLastOrgOwner, which the API answers with 500 (its
    message blank in production unless the doer is a site admin)."""
    team = visible_team(ctx)
    require_org_owner(ctx, team["org"], via_team=True)
    user = ctx.store.user_by_params(ctx.params["username"])
    login = user["login"].lower()
    if login not in team["members"]:
        return 204, None, {}
    if team["name"] == OWNER_TEAM_NAME and len(team["members"]) == 1:
        raise internal_error(ctx, f"user is the last member of owner team [uid: {user['id']}]")
    team["members"].discard(login)
    return 204, None, {}
