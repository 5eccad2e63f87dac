//! The import plan: what an Open Collective export means for the ledger, decided before
//! anything is written. Every purchase (a *group* of transactions: the contribution and its
//! fees) becomes one deposit of its net amount; a purchase of a tier the policy lists, at its
//! price, also becomes an invitation, or the upgrade of an owner the identity file knows; a
//! refund becomes a compensating row. Groups the ledger already records are skipped, and so is
//! everything that is not a purchase or a refund, each with its reason. Pure: the state,
//! the identities and the export come in, the plan goes out.

use super::export::{Export, Transaction};
use super::identities::Identities;
use crate::money::Amount;
use crate::rules::state::LICENSES;
use crate::rules::State;
use std::collections::BTreeMap;

/// The prefix of every Open Collective reference in the ledger.
pub const REFERENCE_PREFIX: &str = "opencollective/";

/// One step of the plan, about one group of the export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The first line of the group in the export.
    pub line: u64,
    /// What to do.
    pub action: Planned,
}

/// What a step does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Planned {
    /// Record EUR received.
    Deposit {
        /// `opencollective/<group>/<transaction>`.
        reference: String,
        /// What reached the treasury (the group's net amount).
        amount: Amount,
        /// What the contributor paid.
        gross: Amount,
        /// The tier bought, if the policy lists it.
        tier: Option<String>,
        /// The owner who paid, when the identity file knows them.
        payer: Option<String>,
    },
    /// Invite the contributor to become an owner, paid by the deposit `payment`.
    Invite {
        /// The license.
        license: String,
        /// The contributor's Open Collective slug (goes only into the identity file).
        contributor: String,
        /// The contributor's e-mail, if the export had it (only into the identity file).
        email: String,
        /// The reference of the deposit that pays for it.
        payment: String,
    },
    /// Move a known owner to the license they bought.
    Upgrade {
        /// The owner.
        owner: String,
        /// The new license.
        license: String,
        /// The reference of the deposit that pays for it.
        payment: String,
    },
    /// Record a refund of a deposit.
    Refund {
        /// `opencollective/<group>/<transaction>` of the refund.
        reference: String,
        /// What left the treasury.
        amount: Amount,
        /// The reference of the deposit given back.
        refunds: String,
    },
    /// Nothing is written for this group, for this reason.
    Skip {
        /// Why, in words (never a contributor's data).
        reason: String,
    },
}

/// The transactions of one group, in file order.
struct Group<'e> {
    id: &'e str,
    rows: Vec<&'e Transaction>,
}

impl Group<'_> {
    /// The first 8 characters of the group id: shapes B and C carry only these, so the same
    /// purchase has the same short group in every shape.
    fn short(&self) -> String {
        self.id.chars().take(8).collect::<String>().to_lowercase()
    }

    fn first_line(&self) -> u64 {
        self.rows.iter().map(|t| t.line).min().unwrap_or(0)
    }

    fn date(&self) -> &str {
        self.rows.iter().map(|t| t.date.as_str()).min().unwrap_or("")
    }

    fn net(&self) -> Amount {
        self.rows.iter().fold(Amount::ZERO, |sum, t| sum.plus(t.net))
    }

    /// The contribution itself (CONTRIBUTION, CREDIT, not a refund).
    fn contribution(&self) -> Option<&Transaction> {
        self.rows
            .iter()
            .copied()
            .find(|t| t.kind == "CONTRIBUTION" && t.credit && !t.is_refund)
    }

    /// The main row of a refund group.
    fn refund(&self) -> Option<&Transaction> {
        let refunds: Vec<&Transaction> = self.rows.iter().copied().filter(|t| t.is_refund).collect();
        refunds
            .iter()
            .copied()
            .find(|t| t.kind == "CONTRIBUTION")
            .or(refunds.first().copied())
    }
}

/// Plans the import of `export` into the ledger at `state`.
pub fn plan(export: &Export, state: &State, identities: &Identities) -> Vec<Step> {
    let mut groups: Vec<Group> = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &export.transactions {
        let i = *index.entry(t.group.as_str()).or_insert_with(|| {
            groups.push(Group {
                id: &t.group,
                rows: Vec::new(),
            });
            groups.len() - 1
        });
        groups[i].rows.push(t);
    }
    // Oldest first, purchases before refunds of the same moment: exports list newest first.
    groups.sort_by(|a, b| (a.date(), a.refund().is_some(), a.first_line()).cmp(&(b.date(), b.refund().is_some(), b.first_line())));
    let mut planner = Planner {
        state,
        identities,
        references: BTreeMap::new(),
        steps: Vec::new(),
    };
    for group in &groups {
        planner.group(group, export);
    }
    planner.steps
}

