#!/usr/bin/env node
// Headless-browser check of the static site that `smartup site build --out DIR` writes.
//
// Run:   npm ci --prefix tests/browser          (once; pinned playwright-core + axe-core)
//        node tests/browser/check-site.mjs SITE_DIR ARTIFACTS_DIR [--axe REL_PATH ...]
// Needs: Debian's Chromium at /usr/bin/chromium (apt-get install chromium). No network.
//
// Every *.html under SITE_DIR (recursively) is opened from file:// at 1280 px and at 390 px
// wide (height 900): one browser, one context and tab per width, the two widths side by side,
// pages in sequence within a width. For each page and width:
//   - a full-page screenshot goes to ARTIFACTS_DIR/<rel path, "/" -> "__">-<width>.png;
//   - any console error, page error, failed request, request for a file:// subresource that
//     does not exist (or lies outside SITE_DIR), or external http(s) subresource fails;
//   - every <img> needs alt (alt="" marks it decorative) or an aria label; every outermost
//     inline <svg> needs role="img" with aria-label or a <title>, or aria-labelledby
//     (aria-hidden="true" marks it decorative);
//   - at 390 px the document must not scroll sideways: every element and text run that is
//     not inside an element that clips or scrolls its own overflow (overflow-x other than
//     visible, e.g. a wide table in <div style="overflow-x:auto">) must end inside the
//     viewport; the offenders are named (tag#id.class, width, right edge);
//   - at 1280 px no table scrolls inside its box (.table-wrap): on a desktop screen every
//     column is in view; the table's caption and widths are named.
// Links: every <a href> is resolved against its page; a relative link must reach an existing
// file inside SITE_DIR (query and fragment stripped; not a directory, which file:// would
// list), and a #fragment must name an id (or <a name>) on the target page. http(s) links are
// listed, never fetched. Pages given with --axe (paths relative to SITE_DIR; --axe may be
// repeated or followed by several paths) also get axe-core at 1280 px: violations of impact
// serious or critical fail, the full results go to ARTIFACTS_DIR/axe-<rel path, "/" -> "__">.json.
//
// Failures are printed at the end, sorted by page, one line each ("@1280,390" when the same
// problem shows at both widths); progress every 50 pages. No console message is filtered:
// from file:// with these switches Chromium logs nothing of its own.
//
// Exit 0: all passed. Exit 1: something failed, one "FAIL page @width: what" line each.
// Exit 2: usage error (bad arguments, no html files, no Chromium, no node_modules).

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const CHROMIUM = "/usr/bin/chromium";
const WIDTHS = [1280, 390];
const NARROW = 390; // the sideways-overflow check runs at this width
const WIDE = 1280; // tables must fit without scrolling at this width
const AXE_WIDTH = 1280;
const HEIGHT = 900;
const here = path.dirname(fileURLToPath(import.meta.url));
const started = Date.now();

function usage(msg, showUsage = true) {
  console.error(`check-site: ${msg}`);
  if (showUsage) console.error("usage: node tests/browser/check-site.mjs SITE_DIR ARTIFACTS_DIR [--axe REL_PATH ...]");
  process.exit(2);
}

// ---- arguments and environment --------------------------------------------------------------
const positional = [];
const axeRequested = [];
{
  const argv = process.argv.slice(2);
  let inAxe = false;
  for (const arg of argv) {
    if (arg === "-h" || arg === "--help") {
      console.log("usage: node tests/browser/check-site.mjs SITE_DIR ARTIFACTS_DIR [--axe REL_PATH ...]  (see the top of this file)");
      process.exit(0);
    }
    if (arg === "--axe") { inAxe = true; continue; }
    if (arg.startsWith("--axe=")) { axeRequested.push(arg.slice(6)); inAxe = true; continue; }
    if (arg.startsWith("--")) usage(`unknown option ${arg}`);
    if (inAxe && positional.length >= 2) axeRequested.push(arg);
    else positional.push(arg);
  }
  if (inAxe && axeRequested.length === 0) usage("--axe needs a page path relative to SITE_DIR");
}
if (positional.length !== 2) usage("expected SITE_DIR and ARTIFACTS_DIR");
const siteArg = positional[0];
if (!fs.existsSync(siteArg) || !fs.statSync(siteArg).isDirectory()) usage(`SITE_DIR ${siteArg} is not a directory`);
const siteRoot = fs.realpathSync(siteArg);
const artifacts = path.resolve(positional[1]);

