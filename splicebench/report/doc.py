"""The report's document: blocks (headings, paragraphs, warnings, lists, tables, notes,
charts) written out as Markdown (report.md: pastes into a mailing-list post as it is,
charts linked) and as HTML (report.html: charts shown, a verdict's reason on hover)."""

import html


class Doc:
    """Blocks rendered to both Markdown and HTML."""

    def __init__(self):
        self.blocks = []

    def h(self, level, text):
        self.blocks.append(("h", level, text))

    def p(self, text):
        self.blocks.append(("p", text))

    def warn(self, text):
        self.blocks.append(("warn", text))

    def ul(self, items):
        if items:
            self.blocks.append(("ul", items))

    def links(self, lead, items):
        self.blocks.append(("links", lead, items))

    def table(self, head, rows):
        self.blocks.append(("table", head, rows))

    def img(self, name, caption):
        self.blocks.append(("img", name, caption))

    def small(self, lines):
        """Notes under a table, one a line."""
        if lines:
            self.blocks.append(("small", lines))

    def md(self):
        out = []
        for b in self.blocks:
            if b[0] == "h":
                out.append("#" * b[1] + " " + b[2])
            elif b[0] == "p":
                out.append(b[1])
            elif b[0] == "warn":
                out.append(f"> **WARNING: {b[1]}**")
            elif b[0] == "links":
                out.append(b[1] + ", ".join(f"[{t}]({h})" for t, h in b[2]) + ".")
            elif b[0] == "ul":
                out.append("\n".join(f"- {i}" for i in b[1]))
            elif b[0] == "table":
                out.append("| " + " | ".join(md_cell(c) for c in b[1]) + " |\n|" + "|".join("---" for _ in b[1]) + "|\n" +
                           "\n".join("| " + " | ".join(md_cell(c) for c in r) + " |" for r in b[2]))
            elif b[0] == "small":
                out.append("\n".join(b[1]))
            elif b[0] == "img":
                # linked, not embedded: report.md pastes into a mailing-list post or a PR as it is
                out.append(f"Chart: [{b[2]}]({b[1]}.png) ([SVG]({b[1]}.svg))")
        return "\n\n".join(out) + "\n"

    def html(self, title):
        e = html.escape
        out = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{e(title)}</title>",
               "<style>body{font-family:sans-serif;max-width:1250px;margin:1em auto;padding:0 1em;line-height:1.4}"
               "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}"
               "th{background:#eee}td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}img{max-width:100%;border:1px solid #ddd}"
               ".warn{background:#fdd;border:3px solid #c00;padding:.6em;font-weight:bold;font-size:120%}"
               "figure{margin:1em 0}.tw{overflow-x:auto}.notes{font-size:85%;color:#333}"
               "td[title]{cursor:help}</style></head><body>"]
        for b in self.blocks:
            if b[0] == "h":
                out.append(f"<h{b[1]}>{e(b[2])}</h{b[1]}>")
            elif b[0] == "p":
                out.append(f"<p>{e(b[1])}</p>")
            elif b[0] == "warn":
                out.append(f"<p class=\"warn\">WARNING: {e(b[1])}</p>")
            elif b[0] == "links":
                out.append(f"<p>{e(b[1])}" + ", ".join(f"<a href=\"{e(h)}\">{e(t)}</a>" for t, h in b[2]) + ".</p>")
            elif b[0] == "ul":
                out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in b[1]) + "</ul>")
            elif b[0] == "table":
                out.append("<div class=\"tw\"><table><tr>" + "".join(f"<th>{e(cell_text(h))}</th>" for h in b[1]) + "</tr>" +
                           "".join("<tr>" + "".join(html_cell(c) for c in r) + "</tr>" for r in b[2]) +
                           "</table></div>")
            elif b[0] == "small":
                out.append("<p class=\"notes\">" + "<br>".join(e(x) for x in b[1]) + "</p>")
            elif b[0] == "img":
                out.append(f"<figure><a href=\"{e(b[1])}.svg\"><img src=\"{e(b[1])}.png\" alt=\"{e(b[2])}\"></a>"
                           f"<figcaption>{e(b[2])}</figcaption></figure>")
        out.append("</body></html>")
        return "\n".join(out) + "\n"


def cell_text(c):
    """A table cell is a string, (text, hover text) or (text, hover text, attributes): the
    attributes ({"point": name, ...}) say in report.html what the cell shows, as data-NAME
    (plots/browsercheck reads them back); report.md shows the text alone."""
    return str(c[0] if isinstance(c, tuple) else c)


def md_cell(c):
    return cell_text(c).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " / ")


def html_cell(c):
    e = html.escape
    at = "".join(f" data-{k}=\"{e(str(v))}\"" for k, v in (c[2] if isinstance(c, tuple) and len(c) > 2 else {}).items()
                 if v is not None)
    if isinstance(c, tuple) and len(c) > 1 and c[1]:
        return f"<td title=\"{e(str(c[1]))}\"{at}>{e(str(c[0]))}</td>"
    return f"<td{at}>{e(cell_text(c))}</td>"


def with_attrs(c, **attrs):
    """Cell c (a string or (text, hover)) carrying attributes (data-NAME in report.html)."""
    t = c if isinstance(c, tuple) else (c, "")
    return (t[0], t[1] if len(t) > 1 else "", dict(t[2] if len(t) > 2 else {}, **attrs))
