"""plots/browsercheck REPORT_DIR [--set DIR] [--screenshot FILE] [--width PX]

Opens REPORT_DIR/report.html in headless Chromium (Debian's `chromium`) and checks
what a reader would see: every image loads (naturalWidth > 0) and is shown at least
200 px wide, every relative link (the charts' SVGs and PNGs) resolves to a file the
browser can read, every #anchor exists, and the page is not wider than a laptop's
window (PX, default 1366: no horizontal scrolling; wide tables scroll inside their box).
Then the tables' figures as rendered, against the result set (DIR, default REPORT_DIR/..)
and the judge: every cell that names its point (data-point; the headline, reference and
CPU tables) shows the point's figure as the report writes it (GB/s median, CPU s/GB,
cost per byte; 'n=N' below 3 repeats), and every ratio cell the judge's estimate, mark
and interval for that point against its base (data-base), with a note where the outcome
is neither better, worse nor equivalent.  --screenshot writes a PNG of the page as
rendered at that width.

The report is not touched: it is copied into a temporary directory and the copy gets a
small script that writes its findings into the page, read back with --dump-dom.
Prints one line per problem and a closing line; exit 0 when none, 1 when any, 2 on
bad usage, 3 when no Chromium is installed (scripts/deps test installs it)."""
import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from .. import results as R
from . import judge
from .. import verdict as V
from .fmt import fig

PROG = "browsercheck"

SCRIPT = r"""<script>
(function () {
  function xhr(h) {
    return new Promise(function (ok) {
      var r = new XMLHttpRequest();
      r.open('GET', h, true);
      r.responseType = 'arraybuffer';
      r.onload = function () { ok(r.response && r.response.byteLength > 0); };
      r.onerror = function () { ok(false); };
      try { r.send(); } catch (e) { ok(false); }
    });
  }
  window.addEventListener('load', async function () {
    var probs = [], n = 0, nl = 0, MINW = 200;
    for (var i = 0; i < document.images.length; i++) {
      var im = document.images[i], src = im.getAttribute('src');
      n++;
      if (!im.complete || im.naturalWidth === 0) probs.push('image does not load: ' + src);
      else if (im.getBoundingClientRect().width < MINW)
        probs.push('image shown only ' + Math.round(im.getBoundingClientRect().width) + ' px wide: ' + src);
    }
    var as = document.querySelectorAll('a[href]');
    for (var j = 0; j < as.length; j++) {
      var h = as[j].getAttribute('href');
      if (/^[a-z]+:/i.test(h)) continue;  /* absolute URLs (http:, mailto:) are not followed */
      nl++;
      if (h.charAt(0) === '#') {
        if (!document.getElementById(h.slice(1))) probs.push('broken anchor: ' + h);
        continue;
      }
      if (!(await xhr(h))) probs.push('broken link: ' + h);
    }
    var sw = document.documentElement.scrollWidth;
    if (sw > window.innerWidth + 1)
      probs.push('page is ' + sw + ' px wide, wider than the ' + window.innerWidth + ' px window');
    /* every table cell that names what it shows (data-kind): its text as rendered, its
       attributes, and where it stands (section, table, row label, column) */
    var cells = [], h2 = '', h3 = '', els = document.querySelectorAll('h2, h3, table');
    for (var k = 0; k < els.length; k++) {
      var el = els[k], tag = el.tagName.toLowerCase();
      if (tag === 'h2') { h2 = el.textContent; h3 = ''; continue; }
      if (tag === 'h3') { h3 = el.textContent; continue; }
      var trs = el.rows, ths = trs.length ? trs[0].cells : [], carry = [];
      for (var ri = 1; ri < trs.length; ri++) {
        var tds = trs[ri].cells, lab = [];
        for (var ci = 0; ci < tds.length && !tds[ci].hasAttribute('data-kind') && ci < 3; ci++) {
          var t = tds[ci].innerText.trim();
          if (t === '' && carry[ci]) t = carry[ci];
          carry[ci] = t;
          if (t) lab.push(t);
        }
        for (var cj = 0; cj < tds.length; cj++) {
          var td = tds[cj];
          if (!td.hasAttribute('data-kind')) continue;
          cells.push({section: h2, table: h3, row: lab.join(' '),
                      column: cj < ths.length ? ths[cj].innerText.trim() : '',
                      text: td.innerText.trim(), point: td.dataset.point || '', base: td.dataset.base || '',
                      metric: td.dataset.metric || '', kind: td.dataset.kind || ''});
        }
      }
    }
    var pre = document.createElement('pre');
    pre.id = 'sbcheck';
    pre.textContent = JSON.stringify({images: n, links: nl, problems: probs, cells: cells, done: true});
    document.body.appendChild(pre);
  });
})();
</script>
"""


