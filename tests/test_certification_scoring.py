"""Scoring of certification applications (SPEC G1-G3; seed 002 §四.4, §六): the enterprise's
self-scoring sheet (自评打分表) while it prepares the application, the certification body's scores
during the evaluation, with the same catalogue, bounds and summaries as the green-mine
application (app.services.evaluation), on the screens and through REST."""
from __future__ import annotations

import pytest
from flask import g, url_for
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import CertificationApplication, CertificationScore, EvaluationScore, IndicatorItem, IndicatorVersion
from app.services import evaluation, workflow
from app.services.exceptions import AccessDenied, NotFound, TransitionRefused, ValidationFailed


def version(code: str) -> IndicatorVersion:
    return db.session.scalars(select(IndicatorVersion).where(IndicatorVersion.code == code)).one()


def leaves(code: str = "national-2020") -> list:
    # The catalogue is reference data, loaded once per test session (tests/conftest.py).
    return evaluation.catalogue(version(code)).leaves


def full_scores(factor: float = 1.0, code: str = "national-2020") -> dict:
    return {leaf.code: round(leaf.points * factor, 4) for leaf in leaves(code)}


def set_status(record, status: str) -> None:
    """Test shortcut: put the record in ``status`` directly. The real steps (submit, accept,
    certify) have guards of their own (app.services.certification, app.services.surveillance)
    that these tests are not about."""
    with workflow._status_writes_allowed(db.session):
        record.status = status
        db.session.commit()


def score_count(source: str | None = None) -> int:
    query = select(func.count()).select_from(CertificationScore)
    if source:
        query = query.where(CertificationScore.source == source)
    return db.session.scalar(query)


@pytest.fixture
def cert(make_certification_body, make_mine, make_user):
    """A draft certification application of a mine in 140105, made to one body, and the people
    around it."""
    body, other_body = make_certification_body(), make_certification_body()
    mine = make_mine("140105")
    enterprise = mine.enterprise
    record = CertificationApplication(
        mine_id=mine.id, enterprise_id=enterprise.id, region_code=mine.region_code, body_id=body.id,
        enterprise_name=enterprise.name, mine_name=mine.name, licence_no=mine.licence_no, uscc=enterprise.uscc)
    db.session.add(record)
    db.session.commit()
    return {
        "record": record,
        "body": body,
        "enterprise": make_user("enterprise", enterprise=enterprise),
        "certifier": make_user("certifier", certification_body_id=body.id),
        "other_certifier": make_user("certifier", certification_body_id=other_body.id),
        "other_enterprise": make_user("enterprise", enterprise=make_mine("140105").enterprise),
        "county": make_user("county", "140105"),
        "other_county": make_user("county", "140121"),
    }


def sheet_url(record, source: str) -> str:
    return f"/evaluation/certification/{record.id}/{source}"


def api_url(record, rest: str = "") -> str:
    return f"/api/v1/evaluation/certification/{record.id}{rest}"


def body_of(scores: dict) -> dict:
    return {"scores": [{"item": code, "score": value} for code, value in scores.items()]}


