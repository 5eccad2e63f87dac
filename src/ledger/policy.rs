//! `ledger.toml`: the policy every rule takes its numbers from.

pub use super::governance::GovernanceSection;
use crate::money::Amount;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// The template every new ledger starts from (placeholders `{{ledger_id}}` and `{{name}}`).
pub const TEMPLATE: &str = include_str!("../../ledger-template/ledger.toml");
/// The README every new ledger starts with (same placeholders).
pub const README_TEMPLATE: &str = include_str!("../../ledger-template/README.md");

/// The whole policy file.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Identity and layout of the ledger.
    pub ledger: LedgerSection,
    /// Bootstrap-phase exceptions.
    pub bootstrap: Bootstrap,
    /// Task budgets in SC.
    pub budgets: Budgets,
    /// Phase multipliers by phase name.
    pub phases: BTreeMap<String, Dec>,
    /// The Attacker / Defender split.
    pub adm: Adm,
    /// Assessment bands.
    pub assessment: Assessment,
    /// License rights by license name.
    pub licenses: BTreeMap<String, License>,
    /// SK needed to move to each license.
    pub upgrades: BTreeMap<String, Dec>,
    /// Social Karma thresholds, decay and award amounts.
    pub sk: Karma,
    /// Smartup Credit rules.
    pub sc: Credits,
    /// EUR price of each license, paid by a deposit when it is granted or bought as an
    /// upgrade outside the bootstrap phase.
    #[serde(default = "default_prices")]
    pub prices: BTreeMap<String, Dec>,
    /// Key recovery.
    #[serde(default)]
    pub keys: KeysSection,
    /// What the server's pre-receive hook allows beyond the ledger rules.
    #[serde(default)]
    pub hook: HookSection,
    /// Invitations and the Open Collective tiers that buy licenses.
    #[serde(default)]
    pub onboarding: OnboardingSection,
    /// Where the organisation's Forgejo is (optional: a ledger works without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forgejo: Option<ForgejoSection>,
    /// Where the organisation's Matrix homeserver is (optional: a ledger works without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<MatrixSection>,
    /// How decisions are made, and the tranches of retrospective awards.
    #[serde(default)]
    pub governance: GovernanceSection,
    /// Limits on work sessions.
    #[serde(default)]
    pub work: WorkSection,
}

/// `[work]`: limits on the time people work in one go.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WorkSection {
    /// The longest shift: no work session lasts longer, and a mission leader does not assess
    /// at the end of a session open longer than this.
    pub max_shift_hours: i64,
}

impl Default for WorkSection {
    fn default() -> Self {
        WorkSection { max_shift_hours: 8 }
    }
}

/// `[keys]`: recovery of an owner's keys by two authorities.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct KeysSection {
    /// Hours a confirmed recovery waits, open to the owner's veto, before it can be
    /// completed.
    pub recovery_window_hours: i64,
}

impl Default for KeysSection {
    fn default() -> Self {
        KeysSection { recovery_window_hours: 48 }
    }
}

/// `[onboarding]`: how long an invitation stays open, and which Open Collective tier buys
/// which license at which price.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OnboardingSection {
    /// Days an invitation stays open before it closes unused.
    pub invitation_days: i64,
    /// Tier name (as it ends a contribution's description on Open Collective) to the license
    /// it buys and its price in EUR.
    pub tiers: BTreeMap<String, Tier>,
}

impl Default for OnboardingSection {
    fn default() -> Self {
        OnboardingSection {
            invitation_days: 30,
            tiers: BTreeMap::new(),
        }
    }
}

/// One Open Collective tier: the license it buys and what it costs.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// campaign, watch, work or organizational.
    pub license: String,
    /// The tier's price in EUR (what the contributor pays, before fees).
    pub price: Dec,
}

fn default_prices() -> BTreeMap<String, Dec> {
    [("campaign", 10), ("watch", 50), ("work", 200), ("organizational", 5000)]
        .into_iter()
        .map(|(license, euros)| (license.to_string(), Dec(Amount::units(euros))))
        .collect()
}

fn default_treasury_reserve() -> Dec {
    Dec(Amount::units(1000))
}

