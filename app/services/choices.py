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


def region_choice_text(region) -> str:
    """How a region is offered and shown in a select: its full name (山西省太原市小店区)."""
    return region.full_name


def region_choice_text_with_level(region) -> str:
    """A region where any level may be chosen: its full name and its level (北京市（省）)."""
    return f"{region.full_name}（{region.level_label}）"


def _regions(query, q: str, limit: int, text=region_choice_text) -> list[dict]:
    """``query`` (of Region) narrowed to the regions whose name contains ``q`` or whose code
    starts with it, by code, as select choices."""
    from app.models import Region

    q = (q or "").strip()
    if q:
        query = query.where(or_(search_text.starts_with(Region.code, q, ignore_case=False),
                                search_text.contains(Region.name, q, ignore_case=False),
                                search_text.contains(Region.full_name, q, ignore_case=False)))
    regions = db.session.scalars(query.order_by(Region.code).limit(limit)).all()
    return [{"id": region.code, "text": text(region)} for region in regions]


def _in_scope(query, user):
    """Regions inside the staff user's scope (everything for the national level); None: none."""
    from app.models import Region

    scope = scoping.user_scope(user)
    if scope.everything:
        return query
    if not scope.region_prefixes:
        return None
    return query.where(scoping.region_condition(Region.code, scope.region_prefixes))


def search_leaf_regions(user, q: str = "", limit: int = PAGE) -> list[dict]:
    """County-level regions inside the user's scope, by code prefix or name."""
    from app.models import Region

    query = _in_scope(select(Region).where(Region.is_leaf.is_(True)), user)
    return [] if query is None else _regions(query, q, limit)


def search_regions(user, q: str = "", limit: int = PAGE) -> list[dict]:
    """Regions of every level inside the user's scope (an account's binding: province, city or
    county), each named with its level (a city and its province can share a name: 北京市)."""
    from app.models import Region

    query = _in_scope(select(Region), user)
    return [] if query is None else _regions(query, q, limit, text=region_choice_text_with_level)


def search_provinces(user, q: str = "", limit: int = PAGE) -> list[dict]:
    """Provinces inside the user's scope (a province's staff: its own; the national level: all)."""
    from app.models import Region

    query = _in_scope(select(Region).where(Region.level == 1), user)
    return [] if query is None else _regions(query, q, limit)


def search_mine_provinces_leaf_regions(user, q: str = "", limit: int = PAGE) -> list[dict]:
    """County-level regions of the provinces where the user's enterprise has mines: where a
    pre-declaration of one of its mines may be placed (app.services.predeclarations.validate_new
    keeps it in the mine's own province)."""
    from app.models import Mine, Region

    enterprise_id = getattr(user, "enterprise_id", None)
    if not enterprise_id:
        return []
    provinces = sorted({code[:2] for code in db.session.scalars(
        select(Mine.region_code).where(Mine.enterprise_id == enterprise_id).distinct())})
    if not provinces:
        return []
    query = select(Region).where(Region.is_leaf.is_(True), scoping.region_condition(Region.code, provinces))
    return _regions(query, q, limit)
