"use strict";
// The review page: rows of the run, most suspicious first, fetched a page at a time; every decision is
// posted at once and the server saves it to review.csv before it answers.
const PAGE = 50;
const state = { classes: [], rows: [], total: null, current: 0, loading: false, pictures: true, generation: 0 };
const $ = (id) => document.getElementById(id);

function el(tag, props = {}, children = []) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
}

function className(c) {
  if (c === null || c === undefined || c < 0) return "";
  return state.classes[c] === String(c) ? state.classes[c] : `${state.classes[c]} (${c})`;
}

function showCounts(counts) {
  const decided = counts.keep + counts.relabel + counts.drop;
  $("counts").textContent = `decided ${decided} of ${state.rowsInRun}: kept ${counts.keep}, ` +
    `relabelled ${counts.relabel}, dropped ${counts.drop}`;
}

function filterQuery() {
  const q = new URLSearchParams();
  for (const id of ["given", "suggested", "min", "max", "show"]) if ($(id).value !== "") q.set(id, $(id).value);
  return q;
}

async function loadMore() {
  if (state.loading || (state.total !== null && state.rows.length >= state.total)) return;
  state.loading = true;
  const generation = state.generation;
  $("more").textContent = "loading more…";
  const q = filterQuery();
  q.set("offset", state.rows.length);
  q.set("limit", PAGE);
  const r = await fetch(`/api/rows?${q}`);
  const page = await r.json();
  state.loading = false;
  if (generation !== state.generation) { loadMore(); return; }  // the filters changed meanwhile
  $("more").textContent = "";
  if (!r.ok) { $("total").textContent = page.error; $("total").className = "error"; return; }
  state.total = page.total;
  $("total").textContent = `${page.total} samples match`;
  $("total").className = "";
  for (const row of page.rows) {
    state.rows.push(row);
    $("rows").append(renderRow(row, state.rows.length - 1));
  }
  highlight();
}

function resetRows() {
  state.rows = []; state.total = null; state.current = 0; state.generation += 1;
  $("rows").replaceChildren();
  loadMore();
}

function renderRow(row, position) {
  const picture = state.pictures ? el("img", { src: row.thumbnail || "", alt: `sample ${row.index}` })
    : el("div", { className: "text", textContent: row.text || "" });
  const relabel = el("input", { placeholder: "class name", title: "relabel to this class (Enter)" });
  relabel.setAttribute("list", "class-names");
  relabel.addEventListener("keydown", (e) => {
    e.stopPropagation();
    if (e.key === "Enter") { e.preventDefault(); relabelByName(position, relabel.value); }
    if (e.key === "Escape") relabel.blur();
  });
  const li = el("li", { className: "row" }, [
    picture,
    el("span", { className: "rank", textContent: `#${row.rank}` }),
    el("span", { className: "given", textContent: `given ${className(row.given)}` }),
    el("span", { className: "suggested" + (row.suggested !== row.given ? " differs" : ""),
                 textContent: `suggested ${className(row.suggested)}` }),
    el("span", { className: "score", textContent: row.score === null ? "" : row.score.toFixed(4) }),
    el("span", { className: "decision" }),
    el("span", { className: "actions" }, [
      el("button", { textContent: "keep", onclick: () => decide(position, "keep") }),
      el("button", { textContent: "suggested", onclick: () => decide(position, "relabel", row.suggested) }),
      el("button", { textContent: "drop", onclick: () => decide(position, "drop") }),
      relabel,
    ]),
  ]);
  li.dataset.index = row.index;
  li.addEventListener("click", (e) => { if (e.target.tagName !== "INPUT") { state.current = position; highlight(); } });
  showDecision(li, row);
  return li;
}

function showDecision(li, row) {
  li.classList.remove("keep", "relabel", "drop");
  const text = row.decision === "relabel" ? `relabelled to ${className(row.label)}` :
    row.decision === "keep" ? "kept" : row.decision === "drop" ? "dropped" : "";
  if (row.decision) li.classList.add(row.decision);
  li.querySelector(".decision").textContent = text;
}

async function decide(position, decision, label) {
  const row = state.rows[position];
  if (!row) return;
  const body = { index: row.index, decision };
  if (label !== undefined) body.label = label;
  const r = await fetch("/api/decide", { method: "POST", headers: { "Content-Type": "application/json" },
                                         body: JSON.stringify(body) });
  const answer = await r.json();
  const li = $("rows").children[position];
  if (!r.ok) { li.querySelector(".decision").textContent = answer.error; return; }
  row.decision = answer.decision; row.label = answer.label;
  showDecision(li, row);
  showCounts(answer.counts);
  if (decision !== "undo") move(1);
}

function relabelByName(position, text) {
  const wanted = text.trim().toLowerCase();
  let c = state.classes.findIndex((name) => name.toLowerCase() === wanted);
  if (c < 0) c = state.classes.findIndex((name, i) => `${name} (${i})`.toLowerCase() === wanted);
  if (c < 0) { $("rows").children[position].querySelector(".decision").textContent = `no class named "${text}"`; return; }
  document.activeElement.blur();
  decide(position, "relabel", c);
}

function highlight() {
  for (const li of $("rows").querySelectorAll(".current")) li.classList.remove("current");
  const li = $("rows").children[state.current];
  if (li) li.classList.add("current");
}

function move(step) {
  state.current = Math.max(0, Math.min(state.rows.length - 1, state.current + step));
  highlight();
  const li = $("rows").children[state.current];
  if (li) li.scrollIntoView({ block: "nearest" });
  if (state.current >= state.rows.length - 5) loadMore();
}

document.addEventListener("keydown", (e) => {
  if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) return;
  const row = state.rows[state.current];
  const actions = {
    j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1),
    Enter: () => decide(state.current, "keep"), s: () => row && decide(state.current, "relabel", row.suggested),
    x: () => decide(state.current, "drop"), u: () => decide(state.current, "undo"),
    c: () => { const input = $("rows").children[state.current]?.querySelector("input"); if (input) input.focus(); },
  };
  if (actions[e.key]) { e.preventDefault(); actions[e.key](); }
});

async function start() {
  const info = await (await fetch("/api/info")).json();
  state.classes = info.classes; state.rowsInRun = info.rows; state.pictures = info.pictures;
  $("run").textContent = info.run;
  $("score-name").textContent = info.score;
  if (info.problem) { $("problem").textContent = info.problem; $("problem").hidden = false; }
  info.classes.forEach((name, c) => {
    for (const id of ["given", "suggested"]) $(id).append(el("option", { value: c, textContent: className(c) }));
    $("class-names").append(el("option", { value: name }));
  });
  showCounts(info.counts);
  $("filters").addEventListener("change", resetRows);
  $("filters").addEventListener("submit", (e) => { e.preventDefault(); resetRows(); });
  new IntersectionObserver((entries) => { if (entries.some((x) => x.isIntersecting)) loadMore(); })
    .observe($("more"));
  resetRows();
}

start();