fn default_license_reasons() -> BTreeMap<String, Vec<String>> {
    let campaign = ["community_building", "governance", "mentoring"].map(str::to_string).to_vec();
    BTreeMap::from([("campaign".to_string(), campaign)])
}

/// `[hook]`: the server's gate, beyond the rules every row obeys.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HookSection {
    /// Refs other than the ledger branch that may be pushed (`refs/heads/drafts/*`: a
    /// trailing `*` matches any rest). Nothing else is accepted.
    pub allow_refs: Vec<String>,
    /// Keys (`ssh-ed25519 AAAA...`) of the Forgejo instance, allowed to sign merge commits
    /// that add no rows of their own (pull-request merges).
    pub instance_keys: Vec<String>,
    /// Refuse pushes whose Forgejo pusher (`GITEA_PUSHER_NAME`) is not an owner.
    pub require_registered_pusher: bool,
    /// Seconds the hook may spend before it rejects the push.
    pub time_budget_seconds: u64,
    /// Minutes a row may have been recorded (its `timestamp`) before the server receives it;
    /// older rows are refused as `recorded-late`, and witnesses show them to reviewers.
    pub max_recording_lag_minutes: i64,
}

impl HookSection {
    /// The recording lag in seconds (never negative).
    pub fn recording_lag_seconds(&self) -> i64 {
        self.max_recording_lag_minutes.max(0).saturating_mul(60)
    }
}

impl Default for HookSection {
    fn default() -> Self {
        HookSection {
            allow_refs: Vec::new(),
            instance_keys: Vec::new(),
            require_registered_pusher: false,
            time_budget_seconds: 20,
            max_recording_lag_minutes: 15,
        }
    }
}

/// `[forgejo]`: the Forgejo instance `smartup forgejo sync` keeps in step with the ledger.
/// The access token never goes here (it comes from `FORGEJO_TOKEN` or the user's config).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ForgejoSection {
    /// Base URL of the instance, e.g. `https://forge.example.org`.
    pub url: String,
    /// The organisation that owns the team repositories.
    pub organisation: String,
    /// Team id (numeric identity like `3_2`) to repository name; a team missing here uses
    /// its full team id (e.g. `3_2_design_team`) as the repository name.
    #[serde(default)]
    pub repositories: BTreeMap<String, String>,
    /// How objectives appear: `milestones` (default) or `issues`.
    #[serde(default = "default_objectives_as")]
    pub objectives_as: String,
}

fn default_objectives_as() -> String {
    "milestones".to_string()
}

/// `[matrix]`: the homeserver `smartup matrix sync` mirrors the ledger on, and its bot. The
/// access tokens never go here (they come from the environment or the user's config).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MatrixSection {
    /// Base URL of the homeserver's client API, e.g. `https://matrix.example.org`.
    pub homeserver: String,
    /// The server name in user ids and aliases (`example.org` in `@jane:example.org`).
    pub server_name: String,
    /// The bot's user id, e.g. `@engelbot:example.org`: it creates and owns the rooms.
    pub bot: String,
    /// Prefix of every room alias, for a homeserver shared with other smartups (`sz_` makes
    /// `#sz_3_2_design_team:example.org`); empty by default.
    #[serde(default)]
    pub alias_prefix: String,
    /// The alias local part of the smartup's space (after the prefix).
    #[serde(default = "default_space_alias")]
    pub space_alias: String,
}

impl MatrixSection {
    /// Checks what the rules and the hub rely on (the homeserver URL is checked where it is
    /// used): a server name, the bot on it, alias parts Matrix allows.
    fn check(&self) -> Result<(), PolicyError> {
        let server = self.server_name.as_str();
        if server.is_empty() || server.contains(['/', ' ', '@', '#']) {
            return Err(PolicyError(format!(
                "[matrix] server_name {server:?} must be a server name like example.org (as in @jane:example.org)"
            )));
        }
        crate::ledger::ids::check_matrix_user(&self.bot, server).map_err(|e| PolicyError(format!("[matrix] bot: {e}")))?;
        let space = format!("{}{}", self.alias_prefix, self.space_alias);
        if !crate::ledger::ids::matrix_localpart(&space) || !crate::ledger::ids::matrix_localpart(&format!("{}x", self.alias_prefix)) {
            return Err(PolicyError(format!(
                "[matrix] alias_prefix {:?} and space_alias {:?} may hold only a-z, 0-9, '.', '_', '=', '-' and '/'",
                self.alias_prefix, self.space_alias
            )));
        }
        Ok(())
    }
}

