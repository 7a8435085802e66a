// advocacy preview: the list of letters, the selected letter in a frame, and
// live updates pushed by the server (Server-Sent Events on /events).
// No build step: plain browser JavaScript. Text from the campaign is only
// ever inserted with textContent, never as HTML.
"use strict";

const BADGES = {
  "no-address": "no address",
  "unverified": "unverified",
  "machine-drafted": "machine-drafted",
  "fell-back": "fallback language",
  "placeholder-sender": "placeholder sender",
};

const state = {
  data: null,        // the last /api/letters answer
  selected: null,    // recipient id
  lang: null,        // "" = campaign policy; null = the server's default (--lang)
  request: 0,        // sequence number: answers to older requests are dropped
  scrolled: false,   // the selected letter was brought into view on first load
  trueSize: false,   // the "100%" toggle: true paper size instead of fitted to the pane
};

const NARROW = window.matchMedia("(max-width: 699px)");  // app.css folds the list there
const GUTTER = 12;  // px of grey desk each side of a fitted sheet
const PAPER_WIDTH = { A4: 210 * 96 / 25.4, Letter: 8.5 * 96 };  // CSS px (letter-preview.css)

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

// "templates/letter.html.j2:12: message" -> <code>templates/letter.html.j2:12</code> message
function errorNode(message) {
  const p = el("p");
  const match = /^([^\s:]+(?::\d+)?): (.*)$/s.exec(message);
  if (match) p.append(el("code", { textContent: match[1] }), ": " + match[2]);
  else p.textContent = message;
  return p;
}

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  state.selected = params.get("to");
  state.lang = params.has("lang") ? params.get("lang") : null;
  state.trueSize = params.get("size") === "100";
}

function writeHash() {
  const params = new URLSearchParams();
  if (state.selected) params.set("to", state.selected);
  if (state.lang) params.set("lang", state.lang);
  if (state.trueSize) params.set("size", "100");
  history.replaceState(null, "", "#" + params.toString());
}

async function refresh() {
  const request = ++state.request;
  const query = state.lang === null ? "" : `?lang=${encodeURIComponent(state.lang)}`;
  let data;
  try {
    const response = await fetch(`/api/letters${query}`, { cache: "no-store" });
    data = await response.json();
  } catch (err) {
    setStatus(false, "cannot reach advocacy preview; is it still running?");
    return;
  }
  if (request !== state.request) return;
  state.data = data;
  state.lang = data.language;
  render();
}

function setStatus(live, text) {
  const status = $("status");
  status.className = "status " + (live ? "live" : "down");
  status.textContent = text;
}

function fillSelect(select, options, keep) {
  select.replaceChildren(...options.map(([value, label]) => el("option", { value, textContent: label })));
  select.value = options.some(([value]) => value === keep) ? keep : options[0][0];
}

function render() {
  const data = state.data;
  $("campaign-title").textContent = data.title + (data.bundled ? " (bundled campaign)" : ` — ${data.campaign_dir}`);
  document.title = `advocacy preview — ${data.title}`;
  const when = new Date().toLocaleTimeString();
  setStatus(true, `live · updated ${when}`);

  // Errors that stop letters from being composed, shown until the file is fixed.
  const errors = $("errors");
  const messages = data.error ? [data.error] : [...new Set(data.letters.filter((l) => l.error).map((l) => l.error))];
  errors.replaceChildren(...messages.slice(0, 3).map(errorNode));
  const broken = data.letters.filter((l) => l.error).length;
  if (!data.error && broken) errors.prepend(el("p", { textContent: `${broken} of ${data.letters.length} letter(s) cannot be composed:` }));
  errors.hidden = messages.length === 0;

  $("campaign-warnings").replaceChildren(...data.warnings.map((w) => el("li", { textContent: w.message })));

  // While a broken file leaves no letters, keep the filters as the writer set them.
  if (data.letters.length) fillFilters(data);
  const languages = [["", "each recipient's language"], ["bilingual", "bilingual (+ fallback)"], ...data.languages.map((l) => [l.code, `${l.code} — ${l.name}`])];
  if (data.languages.length) fillSelect($("language"), languages, data.language);

  renderList();
  showLetter();
  if (!state.scrolled) {
    // Opened on a letter further down (#to=...): bring it into view once.
    document.querySelector('#letters li[aria-selected="true"]')?.scrollIntoView({ block: "center" });
    state.scrolled = true;
  }
}

function fillFilters(data) {
  const tags = [...new Set(data.letters.flatMap((l) => l.tags))].sort();
  fillSelect($("filter-tag"), [["", "all tags"], ...tags.map((t) => [t, t])], $("filter-tag").value);
  const countries = new Map(data.letters.map((l) => [l.country, l.country_name]));
  fillSelect($("filter-country"), [["", "all countries"], ...[...countries].sort().map(([code, name]) => [code, `${code} — ${name}`])], $("filter-country").value);
}

