//! The one list of ledger actions: each action's name (the row's `action` column) and the
//! tables its rows go into. A unit test holds it equal to the `actions` lists of
//! `schemas/*.toml`, and the rules dispatch on it with an exhaustive `match`, so a new action
//! is guided by the compiler from here to its rule.

use super::schema::{table_id, TableId};

/// Defines [`ActionKind`] with its names and tables from one table of variants.
macro_rules! actions {
    ($($variant:ident = $name:literal in [$($table:literal),+];)+) => {
        /// A ledger action: what produced a row.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum ActionKind {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )+
        }

        impl ActionKind {
            /// Every action, in the order of the domain.
            pub const ALL: &'static [ActionKind] = &[$(ActionKind::$variant),+];

            /// The name written in the row's `action` column.
            pub fn name(self) -> &'static str {
                match self {
                    $(ActionKind::$variant => $name,)+
                }
            }

            /// The action a row's `action` column names, if it is one.
            pub fn parse(name: &str) -> Option<ActionKind> {
                match name {
                    $($name => Some(ActionKind::$variant),)+
                    _ => None,
                }
            }

            /// The names of the tables this action's rows go into (its main table first).
            pub fn table_names(self) -> &'static [&'static str] {
                match self {
                    $(ActionKind::$variant => &[$($table),+],)+
                }
            }
        }
    };
}

actions! {
    RegisterSmartup = "register-smartup" in ["master-events"];
    AmendPolicy = "amend-policy" in ["master-events"];
    RegisterKey = "register-key" in ["keys"];
    RotateKey = "rotate-key" in ["keys"];
    RevokeKey = "revoke-key" in ["keys"];
    RequestRecovery = "request-recovery" in ["keys"];
    ConfirmRecovery = "confirm-recovery" in ["keys"];
    CancelRecovery = "cancel-recovery" in ["keys"];
    CompleteRecovery = "complete-recovery" in ["keys"];
    CreateOwner = "create-owner" in ["book-of-owners"];
    Invite = "invite" in ["invitations"];
    Join = "join" in ["invitations"];
    ChangeLicense = "change-license" in ["book-of-owners"];
    BootstrapTeams = "bootstrap-teams" in ["teams"];
    AssignRole = "assign-role" in ["roles"];
    SetRole = "set-role" in ["roles"];
    CreateObjective = "create-objective" in ["objectives"];
    CreateTask = "create-task" in ["task-budgets"];
    AssignTask = "assign-task" in ["task_claimed"];
    StartTask = "start-task" in ["task_claimed"];
    StartWork = "start-work" in ["work_clock"];
    StopWork = "stop-work" in ["work_clock", "session_logs"];
    AssessWork = "assess-work" in ["pending-sc"];
    ApprovePendingSc = "approve-pending-sc" in ["pending-sc"];
    ObjectPendingSc = "object-pending-sc" in ["pending-sc"];
    ResolveObjection = "resolve-objection" in ["pending-sc"];
    ValidatePendingSc = "validate-pending-sc" in ["pending-sc"];
    DepositEur = "deposit-eur" in ["transactions"];
    RefundEur = "refund-eur" in ["transactions"];
    PayoutSc = "payout-sc" in ["transactions"];
    AwardSk = "award-sk" in ["transactions"];
    ImportLegacy = "import-legacy" in ["legacy-records"];
    LinkMatrix = "link-matrix" in ["matrix-accounts"];
    Propose = "propose" in ["proposals"];
    Object = "object" in ["proposals"];
    Vote = "vote" in ["proposals"];
    CloseProposal = "close-proposal" in ["proposals"];
    ReleaseTranche = "release-tranche" in ["proposals"];
}

impl ActionKind {
    /// The table its rows go into (for `stop-work`, the clock row's; its session log row
    /// names its table itself).
    pub fn table(self) -> TableId {
        // The test below holds every name to a built-in schema.
        table_id(self.table_names()[0]).unwrap_or_default()
    }

    /// Whether its rows are portable: signed before their place in the ledger is known, so
    /// that their signature leaves out `seq` and `timestamp`, which the owner who relays the
    /// row fills in (a newcomer's `join`, written before they may push).
    pub fn portable(self) -> bool {
        self == ActionKind::Join
    }

    /// Whether this action writes rows into the table called `table`.
    pub fn writes_to(self, table: &str) -> bool {
        self.table_names().contains(&table)
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::schema::tables;

    #[test]
    fn the_action_list_matches_the_schemas_exactly() {
        for table in tables() {
            let from_list: Vec<&str> = ActionKind::ALL
                .iter()
                .filter(|a| a.writes_to(&table.name))
                .map(|a| a.name())
                .collect();
            let mut from_schema: Vec<&str> = table.actions.iter().map(String::as_str).collect();
            let mut sorted = from_list.clone();
            sorted.sort_unstable();
            from_schema.sort_unstable();
            assert_eq!(sorted, from_schema, "actions of table {}", table.name);
        }
        for action in ActionKind::ALL {
            for table in action.table_names() {
                assert!(table_id(table).is_some(), "{action} names an unknown table {table}");
            }
            assert_eq!(ActionKind::parse(action.name()), Some(*action));
        }
        assert_eq!(ActionKind::parse("no-such-action"), None);
    }
}
