"""Pre-declarations (预申报, SPEC C1-C4): creation rules. Status changes go through workflow."""
from __future__ import annotations

from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.services import codes, scoping
from app.services.exceptions import AccessDenied, ErrorCollector, ValidationFailed


def validate_new(predeclaration, user) -> None:
    """C1: the mine is one of the user's enterprise's mines; the region is county level;
    one pre-declaration per licence and year."""
    from app.models import Mine, PreDeclaration, Region

    enterprise_id = getattr(user, "enterprise_id", None)
    if not enterprise_id:
        raise AccessDenied(_("Only an enterprise account can pre-declare."))
    mine = predeclaration.mine or (db.session.get(Mine, predeclaration.mine_id) if predeclaration.mine_id else None)
    if mine is None or mine.enterprise_id != enterprise_id:
        raise ValidationFailed(_("The mining licence number must be one of your enterprise's mines in the registry."),
                               field="mine")
    if predeclaration.id is None:
        # A mine found to have falsified its materials may not apply (seed 001 三(三)).
        from app.services import fraud

        fraud.check_not_barred(mine, field="mine")
    predeclaration.mine = mine
    predeclaration.mine_id = mine.id
    predeclaration.enterprise_id = enterprise_id
    # The region and the year are checked together (every error of one save at once).
    errors = ErrorCollector()
    code = predeclaration.region_code or mine.region_code
    with errors.on_field("region_code"):
        region = db.session.get(Region, codes.validate_region_code_shape(code))
        if region is None or not region.is_leaf:
            raise ValidationFailed(_("Choose the region down to county level."))
        # The pre-declaration goes to the authorities where the mine is, not to another province's.
        if region.code[:2] != mine.region_code[:2]:
            raise ValidationFailed(_("The region must be in the province where the mine is."))
        predeclaration.region_code = region.code
    with errors.on_field("year"):
        if not predeclaration.year or not 2000 <= int(predeclaration.year) <= 2100:
            raise ValidationFailed(_("The application year is not valid."))
    errors.raise_if_any()
    query = select(PreDeclaration.id).where(
        PreDeclaration.mine_id == mine.id, PreDeclaration.year == predeclaration.year
    )
    if predeclaration.id is not None:
        query = query.where(PreDeclaration.id != predeclaration.id)
    with db.session.no_autoflush:
        if db.session.execute(query).first() is not None:
            raise ValidationFailed(
                _("There is already a pre-declaration for licence %(no)s in %(year)s.",
                  no=mine.licence_no, year=predeclaration.year)
            )
    scoping.check_access(user, predeclaration, scoping.EDIT)


def check_editable(predeclaration) -> None:
    """C3: attachments and fields change, and the record may be deleted, only while 未提交."""
    from app.services.workflow import workflow_of

    if predeclaration.status not in workflow_of(predeclaration).editable:
        raise ValidationFailed(_("Only a pre-declaration that is not yet submitted can be changed or deleted."))


def record_rule(predeclaration, user, action: str) -> None:
    """The write rule of pre-declaration screens and API: only 未提交 records change."""
    if predeclaration.id is not None:
        check_editable(predeclaration)
    if action == scoping.EDIT:
        validate_new(predeclaration, user)


def create(user, mine, year: int, region_code: Optional[str] = None):
    """Create a pre-declaration in state 未提交 for ``mine``. Commits."""
    from app.models import PreDeclaration

    predeclaration = PreDeclaration(mine=mine, mine_id=mine.id, year=year, region_code=region_code)
    try:
        validate_new(predeclaration, user)
        db.session.add(predeclaration)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return predeclaration
