#!/usr/bin/env python3
"""plots/browsercheck REPORT_DIR [--screenshot FILE] [--width PX]

Opens REPORT_DIR/report.html in headless Chromium (Debian's `chromium`) and checks
what a reader would see: every image loads (naturalWidth > 0) and is shown at least
200 px wide, every relative link (the charts' SVGs and PNGs) resolves to a file the
browser can read, every #anchor exists, and the page is not wider than a laptop's
window (PX, default 1366: no horizontal scrolling; wide tables scroll inside their box).
--screenshot writes a PNG of the page as rendered at that width.

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
    var pre = document.createElement('pre');
    pre.id = 'sbcheck';
    pre.textContent = JSON.stringify({images: n, links: nl, problems: probs, done: true});
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
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def main(argv):
    ap = argparse.ArgumentParser(prog="plots/browsercheck", description=__doc__.split("\n\n")[1])
    ap.add_argument("dir", metavar="REPORT_DIR")
    ap.add_argument("--screenshot", metavar="FILE")
    ap.add_argument("--width", type=int, default=1366)

    def err(msg):
        print(f"{PROG}: {msg} (usage: plots/browsercheck REPORT_DIR [--screenshot FILE] [--width PX])",
              file=sys.stderr)
        sys.exit(2)
    ap.error = err
    a = ap.parse_args(argv)
    page = os.path.join(a.dir, "report.html")
    if not os.path.isfile(page):
        err(f"{page}: no such file")
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
        print(f"{PROG}: {res['images']} images, {res['links']} links, {len(res['problems'])} problem(s)"
              + (f"; screenshot {a.screenshot}" if a.screenshot else ""))
        return 1 if res["problems"] else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