def chromium():
    for c in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(c)
        if p:
            return p
    return None


def run(exe, url, prof, extra, timeout=120):
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           "--hide-scrollbars", "--allow-file-access-from-files", f"--user-data-dir={prof}",
           "--virtual-time-budget=5000"] + extra + [url]
    return subprocess.run(cmd, capture_output=True, encoding="utf-8", errors="replace", timeout=timeout)


# ------------------------------------------------------- the tables against the set

NOTE = re.compile(r"\[\d+\]")
COST = {"cost-moved": R.COST_METRICS[0], "cost-instr": R.COST_METRICS[1]}


def value(r, metric):
    """Point r's figure for a cell's data-metric, from the set (None where it has none)."""
    if metric == "gbps":
        return r.get("gbps_median")
    if metric == "cpu":
        return R.cpu_mode_cost(r)
    return COST[metric][1](r) if metric in COST else None


def expected(byname, c):
    """What cell c (as collected in the page) should show, from the set and the judge:
    (text without note references, whether a note reference belongs to it), or (None, why)."""
    r = byname.get(c["point"])
    if r is None:
        return None, f"point {c['point'] or '(unnamed)'} is not in the set"
    m = c["metric"]
    if m not in ("gbps", "cpu") and m not in COST:
        return None, f"unknown data-metric '{m}'"
    if c["kind"] == "figure":
        n = int(r.get("repeats") or 0)
        if m == "gbps" and n < 3:  # no absolute headline below 3 repeats, a note says why
            return f"n={n}", True
        v = value(r, m)
        return (fig(v) if v is not None else "-"), False
    if c["kind"] != "ratio":
        return None, f"unknown data-kind '{c['kind']}'"
    b = byname.get(c["base"])
    if b is None:
        return None, f"base point {c['base'] or '(unnamed)'} is not in the set"
    if m in COST:
        name, get = COST[m]
        d = judge.verdict(b, r, "cost", metric=name, get=get)
    else:
        d = judge.verdict(b, r, m)
    va, vb = value(b, m), value(r, m)
    est = d["estimate"] if d.get("estimate") is not None else (vb / va if va and vb is not None else None)
    if est is None:
        return None, f"the judge gives no estimate and the set no figures ({d['outcome']})"
    want = f"{est:.2f}x {judge.MARK.get(d['outcome'], '?')}"
    if d.get("lo") is not None:
        want += f" ({d['lo']:.2f}-{d['hi']:.2f})"
    return want, d["outcome"] not in (V.BETTER, V.WORSE, V.EQUIVALENT)


