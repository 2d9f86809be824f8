"""Evaluation (SPEC E1, E2, E3 scoring): the catalogues as versioned data, scoring with its
bounds and states, totals per area and overall, the pass rules (800 points and 75 % of each
area, or the province's own line), the guards of the workflow steps, screens and REST."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import (Application, EvaluationScore, IndicatorItem, IndicatorVersion, ProvinceIndicatorAdoption)
from app.services import evaluation, reference, uploads, workflow
from app.services.exceptions import AccessDenied, NotFound, TransitionRefused, ValidationFailed
from tests.test_applications import people, submitted  # noqa: F401  (fixture and helper)

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _photo_checklist_not_in_the_way(without_photo_checklist):
    """Pre-declarations are only a way in here."""


def version(code: str) -> IndicatorVersion:
    return db.session.scalars(select(IndicatorVersion).where(IndicatorVersion.code == code)).one()


def accepted(people):  # noqa: F811
    application = submitted(people)
    workflow.transition(application, "county_pass", people["county"], "初审通过")
    workflow.transition(application, "city_recommend", people["city"], "同意推荐")
    workflow.transition(application, "province_accept", people["province"], "予以受理")
    assert application.status == "accepted"
    return application


def leaves(code: str = "national-2020") -> list:
    return evaluation.catalogue(version(code)).leaves


def full_scores(code: str = "national-2020", factor: float = 1.0, overrides: dict | None = None) -> dict:
    """item code -> score: ``factor`` × the item's points, except ``overrides``."""
    scores = {leaf.code: round(leaf.points * factor, 4) for leaf in leaves(code)}
    scores.update(overrides or {})
    return scores


def area_items(area_code: str, code: str = "national-2020") -> list:
    return [leaf for leaf in leaves(code) if leaf.code.split(".")[0] == area_code]


def attach_pdf(owner_type: str, owner_id: int, slot: str, user, name: str = "report.pdf"):
    return uploads.attach(owner_type, owner_id, slot, FileStorage(stream=io.BytesIO(PDF), filename=name), user)


# ---------------------------------------------------------------------------
# E1 the catalogues
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("code,areas,second,items,total,line,ratio,active", [
    ("national-2020", 6, 24, 100, 1000, 800, 0.75, True),
    ("national-2024", 6, 23, 49, 100, None, None, False),
])
def test_both_national_catalogues_are_loaded_with_their_shape(code, areas, second, items, total, line, ratio, active):
    v = version(code)
    counts = dict(db.session.execute(select(IndicatorItem.level, func.count()).where(IndicatorItem.version_id == v.id)
                                     .group_by(IndicatorItem.level)).all())
    assert counts == {1: areas, 2: second, 3: items}
    assert sum(leaf.points for leaf in leaves(code)) == total == v.total_points
    assert (v.pass_points, v.area_min_ratio, v.is_active) == (line, ratio, active)
    # The official text for every reader; what is inferred is the staff's note (issue 18, point 7).
    assert "绿色矿山" in v.source and "推定值" in v.source_note
    # Every child points at a parent one level up of the same version.
    tree = evaluation.catalogue(v)
    by_id = {item.id: item for item in tree.items}
    for item in tree.items:
        if item.level > 1:
            assert by_id[item.parent_id].level == item.level - 1 and item.code.startswith(by_id[item.parent_id].code + ".")
    assert len(tree.areas) == areas


def test_loading_again_changes_nothing_and_keeps_the_admins_choices():
    before = db.session.scalar(select(func.count()).select_from(IndicatorItem))
    v2024 = version("national-2024")
    v2024.is_active = True  # the admin activated it
    db.session.commit()
    try:
        result = reference.load_indicators()
        db.session.commit()
        assert result.inserted == 0 and result.updated == 0
        assert db.session.scalar(select(func.count()).select_from(IndicatorItem)) == before
        assert version("national-2024").is_active is True
    finally:
        v2024 = version("national-2024")
        v2024.is_active = False
        db.session.commit()


# ---------------------------------------------------------------------------
# E2 pass rules: 800 points and 75 % of each area
# ---------------------------------------------------------------------------
def _set_area(scores: dict, area: str, target: float) -> dict:
    """Scores with area ``area`` summing to ``target`` (filled item by item)."""
    remaining = target
    for leaf in area_items(area):
        scores[leaf.code] = min(leaf.points, remaining)
        remaining -= scores[leaf.code]
    assert remaining == 0
    return scores


