"""Administrative divisions (GB/T 2260), loaded from app/data/regions.csv."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

LEVEL_LABELS = {1: _l("Province"), 2: _l("Prefecture"), 3: _l("County")}
# Prefecture-level rows that only group the counties of a municipality or a province's directly
# administered counties: shown with the parent's name in front of them.
GROUPING_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


class Region(Model):
    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    # 1 province, 2 prefecture, 3 county.
    level: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    parent_code: Mapped[Optional[str]] = mapped_column(
        String(6), ForeignKey("region.code"), nullable=True, index=True
    )
    # True where records may be placed: county-level units, and the four prefecture-level
    # cities without counties (东莞, 中山, 儋州, 嘉峪关 ...).
    is_leaf: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Province, prefecture and county, skipping grouping rows: 北京市东城区, 山西省太原市小店区.
    # Stored by the reference loader (regions change only with the data file), so that a list
    # showing regions needs no walk up the parent chain (one query per prefecture otherwise).
    full_name: Mapped[str] = mapped_column(String(128), nullable=False)

    parent: Mapped[Optional["Region"]] = relationship("Region", remote_side=[code])

    @property
    def display_name(self) -> str:
        """Name a person recognises: 北京市市辖区 rather than a bare 市辖区."""
        if self.name in GROUPING_NAMES and self.parent is not None:
            return f"{self.parent.name}{self.name}"
        return self.name

    @property
    def level_label(self) -> str:
        return str(LEVEL_LABELS.get(self.level, self.level))

    def __repr__(self) -> str:
        return f"{self.code} {self.full_name}"


def full_region_names(rows: dict[str, tuple[str, Optional[str]]]) -> dict[str, str]:
    """``Region.full_name`` for every row of ``{code: (name, parent_code)}``."""
    names = {}
    for code in rows:
        parts = []
        node: Optional[str] = code
        while node is not None:
            name, parent_code = rows[node]
            if name not in GROUPING_NAMES:
                parts.append(name)
            node = parent_code
        names[code] = "".join(reversed(parts))
    return names