def check_cells(rs, cells):
    """One line per cell whose rendered text is not what the set and the judge say."""
    byname = {r["point"]: r for r in rs.rows if r.get("point")}
    out = []
    for c in cells:
        where = " / ".join(x for x in (c["section"], c["table"]) if x) or "a table"
        cell = f"{where}, row {c['row'] or '?'}, column {c['column'] or '?'}"
        shown = " ".join(NOTE.sub("", c["text"]).split())
        want, note = expected(byname, c)
        if want is None:
            out.append(f"{cell}: shows {shown}, but {note}")
        elif shown != want:
            out.append(f"{cell}: shows {shown}, the set and the judge say {want} ({c['point']})")
        elif note != bool(NOTE.search(c["text"])):
            out.append(f"{cell}: shows {c['text']} " + ("without the note its outcome needs" if note else
                                                       "with a note, the judge's outcome needs none")
                       + f" ({c['point']})")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="plots/browsercheck", description=__doc__.split("\n\n")[1])
    ap.add_argument("dir", metavar="REPORT_DIR")
    ap.add_argument("--set", metavar="DIR", help="the result set the report was made from (default REPORT_DIR/..)")
    ap.add_argument("--screenshot", metavar="FILE")
    ap.add_argument("--width", type=int, default=1366)

    def err(msg):
        print(f"{PROG}: {msg} (usage: plots/browsercheck REPORT_DIR [--set DIR] [--screenshot FILE] [--width PX])",
              file=sys.stderr)
        sys.exit(2)
    ap.error = err
    a = ap.parse_args(argv)
    page = os.path.join(a.dir, "report.html")
    if not os.path.isfile(page):
        err(f"{page}: no such file")
    sdir = a.set or os.path.normpath(os.path.join(a.dir, ".."))
    rs = None
    if a.set or os.path.isfile(os.path.join(sdir, "points.csv")):
        try:
            rs = R.load_set(sdir)
        except R.InputError as e:
            err(str(e))
    exe = chromium()
    if not exe:
        print(f"{PROG}: needs chromium (scripts/deps test installs it)", file=sys.stderr)
        return 3
    tmp = tempfile.mkdtemp(prefix="sb-browsercheck-")
    try:
        copy = os.path.join(tmp, "report")
        shutil.copytree(a.dir, copy, ignore=shutil.ignore_patterns("src"))
        with open(os.path.join(copy, "report.html"), encoding="utf-8") as f:
            text = f.read()
        if "</body>" not in text:
            print(f"{PROG}: {page}: no </body>: not a complete page")
            return 1
        with open(os.path.join(copy, "report.html"), "w", encoding="utf-8") as f:
            f.write(text.replace("</body>", SCRIPT + "</body>", 1))
        url = "file://" + os.path.join(copy, "report.html")
        prof = os.path.join(tmp, "profile")
        try:
            p = run(exe, url, prof, [f"--window-size={a.width},900", "--dump-dom"])
        except subprocess.TimeoutExpired:
            print(f"{PROG}: chromium did not finish within 120 s")
            return 1
        m = re.search(r'<pre id="sbcheck">(.*?)</pre>', p.stdout, re.S)
        if not m:
            print(f"{PROG}: chromium rendered no result (exit {p.returncode}): "
                  + " ".join(ln for ln in p.stderr.splitlines()[-2:]))
            return 1
        res = json.loads(html.unescape(m.group(1)))
        if rs is not None:
            res["problems"] += check_cells(rs, res["cells"])
            if rs.ok and not res["cells"]:
                res["problems"].append("no table cell names its point (data-point): the tables cannot be checked")
        for q in res["problems"]:
            print(f"{PROG}: {q}")
        if a.screenshot:
            shot = os.path.abspath(a.screenshot)
            os.makedirs(os.path.dirname(shot), exist_ok=True)
            # the original page, as a reader gets it (its first screens)
            run(exe, "file://" + os.path.abspath(page), prof,
                [f"--window-size={a.width},2400", f"--screenshot={shot}"])
            if not os.path.isfile(shot):
                print(f"{PROG}: no screenshot written to {shot}")
                res["problems"].append("no screenshot")
        tabs = (f"{len(res['cells'])} table cells against {sdir}" if rs is not None else
                f"tables not checked (no result set at {sdir}: --set DIR)")
        print(f"{PROG}: {res['images']} images, {res['links']} links, {tabs}, {len(res['problems'])} problem(s)"
              + (f"; screenshot {a.screenshot}" if a.screenshot else ""))
        return 1 if res["problems"] else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
