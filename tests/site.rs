//! `smartup site`: the transparency site of the demo ledger, built for real and checked as a
//! reader would: its numbers equal `balance --json` and `status --json`, every internal link
//! resolves in all three formats, the same ledger gives the same bytes, a rebuild rewrites
//! nothing, history that does not verify is never published, the wiki is a real git push,
//! the post-receive companion rebuilds it, and headless Chromium finds no broken page.

mod common;

use common::{s, Ledger, Sandbox, SMARTUP};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `smartup --ledger L site build --out OUT EXTRA…`.
fn build(sb: &Sandbox, ledger: &Ledger, out: &Path, extra: &[&str]) -> common::Run {
    let mut args = vec!["site", "build", "--out", s(out)];
    args.extend_from_slice(extra);
    ledger.read(sb, &args)
}

/// Every file under `root`, by relative path, with its bytes.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("readable folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).expect("inside").to_string_lossy().replace('\\', "/");
                out.insert(relative, std::fs::read(&path).expect("readable file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn text(root: &Path, relative: &str) -> String {
    std::fs::read_to_string(root.join(relative)).unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

/// `1234.5` → `1,234.50 EUR`, as the site writes amounts.
fn shown(amount: &str, unit: &str) -> String {
    let (whole, cents) = amount.split_once('.').unwrap_or((amount, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped}.{cents} {unit}")
}

/// `1234.5` → 123450 cents.
fn cents(amount: &str) -> i64 {
    let (whole, part) = amount.split_once('.').unwrap_or((amount, "0"));
    whole.parse::<i64>().unwrap() * 100 + format!("{part:0<2}").parse::<i64>().unwrap()
}

/// The HTML table row (`<tr>…</tr>`) of `html` that contains `needle`.
#[track_caller]
fn row_with<'h>(html: &'h str, needle: &str) -> &'h str {
    let at = html.find(needle).unwrap_or_else(|| panic!("no {needle:?} in the page"));
    let start = html[..at].rfind("<tr").expect("inside a table row");
    let end = at + html[at..].find("</tr>").expect("a closed row");
    &html[start..end]
}

/// The targets of `href="…"` in an HTML page.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}

/// The targets of Markdown links `](…)` in a page.
fn md_links(md: &str) -> Vec<String> {
    md.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(str::to_string)
        .collect()
}

/// Checks every internal link of the built site in its three formats; returns how many.
fn check_links(root: &Path) -> usize {
    let all = files(root);
    let mut checked = 0;
    for (path, bytes) in &all {
        let page = String::from_utf8_lossy(bytes);
        let folder = Path::new(path).parent().map(Path::to_path_buf).unwrap_or_default();
        let links = if path.ends_with(".html") {
            hrefs(&page)
        } else if path.ends_with(".md") {
            md_links(&page)
        } else {
            continue;
        };
        for link in links.iter().filter(|l| !l.starts_with("http")) {
            checked += 1;
            let (file, anchor) = link.split_once('#').unwrap_or((link.as_str(), ""));
            let target = if file.is_empty() {
                PathBuf::from(path)
            } else if path.starts_with("wiki/") && !file.ends_with(".svg") {
                PathBuf::from(format!("wiki/{file}.md"))
            } else {
                normalise(&folder.join(file))
            };
            let key = target.to_string_lossy().to_string();
            let body = all
                .get(&key)
                .unwrap_or_else(|| panic!("{path}: the link {link:?} points at {key}, which is not in the site"));
            if !anchor.is_empty() {
                let body = String::from_utf8_lossy(body);
                assert!(
                    body.contains(&format!("id=\"{anchor}\"")),
                    "{path}: the link {link:?} names an anchor {key} does not have"
                );
            }
        }
    }
    checked
}

/// `a/b/../c` → `a/c`.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => assert!(out.pop(), "a link leaves the site: {}", path.display()),
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn the_demo_site_shows_what_balance_and_status_say_and_every_link_resolves() {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    let out = sb.path().join("site");
    let built = build(&sb, &ledger, &out, &["--json"]).ok().json();
    assert_eq!(built["site"]["rows"], last_seq(&sb, &ledger), "{built}");
    assert_eq!(
        built["site"]["verified_after"],
        Value::Null,
        "a first build checks every commit: {built}"
    );

    let balance = ledger.read(&sb, &["balance", "--json"]).ok().json();
    let status = ledger.read(&sb, &["status", "--json"]).ok().json();
    let treasury = &balance["treasury"];
    let overview = text(&out, "index.html");
    let finances = text(&out, "finances.html");
    for (page, html) in [("index", &overview), ("finances", &finances)] {
        let eur = row_with(html, ">EUR treasury");
        assert!(eur.contains(&shown(treasury["eur"].as_str().unwrap(), "EUR")), "{page}: {eur}");
        let outstanding = row_with(html, ">SC outstanding");
        assert!(
            outstanding.contains(&shown(treasury["sc_outstanding"].as_str().unwrap(), "SC")),
            "{page}: {outstanding}"
        );
        let pending = row_with(html, ">SC pending");
        assert!(
            pending.contains(&shown(status["pending_total"].as_str().unwrap(), "SC")),
            "{page}: {pending}"
        );
        let limit = row_with(html, ">SC limit");
        assert!(
            limit.contains(&shown(treasury["sc_limit"].as_str().unwrap(), "SC")),
            "{page}: {limit}"
        );
    }
    // How the 3x rule stands, from the same numbers: above 80% of the limit it is at risk.
    let (outstanding, limit) = (
        cents(treasury["sc_outstanding"].as_str().unwrap()),
        cents(treasury["sc_limit"].as_str().unwrap()),
    );
    let health = match (outstanding * 100 > limit * 80, outstanding > limit) {
        (_, true) => "broken (above the limit)",
        (true, false) => "at risk (above 80% of the limit)",
        (false, false) => "ok",
    };
    let tenths = outstanding * 1000 / limit;
    let standing = format!("<strong>{health}</strong>: {}.{}% of the limit is used.", tenths / 10, tenths % 10);
    assert!(overview.contains(&format!("The 3x rule is {standing}")), "{overview}");
    assert!(finances.contains(&format!("It is {standing}")), "{finances}");

    let book = text(&out, "owners/index.html");
    let owners = balance["owners"].as_array().expect("owners");
    assert_eq!(owners.len(), 5);
    for o in owners {
        let handle = o["owner"].as_str().unwrap();
        let row = row_with(&book, &format!("owners/{handle}.html\""));
        for needle in [
            o["license"].as_str().unwrap().to_string(),
            shown(o["sc"].as_str().unwrap(), "SC"),
            format!(">{}<", o["sk"].as_str().unwrap()),
            format!(">{}<", o["vote_weight"].as_str().unwrap()),
        ] {
            assert!(row.contains(&needle), "{handle}'s row lacks {needle}: {row}");
        }
        let own = text(&out, &format!("owners/{handle}.html"));
        assert!(row_with(&own, "SC held").contains(&shown(o["sc"].as_str().unwrap(), "SC")), "{own}");
    }
    let tasks = text(&out, "tasks/index.html");
    for t in status["tasks"].as_array().expect("tasks") {
        let id = t["task"].as_str().unwrap();
        let row = row_with(&tasks, &format!(">{id}</a>"));
        assert!(row.contains(t["status"].as_str().unwrap()), "{id}: {row}");
        assert!(row.contains(&shown(t["budget"].as_str().unwrap(), "SC")), "{id}: {row}");
    }
    let log = text(&out, "log/1.html");
    for row in ledger.log(&sb) {
        let seq = row["seq"].as_u64().unwrap();
        let line = row_with(&log, &format!("id=\"seq-{seq}\""));
        assert!(
            line.contains(row["key"].as_str().unwrap()),
            "seq {seq} shows its signing key: {line}"
        );
        assert!(line.contains(row["action"].as_str().unwrap()), "{line}");
    }

    let links = check_links(&out);
    assert!(links > 300, "the site links its pages together ({links} links checked)");
    for f in [
        "markdown/mkdocs.yml",
        "wiki/_Sidebar.md",
        "wiki/Home.md",
        "markdown/docs/index.md",
        "style.css",
    ] {
        assert!(out.join(f).is_file(), "{f} is written");
    }
    let svg = text(&out, "finances.html");
    assert!(
        svg.contains("<svg") && svg.contains("role=\"img\" aria-label=\""),
        "the plot is inline SVG with a name"
    );
}

/// `1.005` (votes, as `balance --json` writes weights) → 1005 thousandths.
fn thousandths(votes: &str) -> u64 {
    let (whole, part) = votes.split_once('.').expect("votes to three places");
    whole.parse::<u64>().unwrap() * 1000 + part.parse::<u64>().unwrap()
}

/// 1005 thousandths → `1.005`.
fn votes(thousandths: u64) -> String {
    format!("{}.{:03}", thousandths / 1000, thousandths % 1000)
}

/// `part` of `whole` as the site writes a percentage: two places at most, no trailing zeros.
fn percent(part: u64, whole: u64) -> String {
    let hundredths = part * 10_000 / whole;
    let shown = format!("{}.{:02}", hundredths / 100, hundredths % 100);
    format!("{}%", shown.trim_end_matches('0').trim_end_matches('.'))
}

/// A proposal's quorum as the site writes it, from the `quorum_percent` its propose row keeps
/// (`25.00` → `25%`).
fn quorum(propose: &Value) -> String {
    let kept = propose["columns"]["quorum_percent"].as_str().expect("the quorum it was made under");
    format!("{}%", kept.trim_end_matches('0').trim_end_matches('.'))
}

/// The seq of the ledger's last row.
fn last_seq(sb: &Sandbox, ledger: &Ledger) -> u64 {
    ledger.log(sb).last().and_then(|r| r["seq"].as_u64()).expect("a ledger has rows")
}

/// The proposals [`governed_demo`] adds to the demo's own, by seq.
struct Added {
    /// The binding vote declaring market-launch, passed.
    launch: u64,
    /// The open vote.
    conduct: u64,
    /// The open lazy-consensus proposal.
    weekly: u64,
}

/// The demo ledger (whose own two proposals are passed and carried out), then a binding vote
/// declaring market-launch that passes, the release of 100 SC of the organisation tranche it
/// triggers (what the 3x rule still allows after the demo's release of the design tranche), an
/// open vote and an open lazy-consensus proposal with an objection; the last row at
/// 2026-01-20T10:00:00Z.
fn governed_demo(sb: &Sandbox) -> (Ledger, Added) {
    let ledger = sb.demo_pinned(Some("2026-01-10T12:00:00Z"));
    let text = sb.path().join("proposal.md");
    std::fs::write(&text, "What the proposal says.\n").unwrap();
    // The founder proposes; the proposal's number is the seq of its row.
    let propose = |at: &str, kind: &str, title: &str, extra: &[&str]| -> (u64, String) {
        let mut args = vec!["propose", kind, "--title", title, "--text", s(&text)];
        args.extend_from_slice(extra);
        ledger.act(sb, "founder", Some(at), &args).ok();
        let seq = last_seq(sb, &ledger);
        (seq, seq.to_string())
    };
    let act = |who: &str, at: &str, args: &[&str]| {
        ledger.act(sb, who, Some(at), args).ok();
    };
    let (launch, number) = propose(
        "2026-01-11T09:00:00Z",
        "binding-vote",
        "We have launched on the market",
        &["--declares", "market-launch", "--link", "https://forge.example/org/ledger/issues/7"],
    );
    for who in ["founder", "carla", "maya", "alice"] {
        act(who, "2026-01-12T10:00:00Z", &["vote", &number, "yes"]);
    }
    act("bob", "2026-01-12T11:00:00Z", &["vote", &number, "no"]);
    act("carla", "2026-01-18T10:00:00Z", &["close-proposal", &number]);
    act(
        "carla",
        "2026-01-18T11:00:00Z",
        &["release-tranche", "organisation", "--amount", "100"],
    );
    let (conduct, number) = propose("2026-01-19T09:00:00Z", "binding-vote", "Adopt the code of conduct", &[]);
    act("maya", "2026-01-19T12:00:00Z", &["vote", &number, "yes"]);
    act("bob", "2026-01-19T13:00:00Z", &["vote", &number, "abstain"]);
    let (weekly, number) = propose("2026-01-20T09:00:00Z", "lazy-consensus", "Move the weekly call to Thursday", &[]);
    act(
        "alice",
        "2026-01-20T10:00:00Z",
        &["object", &number, "--note", "Thursday clashes with the design review"],
    );
    (ledger, Added { launch, conduct, weekly })
}

/// The site of a ledger with decisions shows, from the rows themselves and `balance --json`
/// (not from `smartup`'s proposal views): each open proposal's standing and time left, each
/// closed one's tally and closing row, a page per proposal linking every row about it (the row
/// that carried it out too), and SC pending in tranches as a line of their own, never
/// outstanding.
#[test]
fn the_decisions_page_and_the_tranches_show_what_the_rows_say() {
    let sb = Sandbox::new();
    let (ledger, added) = governed_demo(&sb);
    let out = sb.path().join("site");
    // Built first without the last three rows, then on from there: as a fresh build.
    build(&sb, &ledger, &out, &["--at", "HEAD~3"]).ok();
    let after = build(&sb, &ledger, &out, &["--json"]).ok().json();
    assert_eq!(after["site"]["commits_verified"], 3, "{after}");
    let fresh = sb.path().join("fresh");
    build(&sb, &ledger, &fresh, &[]).ok();
    let pages = |root: &Path| -> BTreeMap<String, Vec<u8>> {
        files(root)
            .into_iter()
            .filter(|(path, _)| !path.starts_with(".smartup-site"))
            .collect()
    };
    assert!(
        pages(&out) == pages(&fresh),
        "a build that went on from an earlier one differs from a fresh one"
    );
    let rows = ledger.log(&sb);
    let column = |row: &Value, name: &str| row["columns"][name].as_str().unwrap_or("").to_string();
    let seq_of = |row: &Value| row["seq"].as_u64().unwrap();
    let proposals: Vec<&Value> = rows.iter().filter(|r| r["action"] == "propose").collect();
    let newest: Vec<u64> = proposals.iter().rev().take(3).map(|p| seq_of(p)).collect();
    assert_eq!(newest, [added.weekly, added.conduct, added.launch], "on top of the demo's own");
    let proposal = |seq: u64| *proposals.iter().find(|p| seq_of(p) == seq).unwrap();
    // The rows about a proposal: its own, those naming it, and the amend-policy row that
    // carried out a passed policy amendment (it names the new policy's hash, not the proposal).
    let about = |seq: u64| -> Vec<u64> {
        let reference = column(proposal(seq), "reference");
        rows.iter()
            .filter(|r| {
                r["seq"] == seq
                    || column(r, "proposal") == seq.to_string()
                    || (r["action"] == "amend-policy" && !reference.is_empty() && column(r, "reference") == reference)
            })
            .map(seq_of)
            .collect()
    };
    // As of the last row (SK decays with time; the site shows the ledger as of its last row).
    let balance = ledger
        .act(&sb, "founder", Some("2026-01-20T10:00:00Z"), &["balance", "--json"])
        .ok()
        .json();
    let weight_of = |who: &str| {
        let owner = balance["owners"].as_array().unwrap().iter().find(|o| o["owner"] == who).unwrap();
        thousandths(owner["vote_weight"].as_str().unwrap())
    };
    let decisions = text(&out, "decisions/index.html");

    // The closed vote: its tally is the closing row's, its effect its closing row's, its quorum
    // the one its propose row keeps (the policy the demo's amendment made).
    let launch = added.launch;
    let close = rows
        .iter()
        .find(|r| r["action"] == "close-proposal" && column(r, "proposal") == launch.to_string())
        .expect("a closing row");
    let close_seq = seq_of(close);
    assert_eq!(column(close, "result"), "passed");
    let passed = row_with(&decisions, &format!(">{launch}: We have launched on the market</a>"));
    let number = |name: &str| column(close, name).parse::<u64>().unwrap();
    let tally = format!(
        "yes {}, no {}, abstain {} ({} voters)",
        votes(number("yes")),
        votes(number("no")),
        votes(number("abstain")),
        number("voters")
    );
    for needle in [
        ">passed<".to_string(),
        tally,
        format!(
            "{} (quorum {})",
            percent(number("yes") + number("no") + number("abstain"), number("eligible")),
            quorum(proposal(launch))
        ),
        format!("its closing row, <a href=\"../log/1.html#seq-{close_seq}\">seq {close_seq}</a>"),
    ] {
        assert!(passed.contains(&needle), "the passed vote's line lacks {needle:?}: {passed}");
    }

    // The open vote: maya yes and bob abstaining, of every owner's weight as of the proposal
    // (the founder's governance SK for the passed votes came before it).
    let all: u64 = ["founder", "carla", "maya", "alice", "bob"].map(weight_of).iter().sum();
    let (maya, bob) = (weight_of("maya"), weight_of("bob"));
    let conduct = added.conduct;
    let open = row_with(&decisions, &format!(">{conduct}: Adopt the code of conduct</a>"));
    for needle in [
        "(binding-vote)".to_string(),
        format!("yes {}, no 0.000, abstain {} (2 voters)", votes(maya), votes(bob)),
        format!("{} (quorum {})", percent(maya + bob, all), quorum(proposal(conduct))),
        // Proposed 2026-01-19 09:00 for 168 hours; the last row is 2026-01-20 10:00.
        "2026-01-26 09:00 UTC (5 days 23 h left)".to_string(),
    ] {
        assert!(open.contains(&needle), "the open vote's line lacks {needle:?}: {open}");
    }
    let lazy = row_with(&decisions, &format!(">{}: Move the weekly call to Thursday</a>", added.weekly));
    for needle in [
        "lazy consensus",
        "objections: 1 of 3 that make it a vote",
        "2026-01-22 09:00 UTC (1 day 23 h left)",
    ] {
        assert!(lazy.contains(needle), "the lazy proposal's line lacks {needle:?}: {lazy}");
    }

    // A page per proposal, in every format, linking each of its rows on the audit log.
    for p in &proposals {
        let seq = seq_of(p);
        let page = text(&out, &format!("decisions/{seq}.html"));
        assert!(page.contains(&column(p, "text_hash")), "proposal {seq} names its text's hash");
        let caption = format!("<caption>Every row about proposal {seq}</caption>");
        let its_rows = &page[page.find(&caption).expect("a table of its rows")..];
        for row in about(seq) {
            assert!(
                its_rows.contains(&format!("href=\"../log/1.html#seq-{row}\"")),
                "proposal {seq}'s rows link its row {row}"
            );
        }
        assert!(out.join(format!("markdown/docs/decisions/{seq}.md")).is_file());
        assert!(out.join(format!("wiki/decisions-{seq}.md")).is_file());
    }
    assert_eq!(about(launch).len(), 7, "propose, five votes and the closing row");
    let amendment = seq_of(rows.iter().find(|r| r["action"] == "amend-policy").expect("the demo's amendment"));
    assert!(
        proposals.iter().any(|p| about(seq_of(p)).contains(&amendment)),
        "the page of the demo's policy amendment links the amend-policy row that carried it out"
    );
    assert!(text(&out, "wiki/_Sidebar.md").contains("[Decisions](decisions-index)"));
    assert!(text(&out, "index.html").contains(&format!(">{conduct}: Adopt the code of conduct</a>: voting")));

    // SC pending in tranches: the policy's tranches less the release rows, a line of its own;
    // the released SC are outstanding, the pending ones are not.
    let policy: toml::Value = toml::from_str(&std::fs::read_to_string(ledger.file("ledger.toml")).unwrap()).unwrap();
    let tranches = policy["governance"]["tranches"].as_array().unwrap();
    let in_tranches: i64 = tranches.iter().map(|t| cents(t["amount"].as_str().unwrap())).sum();
    let releases: Vec<&Value> = rows.iter().filter(|r| r["action"] == "release-tranche").collect();
    let released_of = |tranche: &str| -> i64 {
        releases
            .iter()
            .filter(|r| column(r, "tranche") == tranche)
            .map(|r| cents(&column(r, "amount")))
            .sum()
    };
    let released: i64 = releases.iter().map(|r| cents(&column(r, "amount"))).sum();
    assert!(
        released_of("organisation") > 0 && released > released_of("organisation"),
        "the demo's release and ours"
    );
    let plain = |cents: i64| format!("{}.{:02}", cents / 100, cents % 100);
    let treasury = &balance["treasury"];
    for page in ["index.html", "finances.html"] {
        let html = text(&out, page);
        let line = row_with(&html, ">SC pending in tranches");
        assert!(line.contains(&shown(&plain(in_tranches - released), "SC")), "{page}: {line}");
        let outstanding = row_with(&html, ">SC outstanding");
        assert!(
            outstanding.contains(&shown(treasury["sc_outstanding"].as_str().unwrap(), "SC")),
            "{page}: {outstanding}"
        );
    }
    assert_eq!(
        cents(treasury["sc_outstanding"].as_str().unwrap()),
        cents("49.50") + released,
        "the demo's validated SC and the releases are outstanding, nothing of what is pending"
    );
    // Each tranche: what its release rows released, what stays pending, and a link to each.
    let finances = text(&out, "finances.html");
    for t in tranches {
        let id = t["id"].as_str().unwrap();
        let line = row_with(&finances, &format!(">{id}</th>"));
        let released = released_of(id);
        let mut needles = vec![
            shown(&plain(released), "SC"),
            shown(&plain(cents(t["amount"].as_str().unwrap()) - released), "SC"),
        ];
        for r in releases.iter().filter(|r| column(r, "tranche") == id) {
            needles.push(format!("href=\"log/1.html#seq-{}\"", seq_of(r)));
        }
        if id == "organisation" {
            needles.push("market-launch declared by vote (holds)".to_string());
        }
        for needle in needles {
            assert!(line.contains(&needle), "the tranche {id} lacks {needle:?}: {line}");
        }
    }

    // The governance rows are in the audit log like every other row.
    let log = text(&out, "log/1.html");
    for row in rows.iter().filter(|r| r["table"] == "proposals") {
        let seq = row["seq"].as_u64().unwrap();
        let line = row_with(&log, &format!("id=\"seq-{seq}\""));
        assert!(line.contains(row["action"].as_str().unwrap()), "{line}");
    }
    assert!(check_links(&out) > 300);
}

#[test]
fn the_same_ledger_gives_the_same_bytes_and_a_rebuild_rewrites_nothing() {
    let sb = Sandbox::new();
    // Pinned: an entry in a month after the demo's would add a month to the finances page.
    let ledger = sb.demo_pinned(Some("2026-01-10T12:00:00Z"));
    let (a, b) = (sb.path().join("a"), sb.path().join("b"));
    build(&sb, &ledger, &a, &[]).ok();
    build(&sb, &ledger, &b, &[]).ok();
    let (first, second) = (files(&a), files(&b));
    assert_eq!(first.keys().collect::<Vec<_>>(), second.keys().collect::<Vec<_>>());
    for (path, bytes) in &first {
        assert!(second[path] == *bytes, "{path} differs between two builds of the same ledger");
    }
    let again = build(&sb, &ledger, &a, &["--json"]).ok().json();
    let demo_rows = last_seq(&sb, &ledger);
    assert_eq!(again["site"]["rows"], demo_rows, "{again}");
    assert_eq!(again["site"]["files"]["written"], 0, "{again}");
    assert_eq!(again["site"]["commits_verified"], 0, "nothing new to verify: {again}");

    // One more entry: only the pages it changes are rewritten, only its commit is verified.
    ledger
        .act(&sb, "carla", Some("2026-01-10T12:30:00Z"), &["award-sk", "maya", "documentation"])
        .ok();
    let after = build(&sb, &ledger, &a, &["--json"]).ok().json();
    assert_eq!(after["site"]["commits_verified"], 1, "{after}");
    let changed: Vec<String> = files(&a)
        .into_iter()
        .filter(|(path, bytes)| path.ends_with(".html") && first.get(path) != Some(bytes))
        .map(|(path, _)| path)
        .collect();
    let expected = [
        "index.html",
        "log/1.html",
        "log/index.html",
        "owner-rows/carla/1.html",
        "owners/carla.html",
        "owners/index.html",
        "owners/maya.html",
        "verify.html",
    ];
    assert_eq!(changed, expected, "an award to maya by carla changes these pages only");
    assert_eq!(
        after["site"]["files"]["written"],
        3 * expected.len(),
        "each in three formats: {after}"
    );
    let award = format!("id=\"seq-{}\"", demo_rows + 1);
    assert!(text(&a, "log/1.html").contains(&award));

    // An older commit: the site of that commit, and the files of later rows are gone.
    let older = build(&sb, &ledger, &a, &["--at", "HEAD~1", "--json"]).ok().json();
    assert_eq!(older["site"]["rows"], demo_rows, "{older}");
    assert!(!text(&a, "log/1.html").contains(&award));
}

#[test]
fn history_that_does_not_verify_is_never_published() {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    let out = sb.path().join("site");
    build(&sb, &ledger, &out, &[]).ok();
    let before = files(&out);
    std::fs::write(ledger.file("notes.txt"), "not part of a ledger\n").unwrap();
    sb.plain_commit(&ledger.dir, "unsigned, and a file outside the tables");
    build(&sb, &ledger, &out, &[])
        .code(1)
        .stderr_has(&["does not verify", "commit-signature", "nothing was written"]);
    assert!(files(&out) == before, "a refused build leaves the site as it was");
    let fresh = sb.path().join("fresh");
    build(&sb, &ledger, &fresh, &[]).code(1);
    assert!(!fresh.join("index.html").exists(), "nothing of an unverified ledger is published");
}

#[test]
fn a_folder_that_is_not_a_site_is_refused_unless_forced() {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    let mine = sb.path().join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep me").unwrap();
    build(&sb, &ledger, &mine, &[])
        .code(3)
        .stderr_has(&["holds no smartup site", "--force"]);
    assert!(!mine.join("index.html").exists());
    build(&sb, &ledger, &mine, &["--force"]).ok();
    assert_eq!(text(&mine, "notes.txt"), "keep me", "--force leaves other files alone");
    build(&sb, &ledger, &mine, &["--at", "no-such-commit"])
        .code(3)
        .stderr_has(&["no-such-commit is not a commit"]);
}

/// A site folder inside the ledger's working tree (the trap of building with the default
/// `--out` from inside a clone) is refused before anything is written, however it is named.
#[test]
fn a_site_inside_the_ledgers_working_tree_is_refused() {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    for out in [
        ledger.dir.join("smartup-site"),
        ledger.dir.join("tables/../site"),
        ledger.dir.clone(),
    ] {
        build(&sb, &ledger, &out, &["--force"])
            .code(2)
            .stderr_has(&["inside the ledger's working tree", "keep it outside, e.g. --out"]);
    }
    assert!(!ledger.dir.join("smartup-site").exists() && !ledger.dir.join("site").exists());
    assert!(!ledger.dir.join("index.html").exists(), "nothing was written");
    let beside = ledger.dir.join("../smartup-site");
    build(&sb, &ledger, &beside, &[]).ok();
    assert!(beside.join("index.html").is_file());
}

#[test]
fn publish_pushes_the_wiki_pages_and_a_second_publish_pushes_nothing() {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    // The demo ledger's origin is DIR/forge.git; its wiki sits beside it.
    let wiki = sb.path().join("demo/forge.wiki.git");
    sb.git_ok(sb.path(), &["init", "-q", "--bare", s(&wiki)]);
    let out = sb.path().join("site");
    let first = ledger.read(&sb, &["site", "publish", "--wiki", "--out", s(&out)]).ok();
    assert!(first.stdout.contains("pushed the wiki pages to"), "{first:?}");
    let clone = sb.path().join("wiki-clone");
    sb.git_ok(sb.path(), &["clone", "-q", s(&wiki), s(&clone)]);
    for page in ["Home.md", "_Sidebar.md", "finances.md", "owners-alice.md", "finances-over-time.svg"] {
        assert!(clone.join(page).is_file(), "the wiki has {page}");
    }
    assert_eq!(text(&clone, "Home.md"), text(&out, "wiki/Home.md"));
    let second = ledger.read(&sb, &["site", "publish", "--wiki", "--out", s(&out)]).ok();
    assert!(second.stdout.contains("already shows these pages"), "{second:?}");
    let missing = sb.path().join("nowhere.wiki.git");
    ledger
        .read(&sb, &["site", "publish", "--wiki", "--out", s(&out), "--remote", s(&missing)])
        .code(3)
        .stderr_has(&["cannot reach the wiki"]);
}

#[test]
fn the_post_receive_companion_rebuilds_the_site_after_a_push() {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    let forge = sb.path().join("demo/forge.git");
    let out = sb.path().join("published");
    let command = format!("'{SMARTUP}' site build --out '{}'", s(&out));
    sb.git_ok(&forge, &["config", "smartup.postReceive", &command]);
    ledger.act(&sb, "carla", None, &["award-sk", "maya", "documentation"]).ok();
    let award = last_seq(&sb, &ledger);
    ledger.act(&sb, "carla", None, &["push"]).ok();
    let head = sb.git_ok(&forge, &["rev-parse", "main"]);
    let manifest = out.join(".smartup-site.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let built: Option<Value> = std::fs::read(&manifest).ok().and_then(|b| serde_json::from_slice(&b).ok());
        if built.is_some_and(|m| m["commit"] == head.as_str()) {
            break;
        }
        let log = std::fs::read_to_string(forge.join("smartup/post-receive.log")).unwrap_or_default();
        assert!(
            std::time::Instant::now() < deadline,
            "the site was not rebuilt after the push:\n{log}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(text(&out, "log/1.html").contains(&format!("id=\"seq-{award}\"")));
}