fn default_space_alias() -> String {
    "smartup".to_string()
}

/// `[ledger]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LedgerSection {
    /// The ledger id every signature is bound to.
    pub id: String,
    /// The smartup's name.
    pub name: String,
    /// The ledger branch.
    pub branch: String,
    /// The SSHSIG namespace rows are signed in.
    pub namespace: String,
    /// The storage format ([`crate::ledger::FORMAT`]); recorded so that a later format can be
    /// recognised and migrated.
    pub format: u32,
    /// How many rows make a segment full: every segment but a table's last holds exactly
    /// this many.
    pub segment_rows: u64,
}

/// `[bootstrap]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Bootstrap {
    /// Whether the bootstrap phase is still on.
    pub active: bool,
}

/// `[budgets]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Budgets {
    /// small, medium, large, complex.
    pub sizes: BTreeMap<String, Dec>,
    /// Special budgets (emergency fix, ...).
    pub specials: BTreeMap<String, Dec>,
}

/// `[adm]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Adm {
    /// The Attacker's percentage of a task's pending SC.
    pub attacker_percent: Dec,
    /// The Defender's percentage.
    pub defender_percent: Dec,
}

/// `[assessment]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    /// A share below this needs a captain's approval.
    pub approval_needed_below_percent: Dec,
    /// Score bands and the share range each allows.
    pub bands: Vec<Band>,
}

/// One assessment band.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// Lowest total score of the band.
    pub min_total: u32,
    /// Highest total score of the band.
    pub max_total: u32,
    /// Lowest share allowed.
    pub min_percent: Dec,
    /// Highest share allowed.
    pub max_percent: Dec,
}

/// `[licenses.NAME]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct License {
    /// May earn SC, and so be Attacker or Defender of a task.
    pub earns_sc: bool,
    /// SK that may be earned per UTC day.
    pub sk_per_day: Dec,
    /// SC that may be minted per UTC day.
    pub sc_per_day: Dec,
    /// May make proposals (with the SK `[sk] propose` asks); by default, whoever may earn SC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub may_propose: Option<bool>,
}

impl License {
    /// Whether holders may make proposals.
    pub fn may_propose(&self) -> bool {
        self.may_propose.unwrap_or(self.earns_sc)
    }
}

/// `[sk]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Karma {
    /// SK needed to propose.
    pub propose: Dec,
    /// SK needed to become team captain.
    pub captain: Dec,
    /// SK needed to become mission leader.
    pub mission_leader: Dec,
    /// SK needed to lead missions.
    pub lead_missions: Dec,
    /// SK needed for the leadership team.
    pub leadership_team: Dec,
    /// Monthly decay after the grace period.
    pub decay_percent_per_month: Dec,
    /// Days without earning before decay starts.
    pub decay_grace_days: i64,
    /// Award reasons and their SK.
    pub awards: BTreeMap<String, Dec>,
    /// The award reasons a license may earn SK for; a license not listed may earn all.
    #[serde(default = "default_license_reasons")]
    pub license_reasons: BTreeMap<String, Vec<String>>,
}

/// `[sc]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Credits {
    /// Hours between assessment and the earliest validation.
    pub lazy_consensus_hours: i64,
    /// Outstanding SC may be at most this times the EUR treasury.
    pub treasury_multiple: Dec,
    /// Work older than this many days cannot be claimed.
    pub retroactive_days: i64,
    /// Pending SC above this need community review.
    pub community_review_above: Dec,
    /// How many distinct non-recipient approvals a community review needs.
    pub community_review_approvals: u32,
    /// EUR a payout must leave in the treasury.
    #[serde(default = "default_treasury_reserve")]
    pub treasury_reserve: Dec,
}

