"""Third-party agencies (SPEC E3): the registry, declared conflicts, disqualification, the
recorded random draw (replayable), the agency's scope, scores, files and submission."""
from __future__ import annotations

import hashlib
import io
import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import Agency, AgencyAssignment, AgencyConflict, Application
from app.services import agencies, evaluation, uploads, workflow
from app.services.exceptions import AccessDenied, TransitionRefused, ValidationFailed
from tests.conftest import sample_jpeg
from tests.test_applications import people, submitted  # noqa: F401  (fixture and helper)
from tests.test_evaluation import PDF, accepted, attach_pdf, full_scores

VALID_USCC = "91140105MA0K8PXQ5A"  # check character recomputed below


@pytest.fixture(autouse=True)
def _photo_checklist_not_in_the_way(without_photo_checklist):
    """Pre-declarations are only a way in here."""


def self_evaluated(people):  # noqa: F811
    application = accepted(people)
    evaluation.save_scores(application, people["enterprise"], "self", full_scores())
    attach_pdf("SelfEvaluation", application.id, "report", people["enterprise"])
    workflow.transition(application, "submit_self_evaluation", people["enterprise"])
    assert application.status == "self_evaluated"
    return application


def draw(people, application):  # noqa: F811
    workflow.transition(application, "assign_agency", people["province"])
    db.session.expire_all()
    return db.session.get(Application, application.id).assignment


def independent_pick(seed: str, ids: list[int]) -> int:
    """The documented algorithm, written out again from the module's docstring."""
    digest = hashlib.sha256(f"{seed}:{','.join(str(i) for i in ids)}".encode("utf-8")).hexdigest()
    return ids[int(digest, 16) % len(ids)]


# ---------------------------------------------------------------------------
# The draw
# ---------------------------------------------------------------------------
def test_the_draw_is_recorded_and_replays_to_the_same_agency(people, make_agency):  # noqa: F811
    pool = [make_agency() for _ in range(5)]
    application = self_evaluated(people)
    assignment = draw(people, application)
    assert assignment is not None and application.status == "under_assessment"
    assert assignment.algorithm == agencies.ALGORITHM and len(assignment.seed) == 32
    assert assignment.candidate_ids == sorted(a.id for a in pool)
    assert assignment.agency_id in assignment.candidate_ids
    # Anyone can replay it from the record alone: the service, and the formula written out again.
    assert agencies.replay(assignment) == assignment.agency_id
    assert independent_pick(assignment.seed, list(assignment.candidate_ids)) == assignment.agency_id
    assert agencies.verify(assignment)
    # A tampered record does not verify.
    assignment.seed = "0" * 32 if assignment.seed != "0" * 32 else "1" * 32
    tampered = independent_pick(assignment.seed, list(assignment.candidate_ids))
    assert agencies.verify(assignment) == (tampered == assignment.agency_id)
    db.session.rollback()
    # The draw is a step of the log.
    assert [step.action for step in workflow.history(application)][-1] == "assign_agency"


def test_the_pick_is_deterministic_and_uses_every_candidate():
    ids = [3, 7, 11, 19]
    assert agencies.pick("abc", ids) == agencies.pick("abc", ids) == independent_pick("abc", ids)
    picked = {agencies.pick(f"{n:032x}", ids) for n in range(200)}
    assert picked == set(ids)
    with pytest.raises(ValueError):
        agencies.pick("abc", [])


def test_conflicted_and_disqualified_agencies_are_never_candidates(people, make_agency, make_user):  # noqa: F811
    fair, conflicted, fraud = make_agency("公正评估"), make_agency("有利害关系评估"), make_agency("造假评估")
    db.session.add(AgencyConflict(agency_id=conflicted.id, enterprise_id=people["mine"].enterprise_id,
                                  reason="同一集团"))
    db.session.commit()
    agencies.disqualify(fraud, people["province"], "评估报告造假")
    application = self_evaluated(people)
    candidates, excluded = agencies.candidates_for(application)
    assert candidates == [fair.id]
    assert excluded == {str(conflicted.id): "conflict", str(fraud.id): "disqualified"}
    # Whatever the seed, only the fair one can come out.
    assert {agencies.pick(f"{n:032x}", candidates) for n in range(50)} == {fair.id}
    assignment = draw(people, application)
    assert assignment.agency_id == fair.id and assignment.candidate_ids == [fair.id]
    assert assignment.excluded == {str(conflicted.id): "conflict", str(fraud.id): "disqualified"}


