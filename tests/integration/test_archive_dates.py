"""Dates outside the archive's world (transcripts/dates.py): the admin refuses them, and
a stray one already stored cannot stretch a chart over thousands of years."""

import datetime as dt

import pytest

from tests.admin_forms import change_url, form_data
from transcripts import dates
from transcripts.models import Meeting

pytestmark = pytest.mark.django_db


def test_the_accepted_span_runs_from_1991_to_a_year_ahead(settings):
    today = dt.date(2026, 12, 2)
    assert dates.accepted_range(today) == (dt.date(1991, 1, 1), dt.date(2027, 12, 3))
    assert dates.date_problem(dt.date(1991, 1, 1), today) == ""
    assert dates.date_problem(dt.date(2027, 12, 3), today) == ""
    assert "before 1991-01-01" in dates.date_problem(dt.date(1990, 12, 31), today)
    assert "after 2027-12-03" in dates.date_problem(dt.date(9999, 12, 31), today)
    settings.ARCHIVE_FIRST_DATE = dt.date(1950, 1, 1)
    assert dates.date_problem(dt.date(1960, 5, 1), today) == ""


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1990-06-01"])
def test_the_admin_refuses_a_date_outside_the_archive(admin_client, archive, value):
    meeting = Meeting.objects.order_by("id").first()
    data = form_data(admin_client.get(change_url(meeting)))
    data["date"] = value
    data["start_0"], data["start_1"] = "", ""
    response = admin_client.post(change_url(meeting), data)
    assert response.status_code == 200 and "Эта дата вне архива" in response.content.decode()  # the Russian admin
    assert Meeting.objects.get(pk=meeting.pk).date == meeting.date


def test_a_stray_date_already_stored_keeps_every_page_small(client, archive):
    urls = ["/", "/meetings/", "/speakers/vladimir-putin/", "/search/?q=Россия"]
    before = {url: len(client.get(url).content) for url in urls}
    Meeting.objects.filter(pk=Meeting.objects.order_by("id").first().pk).update(date=dt.date(9999, 12, 31))
    for url, size in before.items():
        response = client.get(url)
        assert response.status_code == 200
        assert len(response.content) < size * 1.2, url  # 7,983 empty bars made the home page 780 KB
    assert "/meetings/9999/" not in client.get("/meetings/").content.decode()  # no link to a 404
