// Drives the page render_html() writes in a DOM (jsdom, Debian's node-jsdom): the tree is
// built from the embedded report, opening a point creates its children, a click shows the
// details panel with the stored events, the filter keeps matching branches, and trace text
// never turns into markup or script. Usage: node html_check.js PAGE.html EXPECTATIONS.json
"use strict";
const fs = require("fs");
const { JSDOM, VirtualConsole } = require("jsdom");

const html = fs.readFileSync(process.argv[2], "utf8");
const want = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

const consoleErrors = [];
const virtualConsole = new VirtualConsole();
virtualConsole.on("jsdomError", (e) => consoleErrors.push(String(e && e.message || e)));
virtualConsole.on("error", (e) => consoleErrors.push(String(e)));
const fetched = [];
const dom = new JSDOM(html, {
  runScripts: "dangerously",
  virtualConsole,
  beforeParse(window) {
    window.alert = (m) => failures.push("alert() ran: " + m);
    window.fetch = (u) => { fetched.push(String(u)); return Promise.reject(new Error("no network")); };
  },
});
const { window } = dom;
const doc = window.document;
const click = (el, detail = 1) => el.dispatchEvent(new window.MouseEvent("click", { bubbles: true, cancelable: true, detail }));

setTimeout(() => {
  check(consoleErrors.length === 0, "script errors: " + consoleErrors.join("; "));
  check(doc.querySelectorAll("script").length === 4, "script elements: " + doc.querySelectorAll("script").length);
  check(doc.getElementById("trace-id").textContent === want.base_id, "trace id shown");
  check(doc.getElementById("summary").textContent.includes(want.points + " point"), "summary: " + doc.getElementById("summary").textContent);

  const roots = doc.querySelectorAll("#tree > details");
  check(roots.length === want.roots.length, "roots: " + roots.length);
  roots.forEach((d, i) => check(d.querySelector(".name").textContent === want.roots[i], "root name " + i));

  // Open the first root (a single root is open from the start): its children appear.
  const first = roots[0];
  first.open = true;
  setTimeout(() => {
    const kids = first.querySelectorAll(":scope > .kids > details");
    check(kids.length === want.first_root_children.length, "children of the first root: " + kids.length);
    kids.forEach((d, i) => check(d.querySelector(".name").textContent === want.first_root_children[i], "child name " + i));

    // A bar is placed by start and duration.
    const bar = first.querySelector("summary .bar > span");
    check(bar && bar.style.left === "0%", "first bar left: " + (bar && bar.style.left));

    // Clicking a row (not its arrow) selects it and shows its info and raw events, and does
    // not toggle it.
    const target = kids[want.error_child_index];
    const wasOpen = target.open;
    click(target.querySelector("summary .name"));
    const panel = doc.getElementById("details");
    check(target.open === wasOpen, "a click on the name toggled the row");
    check(target.classList.contains("sel"), "row selected");
    check(target.classList.contains("err"), "failed point marked");
    check(panel.querySelector("h2").textContent === want.error_child_name, "details title");
    const text = panel.textContent;
    for (const s of want.details_contains) check(text.includes(s), "details contain " + s);
    check(panel.querySelectorAll("pre").length === want.error_child_payloads, "raw payload blocks: " + panel.querySelectorAll("pre").length);

    // Trace text stays text.
    check(doc.querySelectorAll("#tree script, #details script").length === 0, "script element injected");

    // The filter keeps matching points and their ancestors.
    const filter = doc.getElementById("filter");
    filter.value = want.filter;
    filter.dispatchEvent(new window.Event("input", { bubbles: true }));
    setTimeout(() => {
      const shown = Array.from(doc.querySelectorAll("#tree details .name")).map((n) => n.textContent);
      check(JSON.stringify(shown) === JSON.stringify(want.filtered), "filtered: " + JSON.stringify(shown));
      filter.value = "";
      filter.dispatchEvent(new window.Event("input", { bubbles: true }));
      setTimeout(() => {
        check(doc.querySelectorAll("#tree > details").length === want.roots.length, "filter cleared");
        // Expand all creates every point.
        click(doc.getElementById("expand"));
        setTimeout(() => {
          const all = doc.querySelectorAll("#tree details").length;
          check(all === want.points, "expand all: " + all);
          check(fetched.length === 0, "fetched: " + fetched.join(", "));
          if (failures.length) {
            console.error(failures.join("\n"));
            process.exit(1);
          }
          console.log("html ok");
          process.exit(0);
        }, 50);
      }, 300);
    }, 300);
  }, 50);
}, 50);