def test_no_candidate_refuses_the_draw_with_a_clear_message(people, make_agency):  # noqa: F811
    only = make_agency()
    db.session.add(AgencyConflict(agency_id=only.id, enterprise_id=people["mine"].enterprise_id))
    db.session.commit()
    application = self_evaluated(people)
    with pytest.raises(TransitionRefused) as refused:
        workflow.transition(application, "assign_agency", people["province"])
    assert "利益冲突" in str(refused.value) or "conflict" in str(refused.value)
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "self_evaluated"
    assert db.session.scalar(select(func.count()).select_from(AgencyAssignment)) == 0


def test_only_the_province_draws(people, make_agency, api):  # noqa: F811
    make_agency()
    application = self_evaluated(people)
    for user in ("county", "city", "enterprise"):
        assert api(people[user]).post(f"/api/v1/application/{application.id}/transition",
                                      json={"action": "assign_agency"}).status_code in (403, 404, 409)
    response = api(people["province"]).post(f"/api/v1/application/{application.id}/transition",
                                            json={"action": "assign_agency"})
    assert response.status_code == 200 and response.get_json()["status"] == "under_assessment"
    assert db.session.scalar(select(func.count()).select_from(AgencyAssignment)) == 1


# ---------------------------------------------------------------------------
# Disqualification
# ---------------------------------------------------------------------------
def test_disqualification_records_why_and_takes_the_agency_out_of_later_draws(people, make_agency, api,
                                                                              make_user):  # noqa: F811
    fraud, fair = make_agency(), make_agency()
    client = api(people["province"])
    assert client.post(f"/api/v1/agency/{fraud.id}/disqualify", json={"reason": " "}).status_code == 422
    assert api(people["county"]).post(f"/api/v1/agency/{fraud.id}/disqualify",
                                      json={"reason": "造假"}).status_code == 403
    response = client.post(f"/api/v1/agency/{fraud.id}/disqualify", json={"reason": "出具虚假评估报告"})
    assert response.status_code == 200 and response.get_json()["status"] == "disqualified"
    db.session.expire_all()
    row = db.session.get(Agency, fraud.id)
    assert (row.status, row.disqualification_reason, row.disqualified_by_id) == (
        "disqualified", "出具虚假评估报告", people["province"].id)
    assert row.disqualified_at is not None
    from app.models.audit import AuditEntry

    trail = db.session.scalars(select(AuditEntry).where(AuditEntry.record_type == "Agency",
                                                        AuditEntry.record_id == str(fraud.id),
                                                        AuditEntry.action == "update")).all()
    assert any(entry.changes.get("status") == ["active", "disqualified"] for entry in trail)
    assert client.post(f"/api/v1/agency/{fraud.id}/disqualify", json={"reason": "again"}).status_code == 422
    # The status cannot be set back through the registry.
    assert client.put(f"/api/v1/agency/{fraud.id}", json={"status": "active"}).status_code in (400, 422)
    db.session.expire_all()
    assert db.session.get(Agency, fraud.id).status == "disqualified"
    application = self_evaluated(people)
    assignment = draw(people, application)
    assert assignment.agency_id == fair.id and assignment.candidate_ids == [fair.id]
    assert assignment.excluded == {str(fraud.id): "disqualified"}