function listHtml(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listHtml(full));
    else if (entry.name.endsWith(".html") && fs.statSync(full).isFile()) out.push(full);
  }
  return out;
}
const rel = (abs) => path.relative(siteRoot, abs).split(path.sep).join("/");
const pages = listHtml(siteRoot).map(rel).sort();
if (pages.length === 0) usage(`no *.html files under ${siteArg}`);

const axePages = [];
for (const p of axeRequested) {
  const norm = path.posix.normalize(p.split(path.sep).join("/")).replace(/^\.\//, "");
  if (!pages.includes(norm)) usage(`--axe ${p}: no such html page under ${siteArg}`);
  if (!axePages.includes(norm)) axePages.push(norm);
}

if (!fs.existsSync(CHROMIUM)) usage(`Chromium not found at ${CHROMIUM}; install it with: apt-get install chromium`, false);
const axeScript = path.join(here, "node_modules", "axe-core", "axe.min.js");
if (!fs.existsSync(path.join(here, "node_modules", "playwright-core", "package.json")) || !fs.existsSync(axeScript))
  usage("tests/browser/node_modules is missing or incomplete; run: npm ci --prefix tests/browser", false);
const { chromium } = await import("playwright-core");

fs.mkdirSync(artifacts, { recursive: true });
const flat = (p) => p.split("/").join("__");

// ---- failures ---------------------------------------------------------------------------------
// Failures are gathered and printed at the end, one line each; the same problem on a page at
// both widths (a missing image, an unlabelled svg) is one line naming both widths.
const failures = new Map(); // "page\0what" -> { page, what, widths: [] }
function fail(page, width, what) {
  const key = `${page}\0${what}`;
  if (!failures.has(key)) failures.set(key, { page, what, widths: [] });
  const f = failures.get(key);
  if (width && !f.widths.includes(width)) f.widths.push(width);
}

// Path inside SITE_DIR (posix, relative) for a file:// URL, or null when outside / not file.
function siteRelFromUrl(url) {
  if (url.protocol !== "file:") return null;
  let abs;
  try { abs = fileURLToPath(url.href.split(/[?#]/)[0]); } catch { return null; } // e.g. file://otherhost/
  const r = path.relative(siteRoot, abs);
  if (r === ".." || r.startsWith(`..${path.sep}`) || path.isAbsolute(r)) return null;
  return r.split(path.sep).join("/");
}
const shortUrl = (u) => (u.startsWith("file://") ? (siteRelFromUrl(new URL(u)) ?? u) : u).slice(0, 200);

// ---- in-page probes (run inside Chromium) ------------------------------------------------------
function probeAlternatives() {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : "") +
    ((el.getAttribute("class") || "").trim() ? "." + el.getAttribute("class").trim().split(/\s+/).join(".") : "");
  const labelledBy = (el) => {
    const ids = (el.getAttribute("aria-labelledby") || "").trim().split(/\s+/).filter(Boolean);
    return ids.length > 0 && ids.every((id) => document.getElementById(id)) &&
      ids.map((id) => document.getElementById(id).textContent.trim()).join("").length > 0;
  };
  const problems = [];
  document.querySelectorAll("img").forEach((img, i) => {
    if (img.hasAttribute("alt") || (img.getAttribute("aria-label") || "").trim() || labelledBy(img)) return;
    problems.push(`<img> #${i + 1} ${name(img)} src="${(img.getAttribute("src") || "").slice(0, 80)}" has no alt`);
  });
  document.querySelectorAll("svg").forEach((svg, i) => {
    if (svg.parentElement && svg.parentElement.closest("svg")) return; // nested: the outer one speaks
    if (svg.getAttribute("aria-hidden") === "true") return; // explicitly decorative
    const title = [...svg.children].find((c) => c.tagName.toLowerCase() === "title");
    const hasName = (svg.getAttribute("aria-label") || "").trim() || (title && title.textContent.trim());
    if (labelledBy(svg)) return;
    if (svg.getAttribute("role") === "img" && hasName) return;
    const why = svg.getAttribute("role") !== "img"
      ? (hasName ? 'has a label but no role="img"' : 'has no role="img" and no aria-label/<title>/aria-labelledby')
      : "has role=\"img\" but no aria-label/<title>/aria-labelledby";
    problems.push(`inline <svg> #${i + 1} ${name(svg)} ${why}`);
  });
  return problems;
}

function probeLinksAndIds() {
  const links = [];
  document.querySelectorAll("a, area").forEach((a) => {
    const raw = a.getAttribute("href") ?? a.getAttribute("xlink:href");
    if (raw === null) return;
    let resolved = null;
    try { resolved = new URL(raw, document.baseURI).href; } catch { /* reported below */ }
    links.push({ raw, resolved });
  });
  const ids = [...document.querySelectorAll("[id]")].map((e) => e.id);
  const names = [...document.querySelectorAll("a[name]")].map((e) => e.getAttribute("name"));
  return { links, ids: ids.concat(names) };
}

function probeSubresources() {
  const urls = [];
  const add = (v) => { if (v && v.trim()) { try { urls.push(new URL(v.trim(), document.baseURI).href); } catch { urls.push(v); } } };
  const srcset = (v) => (v || "").split(",").map((s) => s.trim().split(/\s+/)[0]).forEach(add);
  document.querySelectorAll("img, source, video, audio, track, script, iframe, embed, input[type=image]").forEach((el) => {
    add(el.getAttribute("src")); srcset(el.getAttribute("srcset"));
    if (el.tagName === "VIDEO") add(el.getAttribute("poster"));
  });
  document.querySelectorAll("object[data]").forEach((el) => add(el.getAttribute("data")));
  document.querySelectorAll("link[href]").forEach((el) => {
    if (/\b(stylesheet|icon|preload|modulepreload|manifest|apple-touch-icon)\b/i.test(el.rel)) add(el.getAttribute("href"));
  });
  document.querySelectorAll("svg image, svg use, svg feImage").forEach((el) => {
    const v = el.getAttribute("href") ?? el.getAttribute("xlink:href");
    if (v && !v.startsWith("#")) add(v);
  });
  return urls.filter((u) => !u.startsWith("data:") && !u.startsWith("about:") && !u.startsWith("blob:"));
}

// Sideways overflow at the narrow width. Elements whose overflow-x is not `visible` (auto,
// scroll, hidden, clip) contain their descendants' overflow; they are measured themselves but
// their subtree is not. <html> and <body> do not count as containers: their overflow goes to
// the viewport. Text runs are measured too (a long unbreakable hash overflows its box).
function probeOverflow() {
  const vw = window.innerWidth;
  const scrollWidth = document.documentElement.scrollWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : "") +
    ((el.getAttribute("class") || "").trim() ? "." + el.getAttribute("class").trim().split(/\s+/).join(".") : "");
  const boxOver = new Map(); // element -> its rect, for boxes past the right edge
  const textOver = new Map(); // element (box inside) -> right edge of its own text past the edge
  const edge = (r) => r.width > 0 && r.right + window.scrollX > vw + 1;
  const visit = (el, contained) => {
    const cs = getComputedStyle(el);
    if (cs.display === "none" || cs.position === "fixed") return; // fixed boxes never scroll the page
    const root = el === document.documentElement || el === document.body;
    const r = el.getBoundingClientRect();
    if (!contained && edge(r)) boxOver.set(el, r);
    const inside = contained || (!root && cs.overflowX !== "visible");
    for (const child of el.childNodes) {
      if (child.nodeType === 1) visit(child, inside);
      else if (child.nodeType === 3 && !inside && !boxOver.has(el) && child.textContent.trim()) {
        const range = document.createRange();
        range.selectNodeContents(child);
        const t = range.getBoundingClientRect();
        if (edge(t)) textOver.set(el, Math.max(textOver.get(el) || 0, t.right + window.scrollX));
      }
    }
  };
  visit(document.documentElement, false);
  // The causes: overflowing boxes whose parent box fits, and boxes that fit but whose text does not.
  const causes = [];
  for (const [el, r] of boxOver) {
    if (el.parentElement && boxOver.has(el.parentElement)) continue;
    causes.push(`${name(el)} is ${Math.round(r.width)}px wide, right edge at ${Math.round(r.right + window.scrollX)}px`);
  }
  for (const [el, right] of textOver) causes.push(`text in ${name(el)} runs to ${Math.round(right)}px (unbreakable words? try overflow-wrap:anywhere)`);
  return { vw, scrollWidth, causes };
}

// Tables that scroll sideways inside their .table-wrap box: caption, table and box widths.
function probeScrollingTables() {
  return [...document.querySelectorAll(".table-wrap")]
    .filter((wrap) => wrap.scrollWidth > wrap.clientWidth + 1)
    .map((wrap) => `"${wrap.querySelector("caption")?.textContent ?? wrap.getAttribute("aria-label")}" is ${wrap.scrollWidth}px wide in a ${wrap.clientWidth}px box`);
}

// ---- the run ----------------------------------------------------------------------------------
let browser;
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...(process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : []),
      "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
} catch (e) {
  console.error(`check-site: could not launch ${CHROMIUM}: ${e.message.split("\n")[0]}`);
  process.exit(2);
}
console.log(`check-site: ${pages.length} pages under ${siteArg}, Chromium ${browser.version()}, widths ${WIDTHS.join(" and ")}`);

const idsByPage = new Map(); // rel path -> Set of ids / anchor names
const linksByPage = new Map(); // rel path -> [{raw, resolved}]
let screenshots = 0;

// Checks every page at one width, in sequence, in one reused tab. The two widths run side by
// side. Each request is tied to the page that made it, so a straggler is never blamed on the
// next page; console messages and page errors come during load and belong to the current page.
async function checkWidth(width) {
  const widthStarted = Date.now();
  const context = await browser.newContext({ viewport: { width, height: HEIGHT }, deviceScaleFactor: 1, serviceWorkers: "block" });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  let cur = null; // the page being checked: { rel, url, F, missing, inflight }
  const owner = new WeakMap(); // request -> the cur it belongs to

  // A missing file:// subresource shows up three times (a request for a file that is not
  // there, requestfailed, and Chromium's console "Failed to load resource"): one line says so.
  const noteMissing = (c, u, rel, symptom) => {
    if (!c.missing.has(u)) c.missing.set(u, { rel, symptoms: [] });
    const m = c.missing.get(u);
    if (rel && !m.rel) m.rel = rel;
    if (symptom && !m.symptoms.includes(symptom)) m.symptoms.push(symptom);
  };
  // A subresource URL (from a request or from the DOM): inside SITE_DIR and present, or a failure.
  const checkSubresource = (c, u, symptom) => {
    let parsed;
    try { parsed = new URL(u); } catch { c.F(`unparsable subresource URL ${u.slice(0, 200)}`); return; }
    if (parsed.protocol === "file:") {
      const r = siteRelFromUrl(parsed);
      if (r === null) c.F(`subresource outside SITE_DIR: ${u}`);
      else if (!fs.existsSync(path.join(siteRoot, ...r.split("/")))) noteMissing(c, parsed.href, r, symptom);
    } else {
      c.F(`external subresource ${u.slice(0, 200)} (pages must be self-contained)`);
    }
  };

  page.on("console", (msg) => {
    // No filtering: opened from file:// with these switches, Chromium logs nothing of its own.
    if (!cur || msg.type() !== "error") return;
    const loc = msg.location();
    if (loc && cur.missing.has(loc.url) && msg.text().includes("ERR_FILE_NOT_FOUND")) {
      noteMissing(cur, loc.url, null, "console error");
      return;
    }
    cur.F(`console error: ${msg.text().slice(0, 300)}${loc && loc.url && loc.url !== cur.url ? ` (${shortUrl(loc.url)})` : ""}`);
  });
  page.on("pageerror", (err) => cur && cur.F(`page error: ${String(err.message || err).split("\n")[0]}`));
  page.on("request", (req) => {
    if (!cur) return;
    owner.set(req, cur);
    cur.inflight++;
    const u = req.url();
    if (u === cur.url || /^(data|about|blob):/.test(u)) return;
    checkSubresource(cur, u, "requested");
  });
  page.on("requestfinished", (req) => { const c = owner.get(req); if (c) c.inflight--; });
  page.on("requestfailed", (req) => {
    const c = owner.get(req);
    if (!c) return;
    c.inflight--;
    const error = req.failure()?.errorText ?? "unknown error";
    if (c.missing.has(req.url()) && error === "net::ERR_FILE_NOT_FOUND") noteMissing(c, req.url(), null, "request failed");
    else c.F(`request failed: ${shortUrl(req.url())} (${error})`);
  });

  let done = 0;
  for (const pageRel of pages) {
    const url = pathToFileURL(path.join(siteRoot, ...pageRel.split("/"))).href;
    const c = (cur = { rel: pageRel, url, F: (what) => fail(pageRel, width, what), missing: new Map(), inflight: 0 });
    const F = c.F;
    try {
      await page.goto(url, { waitUntil: "load" });

      // Full-page screenshot through CDP: optimizeForSpeed makes PNG encoding about twice as
      // fast as page.screenshot (files ~25% larger). Width grows with a page that overflows.
      const shot = path.join(artifacts, `${flat(pageRel)}-${width}.png`);
      try {
        const { cssContentSize } = await cdp.send("Page.getLayoutMetrics");
        const clip = { x: 0, y: 0, width: Math.max(width, Math.ceil(cssContentSize.width)), height: Math.max(HEIGHT, Math.ceil(cssContentSize.height)), scale: 1 };
        const { data } = await cdp.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true, optimizeForSpeed: true, clip });
        fs.writeFileSync(shot, Buffer.from(data, "base64"));
      } catch {
        await page.screenshot({ path: shot, fullPage: true });
      }
      screenshots++;
      // The screenshot can pull in lazy images: let requests settle (at most 1 s).
      for (let t = 0; c.inflight > 0 && t < 40; t++) await page.waitForTimeout(25);

      const probe = await page.evaluate(`({ sub: (${probeSubresources})(), alt: (${probeAlternatives})(),
        links: (${probeLinksAndIds})(), over: ${width === NARROW ? `(${probeOverflow})()` : "null"},
        tables: ${width === WIDE ? `(${probeScrollingTables})()` : "[]"} })`);
      for (const u of probe.sub) checkSubresource(c, u, null);
      for (const { rel: r, symptoms } of c.missing.values())
        F(`missing subresource ${r} (${symptoms.length ? symptoms.join(", ") : "in the DOM, never requested"})`);
      for (const p of probe.alt) F(`no text alternative: ${p}`);
      if (width === WIDTHS[0]) {
        linksByPage.set(pageRel, probe.links.links);
        idsByPage.set(pageRel, new Set(probe.links.ids));
      }
      if (probe.over) {
        const o = probe.over;
        const scrolls = o.scrollWidth > o.vw + 1;
        if (scrolls || o.causes.length > 0) {
          const head = scrolls ? `page is wider than the viewport, it scrolls or is cut off sideways (scrollWidth ${o.scrollWidth}px > ${o.vw}px)` : `content cut off past the ${o.vw}px viewport`;
          const causes = o.causes.length ? o.causes.slice(0, 5).join("; ") + (o.causes.length > 5 ? `; and ${o.causes.length - 5} more` : "") : "no single element found (check margins/transforms)";
          F(`${head}: ${causes}`);
        }
      }

      for (const t of probe.tables) F(`a table scrolls sideways: ${t}`);

      if (width === AXE_WIDTH && axePages.includes(pageRel)) {
        await page.addScriptTag({ path: axeScript });
        // preload:false: axe would otherwise XHR the stylesheets (for css-orientation-lock),
        // which file:// refuses with a CORS console error that is axe's doing, not the page's.
        const results = await page.evaluate(() => window.axe.run(document, { preload: false }));
        fs.writeFileSync(path.join(artifacts, `axe-${flat(pageRel)}.json`), JSON.stringify(results, null, 2));
        for (const v of results.violations) {
          if (v.impact !== "serious" && v.impact !== "critical") continue;
          const targets = v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ");
          F(`axe ${v.id} (${v.impact}): ${v.help} — ${v.nodes.length} node(s), e.g. ${targets}`);
        }
      }
      if (c.inflight > 0) F(`${c.inflight} request(s) still pending 1 s after load`);
    } catch (e) {
      F(`could not check page: ${e.message.split("\n")[0]}`);
    }
    done++;
    if (done % 50 === 0 && done < pages.length) console.log(`check-site: ${done}/${pages.length} pages at ${width}px`);
  }
  cur = null;
  await context.close();
  console.log(`check-site: ${pages.length} pages at ${width}px in ${((Date.now() - widthStarted) / 1000).toFixed(1)} s`);
}

