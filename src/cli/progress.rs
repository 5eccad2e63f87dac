//! A progress bar on a terminal's standard error (never with `--json`, never into a pipe).

use super::Global;
use std::io::{IsTerminal, Write};

/// A progress bar, kept below the lines printed meanwhile.
pub struct Progress {
    on: bool,
}

impl Progress {
    /// A bar that shows only when standard error is a terminal and the output is not JSON.
    pub fn new(global: &Global) -> Progress {
        Progress {
            on: !global.json && std::io::stderr().is_terminal(),
        }
    }

    /// Draws `what [####    ] done/all`; a new line once done.
    pub fn show(&self, what: &str, done: usize, all: usize) {
        if !self.on {
            return;
        }
        let width = 30;
        let filled = (done * width / all.max(1)).min(width);
        eprint!("\r\x1b[K{what} [{}{}] {done}/{all}", "#".repeat(filled), " ".repeat(width - filled));
        if done >= all {
            eprintln!();
        }
        std::io::stderr().flush().ok();
    }

    /// Prints a line on standard output without leaving a half-drawn bar above it.
    pub fn line(&self, text: &str) {
        if self.on {
            eprint!("\r\x1b[K");
        }
        println!("{text}");
    }
}
