// render_html(): one self-contained page (inline CSS and JS, nothing fetched) that replaces
// OSProfiler's AngularJS template, whose CDN scripts are gone. It embeds the report JSON (as
// render_json writes it, with '<', '>' and '&' escaped so that no "</script>" or "<!--" can
// end the script element), the points' start/duration in microseconds, and the problems found
// while reading the events. The script builds a collapsible <details> tree lazily (children are
// created when a point is first opened, so a 20,000-event trace opens quickly), draws duration
// bars relative to the total, filters by name/project/service/host, and shows a point's info
// fields and stored events in a side panel. All trace text is inserted with textContent.
#include <osprof/render.hpp>
#include "report/report_internal.hpp"

namespace osprof {
inline namespace v1 {

using namespace detail;  // report_impl and the text helpers

namespace {

constexpr std::string_view page_head = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="osprof">
<title>)html";

constexpr std::string_view page_style = R"html(</title>
<style>
:root { --fg:#1d2125; --muted:#6b7280; --line:#e5e7eb; --bg:#fff; --panel:#f8fafc; --bar:#3b82f6;
        --err:#dc2626; --hl:#fef3c7; --sel:#dbeafe; }
@media (prefers-color-scheme: dark) {
  :root { --fg:#e5e7eb; --muted:#9ca3af; --line:#374151; --bg:#111827; --panel:#1f2937; --bar:#60a5fa;
          --err:#f87171; --hl:#422006; --sel:#1e3a8a; }
}
* { box-sizing: border-box; }
body { margin:0; font:13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
header { padding:10px 16px; border-bottom:1px solid var(--line); display:flex; flex-wrap:wrap; gap:8px 16px; align-items:center; }
header h1 { font-size:15px; margin:0; font-weight:600; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:12px; }
#summary { color:var(--muted); }
#filter { flex:1 1 260px; max-width:420px; padding:4px 8px; border:1px solid var(--line); border-radius:4px; background:var(--bg); color:var(--fg); }
button { padding:3px 10px; border:1px solid var(--line); border-radius:4px; background:var(--panel); color:var(--fg); cursor:pointer; }
#problems { padding:6px 16px; background:var(--hl); border-bottom:1px solid var(--line); }
#problems pre { white-space:pre-wrap; margin:4px 0 0; }
main { display:flex; height:calc(100vh - 52px); }
#tree-pane { flex:1 1 auto; overflow:auto; min-width:0; }
#details { flex:0 0 38%; max-width:640px; overflow:auto; border-left:1px solid var(--line); background:var(--panel); padding:10px 14px; }
#details h2 { font-size:14px; margin:0 0 8px; }
#details h3 { font-size:12px; margin:12px 0 4px; color:var(--muted); }
#details table { border-collapse:collapse; width:100%; }
#details td { border-bottom:1px solid var(--line); padding:2px 6px; vertical-align:top; word-break:break-all; }
#details td:first-child { color:var(--muted); white-space:nowrap; width:1%; }
#details pre { margin:0; padding:6px; background:var(--bg); border:1px solid var(--line); overflow:auto; white-space:pre-wrap; word-break:break-all; }
.cols, summary { display:grid; grid-template-columns:minmax(0,1fr) 6.5em 34%; gap:8px; align-items:center; padding:1px 16px 1px 0; }
.cols { position:sticky; top:0; background:var(--bg); border-bottom:1px solid var(--line); color:var(--muted); font-size:12px; padding:4px 16px 4px 8px; z-index:1; }
summary { list-style:none; cursor:pointer; border-bottom:1px solid transparent; }
summary::-webkit-details-marker { display:none; }
summary:hover { background:var(--panel); }
details.sel > summary { background:var(--sel); }
details.last > summary .name::after { content:" (last started)"; color:var(--muted); font-weight:normal; }
.lbl { white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
.tog { display:inline-block; width:1.2em; text-align:center; color:var(--muted); }
.tog::before { content:"\25B8"; }
details[open] > summary .tog::before { content:"\25BE"; }
details.leaf > summary .tog::before { content:"\00B7"; }
.name { font-weight:600; }
.err > summary .name, .err > summary .dur { color:var(--err); }
.svc { color:var(--muted); margin-left:.6em; }
.dur { text-align:right; font-variant-numeric:tabular-nums; }
.bar { position:relative; height:10px; background:var(--panel); border-radius:2px; }
.bar > span { position:absolute; top:0; bottom:0; min-width:1px; background:var(--bar); border-radius:2px; }
.err > summary .bar > span { background:var(--err); }
.more { padding:4px 16px; color:var(--muted); }
/* Narrow windows: the details go under the tree, which keeps the width. */
@media (max-width: 760px) {
  main { flex-direction:column; height:auto; }
  #tree-pane { overflow:visible; }
  #details { flex:none; max-width:none; border-left:0; border-top:1px solid var(--line); }
  .cols, summary { grid-template-columns:minmax(0,1fr) 5.5em 22%; }
}
</style>
</head>
<body>
<header>
<h1>Trace <code id="trace-id"></code></h1>
<span id="summary"></span>
<input id="filter" type="search" placeholder="Filter by name, project, service or host" autocomplete="off">
<button id="expand" type="button">Expand all</button>
<button id="collapse" type="button">Collapse all</button>
</header>
<div id="problems" hidden></div>
<main>
<section id="tree-pane">
<div class="cols"><span>point &middot; service (project) &middot; host</span><span class="dur">duration</span><span>timeline</span></div>
<div id="tree"></div>
</section>
<aside id="details"><h2>Details</h2><p>Select a point to see its info and stored events.</p></aside>
</main>
)html";

constexpr std::string_view page_script = R"html(<script>
(function () {
  "use strict";
  var data = function (id) { return JSON.parse(document.getElementById(id).textContent); };
  var report = data("osprof-report"), timing = data("osprof-timing"), problems = data("osprof-problems");
  var el = function (tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  var fmt = function (us) {
    var ms = us / 1000, a = Math.abs(ms);
    return (a < 1 ? ms.toFixed(3) : a < 10 ? ms.toFixed(2) : a < 100 ? ms.toFixed(1) : ms.toFixed(0)) + " ms";
  };

  // Points in preorder, as the timing array lists them.
  var points = [], stack = [];
  for (var r = report.children.length - 1; r >= 0; --r) stack.push([report.children[r], -1, 0]);
  while (stack.length) {
    var top = stack.pop(), node = top[0], idx = points.length;
    var t = timing.points[idx] || [0, 0];
    points.push({ node: node, parent: top[1], depth: top[2], start: t[0], dur: t[1], kids: [] });
    if (top[1] >= 0) points[top[1]].kids.push(idx);
    for (var c = node.children.length - 1; c >= 0; --c) stack.push([node.children[c], idx, top[2] + 1]);
  }
  var roots = [];
  points.forEach(function (p, i) { if (p.parent < 0) roots.push(i); });
  var total = timing.total_us, failed = 0;
  var isError = function (info) { return info.exception !== undefined && info.exception !== "None"; };
  points.forEach(function (p) { if (isError(p.node.info)) failed++; });

  document.getElementById("trace-id").textContent = timing.base_id || "(unknown)";
  document.title = "osprof trace " + (timing.base_id || "");
  document.getElementById("summary").textContent = "total " + fmt(total) + " \u00B7 " + points.length +
      (points.length === 1 ? " point" : " points") + (failed ? " \u00B7 " + failed + " failed" : "");
  if (problems.length) {
    var pb = document.getElementById("problems");
    pb.hidden = false;
    var det = el("details"), sum = el("summary", null, problems.length + " stored event(s) skipped or repaired");
    sum.style.display = "block";
    det.appendChild(sum);
    det.appendChild(el("pre", null, problems.join("\n")));
    pb.appendChild(det);
  }

  var tree = document.getElementById("tree"), details = document.getElementById("details");
  var selected = null, shown = null, limit = 5000, rendered = 0;

  function row(i) {
    var p = points[i], info = p.node.info;
    var d = el("details", (isError(info) ? "err" : "") + (p.kids.length ? "" : " leaf"));
    if (timing.last_started_us !== null && p.start === timing.last_started_us) d.classList.add("last");
    d.dataset.i = i;
    var s = el("summary"), lbl = el("span", "lbl");
    lbl.style.paddingLeft = (8 + p.depth * 16) + "px";
    lbl.appendChild(el("span", "tog"));
    lbl.appendChild(el("span", "name", info.name));
    var svc = info.service + (info.project ? " (" + info.project + ")" : "") + " \u00B7 " + info.host;
    lbl.appendChild(el("span", "svc", svc));
    lbl.title = info.name + " \u2014 " + svc;
    s.appendChild(lbl);
    s.appendChild(el("span", "dur", fmt(p.dur)));
    var bar = el("span", "bar"), fill = el("span");
    var left = total > 0 ? Math.min(100, Math.max(0, p.start * 100 / total)) : 0;
    var width = total > 0 ? Math.max(0, p.dur * 100 / total) : 100;
    fill.style.left = left + "%";
    fill.style.width = Math.min(width, 100 - left) + "%";
    bar.appendChild(fill);
    s.appendChild(bar);
    d.appendChild(s);
    d.addEventListener("toggle", function () { if (d.open) fill_children(d, i); });
    rendered++;
    return d;
  }

  // Children are created on first open; in filter mode only the matching branches.
  function fill_children(d, i) {
    if (d.dataset.filled) return;
    d.dataset.filled = "1";
    var box = el("div", "kids");
    points[i].kids.forEach(function (k) {
      if (shown && !shown[k]) return;
      if (rendered >= limit && shown) return;
      var c = row(k);
      box.appendChild(c);
      if (shown) c.open = true;
    });
    d.appendChild(box);
  }

  function draw() {
    tree.textContent = "";
    rendered = 0;
    var frag = document.createDocumentFragment();
    roots.forEach(function (i) {
      if (shown && !shown[i]) return;
      var d = row(i);
      frag.appendChild(d);
      if (shown || roots.length === 1) d.open = true;
    });
    tree.appendChild(frag);
    if (shown && rendered >= limit) tree.appendChild(el("div", "more", "Showing the first " + limit + " matches; refine the filter."));
  }

  function show(i) {
    var p = points[i], info = p.node.info;
    if (selected) selected.classList.remove("sel");
    selected = tree.querySelector('details[data-i="' + i + '"]');
    if (selected) selected.classList.add("sel");
    details.textContent = "";
    details.appendChild(el("h2", null, info.name));
    var table = el("table");
    var add = function (k, v) {
      var tr = el("tr");
      tr.appendChild(el("td", null, k));
      tr.appendChild(el("td", null, v === null || v === undefined ? "" : String(v)));
      table.appendChild(tr);
    };
    add("trace_id", p.node.trace_id);
    add("parent_id", p.node.parent_id);
    add("duration", fmt(p.dur));
    add("starts at", "+" + fmt(p.start));
    var raw = [];
    Object.keys(info).forEach(function (k) {
      if (k.indexOf("meta.raw_payload.") === 0) raw.push(k); else add(k, info[k]);
    });
    raw.forEach(function (k) {
      var ev = info[k];
      if (k.slice(-4) === "stop" && isError(info) && ev && ev.info && ev.info.message !== undefined) {
        add("message", typeof ev.info.message === "string" ? ev.info.message : JSON.stringify(ev.info.message));
      }
    });
    details.appendChild(table);
    raw.forEach(function (k) {
      details.appendChild(el("h3", null, k.substring(17)));
      details.appendChild(el("pre", null, JSON.stringify(info[k], null, 2)));
    });
  }

  tree.addEventListener("click", function (ev) {
    var s = ev.target.closest("summary");
    if (!s) return;
    // The arrow (and the keyboard) toggles; a click elsewhere on the row selects it.
    if (ev.detail !== 0 && !ev.target.classList.contains("tog")) ev.preventDefault();
    show(Number(s.parentNode.dataset.i));
  });

  var timer = 0;
  document.getElementById("filter").addEventListener("input", function (ev) {
    clearTimeout(timer);
    var q = ev.target.value.trim().toLowerCase();
    timer = setTimeout(function () {
      if (!q) { shown = null; draw(); return; }
      shown = new Uint8Array(points.length);
      for (var i = points.length - 1; i >= 0; --i) {
        var info = points[i].node.info;
        if (!shown[i]) {
          var text = [info.name, info.project, info.service, info.host].join("\n").toLowerCase();
          if (text.indexOf(q) >= 0) shown[i] = 1;
        }
        if (shown[i] && points[i].parent >= 0) shown[points[i].parent] = 1;
      }
      draw();
    }, 150);
  });

  document.getElementById("expand").addEventListener("click", function () {
    var queue = Array.prototype.slice.call(tree.querySelectorAll("details"));
    while (queue.length) {
      var d = queue.pop();
      if (d.classList.contains("leaf")) continue;
      d.open = true;
      fill_children(d, Number(d.dataset.i));
      var kids = d.querySelector(".kids");
      if (kids) for (var c = kids.firstChild; c; c = c.nextSibling) if (!c.open) queue.push(c);
    }
  });
  document.getElementById("collapse").addEventListener("click", function () {
    tree.querySelectorAll("details[open]").forEach(function (d) { d.open = false; });
  });

  draw();
})();
</script>
</body>
</html>
)html";

void append_html_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
}

// Writes JSON into a <script type="application/json"> element: '<', '>' and '&' can only occur
// inside JSON strings, where \u003c etc. mean the same, and then nothing can close the element
// or open a comment. U+2028/U+2029 never appear raw (the writers escape non-ASCII or keep it
// inside strings, where JSON.parse accepts it).
void append_script_json(std::string& out, std::string_view id, std::string_view json) {
  out += "<script type=\"application/json\" id=\"";
  out += id;
  out += "\">";
  for (char c : json) {
    switch (c) {
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      default: out += c;
    }
  }
  out += "</script>\n";
}

}  // namespace

std::string render_html(const report& r) {
  const std::string report_json = render_json(r, 0);
  const std::int64_t origin = report_impl::origin_of(r);

  std::string timing;
  timing.reserve(64 + r.event_count * 16);
  timing += "{\"base_id\":";
  report_impl::append_py_string(timing, r.base_id);
  timing += ",\"total_us\":";
  timing += std::to_string(r.started_us && r.finished_us ? *r.finished_us - *r.started_us : 0);
  timing += ",\"last_started_us\":";
  timing += r.last_trace_started_us ? std::to_string(*r.last_trace_started_us - origin) : std::string("null");
  timing += ",\"points\":[";
  bool first = true;
  report_impl::for_each_preorder(r.children, [&](const report_node& n, std::size_t, bool) {
    if (!first) timing += ',';
    first = false;
    const std::int64_t s = report_impl::effective_started(n);
    timing += '[';
    timing += std::to_string(s - origin);
    timing += ',';
    timing += std::to_string(report_impl::effective_finished(n) - s);
    timing += ']';
  });
  timing += "]}";

  std::string problems = "[";
  for (std::size_t i = 0; i < r.problems.size(); ++i) {
    if (i > 0) problems += ',';
    report_impl::append_py_string(problems, r.problems[i]);
  }
  problems += ']';

  std::string out;
  out.reserve(page_head.size() + page_style.size() + page_script.size() + report_json.size() + timing.size() +
              problems.size() + 512);
  out += page_head;
  out += "osprof trace ";
  append_html_escaped(out, r.base_id);
  out += page_style;
  append_script_json(out, "osprof-report", report_json);
  append_script_json(out, "osprof-timing", timing);
  append_script_json(out, "osprof-problems", problems);
  out += page_script;
  return out;
}

}  // namespace v1
}  // namespace osprof
