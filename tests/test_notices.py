"""Notices (SPEC A6): published by an authority to its region's subtree, read on the home page
by everyone in it (enterprises by their registered region), from the publish date on."""
import datetime

from app import clock
from app.extensions import db
from app.models import Notice


def _publish(browser_client, title, **fields):
    data = {"title": title, "body": f"{title}的正文", "publish_date": clock.today().isoformat()}
    data.update(fields)
    return browser_client.post("/noticeview/add", data=data)


def test_notices_reach_the_region_and_below(make_user, make_enterprise, browser):
    province, county, national = make_user("province", "140000"), make_user("county", "140105"), make_user("national")
    _publish(browser(province), "山西省通知")
    _publish(browser(county), "小店区通知")
    _publish(browser(national), "全国通知")
    tomorrow = (clock.today() + datetime.timedelta(days=1)).isoformat()
    _publish(browser(province), "明日通知", publish_date=tomorrow)
    assert db.session.query(Notice).filter_by(title="小店区通知").one().region_code == "140105"
    assert db.session.query(Notice).filter_by(title="山西省通知").one().region_code == "140000"

    def home(user):
        return browser(user).get("/").get_data(as_text=True)

    xiaodian_enterprise = make_user("enterprise", enterprise=make_enterprise("140105"))
    for user in (county, make_user("city", "140100"), xiaodian_enterprise):
        page = home(user)
        assert "山西省通知" in page and "全国通知" in page and "明日通知" not in page
    assert "小店区通知" in home(xiaodian_enterprise) and "小店区通知" in home(county)
    assert "小店区通知" not in home(make_user("county", "140121"))
    shaanxi = home(make_user("county", "610102"))
    assert "全国通知" in shaanxi and "山西省通知" not in shaanxi


def test_an_authority_manages_only_its_region_notices(make_user, browser):
    province, county = make_user("province", "140000"), make_user("county", "140105")
    _publish(browser(province), "省级通知")
    notice = db.session.query(Notice).filter_by(title="省级通知").one()
    assert browser(county).get(f"/noticeview/edit/{notice.id}").status_code == 404
    assert browser(make_user("province", "610000")).post(f"/noticeview/delete/{notice.id}").status_code == 404
    db.session.expire_all()
    assert db.session.get(Notice, notice.id) is not None
    # An enterprise reads notices but does not publish.
    enterprise = make_user("enterprise", enterprise=None)
    assert browser(enterprise).get("/noticeview/add").status_code in (302, 403)


def test_a_notice_carries_attachments_its_readers_download(app, make_user, make_enterprise, browser):
    """A6: the optional attachment. The publishing authority uploads it on the notice's page;
    everyone the notice reaches downloads it from the home page; nobody else can."""
    import io

    from app.models import Attachment

    province = make_user("province", "140000")
    _publish(browser(province), "关于申报的通知")
    notice = db.session.query(Notice).filter_by(title="关于申报的通知").one()
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    response = browser(province).post(f"/attachments/Notice/{notice.id}/document",
                                      data={"file": (io.BytesIO(pdf), "申报表.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    attachment = db.session.query(Attachment).filter_by(owner_type="Notice").one()
    assert "申报表.pdf" in browser(province).get(f"/noticeview/show/{notice.id}").get_data(as_text=True)

    reader = make_user("enterprise", enterprise=make_enterprise("140105"))
    home = browser(reader).get("/").get_data(as_text=True)
    assert f"/attachments/{attachment.id}" in home and "申报表.pdf" in home
    response = browser(reader).get(f"/attachments/{attachment.id}")
    assert response.status_code == 200 and response.data == pdf
    # Outside the addressed region, the file does not exist; readers cannot add or remove files.
    assert browser(make_user("county", "610102")).get(f"/attachments/{attachment.id}").status_code == 404
    assert browser(make_user("enterprise", enterprise=make_enterprise("610102"))).get(
        f"/attachments/{attachment.id}").status_code == 404
    county = make_user("county", "140105")
    assert browser(county).get(f"/attachments/{attachment.id}").status_code == 200
    assert browser(county).post(f"/attachments/{attachment.id}/delete").status_code == 404
    assert browser(county).post(f"/attachments/Notice/{notice.id}/document",
                                data={"file": (io.BytesIO(pdf), "x.pdf")},
                                content_type="multipart/form-data").status_code == 404
    assert browser(reader).post(f"/attachments/{attachment.id}/delete").status_code in (302, 403)
    assert db.session.query(Attachment).filter_by(owner_type="Notice").count() == 1


def test_a_notice_is_not_readable_before_its_publish_date(app, make_user, make_enterprise, browser):
    import io

    from app.models import Attachment

    province = make_user("province", "140000")
    tomorrow = (clock.today() + datetime.timedelta(days=1)).isoformat()
    _publish(browser(province), "明日通知", publish_date=tomorrow)
    notice = db.session.query(Notice).filter_by(title="明日通知").one()
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    browser(province).post(f"/attachments/Notice/{notice.id}/document",
                           data={"file": (io.BytesIO(pdf), "a.pdf")}, content_type="multipart/form-data")
    attachment = db.session.query(Attachment).filter_by(owner_type="Notice").one()
    reader = make_user("enterprise", enterprise=make_enterprise("140105"))
    assert browser(reader).get(f"/attachments/{attachment.id}").status_code == 404
    assert browser(province).get(f"/attachments/{attachment.id}").status_code == 200