await Promise.all(WIDTHS.map(checkWidth));
await browser.close();

// ---- links ------------------------------------------------------------------------------------
let internalLinks = 0;
const external = new Set();
for (const [pageRel, links] of linksByPage) {
  for (const { raw, resolved } of links) {
    const L = (what) => fail(pageRel, 0, `link "${raw.slice(0, 120)}" ${what}`);
    if (resolved === null) { L("is not a valid URL"); continue; }
    const u = new URL(resolved);
    if (u.protocol === "http:" || u.protocol === "https:") { external.add(resolved); continue; }
    if (u.protocol === "mailto:" || u.protocol === "tel:") continue;
    if (u.protocol !== "file:") { L(`uses ${u.protocol} (no scripts, relative links only)`); continue; }
    internalLinks++;
    if (/^\s*\/|^[a-z][a-z0-9+.-]*:/i.test(raw)) { L("is absolute; use a relative link (the site must work from any folder)"); continue; }
    const target = siteRelFromUrl(u);
    if (target === null) { L("escapes SITE_DIR"); continue; }
    const targetAbs = path.join(siteRoot, ...target.split("/"));
    if (!fs.existsSync(targetAbs)) { L(`points at ${target || "."}, which does not exist`); continue; }
    if (fs.statSync(targetAbs).isDirectory()) { L(`points at the folder ${target || "."}/ (file:// shows a listing; link to the .html file)`); continue; }
    if (u.hash.length > 1) {
      const frag = u.hash.slice(1);
      let decoded = frag;
      try { decoded = decodeURIComponent(frag); } catch { /* keep raw */ }
      const ids = idsByPage.get(target);
      if (!ids) { console.log(`note: ${pageRel}: link "${raw}" has a fragment on ${target}, which is not an html page checked here`); continue; }
      if (!ids.has(decoded) && !ids.has(frag) && decoded.toLowerCase() !== "top") L(`points at #${decoded} but ${target} has no element with that id`);
    }
  }
}

// ---- summary ----------------------------------------------------------------------------------
if (external.size > 0) {
  console.log(`external links (listed, not fetched): ${external.size}`);
  for (const e of [...external].sort()) console.log(`  ${e}`);
}
const list = [...failures.values()].sort((a, b) => (a.page < b.page ? -1 : a.page > b.page ? 1 : 0));
for (const f of list) console.log(`FAIL ${f.page}${f.widths.length ? ` @${f.widths.sort((a, b) => b - a).join(",")}` : ""}: ${f.what}`);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`check-site: ${pages.length} pages checked at ${WIDTHS.join(" and ")} px, ${internalLinks} internal links checked, ` +
  `${external.size} external links listed, ${axePages.length} axe pages, ${screenshots} screenshots in ${artifacts}, ${list.length} failures`);
console.log(`check-site: total time ${seconds} s`);
if (list.length > 0) {
  console.log(`check-site: FAILED (${list.length} failures, one FAIL line each)`);
  process.exit(1);
}
console.log("check-site: passed");
