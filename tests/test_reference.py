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


# ---------------------------------------------------------------------------
# Issue 18, point 7: remarks for users; inferred values marked for staff; no working notes for
# enterprises
# ---------------------------------------------------------------------------
import csv  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402

import pytest  # noqa: E402

from app.models import IndicatorItem, IndicatorVersion  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "app", "data")
# A word of Latin letters: a developer's note, not a remark for a Chinese reader ("DZ/T" and
# units like "万吨/年" are not words).
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


@pytest.mark.parametrize("name,columns", [
    ("mine_size_thresholds.csv", ("remark", "source_note")),
    ("indicators_national_2020.csv", ("source_note",)),
    ("indicators_national_2024.csv", ("source_note",)),
])
def test_the_data_files_speak_chinese_and_flag_what_is_inferred(name, columns):
    with open(os.path.join(DATA, name), encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        assert row["inferred"] in ("yes", "no"), row
        for column in columns:
            assert not ENGLISH_WORD.search(row[column]), (column, row)
        # An inferred row says why; the note is for staff, the flag is the data.
        if row["inferred"] == "yes":
            assert row["source_note"], row


def test_the_flags_are_loaded_as_the_source_notes_count_them():
    inferred = db.session.scalars(select(MineSizeThreshold).where(MineSizeThreshold.inferred.is_(True))).all()
    # mine_size_thresholds.SOURCE.md: 19 rows labelled by their position and 22 inferred ones.
    assert len(inferred) == 19 + 22
    coal = db.session.scalar(select(MineSizeThreshold).where(MineSizeThreshold.mineral_key == "煤",
                                                               MineSizeThreshold.mining_method == "地下"))
    assert not coal.inferred and "15万吨/年" in coal.remark
    version = db.session.scalar(select(IndicatorVersion).where(IndicatorVersion.code == "national-2020"))
    items = db.session.scalars(select(IndicatorItem).where(IndicatorItem.version_id == version.id)).all()
    # indicators_national_2020.SOURCE.md: only the first two areas are confirmed, name and points.
    assert sorted(item.code for item in items if not item.inferred) == ["1", "2"]
    assert "2020" in version.source and "推定值" in version.source_note
    assert not ENGLISH_WORD.search(version.source) and not ENGLISH_WORD.search(version.source_note)


def test_a_flag_that_is_neither_yes_nor_no_stops_the_load():
    with pytest.raises(ValueError):
        reference._flag({"inferred": "maybe"}, "inferred", "mine_size_thresholds.csv")


def _inferred_threshold():
    return db.session.scalar(select(MineSizeThreshold).where(MineSizeThreshold.mineral_key == "矿泉水"))


def test_staff_see_the_inferred_mark_with_the_source_note(make_user, browser):
    row = _inferred_threshold()
    client = browser(make_user("county", "140105"))
    listing = client.get("/minesizethresholdview/list/?psize_MineSizeThresholdView=100").get_data(as_text=True)
    assert listing.count("gm-inferred") == 41
    page = client.get(f"/minesizethresholdview/show/{row.id}").get_data(as_text=True)
    assert "推定值" in page and row.source_note in page
    confirmed = db.session.scalar(select(MineSizeThreshold).where(MineSizeThreshold.mineral_key == "石油"))
    page = client.get(f"/minesizethresholdview/show/{confirmed.id}").get_data(as_text=True)
    assert "见于原文" in page and "gm-inferred" not in page


def test_enterprises_see_no_working_notes(make_user, make_enterprise, browser):
    row = _inferred_threshold()
    client = browser(make_user("enterprise", enterprise=make_enterprise("140105")))
    listing = client.get("/minesizethresholdview/list/?psize_MineSizeThresholdView=100").get_data(as_text=True)
    assert "推定值" not in listing and "数值来源" not in listing
    # The remarks are everyone's.
    assert "原表列为“煤（地下开采）”" in listing
    page = client.get(f"/minesizethresholdview/show/{row.id}").get_data(as_text=True)
    assert "推定值" not in page and row.source_note not in page and "数值来源" not in page
    # The indicator catalogues likewise: no mark on the items, no note on the version.
    version = db.session.scalar(select(IndicatorVersion).where(IndicatorVersion.code == "national-2024"))
    item = db.session.scalar(select(IndicatorItem).where(IndicatorItem.version_id == version.id,
                                                         IndicatorItem.code == "1.1.1"))
    for url in (f"/indicatoritemview/show/{item.id}", "/indicatoritemview/list/",
                f"/indicatorversionview/show/{version.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "推定值" not in page and item.source_note not in page and version.source_note not in page, url
    assert version.source in client.get(f"/indicatorversionview/show/{version.id}").get_data(as_text=True)
    staff = browser(make_user("province", "140000"))
    assert item.source_note in staff.get(f"/indicatoritemview/show/{item.id}").get_data(as_text=True)
    assert version.source_note in staff.get(f"/indicatorversionview/show/{version.id}").get_data(as_text=True)
