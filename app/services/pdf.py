"""HTML to PDF with xhtml2pdf, Chinese text in the embedded WenQuanYi Micro Hei font.

Shared by the certificates (app.services.certificates) and the spot-check report
(app.services.spotcheck_reports). A template declares the font with

    @font-face { font-family: {{ font_family }}; src: url("{{ font_file }}"); }

(``FONT_FAMILY`` and ``FONT_FILE.name``, see ``font_context``); ``render`` resolves that file
name to the font shipped in app/data/fonts/ and embeds it (subset) in the PDF.

Why the policy: xhtml2pdf reads local files only under its base directory unless it is given a
``ResourceAccessPolicy``; without one an ``@font-face`` silently falls back to Helvetica and no
Chinese is printed. Our templates print names typed by users, so the policy allows no network
and local reads only from the font folder.
"""
from __future__ import annotations

import io
from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent.parent / "data" / "fonts"
FONT_FILE = FONT_DIR / "wqy-microhei.ttc"
# The name the PDF templates' @font-face declares.
FONT_FAMILY = "WenQuanYiMicroHei"


def font_context() -> dict[str, str]:
    """What a PDF template needs to declare the font: ``font_family`` and ``font_file``."""
    return {"font_family": FONT_FAMILY, "font_file": FONT_FILE.name}


def resource_policy():
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    return ResourceAccessPolicy.server(base_dir=FONT_DIR, allow_remote=False)


def font_link(uri: str, rel: str) -> str:
    """link_callback: the template names the font by its file name only."""
    if uri == FONT_FILE.name:
        return str(FONT_FILE)
    return uri


def render(html: str, what: str = "PDF") -> bytes:
    """The PDF of ``html`` (a complete document); ``what`` names it in the error raised when
    xhtml2pdf reports errors (a programming error: our templates, not the user's input)."""
    from xhtml2pdf import pisa

    out = io.BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8", link_callback=font_link,
                            resource_policy=resource_policy())
    if result.err:
        raise RuntimeError(f"{what} failed: {result.err} error(s)")
    return out.getvalue()