struct Planner<'a> {
    state: &'a State,
    identities: &'a Identities,
    /// Transaction id → the reference planned for its group in this import.
    references: BTreeMap<String, String>,
    steps: Vec<Step>,
}

impl Planner<'_> {
    fn push(&mut self, group: &Group, action: Planned) {
        self.steps.push(Step {
            line: group.first_line(),
            action,
        });
    }

    fn skip(&mut self, group: &Group, reason: String) {
        self.push(group, Planned::Skip { reason });
    }

    /// Where the ledger already records this group: the seq of a row whose reference names
    /// its short group id, from this shape of export or another.
    fn recorded(&self, group: &Group) -> Option<u64> {
        let prefix = format!("{REFERENCE_PREFIX}{}/", group.short());
        self.state
            .references
            .iter()
            .find(|(reference, _)| reference.starts_with(&prefix))
            .map(|(_, seq)| *seq)
    }

    fn group(&mut self, group: &Group, export: &Export) {
        let short = group.short();
        if let Some(seq) = self.recorded(group) {
            return self.skip(group, format!("group {short}: already recorded at seq {seq}"));
        }
        if let Some(refund) = group.refund() {
            return self.refund(group, refund, export);
        }
        let Some(contribution) = group.contribution() else {
            let mut kinds: Vec<&str> = group.rows.iter().map(|t| t.kind.as_str()).collect();
            kinds.dedup();
            return self.skip(
                group,
                format!("group {short}: {} — not a contribution or a refund, not imported", kinds.join(", ")),
            );
        };
        let net = group.net();
        if !net.is_positive() {
            return self.skip(
                group,
                format!("group {short}: its net amount is {net} EUR; nothing reached the treasury"),
            );
        }
        let reference = format!("{REFERENCE_PREFIX}{short}/{}", contribution.id);
        for t in &group.rows {
            self.references.insert(t.id.clone(), reference.clone());
        }
        let gross = contribution.gross.unwrap_or(contribution.net);
        let tier = self.tier_of(contribution);
        let owner = self.identities.handle_of(&contribution.contributor, self.state);
        self.push(
            group,
            Planned::Deposit {
                reference: reference.clone(),
                amount: net,
                gross,
                tier: tier.clone(),
                payer: owner.clone(),
            },
        );
        let Some(tier) = tier else {
            return self.skip(
                group,
                format!("group {short}: no tier of [onboarding.tiers] ends its description: a donation, no license"),
            );
        };
        let bought = &self.state.policy.onboarding.tiers[&tier];
        if gross != bought.price.0 {
            return self.skip(
                group,
                format!(
                    "group {short}: the tier {tier:?} costs {} EUR, but {gross} EUR were paid: no license",
                    bought.price.0
                ),
            );
        }
        if group.rows.iter().any(|t| !t.refund_id.is_empty()) {
            return self.skip(group, format!("group {short}: refunded in this export: no license"));
        }
        let license = bought.license.clone();
        match owner {
            Some(owner) => self.upgrade(group, owner, license, reference),
            None => self.push(
                group,
                Planned::Invite {
                    license,
                    contributor: contribution.contributor.clone(),
                    email: contribution.email.clone(),
                    payment: reference,
                },
            ),
        }
    }

    fn upgrade(&mut self, group: &Group, owner: String, license: String, payment: String) {
        let rank = |l: &str| LICENSES.iter().position(|x| *x == l);
        let current = self.state.owners.get(&owner).map(|o| o.license.clone()).unwrap_or_default();
        if rank(&license) <= rank(&current) {
            let short = group.short();
            return self.skip(
                group,
                format!("group {short}: {owner} already holds a {current} license; the {license} purchase is recorded as a deposit"),
            );
        }
        self.push(group, Planned::Upgrade { owner, license, payment });
    }

    fn refund(&mut self, group: &Group, refund: &Transaction, export: &Export) {
        let short = group.short();
        let amount = Amount::ZERO.minus(group.net());
        if !amount.is_positive() {
            return self.skip(group, format!("group {short}: a refund of {amount} EUR gives nothing back"));
        }
        // The refunded transaction: the refund names it, or it names the refund.
        let original = if refund.refund_id.is_empty() {
            export
                .transactions
                .iter()
                .find(|t| group.rows.iter().any(|r| r.id == t.refund_id))
                .map(|t| t.id.clone())
        } else {
            Some(refund.refund_id.clone())
        };
        let refunds = original.and_then(|id| {
            self.references.get(&id).cloned().or_else(|| {
                let suffix = format!("/{id}");
                self.state
                    .references
                    .keys()
                    .find(|r| r.starts_with(REFERENCE_PREFIX) && r.ends_with(&suffix))
                    .cloned()
            })
        });
        let Some(refunds) = refunds else {
            return self.skip(
                group,
                format!("group {short}: a refund of a purchase that is neither in this export nor recorded in the ledger"),
            );
        };
        let reference = format!("{REFERENCE_PREFIX}{short}/{}", refund.id);
        self.push(
            group,
            Planned::Refund {
                reference,
                amount,
                refunds,
            },
        );
    }

    /// The tier at the end of the description (`... (Work License)`), the longest the policy
    /// lists: tier names may hold parentheses themselves.
    fn tier_of(&self, t: &Transaction) -> Option<String> {
        self.state
            .policy
            .onboarding
            .tiers
            .keys()
            .filter(|name| t.description.ends_with(&format!("({name})")))
            .max_by_key(|name| name.len())
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onboard::export::parse;
    use crate::onboard::identities::Contributor;
    use crate::rules::test_support::Book;

    fn fixture(name: &str) -> Export {
        let path = format!("{}/tests/fixtures/opencollective/{name}", env!("CARGO_MANIFEST_DIR"));
        parse(&std::fs::read(path).unwrap()).unwrap()
    }

    fn nobody() -> Identities {
        Identities::load(std::path::Path::new("/nonexistent/identities.toml")).unwrap()
    }

    /// The steps in words: `deposit <reference> <amount>`, `invite <slug> <license>`, ...
    fn told(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match &s.action {
                Planned::Deposit { reference, amount, .. } => format!("deposit {reference} {amount}"),
                Planned::Invite {
                    contributor,
                    license,
                    payment,
                    ..
                } => format!("invite {contributor} {license} paid by {payment}"),
                Planned::Upgrade { owner, license, .. } => format!("upgrade {owner} {license}"),
                Planned::Refund {
                    reference,
                    amount,
                    refunds,
                } => format!("refund {reference} {amount} of {refunds}"),
                Planned::Skip { reason } => format!("skip {reason}"),
            })
            .collect()
    }

    /// The state after the plan's deposits and refunds were recorded (their references).
    fn recorded(mut state: State, steps: &[Step]) -> State {
        for (n, step) in steps.iter().enumerate() {
            if let Planned::Deposit { reference, .. } | Planned::Refund { reference, .. } = &step.action {
                state.references.insert(reference.clone(), 100 + n as u64);
            }
        }
        state
    }

    #[test]
    fn purchases_become_deposits_and_invitations_refunds_compensate_and_the_rest_is_skipped_with_a_reason() {
        let b = Book::new();
        let steps = plan(&fixture("a.csv"), &b.state, &nobody());
        assert_eq!(
            told(&steps),
            [
                "deposit opencollective/3f2a1b9c/100221 183.90",
                "invite jane-public work paid by opencollective/3f2a1b9c/100221",
                "deposit opencollective/8c1d2e3f/100226 43.25",
                "invite guest-3a9f0c2e watch paid by opencollective/8c1d2e3f/100226",
                "deposit opencollective/5b6c7d8e/100230 9.45",
                "invite incognito-7d1e4b2a campaign paid by opencollective/5b6c7d8e/100230",
                "deposit opencollective/1a2b3c4d/100233 48.25",
                "invite zed-berlin watch paid by opencollective/1a2b3c4d/100233",
                "skip group 6e7f8a9b: EXPENSE — not a contribution or a refund, not imported",
                "deposit opencollective/9e8d7c6b/100240 48.25",
                "skip group 9e8d7c6b: refunded in this export: no license",
                "refund opencollective/7f6e5d4c/100250 50.00 of opencollective/9e8d7c6b/100240",
            ]
        );
        let Planned::Deposit { gross, tier, .. } = &steps[0].action else {
            panic!()
        };
        assert_eq!((gross.to_string().as_str(), tier.as_deref()), ("200.00", Some("Work License")));
    }

    #[test]
    fn the_same_export_again_or_an_overlapping_later_one_plans_only_what_is_new() {
        let b = Book::new();
        let first = plan(&fixture("a.csv"), &b.state, &nobody());
        let state = recorded(b.state.clone(), &first);
        let again = plan(&fixture("a.csv"), &state, &nobody());
        assert!(again.iter().all(|s| matches!(s.action, Planned::Skip { .. })), "{:?}", told(&again));
        let later = told(&plan(&fixture("a-later.csv"), &state, &nobody()));
        let new: Vec<&String> = later
            .iter()
            .filter(|s| !s.contains("already recorded") && !s.contains("EXPENSE"))
            .collect();
        assert_eq!(
            new,
            [
                "deposit opencollective/2c3d4e5f/100261 193.90",
                "invite ana-lima work paid by opencollective/2c3d4e5f/100261",
                "deposit opencollective/4d5e6f7a/100270 25.00",
                "skip group 4d5e6f7a: no tier of [onboarding.tiers] ends its description: a donation, no license",
            ],
            "a tier with parentheses is found whole; a donation is a deposit only"
        );
        // The same purchase from an export of another shape (another transaction id, the same
        // short group) is recognised too.
        let mut other = b.state.clone();
        other.references.insert("opencollective/3f2a1b9c/7a7a7a7a".into(), 9);
        let told = told(&plan(&fixture("a.csv"), &other, &nobody()));
        assert_eq!(told[0], "skip group 3f2a1b9c: already recorded at seq 9");
    }

    #[test]
    fn a_known_owner_buying_a_higher_license_is_upgraded_and_a_lower_one_is_only_a_deposit() {
        let b = Book::organisation();
        let mut ids = nobody();
        for (slug, handle) in [("zed-berlin", "carol"), ("guest-3a9f0c2e", "alice")] {
            ids.contributors.push(Contributor {
                slug: slug.into(),
                handle: Some(handle.into()),
                ..Contributor::default()
            });
        }
        let steps = told(&plan(&fixture("a.csv"), &b.state, &ids));
        assert!(steps.contains(&"upgrade carol watch".to_string()), "{steps:?}");
        assert!(
            steps.contains(
                &"skip group 8c1d2e3f: alice already holds a work license; the watch purchase is recorded as a deposit".to_string()
            ),
            "{steps:?}"
        );
    }

    #[test]
    fn shapes_b_and_c_link_refunds_by_short_ids_and_a_price_that_does_not_match_buys_nothing() {
        let b = Book::new();
        let steps = told(&plan(&fixture("b.csv"), &b.state, &nobody()));
        assert_eq!(
            steps,
            [
                "deposit opencollective/a0b1c2d3/b2c3d4e5 9.45",
                "invite guest-91b2c3d4 campaign paid by opencollective/a0b1c2d3/b2c3d4e5",
                "deposit opencollective/f0e1d2c3/a1b2c3d4 193.90",
                "invite dora-dunn work paid by opencollective/f0e1d2c3/a1b2c3d4",
                "deposit opencollective/b0c1d2e3/d3e4f5a6 48.25",
                "skip group b0c1d2e3: refunded in this export: no license",
                "refund opencollective/c1d2e3f4/e4f5a6b7 50.00 of opencollective/b0c1d2e3/d3e4f5a6",
            ]
        );
        let steps = told(&plan(&fixture("c.csv"), &b.state, &nobody()));
        assert!(
            steps.contains(
                &"skip group 4d5e6f7a: the tier \"Watch License\" costs 50.00 EUR, but 40.00 EUR were paid: no license".to_string()
            ),
            "{steps:?}"
        );
        assert!(
            steps.contains(&"invite erik-ek organizational paid by opencollective/6f7a8b9c/7a8b9c0d".to_string()),
            "{steps:?}"
        );
        // A refund whose purchase is in neither the export nor the ledger is not guessed at.
        let a = fixture("a.csv");
        let only_refund = Export {
            shape: a.shape,
            transactions: a.transactions.into_iter().filter(|t| t.is_refund).collect(),
        };
        let steps = told(&plan(&only_refund, &b.state, &nobody()));
        assert_eq!(
            steps,
            ["skip group 7f6e5d4c: a refund of a purchase that is neither in this export nor recorded in the ledger"]
        );
    }
}
