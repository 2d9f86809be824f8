"""The screen audit (issue 18, point 1): every page a demo user's menu offers, in Chinese and with
names, never codes or program internals.

How it walks: the demo data is seeded once (app.services.demo, as ``gm seed-demo`` does); then, for
one demo user of every role, the pages are those of the user's menu (``appbuilder.menu`` filtered
by his permissions, as FAB renders the navigation bar) and of the links of the navigation bar
(profile, messages); for every list page among them, the show, edit and add pages of its first
row, found among the links the list renders (read through ``app.url_map``: the link whose
endpoint is the list view's ``show``, ``edit`` or ``add``). Before signing in: the login page and
the public pages its navigation bar links to. Nothing is hand-listed, so a new menu item, list or
form is audited as soon as it exists. The walk uses Flask's test client (no
browser: the whole audit stays well under a minute per database).

What it reads: the *visible text* of each page (see ``VisibleText``): text nodes outside
<script>, <style>, <noscript> and <template>, the page's <title>, the attributes a user reads
(title, placeholder, alt, data-placeholder, the value of buttons and of text fields: a form
field that holds a bare region code shows it), and the strings FAB's search widget renders from
its JSON (filter names, column labels, the search form's fields). Hidden parts (modal dialogs,
collapsed panels) count: they are shown on a click. Other attribute values (hrefs, option
values, ids) and scripts are not read: nobody sees them.

Each rule is one test (``test_screens_follow_the_rule[<rule>]``), and its failure lists every
offending page (role, URL) with the strings that broke the rule.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Callable, Iterator, Optional
from urllib.parse import urlsplit

import pytest
from flask import g
from flask_appbuilder import ModelView
from flask_login import login_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.services import demo
from app.services.roles import ROLES
from tests.conftest import Browser

# ---------------------------------------------------------------------------------------------
# Visible text
# ---------------------------------------------------------------------------------------------
_INVISIBLE_ELEMENTS = {"script", "style", "noscript", "template"}
# Attributes whose value the user reads: tooltips, empty-field hints, image descriptions.
_READ_ATTRIBUTES = ("title", "placeholder", "alt", "data-placeholder")
_BUTTON_INPUTS = {"submit", "button", "reset"}
# Inputs whose value stands in the field for the user to read (not hidden, password, checkbox …).
_TEXT_INPUTS = {"", "text", "number", "email", "date", "datetime-local", "search", "tel", "url"}


@dataclass
class Table:
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


class VisibleText(HTMLParser):
    """The strings a user can read on a page, in order, and its tables and select boxes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.strings: list[str] = []
        self.tables: list[Table] = []
        self.selects: list[list[str]] = []
        self.scripts: list[str] = []
        self._hidden_depth = 0
        self._in_script = False
        self._tables: list[Table] = []
        self._cell: Optional[list[str]] = None
        self._cell_is_header = False
        self._row: Optional[list[str]] = None
        self._row_is_header = False
        self._option: Optional[list[str]] = None

    # -- elements ----------------------------------------------------------------------------
    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in _INVISIBLE_ELEMENTS:
            self._hidden_depth += 1
            self._in_script = tag == "script"
            return
        for name in _READ_ATTRIBUTES:
            if attributes.get(name):
                self._add(attributes[name])
        if tag == "input" and attributes.get("value"):
            kind = (attributes.get("type") or "").lower()
            if kind in _BUTTON_INPUTS or kind in _TEXT_INPUTS:
                self._add(attributes["value"])
        if tag == "table":
            self._tables.append(Table())
        elif tag == "tr" and self._tables:
            self._row, self._row_is_header = [], False
        elif tag in ("td", "th") and self._row is not None:
            self._cell, self._cell_is_header = [], tag == "th"
        elif tag == "select":
            self.selects.append([])
        elif tag == "option":
            self._option = []

    def handle_endtag(self, tag):
        if tag in _INVISIBLE_ELEMENTS:
            self._hidden_depth = max(0, self._hidden_depth - 1)
            self._in_script = False
            return
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join(self._cell).strip())
            self._row_is_header = self._row_is_header or self._cell_is_header
            self._cell = None
        elif tag == "tr" and self._row is not None and self._tables:
            table = self._tables[-1]
            if self._row_is_header and not table.header and not table.rows:
                table.header = self._row
            elif self._row:
                table.rows.append(self._row)
            self._row = None
        elif tag == "table" and self._tables:
            self.tables.append(self._tables.pop())
        elif tag == "option" and self._option is not None and self.selects:
            self.selects[-1].append(" ".join(self._option).strip())
            self._option = None

    def handle_data(self, data):
        if self._hidden_depth:
            if self._in_script:
                self.scripts.append(data)
            return
        text = " ".join(data.split())
        if not text:
            return
        self._add(text)
        if self._cell is not None:
            self._cell.append(text)
        if self._option is not None:
            self._option.append(text)

    def _add(self, text: str) -> None:
        text = " ".join(str(text).split())
        if text:
            self.strings.append(text)


