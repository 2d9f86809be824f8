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


# The marked place for the seal on the certificates: a red dashed circle (SVG, drawn by svglib,
# which xhtml2pdf uses for SVG images); the words "印章处" are HTML laid over it, since svglib
# draws text only in the fonts it knows.
SEAL_MARK_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="130" height="130" viewBox="0 0 130 130">'
    '<circle cx="65" cy="65" r="61" fill="none" stroke="#c62828" stroke-width="2" stroke-dasharray="6,4"/>'
    '<circle cx="65" cy="65" r="53" fill="none" stroke="#c62828" stroke-width="0.6" stroke-dasharray="2,3"/>'
    "</svg>"
)


def seal_mark_uri() -> str:
    """The seal's marked place as a data: URI for an <img>."""
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(SEAL_MARK_SVG.encode("ascii")).decode("ascii")
