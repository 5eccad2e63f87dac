//! The part of an issue body (or milestone description) the sync owns, between two HTML
//! comments that Forgejo does not render:
//!
//! ```text
//! <!-- smartup:begin task=6_2_1_1 ledger=<ledger id> -->
//! … written by the sync …
//! <!-- smartup:end -->
//! ```
//!
//! The begin marker is how an issue is found again (never by its title): it names the task,
//! objective or proposal and the ledger. Text outside the markers belongs to people and is kept as
//! they wrote it. When the end marker is lost, only the begin marker is replaced, so no
//! human text is ever dropped.

use std::fmt;

const BEGIN: &str = "<!-- smartup:begin ";
const CLOSE: &str = " -->";
/// The end marker.
pub const END: &str = "<!-- smartup:end -->";

/// What a section is about: a task or an objective, by numeric identity, or a proposal, by
/// the seq of its propose row.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// A task, `6_X_Y_Z`.
    Task(String),
    /// An objective, `5_X_Y`.
    Objective(String),
    /// A proposal, `33`.
    Proposal(String),
}

impl Key {
    fn kind(&self) -> &'static str {
        match self {
            Key::Task(_) => "task",
            Key::Objective(_) => "objective",
            Key::Proposal(_) => "proposal",
        }
    }

    /// The numeric identity (a proposal's seq).
    pub fn id(&self) -> &str {
        match self {
            Key::Task(id) | Key::Objective(id) | Key::Proposal(id) => id,
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.id())
    }
}

/// A section found in a text: whose it is and the byte range it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// Whose section it is.
    pub key: Key,
    start: usize,
    end: usize,
}

/// The section as the sync writes it.
pub fn wrap(key: &Key, ledger: &str, content: &str) -> String {
    format!(
        "{BEGIN}{}={} ledger={ledger}{CLOSE}\n{}\n{END}",
        key.kind(),
        key.id(),
        content.trim_end()
    )
}

/// The first section of this ledger in `text`.
pub fn find(text: &str, ledger: &str) -> Option<Located> {
    let mut from = 0;
    while let Some(offset) = text[from..].find(BEGIN) {
        let start = from + offset;
        let inner_start = start + BEGIN.len();
        let Some(close) = text[inner_start..].find(CLOSE) else { break };
        let inner = &text[inner_start..inner_start + close];
        let after_begin = inner_start + close + CLOSE.len();
        if let Some(key) = parse(inner, ledger) {
            let end = text[after_begin..].find(END).map_or(after_begin, |e| after_begin + e + END.len());
            return Some(Located { key, start, end });
        }
        from = after_begin;
    }
    None
}

fn parse(inner: &str, ledger: &str) -> Option<Key> {
    let mut key = None;
    let mut same_ledger = false;
    for token in inner.split_whitespace() {
        match token.split_once('=')? {
            ("task", id) => key = Some(Key::Task(id.to_string())),
            ("objective", id) => key = Some(Key::Objective(id.to_string())),
            ("proposal", id) => key = Some(Key::Proposal(id.to_string())),
            ("ledger", id) => same_ledger = id == ledger,
            _ => return None,
        }
    }
    key.filter(|_| same_ledger)
}

impl Located {
    /// Where the section of `key` goes in a text that lost it: at its end.
    pub fn missing(key: Key, text: &str) -> Located {
        Located {
            key,
            start: text.len(),
            end: text.len(),
        }
    }

    /// The section's text as found, line ends normalised (a browser edit turns them into
    /// CRLF), to compare with what the sync would write.
    pub fn current(&self, text: &str) -> String {
        text[self.start..self.end].replace("\r\n", "\n")
    }

    /// `text` with the section replaced by `section` and everything else kept (a section
    /// that went missing is put back after the text, a blank line between).
    pub fn splice(&self, text: &str, section: &str) -> String {
        let gap = if self.start == self.end && self.start == text.len() && !text.trim().is_empty() {
            "\n\n"
        } else {
            ""
        };
        format!("{}{gap}{section}{}", &text[..self.start], &text[self.end..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEDGER: &str = "0123456789abcdef0123";

    #[test]
    fn a_section_is_found_again_and_replaced_without_touching_the_rest() {
        let key = Key::Task("6_2_1_1".into());
        let section = wrap(&key, LEDGER, "Status: open\n");
        let body = format!(
            "Notes above\r\n\r\n{}\r\n\r\nNotes below, edited in a browser",
            section.replace('\n', "\r\n")
        );
        let found = find(&body, LEDGER).unwrap();
        assert_eq!(found.key, key);
        assert_eq!(found.current(&body), section);
        let new = wrap(&key, LEDGER, "Status: paid");
        assert_eq!(
            found.splice(&body, &new),
            format!("Notes above\r\n\r\n{new}\r\n\r\nNotes below, edited in a browser")
        );
    }

    #[test]
    fn other_ledgers_and_broken_markers_are_not_ours() {
        let other = wrap(&Key::Objective("5_2_1".into()), "another-ledger-id-000", "x");
        assert_eq!(find(&other, LEDGER), None);
        assert_eq!(find("<!-- smartup:begin task=6_1_1_1 ledger=", LEDGER), None);
        assert_eq!(find("<!-- smartup:begin colour=red ledger=0123456789abcdef0123 -->", LEDGER), None);
        let both = format!("{other}\n{}", wrap(&Key::Objective("5_2_1".into()), LEDGER, "y"));
        assert_eq!(find(&both, LEDGER).map(|f| f.key), Some(Key::Objective("5_2_1".into())));
    }

    #[test]
    fn a_proposals_section_is_found_by_its_number() {
        let key = Key::Proposal("34".into());
        let section = wrap(&key, LEDGER, "voting");
        assert!(section.starts_with("<!-- smartup:begin proposal=34 ledger=0123456789abcdef0123 -->\n"));
        assert_eq!(
            find(&format!("A person's words\n\n{section}"), LEDGER).map(|f| f.key),
            Some(key.clone())
        );
        assert_eq!(key.to_string(), "proposal 34");
    }

    #[test]
    fn without_its_end_marker_only_the_begin_marker_is_replaced() {
        let key = Key::Task("6_2_1_1".into());
        let body = format!("{BEGIN}task=6_2_1_1 ledger={LEDGER}{CLOSE}\nold lines a person may have kept");
        let found = find(&body, LEDGER).unwrap();
        let new = wrap(&key, LEDGER, "fresh");
        assert_eq!(found.splice(&body, &new), format!("{new}\nold lines a person may have kept"));
    }
}
