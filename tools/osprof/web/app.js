// The trace list of `osprof serve`: reads /api/traces page by page (never the whole list) and
// keeps what is shown in the URL (?search=...&error=true&cursor=...), so that a view can be
// shared and reloaded. All trace text is inserted with textContent.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var LIMIT = 50;
  var FIELDS = ["service", "project", "host", "name", "since", "until"];

  // The search box: "key:value" words filter by a field, any other word is the start of a
  // trace id.
  function apiParams(search, errors, cursor) {
    var p = new URLSearchParams();
    p.set("limit", String(LIMIT));
    search.split(/\s+/).filter(Boolean).forEach(function (word) {
      var colon = word.indexOf(":");
      var key = colon > 0 ? word.slice(0, colon).toLowerCase() : "";
      if (FIELDS.indexOf(key) >= 0) p.set(key, word.slice(colon + 1));
      else p.set("q", word.toLowerCase());
    });
    if (errors) p.set("error", "true");
    if (cursor) p.set("cursor", cursor);
    return p;
  }

  function state() {
    var u = new URLSearchParams(location.search);
    return { search: u.get("search") || "", errors: u.get("error") === "true", cursor: u.get("cursor") || "" };
  }

  function pageUrl(s) {
    var u = new URLSearchParams();
    if (s.search) u.set("search", s.search);
    if (s.errors) u.set("error", "true");
    if (s.cursor) u.set("cursor", s.cursor);
    var q = u.toString();
    return "/" + (q ? "?" + q : "");
  }

  function fmtMs(ms) {
    var a = Math.abs(ms);
    return (a < 1 ? ms.toFixed(3) : a < 10 ? ms.toFixed(2) : a < 100 ? ms.toFixed(1) : ms.toFixed(0)) + " ms";
  }

  function cell(tr, cls, text) {
    var td = document.createElement("td");
    td.className = cls;
    if (text !== undefined) td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function showMessage(text, isError) {
    var m = $("message");
    m.hidden = !text;
    m.textContent = text || "";
    m.className = "message" + (isError ? " error" : "");
  }

  var loading = 0;
  function load() {
    var s = state();
    $("q").value = s.search;
    $("errors").checked = s.errors;
    var stack = (history.state && history.state.stack) || [];
    var ticket = ++loading;
    document.body.setAttribute("aria-busy", "true");
    fetch("/api/traces?" + apiParams(s.search, s.errors, s.cursor).toString(), { headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; });
      })
      // The header's backend name, which can wrap onto more lines, comes first: rows shown
      // before it would move down under the pointer.
      .then(function (res) { return health.then(function () { return res; }); })
      .then(function (res) {
        if (ticket !== loading) return;
        document.body.removeAttribute("aria-busy");
        if (!res.ok) {
          showMessage((res.body && res.body.error) || ("HTTP " + res.status), true);
          render({ traces: [], next_cursor: null }, s, stack);
          return;
        }
        showMessage("");
        render(res.body, s, stack);
      })
      .catch(function (e) {
        if (ticket !== loading) return;
        document.body.removeAttribute("aria-busy");
        showMessage("The server did not answer: " + e.message, true);
      });
  }

  function render(page, s, stack) {
    var body = $("traces").tBodies[0];
    var rows = document.createDocumentFragment();
    page.traces.forEach(function (t) {
      var tr = document.createElement("tr");
      tr.dataset.id = t.base_id;
      if (t.error) tr.className = "err";
      cell(tr, "c-time mono", t.timestamp.replace("T", " "));
      var a = document.createElement("a");
      a.href = "/traces/" + encodeURIComponent(t.base_id);
      a.textContent = t.base_id;
      cell(tr, "c-id").appendChild(a);
      cell(tr, "c-name", t.name || "");
      cell(tr, "c-svc", t.service || "");
      cell(tr, "c-dur", t.duration_ms !== undefined ? fmtMs(t.duration_ms) : "");
      cell(tr, "c-ev", t.events !== undefined ? String(t.events) : "");
      cell(tr, "c-st", t.error === true ? "error" : t.error === false ? "ok" : "");
      rows.appendChild(tr);
    });
    body.replaceChildren(rows);
    $("empty").hidden = page.traces.length !== 0;
    $("older").disabled = !page.next_cursor;
    $("older").dataset.cursor = page.next_cursor || "";
    $("newer").disabled = !s.cursor;
    $("newest").disabled = !s.cursor;
    var n = stack.length;
    $("position").textContent = page.traces.length ? "page " + (s.cursor ? (n ? n + 1 : "?") : 1) + ", " +
        page.traces.length + " trace" + (page.traces.length === 1 ? "" : "s") : "";
  }

  function go(s, stack, replace) {
    var url = pageUrl(s);
    if (replace) history.replaceState({ stack: stack }, "", url);
    else history.pushState({ stack: stack }, "", url);
    load();
  }

  $("search").addEventListener("submit", function (e) {
    e.preventDefault();
    go({ search: $("q").value.trim(), errors: $("errors").checked, cursor: "" }, [], false);
  });
  $("errors").addEventListener("change", function () {
    go({ search: $("q").value.trim(), errors: $("errors").checked, cursor: "" }, [], false);
  });
  $("refresh").addEventListener("click", load);
  $("older").addEventListener("click", function () {
    var s = state(), stack = ((history.state && history.state.stack) || []).slice();
    stack.push(s.cursor);
    s.cursor = $("older").dataset.cursor;
    go(s, stack, false);
  });
  $("newer").addEventListener("click", function () {
    var s = state(), stack = ((history.state && history.state.stack) || []).slice();
    s.cursor = stack.length ? stack.pop() : "";
    go(s, stack, false);
  });
  $("newest").addEventListener("click", function () {
    var s = state();
    s.cursor = "";
    go(s, [], false);
  });
  window.addEventListener("popstate", load);

  var health = fetch("/api/health").then(function (r) { return r.json(); }).then(function (h) {
    $("backend").textContent = h.backend + (h.status === "ok" ? "" : " (unavailable)");
  }).catch(function () {});
  if (!history.state) history.replaceState({ stack: [] }, "", location.href);
  load();
})();
