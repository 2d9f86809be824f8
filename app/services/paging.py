"""The public pages' paging: lenient reading of page arguments and one page of results."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional


def int_or_none(value: Any) -> Optional[int]:
    """An integer from a query argument, or None for anything else (never an error)."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Page:
    """One page of ``rows`` out of ``total``; ``query`` carries ``page`` and ``size``."""

    query: Any
    rows: list
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.size))
