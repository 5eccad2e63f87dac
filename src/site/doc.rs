//! The document model every page is built in: headings, paragraphs, lists, tables, figures
//! and links between pages. One model, three renderers (HTML, MkDocs Markdown, Forgejo wiki
//! Markdown), so the formats never drift apart.

/// Where a page lives, as a path without extension: `index`, `owners/alice`, `log/3`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PageId(pub String);

impl PageId {
    /// A page id from its path.
    pub fn new(path: impl Into<String>) -> PageId {
        PageId(path.into())
    }

    /// How many folders deep the page lives (`owners/alice`: 1).
    pub fn depth(&self) -> usize {
        self.0.matches('/').count()
    }
}

/// What a link points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A page of the site, and an anchor on it.
    Page(PageId, Option<String>),
    /// An address outside the site (the Forgejo web UI).
    External(String),
}

/// A piece of running text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inline {
    /// Plain text.
    Text(String),
    /// Emphasised text.
    Strong(String),
    /// A command, an id or a hash.
    Code(String),
    /// A link.
    Link(String, Target),
}

/// Plain text.
pub fn text(words: impl Into<String>) -> Inline {
    Inline::Text(words.into())
}

/// A link to a page of the site.
pub fn link(words: impl Into<String>, page: &str) -> Inline {
    Inline::Link(words.into(), Target::Page(PageId::new(page), None))
}

/// A link to an anchor on a page of the site.
pub fn link_to(words: impl Into<String>, page: &str, anchor: impl Into<String>) -> Inline {
    Inline::Link(words.into(), Target::Page(PageId::new(page), Some(anchor.into())))
}

/// One cell of a table: a few inlines.
pub type Cell = Vec<Inline>;

/// A table row, with an anchor other pages link to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRow {
    /// The row's anchor id, if it has one.
    pub anchor: Option<String>,
    /// Its cells, one per column.
    pub cells: Vec<Cell>,
}

/// A table with header cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// What the table shows (its caption).
    pub caption: String,
    /// Column headings.
    pub head: Vec<String>,
    /// Columns that hold numbers (right-aligned).
    pub numeric: Vec<bool>,
    /// Whether the row headers are titles people wrote, of any length, that may wrap (other
    /// row headers are short labels, kept on one line).
    pub titled: bool,
    /// The rows.
    pub rows: Vec<TableRow>,
}

impl Table {
    /// An empty table with a caption and column headings; a heading ending in `#` is a
    /// number column (the `#` is dropped).
    pub fn new(caption: impl Into<String>, head: &[&str]) -> Table {
        Table {
            caption: caption.into(),
            head: head.iter().map(|h| h.trim_end_matches('#').trim_end().to_string()).collect(),
            numeric: head.iter().map(|h| h.ends_with('#')).collect(),
            titled: false,
            rows: Vec::new(),
        }
    }

    /// The same table, with row headers that are titles people wrote (see [`Table::titled`]).
    pub fn with_titles(mut self) -> Table {
        self.titled = true;
        self
    }

    /// Adds a row of cells.
    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(TableRow { anchor: None, cells });
    }

    /// Adds a row other pages can link to by `anchor`.
    pub fn anchored_row(&mut self, anchor: String, cells: Vec<Cell>) {
        self.rows.push(TableRow {
            anchor: Some(anchor),
            cells,
        });
    }
}

/// A block of a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// A section heading (level 2 or 3; the page title is level 1).
    Heading(u8, String),
    /// A paragraph.
    Para(Vec<Inline>),
    /// A bulleted list.
    List(Vec<Vec<Inline>>),
    /// A table.
    Table(Table),
    /// Commands to type, one per line.
    Commands(Vec<String>),
    /// A drawing: the SVG, its file name for the Markdown pages, and its text alternative.
    Figure {
        /// The SVG document.
        svg: String,
        /// File name the Markdown renderers write it to.
        file: String,
        /// What the drawing shows, in words.
        alt: String,
    },
}

/// One page of the site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// Where it lives.
    pub id: PageId,
    /// Its title (the level-1 heading).
    pub title: String,
    /// Its content.
    pub blocks: Vec<Block>,
}

impl Page {
    /// An empty page.
    pub fn new(id: &str, title: impl Into<String>) -> Page {
        Page {
            id: PageId::new(id),
            title: title.into(),
            blocks: Vec::new(),
        }
    }

    /// Appends a block.
    pub fn push(&mut self, block: Block) {
        self.blocks.push(block);
    }

    /// Appends a section heading.
    pub fn heading(&mut self, words: impl Into<String>) {
        self.blocks.push(Block::Heading(2, words.into()));
    }

    /// Appends a paragraph.
    pub fn para(&mut self, inlines: Vec<Inline>) {
        self.blocks.push(Block::Para(inlines));
    }
}

/// The anchor of a row on audit-log pages and elsewhere: `seq-42`.
pub fn seq_anchor(seq: u64) -> String {
    format!("seq-{seq}")
}
