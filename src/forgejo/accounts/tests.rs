//! The accounts plan, from the test organisation of the rules.

use super::*;
use crate::rules::test_support::Book;

fn emails() -> BTreeMap<String, String> {
    BTreeMap::from([("alice".to_string(), "alice@example.org".to_string())])
}

fn steps(plan: &Plan) -> Vec<String> {
    plan.steps.iter().map(Step::describe).collect()
}

#[test]
fn an_empty_forge_gets_an_account_per_owner_their_keys_and_their_teams() {
    let b = Book::organisation();
    let known = emails();
    let desired = desired(
        &b.state,
        &Emails {
            known: &known,
            placeholder_domain: Some("users.invalid"),
        },
    );
    let plan = plan(&desired, &Observed::default());
    let all = steps(&plan);
    assert!(plan.blocked.is_empty());
    assert!(
        all.contains(&"create the account alice (e-mail alice@example.org, from the identity file; must change its password)".to_string()),
        "{all:#?}"
    );
    assert!(all
        .contains(&"create the account bob (e-mail bob@users.invalid, from the placeholder domain; must change its password)".to_string()));
    assert!(all.contains(&format!("add key {} to alice", b.keys["alice"])));
    for team in [FORUM_TEAM, WORKPLACE_TEAM, "3_1_leadership_team", "3_2_design_team"] {
        assert!(all.contains(&format!("create the team {team}")), "{team}: {all:#?}");
    }
    assert!(all.contains(&"add carol to the team 1_general_forum".to_string()));
    assert!(
        !all.contains(&"add carol to the team 2_workplace".to_string()),
        "a campaign license is not work"
    );
    assert!(all.contains(&"add alice to the team 2_workplace".to_string()));
    assert!(
        all.contains(&"add cap to the team 3_2_design_team".to_string())
            && all.contains(&"add maya to the team 3_2_design_team".to_string())
    );
    let first_team = all.iter().position(|s| s.starts_with("create the team")).unwrap();
    assert!(
        all[..first_team]
            .iter()
            .all(|s| s.starts_with("create the account") || s.starts_with("add key")),
        "accounts and keys first"
    );
}

#[test]
fn what_exists_is_not_planned_again_and_only_managed_things_are_removed() {
    let mut b = Book::organisation();
    let known = emails();
    let emails = Emails {
        known: &known,
        placeholder_domain: Some("users.invalid"),
    };
    let first = desired(&b.state, &emails);
    // Forgejo as the first plan left it, plus a key alice added herself and a member of the
    // forum team who is no owner.
    let mut observed = Observed::default();
    let mut id = 0;
    for user in &first.users {
        let keys = user
            .keys
            .keys()
            .map(|fp| {
                id += 1;
                ObservedKey {
                    id,
                    fingerprint: fp.clone(),
                }
            })
            .collect();
        observed.users.insert(user.login.clone(), keys);
    }
    observed.users.get_mut("alice").unwrap().push(ObservedKey {
        id: 99,
        fingerprint: "SHA256:her-own".into(),
    });
    for (n, team) in first.teams.iter().enumerate() {
        let mut members: BTreeSet<String> = team.members.clone();
        if team.name == FORUM_TEAM {
            members.insert("visitor".into());
        }
        observed.teams.insert(
            team.name.clone(),
            ObservedTeam {
                id: 100 + n as i64,
                members,
            },
        );
    }
    assert_eq!(plan(&first, &observed), Plan::default(), "a second run plans nothing");

    // alice rotates her key; bob loses his junior role.
    let new_key = b.new_key("alice-new");
    let old = b.keys["alice"].clone();
    b.ok(
        "alice",
        "rotate-key",
        &[("owner", "alice"), ("public_key", &new_key), ("revokes", &old)],
    );
    b.ok("cap", "set-role", &[("role", "4_3_1"), ("team", "3_2"), ("position", "junior")]);
    let after = desired(&b.state, &emails);
    let all = steps(&plan(&after, &observed));
    let new = b.keys["alice-new"].clone();
    assert_eq!(
        all,
        [
            format!("add key {new} to alice"),
            format!("remove key {old} from alice (revoked in the ledger)"),
            "remove bob from the team 3_2_design_team".to_string(),
        ],
        "her own key and the visitor stay"
    );
}

#[test]
fn an_owner_without_an_account_or_a_known_e_mail_is_reported_not_guessed() {
    let b = Book::organisation();
    let known = emails();
    let desired = desired(
        &b.state,
        &Emails {
            known: &known,
            placeholder_domain: None,
        },
    );
    let plan = plan(&desired, &Observed::default());
    assert!(
        plan.blocked
            .iter()
            .any(|b| b.starts_with("bob has no Forgejo account and no known e-mail")),
        "{:?}",
        plan.blocked
    );
    assert!(!steps(&plan).iter().any(|s| s.contains(" bob")), "nothing is planned for bob");
}
