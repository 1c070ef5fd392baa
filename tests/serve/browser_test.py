"""The web UI of `osprof serve` in a real headless Chromium (Debian's `chromium`, driven over
its DevTools protocol): the list shows the stored traces, the search box filters them, a click
opens the right trace with the right number of points, the failed trace is marked, paging
works, a 20,000-event trace opens (its time is printed: the figure in BENCHMARKS.md comes from
a RelWithDebInfo build; this test also runs in unoptimised ones, so it does not judge speed), and
the pages fit 1280x800 and a narrow window. A screenshot of each page is kept in OUT_DIR.

usage: browser_test.py OSPROF OUT_DIR"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import store  # noqa: E402
from cdp import Browser, find_chromium  # noqa: E402
from serve_util import Server, check, finish  # noqa: E402

SKIP = 77  # CTest's SKIP_RETURN_CODE for this test


def rows(b):
    return b.eval("Array.from(document.querySelectorAll('#traces tbody tr')).map(function(r){"
                  "return [r.dataset.id, r.className, r.querySelector('.c-st').textContent]})")


def too_wide(b):
    """The elements that reach past the window's right edge, to say what to fix."""
    return b.eval("Array.from(document.querySelectorAll('body *')).filter(function(e){"
                  "return e.getBoundingClientRect().right > window.innerWidth + 1}).slice(0, 5).map(function(e){"
                  "return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' to ' + Math.round(e.getBoundingClientRect().right) + ' px'})"
                  ".join(', ') || 'nothing past the edge'")


def list_ready(b):
    # The header's backend name comes from a request of its own and can wrap onto more lines:
    # the page shows its rows after it (app.js), and a click waits until both are in.
    return b.wait_for("!document.body.hasAttribute('aria-busy') && document.querySelectorAll('#traces tbody tr').length > 0"
                      " && document.getElementById('backend').textContent !== ''")