def test_full_marks_pass(people):  # noqa: F811
    application = accepted(people)
    summary = evaluation.save_scores(application, people["enterprise"], "self", full_scores())
    assert summary.complete and summary.total == 1000 and summary.maximum == 1000
    assert [a.maximum for a in summary.areas] == [220, 220, 160, 140, 120, 140]
    assert [a.required for a in summary.areas] == [165, 165, 120, 105, 90, 105]
    assert summary.pass_points == 800 and summary.passed is True and summary.failures == []


def test_an_area_below_75_percent_fails_even_with_a_high_total(people):  # noqa: F811
    application = accepted(people)
    # Area 6 (140 points, 75 % = 105): 104 points; the total is still 964.
    summary = evaluation.save_scores(application, people["enterprise"], "self",
                                     _set_area(full_scores(), "6", 104))
    assert summary.total == 964 and summary.passed is False
    area6 = summary.areas[5]
    assert area6.reached is False and area6.score == 104 and area6.required == 105
    assert len(summary.failures) == 1 and "企业管理与企业形象" in summary.failures[0]
    # Exactly 75 % reaches it.
    summary = evaluation.save_scores(application, people["enterprise"], "self", _set_area({}, "6", 105))
    assert summary.areas[5].reached is True and summary.passed is True


def test_a_total_below_the_pass_line_fails_even_when_every_area_reaches_75_percent(people):  # noqa: F811
    application = accepted(people)
    summary = evaluation.save_scores(application, people["enterprise"], "self", full_scores(factor=0.79))
    assert summary.total == pytest.approx(790) and all(a.reached for a in summary.areas)
    assert summary.passed is False and "800" in summary.failures[0]
    summary = evaluation.save_scores(application, people["enterprise"], "self", full_scores(factor=0.8))
    assert summary.total == pytest.approx(800) and summary.passed is True


def test_the_provinces_own_pass_line_applies(people):  # noqa: F811
    application = accepted(people)
    db.session.add(ProvinceIndicatorAdoption(province_code="140000", version_id=version("national-2020").id,
                                             pass_points=700))
    db.session.commit()
    summary = evaluation.save_scores(application, people["enterprise"], "self", full_scores(factor=0.79))
    assert summary.pass_points == 700 and summary.area_min_ratio == 0.75 and summary.passed is True
    # Another province keeps the national line.
    other = ProvinceIndicatorAdoption(province_code="130000", version_id=version("national-2020").id,
                                      pass_points=900)
    db.session.add(other)
    db.session.commit()
    assert evaluation.summarize(application, "self").pass_points == 700


def test_scoring_starts_on_the_provinces_adopted_version(people):  # noqa: F811
    v2024 = version("national-2024")
    v2024.is_active = True
    db.session.add(ProvinceIndicatorAdoption(province_code="140000", version_id=v2024.id, pass_points=80,
                                             area_min_ratio=0.6))
    db.session.commit()
    try:
        application = accepted(people)
        assert application.indicator_version_id is None
        summary = evaluation.save_scores(application, people["enterprise"], "self", full_scores("national-2024"))
        assert db.session.get(Application, application.id).indicator_version_id == v2024.id
        assert summary.maximum == 100 and summary.count == 49 and summary.passed is True
        # 2020 codes are not items of this catalogue.
        only_2020 = sorted({leaf.code for leaf in leaves()} - {leaf.code for leaf in leaves("national-2024")})[0]
        with pytest.raises(evaluation.ScoreErrors):
            evaluation.save_scores(application, people["enterprise"], "self", {only_2020: 1})
    finally:
        db.session.rollback()
        version("national-2024").is_active = False
        db.session.commit()


def test_without_a_pass_rule_the_totals_are_shown_but_nothing_is_judged(people):  # noqa: F811
    v2024 = version("national-2024")
    v2024.is_active = True
    db.session.add(ProvinceIndicatorAdoption(province_code="140000", version_id=v2024.id))
    db.session.commit()
    try:
        application = accepted(people)
        summary = evaluation.save_scores(application, people["enterprise"], "self", full_scores("national-2024", 0.1))
        assert summary.complete and summary.total == pytest.approx(10) and summary.passed is None
        assert not summary.has_rules and summary.failures == []
    finally:
        version("national-2024").is_active = False
        db.session.commit()


def test_the_default_is_the_national_2020_version(people):  # noqa: F811
    application = accepted(people)
    evaluation.save_scores(application, people["enterprise"], "self", {"1.1.1": 1})
    assert db.session.get(Application, application.id).indicator_version_id == version("national-2020").id


# ---------------------------------------------------------------------------
# E2 bad input: clear messages, nothing half-saved
# ---------------------------------------------------------------------------
def _score_count() -> int:
    return db.session.scalar(select(func.count()).select_from(EvaluationScore))


