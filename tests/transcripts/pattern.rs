//! Expected output with wildcards: a line `...` stands for any number of lines (none
//! included), `[..]` within a line for any text. Also the blessed expectation (actual output
//! that keeps the wildcards still matching) and a line diff for failures.

/// A line that stands for any number of lines.
pub const ANY_LINES: &str = "...";
/// Text within a line that stands for any text.
pub const ANY_TEXT: &str = "[..]";

/// Whether `actual` fits the `expected` lines.
pub fn lines_match(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == ANY_LINES => (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..])),
        Some((first, rest)) => match actual.split_first() {
            Some((line, actual_rest)) => line_matches(first, line) && lines_match(rest, actual_rest),
            None => false,
        },
    }
}

/// Whether one line fits a pattern in which `[..]` stands for any text.
pub fn line_matches(pattern: &str, line: &str) -> bool {
    let mut parts = pattern.split(ANY_TEXT);
    let Some(mut rest) = line.strip_prefix(parts.next().unwrap_or_default()) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// The expectation bless mode writes: the actual output, where each line keeps its expected
/// pattern when the line counts agree and that pattern still matches.
pub fn blessed(expected: &[String], actual: &[String]) -> Vec<String> {
    if expected.len() != actual.len() {
        return actual.to_vec();
    }
    expected
        .iter()
        .zip(actual)
        .map(|(pattern, line)| if line_matches(pattern, line) { pattern } else { line }.clone())
        .collect()
}

/// Lines of context a diff shows around each change.
const CONTEXT: usize = 3;

/// A line diff: `  ` for lines that match, `- ` for expected lines missing, `+ ` for actual
/// lines not expected (longest common subsequence, patterns matching as equal); runs of
/// matching lines further than a few lines from a change are left out (`  ...`).
pub fn diff(expected: &[String], actual: &[String]) -> String {
    let (n, m) = (expected.len(), actual.len());
    // common[i][j]: the longest common subsequence of expected[i..] and actual[j..].
    let mut common = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            common[i][j] = if line_matches(&expected[i], &actual[j]) {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut lines) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && line_matches(&expected[i], &actual[j]) {
            lines.push(format!("  {}", actual[j]));
            (i, j) = (i + 1, j + 1);
        } else if i < n && (j == m || common[i + 1][j] >= common[i][j + 1]) {
            lines.push(format!("- {}", expected[i]));
            i += 1;
        } else {
            lines.push(format!("+ {}", actual[j]));
            j += 1;
        }
    }
    let changed: Vec<usize> = (0..lines.len()).filter(|&k| !lines[k].starts_with("  ")).collect();
    let near_change = |k: usize| changed.iter().any(|&c| c.abs_diff(k) <= CONTEXT);
    let mut out = String::new();
    for (k, line) in lines.iter().enumerate() {
        if near_change(k) {
            out += line;
            out.push('\n');
        } else if k == 0 || near_change(k - 1) {
            out += "  ...\n";
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn text_wildcards_match_any_text_in_place() {
        assert!(line_matches("ok: 26 rows in [..] s.", "ok: 26 rows in 0.01 s."));
        assert!(line_matches("[..]", ""));
        assert!(line_matches("a[..]b[..]c", "aXbYbc"));
        assert!(line_matches("exact", "exact"));
        assert!(!line_matches("exact", "exact "));
        assert!(!line_matches("ok: [..] rows", "ok: 26 rows in 1 s"));
        assert!(!line_matches("a[..]aa", "aa"));
    }

    #[test]
    fn an_ellipsis_line_matches_any_number_of_lines() {
        assert!(lines_match(&lines("a\n...\nd"), &lines("a\nb\nc\nd")));
        assert!(lines_match(&lines("a\n...\nd"), &lines("a\nd")));
        assert!(lines_match(&lines("..."), &[]));
        assert!(!lines_match(&lines("a\n...\nd"), &lines("a\nb")));
        assert!(!lines_match(&lines("a"), &lines("a\nb")));
        assert!(!lines_match(&lines("a\nb"), &lines("a")));
    }

    #[test]
    fn blessing_keeps_patterns_that_still_match() {
        let expected = lines("took [..] s\nold");
        assert_eq!(blessed(&expected, &lines("took 3 s\nnew")), lines("took [..] s\nnew"));
        assert_eq!(blessed(&expected, &lines("took 3 s")), lines("took 3 s"));
    }

    #[test]
    fn the_diff_marks_missing_and_unexpected_lines() {
        let d = diff(&lines("a\nb[..]\nc"), &lines("a\nbee\nd"));
        assert_eq!(d, "  a\n  bee\n- c\n+ d\n");
    }

    #[test]
    fn the_diff_leaves_out_matching_lines_far_from_changes() {
        let same: Vec<String> = (1..=10).map(|k| k.to_string()).collect();
        let mut changed = same.clone();
        changed[9] = "ten".to_string();
        assert_eq!(diff(&same, &changed), "  ...\n  7\n  8\n  9\n- 10\n+ ten\n");
    }
}
