"""A list's search form offers a coded column (a workflow's state, a level, a grade, a kind of
record) as a select box of its labels, searched by 等于 (equal) by default: nobody types an
internal code such as ``submitted`` into a 开头为 (starts with) box (issue 18)."""
from __future__ import annotations

import datetime
import html
import json
import re
import urllib.parse

from flask_appbuilder import ModelView

from app.extensions import db
from app.models import DirectoryEntry
from app.services import workflow
from app.web import closed_lists

_SEARCH_WIDGET = re.compile(r"new AdminFilters\(\s*'[^']*',", re.S)
_OPTION = re.compile(r'<option(?: selected)? value="([^"]*)"[^>]*>([^<]*)</option>')
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _search_widget(page: str) -> tuple[dict, dict, dict]:
    """The search widget's column labels, fields' HTML and filter names per column, as FAB's
    script receives them (``new AdminFilters(form, labels, fields, filters, active)``)."""
    match = _SEARCH_WIDGET.search(page)
    assert match is not None, "no search widget on the page"
    decoder, position, arguments = json.JSONDecoder(), match.end(), []
    for _argument in range(3):
        while page[position] in " \n\t\r,":
            position += 1
        value, position = decoder.raw_decode(page, position)
        arguments.append(value)
    return arguments[0], arguments[1], arguments[2]


def _options(field_html: str) -> dict[str, str]:
    """value -> label of a select box's options (the empty one left out)."""
    assert field_html.startswith("<select"), field_html[:80]
    return {html.unescape(value): html.unescape(label).strip()
            for value, label in _OPTION.findall(field_html) if value}


def _model_views(app):
    return [view for view in app.appbuilder.baseviews if isinstance(view, ModelView)]


def test_every_coded_search_column_is_a_select_of_chinese_labels_searched_by_equal(app, make_user, browser):
    page = browser(make_user("admin"))
    checked, status_views = [], set()
    for view in _model_views(app):
        model = view.datamodel.obj
        columns = [column for column in view.search_columns if closed_lists.has_closed_list(model, column)]
        if "status" in view.search_columns:
            # Every searched status column is a workflow's state column.
            assert "status" in columns, view.__class__.__name__
            status_views.add(view.__class__.__name__)
        if not columns:
            continue
        response = page.get(f"/{view.route_base.strip('/')}/list/")
        assert response.status_code == 200, view.__class__.__name__
        _labels, fields, filters = _search_widget(response.get_data(as_text=True))
        for column in columns:
            where = f"{view.__class__.__name__}.{column}"
            offered = _options(fields[column])
            expected = {str(value): str(label) for value, label in closed_lists.closed_list(model, column).items()}
            assert offered == expected, where
            # Chinese names, not the codes (a grade's name is its letters: AAAAA).
            assert all(_CJK.search(label) or label == value.upper() for value, label in offered.items()), where
            assert filters[column][0] == "等于", where
            assert set(filters[column]) == {"等于", "不等于"}, where
            checked.append(where)
    # A state column is offered its workflow's states, by their labels.
    for view in _model_views(app):
        if "status" in view.search_columns:
            flow = workflow.workflow_of(view.datamodel.obj)
            assert list(closed_lists.closed_list(view.datamodel.obj, "status")) == list(flow.states)
    # The guard covers the lists it was written for.
    assert {"ApplicationView", "PreDeclarationView", "DirectoryEntryView", "SpotCheckView",
            "CertificationApplicationView", "AgencyView", "SelfCheckView", "ProblemLeadView"} <= status_views
    for where in ("DirectoryEntryView.level", "SpotCheckCampaignView.level", "SpotCheckView.entry_level",
                  "CertificationApplicationView.kind", "CertificationCertificateView.grade",
                  "TransitionLogView.record_type", "AuditLogView.record_type", "RegionView.level"):
        assert where in checked, where


def _entry(mine, level: str, status: str = "listed") -> DirectoryEntry:
    entry = DirectoryEntry(mine_id=mine.id, enterprise_id=mine.enterprise_id, region_code=mine.region_code,
                           level=level, year=2025, mine_name=mine.name, enterprise_name=mine.enterprise.name,
                           listed_on=datetime.date(2025, 12, 1), entry_reason="遴选入库", status=status)
    with workflow._status_writes_allowed(db.session):
        db.session.add(entry)
        db.session.commit()
    return entry


def _listed_mines(page, query: dict) -> set[str]:
    response = page.get("/directoryentryview/list/?" + urllib.parse.urlencode(query))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    return {name for name in ("甲矿", "乙矿", "丙矿") if name in text}


def test_a_list_filtered_by_a_label_shows_the_rows_in_that_state(app, make_mine, make_user, browser):
    _entry(make_mine(name="甲矿"), "province")
    _entry(make_mine(name="乙矿"), "county", status="removed")
    _entry(make_mine(name="丙矿"), "county")
    page = browser(make_user("admin"))
    _labels, fields, filters = _search_widget(page.get("/directoryentryview/list/").get_data(as_text=True))
    by_label = {label: value for value, label in _options(fields["status"]).items()}
    levels = {label: value for value, label in _options(fields["level"]).items()}
    # What the widget submits: the first (default) filter, 等于, is _flt_0_<column>.
    assert filters["status"].index("等于") == 0
    assert _listed_mines(page, {"_flt_0_status": by_label["已移出"]}) == {"乙矿"}
    assert _listed_mines(page, {"_flt_0_status": by_label["在录"]}) == {"甲矿", "丙矿"}
    assert _listed_mines(page, {"_flt_1_status": by_label["已移出"]}) == {"甲矿", "丙矿"}  # 不等于
    assert _listed_mines(page, {"_flt_0_level": levels["县级"]}) == {"乙矿", "丙矿"}
    assert _listed_mines(page, {"_flt_0_level": levels["县级"], "_flt_0_status": by_label["在录"]}) == {"丙矿"}


def test_the_rest_api_filters_a_state_by_equality(app, make_mine, make_user, api):
    _entry(make_mine(name="甲矿"), "province")
    _entry(make_mine(name="乙矿"), "county", status="removed")
    client = api(make_user("admin"))

    def names(filters: str) -> set[str] | int:
        response = client.get("/api/v1/directory/?q=" + urllib.parse.quote(f"(filters:!({filters}))"))
        if response.status_code != 200:
            return response.status_code
        return {row["mine_name"] for row in response.get_json()["result"]}

    assert names("(col:status,opr:eq,value:removed)") == {"乙矿"}
    assert names("(col:status,opr:neq,value:removed)") == {"甲矿"}
    # A state is not text to match in part (开头为 a code meant nothing to its readers).
    assert names("(col:status,opr:sw,value:rem)") == 400


def test_a_numeric_coded_column_is_searched_by_its_label_too(app, make_user, browser):
    """A region's level is a number (1, 2, 3) shown as 省 / 地市 / 县."""
    page = browser(make_user("admin"))
    _labels, fields, _filters = _search_widget(page.get("/regionview/list/").get_data(as_text=True))
    levels = {label: value for value, label in _options(fields["level"]).items()}
    provinces = page.get(f"/regionview/list/?_flt_0_level={levels['省']}").get_data(as_text=True)
    assert "山西省" in provinces and "小店区" not in provinces and "太原市" not in provinces