@pytest.mark.parametrize("bad", [-1, 10_000, "abc", "nan", float("inf"), True])
def test_scores_out_of_range_are_refused_and_nothing_is_saved(people, bad):  # noqa: F811
    application = accepted(people)
    first = leaves()[0]
    with pytest.raises(evaluation.ScoreErrors) as refused:
        evaluation.save_scores(application, people["enterprise"], "self", {leaves()[1].code: 1, first.code: bad})
    assert first.id in refused.value.errors and refused.value.field == f"score_{first.id}"
    assert _score_count() == 0


def test_unknown_items_and_levels_above_items_are_refused(people):  # noqa: F811
    application = accepted(people)
    for key in ("9.9.9", "1", "1.1", 10**9):
        with pytest.raises(evaluation.ScoreErrors):
            evaluation.save_scores(application, people["enterprise"], "self", {key: 0})
    assert _score_count() == 0


def test_a_saved_score_changes_but_is_not_removed_and_notes_are_kept(people):  # noqa: F811
    application = accepted(people)
    item, other = leaves()[0], leaves()[1]
    evaluation.save_scores(application, people["enterprise"], "self", {item.code: item.points, other.code: ""},
                           {item.code: "见报告"})
    row = db.session.scalars(select(EvaluationScore)).one()
    assert (row.score, row.note, row.source, row.item_id) == (item.points, "见报告", "self", item.id)
    with pytest.raises(evaluation.ScoreErrors) as refused:
        evaluation.save_scores(application, people["enterprise"], "self", {item.code: "", other.code: 1})
    assert item.id in refused.value.errors and _score_count() == 1
    evaluation.save_scores(application, people["enterprise"], "self", {item.code: 0})
    db.session.expire_all()
    assert db.session.scalars(select(EvaluationScore)).one().score == 0


def test_scoring_in_the_wrong_state_or_by_the_wrong_user(people, make_mine, make_user):  # noqa: F811
    application = submitted(people)
    with pytest.raises(ValidationFailed):
        evaluation.save_scores(application, people["enterprise"], "self", {"1.1.1": 1})
    workflow.transition(application, "county_pass", people["county"], "初审通过")
    workflow.transition(application, "city_recommend", people["city"], "同意推荐")
    workflow.transition(application, "province_accept", people["province"], "予以受理")
    with pytest.raises(AccessDenied):
        evaluation.save_scores(application, people["province"], "self", {"1.1.1": 1})
    with pytest.raises(AccessDenied):  # not drawn yet / not an agency's turn
        evaluation.save_scores(application, people["province"], "agency", {"1.1.1": 1})
    stranger = make_user("enterprise", enterprise=make_mine("140105").enterprise)
    with pytest.raises(NotFound):
        evaluation.save_scores(application, stranger, "self", {"1.1.1": 1})
    assert _score_count() == 0


# ---------------------------------------------------------------------------
# The submission guard
# ---------------------------------------------------------------------------
def test_submitting_the_self_evaluation_needs_every_item_the_report_and_the_pass_rules(app, people):  # noqa: F811
    application = accepted(people)
    enterprise = people["enterprise"]
    with pytest.raises(TransitionRefused):
        workflow.transition(application, "submit_self_evaluation", enterprise)
    evaluation.save_scores(application, enterprise, "self", full_scores(overrides={leaves()[0].code: None}))
    with pytest.raises(TransitionRefused) as refused:
        workflow.transition(application, "submit_self_evaluation", enterprise)
    assert "1" in str(refused.value) and "100" in str(refused.value)
    evaluation.save_scores(application, enterprise, "self", _set_area(full_scores(), "6", 100))
    with pytest.raises(TransitionRefused) as refused:
        workflow.transition(application, "submit_self_evaluation", enterprise)
    assert "报告" in str(refused.value) or "report" in str(refused.value)
    attach_pdf("SelfEvaluation", application.id, "report", enterprise)
    with pytest.raises(TransitionRefused) as refused:
        workflow.transition(application, "submit_self_evaluation", enterprise)
    assert "企业管理与企业形象" in str(refused.value)
    assert db.session.get(Application, application.id).status == "accepted"
    app.config["EVALUATION_SELF_MUST_PASS"] = False
    try:
        workflow.transition(application, "submit_self_evaluation", enterprise)
    finally:
        app.config["EVALUATION_SELF_MUST_PASS"] = True
    assert application.status == "self_evaluated"
    # Scores and the report are fixed from now on.
    with pytest.raises(ValidationFailed):
        evaluation.save_scores(application, enterprise, "self", {"1.1.1": 0})
    with pytest.raises(ValidationFailed):
        attach_pdf("SelfEvaluation", application.id, "report", enterprise, "second.pdf")