def main():
    osprof, out = sys.argv[1], sys.argv[2]
    binary = find_chromium()
    if binary is None:
        print("SKIP: no chromium on PATH (tools/install-deps.sh --test installs Debian's chromium)")
        sys.exit(SKIP)
    # The header shows the connection string: a long path with no break in it (whatever the
    # build directory is) checks that it wraps instead of widening a narrow window.
    db_dir = os.path.join(out, "a_store_in_a_directory_whose_name_is_long_enough_to_overflow_a_narrow_window")
    os.makedirs(db_dir, exist_ok=True)
    db = os.path.join(db_dir, "browser.db")
    if os.path.exists(db):
        os.remove(db)
    traces = store.standard_set(count=60, every_error=7)
    big = store.make_trace(1000, 200 * 1_000_000, points=10_000, service="bulk")  # 20,000 events
    traces.append(big)
    store.write_sqlite(db, traces)
    expected = {s["base_id"]: s for s, _ in traces}
    newest = sorted(expected.values(), key=lambda s: (s["timestamp"], s["base_id"]), reverse=True)

    server = Server(osprof, "sqlite:///" + db)
    base = "http://127.0.0.1:%d" % server.port
    b = Browser(binary)
    try:
        # The list: the newest 50 stored traces, in order, the failed ones marked.
        b.navigate(base + "/")
        check(list_ready(b), "the list renders")
        shown = rows(b)
        check([r[0] for r in shown] == [s["base_id"] for s in newest[:50]], "the list shows the newest 50 stored traces in order")
        for rid, cls, status in shown:
            e = expected[rid]
            check(("err" in cls) == e["error"] and status == ("error" if e["error"] else "ok"),
                  "row %s marked %s: class %r, status %r" % (rid, e["error"], cls, status))
        b.screenshot(os.path.join(out, "list.png"))

        # Refresh: a trace stored meanwhile shows up on demand.
        fresh = store.make_trace(2000, 300 * 1_000_000, points=3)
        store.write_sqlite(db, [fresh])
        b.click("#refresh")
        check(b.wait_for("document.querySelector('#traces tbody tr').dataset.id === %r" % fresh[0]["base_id"]),
              "Refresh shows a trace stored after the page opened")
        expected[fresh[0]["base_id"]] = fresh[0]
        newest.insert(0, fresh[0])

        # Paging: the second page holds the rest, and the URL says where we are.
        b.click("#older")
        check(b.wait_for("location.search.indexOf('cursor=') >= 0"), "Older puts the cursor in the URL")
        check(b.wait_for("document.querySelectorAll('#traces tbody tr').length === %d && document.querySelector('#traces tbody tr').dataset.id === %r"
                         % (len(newest) - 50, newest[50]["base_id"])), "the second page shows the older traces")
        check(b.eval("document.getElementById('older').disabled"), "no page after the last")
        page2 = b.eval("location.href")
        b.click("#newer")
        check(b.wait_for("document.querySelector('#traces tbody tr') && document.querySelector('#traces tbody tr').dataset.id === %r"
                         % newest[0]["base_id"]), "Newer goes back to the first page")
        b.navigate(page2)  # a shared URL opens the same page
        check(b.wait_for("document.querySelector('#traces tbody tr') && document.querySelector('#traces tbody tr').dataset.id === %r"
                         % newest[50]["base_id"]), "a page's URL opens that page")

        # Search: typing a trace id's start and Enter keeps the traces it matches.
        target = next(s for s in newest[5:] if s["error"])
        prefix = target["base_id"][:10]
        b.navigate(base + "/")
        list_ready(b)
        b.click("#q")
        b.type_text(prefix)
        b.press_enter()
        check(b.wait_for("location.search.indexOf('search=') >= 0"), "the search is in the URL")
        want = [s["base_id"] for s in newest if s["base_id"].startswith(prefix)]
        check(b.wait_for("(function(){var r=document.querySelectorAll('#traces tbody tr');"
                         "return r.length === %d && r[0].dataset.id === %r})()" % (len(want), want[0])),
              "search filters the list to %d trace(s): %s" % (len(want), rows(b)))
        b.screenshot(os.path.join(out, "search.png"))
        # service: words filter by field; errors only.
        b.navigate(base + "/?search=service%3Ascheduler&error=true")
        list_ready(b)
        got = [r[0] for r in rows(b)]
        check(got == [s["base_id"] for s in newest if s["service"] == "scheduler" and s["error"]][:50],
              "service:scheduler with errors only: %s" % got)

        # A click opens the trace: the right id, the right number of points, the failure shown.
        b.navigate(base + "/?search=" + prefix)
        list_ready(b)
        b.click("#traces tbody tr[data-id='%s'] a" % target["base_id"])
        check(b.wait_for("location.pathname === '/traces/%s'" % target["base_id"]), "the click opens /traces/<id>")
        summary = b.wait_for("document.getElementById('summary') && document.getElementById('summary').textContent")
        check(b.eval("document.getElementById('trace-id').textContent") == target["base_id"], "the trace page shows its id")
        check(summary and ("%d points" % target["points"]) in summary and "1 failed" in summary,
              "the trace page counts %d points, 1 failed: %r" % (target["points"], summary))
        b.click("#tree > details > summary")
        check(b.wait_for("document.querySelectorAll('#tree details.err').length >= 1"), "the failed point is marked in the tree")
        b.screenshot(os.path.join(out, "trace.png"))
        b.click("#osprof-home")
        check(b.wait_for("location.pathname === '/'"), "the trace page links back to the list")

        # A 20,000-event trace opens (navigation to the drawn tree), timed for the record.
        times = []
        for _ in range(3):
            b.navigate("about:blank")
            started = time.monotonic()
            b.navigate(base + "/traces/" + big[0]["base_id"])
            ready = b.wait_for("document.querySelector('#tree > details') && /10000 points/.test(document.getElementById('summary').textContent)",
                               timeout=20, interval=0.01)
            times.append(time.monotonic() - started)
            check(ready, "the 20,000-event trace opens")
        print("20,000-event trace: opened in %s s" % ", ".join("%.2f" % t for t in times))
        b.screenshot(os.path.join(out, "big-trace.png"))

        # A narrow window: nothing wider than the window, the id links still there.
        b.resize(400, 800)
        b.navigate(base + "/")
        list_ready(b)
        check(b.eval("document.documentElement.scrollWidth <= window.innerWidth + 1"),
              "the list fits a 400 px window: %s px wide (%s)" % (b.eval("document.documentElement.scrollWidth"), too_wide(b)))
        check(b.eval("document.querySelector('#traces tbody tr .c-id a').getBoundingClientRect().width > 0"),
              "trace links visible on a narrow window")
        b.screenshot(os.path.join(out, "list-narrow.png"))
        b.navigate(base + "/traces/" + target["base_id"])
        check(b.wait_for("!!document.querySelector('#tree > details')"), "the trace page on a narrow window")
        b.click("#tree > details > summary")
        check(b.eval("document.documentElement.scrollWidth <= window.innerWidth + 1"),
              "the trace page fits a 400 px window: %s px wide (%s)" % (b.eval("document.documentElement.scrollWidth"), too_wide(b)))
        check(b.eval("document.getElementById('details').getBoundingClientRect().top >= "
                     "document.getElementById('tree-pane').getBoundingClientRect().bottom - 1"),
              "on a narrow window the details pane is under the tree")
        b.screenshot(os.path.join(out, "trace-narrow.png"))
        b.resize(1280, 800)

        # A missing trace, in the browser.
        b.navigate(base + "/traces/00000000-0000-4000-8000-000000000000")
        check(b.wait_for("document.getElementById('error') && /not found/.test(document.getElementById('error').textContent)"),
              "an unknown trace says so")
    finally:
        b.close()
        server.stop()
    print("screenshots in " + out)
    finish("serve browser test")


if __name__ == "__main__":
    main()
