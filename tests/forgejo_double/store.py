"""What the double remembers — users, tokens, organisations, repositories, labels, milestones,
issues, comments and tracked times — and how each is rendered as Forgejo renders it (unset
values as JSON null, colours lowercase without '#', times in the server's time zone)."""

import datetime
import re

COLOR = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


class ApiError(Exception):
    """An error answer: status and Forgejo's `{"message", "url"}` body."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def normalize_color(text):
    """Forgejo's colour normalisation: lowercase, no '#', three digits doubled."""
    match = COLOR.match(text or "")
    if not match:
        raise ApiError(422, f"[Color]: invalid color {text!r}")
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return digits


def label_scope(name):
    """The scope of a scoped label (`status/open` -> `status`), or None."""
    cut = name.rfind("/")
    return name[:cut] if 0 < cut < len(name) - 1 else None


class Store:
    """The whole state of the double."""

    def __init__(self, fixture, app_url):
        self.app_url = app_url
        self.zone = datetime.timezone(datetime.timedelta(minutes=fixture.get("utc_offset_minutes", 60)))
        self.ids = 0
        self.users = {}
        for user in fixture.get("users", []):
            self.users[user["login"].lower()] = {"id": self.next_id(), "login": user["login"], "admin": user.get("admin", False)}
        self.tokens = {t["token"]: {"user": t["user"].lower(), "scopes": set(t.get("scopes", ["all"]))} for t in fixture.get("tokens", [])}
        self.orgs = {}
        for org in fixture.get("orgs", []):
            self.orgs[org["name"].lower()] = {
                "id": self.next_id(),
                "name": org["name"],
                "owners": {o.lower() for o in org.get("owners", [])},
            }
        self.repos = {}
        for repo in fixture.get("repos", []):
            key = (repo["owner"].lower(), repo["name"].lower())
            self.repos[key] = {
                "id": self.next_id(),
                "owner": self.orgs[repo["owner"].lower()],
                "name": repo["name"],
                "has_issues": repo.get("has_issues", True),
                "time_tracking": repo.get("time_tracking", True),
                "writers": {w.lower() for w in repo.get("writers", [])},
                "admins": {a.lower() for a in repo.get("admins", [])},
                "issues": {},
                "milestones": {},
            }
        self.labels = {}

    def next_id(self):
        self.ids += 1
        return self.ids

    def now(self):
        return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

    def time_text(self, moment):
        return None if moment is None else moment.astimezone(self.zone).isoformat()

    # -- lookups ---------------------------------------------------------------------------

    def user(self, login):
        found = self.users.get((login or "").lower())
        if not found:
            raise ApiError(404, f"user redirect does not exist [name: {login}]")
        return found

    def org(self, name):
        found = self.orgs.get(name.lower())
        if not found:
            raise ApiError(404, "The target couldn't be found.")
        return found

    def repo(self, owner, name):
        found = self.repos.get((owner.lower(), name.lower()))
        if not found:
            raise ApiError(404, "The target couldn't be found.")
        return found

    def issue(self, repo, index):
        found = repo["issues"].get(int(index))
        if not found:
            raise ApiError(404, "The target couldn't be found.")
        return found

    def is_admin(self, login):
        return self.users.get(login, {}).get("admin", False)

    def may_write_repo(self, login, repo):
        return self.is_admin(login) or login in repo["writers"] or login in repo["admins"] or login in repo["owner"]["owners"]

    def may_admin_org(self, login, org):
        return self.is_admin(login) or login in org["owners"]

    def labels_of(self, repo):
        """Labels usable on the repository's issues: its own and its organisation's."""
        return [l for l in self.labels.values() if l["repo"] is repo or l["org"] is repo["owner"]]

    # -- rendering -------------------------------------------------------------------------

    def render_user(self, user):
        login = user["login"]
        return {
            "id": user["id"],
            "login": login,
            "login_name": "",
            "source_id": 0,
            "full_name": "",
            "email": f"{login}@noreply.localhost",
            "avatar_url": f"{self.app_url}avatars/{login}",
            "html_url": f"{self.app_url}{login}",
            "language": "",
            "is_admin": user["admin"],
            "last_login": "1970-01-01T00:00:00Z",
            "created": "2026-01-01T00:00:00Z",
            "restricted": False,
            "active": True,
            "prohibit_login": False,
            "location": "",
            "pronouns": "",
            "website": "",
            "description": "",
            "visibility": "public",
            "followers_count": 0,
            "following_count": 0,
            "starred_repos_count": 0,
            "username": login,
        }

    def render_org(self, org):
        return {
            "id": org["id"],
            "name": org["name"],
            "username": org["name"],
            "full_name": "",
            "email": "",
            "avatar_url": f"{self.app_url}avatars/{org['name']}",
            "description": "",
            "website": "",
            "location": "",
            "visibility": "public",
            "repo_admin_change_team_access": False,
        }

    def render_repo(self, repo, login):
        full = f"{repo['owner']['name']}/{repo['name']}"
        owner = {**self.render_user({"id": repo["owner"]["id"], "login": repo["owner"]["name"], "admin": False})}
        open_issues = sum(1 for i in repo["issues"].values() if i["state"] == "open")
        return {
            "id": repo["id"],
            "owner": owner,
            "name": repo["name"],
            "full_name": full,
            "description": "",
            "empty": False,
            "private": False,
            "fork": False,
            "template": False,
            "parent": None,
            "mirror": False,
            "size": 0,
            "html_url": f"{self.app_url}{full}",
            "url": f"{self.app_url}api/v1/repos/{full}",
            "clone_url": f"{self.app_url}{full}.git",
            "default_branch": "main",
            "archived": False,
            "archived_at": "1970-01-01T00:00:00Z",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "open_issues_count": open_issues,
            "has_issues": repo["has_issues"],
            "internal_tracker": {
                "enable_time_tracker": repo["time_tracking"],
                "allow_only_contributors_to_track_time": True,
                "enable_issue_dependencies": True,
            },
            "permissions": {"admin": self.is_admin(login), "push": self.may_write_repo(login, repo), "pull": True},
        }

    def render_label(self, label):
        return {
            "id": label["id"],
            "name": label["name"],
            "exclusive": label["exclusive"],
            "is_archived": label["is_archived"],
            "color": label["color"],
            "description": label["description"],
            "url": f"{self.app_url}api/v1/labels/{label['id']}",
        }

    def render_milestone(self, milestone, repo):
        issues = [i for i in repo["issues"].values() if i["milestone"] == milestone["id"]]
        return {
            "id": milestone["id"],
            "title": milestone["title"],
            "description": milestone["description"],
            "state": milestone["state"],
            "open_issues": sum(1 for i in issues if i["state"] == "open"),
            "closed_issues": sum(1 for i in issues if i["state"] == "closed"),
            "created_at": self.time_text(milestone["created"]),
            "updated_at": self.time_text(milestone["updated"]),
            "closed_at": self.time_text(milestone["closed_at"]),
            "due_on": None,
        }

    def render_issue(self, issue, repo):
        full = f"{repo['owner']['name']}/{repo['name']}"
        assignees = [self.render_user(self.users[a]) for a in issue["assignees"]]
        milestone = repo["milestones"].get(issue["milestone"]) if issue["milestone"] else None
        return {
            "id": issue["id"],
            "url": f"{self.app_url}api/v1/repos/{full}/issues/{issue['number']}",
            "html_url": f"{self.app_url}{full}/issues/{issue['number']}",
            "number": issue["number"],
            "user": self.render_user(self.users[issue["poster"]]),
            "original_author": "",
            "original_author_id": 0,
            "title": issue["title"],
            "body": issue["body"],
            "ref": "",
            "assets": [],
            "labels": [self.render_label(self.labels[i]) for i in issue["labels"]],
            "milestone": self.render_milestone(milestone, repo) if milestone else None,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees or None,
            "state": issue["state"],
            "is_locked": False,
            "comments": len(issue["comments"]),
            "created_at": self.time_text(issue["created"]),
            "updated_at": self.time_text(issue["updated"]),
            "closed_at": self.time_text(issue["closed_at"]),
            "due_date": None,
            "pull_request": None,
            "repository": {"id": repo["id"], "name": repo["name"], "owner": repo["owner"]["name"], "full_name": full},
            "pin_order": 0,
        }

    def render_comment(self, comment, issue, repo):
        full = f"{repo['owner']['name']}/{repo['name']}"
        return {
            "id": comment["id"],
            "html_url": f"{self.app_url}{full}/issues/{issue['number']}#issuecomment-{comment['id']}",
            "pull_request_url": "",
            "issue_url": f"{self.app_url}{full}/issues/{issue['number']}",
            "user": self.render_user(self.users[comment["user"]]),
            "original_author": "",
            "original_author_id": 0,
            "body": comment["body"],
            "assets": [],
            "created_at": self.time_text(comment["created"]),
            "updated_at": self.time_text(comment["created"]),
        }

    def render_time(self, entry, issue, repo):
        user = self.users[entry["user"]]
        return {
            "id": entry["id"],
            "created": self.time_text(entry["created"]),
            "time": entry["time"],
            "user_id": user["id"],
            "user_name": user["login"],
            "issue_id": issue["id"],
            "issue": self.render_issue(issue, repo),
        }

    def dump(self):
        """Everything, for the tests' assertions."""
        repos = {}
        for repo in self.repos.values():
            full = f"{repo['owner']['name']}/{repo['name']}"
            repos[full] = {
                "issues": [
                    {
                        **self.render_issue(i, repo),
                        "comment_bodies": [c["body"] for c in i["comments"]],
                        "times": [self.render_time(t, i, repo) for t in i["times"]],
                    }
                    for i in sorted(repo["issues"].values(), key=lambda i: i["number"])
                ],
                "milestones": [self.render_milestone(m, repo) for m in repo["milestones"].values()],
                "labels": [self.render_label(l) for l in self.labels.values() if l["repo"] is repo],
            }
        org_labels = {}
        for org in self.orgs.values():
            org_labels[org["name"]] = [self.render_label(l) for l in self.labels.values() if l["org"] is org]
        return {"repos": repos, "org_labels": org_labels}
