"""python3 -m splicebench COMMAND [ARGS...]: one entry point for the Python side.

Each command is a module's main(argv); `python3 -m splicebench --help` lists them.
"""
import importlib
import signal
import sys

# command -> (module, function, what it does); the function takes argv and returns
# an exit status (or None for 0).
COMMANDS = {
    "run": ("splicebench.run.loop", "main", "run a matrix in rounds: the runner (bench/run)"),
    "plan": ("splicebench.plan", "main", "matrix expansion, schedule, a repeat's figures, meta.json (bench/run)"),
    "stats": ("splicebench.stats", "main", "csv | compare | summary | cost-join of result sets"),
    "compare": ("splicebench.stats", "compare_cli", "two result sets, or one by an axis (bench/compare)"),
    "rules": ("splicebench.verdict", "rules_main", "the verdict rules, generated from their parameters"),
    "plot": ("splicebench.report.main", "plot_cli", "every chart of a result set (plots/plot)"),
    "report": ("splicebench.report.main", "report_cli", "charts plus report.md and report.html (plots/report)"),
    "check": ("splicebench.report.checks", "check_main", "check a chart directory: every point inside its axes"),
    "browsercheck": ("splicebench.report.browsercheck", "main", "report.html in headless Chromium; its tables against the set and the judge"),
    "why": ("splicebench.why.sections", "main", "the report's why-sections of a result set, as text"),
    "profile": ("splicebench.why.profile", "main", "fold | flame | overhead: native profiles"),
    "project": ("splicebench.why.project", "main", "fit: native CPU s/GB against counted costs"),
    "syms": ("splicebench.why.syms", "main", "table | diff: cost by kernel symbol"),
    "costjoin": ("splicebench.costjoin", "main", "the sbcost windows joined to a set's points"),
    "noise": ("splicebench.noise", "main", "where the per-round spread comes from: A/A pairs per cause"),
}


def usage(out):
    out.write("usage: python3 -m splicebench COMMAND [ARGS...]\n\ncommands:\n")
    for name, (_, _, what) in COMMANDS.items():
        out.write("  %-9s %s\n" % (name, what))


def main(argv=None):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends quietly
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        usage(sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        print("splicebench: unknown command '%s'; python3 -m splicebench --help lists them" % argv[0], file=sys.stderr)
        return 2
    mod, fn, _ = COMMANDS[argv[0]]
    return getattr(importlib.import_module(mod), fn)(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