function visibleLetters() {
  const tag = $("filter-tag").value;
  const country = $("filter-country").value;
  const text = $("filter-text").value.trim().toLowerCase();
  return state.data.letters.filter((l) =>
    (!tag || l.tags.includes(tag)) &&
    (!country || l.country === country) &&
    (!text || `${l.id} ${l.organisation} ${l.country_name}`.toLowerCase().includes(text)));
}

function renderList() {
  const shown = visibleLetters();
  const all = state.data.letters.length;
  $("count").textContent = shown.length === all ? `${all} letters` : `${shown.length} of ${all} letters`;
  $("list-toggle-count").textContent = $("count").textContent;
  $("letters").replaceChildren(...shown.map((letter) => {
    const badges = el("span", { className: "badges" });
    if (letter.error) badges.append(el("span", { className: "badge error", textContent: "error", title: letter.error }));
    for (const w of letter.warnings) badges.append(el("span", { className: "badge", textContent: BADGES[w.kind] || w.kind, title: w.message }));
    const item = el("li", { id: optionId(letter.id) },
      el("span", { className: "org", textContent: letter.organisation }),
      el("span", { className: "meta", textContent: `${letter.id} · ${letter.country} · ${letter.language} · ${letter.paper}` }),
      badges);
    item.dataset.id = letter.id;
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", String(letter.id === state.selected));
    item.addEventListener("click", () => {
      select(letter.id);
      if (NARROW.matches) foldList(false);
    });
    return item;
  }));
  markSelected();
}

// The list is one tab stop: focus stays on the listbox, aria-activedescendant
// names the selected option, and the selection follows the arrow keys.
function optionId(id) {
  return `letter-option-${id}`;
}

function markSelected() {
  const list = $("letters");
  let active = null;
  for (const item of list.children) {
    const on = item.dataset.id === state.selected;
    item.setAttribute("aria-selected", String(on));
    if (on) active = item;
  }
  if (active) list.setAttribute("aria-activedescendant", active.id);
  else list.removeAttribute("aria-activedescendant");
  return active;
}

