//! Reading the accounts, keys and teams the ledger manages from Forgejo, and carrying out a
//! plan through the admin API, with Forgejo's refusals explained in words.

use super::{Desired, Observed, ObservedKey, ObservedTeam, Plan, Step};
use crate::forgejo::client::{ApiError, Client};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A user as the admin listing answers it.
#[derive(Deserialize)]
struct User {
    #[serde(default)]
    login: Option<String>,
}

/// A public key on an account.
#[derive(Deserialize)]
struct Key {
    id: i64,
    #[serde(default)]
    fingerprint: Option<String>,
}

/// A team of the organisation.
#[derive(Deserialize)]
struct Team {
    id: i64,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Serialize)]
struct CreateUser<'a> {
    username: &'a str,
    email: &'a str,
    password: &'a str,
    must_change_password: bool,
    send_notify: bool,
    source_id: i64,
    login_name: &'a str,
    visibility: &'a str,
}

#[derive(Serialize)]
struct CreateKey<'a> {
    title: String,
    key: &'a str,
    read_only: bool,
}

#[derive(Serialize)]
struct CreateTeam<'a> {
    name: &'a str,
    description: &'a str,
    permission: &'a str,
    includes_all_repositories: bool,
    can_create_org_repo: bool,
    units_map: BTreeMap<&'a str, &'a str>,
}

/// Reads what Forgejo holds of the accounts and teams `desired` names.
pub fn observe(client: &Client, organisation: &str, desired: &Desired) -> Result<Observed, ApiError> {
    let owners: BTreeSet<String> = desired.users.iter().map(|u| u.login.to_lowercase()).collect();
    let mut observed = Observed::default();
    let users: Vec<User> = client.list(&["admin", "users"], &[])?;
    for login in users.into_iter().filter_map(|u| u.login).map(|l| l.to_lowercase()) {
        if owners.contains(&login) {
            let keys: Vec<Key> = client.list(&["users", &login, "keys"], &[])?;
            let keys = keys
                .into_iter()
                .map(|k| ObservedKey {
                    id: k.id,
                    fingerprint: k.fingerprint.unwrap_or_default(),
                })
                .collect();
            observed.users.insert(login, keys);
        }
    }
    let managed: BTreeSet<&str> = desired.teams.iter().map(|t| t.name.as_str()).collect();
    let teams: Vec<Team> = client.list(&["orgs", organisation, "teams"], &[])?;
    for team in teams {
        let Some(name) = team.name.filter(|n| managed.contains(n.as_str())) else {
            continue;
        };
        let members: Vec<User> = client.list(&["teams", &team.id.to_string(), "members"], &[])?;
        let members = members.into_iter().filter_map(|u| u.login).map(|l| l.to_lowercase()).collect();
        observed.teams.insert(name, ObservedTeam { id: team.id, members });
    }
    Ok(observed)
}

/// A step Forgejo refused, in words, and the steps skipped with it.
#[derive(Debug)]
pub struct Refusal {
    /// The refused step.
    pub step: String,
    /// Why, with what to do.
    pub why: String,
    /// Later steps that need what it would have made, not tried.
    pub skipped: Vec<String>,
}

/// What applying did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Steps carried out.
    pub done: usize,
    /// Steps refused for good (with their object's later steps skipped).
    pub refused: Vec<Refusal>,
    /// The first passwords of the accounts created, by user name: shown once.
    pub passwords: Vec<(String, String)>,
}

/// Carries out `plan`. A step Forgejo refuses for good (400, 403, 404, 409, 422) is reported
/// with the later steps that need what it would have made, and the rest goes on; no answer at all stops the run with
/// the error (running again finishes the job: each step is planned from what exists).
pub fn apply(
    client: &Client,
    organisation: &str,
    plan: &Plan,
    observed: &Observed,
    done: &mut dyn FnMut(&Step),
) -> Result<Applied, ApiError> {
    let mut applied = Applied::default();
    let mut team_ids: BTreeMap<String, i64> = observed.teams.iter().map(|(n, t)| (n.clone(), t.id)).collect();
    let mut failed: BTreeMap<String, usize> = BTreeMap::new();
    for step in &plan.steps {
        if let Some(&i) = step.needs().iter().find_map(|needed| failed.get(needed)) {
            applied.refused[i].skipped.push(step.describe());
            continue;
        }
        match carry_out(client, organisation, step, &mut team_ids, &mut applied.passwords) {
            Ok(()) => {
                applied.done += 1;
                done(step);
            }
            Err(error) if !error.is_transient() && matches!(error, ApiError::Status { .. }) => {
                failed.insert(step.object(), applied.refused.len());
                applied.refused.push(Refusal {
                    step: step.describe(),
                    why: explain(step, &error),
                    skipped: Vec::new(),
                });
            }
            Err(error) => return Err(error),
        }
    }
    Ok(applied)
}

