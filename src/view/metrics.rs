//! The ledger as Prometheus gauges, in the text exposition format node_exporter's textfile
//! collector reads: money, the 3x rule, owners per license, tasks per team and status, open
//! proposals, rows per table, refused pushes by code and the last row. No label names a person.

use super::balances::balances;
use super::status::{board, TaskStatus};
use crate::money::Amount;
use crate::rules::State;
use crate::time::Timestamp;
use std::collections::BTreeMap;
use std::fmt::Write;

/// What the gauges are read from besides the state: rows per table and refusals by code.
pub struct Counts<'a> {
    /// Rows per table name.
    pub rows: &'a BTreeMap<String, u64>,
    /// Refused pushes' problems per code (the forge's tally).
    pub refusals: &'a BTreeMap<String, u64>,
}

fn number(amount: Amount) -> String {
    amount.to_string()
}

/// Escapes a label value.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// One metric: its help, type and samples (`labels` → value).
fn metric(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, String)]) {
    let _ = writeln!(out, "# HELP smartup_{name} {help}\n# TYPE smartup_{name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "smartup_{name}{labels} {value}");
    }
}

/// The gauges of the ledger `state` as of its last row.
pub fn render(state: &State, counts: &Counts) -> String {
    let at = state.last_timestamp.unwrap_or(Timestamp(0));
    let view = balances(state, at);
    let t = &view.treasury;
    let ratio = if t.sc_limit.0 > 0 {
        format!("{:.4}", t.sc_outstanding.0 as f64 / t.sc_limit.0 as f64)
    } else {
        "0".into()
    };
    let one = |value: String| vec![(String::new(), value)];
    let mut out = String::new();
    metric(&mut out, "treasury_eur", "gauge", "EUR in the treasury.", &one(number(t.eur)));
    metric(
        &mut out,
        "sc_outstanding",
        "gauge",
        "Validated SC held by owners.",
        &one(number(t.sc_outstanding)),
    );
    metric(
        &mut out,
        "sc_pending",
        "gauge",
        "SC assessed and not yet validated.",
        &one(number(t.sc_pending)),
    );
    metric(
        &mut out,
        "sc_pending_in_tranches",
        "gauge",
        "SC pending in the tranches of retrospective awards (never outstanding until released).",
        &one(number(t.sc_pending_in_tranches)),
    );
    metric(
        &mut out,
        "sc_limit",
        "gauge",
        "3 x the treasury: the most SC outstanding may be.",
        &one(number(t.sc_limit)),
    );
    metric(
        &mut out,
        "three_x_ratio",
        "gauge",
        "SC outstanding over the SC limit (above 1: the 3x rule is broken).",
        &one(ratio),
    );
    let mut licenses: BTreeMap<&str, u64> = BTreeMap::new();
    for o in &view.owners {
        *licenses.entry(o.license.as_str()).or_default() += 1;
    }
    let samples: Vec<(String, String)> = licenses
        .iter()
        .map(|(l, n)| (format!("{{license=\"{}\"}}", label(l)), n.to_string()))
        .collect();
    metric(&mut out, "owners", "gauge", "Owners per license.", &samples);
    let tasks = board(state, at);
    let mut per: BTreeMap<(String, &str), u64> = BTreeMap::new();
    for (task, line) in state.tasks.values().zip(&tasks.tasks) {
        *per.entry((task.team.clone(), line.status.word())).or_default() += 1;
    }
    let samples: Vec<(String, String)> = per
        .iter()
        .map(|((team, status), n)| (format!("{{team=\"{}\",status=\"{}\"}}", label(team), label(status)), n.to_string()))
        .collect();
    metric(&mut out, "tasks", "gauge", "Tasks per team and status.", &samples);
    let open = tasks.tasks.iter().filter(|t| t.status != TaskStatus::Paid).count();
    metric(&mut out, "open_tasks", "gauge", "Tasks not paid yet.", &one(open.to_string()));
    metric(
        &mut out,
        "open_proposals",
        "gauge",
        "Proposals not closed yet.",
        &one(tasks.proposals.len().to_string()),
    );
    let samples: Vec<(String, String)> = counts
        .rows
        .iter()
        .map(|(table, n)| (format!("{{table=\"{}\"}}", label(table)), n.to_string()))
        .collect();
    metric(&mut out, "rows", "gauge", "Rows per table.", &samples);
    let samples: Vec<(String, String)> = counts
        .refusals
        .iter()
        .map(|(code, n)| (format!("{{code=\"{}\"}}", label(code)), n.to_string()))
        .collect();
    metric(
        &mut out,
        "hook_refusals_total",
        "counter",
        "Problems of refused pushes, by code.",
        &samples,
    );
    metric(
        &mut out,
        "last_seq",
        "gauge",
        "Seq of the last row.",
        &one(state.last_seq.to_string()),
    );
    metric(
        &mut out,
        "last_row_timestamp_seconds",
        "gauge",
        "When the last row was recorded (Unix time).",
        &one(at.0.to_string()),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::Book;

    #[test]
    fn the_gauges_show_the_treasury_the_rule_and_no_person() {
        let b = Book::paid_after_one_session();
        let rows = BTreeMap::from([("roles".to_string(), 3)]);
        let refusals = BTreeMap::from([("history".to_string(), 2)]);
        let text = render(
            &b.state,
            &Counts {
                rows: &rows,
                refusals: &refusals,
            },
        );
        assert!(text.contains("smartup_treasury_eur 1000.00\n"), "{text}");
        assert!(text.contains("smartup_sc_outstanding 49.50\n"), "{text}");
        assert!(text.contains("smartup_three_x_ratio 0.0165\n"), "{text}");
        assert!(text.contains("smartup_sc_pending_in_tranches 82200.00\n"), "{text}");
        assert!(text.contains("smartup_open_proposals 0\n"), "{text}");
        assert!(text.contains("smartup_rows{table=\"roles\"} 3\n"), "{text}");
        assert!(text.contains("smartup_hook_refusals_total{code=\"history\"} 2\n"), "{text}");
        assert!(text.contains("status=\"paid\"} 1\n"), "{text}");
        for owner in b.state.owners.keys() {
            assert!(!text.contains(&format!("\"{owner}\"")), "no label names {owner}");
        }
    }
}
