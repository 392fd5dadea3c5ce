"""News quotes closed by a pronoun («…», — сказал он) go to the person the text named
just before, when the directory knows that person and the gender agrees; otherwise
they stay unattributed."""

import pytest

from transcripts.importing.ingest import ingest_paths
from transcripts.importing.speakers import load_speaker_directory
from transcripts.models import Meeting, Speaker, SpeakerAlias

pytestmark = pytest.mark.django_db

QUOTE = "«Мы договорились о поставках газа и о транзите через территорию Казахстана»"


def attributions(tmp_path, *paragraphs: str) -> list[tuple[str | None, str]]:
    """Ingest a news item made of `paragraphs`; (speaker slug, label) of each statement."""
    (tmp_path / "news.txt").write_text("15-01-2025\n15.01.2025\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    assert ingest_paths([tmp_path]).count("added") == 1
    rows = Meeting.objects.get().utterances.order_by("seq").values_list("speaker__slug", "label")
    return list(rows)


@pytest.fixture
def matviyenko():
    load_speaker_directory()
    speaker = Speaker.objects.create(
        name="Валентина Ивановна Матвиенко", short_label="В.Матвиенко", slug="valentina-matviyenko"
    )
    for alias in ("Валентина Матвиенко", "Матвиенко", "Председатель Совета Федерации"):
        SpeakerAlias.objects.create(speaker=speaker, name=alias)
    return speaker


def test_the_same_paragraph_names_the_speaker(tmp_path):
    rows = attributions(
        tmp_path,
        "Переговоры прошли в Кремле.",
        f"{QUOTE}, — сказал Владимир Путин. «Это важный шаг для обеих стран», — добавил он.",
    )
    assert rows == [(None, ""), ("vladimir-putin", "Владимир Путин")]


def test_the_previous_paragraph_names_the_speaker_in_any_case(tmp_path):
    rows = attributions(
        tmp_path,
        "Президент России Владимир Путин провёл переговоры с Касым-Жомартом Токаевым.",
        f"{QUOTE}, — отметил он.",
        "Касым-Жомарт Токаев поблагодарил Владимира Путина за приём.",
        "«Россия — наш главный союзник», — сказал он.",
        "На встрече с Нурсултаном Назарбаевым обсуждали историю отношений.",
        "«Мы начинали это сотрудничество вместе», — подчеркнул он.",
    )
    assert rows == [
        (None, ""),
        ("vladimir-putin", "Президент России"),  # the subject, not the man in the instrumental
        (None, ""),
        ("kassym-jomart-tokayev", "Касым-Жомарт Токаев"),
        (None, ""),
        ("nursultan-nazarbayev", "Нурсултан Назарбаев"),  # the only person named
    ]


def test_a_quote_over_two_paragraphs_and_a_chain_of_pronouns(tmp_path):
    rows = attributions(
        tmp_path,
        "Глава РФ ответил на вопросы журналистов.",
        "«Мы обсудили энергетику.",
        "И транспорт», — сказал он.",
        "«Перспективы хорошие», — добавил он.",
    )
    assert rows == [(None, "")] + [("vladimir-putin", "Глава РФ")] * 3


def test_she_goes_to_the_woman_and_he_to_the_man(tmp_path, matviyenko):
    rows = attributions(
        tmp_path,
        "Валентина Матвиенко встретилась с Касым-Жомартом Токаевым в Астане.",
        "«Межпарламентское сотрудничество развивается», — отметила она.",
        "Валентина Матвиенко встретилась с Касым-Жомартом Токаевым в Астане.",
        "«Мы ценим эту работу», — сказал он.",
    )
    assert rows == [
        (None, ""),
        ("valentina-matviyenko", "Валентина Матвиенко"),
        (None, ""),
        ("kassym-jomart-tokayev", "Касым-Жомарт Токаев"),
    ]


def test_a_pronoun_of_the_other_gender_stays_unattributed(tmp_path):
    rows = attributions(tmp_path, "Владимир Путин провёл встречу с губернатором.", f"{QUOTE}, — отметила она.")
    assert rows == [(None, ""), (None, "")]


def test_no_known_person_before_the_quote_leaves_it_unattributed(tmp_path):
    rows = attributions(
        tmp_path,
        "Губернатор области провёл совещание.",
        f"{QUOTE}, — сказал он.",
        "Владимир Путин и Касым-Жомарт Токаев обсудили транзит.",  # two men, both subjects
        "«Это выгодно всем», — сказал он.",
    )
    assert rows == [(None, ""), (None, ""), (None, ""), (None, "")]


def test_an_institution_is_not_a_person(tmp_path):
    rows = attributions(
        tmp_path,
        "Владимир Путин провёл переговоры в Кремле.",
        f"{QUOTE}, — сообщил Кремль.",
        "«Визит продлится два дня», — сообщили в Кремле.",
    )
    assert rows == [(None, ""), (None, ""), (None, "")]
