"""What the double remembers — users (with their SSH keys), tokens, organisations (with their
teams), repositories, labels, milestones, issues, comments and tracked times — and how each is
rendered as Forgejo renders it (unset values as JSON null, colours lowercase without '#', times
in the server's time zone)."""

import datetime
import re

import sshkey

COLOR = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")

# The creation time of fixture users (Forgejo renders `created` from created_unix).
FIXTURE_CREATED = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)

# models/perm/access_mode.go: AccessMode and its String().
ACCESS_MODES = ["none", "read", "write", "admin", "owner"]
NONE, READ, WRITE, ADMIN, OWNER = range(5)

# models/unit/unit.go: the repository units in type order (TypeCode = 1 ... TypeActions = 10),
# by their NameKey. ExternalWiki and ExternalTracker can only be read.
UNIT_KEYS = [
    "repo.code",
    "repo.issues",
    "repo.pulls",
    "repo.releases",
    "repo.wiki",
    "repo.ext_wiki",
    "repo.ext_issues",
    "repo.projects",
    "repo.packages",
    "repo.actions",
]
EXTERNAL_UNITS = {"repo.ext_wiki", "repo.ext_issues"}

OWNER_TEAM_NAME = "Owners"  # models/organization/team.go OwnerTeamName


def parse_access_mode(text):
    """perm.ParseAccessMode: "read", "write" and "admin"; anything else is none."""
    return {"read": READ, "write": WRITE, "admin": ADMIN}.get(text, NONE)


def unit_key(text):
    """unit.TypeFromKey: the unit's NameKey (matched case-insensitively), or "" for TypeInvalid
    (whose NameKey Forgejo renders as "")."""
    return next((k for k in UNIT_KEYS if k.lower() == str(text).lower()), "")