function onListKey(event) {
  const ids = visibleLetters().map((l) => l.id);
  if (!ids.length) return;
  if (event.key === "Enter" || event.key === "Escape") {
    if (NARROW.matches && $("sidebar").classList.contains("open")) {
      event.preventDefault();
      foldList(false);
    }
    return;
  }
  const at = ids.indexOf(state.selected);
  const page = Math.max(1, Math.floor($("letters").clientHeight / 60));
  const target = {
    ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: ids.length - 1,
    PageDown: at + page, PageUp: at - page,
  }[event.key];
  if (target === undefined || event.altKey || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  select(ids[Math.max(0, Math.min(ids.length - 1, target))]);
}

function select(id) {
  state.selected = id;
  writeHash();
  markSelected()?.scrollIntoView({ block: "nearest" });
  showLetter();
}

// Narrow screens: the list is a panel the button opens and closes.
function foldList(open) {
  $("sidebar").classList.toggle("open", open);
  $("list-toggle").setAttribute("aria-expanded", String(open));
  if (open) {
    $("letters").focus();
    markSelected()?.scrollIntoView({ block: "nearest" });
  } else if (NARROW.matches && document.activeElement?.closest("#list-panel")) {
    $("list-toggle").focus();
  }
}

function showLetter() {
  const data = state.data;
  let letter = data.letters.find((l) => l.id === state.selected);
  if (!letter && data.letters.length) {
    letter = visibleLetters()[0] || data.letters[0];
    state.selected = letter.id;
    writeHash();
    renderList();
  }
  const frame = $("letter-frame");
  const pdf = $("pdf-link");
  const failure = $("letter-error");
  if (!letter) {
    $("letter-title").textContent = data.error ? "No letters until the error above is fixed" : "No letters";
    $("letter-meta").textContent = data.error ? "This page updates by itself when you save the fix." : "";
    $("letter-subject").textContent = "";
    $("letter-warnings").replaceChildren();
    failure.hidden = true;
    frame.hidden = true;
    pdf.hidden = true;
    showZoom(false);
    return;
  }
  $("letter-title").textContent = letter.organisation;
  $("letter-meta").textContent = `${letter.id} · ${letter.country_name} · ${letter.language_name} (${letter.language}) · ${letter.paper}`;
  $("letter-subject").textContent = letter.subject ? `Subject: ${letter.subject}` : "";
  $("letter-warnings").replaceChildren(...letter.warnings.map((w) => el("li", { textContent: w.message })));
  const lang = encodeURIComponent(state.lang || "");
  pdf.href = `/letter/${encodeURIComponent(letter.id)}.pdf?lang=${lang}`;
  pdf.hidden = Boolean(letter.error);
  if (letter.error) {
    failure.replaceChildren(errorNode(letter.error));
    failure.hidden = false;
    frame.hidden = true;
    showZoom(false);
    return;
  }
  failure.hidden = true;
  frame.hidden = false;
  showZoom(true);
  loadFrame(letter, data.version);
}

function showZoom(shown) {
  $("zoom-toggle").hidden = !shown;
  $("zoom-level").hidden = !shown;
}

// The sheet is drawn at true paper size (letter-preview.css); scale it down
// (CSS zoom keeps its proportions and the overlay on it) to the frame's width,
// unless the "100%" toggle asks for true size.
function fitLetter() {
  const frame = $("letter-frame");
  let doc = null;
  try { doc = frame.contentDocument; } catch (err) { doc = null; }
  const sheet = doc?.querySelector(".pv-sheet");
  const toggle = $("zoom-toggle");
  toggle.setAttribute("aria-pressed", String(state.trueSize));
  if (!sheet || frame.hidden) return;
  const zoom = sheet.style.zoom;
  sheet.style.zoom = "";
  const natural = sheet.getBoundingClientRect().width;
  const room = doc.documentElement.clientWidth - 2 * GUTTER;
  const scale = fitScale(natural, room);
  const wanted = scale === 1 ? "" : scale.toFixed(4);
  sheet.style.zoom = Math.abs(Number(zoom || 1) - scale) < 0.002 ? zoom : wanted;
  let level = `fitted: ${Math.round(scale * 100)}%`;
  if (natural <= room) level = "fits at true size";
  else if (state.trueSize) level = "true size: scroll sideways in the letter";
  $("zoom-level").textContent = level;
}

function fitScale(natural, room) {
  return state.trueSize || natural <= room ? 1 : Math.max(0.1, room / natural);
}

function loadFrame(letter, version) {
  const frame = $("letter-frame");
  const lang = encodeURIComponent(state.lang || "");
  const src = `/letter/${encodeURIComponent(letter.id)}.html?lang=${lang}&v=${version}`;
  if (frame.dataset.src === src) return false;
  // The server draws the sheet at the scale it will be shown at (no flash of a
  // full-size letter after every save); fitLetter() corrects it once loaded.
  let width = frame.clientWidth;
  try { width = frame.contentDocument.documentElement.clientWidth || width; } catch (err) { /* none yet */ }
  const scale = fitScale(PAPER_WIDTH[letter.paper] || PAPER_WIDTH.A4, width - 2 * GUTTER);
  // Same letter, new text: keep the reader's place in it.
  const sameLetter = frame.dataset.letter === letter.id;
  let scrollY = 0;
  try { scrollY = frame.contentWindow.scrollY; } catch (err) { scrollY = 0; }
  frame.onload = () => {
    fitLetter();
    if (sameLetter) try { frame.contentWindow.scrollTo(0, scrollY); } catch (err) { /* not loaded */ }
  };
  frame.dataset.src = src;
  frame.dataset.letter = letter.id;
  frame.src = scale < 1 ? `${src}&zoom=${scale.toFixed(4)}` : src;
  return true;
}

function connect() {
  const events = new EventSource("/events");
  events.addEventListener("hello", (event) => {
    // A new version, or a restarted server (its versions count from 1 again).
    const { version, instance } = JSON.parse(event.data);
    if (!state.data || state.data.version !== version || state.data.instance !== instance) refresh();
    else setStatus(true, `live · updated ${new Date().toLocaleTimeString()}`);
  });
  events.addEventListener("change", (event) => {
    // Redraw the selected letter first, and fetch the list (every letter
    // composed again) once it is drawn: the server's time goes to the letter
    // the writer is reading.
    const { version } = JSON.parse(event.data);
    const letter = state.data?.letters.find((l) => l.id === state.selected);
    if (!letter || letter.error || !loadFrame(letter, version)) {
      refresh();
      return;
    }
    let asked = false;
    const once = () => { if (!asked) { asked = true; refresh(); } };
    $("letter-frame").addEventListener("load", once, { once: true });
    setTimeout(once, 2000);
  });
  events.onerror = () => setStatus(false, "disconnected; retrying…");
}

function init() {
  readHash();
  for (const id of ["filter-tag", "filter-country"]) $(id).addEventListener("change", () => { renderList(); showLetter(); });
  $("filter-text").addEventListener("input", () => renderList());
  $("letters").addEventListener("keydown", onListKey);
  $("list-toggle").addEventListener("click", () => foldList(!$("sidebar").classList.contains("open")));
  $("zoom-toggle").addEventListener("click", () => {
    state.trueSize = !state.trueSize;
    writeHash();
    fitLetter();
  });
  // A resized window or a pane that the list gave room to: fit the letter again.
  new ResizeObserver(() => fitLetter()).observe($("letter-frame"));
  $("language").addEventListener("change", (event) => {
    state.lang = event.target.value;
    writeHash();
    refresh();
  });
  refresh();
  connect();
}

init();