_SEARCH_WIDGET = re.compile(r"new AdminFilters\(\s*'[^']*',", re.S)


def _search_widget_strings(script: str) -> Iterator[str]:
    """FAB's search widget builds its filter rows in the browser from four JSON arguments: the
    column labels, the fields' HTML, the filter names and the active filters."""
    match = _SEARCH_WIDGET.search(script)
    if match is None:
        return
    decoder, position = json.JSONDecoder(), match.end()
    arguments = []
    for _argument in range(4):
        while script[position] in " \n\t,":
            position += 1
        value, position = decoder.raw_decode(script, position)
        arguments.append(value)
    labels, fields, filters, _active = arguments
    yield from (str(label) for label in labels.values())
    for html in fields.values():
        yield from visible(html).strings
    for choices in filters.values():
        for choice in choices:
            yield str(choice[1] if isinstance(choice, (list, tuple)) else choice)


def visible(html: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    for script in parser.scripts:
        parser.strings.extend(_search_widget_strings(script))
    return parser


# ---------------------------------------------------------------------------------------------
# The walk
# ---------------------------------------------------------------------------------------------
@dataclass
class Page:
    role: str
    username: str
    url: str
    kind: str  # home, menu, navbar, show, edit, add
    status: int
    html: str
    text: VisibleText
    endpoint: str = ""

    def where(self) -> str:
        return f"{self.role} ({self.username}) {self.kind} {self.url}"


@dataclass
class Walk:
    pages: list[Page]
    region_names: dict[str, tuple[str, ...]]  # code -> the names it is known by
    usernames: set[str]
    class_names: set[str]


ANONYMOUS = "anonymous"


def audited_users() -> dict[str, str]:
    """role -> the first demo user of that role (every role has one)."""
    users: dict[str, str] = {}
    for demo_user in demo.DEMO_USERS:
        users.setdefault(demo_user.role, demo_user.username)
    return users


def _menu_urls(app, user) -> list[str]:
    """The URLs of the user's menu, as FAB renders it in the navigation bar."""
    with app.test_request_context("/"):
        login_user(user)
        g.user = user
        urls: list[str] = []

        def walk(items):
            for item in items:
                if isinstance(item, dict):
                    if item.get("childs"):
                        walk(item["childs"])
                    elif item.get("url"):
                        urls.append(item["url"])

        walk(app.appbuilder.menu.get_data())
    return urls


_NAVBAR = re.compile(r'<div class="navbar-collapse collapse">(.*?)</header>', re.S)
_HREF = re.compile(r'href="([^"#][^"]*)"')


def _navbar_urls(html: str) -> list[str]:
    """The links of the navigation bar (its right side: profile, messages; before signing in, the
    public pages and the login), besides the language switch."""
    match = _NAVBAR.search(html)
    assert match is not None, "no navigation bar on the home page"
    return [url for url in _HREF.findall(match.group(1)) if not url.startswith("/lang/")]


def _endpoint(app, url: str) -> tuple[str, dict]:
    adapter = app.url_map.bind("localhost")
    parts = urlsplit(url)
    try:
        endpoint, arguments = adapter.match(parts.path, method="GET")
    except HTTPException:
        return "", {}
    return endpoint, arguments


def _model_views(app) -> dict[str, ModelView]:
    return {view.endpoint: view for view in app.appbuilder.baseviews if isinstance(view, ModelView)}


def _first_row_links(app, html: str, view_endpoint: str) -> dict[str, str]:
    """kind -> URL of the list's first row (show, edit) and its add page, from the rendered links."""
    links: dict[str, str] = {}
    for url in _HREF.findall(html):
        url = url.replace("&amp;", "&")
        endpoint, _arguments = _endpoint(app, url)
        view, _, method = endpoint.rpartition(".")
        if view == view_endpoint and method in ("show", "edit", "add") and method not in links:
            links[method] = url
    return links


def _get(app, client: Browser, url: str):
    response = client.get(url, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def _walk(app) -> Walk:
    from app.models import GreenMineUser, Region

    demo.seed_demo()
    db.session.commit()
    views = _model_views(app)
    pages: list[Page] = []
    # Before signing in, the login page and the public pages its navigation bar offers.
    for role, username in [*audited_users().items(), (ANONYMOUS, "")]:
        user = db.session.scalar(select(GreenMineUser).where(GreenMineUser.username == username)) if username else None
        client = Browser(app, user)
        seen: set[str] = set()

        def visit(url: str, kind: str) -> Optional[Page]:
            if url in seen:
                return None
            seen.add(url)
            status, html = _get(app, client, url)
            page = Page(role, username, url, kind, status, html, visible(html), _endpoint(app, url)[0])
            pages.append(page)
            return page

        home = visit("/", "home")
        assert home is not None
        urls = [(url, "menu") for url in _menu_urls(app, user)] if user is not None else []
        urls += [(url, "navbar") for url in _navbar_urls(home.html)]
        for url, kind in urls:
            page = visit(url, kind)
            if page is None or page.status != 200:
                continue
            view_endpoint, _, method = page.endpoint.rpartition(".")
            if method != "list" or view_endpoint not in views:
                continue
            for link_kind, link in _first_row_links(app, page.html, view_endpoint).items():
                visit(link, link_kind)
    region_names = {region.code: (region.name, region.display_name, region.full_name)
                    for region in db.session.scalars(select(Region))}
    usernames = set(db.session.scalars(select(GreenMineUser.username)))
    class_names = {mapper.class_.__name__ for mapper in db.Model.registry.mappers}
    class_names |= {type(view).__name__ for view in app.appbuilder.baseviews}
    return Walk(pages, region_names, usernames, class_names)


@pytest.fixture(scope="module")
def walk(app) -> Walk:
    with app.app_context():
        try:
            return _walk(app)
        finally:
            db.session.rollback()
            db.session.remove()


# ---------------------------------------------------------------------------------------------
# The rules: each takes a page (and what the walk knows) and gives the offending strings
# ---------------------------------------------------------------------------------------------
# English words a Chinese page may show, and why (case-sensitive):
ALLOWED_WORDS = {
    # units written in Latin letters: file sizes; tonnes, metres, square kilometres, hectares
    "B", "KB", "MB", "GB", "t", "m", "km", "ha",
    # file formats named for the user (what to upload, what a download is)
    "PDF", "pdf", "Excel", "xlsx", "JPEG", "PNG", "MP4",
    # the standards' names: GB/T 2260, and the geology industry's DZ/T 0315 that inferred
    # indicator rows cite as their source
    "T", "DZ",
    # the language menu names each language in itself, so that its reader finds it
    "English",
}
# Certification grades are written AAAAA (five-A) in the rules; codes like CNCA-R-2020-001 and
# anything with a digit (licence numbers, credit codes, certificate numbers, file names) are
# identifiers, and so are e-mail addresses, URLs and the accounts' login names.
_GRADE = re.compile(r"^A{1,5}$")
_CODE = re.compile(r"^[A-Z]+(?:-[A-Z0-9…]*)+$")
_RUN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_@.:/+'’\-]*")
_WORD = re.compile(r"[A-Za-z]+")
# Python's and JavaScript's empty and boolean values, and Python's default object repr.
_RAW_VALUES = re.compile(r"(?<![A-Za-z])(None|True|False|null|undefined|NaN)(?![A-Za-z])|object at 0x")
# A qualified class name (app.models.certification.CertificationScore).
_QUALIFIED_NAME = re.compile(r"\b[a-z_]+(?:\.[a-z_]+)+\.[A-Z][A-Za-z]+\b")
# A six-digit number standing alone: what a GB/T 2260 region code looks like.
_SIX_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d{6}(?![0-9A-Za-z])")
# How near (in strings of the page) a region code must be to its region's name: the same table
# row or the same line of a form.
_REGION_NAME_DISTANCE = 3
# Column headings that announce a record's database ID (in English or Chinese), and one that
# names the records (a name column beside an ID column tells the rows apart).
_ID_HEADING = re.compile(r"(?:^|[^A-Za-z])(?:ID|Id|id)$|^#$|^记录$|^记录编号$|^编号$")
_NAME_HEADING = re.compile(r"名称$")
_INTEGER = re.compile(r"^\d+$")


def _context(string: str, start: int, end: int, width: int = 24) -> str:
    """'word' in …the text around it…"""
    before = ("…" if start > width else "") + string[max(0, start - width):start]
    after = string[end:end + width] + ("…" if end + width < len(string) else "")
    return f"{string[start:end]!r} in {before}{string[start:end]}{after}"


def rule_server_error(page: Page, walk: Walk) -> Iterator[str]:
    if page.status >= 500:
        yield f"HTTP {page.status}"


def rule_raw_value(page: Page, walk: Walk) -> Iterator[str]:
    """None, True, False (and JavaScript's null, undefined, NaN; Python's object repr)."""
    for string in page.text.strings:
        for match in _RAW_VALUES.finditer(string):
            yield _context(string, match.start(), match.end())


def rule_class_name(page: Page, walk: Walk) -> Iterator[str]:
    """A model or view class name (Application, SpotCheck, MineView …) or a module path."""
    for string in page.text.strings:
        for match in _QUALIFIED_NAME.finditer(string):
            yield _context(string, match.start(), match.end())
        for match in _WORD.finditer(string):
            if match.group() in walk.class_names and not _QUALIFIED_NAME.search(string):
                yield _context(string, match.start(), match.end())


def rule_role_code(page: Page, walk: Walk) -> Iterator[str]:
    """A role by its code (province, [admin]) instead of its name (省级, 信息中心管理员). A code
    that is also a login name (admin, national) counts only in FAB's brackets."""
    for string in page.text.strings:
        for match in _WORD.finditer(string):
            word = match.group()
            if word not in ROLES:
                continue
            bracketed = string[match.start() - 1:match.start()] == "[" and string[match.end():match.end() + 1] == "]"
            if bracketed or word not in walk.usernames:
                yield _context(string, match.start(), match.end())


def _identifier(run: str, walk: Walk) -> bool:
    return (any(c.isdigit() for c in run) or "@" in run or "://" in run or run in walk.usernames
            or bool(_GRADE.match(run)) or bool(_CODE.match(run)))


def rule_english(page: Page, walk: Walk) -> Iterator[str]:
    """An English word outside ALLOWED_WORDS (identifiers aside; what the rules above report, a
    raw value, a class or a role code, is left to them)."""
    reported_elsewhere = set(ROLES) | walk.class_names
    for string in page.text.strings:
        # Blank out what the raw-value and class-name rules report (keeping the positions).
        readable = _QUALIFIED_NAME.sub(lambda m: " " * len(m.group()), _RAW_VALUES.sub(
            lambda m: " " * len(m.group()), string))
        for run in _RUN.finditer(readable):
            if _identifier(run.group(), walk):
                continue
            for word in _WORD.finditer(run.group()):
                if word.group() in ALLOWED_WORDS or word.group() in reported_elsewhere:
                    continue
                start = run.start() + word.start()
                yield _context(string, start, start + len(word.group()))


def rule_bare_region_code(page: Page, walk: Walk) -> Iterator[str]:
    """A GB/T 2260 code without its region's name beside it (same string or a neighbour)."""
    strings = page.text.strings
    for index, string in enumerate(strings):
        for match in _SIX_DIGITS.finditer(string):
            names = walk.region_names.get(match.group())
            if names is None:
                continue
            near = strings[max(0, index - _REGION_NAME_DISTANCE):index + _REGION_NAME_DISTANCE + 1]
            if not any(n in neighbour for n in names for neighbour in near):
                yield _context(string, match.start(), match.end()) + f" (the code of {names[-1]})"


def rule_records_told_apart_by_id_only(page: Page, walk: Walk) -> Iterator[str]:
    """A record known by its database ID: a column (or a show page's field) of bare numbers
    headed ID / 记录 / 编号, in a table without a name column beside it; rows of a table, or
    choices of a select box, that read the same, so that only an ID could tell them apart."""
    for table in page.text.tables:
        width = len(table.header)
        rows = [row for row in table.rows if len(row) == width] if width else []
        named = any(_NAME_HEADING.search(heading) for heading in table.header)
        for column, heading in enumerate(table.header):
            values = [row[column] for row in rows if row[column]]
            if not named and _ID_HEADING.search(heading) and values and all(_INTEGER.match(v) for v in values):
                yield f"column {heading!r} shows IDs ({', '.join(values[:3])} …)"
        # Show pages: a field (row heading) whose value is a bare number and whose label says ID.
        fields = [row for row in table.rows if len(row) == 2]
        named_fields = any(_NAME_HEADING.search(label) for label, _value in fields)
        for label, value in fields:
            if not named_fields and _ID_HEADING.search(label) and _INTEGER.match(value):
                yield f"field {label!r} shows an ID ({value})"
        if len(rows) >= 2:
            # Left out of the comparison: the columns that do hold IDs (a column headed 记录 that
            # names its records tells them apart).
            id_columns = {c for c, h in enumerate(table.header) if _ID_HEADING.search(h)
                          and all(_INTEGER.match(row[c]) for row in rows if row[c])}
            seen: dict[tuple, int] = {}
            for row in rows:
                key = tuple(v for c, v in enumerate(row) if c not in id_columns)
                if any(key):
                    seen[key] = seen.get(key, 0) + 1
            for key, count in seen.items():
                if count > 1:
                    yield f"{count} rows read the same: {' | '.join(v for v in key if v)[:120]}"
    for options in page.text.selects:
        labels = [o for o in options if o]
        repeated = sorted({o for o in labels if labels.count(o) > 1})
        for label in repeated[:3]:
            yield f"select box offers {labels.count(label)} choices named {label!r}"


_HTML_TAG = re.compile(r"<html\b[^>]*>", re.I)
_LANG = re.compile(r"""\blang=["']([^"']*)["']""", re.I)


def rule_page_language(page: Page, walk: Walk) -> Iterator[str]:
    """A page says it is in Chinese, as written in mainland China: <html lang="zh-CN"> (browsers,
    screen readers and fonts go by it; a page without it is read as the browser's language)."""
    tag = _HTML_TAG.search(page.html)
    if page.status >= 300 or tag is None:
        return  # a redirect or a fragment, not a page
    lang = _LANG.search(tag.group())
    if lang is None or lang.group(1) != "zh-CN":
        yield f"the page's language: {tag.group()}"


# The heading of the first column of a table of fields (the audit trail's changed fields).
_FIELD_HEADING = "字段"


def rule_one_label_one_field(page: Page, walk: Walk) -> Iterator[str]:
    """Two fields of one record under the same label (所属记录: 通知公告, then 所属记录: 3): the
    reader cannot tell which is which, and one of them is usually an ID. Read in a record page's
    table of fields (rows of label and value) and in a table of changed fields (字段, 原值, 新值)."""
    for table in page.text.tables:
        if table.header and table.header[0] == _FIELD_HEADING:
            labels = [row[0] for row in table.rows if row]
        else:
            # (A show page's first row, <th>label</th><td>value</td>, is read as the header.)
            rows = ([table.header] if len(table.header) == 2 else []) + table.rows
            labels = [row[0] for row in rows if len(row) == 2]
        labels = [label for label in labels if label]
        for label in sorted({label for label in labels if labels.count(label) > 1}):
            yield f"{labels.count(label)} fields labelled {label!r}"


RULES: dict[str, Callable[[Page, Walk], Iterator[str]]] = {
    "no server error": rule_server_error,
    "no None/True/False or object repr": rule_raw_value,
    "no model or class name": rule_class_name,
    "roles by their names, not codes": rule_role_code,
    "no English outside the allow-list": rule_english,
    "no region code without its name": rule_bare_region_code,
    "records told apart by more than an ID": rule_records_told_apart_by_id_only,
    "the page says it is zh-CN": rule_page_language,
    "one label, one field": rule_one_label_one_field,
}


def offences(rule: Callable[[Page, Walk], Iterator[str]], walk: Walk) -> dict[str, list[str]]:
    """page -> its offending strings (each once)."""
    found: dict[str, list[str]] = {}
    for page in walk.pages:
        strings = list(dict.fromkeys(rule(page, walk)))
        if strings:
            found[page.where()] = strings
    return found


def report(rule_name: str, found: dict[str, list[str]], limit: int = 15) -> str:
    """Pages with the same offending strings (one defect on every page, say) are listed together."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for where, strings in found.items():
        groups.setdefault(tuple(strings), []).append(where)
    lines = [f"Rule '{rule_name}' broken on {len(found)} pages:"]
    for strings, pages in sorted(groups.items(), key=lambda group: -len(group[1])):
        more = f" … and {len(strings) - limit} more" if len(strings) > limit else ""
        lines.append("  " + "; ".join(strings[:limit]) + more)
        lines.append(f"    on {len(pages)} page(s): " + ", ".join(pages))
    return "\n".join(lines)


@pytest.mark.parametrize("rule_name", list(RULES))
def test_screens_follow_the_rule(rule_name, walk):
    found = offences(RULES[rule_name], walk)
    if found:
        pytest.fail(report(rule_name, found), pytrace=False)


def test_the_walk_reaches_every_role_and_the_records_of_its_lists(walk):
    """The audit can only fail where it looks: every role is walked, through its menu and into
    the records of its lists (show and edit pages)."""
    pages_of = {role: [page for page in walk.pages if page.role == role] for role in ROLES}
    for role, pages in pages_of.items():
        kinds = {page.kind for page in pages}
        assert {"menu", "show"} <= kinds, (role, sorted(kinds))
    assert {page.kind for page in walk.pages} >= {"home", "menu", "navbar", "show", "edit", "add"}
    public = {page.endpoint for page in walk.pages if page.role == ANONYMOUS}
    assert {"AuthDBView.login", "PublicView.directory", "PublicView.verify"} <= public, public
    shown_views = {page.endpoint.rpartition(".")[0] for page in walk.pages if page.kind == "show"}
    assert len(shown_views) >= 25, sorted(shown_views)
    # The admin's screens of accounts and roles are among them.
    assert {"GreenMineUserView", "RoleModelView"} <= shown_views


# ---------------------------------------------------------------------------------------------
# The rules themselves, on small pages: each fires on its defect and keeps quiet on the right way
# ---------------------------------------------------------------------------------------------
def _page(html: str) -> Page:
    return Page("county", "xiaodian", "/sample", "menu", 200, html, visible(html))


_SAMPLE_WALK = Walk(pages=[], region_names={"140105": ("小店区", "小店区", "山西省太原市小店区")},
                    usernames={"xiaodian", "admin"}, class_names={"Application", "SpotCheck", "MineView"})
_TABLE = "<table><tr><th></th><th>{}</th><th>状态</th></tr>{}</table>"
RULE_SAMPLES = [
    # (rule, a page that breaks it, the same page done right)
    ("no None/True/False or object repr", "<td>None</td><td>True</td>", "<td></td><td>是</td>"),
    ("no None/True/False or object repr", "<p>&lt;app.models.Mine object at 0x7f00&gt;</p>", "<p>示范矿</p>"),
    ("no model or class name", "<td>SpotCheck</td>", "<td>抽查核查</td>"),
    ("no model or class name", "<td>app.models.application.Application</td>", "<td>绿色矿山申请</td>"),
    ("roles by their names, not codes", "<td>[admin]</td><td>province</td>", "<td>admin</td><td>省级</td>"),
    ("no English outside the allow-list", '<button>Cancel</button><th title="Login Count">次数</th>',
     "<button>取消</button><td>C1400002021061000000001</td><td>admin</td><td>10 MB 的 PDF</td>"),
    ("no English outside the allow-list", "<div class='modal'><a>OK</a></div>", "<div class='modal'><a>确定</a></div>"),
    ("no English outside the allow-list", '<input type="submit" value="Save">', '<input type="submit" value="保存">'),
    ("no English outside the allow-list",
     "<script>new AdminFilters('#f', {\"name\": \"Name\"}, {}, {\"name\": [[0, \"Starts with\"]]}, []);</script>",
     "<script>new AdminFilters('#f', {\"name\": \"名称\"}, {}, {\"name\": [[0, \"开头为\"]]}, []);</script>"),
    ("no region code without its name", "<td>140105</td><td>示范矿</td>", "<td>140105 山西省太原市小店区</td>"),
    ("no region code without its name", '<input name="region_code" value="140105">',
     '<input name="region_code" value="140105"> <span>小店区</span>'),
    ("records told apart by more than an ID",
     _TABLE.format("ID", "<tr><td></td><td>1</td><td>通过</td></tr><tr><td></td><td>2</td><td>通过</td></tr>"),
     _TABLE.format("矿山", "<tr><td></td><td>一号矿</td><td>通过</td></tr><tr><td></td><td>二号矿</td><td>通过</td></tr>")),
    ("the page says it is zh-CN", "<!DOCTYPE html><html><body>矿山</body></html>",
     '<!DOCTYPE html><html lang="zh-CN"><body>矿山</body></html>'),
    ("the page says it is zh-CN", '<html lang="zh"><body>矿山</body></html>', '<html lang="zh-CN"><body>矿山</body></html>'),
    ("records told apart by more than an ID", "<select><option>申请</option><option>申请</option></select>",
     "<select><option>一号矿的申请</option><option>二号矿的申请</option></select>"),
    ("one label, one field",
     "<table><tr><th>字段</th><th>原值</th><th>新值</th></tr><tr><td>所属记录</td><td></td><td>通知公告</td></tr>"
     "<tr><td>所属记录</td><td></td><td>3</td></tr></table>",
     "<table><tr><th>字段</th><th>原值</th><th>新值</th></tr><tr><td>所属记录类型</td><td></td><td>通知公告</td></tr>"
     "<tr><td>所属记录</td><td></td><td>关于做好遴选工作的通知</td></tr></table>"),
    ("one label, one field", "<table><tr><th>矿山</th><td>一号矿</td></tr><tr><th>矿山</th><td>二号矿</td></tr></table>",
     "<table><tr><th>矿山</th><td>一号矿</td></tr><tr><th>采矿权人</th><td>示范矿业</td></tr></table>"),
]


@pytest.mark.parametrize("rule_name,broken,right", RULE_SAMPLES)
def test_each_rule_finds_its_defect_and_only_that(rule_name, broken, right):
    rule = RULES[rule_name]
    assert list(rule(_page(broken), _SAMPLE_WALK)), "the rule missed its defect"
    assert list(rule(_page(right), _SAMPLE_WALK)) == [], "the rule fired on a page done right"


def test_a_server_error_is_a_finding():
    assert list(rule_server_error(Page("admin", "admin", "/x", "menu", 500, "", visible("")), _SAMPLE_WALK))
    assert not list(rule_server_error(_page("<p>好</p>"), _SAMPLE_WALK))


def test_the_failure_lists_each_page_and_string():
    broken = [Page("county", "xiaodian", f"/page{n}", "menu", 200, "<td>None</td>", visible("<td>None</td>"))
              for n in range(2)]
    found = offences(rule_raw_value, Walk(broken, {}, set(), set()))
    message = report("no None", found)
    assert "/page0" in message and "/page1" in message and "'None'" in message