fn carry_out(
    client: &Client,
    organisation: &str,
    step: &Step,
    team_ids: &mut BTreeMap<String, i64>,
    passwords: &mut Vec<(String, String)>,
) -> Result<(), ApiError> {
    match step {
        Step::CreateUser { login, email, .. } => {
            let password = first_password();
            let body = CreateUser {
                username: login,
                email,
                password: &password,
                must_change_password: true,
                send_notify: false,
                source_id: 0,
                login_name: login,
                visibility: "public",
            };
            client.write::<_, serde_json::Value>(Method::POST, &["admin", "users"], &body)?;
            passwords.push((login.clone(), password));
        }
        Step::AddKey { login, fingerprint, key } => {
            let body = CreateKey {
                title: format!("smartup ledger key {fingerprint}"),
                key,
                read_only: false,
            };
            client.write::<_, serde_json::Value>(Method::POST, &["admin", "users", login, "keys"], &body)?;
        }
        Step::RemoveKey { login, id, .. } => {
            client.write::<_, serde_json::Value>(Method::DELETE, &["admin", "users", login, "keys", &id.to_string()], &())?;
        }
        Step::CreateTeam { name, description } => {
            let units = [
                "repo.code",
                "repo.issues",
                "repo.pulls",
                "repo.releases",
                "repo.wiki",
                "repo.projects",
            ];
            let body = CreateTeam {
                name,
                description,
                permission: "write",
                includes_all_repositories: false,
                can_create_org_repo: false,
                units_map: units.into_iter().map(|u| (u, "write")).collect(),
            };
            let team: Team = client.write(Method::POST, &["orgs", organisation, "teams"], &body)?;
            team_ids.insert(name.clone(), team.id);
        }
        Step::AddMember { team, login } | Step::RemoveMember { team, login } => {
            let id = team_ids.get(team).map(i64::to_string).unwrap_or_default();
            let method = if matches!(step, Step::AddMember { .. }) {
                Method::PUT
            } else {
                Method::DELETE
            };
            client.write::<_, serde_json::Value>(method, &["teams", &id, "members", login], &())?;
        }
    }
    Ok(())
}

/// A first password: 24 characters of letters, digits and signs from the system's random
/// generator, long and mixed enough for Forgejo's complexity settings. The owner changes it
/// at first login (`must_change_password`).
fn first_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.!";
    let mut bytes = [0u8; 24];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    let mut password: String = bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    // One of each kind, whatever the draw: upper, lower, digit, sign.
    password.replace_range(0..4, "Aa7!");
    password
}

/// Why Forgejo refused a step, in words, with what to do.
fn explain(step: &Step, error: &ApiError) -> String {
    let ApiError::Status { status, message, .. } = error else {
        return error.to_string();
    };
    let m = message.to_lowercase();
    let what = match (step, *status) {
        (Step::CreateUser { login, .. }, 422) if m.contains("already exists") => format!(
            "a Forgejo account named {login} exists that the admin listing did not show; check it in Site Administration → User Accounts"
        ),
        (Step::CreateUser { email, .. }, 422) if m.contains("e-mail") || m.contains("email") => format!(
            "Forgejo refused the e-mail {email} (already used by another account, or not allowed): correct it in the private identity file, or choose another --placeholder-email-domain"
        ),
        (Step::CreateUser { login, .. }, 422) if m.contains("name") => {
            format!("Forgejo does not allow the user name {login} (reserved or invalid): this owner needs an account made by hand")
        }
        (Step::CreateUser { .. }, 400) if m.contains("password") => {
            "Forgejo's password policy refused the generated first password: check [security] MIN_PASSWORD_LENGTH and PASSWORD_COMPLEXITY in app.ini".to_string()
        }
        (Step::AddKey { fingerprint, login, .. }, 422) => format!(
            "Forgejo refused key {fingerprint} for {login}: it is already on another account (a key belongs to one account), or its title is taken; remove it there first"
        ),
        (Step::CreateTeam { name, .. }, 422) => format!("Forgejo refused to create the team {name} (a team of that name exists, or the name is invalid)"),
        (_, 403) => "the token must belong to a site administrator and have the write:admin, write:organization and read:user scopes".to_string(),
        (_, 404) => "Forgejo has no such user, team or organisation (was it deleted meanwhile?); run provision again".to_string(),
        (_, 409) => "Forgejo reports a conflict; run provision again to plan from what exists now".to_string(),
        _ => String::new(),
    };
    let said = if message.is_empty() {
        String::new()
    } else {
        format!(" (Forgejo said: {message})")
    };
    format!("{status}{said}: {what}")
}
