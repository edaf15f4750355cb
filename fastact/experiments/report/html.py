"""`render(doc)`: the report as one self-contained HTML page.

Every figure is embedded as its SVG in a ``data:image/svg+xml;base64,...`` URI (vector, so it
stays sharp when zoomed or printed, and each image keeps its own element ids), the style sheet
is inline, and there is no script: the page opens offline, from any folder, mailed or copied
alone. `external_references` lists what a page would fetch (every ``src``/``href`` that is not a
``data:`` URI or an in-page ``#anchor``); the report's is empty, and its tests check that.
"""

from __future__ import annotations

import base64
import html
import re
from html.parser import HTMLParser
from pathlib import Path

from fastact.experiments.figures.style import DPI
from fastact.experiments.report.document import Bullets, Code, Document, Figure, Heading, Para, Table

CSS = """
body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 24px 32px 64px; color: #1f2328; line-height: 1.45; background: #ffffff; }
h1 { font-size: 1.7em; border-bottom: 1px solid #d0d7de; padding-bottom: .3em; }
h2 { font-size: 1.35em; border-bottom: 1px solid #d0d7de; padding-bottom: .25em; margin-top: 1.8em; }
h3 { font-size: 1.1em; margin-top: 1.4em; }
code, pre { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: .88em; background: #f6f8fa; }
code { padding: .1em .3em; border-radius: 4px; }
pre { padding: 12px; overflow-x: auto; border-radius: 6px; }
table { border-collapse: collapse; margin: 12px 0; font-size: .9em; }
th, td { border: 1px solid #d0d7de; padding: 4px 9px; }
th { background: #f6f8fa; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; }
td.l, th.l { text-align: left; }
figure { margin: 18px 0 28px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { color: #57606a; font-size: .9em; margin-top: 6px; }
.verdict-supported { color: #1a7f37; font-weight: bold; }
.verdict-not-supported { color: #cf222e; font-weight: bold; }
.verdict-within-noise { color: #9a6700; font-weight: bold; }
"""

_INLINE = re.compile(r"\*\*(.+?)\*\*|`(.+?)`")
_VERDICTS = ("not supported", "supported", "within noise")


def inline(text: str) -> str:
    """Escaped ``text`` with ``**bold**`` and ```code``` turned into tags; a verdict word is coloured."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(html.escape(text[pos:m.start()]))
        if m.group(1) is not None:
            inner = m.group(1)
            cls = f' class="verdict-{inner.replace(" ", "-")}"' if inner in _VERDICTS else ""
            out.append(f"<strong{cls}>{html.escape(inner)}</strong>")
        else:
            out.append(f"<code>{html.escape(m.group(2))}</code>")
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def data_uri(path, mime: str = "image/svg+xml") -> str:
    return f"data:{mime};base64,{base64.b64encode(Path(path).read_bytes()).decode('ascii')}"


def _table(t: Table) -> str:
    al = t.alignment()
    head = "".join(f'<th class="{a}">{inline(h)}</th>' for h, a in zip(t.header, al))
    body = "".join("<tr>" + "".join(f'<td class="{a}">{inline(str(c))}</td>' for c, a in zip(row, al)) + "</tr>"
                   for row in t.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(f: Figure) -> str:
    w = f.written
    # Shown at the figure's own size (inches at 96 CSS px), narrower if the column is.
    width, height = (round(v * 96 / DPI) for v in w.size_px)
    alt = html.escape(w.title or w.name, quote=True)
    return (f'<figure id="fig-{html.escape(w.name, quote=True)}">'
            f'<img src="{data_uri(w.svg)}" alt="{alt}" width="{width}" height="{height}">'
            f"<figcaption>{inline(f.caption or w.caption)}</figcaption></figure>")


def render(doc: Document) -> str:
    parts = []
    for b in doc.blocks:
        if isinstance(b, Heading):
            parts.append(f"<h{b.level}>{inline(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            parts.append(f"<p>{inline(b.text)}</p>")
        elif isinstance(b, Bullets):
            parts.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            parts.append(_table(b))
        elif isinstance(b, Code):
            parts.append(f"<pre><code>{html.escape(b.text)}</code></pre>")
        elif isinstance(b, Figure):
            parts.append(_figure(b))
        else:
            raise TypeError(f"not a report block: {type(b).__name__}")
    title = html.escape(doc.title)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{title}</title><style>{CSS}</style></head>\n<body>\n<h1>{title}</h1>\n"
            + "\n".join(parts) + "\n</body></html>\n")


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "srcset", "poster", "data", "action") and value is not None:
                self.refs.append((tag, name, value))


def external_references(page: str) -> list[tuple[str, str, str]]:
    """``(tag, attribute, value)`` of every reference ``page`` would load or link outside itself:
    anything but ``data:`` URIs and ``#anchors`` (CSS ``url(...)`` and ``@import`` included)."""
    p = _Refs()
    p.feed(page)
    out = [(t, a, v) for t, a, v in p.refs if not v.startswith(("data:", "#"))]
    for m in re.finditer(r"url\(\s*['\"]?([^'\")]+)|@import\s+['\"]?([^'\";\s]+)", page):
        v = m.group(1) or m.group(2)
        if not v.startswith(("data:", "#")):
            out.append(("style", "url", v))
    return out
