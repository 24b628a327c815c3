"""HTML to PDF with WeasyPrint: the one place the app calls it (statements, plan agreements, appeal and
underpayment letters, the monthly KPI report, the payer scorecard).

WeasyPrint is the stack's PDF writer: print CSS from the same Django templates as the pages, no browser,
no network. A statement run makes thousands of PDFs in one worker process, so what a document costs is
kept to its own layout (docs/benchmarks.md, "Patient statements"):

- one ``FontConfiguration`` per process (per thread where a server runs threads): fontconfig and Pango
  are set up once, not for every document;
- a document's stylesheet (``css=``, a template) is parsed once, not once per document;
- the cyclic garbage collector is relaxed while a document is made: WeasyPrint creates hundreds of
  thousands of short-lived objects, and at Python's default threshold (a collection every 700) the
  collector went through the worker's whole heap many times per statement, a fifth of its time;
- ``lean=True`` documents (the statement) replace WeasyPrint's HTML user-agent stylesheet (several
  hundred rules matched against every element, most for elements a statement never has: forms,
  ``dir`` attributes, ruby) by ``LEAN_UA_CSS``, the defaults of the elements such documents use. It is
  the one use of a WeasyPrint internal (``HTML._ua_stylesheets``), pinned by a test.
"""

import contextlib
import gc
import threading
from functools import cache

from django.template.loader import get_template

# What a lean document can rely on: the display of the elements it uses and their usual defaults. A
# lean document's own stylesheet states the rest (margins, fonts, borders).
LEAN_UA_CSS = """
html, body, div, p, h1, h2, h3, h4, ul, ol, address, section, header, footer { display: block }
head, title, meta, style, script, link, template, [hidden] { display: none }
li { display: list-item }
table { display: table; border-spacing: 2px; border-collapse: separate; box-sizing: border-box;
        text-indent: initial }
caption { display: table-caption } colgroup { display: table-column-group } col { display: table-column }
thead { display: table-header-group; vertical-align: middle }
tbody { display: table-row-group; vertical-align: middle }
tfoot { display: table-footer-group; vertical-align: middle }
tr { display: table-row; vertical-align: inherit }
td, th { display: table-cell; vertical-align: inherit; padding: 1px }
th { font-weight: bold; text-align: center }
p, ul, ol { margin-top: 1em; margin-bottom: 1em }
ul, ol { padding-left: 40px }
ul ul, ol ol, ul ol, ol ul { margin-top: 0; margin-bottom: 0 }
ul { list-style-type: disc } ol { list-style-type: decimal }
ol, ul { counter-reset: list-item }
::marker { font-variant-numeric: tabular-nums; white-space: pre; text-transform: none }
h1 { font-size: 2em; margin: .67em 0; font-weight: bold }
h2 { font-size: 1.5em; margin: .83em 0; font-weight: bold }
h3 { font-size: 1.17em; margin: 1em 0; font-weight: bold }
h4 { margin: 1.33em 0; font-weight: bold }
b, strong { font-weight: bold }
i, em { font-style: italic }
small { font-size: smaller }
br::before { content: "\\A"; white-space: pre-line }
body { margin: 8px }
"""

_gc_lock = threading.Lock()
_gc_depth = 0
_gc_threshold = gc.get_threshold()
RELAXED_GC_THRESHOLD = 50_000


@contextlib.contextmanager
def relaxed_gc():
    """Collect garbage less often while a document is made (see the module's note); restores the
    threshold after, also when documents are made in several threads at once."""
    global _gc_depth, _gc_threshold
    with _gc_lock:
        if _gc_depth == 0:
            _gc_threshold = gc.get_threshold()
            gc.set_threshold(max(_gc_threshold[0], RELAXED_GC_THRESHOLD), *_gc_threshold[1:])
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0:
                gc.set_threshold(*_gc_threshold)


_per_thread = threading.local()  # Pango's font map is not shared between threads: one set per thread


def _font_config():
    if not hasattr(_per_thread, "font_config"):
        from weasyprint.text.fonts import FontConfiguration  # heavy import (Pango, fonts): on first use only

        _per_thread.font_config = FontConfiguration()
        _per_thread.stylesheets = {}
    return _per_thread.font_config


def stylesheet_source(template_name: str) -> str:
    """The text of a stylesheet kept with the templates (found the way a template is)."""
    return get_template(template_name).template.source


def _stylesheet(template_name: str):
    """The stylesheet template parsed once per thread (a change to it shows after a restart)."""
    font_config = _font_config()
    if template_name not in _per_thread.stylesheets:
        from weasyprint import CSS

        source = stylesheet_source(template_name)
        _per_thread.stylesheets[template_name] = CSS(string=source, font_config=font_config)
    return _per_thread.stylesheets[template_name]


@cache
def _lean_document_class():
    from weasyprint import CSS, HTML

    lean_ua = [CSS(string=LEAN_UA_CSS)]

    class LeanHTML(HTML):
        def _ua_stylesheets(self, forms=False):
            return lean_ua

    return LeanHTML


def html_to_pdf(html: str, *, css: str | None = None, lean: bool = False) -> bytes:
    """The PDF of ``html``; ``css`` names a stylesheet template applied to it (parsed once per thread),
    ``lean`` uses ``LEAN_UA_CSS`` for the user-agent defaults."""
    from weasyprint import HTML

    document_class = _lean_document_class() if lean else HTML
    stylesheets = [_stylesheet(css)] if css else None
    with relaxed_gc():
        return document_class(string=html).write_pdf(stylesheets=stylesheets, font_config=_font_config())
