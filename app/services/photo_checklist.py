"""The pre-declaration photo checklist (SPEC C2; seed 000 §3.1 fig. 3-4).

The items are data (app/data/photo_checklist.csv, source in photo_checklist.SOURCE.md): code,
category, name, description, count range and requirement (required, or by the actual mining
method: open_pit for item 7, underground for item 8; a combined mine needs both). The photos
are Attachments of the pre-declaration with the item code as slot (app.services.uploads).
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import lru_cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from app.services.exceptions import TransitionRefused

OWNER_TYPE = "PreDeclaration"
REQUIRED, OPEN_PIT, UNDERGROUND = "required", "open_pit", "underground"
REQUIREMENT_LABELS = {
    REQUIRED: lazy_pgettext("photo requirement", "Required"),
    OPEN_PIT: _l("By actual mining method: open-pit mines"),
    UNDERGROUND: _l("By actual mining method: underground mines"),
}
# Which method-bound items a mine needs, by its mining method (app.models.choices.MINING_METHODS).
_METHOD_ITEMS = {
    "open_pit": {OPEN_PIT},
    "underground": {UNDERGROUND},
    "combined": {OPEN_PIT, UNDERGROUND},
}
_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "photo_checklist.csv")


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    category: str
    name: str
    description: str
    min_count: int
    max_count: int
    requirement: str

    @property
    def requirement_label(self) -> str:
        return str(REQUIREMENT_LABELS[self.requirement])

    @property
    def count_text(self) -> str:
        if self.min_count == self.max_count:
            return str(self.min_count)
        return f"{self.min_count}-{self.max_count}"


@dataclass(frozen=True)
class ItemStatus:
    item: ChecklistItem
    photos: list
    count: int
    missing: int
    complete: bool


@lru_cache(maxsize=1)
def load() -> tuple[ChecklistItem, ...]:
    """The checklist, in the order of the figure (read once)."""
    items = []
    with open(_PATH, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            item = ChecklistItem(
                code=row["code"].strip(),
                category=row["category"].strip(),
                name=row["name"].strip(),
                description=row["description"].strip(),
                min_count=int(row["min_count"]),
                max_count=int(row["max_count"]),
                requirement=row["requirement"].strip(),
            )
            if item.requirement not in REQUIREMENT_LABELS or not 0 < item.min_count <= item.max_count:
                raise ValueError(f"photo_checklist.csv: bad row {row}")
            items.append(item)
    return tuple(items)


def mining_method_of(predeclaration) -> str | None:
    mine = getattr(predeclaration, "mine", None)
    return getattr(mine, "mining_method", None)


def items_for(predeclaration) -> list[ChecklistItem]:
    """The items that apply to this pre-declaration: every required item, and 7 and/or 8 by the
    mine's mining method. A mine without a recorded method is asked for both (nothing is
    skipped on a missing value)."""
    method_items = _METHOD_ITEMS.get(mining_method_of(predeclaration) or "", {OPEN_PIT, UNDERGROUND})
    return [item for item in load() if item.requirement == REQUIRED or item.requirement in method_items]


def status(predeclaration) -> list[ItemStatus]:
    """Each applicable item with its photos, how many are still missing, and whether it is done."""
    from app.services import uploads

    photos = uploads.attachments_of(OWNER_TYPE, predeclaration.id) if predeclaration.id else []
    by_slot: dict[str, list] = {}
    for photo in photos:
        by_slot.setdefault(photo.slot, []).append(photo)
    result = []
    for item in items_for(predeclaration):
        mine = by_slot.get(item.code, [])
        missing = max(0, item.min_count - len(mine))
        result.append(ItemStatus(item=item, photos=mine, count=len(mine), missing=missing, complete=missing == 0))
    return result


def missing_items(predeclaration) -> list[ItemStatus]:
    return [entry for entry in status(predeclaration) if not entry.complete]


def check_complete(record, user, comment) -> None:
    """Transition guard of the pre-declaration's submit: every applicable item has its photos."""
    missing = missing_items(record)
    if missing:
        raise TransitionRefused(
            _(
                "The photo checklist is not complete: %(items)s.",
                items=_("; ").join(
                    _("%(code)s %(name)s: %(missing)s more photo(s) needed", code=entry.item.code,
                      name=entry.item.name, missing=entry.missing)
                    for entry in missing
                ),
            )
        )
