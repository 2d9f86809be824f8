"""The links from a count of the statistics (screens and REST alike) to the mine list that shows
exactly the mines it counts."""
from __future__ import annotations

from typing import Any, Optional

from flask import url_for

from app.services.statistics import Cell

# The permission every statistics route maps to (app.services.roles grants ``can_read``).
READ = "read"


def list_url(args: Optional[dict[str, str]]) -> Optional[str]:
    """The mine list of exactly the mines a cell counts (None: no list selects them)."""
    return url_for("MineView.list", **args) if args is not None else None


def cell_json(cell: Cell) -> dict[str, Any]:
    return dict(cell.as_dict(), list_url=list_url(cell.args))