def test_only_the_applicant_uploads_the_self_evaluation_report(people, make_user):  # noqa: F811
    application = accepted(people)
    with pytest.raises((AccessDenied, NotFound)):
        attach_pdf("SelfEvaluation", application.id, "report", people["county"])
    with pytest.raises(ValidationFailed):  # PDF only
        uploads.attach("SelfEvaluation", application.id, "report",
                       FileStorage(stream=io.BytesIO(b"\xff\xd8\xff\xe0" + b"0" * 100), filename="a.jpg"),
                       people["enterprise"])


# ---------------------------------------------------------------------------
# Screens and REST
# ---------------------------------------------------------------------------
def test_the_score_sheet_on_the_screens(people, browser, make_mine, make_user):  # noqa: F811
    application = accepted(people)
    client = browser(people["enterprise"])
    show = client.get(f"/applicationview/show/{application.id}").get_data(as_text=True)
    assert "evaluation-section" in show and f"/evaluation/{application.id}/self" in show
    page = client.get(f"/evaluation/{application.id}/self")
    assert page.status_code == 200
    first, second = leaves()[0], leaves()[1]
    assert f'name="score_{first.id}"' in page.get_data(as_text=True)
    refused = client.post(f"/evaluation/{application.id}/self",
                          data={f"score_{first.id}": "5", f"score_{second.id}": str(second.points + 1)})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and f'value="{second.points + 1:g}"' in text.replace(".0\"", "\"")
    assert _score_count() == 0
    saved = client.post(f"/evaluation/{application.id}/self", data={f"score_{first.id}": "5", f"note_{first.id}": "好"})
    assert saved.status_code == 302 and _score_count() == 1
    # Reviewers read; they cannot score (permission), and strangers get 404.
    county = browser(people["county"])
    assert county.get(f"/evaluation/{application.id}/self").status_code == 200
    assert county.post(f"/evaluation/{application.id}/self", data={f"score_{first.id}": "1"}).status_code in (302, 403)
    assert db.session.scalars(select(EvaluationScore)).one().score == 5
    stranger = browser(make_user("enterprise", enterprise=make_mine("140105").enterprise))
    assert stranger.get(f"/evaluation/{application.id}/self").status_code == 404
    assert stranger.post(f"/evaluation/{application.id}/self", data={f"score_{first.id}": "1"}).status_code == 404
    other_county = browser(people["other_county"])
    assert other_county.get(f"/evaluation/{application.id}/self").status_code == 404


