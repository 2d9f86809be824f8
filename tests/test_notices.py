"""Notices (SPEC A6): published by an authority to its region's subtree, read on the home page
by everyone in it (enterprises by their registered region), from the publish date on."""
import datetime

from app.extensions import db
from app.models import Notice


def _publish(browser_client, title, **fields):
    data = {"title": title, "body": f"{title}的正文", "publish_date": datetime.date.today().isoformat()}
    data.update(fields)
    return browser_client.post("/noticeview/add", data=data)


def test_notices_reach_the_region_and_below(make_user, make_enterprise, browser):
    province, county, national = make_user("province", "140000"), make_user("county", "140105"), make_user("national")
    _publish(browser(province), "山西省通知")
    _publish(browser(county), "小店区通知")
    _publish(browser(national), "全国通知")
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
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
