"""The pre-declaration photo checklist (SPEC C2, C3): items by mining method, submission refused
until complete (naming what is missing), photos fixed once submitted."""
from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import Attachment
from app.services import photo_checklist, predeclarations, uploads, workflow
from app.services.exceptions import DomainError, TransitionRefused
from tests.conftest import fill_checklist, sample_jpeg


JPEG = sample_jpeg()


@pytest.fixture
def predeclaration(make_mine, make_user):
    def factory(method: str):
        mine = make_mine("140105", mining_method=method)
        user = make_user("enterprise", enterprise=mine.enterprise)
        return predeclarations.create(user, mine, 2026), user

    return factory


def test_the_checklist_is_the_figure():
    items = photo_checklist.load()
    assert [i.code for i in items] == ["1", "2", "3", "4", "5.1", "5.2", "6", "7", "8"]
    assert [(i.min_count, i.max_count) for i in items] == [(1, 1), (1, 2), (3, 5), (5, 8), (2, 3), (2, 3),
                                                           (3, 4), (3, 4), (3, 4)]
    assert items[0].name == "国家企业信用信息公示系统未受行政处罚查询记录"
    assert [i.requirement for i in items][-2:] == ["open_pit", "underground"]


@pytest.mark.parametrize("method, expected", [
    ("open_pit", {"7"}), ("underground", {"8"}), ("combined", {"7", "8"}),
])
def test_items_by_mining_method(predeclaration, method, expected):
    record, _user = predeclaration(method)
    codes = {item.code for item in photo_checklist.items_for(record)}
    assert codes & {"7", "8"} == expected
    assert {"1", "2", "3", "4", "5.1", "5.2", "6"} <= codes


def test_submit_refused_while_incomplete_then_allowed(predeclaration, browser):
    record, user = predeclaration("combined")
    with pytest.raises(TransitionRefused) as info:
        workflow.transition(record, "submit", user)
    message = str(info.value)
    for item in photo_checklist.items_for(record):
        assert f"{item.code} {item.name}" in message
    assert record.status == "draft"

    fill_checklist(record, user, skip={"4": 2, "8": 1})
    with pytest.raises(TransitionRefused) as info:
        workflow.transition(record, "submit", user)
    message = str(info.value)
    assert "4 生活区照片" in message and "8 地下开采矿山" in message and "3 办公区照片" not in message
    entries = {entry.item.code: entry for entry in photo_checklist.status(record)}
    assert (entries["4"].count, entries["4"].missing, entries["4"].complete) == (3, 2, False)
    assert entries["3"].complete and entries["8"].missing == 1

    # The screen's button says the same.
    client = browser(user)
    response = client.post(f"/predeclarationview/transition/{record.id}", data={"action": "submit"},
                           follow_redirects=True)
    assert "4 生活区照片" in response.get_data(as_text=True)

    for code, n in (("4", 2), ("8", 1)):
        for k in range(n):
            uploads.attach("PreDeclaration", record.id, code,
                           FileStorage(stream=io.BytesIO(JPEG), filename=f"extra{code}{k}.jpg"), user)
    workflow.transition(record, "submit", user)
    assert record.status == "submitted"


def test_uploads_refused_once_submitted(app, predeclaration, browser):
    record, user = predeclaration("open_pit")
    fill_checklist(record, user)
    workflow.transition(record, "submit", user)
    rows = db.session.query(Attachment).count()
    with pytest.raises(DomainError):
        uploads.attach("PreDeclaration", record.id, "3",
                       FileStorage(stream=io.BytesIO(JPEG), filename="late.jpg"), user)
    assert db.session.query(Attachment).count() == rows
    # The page shows the checklist without upload forms.
    page = browser(user).get(f"/predeclarationview/show/{record.id}").get_data(as_text=True)
    assert "photo-checklist" in page and 'type="file"' not in page


def test_the_detail_page_shows_the_checklist_and_forms_while_draft(predeclaration, browser, make_user):
    record, user = predeclaration("underground")
    page = browser(user).get(f"/predeclarationview/show/{record.id}").get_data(as_text=True)
    assert "8 地下开采矿山的提升、运输、排水系统或设施" in page
    assert "露天开采矿山的爆破" not in page
    assert page.count('type="file"') == len(photo_checklist.items_for(record))
    # Staff in scope see the checklist but no upload form.
    staff_page = browser(make_user("county", region="140105")).get(
        f"/predeclarationview/show/{record.id}").get_data(as_text=True)
    assert "photo-checklist" in staff_page and 'type="file"' not in staff_page