def test_disqualify_on_the_screen(people, make_agency, browser):  # noqa: F811
    agency = make_agency()
    page = browser(people["province"]).get(f"/agencyview/show/{agency.id}").get_data(as_text=True)
    assert 'id="disqualify"' in page
    assert 'id="disqualify"' not in browser(people["county"]).get(f"/agencyview/show/{agency.id}").get_data(as_text=True)
    assert browser(people["county"]).post(f"/agencyview/disqualify/{agency.id}",
                                          data={"reason": "x"}).status_code in (302, 403)
    db.session.expire_all()
    assert db.session.get(Agency, agency.id).status == "active"
    response = browser(people["province"]).post(f"/agencyview/disqualify/{agency.id}", data={"reason": "虚假记录"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Agency, agency.id).status == "disqualified"


# ---------------------------------------------------------------------------
# The registry and conflicts
# ---------------------------------------------------------------------------
def _uscc() -> str:
    from app.services.codes import uscc_check_character

    first17 = VALID_USCC[:17]
    return first17 + uscc_check_character(first17)


def test_the_registry_checks_the_credit_code(people, api):  # noqa: F811
    client = api(people["province"])
    bad = client.post("/api/v1/agency/", json={"name": "甲评估", "uscc": _uscc()[:17] + "0"
                                               if _uscc()[17] != "0" else _uscc()[:17] + "1"})
    assert bad.status_code == 422 and bad.get_json()["field"] == "uscc"
    created = client.post("/api/v1/agency/", json={"name": "甲评估", "uscc": _uscc(), "qualification": "甲级"})
    assert created.status_code == 201, created.get_json()
    assert db.session.get(Agency, created.get_json()["id"]).status == "active"
    assert client.post("/api/v1/agency/", json={"name": "乙评估", "uscc": _uscc()}).status_code == 422
    assert api(people["county"]).post("/api/v1/agency/", json={"name": "丙评估"}).status_code == 403
    assert api(people["enterprise"]).get("/api/v1/agency/").status_code in (401, 403)


def test_conflicts_are_declared_by_the_province_for_its_own_enterprises(people, api, make_agency,
                                                                         make_mine):  # noqa: F811
    agency = make_agency()
    client = api(people["province"])
    ok = client.post("/api/v1/agencyconflict/", json={"agency_id": agency.id,
                                                      "enterprise_id": people["mine"].enterprise_id,
                                                      "reason": "股权关联"})
    assert ok.status_code == 201, ok.get_json()
    row = db.session.get(AgencyConflict, ok.get_json()["id"])
    assert row.declared_by_id == people["province"].id
    assert client.post("/api/v1/agencyconflict/", json={"agency_id": agency.id,
                                                        "enterprise_id": people["mine"].enterprise_id}
                       ).status_code == 422
    elsewhere = make_mine("130102")
    refused = client.post("/api/v1/agencyconflict/", json={"agency_id": agency.id,
                                                           "enterprise_id": elsewhere.enterprise_id})
    assert refused.status_code in (403, 404, 422)
    assert api(people["county"]).post("/api/v1/agencyconflict/", json={
        "agency_id": agency.id, "enterprise_id": people["mine"].enterprise_id}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(AgencyConflict)) == 1


# ---------------------------------------------------------------------------
# The agency's work: scope, scores, files, submission
# ---------------------------------------------------------------------------
def test_the_agency_sees_only_its_assignments_and_completes_the_assessment(people, make_agency, make_user,
                                                                          api, browser):  # noqa: F811
    agency = make_agency()
    application = self_evaluated(people)
    other_application_user = make_user("agency", agency=make_agency("另一机构"))
    # Only one candidate besides the other: make the other conflicted so the draw is certain.
    db.session.add(AgencyConflict(agency_id=other_application_user.agency_id,
                                  enterprise_id=people["mine"].enterprise_id))
    db.session.commit()
    assignment = draw(people, application)
    assert assignment.agency_id == agency.id
    assessor = make_user("agency", agency=agency)
    client = api(assessor)
    listed = client.get("/api/v1/application/").get_json()["result"]
    assert [row["id"] for row in listed] == [application.id]
    assert [row["application_id"] for row in client.get("/api/v1/evaluation/assignments").get_json()["result"]] == [
        application.id]
    outsider = api(other_application_user)
    assert outsider.get("/api/v1/application/").get_json()["result"] == []
    assert outsider.get(f"/api/v1/application/{application.id}").status_code == 404
    assert outsider.get(f"/api/v1/evaluation/{application.id}").status_code == 404
    assert outsider.post(f"/api/v1/evaluation/{application.id}/scores/agency",
                         json={"scores": [{"item": "1.1.1", "score": 1}]}).status_code == 404
    assert browser(other_application_user).get(f"/applicationview/show/{application.id}").status_code == 404
    # The enterprise does not see the agency's scores while it assesses.
    body = {"scores": [{"item": code, "score": score} for code, score in full_scores(factor=0.9).items()]}
    assert client.post(f"/api/v1/evaluation/{application.id}/scores/self", json=body).status_code == 403
    saved = client.post(f"/api/v1/evaluation/{application.id}/scores/agency", json=body)
    assert saved.status_code == 200 and saved.get_json()["total"] == pytest.approx(900)
    assert "agency" not in api(people["enterprise"]).get(f"/api/v1/evaluation/{application.id}").get_json()["result"]
    assert api(people["enterprise"]).get(f"/api/v1/evaluation/{application.id}/scores/agency").status_code == 404
    assert api(people["province"]).get(f"/api/v1/evaluation/{application.id}").get_json()["result"]["agency"][
        "passed"] is True
    # Files: the report (PDF) and the on-site record; only by the drawn agency.
    with pytest.raises(TransitionRefused):
        workflow.transition(application, "submit_assessment", assessor)
    with pytest.raises((AccessDenied, Exception)):
        attach_pdf("AgencyAssignment", assignment.id, "report", people["enterprise"])
    url = f"/api/v1/attachment/AgencyAssignment/{assignment.id}"
    assert outsider.post(f"{url}/report", data={"file": (io.BytesIO(PDF), "r.pdf")},
                         content_type="multipart/form-data").status_code == 404
    assert client.post(f"{url}/report", data={"file": (io.BytesIO(PDF), "r.pdf")},
                       content_type="multipart/form-data").status_code == 201
    with pytest.raises(TransitionRefused) as refused:
        workflow.transition(application, "submit_assessment", assessor)
    assert "现场" in str(refused.value) or "on-site" in str(refused.value)
    uploads.attach("AgencyAssignment", assignment.id, "onsite_record",
                   FileStorage(stream=io.BytesIO(sample_jpeg()), filename="现场.jpg"), assessor)
    page = browser(assessor).get(f"/applicationview/show/{application.id}").get_data(as_text=True)
    assert "现场.jpg" in page and f"/evaluation/{application.id}/agency" in page
    workflow.transition(application, "submit_assessment", assessor)
    assert application.status == "assessed"
    # Fixed from now on; and the enterprise now reads the agency's result.
    with pytest.raises(ValidationFailed):
        evaluation.save_scores(application, assessor, "agency", {"1.1.1": 0})
    assert api(people["enterprise"]).get(f"/api/v1/evaluation/{application.id}").get_json()["result"]["agency"][
        "total"] == pytest.approx(900)


def test_a_disqualified_agency_can_no_longer_score(people, make_agency, make_user):  # noqa: F811
    agency = make_agency()
    application = self_evaluated(people)
    draw(people, application)
    assessor = make_user("agency", agency=agency)
    evaluation.save_scores(application, assessor, "agency", {"1.1.1": 1})
    agencies.disqualify(db.session.get(Agency, agency.id), people["province"], "造假")
    with pytest.raises(AccessDenied):
        evaluation.save_scores(application, assessor, "agency", {"1.1.2": 1})


def test_the_draw_record_is_shown_to_the_authorities_in_scope(people, make_agency, api, browser,
                                                              make_user):  # noqa: F811
    make_agency(), make_agency()
    application = self_evaluated(people)
    assignment = draw(people, application)
    record = api(people["province"]).get(f"/api/v1/evaluation/{application.id}/draw")
    assert record.status_code == 200
    data = record.get_json()
    assert data["seed"] == assignment.seed and data["candidate_ids"] == assignment.candidate_ids
    assert data["verified"] is True and data["replayed_agency_id"] == assignment.agency_id
    assert api(people["county"]).get(f"/api/v1/evaluation/{application.id}/draw").status_code == 200
    page = browser(people["city"]).get(f"/evaluation/{application.id}/draw").get_data(as_text=True)
    assert assignment.seed in page
    assert api(people["enterprise"]).get(f"/api/v1/evaluation/{application.id}/draw").status_code == 404
    assert api(make_user("province", "130000")).get(f"/api/v1/evaluation/{application.id}/draw").status_code == 404
    assert browser(people["other_county"]).get(f"/evaluation/{application.id}/draw").status_code == 404


def test_the_draw_page_reads_for_an_official(people, make_agency, browser):  # noqa: F811
    """The method in Chinese words with each step's value, the candidates by name with their order
    number, the drawn one marked: no Python formula, no "ID n" (issue 18)."""
    names = ["晋中绿源评估有限公司", "太原恒信矿业咨询有限公司", "山西华测评估中心"]
    for name in names:
        make_agency(name)
    disqualified = make_agency("已取消资格的评估公司")
    agencies.disqualify(disqualified, people["province"], "造假")
    application = self_evaluated(people)
    assignment = draw(people, application)
    page = browser(people["province"]).get(f"/evaluation/{application.id}/draw").get_data(as_text=True)
    candidates = [db.session.get(Agency, int(i)) for i in assignment.candidate_ids]
    # The candidates in their order, each by name with its order number from 0.
    table = page.partition('id="draw-candidates"')[2].partition("</table>")[0]
    rows = re.findall(r"<tr[^>]*><td>(\d+)</td>\s*<td>([^<]*)", table)
    assert [(int(number), name.strip()) for number, name in rows] == [(n, a.name) for n, a in enumerate(candidates)]
    assert set(names) <= {name.strip() for _n, name in rows}
    # The replay by hand: text, SHA-256 digest, digest mod the number of candidates.
    text = f"{assignment.seed}:{','.join(str(int(i)) for i in assignment.candidate_ids)}"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    index = int(digest, 16) % len(candidates)
    assert candidates[index].id == assignment.agency_id
    method = page.partition('id="draw-method"')[2].partition("</td>")[0]
    for words in ("种子", "SHA-256", "摘要", "序号 = 摘要 mod 候选机构数", "抽中"):
        assert words in method, words
    assert f"<code>{text}</code>" in method and digest in method and f"<strong>{index}</strong>" in method
    drawn = page.partition('id="draw-agency"')[2].partition("</td>")[0]
    assert candidates[index].name in drawn and f"序号 {index}" in drawn
    assert "抽中" in table.split("<tr")[index + 2]
    # The excluded agency by name and reason; no Python and no bare IDs anywhere.
    assert "已取消资格的评估公司" in page
    for raw in ("ID ", "sha256(f", "candidates[int", "hexdigest", "len(candidates)"):
        assert raw not in page, raw