def test_the_rest_api_scores_and_summarises(people, api, make_mine, make_user):  # noqa: F811
    application = accepted(people)
    client = api(people["enterprise"])
    url = f"/api/v1/evaluation/{application.id}"
    body = {"scores": [{"item": leaf.code, "score": leaf.points} for leaf in leaves()]}
    body["scores"][0]["note"] = "见自评报告"
    response = client.post(f"{url}/scores/self", json=body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["total"] == 1000 and response.get_json()["passed"] is True
    summary = api(people["province"]).get(url).get_json()
    assert summary["version"] == "national-2020" and summary["result"]["self"]["total"] == 1000
    assert [a["required"] for a in summary["result"]["self"]["areas"]] == [165, 165, 120, 105, 90, 105]
    scores = client.get(f"{url}/scores/self").get_json()["result"]
    assert len(scores) == 100 and scores[0]["note"] == "见自评报告"
    bad = client.post(f"{url}/scores/self", json={"scores": [{"item": leaves()[0].code, "score": -3},
                                                             {"item": "nope", "score": 1}]})
    assert bad.status_code == 422 and len(bad.get_json()["errors"]) == 2
    assert client.post(f"{url}/scores/self", json={"scores": "x"}).status_code == 422
    assert client.post(f"{url}/scores/self", json=[1, 2]).status_code == 422
    assert db.session.scalar(select(func.sum(EvaluationScore.score))) == 1000
    # Other roles: no permission; out of scope: 404.
    assert api(people["county"]).post(f"{url}/scores/self", json=body).status_code == 403
    assert api(people["county"]).post(f"{url}/scores/agency", json=body).status_code == 403
    stranger = api(make_user("enterprise", enterprise=make_mine("140105").enterprise))
    assert stranger.get(url).status_code == 404
    assert stranger.post(f"{url}/scores/self", json=body).status_code == 404
    assert api(people["other_county"]).get(url).status_code == 404


def test_catalogue_screens_and_api_are_read_by_all_and_written_by_the_admin(people, api, browser, make_user):  # noqa: F811
    v = version("national-2020")
    assert api(people["enterprise"]).get(f"/api/v1/indicatorversion/{v.id}").get_json()["result"]["pass_points"] == 800
    assert api(people["enterprise"]).put(f"/api/v1/indicatorversion/{v.id}", json={"pass_points": 1}).status_code == 403
    assert browser(people["county"]).get("/indicatoritemview/list/").status_code == 200
    admin = api(make_user("admin"))
    assert admin.put(f"/api/v1/indicatorversion/{v.id}", json={"area_min_ratio": 1.5}).status_code == 422
    created = admin.post("/api/v1/indicatorversion/", json={"code": "t-1", "name": "测试", "total_points": 10,
                                                            "pass_points": 8, "area_min_ratio": 0.5,
                                                            "is_active": False})
    assert created.status_code == 201, created.get_json()
    vid = created.get_json()["id"]
    try:
        _admin_edits_items(admin, vid, people)
    finally:
        # Reference tables are not emptied between tests: leave the catalogue as it was.
        db.session.rollback()
        db.session.execute(IndicatorItem.__table__.delete().where(IndicatorItem.version_id == vid))
        db.session.execute(IndicatorVersion.__table__.delete().where(IndicatorVersion.id == vid))
        db.session.commit()


def _admin_edits_items(admin, vid, people):  # noqa: F811
    area = admin.post("/api/v1/indicatoritem/", json={"version_id": vid, "code": "1", "level": 1, "name": "甲"})
    assert area.status_code == 201, area.get_json()
    item = admin.post("/api/v1/indicatoritem/", json={"version_id": vid, "parent_id": area.get_json()["id"],
                                                      "code": "1.1", "level": 2, "name": "乙", "points": 10})
    assert item.status_code == 201, item.get_json()
    assert admin.post("/api/v1/indicatoritem/", json={"version_id": vid, "code": "2.1", "level": 2,
                                                      "name": "丙", "points": -1}).status_code == 422
    # A version in use: its items' points no longer change.
    application = accepted(people)
    evaluation.save_scores(application, people["enterprise"], "self", {"1.1.1": 1})
    used = leaves()[0]
    assert admin.put(f"/api/v1/indicatoritem/{used.id}", json={"points": 1}).status_code == 422
    db.session.expire_all()
    assert db.session.get(IndicatorItem, used.id).points != 1


def test_a_province_adopts_a_version_with_its_own_line(people, api, make_user):  # noqa: F811
    v = version("national-2020")
    client = api(people["province"])
    assert client.post("/api/v1/provinceindicatoradoption/",
                       json={"province_code": "130000", "version_id": v.id}).status_code in (403, 422)
    assert client.post("/api/v1/provinceindicatoradoption/",
                       json={"province_code": "140000", "version_id": v.id, "pass_points": 1200}).status_code == 422
    inactive = version("national-2024")
    assert client.post("/api/v1/provinceindicatoradoption/",
                       json={"province_code": "140000", "version_id": inactive.id}).status_code == 422
    created = client.post("/api/v1/provinceindicatoradoption/",
                          json={"province_code": "140000", "version_id": v.id, "pass_points": 850})
    assert created.status_code == 201, created.get_json()
    assert api(people["county"]).post("/api/v1/provinceindicatoradoption/",
                                      json={"province_code": "140000", "version_id": v.id}).status_code == 403
    application = accepted(people)
    assert evaluation.summarize(application, "self").pass_points == 850


def test_the_pages_render_for_their_users(people, browser, make_user, make_agency):  # noqa: F811
    admin, province = browser(make_user("admin")), browser(people["province"])
    agency = make_agency()
    for client, urls in (
        (admin, ["/indicatorversionview/list/", "/indicatorversionview/add", "/indicatoritemview/list/",
                 "/indicatoritemview/add", f"/indicatorversionview/show/{version('national-2024').id}"]),
        (province, ["/provinceindicatoradoptionview/list/", "/provinceindicatoradoptionview/add",
                    "/agencyview/list/", "/agencyview/add", f"/agencyview/show/{agency.id}",
                    "/agencyconflictview/list/", "/agencyconflictview/add", "/evaluation/assignments/"]),
    ):
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
    assert browser(people["enterprise"]).get("/indicatorversionview/add").status_code in (302, 403)
    choices = province.get("/agencyconflictview/choices/enterprise?q=").get_json()["results"]
    assert any(row["id"] == people["mine"].enterprise_id for row in choices)
