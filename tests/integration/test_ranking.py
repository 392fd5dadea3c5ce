"""The ranking rules (ranking.rank_sql) on small archives written for them, and the
people a query names."""

import pytest

from tests.documents import transcript
from transcripts.importing.ingest import ingest_paths
from transcripts.search.engine import SearchRequest, search_archive

pytestmark = pytest.mark.django_db

LONG = (
    "Мы обсудили сотрудничество в энергетике, транзит нефти через территорию Казахстана, "
    "строительство новых мощностей и подготовку кадров для атомной отрасли."
)


@pytest.fixture
def talks(tmp_path):
    turns = [
        ("К.-Ж.Токаев", "Спасибо."),
        ("В.Путин", "Мы рады видеть Президента Токаева в Москве."),
        ("К.-Ж.Токаев", LONG),
        ("К.-Ж.Токаев", "Благодарю."),
        ("В.Путин", "Касым-Жомарт Кемелевич Токаев рассказал о реформах, а Президент Токаев — о выборах."),
    ]
    (tmp_path / "talks.txt").write_text(transcript(turns, lead=""), encoding="utf-8")
    assert not ingest_paths([tmp_path]).failures


def hits(q: str) -> list[str]:
    return [hit.utterance.text for hit in search_archive(SearchRequest(q=q)).hits]


def test_a_name_in_the_text_ranks_above_a_match_on_the_speakers_name_alone(talks):
    found = hits("Токаевым")
    assert len(found) == 5  # his own three statements match by his name
    mentions = {found[0], found[1]}
    assert mentions == {t for t in found if "Токаев" in t}


def test_a_short_thanks_is_never_first_among_name_only_matches(talks):
    found = hits("Токаев")
    name_only = [t for t in found if "Токаев" not in t]
    assert name_only[0] == LONG and set(name_only[1:]) == {"Спасибо.", "Благодарю."}
    assert found.index(LONG) < found.index("Спасибо.")


def test_a_word_of_the_text_decides_when_the_name_matches_too(talks):
    # «Токаев нефть»: only his long statement has both; «нефть» is in its text.
    assert hits("Токаев нефть") == [LONG]
    found = hits("Токаев OR энергетика")
    # Every statement with one of the words in its text, then those with his name only.
    assert set(found[:3]) == {LONG, *(t for t in found if "Токаев" in t)}
    assert set(found[3:]) == {"Спасибо.", "Благодарю."}


def test_the_people_a_query_names_are_shown_with_their_statements(talks):
    results = search_archive(SearchRequest(q="Токаеву"))
    assert [(p.slug, n) for p, n in results.people] == [("kassym-jomart-tokayev", 3)]
    assert search_archive(SearchRequest(q="энергетика")).people == []
    assert search_archive(SearchRequest(q="нефть -Токаев")).people == []  # an excluded name is not asked for
    roles = search_archive(SearchRequest(q="Путин Токаев")).people
    assert [p.slug for p, _n in roles] == ["kassym-jomart-tokayev", "vladimir-putin"] or [
        p.slug for p, _n in roles
    ] == ["vladimir-putin", "kassym-jomart-tokayev"]
