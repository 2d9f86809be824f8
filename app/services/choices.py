"""Choices offered by search-as-you-type selects: through the choice rule
(``scoping.choice_filter``), searched, a page at a time."""
from __future__ import annotations

from sqlalchemy import or_, select

from app.extensions import db
from app.services import scoping, search_text

PAGE = 20


def search_enterprises(user, q: str = "", limit: int = PAGE) -> list[dict]:
    """Enterprises the user may reach whose name contains ``q`` or whose code starts with it."""
    from app.models import Enterprise

    query = select(Enterprise.id, Enterprise.name, Enterprise.uscc).where(scoping.choice_filter(Enterprise, user))
    q = (q or "").strip()
    if q:
        query = query.where(or_(search_text.contains(Enterprise.name, q),
                                search_text.starts_with(Enterprise.uscc, q.upper(), ignore_case=False)))
    rows = db.session.execute(query.order_by(Enterprise.name).limit(limit)).all()
    return [{"id": row.id, "text": f"{row.name}（{row.uscc}）"} for row in rows]


def search_mines(user, q: str = "", limit: int = PAGE) -> list[dict]:
    """Mines the user may reach whose name contains ``q`` or whose licence number starts with it."""
    from app.models import Mine

    query = select(Mine.id, Mine.name, Mine.licence_no).where(scoping.choice_filter(Mine, user))
    q = (q or "").strip()
    if q:
        query = query.where(or_(search_text.contains(Mine.name, q),
                                search_text.starts_with(Mine.licence_no, q.upper(), ignore_case=False)))
    rows = db.session.execute(query.order_by(Mine.name, Mine.id).limit(limit)).all()
    return [{"id": row.id, "text": f"{row.name}（{row.licence_no}）"} for row in rows]


def search_leaf_regions(user, q: str = "", limit: int = PAGE) -> list[dict]:
    """County-level regions inside the user's scope, by code prefix or name."""
    from app.models import Region

    query = select(Region).where(Region.is_leaf.is_(True))
    scope = scoping.user_scope(user)
    if not scope.everything:
        if not scope.region_prefixes:
            return []
        query = query.where(scoping.region_condition(Region.code, scope.region_prefixes))
    q = (q or "").strip()
    if q:
        query = query.where(or_(search_text.starts_with(Region.code, q, ignore_case=False),
                                search_text.contains(Region.name, q, ignore_case=False)))
    regions = db.session.scalars(query.order_by(Region.code).limit(limit)).all()
    return [{"id": region.code, "text": f"{region.code} {region.full_name}"} for region in regions]
