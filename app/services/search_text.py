"""Text search in SQL: what a user types is matched as literal text.

``LIKE`` gives ``%`` and ``_`` a meaning of their own: unescaped, a search for ``%`` matches
every row and ``_`` any character. Every "contains", "starts with" and "ends with" of the product
(our search services, the public pages, and FAB's list filters through
``app.web.datamodel``) builds its condition here, with the wildcards and the escape character
escaped and an explicit ``ESCAPE`` clause (SQLite has no default escape character; PostgreSQL's
is the same backslash). ``ILIKE`` on PostgreSQL can use the trigram indexes of the name columns
(migration 0008); SQLite compares ``lower()`` of both sides.
"""
from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement

LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """``text`` as a LIKE pattern that matches exactly itself (with ``ESCAPE LIKE_ESCAPE``)."""
    return (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
            .replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_"))


def _like(column, pattern: str, ignore_case: bool) -> ColumnElement:
    if ignore_case:
        return column.ilike(pattern, escape=LIKE_ESCAPE)
    return column.like(pattern, escape=LIKE_ESCAPE)


def contains(column, text: str, *, ignore_case: bool = True) -> ColumnElement:
    return _like(column, f"%{escape_like(text)}%", ignore_case)


def starts_with(column, text: str, *, ignore_case: bool = True) -> ColumnElement:
    return _like(column, f"{escape_like(text)}%", ignore_case)


def ends_with(column, text: str, *, ignore_case: bool = True) -> ColumnElement:
    return _like(column, f"%{escape_like(text)}", ignore_case)
