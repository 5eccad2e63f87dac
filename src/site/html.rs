//! The HTML renderer: one self-contained page per [`Page`], one stylesheet, no JavaScript;
//! every link relative, so the site works from `file://` and from any web server.

use super::doc::{Block, Inline, Page, PageId, Table, Target};
use super::{Frame, NAV};
use std::fmt::Write;

/// The site's one stylesheet (`style.css`): readable on a phone, good contrast, wide tables
/// scroll inside their own box.
pub const STYLE: &str = include_str!("style.css");

/// Escapes text for HTML (borrowed when there is nothing to escape, as for most cells).
fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The file a page is written to: `owners/alice.html`.
pub fn file_of(id: &PageId) -> String {
    format!("{}.html", id.0)
}

/// The relative address of `to` from the page `from`.
fn href(from: &PageId, to: &Target) -> String {
    match to {
        Target::External(url) => url.clone(),
        Target::Page(page, anchor) => {
            let mut out = String::new();
            if page != from || anchor.is_none() {
                out.push_str(&"../".repeat(from.depth()));
                out.push_str(&file_of(page));
            }
            if let Some(anchor) = anchor {
                out.push('#');
                out.push_str(anchor);
            }
            out
        }
    }
}

fn inlines(from: &PageId, parts: &[Inline], out: &mut String) {
    for part in parts {
        match part {
            Inline::Text(t) => out.push_str(&escape(t)),
            Inline::Strong(t) => {
                let _ = write!(out, "<strong>{}</strong>", escape(t));
            }
            Inline::Code(t) => {
                let _ = write!(out, "<code>{}</code>", escape(t));
            }
            Inline::Link(words, target) => {
                let _ = write!(out, "<a href=\"{}\">{}</a>", escape(&href(from, target)), escape(words));
            }
        }
    }
}

fn table(from: &PageId, t: &Table, out: &mut String) {
    out.push_str("<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"");
    out.push_str(&escape(&t.caption));
    let class = if t.titled { " class=\"titled\"" } else { "" };
    let _ = write!(out, "\"><table{class}>\n<caption>{}</caption>\n<thead><tr>", escape(&t.caption));
    for (i, head) in t.head.iter().enumerate() {
        let class = if t.numeric.get(i) == Some(&true) { " class=\"num\"" } else { "" };
        let _ = write!(out, "<th scope=\"col\"{class}>{}</th>", escape(head));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        match &row.anchor {
            Some(anchor) => {
                let _ = write!(out, "<tr id=\"{}\">", escape(anchor));
            }
            None => out.push_str("<tr>"),
        }
        for (i, cell) in row.cells.iter().enumerate() {
            let class = if t.numeric.get(i) == Some(&true) { " class=\"num\"" } else { "" };
            let tag = if i == 0 { "th scope=\"row\"" } else { "td" };
            let _ = write!(out, "<{tag}{class}>");
            inlines(from, cell, out);
            out.push_str(if i == 0 { "</th>" } else { "</td>" });
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

fn block(from: &PageId, b: &Block, out: &mut String) {
    match b {
        Block::Heading(level, words) => {
            let _ = writeln!(out, "<h{level}>{}</h{level}>", escape(words));
        }
        Block::Para(parts) => {
            out.push_str("<p>");
            inlines(from, parts, out);
            out.push_str("</p>\n");
        }
        Block::List(items) => {
            out.push_str("<ul>\n");
            for item in items {
                out.push_str("<li>");
                inlines(from, item, out);
                out.push_str("</li>\n");
            }
            out.push_str("</ul>\n");
        }
        Block::Table(t) => table(from, t, out),
        Block::Commands(lines) => {
            let _ = writeln!(out, "<pre><code>{}</code></pre>", escape(&lines.join("\n")));
        }
        Block::Figure { svg, alt, .. } => {
            let _ = writeln!(out, "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>", escape(alt));
        }
    }
}

/// The whole HTML document of `page`, written into `out` (cleared first; reusing one buffer
/// spares allocating a large string per page).
pub fn render_into(page: &Page, frame: &Frame, out: &mut String) {
    out.clear();
    let up = "../".repeat(page.id.depth());
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} — {}</title>\n<link rel=\"stylesheet\" href=\"{up}style.css\">\n</head>\n<body>\n\
         <header>\n<p class=\"site\"><a href=\"{up}index.html\">{}</a></p>\n<nav aria-label=\"Site\"><ul>\n",
        escape(&page.title),
        escape(&frame.name),
        escape(&frame.name)
    );
    for (id, words) in NAV {
        let current = if page.id.0 == *id { " aria-current=\"page\"" } else { "" };
        let _ = writeln!(out, "<li><a href=\"{up}{id}.html\"{current}>{words}</a></li>");
    }
    let _ = write!(out, "</ul></nav>\n</header>\n<main>\n<h1>{}</h1>\n", escape(&page.title));
    for b in &page.blocks {
        block(&page.id, b, out);
    }
    out.push_str("</main>\n<footer>\n<p>");
    inlines(&page.id, &frame.footer, out);
    out.push_str("</p>\n</footer>\n</body>\n</html>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::doc::{link_to, text};

    #[test]
    fn links_are_relative_to_the_page_and_text_is_escaped() {
        let from = PageId::new("owners/alice");
        assert_eq!(href(&from, &Target::Page(PageId::new("index"), None)), "../index.html");
        let anchored = Target::Page(PageId::new("log/2"), Some("seq-7".into()));
        assert_eq!(href(&from, &anchored), "../log/2.html#seq-7");
        let here = Target::Page(from.clone(), Some("sessions".into()));
        assert_eq!(href(&from, &here), "#sessions");
        let mut out = String::new();
        inlines(&from, &[text("a <b> & \"c\""), link_to("x", "index", "top")], &mut out);
        assert_eq!(out, "a &lt;b&gt; &amp; &quot;c&quot;<a href=\"../index.html#top\">x</a>");
    }
}