#[test]
fn headless_chromium_finds_no_broken_page_and_axe_no_serious_violation() {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    let out = sb.path().join("site");
    build(&sb, &ledger, &out, &[]).ok();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let artifacts = root.join("target/site-screenshots");
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::create_dir_all(&artifacts).unwrap();
    let mut node = sb.command("node");
    node.arg(root.join("tests/browser/check-site.mjs")).arg(&out).arg(&artifacts).args([
        "--axe",
        "index.html",
        "finances.html",
        "owners/index.html",
        "tasks/6_2_1_1.html",
    ]);
    let run = common::run(node);
    assert_eq!(run.code, 0, "the browser checks failed (see {}): {run:?}", artifacts.display());
    for shot in [
        "index.html-1280.png",
        "index.html-390.png",
        "finances.html-1280.png",
        "finances.html-390.png",
    ] {
        assert!(
            artifacts.join(shot).is_file(),
            "screenshot {shot} is saved in {}",
            artifacts.display()
        );
    }
}

/// Replaces what differs between two runs of the demo (keys are new each run, so key
/// fingerprints, commit ids and the policy hash differ) by placeholders.
fn normalised(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("SHA256:") {
            let key = after
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
                .count();
            if key >= 43 {
                out.push_str("SHA256:<key>");
                rest = &after[key..];
                continue;
            }
        }
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        let starts_word = out.chars().last().is_none_or(|p| !p.is_ascii_alphanumeric());
        if hex >= 10 && starts_word && rest[..hex].bytes().all(|b| !b.is_ascii_uppercase()) {
            out.push_str(&format!("<hex{hex}>"));
            rest = &rest[hex..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[test]
fn golden_pages_of_the_demo_ledger_on_a_pinned_clock() {
    let sb = Sandbox::new();
    let ledger = sb.demo_pinned(Some("2026-01-10T12:00:00Z"));
    let out = sb.path().join("demo/site");
    build(&sb, &ledger, &out, &["--force"]).ok();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/site");
    let overwrite = std::env::var("SITE_GOLDEN").is_ok_and(|v| v == "overwrite");
    let pages = [
        "index",
        "finances",
        "owners/index",
        "owners/alice",
        "tasks/index",
        "tasks/6_2_1_1",
        "decisions/index",
        "rules",
        "log/index",
        "log/1",
        "verify",
    ];
    let mut differ = Vec::new();
    for page in pages {
        let wiki = if page == "index" {
            "Home".to_string()
        } else {
            page.replace('/', "-")
        };
        for (built, name) in [
            (format!("{page}.html"), format!("{}.html", page.replace('/', "--"))),
            (format!("markdown/docs/{page}.md"), format!("docs--{}.md", page.replace('/', "--"))),
            (format!("wiki/{wiki}.md"), format!("wiki--{wiki}.md")),
        ] {
            let actual = normalised(&text(&out, &built));
            let path = golden.join(&name);
            if overwrite {
                std::fs::create_dir_all(&golden).unwrap();
                std::fs::write(&path, &actual).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(actual.as_str()) {
                differ.push(format!("{built} (golden {})", path.display()));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "these pages differ from their golden files; look at the change and bless it with \
         SITE_GOLDEN=overwrite cargo test --test site golden:\n{}",
        differ.join("\n")
    );
}
