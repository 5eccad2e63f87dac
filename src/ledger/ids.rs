//! Smartup identifiers: `3_X` teams, `4_X_Y` roles, `5_X_Y` objectives, `6_X_Y_Z` tasks, each
//! with an optional readable suffix, and owner handles.

/// The kinds of numbered identifier, by group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    /// Group 3: `3_X`.
    Team,
    /// Group 4: `4_X_Y`.
    Role,
    /// Group 5: `5_X_Y`.
    Objective,
    /// Group 6: `6_X_Y_Z`.
    Task,
}

impl IdKind {
    fn prefix_and_numbers(self) -> (&'static str, usize) {
        match self {
            IdKind::Team => ("3", 1),
            IdKind::Role => ("4", 2),
            IdKind::Objective => ("5", 2),
            IdKind::Task => ("6", 3),
        }
    }

    /// An example, for messages.
    pub fn example(self) -> &'static str {
        match self {
            IdKind::Team => "3_2_design_team",
            IdKind::Role => "4_2_1",
            IdKind::Objective => "5_1_0",
            IdKind::Task => "6_1_0_3",
        }
    }
}

/// Checks an identifier and returns its numeric identity (`6_0_3_0_fix` → `6_0_3_0`).
pub fn numeric_identity(id: &str, kind: IdKind) -> Result<String, String> {
    let (prefix, numbers) = kind.prefix_and_numbers();
    let bad = || {
        format!(
            "{id:?} is not a {kind:?} id: expected {prefix}_ followed by {numbers} number(s) and an optional suffix, like {}",
            kind.example()
        )
    };
    let mut parts = id.split('_');
    if parts.next() != Some(prefix) {
        return Err(bad());
    }
    let mut identity = prefix.to_string();
    for _ in 0..numbers {
        let n = parts.next().ok_or_else(bad)?;
        if n.is_empty() || n.len() > 6 || !n.bytes().all(|b| b.is_ascii_digit()) || (n.len() > 1 && n.starts_with('0')) {
            return Err(bad());
        }
        identity.push('_');
        identity.push_str(n);
    }
    let suffix: Vec<&str> = parts.collect();
    if suffix
        .iter()
        .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return Err(bad());
    }
    if suffix.first().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(bad());
    }
    Ok(identity)
}

/// The numbers of an identifier (`4_2_7` → `[4, 2, 7]`), assuming it was checked.
pub fn numbers(id: &str) -> Vec<u32> {
    id.split('_').map_while(|p| p.parse().ok()).collect()
}

/// Checks an owner handle: a Forgejo-style user name in lower case.
pub fn check_handle(handle: &str) -> Result<(), String> {
    let ok = !handle.is_empty()
        && handle.len() <= 40
        && handle
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
        && handle.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && handle.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(format!("{handle:?} is not a handle: use 1 to 40 lower-case letters, digits, '-', '_' or '.', starting and ending with a letter or digit"))
    }
}

/// Checks a Matrix user id of the homeserver `server_name`: `@localpart:server_name`, the
/// local part in the characters Matrix allows (`a-z`, `0-9`, `.`, `_`, `=`, `-`, `/`).
pub fn check_matrix_user(user: &str, server_name: &str) -> Result<(), String> {
    let bad = |why: &str| format!("{user:?} is not a Matrix user id of {server_name}: {why}, like @jane:{server_name}");
    let rest = user.strip_prefix('@').ok_or_else(|| bad("it must begin with @"))?;
    let (local, server) = rest.split_once(':').ok_or_else(|| bad("the server name is missing"))?;
    if server != server_name {
        return Err(bad("it belongs to another server"));
    }
    if !matrix_localpart(local) {
        return Err(bad("the part before ':' may hold only a-z, 0-9, '.', '_', '=', '-' and '/'"));
    }
    Ok(())
}

/// Whether `local` is a Matrix local part (of a user id or an alias) of 1 to 200 allowed
/// characters.
pub fn matrix_localpart(local: &str) -> bool {
    (1..=200).contains(&local.len())
        && local
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._=-/".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_ignore_the_readable_suffix() {
        assert_eq!(numeric_identity("6_0_3_0_fix-login", IdKind::Task).unwrap(), "6_0_3_0");
        assert_eq!(numeric_identity("3_2_design_team", IdKind::Team).unwrap(), "3_2");
        assert_eq!(numeric_identity("4_1_2_tc_design_team", IdKind::Role).unwrap(), "4_1_2");
        assert_eq!(numbers("4_1_2_tc"), vec![4, 1, 2]);
    }

    #[test]
    fn refuses_wrong_groups_and_shapes() {
        for (id, kind) in [
            ("5_1", IdKind::Objective),
            ("6_1_2_3", IdKind::Objective),
            ("3_x", IdKind::Team),
            ("6_1_2", IdKind::Task),
            ("6_1_2_3_", IdKind::Task),
            ("3_01", IdKind::Team),
            ("3_1_2", IdKind::Team),
            ("3_1_bad name", IdKind::Team),
        ] {
            assert!(numeric_identity(id, kind).is_err(), "{id}");
        }
    }

    #[test]
    fn handles() {
        assert!(check_handle("alice").is_ok());
        assert!(check_handle("a.b-c_d9").is_ok());
        for bad in ["", "Alice", "-alice", "alice-", "al ice", "ali,ce"] {
            assert!(check_handle(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matrix_user_ids() {
        assert!(check_matrix_user("@jane:example.org", "example.org").is_ok());
        assert!(check_matrix_user("@j.a_n=e-/1:localhost", "localhost").is_ok());
        for bad in [
            "jane:example.org",
            "@jane",
            "@jane:other.org",
            "@Jane:example.org",
            "@:example.org",
            "@ja ne:example.org",
        ] {
            assert!(check_matrix_user(bad, "example.org").is_err(), "{bad}");
        }
    }
}
