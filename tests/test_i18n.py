"""Every product string has its zh translation, the compiled catalogue is current, and FAB's
gaps are filled from ours."""
import pathlib

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = pathlib.Path(__file__).resolve().parents[1]
PO = ROOT / "app" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
# As the extract command in README ("Translations"): babel's defaults (pgettext among them) and ours.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None,
            "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def _catalog():
    with PO.open("rb") as handle:
        return read_po(handle, locale="zh")


def test_no_untranslated_or_fuzzy_entries():
    bad = [m.id for m in _catalog() if m.id and (not m.string or m.fuzzy)]
    assert bad == []


def _extracted() -> set[tuple[str | None, str]]:
    """(message context, msgid) of every string the code translates."""
    return {
        (context, message if isinstance(message, str) else message[0])
        for _filename, _lineno, message, _comments, context in extract_from_dir(
            str(ROOT / "app"), method_map=METHODS, keywords=KEYWORDS,
            options_map={"**/templates/**.html": {"encoding": "utf-8"}},
        )
    }


def test_every_string_in_the_code_is_in_the_catalogue():
    # A message with a context is another message than the same English without one.
    known = {(m.context, m.id) for m in _catalog() if m.id}
    missing = sorted(_extracted() - known, key=str)
    assert missing == [], "run pybabel extract/update (README, Translations) and translate: %s" % missing


def test_message_contexts_are_extracted():
    """The extract command must know lazy_pgettext (models, views) and pgettext (templates)."""
    found = _extracted()
    assert ("mine production status", "Closed") in found and ("problem lead state", "Closed") in found
    assert ("evaluation pass line", "Required") in found


def test_compiled_catalogue_matches_the_po_file():
    with MO.open("rb") as handle:
        # (babel's read_mo leaves a message context as bytes)
        compiled = {(m.context.decode() if isinstance(m.context, bytes) else m.context, m.id): m.string
                    for m in read_mo(handle) if m.id}
    source = {(m.context, m.id): m.string for m in _catalog() if m.id}
    assert compiled == source, "run: pybabel compile -d app/translations -l zh"


def test_interface_is_chinese_by_default_and_english_available(app, make_user, make_mine, browser):
    make_mine("140105")
    client = browser(make_user("county", "140105"))
    page = client.get("/mineview/list/").get_data(as_text=True)
    assert "采矿许可证号" in page and "矿山名称" in page
    # FAB's own gaps, filled from our catalogue: the delete confirmation and the "In" filter
    # (JSON-escaped in the page's script).
    assert "确定要删除这条记录吗" in page
    enterprises = client.get("/enterpriseview/list/").get_data(as_text=True)
    assert "\\u5c5e\\u4e8e" in enterprises  # 属于
    client.get("/lang/en")
    page = client.get("/mineview/list/").get_data(as_text=True)
    assert "Mining licence number" in page


def test_error_pages_are_translated(app, browser, make_user):
    client = browser(make_user("national"))
    assert "页面或记录不存在" in client.get("/mineview/show/999999").get_data(as_text=True)


def test_oversized_request_gets_a_translated_413(app):
    client = app.test_client()
    response = client.post("/login/", data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1),
                           content_type="application/octet-stream")
    assert response.status_code == 413
    assert "上传的文件过大" in response.get_data(as_text=True)


def test_rest_field_info_leaves_a_missing_description_blank(make_user, api):
    """FAB translates an absent description as gettext(""), which is the catalogue's header."""
    body = api(make_user("national")).get("/api/v1/mine/_info").get_json()
    fields = body["add_columns"] + body["edit_columns"]
    assert fields and all("Project-Id-Version" not in (f["description"] + f["label"]) for f in fields)
    assert any(f["description"] == "" for f in fields)


# ---------------------------------------------------------------------------
# FAB's generated surface in Chinese (issue 18, point 2) and values as words (point 1)
# ---------------------------------------------------------------------------
def _strings(page: str) -> list[str]:
    from tests.test_screen_audit import visible

    return visible(page).strings


def test_fab_confirmation_and_alert_buttons_are_chinese(make_user, make_mine, browser):
    make_mine("140105")
    page = browser(make_user("county", "140105")).get("/mineview/list/").get_data(as_text=True)
    strings = _strings(page)
    assert "取消" in strings and strings.count("确定") >= 2  # the confirmation and the alert
    assert "Cancel" not in strings and "OK" not in strings


def test_none_booleans_and_lists_read_as_words():
    from markupsafe import Markup

    from app.views.formatting import display_value

    assert display_value(None) == ""
    assert (display_value(True), display_value(False)) == ("是", "否")
    assert display_value(["省级", "市级"]) == "省级、市级"
    # A role by its name (FAB's Role prints its code), alone or in a list.
    from flask_appbuilder.security.sqla.models import Role

    from app.services.roles import role_label

    assert display_value([Role(name="province"), Role(name="city")]) == f"{role_label('province')}、{role_label('city')}"
    assert display_value([True, None]) == "是、"
    assert display_value(0) == 0 and display_value("None") == "None"
    assert display_value(Markup("<b>x</b>")) == Markup("<b>x</b>")


