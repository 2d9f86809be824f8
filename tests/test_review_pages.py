"""Issue 18, point 6: review pages built for reviewers.

One rule decides whether a user may edit or delete a record (``records.change_refusal`` with the
resource's permission: ``ScopedModelView.may_change``): the list's row icons, the record page's
buttons and the edit and delete routes follow it, from the scope rule, the workflow's editable and
deletable states and the resource's own condition, not from the role alone; the list decides
without a query per row. The record page's actions stand above the record and again below it;
the add and back buttons carry words.
"""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import PreDeclaration
from app.services import applications, certification, demozones, predeclarations, records, scoping, selfchecks
from app.services import spotchecks, surveillance, workflow
from app.services.exceptions import AccessDenied, ValidationFailed
from app.services.workflow import WORKFLOWS
from tests.test_list_costs import StatementCounter
from tests.test_spotchecks import plan

YEAR = 2031
LIST = "/predeclarationview/list/"


@pytest.fixture(autouse=True)
def _photo_checklist_not_in_the_way(without_photo_checklist):
    """Submitting a pre-declaration needs its photos (tests/test_photo_checklist.py), not here."""


def _row_icons(page: str, view: str) -> tuple[set[int], set[int]]:
    """The ids whose rows show an edit icon, and those whose rows show a delete icon."""
    edits = {int(pk) for pk in re.findall(rf'href="/{view}/edit/(\d+)', page)}
    deletes = {int(pk) for pk in re.findall(rf'id="btn-delete-/{view}/delete/(\d+)"', page)}
    return edits, deletes


def _page_buttons(page: str, view: str, pk: int) -> tuple[bool, bool]:
    """Whether the record's page offers its edit and its delete button."""
    return (f'class="btn btn-sm btn-primary gm-edit" href="/{view}/edit/{pk}"' in page,
            f'action="/{view}/delete/{pk}" class="gm-delete"' in page)


@pytest.fixture
def pre_declarations(make_mine, make_user):
    """An enterprise's pre-declarations in three states, and the users who look at them."""
    mine = make_mine("140105")
    enterprise = make_user("enterprise", enterprise=mine.enterprise)
    province = make_user("province", "140000")
    draft = predeclarations.create(enterprise, mine, YEAR)
    submitted = predeclarations.create(enterprise, make_mine("140105", enterprise=mine.enterprise), YEAR)
    workflow.transition(submitted, "submit", enterprise)
    rejected = predeclarations.create(enterprise, make_mine("140105", enterprise=mine.enterprise), YEAR)
    workflow.transition(rejected, "submit", enterprise)
    workflow.transition(rejected, "reject", province, "材料不全")
    return dict(enterprise=enterprise, province=province, county=make_user("county", "140105"),
                draft=draft, submitted=submitted, rejected=rejected)


def test_list_page_and_routes_give_the_same_answer(pre_declarations, browser, api):
    people = pre_declarations
    enterprise = browser(people["enterprise"])
    edits, deletes = _row_icons(enterprise.get(LIST).get_data(as_text=True), "predeclarationview")
    draft, submitted, rejected = people["draft"], people["submitted"], people["rejected"]
    assert edits == deletes == {draft.id}
    for record in (draft, submitted, rejected):
        may = record is draft
        assert _page_buttons(enterprise.get(f"/predeclarationview/show/{record.id}").get_data(as_text=True),
                             "predeclarationview", record.id) == (may, may)
        response = enterprise.get(f"/predeclarationview/edit/{record.id}")
        assert response.status_code == (200 if may else 302), record.status
    # The refusal says why, in the user's words: the state.
    response = enterprise.get(f"/predeclarationview/edit/{submitted.id}", follow_redirects=True)
    assert "处于“已提交”状态的记录不能修改。" in response.get_data(as_text=True)
    # Neither a screen nor the API deletes what the page does not offer to delete.
    enterprise.post(f"/predeclarationview/delete/{submitted.id}")
    assert api(people["enterprise"]).delete(f"/api/v1/predeclaration/{rejected.id}").status_code == 422
    db.session.expire_all()
    assert {r.id for r in db.session.scalars(select(PreDeclaration))} == {draft.id, submitted.id, rejected.id}
    # The province reviews: no edit or delete permission, so no icon and no button anywhere.
    province = browser(people["province"])
    assert _row_icons(province.get(LIST).get_data(as_text=True), "predeclarationview") == (set(), set())
    page = province.get(f"/predeclarationview/show/{submitted.id}").get_data(as_text=True)
    assert _page_buttons(page, "predeclarationview", submitted.id) == (False, False)


