//! Where the sync goes and with which token: the `[forgejo]` section of `ledger.toml`,
//! checked, and the access token, which never comes from the ledger: `FORGEJO_TOKEN`, or the
//! user's `~/.config/smartup/forgejo.toml` (`$XDG_CONFIG_HOME` is honoured).

use super::accounts::FORUM_TEAM;
use crate::ledger::ids::{numeric_identity, IdKind};
use crate::ledger::policy::ForgejoSection;
use crate::rules::state::Team;
use anyhow::{anyhow, bail, Result};
use reqwest::Url;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// The environment variable that holds the token.
pub const TOKEN_VARIABLE: &str = "FORGEJO_TOKEN";

/// How objectives appear in Forgejo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectivesAs {
    /// One milestone per objective, in its team's repository; its tasks' issues belong to it.
    Milestones,
    /// One issue per objective, labelled `kind/objective`.
    Issues,
}

/// The checked `[forgejo]` section.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The instance, e.g. `https://forge.example.org/` (always with a trailing slash).
    pub url: Url,
    /// The organisation that owns the team repositories and the organisation labels.
    pub organisation: String,
    /// Repository names by numeric team identity, as configured.
    repositories: BTreeMap<String, String>,
    /// The repository of organisation-wide things (proposals): the general forum's.
    forum: String,
    /// How objectives appear.
    pub objectives_as: ObjectivesAs,
}

