//! A transcript file: markdown whose ```console blocks hold commands (`$ command`), each
//! followed by an optional exit-code line (`? 1`, when not 0) and the expected output
//! (standard output and standard error, interleaved). Everything else is kept as it is, so a
//! blessed file differs from the original only in the expectations.

/// One command of a transcript with what it is expected to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The 1-based line of the `$` line, for messages.
    pub line: usize,
    /// The command, run by `sh -c`.
    pub command: String,
    /// The expected exit code.
    pub status: i32,
    /// The expected output lines, wildcards included.
    pub expected: Vec<String>,
}

/// A line of text kept as written, or a command with its expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A line outside a command (prose, fences, other code blocks).
    Text(String),
    /// A command and its expectation.
    Step(Step),
}

/// A parsed transcript file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The file's lines, grouped.
    pub pieces: Vec<Piece>,
}

const OPEN: &str = "```console";
const CLOSE: &str = "```";
const PROMPT: &str = "$ ";
const STATUS: &str = "? ";

impl Document {
    /// Parses a transcript; an output line before the first command of a block is an error.
    pub fn parse(text: &str) -> Result<Document, String> {
        let mut pieces = Vec::new();
        let mut in_console = false;
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            if !in_console {
                in_console = line.trim_end() == OPEN;
                pieces.push(Piece::Text(line.to_string()));
            } else if line.trim_end() == CLOSE {
                in_console = false;
                pieces.push(Piece::Text(line.to_string()));
            } else if let Some(command) = line.strip_prefix(PROMPT) {
                pieces.push(Piece::Step(Step {
                    line: number,
                    command: command.to_string(),
                    status: 0,
                    expected: Vec::new(),
                }));
            } else {
                let Some(Piece::Step(step)) = pieces.last_mut() else {
                    return Err(format!("line {number}: output before the first `$ ` command of a console block"));
                };
                match line.strip_prefix(STATUS) {
                    Some(code) if step.expected.is_empty() && step.status == 0 => {
                        step.status = code
                            .trim()
                            .parse()
                            .map_err(|_| format!("line {number}: `{line}` is not an exit code line like `? 1`"))?;
                    }
                    _ => step.expected.push(line.to_string()),
                }
            }
        }
        if in_console {
            return Err("a console block is not closed".to_string());
        }
        Ok(Document { pieces })
    }

    /// The commands, in order.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Step(step) => Some(step),
            Piece::Text(_) => None,
        })
    }

    /// The commands, in order, to update their expectations.
    pub fn steps_mut(&mut self) -> impl Iterator<Item = &mut Step> {
        self.pieces.iter_mut().filter_map(|piece| match piece {
            Piece::Step(step) => Some(step),
            Piece::Text(_) => None,
        })
    }

    /// The file's text again (every line ending in a newline).
    pub fn render(&self) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(line) => push_line(&mut out, line),
                Piece::Step(step) => {
                    push_line(&mut out, &format!("{PROMPT}{}", step.command));
                    if step.status != 0 {
                        push_line(&mut out, &format!("{STATUS}{}", step.status));
                    }
                    step.expected.iter().for_each(|line| push_line(&mut out, line));
                }
            }
        }
        out
    }
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# Title\n\n```console\n$ echo hi\nhi\n$ false\n? 1\n$ true\n```\n\n```sh\n$ not a command\n```\n";

    #[test]
    fn commands_statuses_and_outputs_are_read_from_console_blocks_only() {
        let doc = Document::parse(SAMPLE).unwrap();
        let steps: Vec<_> = doc
            .steps()
            .map(|s| (s.line, s.command.as_str(), s.status, s.expected.clone()))
            .collect();
        assert_eq!(
            steps,
            vec![
                (4, "echo hi", 0, vec!["hi".to_string()]),
                (6, "false", 1, vec![]),
                (8, "true", 0, vec![]),
            ]
        );
    }

    #[test]
    fn rendering_gives_back_the_file() {
        assert_eq!(Document::parse(SAMPLE).unwrap().render(), SAMPLE);
    }

    #[test]
    fn a_question_mark_line_after_output_is_output() {
        let doc = Document::parse("```console\n$ cat q\nwhat\n? 2\n```\n").unwrap();
        let step = doc.steps().next().unwrap();
        assert_eq!(
            (step.status, step.expected.clone()),
            (0, vec!["what".to_string(), "? 2".to_string()])
        );
    }

    #[test]
    fn malformed_files_are_refused() {
        assert!(Document::parse("```console\nstray\n```\n").is_err());
        assert!(Document::parse("```console\n$ true\n").is_err());
        assert!(Document::parse("```console\n$ true\n? one\n```\n").is_err());
    }
}
