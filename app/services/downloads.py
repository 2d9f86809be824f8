"""How every file the product hands out is named to the browser (attachments, certificates,
Excel files, reports; and presigned object-storage downloads)."""
from __future__ import annotations

import re
from typing import Optional
from urllib.parse import quote


def content_disposition(filename: str, fallback: Optional[str] = None) -> str:
    """``attachment`` with the UTF-8 name (RFC 5987 / RFC 6266) and an ASCII ``fallback`` for
    clients that do not read ``filename*``."""
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", fallback or "") or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