/// An exact decimal written as a TOML string (`"1.10"`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dec(pub Amount);

impl Serialize for Dec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map(Dec).map_err(serde::de::Error::custom)
    }
}

/// Why `ledger.toml` cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("ledger.toml is not a valid policy: {0}")]
pub struct PolicyError(pub String);

impl Policy {
    /// Parses and sanity-checks a policy file.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text).map_err(|e| PolicyError(e.to_string()))?;
        policy.check()?;
        Ok(policy)
    }

    fn check(&self) -> Result<(), PolicyError> {
        let fail = |m: &str| Err(PolicyError(m.to_string()));
        if self.ledger.id.len() < 16 || !self.ledger.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return fail("[ledger] id must be at least 16 letters, digits or dashes");
        }
        if self.ledger.format != crate::ledger::FORMAT {
            return Err(PolicyError(format!(
                "[ledger] format is {}, but this smartup reads and writes format {} only; read this ledger with a smartup release of its format (a signed history cannot be re-laid in place)",
                self.ledger.format,
                crate::ledger::FORMAT
            )));
        }
        if self.ledger.segment_rows == 0 {
            return fail("[ledger] segment_rows must be above zero");
        }
        if self.ledger.namespace.is_empty() || self.ledger.namespace == "git" {
            return fail("[ledger] namespace must be set and differ from git's own \"git\"");
        }
        if self.adm.attacker_percent.0.plus(self.adm.defender_percent.0) != Amount::units(100) {
            return fail("[adm] attacker_percent and defender_percent must add up to 100");
        }
        for name in ["campaign", "watch", "work", "organizational"] {
            if !self.licenses.contains_key(name) {
                return Err(PolicyError(format!("[licenses.{name}] is missing")));
            }
        }
        for (license, reasons) in &self.sk.license_reasons {
            if !self.licenses.contains_key(license) {
                return Err(PolicyError(format!("[sk.license_reasons] names an unknown license {license}")));
            }
            if let Some(reason) = reasons.iter().find(|r| !self.sk.awards.contains_key(*r)) {
                return Err(PolicyError(format!(
                    "[sk.license_reasons] {license}: {reason} is not a reason of [sk.awards]"
                )));
            }
        }
        if let Some(license) = self.prices.keys().find(|l| !self.licenses.contains_key(*l)) {
            return Err(PolicyError(format!("[prices] names an unknown license {license}")));
        }
        if self.keys.recovery_window_hours < 0 {
            return fail("[keys] recovery_window_hours is never negative");
        }
        if !(1..=366).contains(&self.onboarding.invitation_days) {
            return fail("[onboarding] invitation_days must be between 1 and 366");
        }
        for (name, tier) in &self.onboarding.tiers {
            if !self.licenses.contains_key(&tier.license) {
                return Err(PolicyError(format!(
                    "[onboarding.tiers] {name:?} names an unknown license {}",
                    tier.license
                )));
            }
            if tier.price.0 < self.price(&tier.license) {
                return Err(PolicyError(format!(
                    "[onboarding.tiers] {name:?} costs {} EUR, less than the {} license's price in [prices] ({} EUR)",
                    tier.price.0,
                    tier.license,
                    self.price(&tier.license)
                )));
            }
        }
        if let Some(matrix) = &self.matrix {
            matrix.check()?;
        }
        if !(1..=24 * 7).contains(&self.work.max_shift_hours) {
            return fail("[work] max_shift_hours must be between 1 and 168");
        }
        self.governance.check()
    }

    /// Whether an amended policy keeps what may never change: the ledger id, the signature
    /// namespace, the storage format and the segment size (segments already written must stay
    /// valid).
    pub fn keeps_identity_of(&self, old: &Policy) -> bool {
        self.ledger.id == old.ledger.id
            && self.ledger.format == old.ledger.format
            && self.ledger.namespace == old.ledger.namespace
            && self.ledger.segment_rows == old.ledger.segment_rows
    }

    /// The SC budget of a size or special, before the phase multiplier.
    pub fn size_budget(&self, size: &str) -> Option<Amount> {
        self.budgets
            .sizes
            .get(size)
            .or_else(|| self.budgets.specials.get(size))
            .map(|d| d.0)
    }

    /// Whether an owner with this license may earn SK for this award reason.
    pub fn may_earn_sk_for(&self, license: &str, reason: &str) -> bool {
        self.sk
            .license_reasons
            .get(license)
            .is_none_or(|reasons| reasons.iter().any(|r| r == reason))
    }

    /// The EUR price of a license (zero when the policy names none).
    pub fn price(&self, license: &str) -> Amount {
        self.prices.get(license).map_or(Amount::ZERO, |d| d.0)
    }

    /// The band that contains a total score.
    pub fn band(&self, total: u32) -> Option<&Band> {
        self.assessment.bands.iter().find(|b| (b.min_total..=b.max_total).contains(&total))
    }

    /// Fills the template for a new ledger.
    pub fn render_template(template: &str, ledger_id: &str, name: &str) -> String {
        template
            .replace("{{ledger_id}}", ledger_id)
            .replace("{{name}}", &name.replace('"', "'"))
    }
}

