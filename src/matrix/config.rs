//! Where the hub and the bot go and with which tokens: the `[matrix]` section of
//! `ledger.toml`, checked, and the access tokens, which never come from the ledger:
//! `SMARTUP_MATRIX_TOKEN` (the bot's) and `SMARTUP_MATRIX_ADMIN_TOKEN` (an admin's, for
//! registration tokens), or the user's `~/.config/smartup/matrix.toml`:
//!
//! ```toml
//! [tokens."https://matrix.example.org"]
//! bot = "syt_..."
//! admin = "syt_..."
//! ```

use crate::ledger::policy::MatrixSection;
pub use crate::user_config::Secret;
use anyhow::{anyhow, bail, Result};
use reqwest::Url;
use std::collections::BTreeMap;

/// The environment variable that holds the bot's access token.
pub const BOT_TOKEN_VARIABLE: &str = "SMARTUP_MATRIX_TOKEN";
/// The environment variable that holds an admin's access token.
pub const ADMIN_TOKEN_VARIABLE: &str = "SMARTUP_MATRIX_ADMIN_TOKEN";

/// The checked `[matrix]` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The homeserver's base URL, without a trailing slash.
    pub homeserver: String,
    /// The server name of user ids and aliases.
    pub server_name: String,
    /// The bot's user id.
    pub bot: String,
    /// The prefix of every alias.
    pub alias_prefix: String,
    /// The space's alias local part, after the prefix.
    pub space_alias: String,
}

impl Settings {
    /// Checks the section (the policy checked the ids already): an http(s) homeserver URL.
    pub fn from_section(section: &MatrixSection) -> Result<Settings> {
        let url = Url::parse(section.homeserver.trim()).map_err(|e| {
            anyhow!(
                "[matrix] homeserver {:?} is not a URL ({e}); write it like https://matrix.example.org",
                section.homeserver
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() || url.host_str().is_none() {
            bail!(
                "[matrix] homeserver {:?} must be an http:// or https:// address",
                section.homeserver
            );
        }
        Ok(Settings {
            homeserver: url.as_str().trim_end_matches('/').to_string(),
            server_name: section.server_name.clone(),
            bot: section.bot.clone(),
            alias_prefix: section.alias_prefix.clone(),
            space_alias: section.space_alias.clone(),
        })
    }

    /// The settings of a policy, or an error saying how to add them.
    pub fn of_policy(section: Option<&MatrixSection>) -> Result<Settings> {
        let section = section.ok_or_else(|| {
            anyhow!("the ledger's policy has no [matrix] section; add one with `smartup amend-policy` (see the template's commented [matrix] lines)")
        })?;
        Settings::from_section(section)
    }

    /// The full alias of a room key: `#<prefix><key>:<server>`.
    pub fn alias(&self, key: &str) -> String {
        format!("#{}{key}:{}", self.alias_prefix, self.server_name)
    }
}

/// Whose token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The bot: owns the rooms, announces, answers.
    Bot,
    /// A homeserver admin: registration tokens.
    Admin,
}

impl Role {
    fn variable(self) -> &'static str {
        match self {
            Role::Bot => BOT_TOKEN_VARIABLE,
            Role::Admin => ADMIN_TOKEN_VARIABLE,
        }
    }

    fn field(self) -> &'static str {
        match self {
            Role::Bot => "bot",
            Role::Admin => "admin",
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    #[serde(default)]
    tokens: BTreeMap<String, TokenPair>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenPair {
    bot: Option<String>,
    admin: Option<String>,
}

/// Finds the `role`'s token for the homeserver: its environment variable, then the token file.
pub fn find_token(settings: &Settings, role: Role) -> Result<Secret> {
    let homeserver = &settings.homeserver;
    let found = crate::user_config::secret(role.variable(), "matrix.toml", |file: &TokenFile| {
        let pair = file
            .tokens
            .iter()
            .find(|(url, _)| url.trim().trim_end_matches('/') == homeserver)
            .map(|(_, p)| p)?;
        if role == Role::Bot {
            pair.bot.clone()
        } else {
            pair.admin.clone()
        }
    })?;
    found.ok_or_else(|| {
        anyhow!(
            "no {} token for {homeserver}: set {}, or write it into {} as\n  [tokens.\"{homeserver}\"]\n  {} = \"<token>\"",
            role.field(),
            role.variable(),
            crate::user_config::shown("matrix.toml"),
            role.field()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(url: &str) -> MatrixSection {
        MatrixSection {
            homeserver: url.into(),
            server_name: "example.org".into(),
            bot: "@engelbot:example.org".into(),
            alias_prefix: "sz_".into(),
            space_alias: "smartup".into(),
        }
    }

    #[test]
    fn checks_the_homeserver_and_makes_aliases() {
        let s = Settings::from_section(&section("https://matrix.example.org/")).unwrap();
        assert_eq!(s.homeserver, "https://matrix.example.org");
        assert_eq!(s.alias("3_2_design_team"), "#sz_3_2_design_team:example.org");
        assert!(Settings::from_section(&section("matrix.example.org")).is_err());
        assert!(Settings::from_section(&section("ftp://matrix.example.org")).is_err());
        assert!(Settings::of_policy(None).unwrap_err().to_string().contains("no [matrix] section"));
    }

    #[test]
    fn the_token_is_never_shown() {
        let token = Secret {
            value: "s3cret".into(),
            source: BOT_TOKEN_VARIABLE.into(),
        };
        assert!(!format!("{token:?}").contains("s3cret"));
    }
}