# ---------------------------------------------------------------------------
# The self-scoring sheet: while draft or returned
# ---------------------------------------------------------------------------
def test_the_enterprise_fills_in_its_self_scoring_sheet_while_draft(cert, browser, api, app):
    record, first, second = cert["record"], leaves()[0], leaves()[1]
    client = browser(cert["enterprise"])
    page = client.get(sheet_url(record, "self"))
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and f'name="score_{first.id}"' in text
    assert f'action="/evaluation/certification/{record.id}/self"' in text
    with app.test_request_context():  # the back link to the record's page
        assert f'href="{url_for("CertificationApplicationView.show", pk=record.id)}"' in text
    saved = client.post(sheet_url(record, "self"), data={f"score_{first.id}": "5", f"note_{first.id}": "见自评报告"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(sheet_url(record, "self"))
    row = db.session.scalars(select(CertificationScore)).one()
    assert (row.source, row.item_id, row.score, row.note) == ("self", first.id, 5, "见自评报告")
    # The version is fixed on the certification at the first score; no application score is written.
    assert db.session.get(CertificationApplication, record.id).indicator_version_id == version("national-2020").id
    assert db.session.scalar(select(func.count()).select_from(EvaluationScore)) == 0

    response = api(cert["enterprise"]).post(api_url(record, "/scores/self"), json=body_of(full_scores()))
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert (result["total"], result["maximum"], result["share"], result["passed"]) == (1000, 1000, 100, True)
    assert score_count("self") == 100
    scores = api(cert["enterprise"]).get(api_url(record, "/scores/self")).get_json()["result"]
    assert len(scores) == 100 and scores[0]["code"] == first.code and scores[0]["note"] == "见自评报告"
    assert second.code in {row["code"] for row in scores}


def test_the_self_scoring_sheet_is_closed_once_submitted_and_reopens_when_returned(cert, browser, api):
    record, enterprise, first = cert["record"], cert["enterprise"], leaves()[0]
    evaluation.save_scores(record, enterprise, "self", {first.code: 1})
    for status in ("submitted", "under_evaluation", "rectifying", "certified"):
        set_status(record, status)
        with pytest.raises(ValidationFailed):
            evaluation.save_scores(record, enterprise, "self", {first.code: 2})
        assert not evaluation.may_score(record, enterprise, "self")
    set_status(record, "submitted")
    refused = api(enterprise).post(api_url(record, "/scores/self"), json=body_of({first.code: 2}))
    assert refused.status_code == 422 and "message" in refused.get_json()
    page = browser(enterprise).get(sheet_url(record, "self")).get_data(as_text=True)
    assert f'name="score_{first.id}"' not in page  # read-only now
    posted = browser(enterprise).post(sheet_url(record, "self"), data={f"score_{first.id}": "2"})
    assert posted.status_code == 302
    db.session.expire_all()
    assert db.session.scalars(select(CertificationScore)).one().score == 1
    set_status(record, "returned")  # returned for completion: the materials may change again
    evaluation.save_scores(record, enterprise, "self", {first.code: 2})
    db.session.expire_all()
    assert db.session.scalars(select(CertificationScore)).one().score == 2


# ---------------------------------------------------------------------------
# The certification body's scores: while under evaluation, by its certifiers
# ---------------------------------------------------------------------------
def test_the_body_applied_to_scores_while_under_evaluation(cert, browser, api):
    record, certifier, first = cert["record"], cert["certifier"], leaves()[0]
    with pytest.raises(ValidationFailed):  # not accepted yet
        evaluation.save_scores(record, certifier, "certifier", {first.code: 1})
    set_status(record, "under_evaluation")
    client = api(certifier)
    response = client.post(api_url(record, "/scores/certifier"), json=body_of(full_scores(0.9)))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["total"] == pytest.approx(900) and response.get_json()["share"] == pytest.approx(90)
    page = browser(certifier).get(sheet_url(record, "certifier"))
    assert page.status_code == 200 and f'name="score_{first.id}"' in page.get_data(as_text=True)
    saved = browser(certifier).post(sheet_url(record, "certifier"), data={f"score_{first.id}": str(first.points)})
    assert saved.status_code == 302
    assert db.session.scalars(select(CertificationScore).where(CertificationScore.item_id == first.id)).one().score \
        == first.points
    summary = client.get(api_url(record)).get_json()
    assert summary["certification_id"] == record.id and summary["version"] == "national-2020"
    assert set(summary["result"]) == {"self", "certifier"} and summary["result"]["certifier"]["scored"] == 100
    # The certifier does not fill in the enterprise's sheet, nor the enterprise the body's.
    assert client.post(api_url(record, "/scores/self"), json=body_of({first.code: 1})).status_code == 403
    with pytest.raises(AccessDenied):
        evaluation.save_scores(record, certifier, "self", {first.code: 1})
    assert api(cert["enterprise"]).post(api_url(record, "/scores/certifier"),
                                        json=body_of({first.code: 1})).status_code == 403
    # After the decision the scores are final.
    set_status(record, "certified")
    assert client.post(api_url(record, "/scores/certifier"), json=body_of({first.code: 1})).status_code == 422


def test_outsiders_get_404(cert, browser, api, make_agency, make_user):
    record, first = cert["record"], leaves()[0]
    evaluation.save_scores(record, cert["enterprise"], "self", {first.code: 1})
    set_status(record, "under_evaluation")
    agency_user = make_user("agency", agency=make_agency())
    for user in (cert["other_certifier"], cert["other_enterprise"], agency_user, cert["other_county"]):
        for source in ("self", "certifier"):
            assert browser(user).get(sheet_url(record, source)).status_code == 404, (user.username, source)
            assert api(user).get(api_url(record, f"/scores/{source}")).status_code == 404, (user.username, source)
        assert api(user).get(api_url(record)).status_code == 404
        assert not evaluation.may_read_scores(record, user, "self")
    other = cert["other_certifier"]
    assert api(other).post(api_url(record, "/scores/certifier"), json=body_of({first.code: 1})).status_code == 404
    assert browser(other).post(sheet_url(record, "certifier"), data={f"score_{first.id}": "1"}).status_code == 404
    with pytest.raises(NotFound):
        evaluation.save_scores(record, other, "certifier", {first.code: 1})
    set_status(record, "draft")
    stranger = cert["other_enterprise"]
    assert api(stranger).post(api_url(record, "/scores/self"), json=body_of({first.code: 1})).status_code == 404
    assert browser(stranger).post(sheet_url(record, "self"), data={f"score_{first.id}": "1"}).status_code == 404
    # Unknown records and sources.
    assert browser(cert["enterprise"]).get(f"/evaluation/certification/{record.id + 1000}/self").status_code == 404
    assert browser(cert["enterprise"]).get(sheet_url(record, "agency")).status_code == 404
    assert api(cert["enterprise"]).get(api_url(record, "/scores/agency")).status_code == 404
    assert score_count() == 1


def test_the_enterprise_reads_the_bodys_scores_only_after_the_decision(cert, browser, api):
    record, enterprise = cert["record"], cert["enterprise"]
    set_status(record, "under_evaluation")
    evaluation.save_scores(record, cert["certifier"], "certifier", full_scores(0.85))
    assert api(enterprise).get(api_url(record, "/scores/certifier")).status_code == 404
    assert browser(enterprise).get(sheet_url(record, "certifier")).status_code == 404
    assert set(api(enterprise).get(api_url(record)).get_json()["result"]) == {"self"}
    # The authorities of the region follow the evaluation; everyone who reaches it reads the self sheet.
    assert set(api(cert["county"]).get(api_url(record)).get_json()["result"]) == {"self", "certifier"}
    assert browser(cert["county"]).get(sheet_url(record, "certifier")).status_code == 200
    assert browser(cert["certifier"]).get(sheet_url(record, "self")).status_code == 200
    for status in ("certified", "not_certified"):
        set_status(record, status)
        scores = api(enterprise).get(api_url(record, "/scores/certifier"))
        assert scores.status_code == 200 and len(scores.get_json()["result"]) == 100
        page = browser(enterprise).get(sheet_url(record, "certifier"))
        assert page.status_code == 200 and "evaluation-share-certifier" in page.get_data(as_text=True)


# ---------------------------------------------------------------------------
# Bad input and completeness
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [-1, 10_000, "abc", "nan", True])
def test_scores_out_of_range_are_refused_per_item_and_nothing_is_saved(cert, api, bad):
    record, first, second = cert["record"], leaves()[0], leaves()[1]
    with pytest.raises(evaluation.ScoreErrors) as refused:
        evaluation.save_scores(record, cert["enterprise"], "self", {second.code: 1, first.code: bad})
    assert set(refused.value.errors) == {first.id} and refused.value.field == f"score_{first.id}"
    response = api(cert["enterprise"]).post(api_url(record, "/scores/self"),
                                            json={"scores": [{"item": second.code, "score": 1},
                                                             {"item": first.code, "score": bad},
                                                             {"item": "9.9.9", "score": 1}]})
    assert response.status_code == 422 and set(response.get_json()["errors"]) == {str(first.id), "9.9.9"}
    assert score_count() == 0
    assert db.session.get(CertificationApplication, record.id).indicator_version_id is None


def test_the_html_sheet_keeps_the_entered_values_when_refused(cert, browser):
    record, first, second = cert["record"], leaves()[0], leaves()[1]
    client = browser(cert["enterprise"])
    refused = client.post(sheet_url(record, "self"),
                          data={f"score_{first.id}": "5", f"score_{second.id}": str(second.points + 1)})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'value="5"' in text and score_count() == 0


def test_check_sheet_complete_refuses_until_every_item_is_scored(cert):
    record, enterprise, certifier = cert["record"], cert["enterprise"], cert["certifier"]
    with pytest.raises(TransitionRefused) as refused:
        evaluation.check_sheet_complete(record, "self")
    assert "Self-scoring sheet" in str(refused.value) or "自评打分表" in str(refused.value)
    scores = full_scores()
    missing = leaves()[-1].code
    evaluation.save_scores(record, enterprise, "self", {k: v for k, v in scores.items() if k != missing})
    with pytest.raises(TransitionRefused) as refused:
        evaluation.check_sheet_complete(record, "self")
    assert "1" in str(refused.value) and "100" in str(refused.value)
    evaluation.save_scores(record, enterprise, "self", {missing: 0})
    evaluation.check_sheet_complete(record, "self")
    # The body's sheet is a sheet of its own.
    with pytest.raises(TransitionRefused):
        evaluation.check_sheet_complete(record, "certifier")
    set_status(record, "under_evaluation")
    evaluation.save_scores(record, certifier, "certifier", scores)
    evaluation.check_sheet_complete(record, "certifier")
    with pytest.raises(NotFound):
        evaluation.check_sheet_complete(record, "agency")


# ---------------------------------------------------------------------------
# The catalogue, the summary, the partial
# ---------------------------------------------------------------------------
def test_the_version_comes_from_the_setting_and_stays_fixed(cert, app):
    record = cert["record"]
    v2024 = version("national-2024")
    v2024.is_active = True
    db.session.commit()
    app.config["CERTIFICATION_INDICATOR_VERSION"] = "national-2024"
    try:
        assert evaluation.version_for(record).code == "national-2024"
        summary = evaluation.save_scores(record, cert["enterprise"], "self", full_scores(code="national-2024"))
        assert summary.maximum == 100 and summary.count == 49 and summary.passed is None  # 2024: no pass rule
        app.config["CERTIFICATION_INDICATOR_VERSION"] = None
        assert evaluation.version_for(record).code == "national-2024"  # fixed at the first score
        # The items of a catalogue in use by a certification no longer change.
        item = leaves("national-2024")[0]
        item.points = item.points + 1
        with pytest.raises(ValidationFailed):
            evaluation.item_rule(item, None, "edit")
        db.session.rollback()
    finally:
        app.config["CERTIFICATION_INDICATOR_VERSION"] = None
        db.session.rollback()
        db.session.execute(CertificationScore.__table__.delete())
        db.session.execute(CertificationApplication.__table__.update().values(indicator_version_id=None))
        version("national-2024").is_active = False
        db.session.commit()
    # An unknown or inactive configured version falls back to the default.
    app.config["CERTIFICATION_INDICATOR_VERSION"] = "national-2024"
    try:
        assert evaluation.version_for(db.session.get(CertificationApplication, record.id)).code == "national-2020"
    finally:
        app.config["CERTIFICATION_INDICATOR_VERSION"] = None


def test_the_certification_uses_the_versions_own_pass_rules(cert):
    from app.models import ProvinceIndicatorAdoption

    db.session.add(ProvinceIndicatorAdoption(province_code="140000", version_id=version("national-2020").id,
                                             pass_points=700))
    db.session.commit()
    summary = evaluation.save_scores(cert["record"], cert["enterprise"], "self", full_scores(0.79))
    assert summary.pass_points == 800 and summary.area_min_ratio == 0.75 and summary.passed is False
    assert summary.source_label and summary.as_dict()["share"] == pytest.approx(79)


def test_the_partial_shows_the_sheets_the_user_may_read(cert, app):
    from flask import render_template_string
    from flask_login import login_user

    record = cert["record"]
    set_status(record, "under_evaluation")
    evaluation.save_scores(record, cert["certifier"], "certifier", full_scores(0.9))

    def render(user) -> str:
        with app.test_request_context("/"):
            login_user(user)
            g.user = user
            return render_template_string('{% include "gm/certification_scores.html" %}',
                                          certification=db.session.get(CertificationApplication, record.id))

    certifier_view = render(cert["certifier"])
    assert "certification-scores" in certifier_view and "evaluation-share-certifier" in certifier_view
    assert f"/evaluation/certification/{record.id}/certifier" in certifier_view
    assert "evaluation-summary-self" in certifier_view
    enterprise_view = render(cert["enterprise"])
    assert "evaluation-summary-self" in enterprise_view and "evaluation-summary-certifier" not in enterprise_view
    assert f"/evaluation/certification/{record.id}/self" in enterprise_view
    assert "certification-scores" not in render(cert["other_certifier"])


def test_the_permissions_of_the_new_routes_exist(app):
    sm = app.appbuilder.sm
    for permission in ("can_certifier_score", "can_self_score", "can_read"):
        for view in ("EvaluationView", "EvaluationApi"):
            assert sm.find_permission_view_menu(permission, view) is not None, (permission, view)
    certifier = {(p.permission.name, p.view_menu.name) for p in sm.find_role("certifier").permissions}
    assert ("can_certifier_score", "EvaluationView") in certifier
    assert ("can_self_score", "EvaluationView") not in certifier


class _Counter:
    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1


def test_the_sheet_page_costs_the_same_statements_however_many_items_are_scored(cert, browser):
    record, enterprise = cert["record"], cert["enterprise"]
    client = browser(enterprise)
    evaluation.save_scores(record, enterprise, "self", {leaves()[0].code: 1})

    def statements() -> int:
        counter = _Counter()
        db.session.expire_all()
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            assert client.get(sheet_url(record, "self")).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        return counter.count

    statements()  # warm the caches
    one = statements()
    evaluation.save_scores(record, enterprise, "self", full_scores(0.5))
    assert statements() == one
    assert db.session.scalar(select(func.count()).select_from(IndicatorItem)) > 100


def test_the_certifications_page_includes_the_scores(cert, browser, app):
    if "CertificationApplicationView.show" not in app.view_functions:
        pytest.skip("the certification screens are not registered")
    record = cert["record"]
    evaluation.save_scores(record, cert["enterprise"], "self", {leaves()[0].code: 1})
    page = browser(cert["enterprise"]).get(f"/certificationapplicationview/show/{record.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "certification-scores" in text and "evaluation-summary-self" in text
    assert f"/evaluation/certification/{record.id}/self" in text