class ApiError(Exception):
    """An error answer: status and Forgejo's `{"message", "url"}` body; `errors` adds the
    "errors" list of `ctx.NotFound(...)` answers (APINotFound)."""

    def __init__(self, status, message, errors=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def not_found(title=None, error=None):
    """`ctx.NotFound(objs...)` (services/context/api.go): a string argument replaces the
    message "The target couldn't be found." (error.not_found), an error's text goes to
    "errors" (always present, maybe empty)."""
    return ApiError(404, title or "The target couldn't be found.", [error] if error else [])


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
        # modules/setting/security.go: MIN_PASSWORD_LENGTH (8) and PASSWORD_COMPLEXITY ("off").
        self.min_password_length = fixture.get("min_password_length", 8)
        self.password_complexity = [c.lower() for c in fixture.get("password_complexity", ["off"])]
        # Ids of the authentication sources (LDAP, ...) a user may be created with.
        self.auth_sources = set(fixture.get("auth_sources", []))
        self.users = {}
        self.keys = {}
        for user in fixture.get("users", []):
            login = user["login"]
            self.add_user(
                login,
                email=user.get("email", f"{login}@example.invalid"),
                admin=user.get("admin", False),
                full_name=user.get("full_name", ""),
                must_change_password=user.get("must_change_password", False),
                restricted=user.get("restricted", False),
                visibility=user.get("visibility", "public"),
                login_name=user.get("login_name", ""),
                source_id=user.get("source_id", 0),
                password=user.get("password", ""),
                created=FIXTURE_CREATED,
            )
            for number, key in enumerate(user.get("keys", []), start=1):
                try:
                    content, parsed = sshkey.check_public_key_string(key["key"])
                except sshkey.GoError as error:
                    raise ValueError(f"fixture key of {login}: {error}")
                found = sshkey.fingerprint(parsed)
                if any(k["fingerprint"] == found for k in self.keys.values()):
                    raise ValueError(f"fixture key of {login}: {found} is already registered")
                self.add_key(login.lower(), key.get("title") or f"fixture key {number}", content, found)
        self.tokens = {t["token"]: {"user": t["user"].lower(), "scopes": set(t.get("scopes", ["all"]))} for t in fixture.get("tokens", [])}
        self.orgs = {}
        for org in fixture.get("orgs", []):
            self.add_org(org)
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

    # -- users, keys, organisations and teams ----------------------------------------------

    def add_user(self, login, email, admin=False, full_name="", must_change_password=True, restricted=False,
                 visibility="public", login_name="", source_id=0, password="", created=None):
        created = created or self.now()
        user = {
            "id": self.next_id(),
            "login": login,
            "admin": admin,
            "email": email,
            "full_name": full_name,
            "login_name": login_name,
            "source_id": source_id,
            "must_change_password": must_change_password,
            "restricted": restricted,
            "visibility": visibility,
            "password": password,
            "created": created,
            "updated": created,
        }
        self.users[login.lower()] = user
        return user

    def add_key(self, owner, title, content, fingerprint):
        """A user's SSH key (Forgejo's KeyTypeUser, mode write: `read_only` is always false)."""
        now = self.now()
        key = {
            "id": self.next_id(),
            "owner": owner,
            "title": title,
            "content": content,
            "fingerprint": fingerprint,
            "created": now,
            "updated": now,
            "read_only": False,
            "verified": False,
        }
        self.keys[key["id"]] = key
        return key

    def keys_of(self, login):
        return [k for k in sorted(self.keys.values(), key=lambda k: k["id"]) if k["owner"] == login]

    def new_team(self, org, name, permission, units, description="", includes_all=False, can_create_org_repo=False, members=None):
        """A team: `permission` one of ACCESS_MODES; `units` the (NameKey, access mode) pairs of a
        team below admin (None for admin and owner teams, which get every unit)."""
        team = {
            "id": self.next_id(),
            "org": org,
            "name": name,
            "description": description,
            "permission": permission,
            "units": units,
            "includes_all_repositories": includes_all,
            "can_create_org_repo": can_create_org_repo,
            "members": members if members is not None else set(),
        }
        org["teams"][team["id"]] = team
        return team

    def add_org(self, spec):
        """An organisation with its Owners team (as CreateOrganization makes it: permission
        owner, every repository, may create repositories), whose members are the org's owners,
        and the fixture's other teams."""
        for login in spec.get("owners", []) + [m for t in spec.get("teams", []) for m in t.get("members", [])]:
            if login.lower() not in self.users:
                raise ValueError(f"fixture org {spec['name']}: unknown user {login}")
        org = {"id": self.next_id(), "name": spec["name"], "owners": {o.lower() for o in spec.get("owners", [])}, "teams": {}}
        self.orgs[spec["name"].lower()] = org
        self.new_team(org, OWNER_TEAM_NAME, "owner", None, includes_all=True, can_create_org_repo=True, members=org["owners"])
        for team in spec.get("teams", []):
            members = {m.lower() for m in team.get("members", [])}
            if team["name"].lower() == OWNER_TEAM_NAME.lower():
                org["owners"] |= members
                continue
            permission = team.get("permission", "read")
            mode = ACCESS_MODES.index(permission)
            units = None
            if mode < ADMIN:
                if "units_map" in team:
                    units = [(unit_key(k), ACCESS_MODES[parse_access_mode(v)]) for k, v in team["units_map"].items()]
                else:
                    units = [(k, "read" if k in EXTERNAL_UNITS and mode > READ else permission) for k in UNIT_KEYS]
            self.new_team(
                org,
                team["name"],
                permission,
                units,
                description=team.get("description", ""),
                includes_all=team.get("includes_all_repositories", False),
                can_create_org_repo=team.get("can_create_org_repo", False),
                members=members,
            )
        return org

    def org_members(self, org):
        """Everyone in one of the organisation's teams (team membership makes org membership)."""
        members = set()
        for team in org["teams"].values():
            members |= team["members"]
        return members

    def now(self):
        return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

    def time_text(self, moment):
        return None if moment is None else moment.astimezone(self.zone).isoformat()

    # -- lookups ---------------------------------------------------------------------------

    def user(self, login):
        """The user of a `{username}` route (context.UserAssignmentAPI), or its 404."""
        found = self.users.get((login or "").lower())
        if not found:
            raise ApiError(404, f"user redirect does not exist [name: {login}]")
        return found

    def user_by_params(self, login):
        """The user a handler looks up itself (routers/api/v1/user/helper.go
        GetUserByParamsName), or its 404: NotFound("GetUserByName", ErrUserNotExist)."""
        found = self.users.get((login or "").lower())
        if not found:
            raise not_found("GetUserByName", f"user does not exist [uid: 0, name: {login}]")
        return found

    def team(self, team_id):
        """The team of a `/teams/{id}` route (orgTeamAssignment), or its 404."""
        for org in self.orgs.values():
            if int(team_id) in org["teams"]:
                return org["teams"][int(team_id)]
        raise not_found()

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

    def render_user(self, user, viewer=None):
        """services/convert/user.go ToUser(user, doer): only the user and site admins see
        is_admin, login_name, source_id, last_login, language, active and prohibit_login;
        others get zero values. `viewer` None renders the full view (as the double always did)."""
        login = user["login"]
        authed = viewer is None or viewer == login.lower() or self.is_admin(viewer)
        return {
            "id": user["id"],
            "login": login,
            "login_name": user.get("login_name", "") if authed else "",
            "source_id": user.get("source_id", 0) if authed else 0,
            "full_name": user.get("full_name", ""),
            "email": user.get("email") or f"{login}@noreply.localhost",
            "avatar_url": f"{self.app_url}avatars/{login}",
            "html_url": f"{self.app_url}{login}",
            "language": "",
            "is_admin": user["admin"] if authed else False,
            # last_login_unix 0 for everyone here; Go's zero time.Time when hidden.
            "last_login": "1970-01-01T00:00:00Z" if authed else "0001-01-01T00:00:00Z",
            "created": self.time_text(user["created"]) if "created" in user else "2026-01-01T00:00:00Z",
            "restricted": user.get("restricted", False),
            "active": authed,
            "prohibit_login": False,
            "location": "",
            "pronouns": "",
            "website": "",
            "description": "",
            "visibility": user.get("visibility", "public"),
            "followers_count": 0,
            "following_count": 0,
            "starred_repos_count": 0,
            "username": login,
        }

    def render_key(self, key, viewer):
        """services/convert ToPublicKey, plus appendPrivateInformation (key_type, user, read_only)
        for site admins and the key's owner (routers/api/v1/user/key.go). The Go struct has
        `url,omitempty`, `title,omitempty`, `user,omitempty`, `read_only,omitempty`, `key_type,omitempty`:
        a user key's read_only is always false, so it is never sent."""
        body = {
            "id": key["id"],
            "key": key["content"],
            "url": f"{self.app_url}api/v1/user/keys/{key['id']}",
            "title": key["title"],
            "fingerprint": key["fingerprint"],
            "created_at": self.time_text(key["created"]),
            "updated_at": self.time_text(key["updated"]),
            "verified": key["verified"],
        }
        if not key["title"]:
            del body["title"]
        if self.is_admin(viewer) or viewer == key["owner"]:
            owner = self.users[key["owner"]]
            body["user"] = self.render_user(owner, viewer=key["owner"])  # ToUser(owner, owner)
            body["key_type"] = "user"
            if key["read_only"]:
                body["read_only"] = True
        return body

    def render_team(self, team, with_org):
        """services/convert ToTeams(teams, loadOrgs): the organisation only when asked (GET and
        POST of one team), null in lists. Admin and owner teams list every unit at their own
        permission (Team.GetUnitNames / GetUnitsMap; Go iterates a map there, the double
        lists them in unit type order)."""
        permission = team["permission"]
        if ACCESS_MODES.index(permission) >= ADMIN:
            units = list(UNIT_KEYS)
            units_map = {k: permission for k in UNIT_KEYS}
        else:
            units = [k for k, _ in team["units"]]
            units_map = {k: mode for k, mode in team["units"]}
        return {
            "id": team["id"],
            "name": team["name"],
            "description": team["description"],
            "organization": self.render_org(team["org"]) if with_org else None,
            "includes_all_repositories": team["includes_all_repositories"],
            "permission": permission,
            "units": units,
            "units_map": units_map,
            "can_create_org_repo": team["can_create_org_repo"],
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
        return {"repos": repos, "org_labels": org_labels, "users": self.dump_users(), "orgs": self.dump_orgs()}

    def logins(self, lowered):
        return sorted(self.users[l]["login"] for l in lowered)

    def dump_users(self):
        """Every user by login: account fields and SSH keys."""
        users = {}
        for user in sorted(self.users.values(), key=lambda u: u["id"]):
            users[user["login"]] = {
                "id": user["id"],
                "login": user["login"],
                "email": user["email"],
                "full_name": user["full_name"],
                "login_name": user["login_name"],
                "source_id": user["source_id"],
                "is_admin": user["admin"],
                "must_change_password": user["must_change_password"],
                "restricted": user["restricted"],
                "visibility": user["visibility"],
                "password": user["password"],
                "created": self.time_text(user["created"]),
                "keys": [
                    {
                        "id": k["id"],
                        "title": k["title"],
                        "fingerprint": k["fingerprint"],
                        "key": k["content"],
                        "read_only": k["read_only"],
                        "created_at": self.time_text(k["created"]),
                    }
                    for k in self.keys_of(user["login"].lower())
                ],
            }
        return users

    def dump_orgs(self):
        """Every organisation by name: owners, members and teams (by lower name, as listed)."""
        orgs = {}
        for org in self.orgs.values():
            teams = sorted(org["teams"].values(), key=lambda t: (t["name"].lower(), t["id"]))
            orgs[org["name"]] = {
                "id": org["id"],
                "owners": self.logins(org["owners"]),
                "members": self.logins(self.org_members(org)),
                "teams": [
                    {
                        "id": t["id"],
                        "name": t["name"],
                        "description": t["description"],
                        "permission": t["permission"],
                        "units_map": self.render_team(t, False)["units_map"],
                        "includes_all_repositories": t["includes_all_repositories"],
                        "can_create_org_repo": t["can_create_org_repo"],
                        "members": self.logins(t["members"]),
                    }
                    for t in teams
                ],
            }
        return orgs
