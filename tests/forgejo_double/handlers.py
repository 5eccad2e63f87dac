"""The operations the double implements, each as Forgejo behaves (NOTES.md): status codes
(PATCH issue 201, POST tracked time 200), label filters with "all of" semantics, a search
index that lags behind, exclusive labels, tracked time booked to the token's user unless an
admin names another, and so on. Every other operation of the spec answers 501."""

import datetime
import re

from paging import paginate
from store import ApiError, label_scope, normalize_color

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
