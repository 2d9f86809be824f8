"""Reference data: real counts, known codes, idempotent loading, size classification."""
from collections import Counter

from sqlalchemy import func, select

from app.extensions import db
from app.models import Mineral, MineSizeThreshold, Region
from app.services import reference


def test_region_counts_match_the_2023_division_codes():
    levels = dict(db.session.execute(select(Region.level, func.count()).group_by(Region.level)).all())
    assert levels[1] == 31
    assert levels[2] == 342
    # 2,978 county-level units: 2,975 county rows and 3 prefecture-level cities without counties.
    county_level_units = levels[3] + db.session.scalar(
        select(func.count()).select_from(Region).where(Region.level == 2, Region.is_leaf.is_(True))
    )
    assert county_level_units == 2978


def test_known_codes_and_parents(make_region):
    xiaodian = make_region("140105")
    assert xiaodian.name == "小店区" and xiaodian.level == 3 and xiaodian.is_leaf
    assert xiaodian.parent.code == "140100" and xiaodian.parent.name == "太原市"
    assert xiaodian.parent.parent.code == "140000" and xiaodian.parent.parent.name == "山西省"
    assert xiaodian.full_name == "山西省太原市小店区"
    assert not make_region("140100").is_leaf
    assert make_region("441900").is_leaf  # 东莞市: no counties


def test_municipality_grouping_rows_display_sensibly(make_region):
    grouping = make_region("110100")
    assert grouping.name == "市辖区"
    assert grouping.display_name == "北京市市辖区"
    assert make_region("110101").full_name == "北京市东城区"
    assert make_region("500200").display_name == "重庆市县"


def test_mineral_catalogue_has_173_minerals_in_four_classes():
    counts = Counter(db.session.scalars(select(Mineral.mineral_class)))
    assert sum(counts.values()) == 173
    assert counts == {"能源": 13, "金属": 59, "非金属": 95, "水气": 6}
    metal_subclasses = Counter(
        db.session.scalars(select(Mineral.subclass).where(Mineral.mineral_class == "金属"))
    )
    assert set(metal_subclasses) == {"黑色金属", "有色金属", "贵金属", "稀有金属", "稀土金属", "分散元素金属"}
    for name in ("煤", "页岩气", "天然气水合物", "铝土矿", "石灰岩", "矿泉水"):
        assert db.session.scalar(select(Mineral).where(Mineral.name == name)) is not None


def test_loading_twice_changes_nothing():
    results = reference.load_all()
    for result in results.values():
        assert result.inserted == 0 and result.updated == 0 and result.unchanged > 0


def test_mine_size_from_thresholds():
    coal = db.session.scalar(select(Mineral).where(Mineral.name == "煤"))
    assert reference.classify_size(coal, 150, "underground") == "large"
    assert reference.classify_size(coal, 120, "underground") == "large"
    assert reference.classify_size(coal, 60, "underground") == "medium"
    assert reference.classify_size(coal, 44.9, "underground") == "small"
    # Open-pit coal has its own, higher thresholds.
    assert reference.classify_size(coal, 150, "open_pit") == "medium"
    assert reference.classify_size(coal, None, "underground") is None
    # Every threshold row is well formed.
    for row in db.session.scalars(select(MineSizeThreshold)):
        assert row.large_min > row.medium_min > 0, row.mineral_key