/// The `sha256:<hex>` reference of a file's bytes, as rows name policy files.
pub fn file_reference(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> String {
        Policy::render_template(TEMPLATE, "0123456789abcdef0123", "Smartup Zero")
    }

    #[test]
    fn the_template_is_a_valid_policy_with_the_domain_numbers() {
        let p = Policy::parse(&template()).unwrap();
        assert_eq!(p.size_budget("complex"), Some(Amount::units(200)));
        assert_eq!(p.size_budget("emergency_fix"), Some(Amount::units(150)));
        assert_eq!(p.phases["design"].0, "1.1".parse().unwrap());
        assert_eq!(p.band(25).unwrap().min_percent.0, Amount::units(80));
        assert_eq!(p.sc.lazy_consensus_hours, 48);
        assert!(!p.licenses["watch"].earns_sc);
        assert_eq!(p.price("work"), Amount::units(200));
        assert_eq!(p.price("organizational"), Amount::units(5000));
        assert_eq!(p.sc.treasury_reserve.0, Amount::units(1000));
        assert_eq!(p.keys.recovery_window_hours, 48);
        assert!(p.may_earn_sk_for("campaign", "community_building") && !p.may_earn_sk_for("campaign", "review"));
        assert!(p.may_earn_sk_for("watch", "review"));
    }

    #[test]
    fn an_older_policy_without_the_trust_parameters_loads_with_their_defaults() {
        let mut old = template();
        for section in ["[prices]", "[keys]"] {
            let start = old.find(section).unwrap();
            let end = old[start + 1..].find("\n[").map_or(old.len(), |i| start + 1 + i);
            old.replace_range(start..end, "");
        }
        let start = old.find("[sk.license_reasons]").unwrap();
        let end = start + old[start..].find("\n\n").unwrap();
        old.replace_range(start..end, "");
        let old = old.replace("treasury_reserve = \"1000\"\n", "");
        assert!(!old.contains("treasury_reserve") && !old.contains("license_reasons") && !old.contains("[keys]"));
        assert_eq!(Policy::parse(&old).unwrap(), Policy::parse(&template()).unwrap());
    }

    #[test]
    fn refuses_license_reasons_and_prices_the_policy_does_not_know() {
        assert!(Policy::parse(&template().replace("campaign = [\"community_building\"", "campaign = [\"charm\"")).is_err());
        assert!(Policy::parse(&template().replace("[prices]\n", "[prices]\ngold = \"1\"\n")).is_err());
    }

    #[test]
    fn refuses_broken_policies() {
        assert!(Policy::parse("nonsense = [").is_err());
        assert!(Policy::parse(&template().replace("defender_percent = \"10\"", "defender_percent = \"11\"")).is_err());
        assert!(Policy::parse(&template().replace("small = \"25\"", "small = 25.5")).is_err());
        assert!(Policy::parse(&format!("{}\n[extra]\nx = 1\n", template())).is_err());
    }

    #[test]
    fn file_reference_is_sha256_hex() {
        assert_eq!(
            file_reference(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
