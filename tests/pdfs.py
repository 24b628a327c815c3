"""The text of a PDF the app made, words separated by single spaces (pypdf): what tests read in it."""

import io

from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(bytes(data))).pages
    )