impl Settings {
    /// Checks the section: an http(s) URL, an organisation name, team ids as keys.
    pub fn from_section(section: &ForgejoSection) -> Result<Settings> {
        let mut url = Url::parse(section.url.trim()).map_err(|e| {
            anyhow!(
                "[forgejo] url {:?} is not a URL ({e}); write it like https://forge.example.org",
                section.url
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() || url.host_str().is_none() {
            bail!(
                "[forgejo] url {:?} must be an http:// or https:// address of the Forgejo instance",
                section.url
            );
        }
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        let organisation = section.organisation.trim().to_string();
        if organisation.is_empty() || organisation.contains('/') {
            bail!(
                "[forgejo] organisation {:?} must be the name of a Forgejo organisation",
                section.organisation
            );
        }
        let mut repositories = BTreeMap::new();
        let mut forum = FORUM_TEAM.to_string();
        for (team, repo) in &section.repositories {
            if repo.trim().is_empty() || repo.contains('/') {
                bail!("[forgejo.repositories] {team} = {repo:?} must name a repository of the organisation (without owner)");
            }
            if team == FORUM_TEAM {
                forum = repo.trim().to_string();
                continue;
            }
            let identity = numeric_identity(team, IdKind::Team)
                .map_err(|e| anyhow!("[forgejo.repositories]: {e} (or {FORUM_TEAM}, for the proposals)"))?;
            repositories.insert(identity, repo.trim().to_string());
        }
        let objectives_as = match section.objectives_as.as_str() {
            "milestones" => ObjectivesAs::Milestones,
            "issues" => ObjectivesAs::Issues,
            other => bail!("[forgejo] objectives_as = {other:?}: write \"milestones\" or \"issues\""),
        };
        Ok(Settings {
            url,
            organisation,
            repositories,
            forum,
            objectives_as,
        })
    }

    /// The repository where organisation-wide things live (an issue per proposal): the one
    /// configured as `1_general_forum`, else `1_general_forum`, named like the team of every
    /// owner that `forgejo provision` keeps.
    pub fn forum_repository(&self) -> &str {
        &self.forum
    }

    /// The repository a team's objectives and tasks live in: the configured one, or the
    /// team's full id (`3_2_design_team`).
    pub fn repository_of(&self, identity: &str, team: Option<&Team>) -> String {
        match (self.repositories.get(identity), team) {
            (Some(repo), _) => repo.clone(),
            (None, Some(team)) => team.id.clone(),
            (None, None) => identity.to_string(),
        }
    }

    /// The instance URL without its trailing slash, as the token file keys it.
    pub fn instance(&self) -> &str {
        self.url.as_str().trim_end_matches('/')
    }
}

/// An access token and where it was found (the value is never printed).
#[derive(Clone)]
pub struct Token {
    secret: String,
    /// Where it came from, for messages: `FORGEJO_TOKEN` or the config file's path.
    pub source: String,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(from {}, value hidden)", self.source)
    }
}

impl Token {
    /// The `Authorization` header value Forgejo expects.
    pub fn header(&self) -> String {
        format!("token {}", self.secret)
    }
}

#[cfg(test)]
impl Token {
    /// A token with a dummy value, for unit tests.
    pub fn for_tests(source: &str) -> Token {
        Token {
            secret: "secret".into(),
            source: source.into(),
        }
    }
}

/// The user's token file: `[tokens]` with one token per instance URL.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    #[serde(default)]
    tokens: BTreeMap<String, String>,
}

/// Where the token file is: `$XDG_CONFIG_HOME/smartup/forgejo.toml`, else
/// `$HOME/.config/smartup/forgejo.toml`.
pub fn token_file() -> Option<PathBuf> {
    crate::user_config::file("forgejo.toml")
}

/// Finds the token for an instance: `FORGEJO_TOKEN`, then the token file.
pub fn find_token(settings: &Settings) -> Result<Token> {
    let instance = settings.instance();
    let found = crate::user_config::secret(TOKEN_VARIABLE, "forgejo.toml", |file: &TokenFile| {
        file.tokens
            .iter()
            .find(|(url, _)| url.trim().trim_end_matches('/') == instance)
            .map(|(_, token)| token.clone())
    })?;
    let found = found.ok_or_else(|| {
        anyhow!(
            "no Forgejo token for {instance}: set {TOKEN_VARIABLE}, or write it into {} as\n  [tokens]\n  \"{instance}\" = \"<token>\"\n(create the token in Forgejo under Settings → Applications, with the scopes write:issue, write:organization and read:repository)",
            crate::user_config::shown("forgejo.toml")
        )
    })?;
    Ok(Token {
        secret: found.value,
        source: found.source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(url: &str, objectives_as: &str) -> ForgejoSection {
        ForgejoSection {
            url: url.into(),
            organisation: "smartup".into(),
            repositories: BTreeMap::from([("3_2_design_team".into(), "design".into())]),
            objectives_as: objectives_as.into(),
        }
    }

    #[test]
    fn checks_the_section_and_maps_teams_by_numeric_identity() {
        let s = Settings::from_section(&section("https://forge.example.org/git", "issues")).unwrap();
        assert_eq!(s.url.as_str(), "https://forge.example.org/git/");
        assert_eq!(s.instance(), "https://forge.example.org/git");
        assert_eq!(s.objectives_as, ObjectivesAs::Issues);
        assert_eq!(s.repository_of("3_2", None), "design");
        let team = Team {
            id: "3_3_ops".into(),
            name: "Ops".into(),
        };
        assert_eq!(s.repository_of("3_3", Some(&team)), "3_3_ops");
        assert_eq!(s.forum_repository(), "1_general_forum");
        let mut forum = section("https://forge.example.org", "milestones");
        forum.repositories.insert("1_general_forum".into(), " governance ".into());
        let s = Settings::from_section(&forum).unwrap();
        assert_eq!(
            (s.forum_repository(), s.repository_of("3_2", None).as_str()),
            ("governance", "design")
        );
    }

    #[test]
    fn refuses_what_cannot_work() {
        assert!(Settings::from_section(&section("forge.example.org", "milestones")).is_err());
        assert!(Settings::from_section(&section("ftp://forge.example.org", "milestones")).is_err());
        assert!(Settings::from_section(&section("https://forge.example.org", "projects")).is_err());
        let mut bad_team = section("https://forge.example.org", "milestones");
        bad_team.repositories = BTreeMap::from([("design".into(), "design".into())]);
        assert!(Settings::from_section(&bad_team).is_err());
    }

    #[test]
    fn the_token_is_never_shown() {
        let token = Token {
            secret: "s3cret".into(),
            source: TOKEN_VARIABLE.into(),
        };
        assert!(!format!("{token:?}").contains("s3cret"));
        assert_eq!(token.header(), "token s3cret");
    }
}
