//! The Markdown renderers: the same pages for an MkDocs-style docs site (`docs/` in folders,
//! links to `.md` files, `mkdocs.yml` with the nav) and for a Forgejo wiki (one flat page per
//! file, links by page name, `_Sidebar.md`).

use super::doc::{Block, Inline, Page, PageId, Table, Target};
use super::{Frame, NAV};
use std::fmt::Write;

/// Which Markdown site the pages are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// MkDocs: `docs/owners/alice.md`, links `../tasks/6_2_1_1.md`.
    Docs,
    /// Forgejo wiki: `owners-alice.md`, links `owners-alice`; the overview is `Home`.
    Wiki,
}

impl Flavour {
    /// The file a page is written to, relative to the docs or wiki folder.
    pub fn file_of(self, id: &PageId) -> String {
        match self {
            Flavour::Docs => format!("{}.md", id.0),
            Flavour::Wiki => format!("{}.md", self.name_of(id)),
        }
    }

    /// A wiki page's name (`Home`, `owners-alice`), or a docs page's path without extension.
    fn name_of(self, id: &PageId) -> String {
        match (self, id.0.as_str()) {
            (Flavour::Wiki, "index") => "Home".into(),
            (Flavour::Wiki, path) => path.replace('/', "-"),
            (Flavour::Docs, path) => path.to_string(),
        }
    }

    /// The prefix that leads from page `from` to the folder root.
    fn up(self, from: &PageId) -> String {
        match self {
            Flavour::Docs => "../".repeat(from.depth()),
            Flavour::Wiki => String::new(),
        }
    }

    /// The relative address of `to` from `from`.
    fn href(self, from: &PageId, to: &Target) -> String {
        match to {
            Target::External(url) => url.clone(),
            Target::Page(page, anchor) => {
                let mut out = String::new();
                if page != from || anchor.is_none() {
                    out.push_str(&self.up(from));
                    match self {
                        Flavour::Docs => out.push_str(&self.file_of(page)),
                        Flavour::Wiki => out.push_str(&self.name_of(page)),
                    }
                }
                if let Some(anchor) = anchor {
                    out.push('#');
                    out.push_str(anchor);
                }
                out
            }
        }
    }
}

/// Escapes the characters Markdown would read as markup (borrowed when there are none).
fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    const MARKUP: [char; 11] = ['\\', '*', '_', '[', ']', '<', '>', '|', '`', '#', '\n'];
    if !text.contains(MARKUP) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '`' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn inlines(flavour: Flavour, from: &PageId, parts: &[Inline], out: &mut String) {
    for part in parts {
        match part {
            Inline::Text(t) => out.push_str(&escape(t)),
            Inline::Strong(t) => {
                let _ = write!(out, "**{}**", escape(t));
            }
            Inline::Code(t) => {
                let _ = write!(out, "`{}`", t.replace('`', "'").replace('|', "\\|"));
            }
            Inline::Link(words, target) => {
                let _ = write!(out, "[{}]({})", escape(words), flavour.href(from, target));
            }
        }
    }
}

fn table(flavour: Flavour, from: &PageId, t: &Table, out: &mut String) {
    let _ = writeln!(out, "**{}**\n", escape(&t.caption));
    let heads: Vec<_> = t.head.iter().map(|h| escape(h)).collect();
    let _ = writeln!(out, "| {} |", heads.join(" | "));
    let rules: Vec<&str> = (0..t.head.len())
        .map(|i| if t.numeric.get(i) == Some(&true) { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "| {} |", rules.join(" | "));
    for row in &t.rows {
        out.push('|');
        for (i, cell) in row.cells.iter().enumerate() {
            out.push(' ');
            if let (0, Some(anchor)) = (i, &row.anchor) {
                let _ = write!(out, "<a id=\"{anchor}\"></a>");
            }
            inlines(flavour, from, cell, out);
            out.push_str(" |");
        }
        out.push('\n');
    }
    out.push('\n');
}

fn block(flavour: Flavour, from: &PageId, b: &Block, out: &mut String) {
    match b {
        Block::Heading(level, words) => {
            let _ = writeln!(out, "{} {}\n", "#".repeat(usize::from(*level)), escape(words));
        }
        Block::Para(parts) => {
            inlines(flavour, from, parts, out);
            out.push_str("\n\n");
        }
        Block::List(items) => {
            for item in items {
                out.push_str("- ");
                inlines(flavour, from, item, out);
                out.push('\n');
            }
            out.push('\n');
        }
        Block::Table(t) => table(flavour, from, t, out),
        Block::Commands(lines) => {
            let _ = writeln!(out, "```sh\n{}\n```\n", lines.join("\n"));
        }
        Block::Figure { file, alt, .. } => {
            let _ = writeln!(out, "![{}]({}{file})\n\n{}\n", escape(alt), flavour.up(from), escape(alt));
        }
    }
}

/// The Markdown of `page`, written into `out` (cleared first).
pub fn render_into(flavour: Flavour, page: &Page, frame: &Frame, out: &mut String) {
    out.clear();
    let _ = write!(out, "# {}\n\n", escape(&page.title));
    for b in &page.blocks {
        block(flavour, &page.id, b, out);
    }
    out.push_str("---\n\n");
    inlines(flavour, &page.id, &frame.footer, out);
    out.push('\n');
}

/// `mkdocs.yml`: the site name and the nav of the main pages.
pub fn mkdocs_config(frame: &Frame) -> String {
    let name = frame.name.replace('"', "'");
    let mut out = format!("site_name: \"{name}\"\ndocs_dir: docs\nuse_directory_urls: false\nnav:\n");
    for (id, words) in NAV {
        let _ = writeln!(out, "  - \"{words}\": {}", Flavour::Docs.file_of(&PageId::new(id)));
    }
    out
}

/// `_Sidebar.md` of the wiki: the main pages.
pub fn wiki_sidebar(frame: &Frame) -> String {
    let mut out = format!("**{}**\n\n", escape(&frame.name));
    for (id, words) in NAV {
        let _ = writeln!(out, "- [{words}]({})", Flavour::Wiki.name_of(&PageId::new(id)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_links_are_relative_files_and_wiki_links_are_flat_names() {
        let from = PageId::new("owners/alice");
        let to = Target::Page(PageId::new("tasks/6_2_1_1"), None);
        assert_eq!(Flavour::Docs.href(&from, &to), "../tasks/6_2_1_1.md");
        assert_eq!(Flavour::Wiki.href(&from, &to), "tasks-6_2_1_1");
        let home = Target::Page(PageId::new("index"), Some("money".into()));
        assert_eq!(Flavour::Wiki.href(&from, &home), "Home#money");
        assert_eq!(Flavour::Wiki.file_of(&PageId::new("index")), "Home.md");
        assert_eq!(escape("a|b *c* [d]"), "a\\|b \\*c\\* \\[d\\]");
    }
}
