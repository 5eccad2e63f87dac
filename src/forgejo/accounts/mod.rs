//! Forgejo accounts follow the ledger (`smartup forgejo provision`): every owner has a user
//! account named by their handle, their ledger-registered SSH keys on it (the key that signs
//! entries also pushes), and membership of the organisation's teams their roles and licenses
//! give: one team per ledger team, the workplace team for Work and Organizational licenses,
//! the general forum team for everyone. Desired (from the ledger) → observed (from Forgejo) →
//! plan → apply, like the sync; a second run plans nothing.
//!
//! Only what the ledger manages is touched: accounts of owners, keys whose fingerprints the
//! ledger knows (valid ones are added, revoked ones removed), and the managed teams'
//! membership of owners. Other users, keys a user added themselves, other teams and members
//! who are not owners are left alone.

pub mod remote;

use crate::rules::state::{State, LEADERSHIP_TEAM};
use std::collections::{BTreeMap, BTreeSet};

/// The team of all owners (the general forum).
pub const FORUM_TEAM: &str = "1_general_forum";
/// The team of everyone with a Work or Organizational license (the workplace).
pub const WORKPLACE_TEAM: &str = "2_workplace";

/// An owner's account as the ledger wants it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredUser {
    /// The handle: the Forgejo user name.
    pub login: String,
    /// The e-mail for a new account, and where it came from; `None` when nobody knows one.
    pub email: Option<(String, &'static str)>,
    /// Valid keys: fingerprint → OpenSSH line.
    pub keys: BTreeMap<String, String>,
    /// Fingerprints of the owner's keys the ledger revoked.
    pub revoked: BTreeSet<String>,
}

/// A managed team and the owners who belong in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredTeam {
    /// Its name in the organisation.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Owners who belong in it.
    pub members: BTreeSet<String>,
}

/// Everything the ledger wants of Forgejo's accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired {
    /// One per owner, by handle.
    pub users: Vec<DesiredUser>,
    /// The managed teams.
    pub teams: Vec<DesiredTeam>,
}

/// Where e-mails for new accounts come from: the private identity file's (by handle), else
/// `handle@placeholder_domain` when the admin set one.
pub struct Emails<'a> {
    /// E-mails by handle, from the private identity file.
    pub known: &'a BTreeMap<String, String>,
    /// The admin's placeholder domain, if any.
    pub placeholder_domain: Option<&'a str>,
}

/// What the ledger at `state` wants.
pub fn desired(state: &State, emails: &Emails) -> Desired {
    let mut users: Vec<DesiredUser> = state
        .owners
        .keys()
        .map(|handle| {
            let email = match (emails.known.get(handle), emails.placeholder_domain) {
                (Some(email), _) => Some((email.clone(), "the identity file")),
                (None, Some(domain)) => Some((format!("{handle}@{domain}"), "the placeholder domain")),
                (None, None) => None,
            };
            let mine = state.keys.iter().filter(|(_, k)| &k.owner == handle);
            let (valid, revoked): (Vec<_>, Vec<_>) = mine.partition(|(_, k)| k.revoked.is_none());
            DesiredUser {
                login: handle.clone(),
                email,
                keys: valid.into_iter().map(|(fp, k)| (fp.clone(), k.public.to_openssh())).collect(),
                revoked: revoked.into_iter().map(|(fp, _)| fp.clone()).collect(),
            }
        })
        .collect();
    users.sort_by(|a, b| a.login.cmp(&b.login));
    let everyone: BTreeSet<String> = state.owners.keys().cloned().collect();
    let workers: BTreeSet<String> = state
        .owners
        .iter()
        .filter(|(_, o)| state.policy.licenses.get(&o.license).is_some_and(|l| l.earns_sc))
        .map(|(h, _)| h.clone())
        .collect();
    let mut teams = vec![
        DesiredTeam {
            name: FORUM_TEAM.into(),
            description: "The general forum: every owner (managed by smartup from the ledger)".into(),
            members: everyone,
        },
        DesiredTeam {
            name: WORKPLACE_TEAM.into(),
            description: "The workplace: every owner with a Work or Organizational license (managed by smartup from the ledger)".into(),
            members: workers,
        },
    ];
    for (identity, team) in &state.teams {
        let members = state
            .roles
            .values()
            .filter(|r| &r.team == identity)
            .filter_map(|r| r.holder.clone())
            .collect();
        let what = if identity == LEADERSHIP_TEAM {
            "the leadership team"
        } else {
            "a team"
        };
        teams.push(DesiredTeam {
            name: team.id.clone(),
            description: format!(
                "{}: {what} of the ledger, its role holders (managed by smartup from the ledger)",
                team.name
            ),
            members,
        });
    }
    Desired { users, teams }
}

/// A key on a Forgejo account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedKey {
    /// Forgejo's id of the key.
    pub id: i64,
    /// Its fingerprint (`SHA256:...`).
    pub fingerprint: String,
}

/// A team of the organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedTeam {
    /// Forgejo's id.
    pub id: i64,
    /// Its members' user names (lower case: Forgejo's names are case-insensitive).
    pub members: BTreeSet<String>,
}

/// What Forgejo holds of what the ledger manages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// Accounts of owners that exist, by lower-case user name, with their keys.
    pub users: BTreeMap<String, Vec<ObservedKey>>,
    /// The organisation's teams by name.
    pub teams: BTreeMap<String, ObservedTeam>,
}

