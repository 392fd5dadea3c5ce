"""/search/?…&format=csv: every match newest first with its columns, the limit row when
the limit cut the list, a 400 for a bad query, and the page's link to it."""

import csv
import datetime as dt
import io

import pytest

from transcripts.models import Speaker, Utterance
from transcripts.search import download
from transcripts.search.engine import SearchRequest, search_archive

pytestmark = pytest.mark.django_db


def csv_rows(client, status=200, **params):
    response = client.get("/search/", {**params, "format": "csv"})
    assert response.status_code == status
    if status != 200:
        return response
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="kzarchive-search.csv"'
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))


def test_every_match_newest_first(client, archive):
    header, *rows = csv_rows(client, q="Казахстан")
    assert tuple(header) == download.CSV_COLUMNS
    total = search_archive(SearchRequest(q="Казахстан")).total.value
    assert len(rows) == total > 3
    sids = [row[6].removeprefix("http://testserver/statement/").strip("/") for row in rows]
    statements = Utterance.objects.select_related("meeting", "speaker").in_bulk(sids, field_name="sid")
    assert len(statements) == total
    order = [(u.meeting_date, u.meeting_id, u.seq) for u in (statements[s] for s in sids)]
    assert order == sorted(order, reverse=True)
    date, title, meeting_url, who, label, text, _url = rows[0]
    u = statements[sids[0]]
    assert (date, title, label, text) == (str(u.meeting.date), u.meeting.title, u.label, u.text)
    assert meeting_url == f"http://testserver{u.meeting.get_absolute_url()}" and who == (
        u.speaker.name if u.speaker else u.label
    )
    assert not any(row[0] == download.LIMIT_MARK for row in rows)


def test_filters_apply_as_on_the_page(client, archive):
    rows = csv_rows(client, q="Казахстан", speaker="vladimir-putin", **{"from": "2022-01-01"})[1:]
    putin = Speaker.objects.get(slug="vladimir-putin")
    expected = search_archive(SearchRequest(q="Казахстан", speakers=(putin.id,), date_from=dt.date(2022, 1, 1)))
    assert len(rows) == expected.total.value > 0 and all(r[0] >= "2022-01-01" for r in rows)


def test_the_limit_is_stated_in_a_final_row(client, archive, monkeypatch):
    monkeypatch.setattr(download, "CSV_LIMIT", 3)
    _header, *rows = csv_rows(client, q="Казахстан")
    total = search_archive(SearchRequest(q="Казахстан")).total.value
    assert len(rows) == 4 and rows[-1][0] == download.LIMIT_MARK
    assert rows[-1][1] == f"Первые 3 из {total} найденных: сузьте поиск или воспользуйтесь открытыми данными."
    english = client.get("/en/search/", {"q": "Казахстан", "format": "csv"}).getvalue().decode()
    assert f"The first 3 of {total} matches" in english  # in the page's language


@pytest.mark.parametrize(
    "params", [{"q": ""}, {"q": "-Путин"}, {"q": "мир", "from": "2022-02-30"}, {"q": "мир", "kind": "x"}]
)
def test_a_bad_search_is_a_400_that_says_why(client, archive, params):
    response = csv_rows(client, 400, **params)
    assert response["Content-Type"] == "text/plain; charset=utf-8" and response.content.strip()


def test_the_search_page_offers_the_csv(client, archive):
    html = client.get("/search/", {"q": "Казахстан", "page": "2"}).content.decode()
    assert 'href="?q=%D0%9A%D0%B0%D0%B7%D0%B0%D1%85%D1%81%D1%82%D0%B0%D0%BD&amp;format=csv" download' in html
    assert "Скачать найденное в CSV" in html and "не больше 10" in html