def test_a_fab_show_page_shows_no_python_values(make_user, browser):
    # A province: no parent (None) and not a leaf (False).
    strings = _strings(browser(make_user("national")).get("/regionview/show/140000").get_data(as_text=True))
    assert "否" in strings
    assert not {"None", "False", "True"} & set(strings)


def test_the_admins_user_screens_speak_chinese(make_user, browser):
    from app.services.roles import role_label

    province = make_user("province", "140000")
    admin = browser(make_user("admin"))
    listing = _strings(admin.get("/users/list/").get_data(as_text=True))
    assert {"用户名", "名", "姓", "角色", "启用", "是", role_label("province"), role_label("admin")} <= set(listing)
    assert not {"[province]", "[admin]", "True", "None", "First Name", "Active", "Roles"} & set(listing)
    # The search offers the roles by name (make_user names its users after their roles: no county here).
    assert role_label("county") in listing and "county" not in listing
    shown = _strings(admin.get(f"/users/show/{province.id}").get_data(as_text=True))
    assert {"登录次数", "登录失败次数", "最近登录", "创建于", role_label("province")} <= set(shown)
    form = admin.get(f"/users/edit/{province.id}").get_data(as_text=True)
    assert ">__None<" not in form and role_label("province") in _strings(form)


def test_the_admins_role_screen_names_roles_and_their_menus(app, make_user, browser):
    from app.services.roles import role_label

    admin = browser(make_user("admin"))
    make_user("county", "140105")
    listing = _strings(admin.get("/roles/list/").get_data(as_text=True))
    assert {role_label(name) for name in ("admin", "national", "province", "county", "certifier")} <= set(listing)
    assert "用户数" in listing and not any("can " in s or "View" in s for s in listing)
    county = app.appbuilder.sm.find_role("county")
    shown = _strings(admin.get(f"/roles/show/{county.id}").get_data(as_text=True))
    assert role_label("county") in shown
    # The menus the county role opens, by category; none it does not open.
    menus = shown[shown.index("可打开的菜单") + 1]
    assert "矿山信息：矿山、矿业权人" in menus and "用户列表" not in menus


def test_the_admins_user_statistics_are_a_chinese_table(make_user, browser):
    make_user("county", "140105")
    page = browser(make_user("admin")).get("/userstatschartview/chart/").get_data(as_text=True)
    strings = _strings(page)
    assert {"用户名", "登录次数", "登录失败次数", "统计项:"} <= set(strings)
    assert "gstatic" not in page and "google.visualization" not in page
    assert not {"Login Count", "Failed Login Count", "None"} & set(strings)


def test_the_search_form_asks_for_a_state_by_its_name_and_starts_empty(make_user, browser):
    strings = _strings(browser(make_user("county", "140105")).get("/predeclarationview/list/").get_data(as_text=True))
    # The status field is a select box of the states' names, not a text field holding "draft".
    assert {"未提交", "已提交"} <= set(strings)
    assert "draft" not in strings


def test_the_calendar_and_select_boxes_speak_the_users_language(app, make_user, browser):
    """FAB loads bootstrap-datepicker and Select2 in English; every page sets their words."""
    import json
    import re

    from app.views.formatting import COUNT_PLACEHOLDER, widget_words

    with app.test_request_context("/"):
        words = widget_words()
    assert words["datepicker"]["months"][0] == "一月" and words["datepicker"]["daysMin"][0] == "日"
    assert words["datepicker"]["today"] == "今天" and words["datepicker"]["weekStart"] == 1
    assert words["select2"]["noResults"] == "没有匹配项"
    assert words["select2"]["inputTooShort"] == f"请再输入 {COUNT_PLACEHOLDER} 个字符"
    client = browser(make_user("county", "140105"))
    for caller, url in ((client, "/mineview/list/"), (browser(None), "/login/")):
        page = caller.get(url).get_data(as_text=True)
        found = re.search(r"var words = (\{.*?\});\n", page)
        assert found, url
        assert json.loads(found.group(1))["select2"]["noResults"] == "没有匹配项"
        assert page.index("select2.min.js") < found.start()
    client.get("/lang/en")
    page = client.get("/mineview/list/").get_data(as_text=True)
    assert json.loads(re.search(r"var words = (\{.*?\});\n", page).group(1))["datepicker"]["months"][0] == "January"


def test_every_page_says_its_language(app, make_user, browser):
    """<html lang>: zh-CN for Chinese (the user's locale), on FAB's pages, ours, the public ones,
    the login and error pages; the language the user chose otherwise."""
    import re

    def lang(page: str) -> str:
        found = re.search(r"<html\b[^>]*\blang=\"([^\"]*)\"", page)
        return found.group(1) if found else ""

    client = browser(make_user("county", "140105"))
    for caller, url in ((client, "/"), (client, "/mineview/list/"), (client, "/mineview/show/999999"),
                        (browser(None), "/login/"), (browser(None), "/public/directory")):
        response = caller.get(url)
        assert lang(response.get_data(as_text=True)) == "zh-CN", (url, response.status_code)
    client.get("/lang/en")
    assert lang(client.get("/mineview/list/").get_data(as_text=True)) == "en"