/// One change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Create an owner's account (a random first password they must change at first login).
    CreateUser {
        /// User name.
        login: String,
        /// Its e-mail.
        email: String,
        /// Where the e-mail came from.
        from: &'static str,
    },
    /// Add a ledger key to an account.
    AddKey {
        /// User name.
        login: String,
        /// The key's fingerprint.
        fingerprint: String,
        /// The key (OpenSSH line).
        key: String,
    },
    /// Remove a key the ledger revoked.
    RemoveKey {
        /// User name.
        login: String,
        /// Forgejo's id of the key.
        id: i64,
        /// Its fingerprint.
        fingerprint: String,
    },
    /// Create a managed team.
    CreateTeam {
        /// Its name.
        name: String,
        /// Its description.
        description: String,
    },
    /// Add an owner to a team.
    AddMember {
        /// The team's name.
        team: String,
        /// User name.
        login: String,
    },
    /// Remove an owner from a team they no longer belong in.
    RemoveMember {
        /// The team's name.
        team: String,
        /// User name.
        login: String,
    },
}

impl Step {
    /// The step in words.
    pub fn describe(&self) -> String {
        match self {
            Step::CreateUser { login, email, from } => {
                format!("create the account {login} (e-mail {email}, from {from}; must change its password)")
            }
            Step::AddKey { login, fingerprint, .. } => format!("add key {fingerprint} to {login}"),
            Step::RemoveKey { login, fingerprint, .. } => format!("remove key {fingerprint} from {login} (revoked in the ledger)"),
            Step::CreateTeam { name, .. } => format!("create the team {name}"),
            Step::AddMember { team, login } => format!("add {login} to the team {team}"),
            Step::RemoveMember { team, login } => format!("remove {login} from the team {team}"),
        }
    }

    /// What the step makes or changes: when Forgejo refuses it, the steps that need it
    /// ([`Step::needs`]) are skipped.
    pub fn object(&self) -> String {
        match self {
            Step::CreateUser { login, .. } => user(login),
            Step::AddKey { fingerprint, .. } | Step::RemoveKey { fingerprint, .. } => format!("key {fingerprint}"),
            Step::CreateTeam { name, .. } => format!("team {name}"),
            Step::AddMember { team, login } | Step::RemoveMember { team, login } => format!("membership {team}/{}", login.to_lowercase()),
        }
    }

    /// The account and team the step needs to exist.
    pub fn needs(&self) -> Vec<String> {
        match self {
            Step::CreateUser { .. } | Step::CreateTeam { .. } => Vec::new(),
            Step::AddKey { login, .. } | Step::RemoveKey { login, .. } => vec![user(login)],
            Step::AddMember { team, login } | Step::RemoveMember { team, login } => vec![user(login), format!("team {team}")],
        }
    }
}

fn user(login: &str) -> String {
    format!("user {}", login.to_lowercase())
}

/// The plan, and the owners it cannot make an account for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The changes, accounts first, then keys, teams and memberships.
    pub steps: Vec<Step>,
    /// Owners without an account whom no e-mail is known for, with what to do.
    pub blocked: Vec<String>,
}

/// The difference between what the ledger wants and what Forgejo holds.
pub fn plan(desired: &Desired, observed: &Observed) -> Plan {
    let mut plan = Plan::default();
    let mut keys = Vec::new();
    let mut exists = BTreeSet::new();
    for user in &desired.users {
        let lower = user.login.to_lowercase();
        let present = match observed.users.get(&lower) {
            Some(present) => present.as_slice(),
            None => match &user.email {
                Some((email, from)) => {
                    plan.steps.push(Step::CreateUser {
                        login: user.login.clone(),
                        email: email.clone(),
                        from,
                    });
                    &[]
                }
                None => {
                    plan.blocked.push(format!(
                        "{} has no Forgejo account and no known e-mail: add it to the private identity file, or pass --placeholder-email-domain",
                        user.login
                    ));
                    continue;
                }
            },
        };
        exists.insert(lower);
        for (fingerprint, key) in &user.keys {
            if !present.iter().any(|k| &k.fingerprint == fingerprint) {
                keys.push(Step::AddKey {
                    login: user.login.clone(),
                    fingerprint: fingerprint.clone(),
                    key: key.clone(),
                });
            }
        }
        for k in present.iter().filter(|k| user.revoked.contains(&k.fingerprint)) {
            keys.push(Step::RemoveKey {
                login: user.login.clone(),
                id: k.id,
                fingerprint: k.fingerprint.clone(),
            });
        }
    }
    plan.steps.extend(keys);
    let owners: BTreeSet<String> = desired.users.iter().map(|u| u.login.to_lowercase()).collect();
    for team in &desired.teams {
        let current = observed.teams.get(&team.name);
        if current.is_none() {
            plan.steps.push(Step::CreateTeam {
                name: team.name.clone(),
                description: team.description.clone(),
            });
        }
        let members = current.map(|t| t.members.clone()).unwrap_or_default();
        for login in team
            .members
            .iter()
            .filter(|l| exists.contains(&l.to_lowercase()) && !members.contains(&l.to_lowercase()))
        {
            plan.steps.push(Step::AddMember {
                team: team.name.clone(),
                login: login.clone(),
            });
        }
        let wanted: BTreeSet<String> = team.members.iter().map(|l| l.to_lowercase()).collect();
        for login in members.iter().filter(|l| owners.contains(*l) && !wanted.contains(*l)) {
            plan.steps.push(Step::RemoveMember {
                team: team.name.clone(),
                login: login.clone(),
            });
        }
    }
    plan
}

#[cfg(test)]
mod tests;