def test_deleting_from_the_record_page_returns_to_the_list(pre_declarations, browser):
    enterprise = browser(pre_declarations["enterprise"])
    draft = pre_declarations["draft"]
    enterprise.get(LIST)
    enterprise.get(f"/predeclarationview/show/{draft.id}")
    response = enterprise.post(f"/predeclarationview/delete/{draft.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(LIST)
    db.session.expire_all()
    assert db.session.get(PreDeclaration, draft.id) is None


def test_the_list_decides_every_row_without_a_query_per_row(make_mine, make_user, browser):
    mine = make_mine("140105")
    enterprise = make_user("enterprise", enterprise=mine.enterprise)
    records_ = [predeclarations.create(enterprise, mine if n == 0 else make_mine("140105", enterprise=mine.enterprise),
                                       YEAR) for n in range(12)]
    for record in records_[::2]:
        workflow.transition(record, "submit", enterprise)
    client = browser(enterprise)
    client.get(LIST)  # warm-up: the first request loads more

    def cost(size: int) -> tuple[int, str]:
        with StatementCounter() as counter:
            page = client.get(f"{LIST}?psize_PreDeclarationView={size}").get_data(as_text=True)
        return len(counter.statements), page

    small, _page = cost(2)
    full, page = cost(12)
    assert small == full
    edits, deletes = _row_icons(page, "predeclarationview")
    drafts = {record.id for record in records_[1::2]}
    assert edits == deletes == drafts and len(drafts) == 6


def test_the_resource_s_own_condition_counts_too(make_user, browser):
    """A province sees its cities' spot-check campaigns (scope) but only their organiser changes
    one (the campaign's change rule): no icon, no button, no form."""
    province, city = make_user("province", "140000"), make_user("city", "140100")
    own, citys = plan(province), plan(city)
    client = browser(province)
    edits, deletes = _row_icons(client.get("/spotcheckcampaignview/list/").get_data(as_text=True),
                                "spotcheckcampaignview")
    assert edits == deletes == {own.id}
    page = client.get(f"/spotcheckcampaignview/show/{citys.id}").get_data(as_text=True)
    assert _page_buttons(page, "spotcheckcampaignview", citys.id) == (False, False)
    assert client.get(f"/spotcheckcampaignview/edit/{citys.id}").status_code == 302


@pytest.mark.parametrize("wf", [wf for wf in WORKFLOWS.values() if wf.editable is not None or wf.deletable is not None],
                         ids=lambda wf: wf.name)
def test_the_workflow_declares_the_states_in_which_records_change(wf):
    for state in wf.states:
        record = wf.model()
        setattr(record, wf.state_attr, state)
        for action, states in ((scoping.EDIT, wf.editable), (scoping.DELETE, wf.deletable)):
            refusal = records.change_refusal(record, None, action, in_scope=True)
            if states is None or state in states:
                assert refusal is None, (state, action)
            else:
                assert isinstance(refusal, ValidationFailed), (state, action)
                assert str(wf.states[state]) in str(refusal)


def test_the_services_read_the_workflow_s_states():
    """One place: the record rules' states are the workflow's."""
    assert applications.EDITABLE_STATES is WORKFLOWS["application"].editable
    assert applications.DELETABLE_STATES is WORKFLOWS["application"].deletable
    assert certification.EDITABLE_STATES is WORKFLOWS["certification"].editable
    assert certification.DELETABLE_STATES is WORKFLOWS["certification"].deletable
    assert demozones.EDITABLE_STATES is WORKFLOWS["demozone"].editable
    assert selfchecks.EDITABLE_STATES is WORKFLOWS["self_check"].editable
    assert selfchecks.PROBLEM_LEAD_EDITABLE_STATES is WORKFLOWS["problem_lead"].editable
    assert spotchecks.WORKFLOWS is surveillance.WORKFLOWS is WORKFLOWS


def test_change_refusal_checks_the_scope_unless_the_record_came_through_it(pre_declarations, make_user):
    draft = pre_declarations["draft"]
    stranger = make_user("county", "140121")
    assert isinstance(records.change_refusal(draft, stranger, scoping.EDIT), AccessDenied)
    assert records.change_refusal(draft, pre_declarations["enterprise"], scoping.EDIT) is None


def test_the_actions_stand_above_the_record_and_again_below_it(pre_declarations, browser):
    submitted = pre_declarations["submitted"]
    page = browser(pre_declarations["province"]).get(f"/predeclarationview/show/{submitted.id}").get_data(as_text=True)
    approve = [m.start() for m in re.finditer(r'name="action" value="approve"', page)]
    record = page.index('class="panel panel-primary show"')
    assert len(approve) == 2 and approve[0] < record < approve[1]
    # The bottom bar comes after everything the page adds (the photo checklist here).
    assert approve[1] > page.index('id="photo-checklist"')
    assert page.count('class="btn btn-sm btn-default gm-back"') == 2


def test_add_and_back_buttons_carry_words(pre_declarations, browser):
    page = browser(pre_declarations["enterprise"]).get(LIST).get_data(as_text=True)
    assert re.search(r'class="btn btn-sm btn-primary gm-add">\s*<i class="fa fa-plus"></i> 新增\s*</a>', page)
    assert re.search(r'class="btn btn-sm btn-default gm-back">\s*<i class="fa fa-arrow-left"></i> 返回\s*</a>', page)
