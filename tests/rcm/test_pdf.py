"""rcm.pdf, the one way the app makes PDFs: the lean documents' user-agent stylesheet (the one use of a
WeasyPrint internal, pinned here), stylesheets parsed once, and the garbage collector put back as it was."""

import gc
import threading

import weasyprint

from rcm import pdf
from rcm.celery import freeze_worker_heap
from rcm.formats import zip_text
from tests.pdfs import pdf_text


def test_weasyprint_still_asks_the_document_for_its_user_agent_stylesheets():
    # rcm.pdf's lean documents override HTML._ua_stylesheets: a WeasyPrint that stopped calling it would
    # silently give them the full HTML defaults again (slower, and other margins).
    calls = []
    lean = pdf._lean_document_class()
    original = lean._ua_stylesheets

    def spy(self, forms=False):
        calls.append(forms)
        return original(self, forms)

    lean._ua_stylesheets = spy
    try:
        pdf.html_to_pdf("<p>Balance due</p>", lean=True)
    finally:
        lean._ua_stylesheets = original
    assert calls and issubclass(lean, weasyprint.HTML)


def test_a_lean_document_reads_as_the_full_one():
    html = (
        "<h1>Statement</h1><p>You owe <strong>$12.50</strong></p><ul><li>By phone</li></ul>"
        "<table><tr><th>Billed</th><td>$40.00</td></tr></table>"
    )
    lean, full = pdf_text(pdf.html_to_pdf(html, lean=True)), pdf_text(pdf.html_to_pdf(html))
    assert (
        lean.split()
        == full.split()
        == ["Statement", "You", "owe", "$12.50", "By", "phone", "Billed", "$40.00", "•"]
    )


def test_a_stylesheet_is_parsed_once_and_the_fonts_set_up_once_per_thread():
    first = pdf._stylesheet("payment_plans/statement_pdf.css")
    assert pdf._stylesheet("payment_plans/statement_pdf.css") is first
    assert pdf._font_config() is pdf._font_config()
    other = []  # Pango's font map is not shared between threads: another thread sets up its own
    thread = threading.Thread(target=lambda: other.append(pdf._font_config()))
    thread.start()
    thread.join()
    assert other[0] is not pdf._font_config()


def test_the_collector_is_relaxed_while_a_document_is_made_and_put_back_after():
    before = gc.get_threshold()
    seen = []
    with pdf.relaxed_gc():
        seen.append(gc.get_threshold()[0])
        with pdf.relaxed_gc():  # nested (or another thread's document): put back only by the last
            pass
        seen.append(gc.get_threshold()[0])
    assert seen == [pdf.RELAXED_GC_THRESHOLD, pdf.RELAXED_GC_THRESHOLD]
    assert gc.get_threshold() == before

    errors = []

    def make():
        try:
            pdf.html_to_pdf("<p>x</p>")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and gc.get_threshold() == before


def test_a_worker_freezes_what_it_holds_once_started():
    try:
        freeze_worker_heap()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_zip_codes_print_with_their_hyphen():
    assert [zip_text(z) for z in ("432151234", "43215", "43215-1234", "", None, "K1A 0B1")] == [
        "43215-1234",
        "43215",
        "43215-1234",
        "",
        "",
        "K1A 0B1",
    ]
