"""Citations of one statement (transcripts/citations.py): every style in both languages, exactly,
for statements taken from the seeds; names as initials; narration; BibTeX escaping; RIS lines."""

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path

import pytest

from transcripts.citations import STYLES, Citation, CitedStatement, citations, cite

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# fixtures/000_*.txt: Tokayev's press statement after the talks of 10 February 2022.
TOKAYEV = CitedStatement(
    speaker="Касым-Жомарт Кемелевич Токаев",
    role="Президент Республики Казахстан",
    title="Заявления для прессы по итогам российско-казахстанских переговоров",
    date=dt.date(2022, 2, 10),
    place="Москва, Кремль",
    source_url="http://kremlin.ru/events/president/news/copy/67749",
    permalink="https://kzarchive.example/statement/k7q2m9xd/",
    sid="k7q2m9xd",
    accessed=dt.date(2026, 12, 2),
)
# fixtures/003_*.txt: its opening paragraph has no speaker.
NARRATION = CitedStatement(
    speaker="",
    role="",
    title="Беседа с Президентом Казахстана Касым-Жомартом Токаевым",
    date=dt.date(2022, 5, 16),
    place="Москва, Кремль",
    source_url="http://kremlin.ru/events/president/news/copy/68424",
    permalink="https://kzarchive.example/en/statement/p3v8w2ha/",
    sid="p3v8w2ha",
    accessed=dt.date(2026, 1, 5),
)

LINK = "https://kzarchive.example/statement/k7q2m9xd/"
KREMLIN = "http://kremlin.ru/events/president/news/copy/67749"
TITLE = "Заявления для прессы по итогам российско-казахстанских переговоров"

EXPECTED = {
    ("house", "ru"): (
        f"Токаев К.-Ж. К. (Президент Республики Казахстан). Заявление в ходе «{TITLE}», Москва, Кремль, "
        f"10 февраля 2022 г. // kzarchive — архив российско-казахстанских заявлений. URL: {LINK} "
        f"(дата обращения: 02.12.2026). Источник: Президент России, {KREMLIN}."
    ),
    ("house", "en"): (
        f"Касым-Жомарт Кемелевич Токаев (Президент Республики Казахстан). Statement at «{TITLE}», "
        f"Москва, Кремль, 10 February 2022. kzarchive: Russia–Kazakhstan statements archive. {LINK} "
        f"(accessed 2 December 2026). Source: President of Russia, {KREMLIN}."
    ),
    ("chicago", "ru"): (
        f"Токаев, Касым-Жомарт Кемелевич. «{TITLE}». Заявление (Президент Республики Казахстан), "
        f"Москва, Кремль, 10 февраля 2022 г. Президент России, {KREMLIN}. Архивная копия: kzarchive — "
        f"архив российско-казахстанских заявлений. Дата обращения: 2 декабря 2026 г. {LINK}."
    ),
    ("chicago", "en"): (
        f"Токаев, Касым-Жомарт Кемелевич. “{TITLE}.” Statement (Президент Республики Казахстан), "
        f"Москва, Кремль, February 10, 2022. President of Russia, {KREMLIN}. Archived in kzarchive: "
        f"Russia–Kazakhstan statements archive. Accessed December 2, 2026. {LINK}."
    ),
    ("apa", "ru"): (
        f"Токаев, К.-Ж. К. (2022, 10 февраля). {TITLE} [Заявление; Президент Республики Казахстан; "
        f"Москва, Кремль]. Президент России, {KREMLIN}; kzarchive — архив российско-казахстанских "
        f"заявлений. Дата обращения: 2 декабря 2026 г. URL: {LINK}"
    ),
    ("apa", "en"): (
        f"Токаев, К.-Ж. К. (2022, February 10). {TITLE} [Statement; Президент Республики Казахстан; "
        f"Москва, Кремль]. President of Russia, {KREMLIN}; kzarchive: Russia–Kazakhstan statements "
        f"archive. Retrieved December 2, 2026, from {LINK}"
    ),
    ("bibtex", "ru"): (
        "@misc{kzarchive-k7q2m9xd,\n"
        "  author = {Токаев, Касым-Жомарт Кемелевич},\n"
        f"  title = {{{TITLE}}},\n"
        "  howpublished = {kzarchive — архив российско-казахстанских заявлений},\n"
        "  year = 2022,\n"
        "  month = feb,\n"
        "  note = {Президент Республики Казахстан. Москва, Кремль, 10 февраля 2022 г. "
        f"Дата обращения: 2 декабря 2026 г. Источник: Президент России, {KREMLIN}}},\n"
        f"  url = {{{LINK}}},\n"
        "  urldate = {2026-12-02}\n"
        "}"
    ),
    ("bibtex", "en"): (
        "@misc{kzarchive-k7q2m9xd,\n"
        "  author = {Токаев, Касым-Жомарт Кемелевич},\n"
        f"  title = {{{TITLE}}},\n"
        "  howpublished = {kzarchive: Russia–Kazakhstan statements archive},\n"
        "  year = 2022,\n"
        "  month = feb,\n"
        "  note = {Президент Республики Казахстан. Москва, Кремль, 10 February 2022. "
        f"Accessed 2 December 2026. Source: President of Russia, {KREMLIN}}},\n"
        f"  url = {{{LINK}}},\n"
        "  urldate = {2026-12-02}\n"
        "}"
    ),
    ("ris", "ru"): "\n".join(
        [
            "TY  - GEN",
            "AU  - Токаев, Касым-Жомарт Кемелевич",
            f"TI  - {TITLE}",
            "T2  - kzarchive — архив российско-казахстанских заявлений",
            "DA  - 2022/02/10/",
            "PY  - 2022",
            "CY  - Москва, Кремль",
            f"UR  - {LINK}",
            "Y2  - 2026/12/02/",
            f"N1  - Президент Республики Казахстан. Источник: Президент России, {KREMLIN}",
            "ID  - kzarchive-k7q2m9xd",
            "ER  - ",
        ]
    ),
    ("ris", "en"): "\n".join(
        [
            "TY  - GEN",
            "AU  - Токаев, Касым-Жомарт Кемелевич",
            f"TI  - {TITLE}",
            "T2  - kzarchive: Russia–Kazakhstan statements archive",
            "DA  - 2022/02/10/",
            "PY  - 2022",
            "CY  - Москва, Кремль",
            f"UR  - {LINK}",
            "Y2  - 2026/12/02/",
            f"N1  - Президент Республики Казахстан. Source: President of Russia, {KREMLIN}",
            "ID  - kzarchive-k7q2m9xd",
            "ER  - ",
        ]
    ),
}
EVERY = [(style, lang) for style in STYLES for lang in ("ru", "en")]


# Every way a style may write the meeting's date (10 February 2022) and the access date (2 December 2026).
MEETING_DATES = ("10 февраля 2022 г.", "10 February 2022", "February 10, 2022", "(2022, 10 февраля)", "2022/02/10/")
ACCESS_DATES = ("2 декабря 2026 г.", "2 December 2026", "December 2, 2026", "02.12.2026", "2026/12/02/", "2026-12-02")


def test_the_statements_come_from_the_seeds():
    (tokayev_seed,) = FIXTURES.glob("000_*.txt")
    (narration_seed,) = FIXTURES.glob("003_*.txt")
    for statement, seed in ((TOKAYEV, tokayev_seed), (NARRATION, narration_seed)):
        text = seed.read_text(encoding="utf-8")
        assert statement.title in " ".join(text.split())  # the seed writes "по\xa0итогам"
        assert statement.date.isoformat() in text
        assert statement.place in text
        assert text.rstrip().endswith(statement.source_url)
    assert "К.-Ж.Токаев:" in tokayev_seed.read_text(encoding="utf-8")


@pytest.mark.parametrize(("style", "lang"), EVERY)
def test_each_style_in_each_language_is_exactly_as_expected(style, lang):
    assert cite(TOKAYEV, style, lang) == EXPECTED[style, lang]


@pytest.mark.parametrize(("style", "lang"), EVERY)
def test_each_citation_carries_every_field(style, lang):
    text = cite(TOKAYEV, style, lang)
    for field in ("Токаев", "Президент Республики Казахстан", TITLE, "Москва, Кремль", KREMLIN, LINK):
        assert field in text
    assert any(form in text for form in (*MEETING_DATES, "(2022, February 10)"))
    assert any(form in text for form in ACCESS_DATES)
    assert "<" not in text and "&" not in text  # plain text, no HTML or entities


@pytest.mark.parametrize(
    ("name", "house", "apa"),
    [
        ("Касым-Жомарт Кемелевич Токаев", "Токаев К.-Ж. К.", "Токаев, К.-Ж. К."),
        ("Владимир Владимирович Путин", "Путин В. В.", "Путин, В. В."),
        ("Нурсултан Абишевич Назарбаев", "Назарбаев Н. А.", "Назарбаев, Н. А."),
        ("Эмманюэль Макрон", "Макрон Э.", "Макрон, Э."),
        ("Назарбаев", "Назарбаев", "Назарбаев."),
        ("Голос из зала", "Голос из зала", "Голос из зала."),  # a label, not a name
        ("Мохаммед бин Рашид Аль Мактум", "Мохаммед бин Рашид Аль Мактум", "Мохаммед бин Рашид Аль Мактум."),
    ],
)
def test_names_become_surname_and_initials(name, house, apa):
    statement = replace(TOKAYEV, speaker=name)
    assert cite(statement, "house", "ru").startswith(house + " (Президент Республики Казахстан). Заявление в ходе «")
    assert cite(statement, "apa", "en").startswith(apa + " (2022, February 10).")
    assert cite(statement, "house", "en").startswith(name + " (Президент")  # English keeps the name as written


def test_a_name_bibtex_cannot_split_is_kept_whole_in_double_braces():
    assert "  author = {{Голос из зала}},\n" in cite(replace(TOKAYEV, speaker="Голос из зала"), "bibtex", "en")
    assert "AU  - Голос из зала\n" in cite(replace(TOKAYEV, speaker="Голос из зала"), "ris", "en")


def test_a_narrative_paragraph_cites_the_meeting_itself():
    title = "Беседа с Президентом Казахстана Касым-Жомартом Токаевым"
    link, kremlin = NARRATION.permalink, NARRATION.source_url
    assert cite(NARRATION, "house", "ru") == (
        f"«{title}», Москва, Кремль, 16 мая 2022 г. // kzarchive — архив российско-казахстанских заявлений. "
        f"URL: {link} (дата обращения: 05.01.2026). Источник: Президент России, {kremlin}."
    )
    assert cite(NARRATION, "house", "en") == (
        f"«{title}», Москва, Кремль, 16 May 2022. kzarchive: Russia–Kazakhstan statements archive. "
        f"{link} (accessed 5 January 2026). Source: President of Russia, {kremlin}."
    )
    assert cite(NARRATION, "chicago", "en").startswith(f"“{title}.” Москва, Кремль, May 16, 2022. ")
    assert cite(NARRATION, "apa", "en").startswith(f"{title} [Москва, Кремль]. (2022, May 16). President of Russia")
    assert "author" not in cite(NARRATION, "bibtex", "ru")
    assert "\nAU  - " not in cite(NARRATION, "ris", "ru")
    for style, lang in EVERY:
        assert "Заявление" not in cite(NARRATION, style, lang)
        assert "Statement " not in cite(NARRATION, style, lang)


def braces_balance(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def test_bibtex_escapes_special_characters_and_keeps_braces_balanced():
    title = 'Итоги {переговоров: 100% & план_2030, $5 #1 ~^\\ «Газпром» "Лада"'
    entry = cite(replace(TOKAYEV, title=title), "bibtex", "ru")
    assert (
        "  title = {Итоги \\textbraceleft{}переговоров: 100\\% \\& план\\_2030, \\$5 \\#1 "
        '\\textasciitilde{}\\textasciicircum{}\\textbackslash{} «Газпром» "Лада"},\n'
    ) in entry
    assert braces_balance(entry)
    assert braces_balance(cite(replace(TOKAYEV, title="Итоги} переговоров{"), "bibtex", "en"))


def test_bibtex_escapes_the_role_place_and_source_in_the_note_and_encodes_the_url():
    statement = replace(TOKAYEV, role="Глава_МИД & Co", source_url="https://example.org/a_b%20c")
    statement = replace(statement, permalink=LINK + "{x}")
    entry = cite(statement, "bibtex", "en")
    assert "note = {Глава\\_МИД \\& Co. Москва, Кремль, 10 February 2022. " in entry
    assert "Source: https://example.org/a\\_b\\%20c}," in entry
    assert f"url = {{{LINK}%7Bx%7D}}," in entry
    assert braces_balance(entry)


@pytest.mark.parametrize("statement", [TOKAYEV, NARRATION, replace(TOKAYEV, role="", place="", source_url="")])
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_ris_is_one_tag_a_line_from_ty_to_er(statement, lang):
    lines = cite(statement, "ris", lang).split("\n")
    assert all(re.match(r"^[A-Z][A-Z0-9]  - ", line) for line in lines)
    assert lines[0] == "TY  - GEN"
    assert lines[-1] == "ER  - "
    assert [line[:2] for line in lines].count("ER") == 1
    assert all(line[6:].strip() for line in lines[:-1])  # an empty field is left out, not written empty


def test_the_seeds_non_breaking_spaces_become_plain_spaces():
    (seed,) = FIXTURES.glob("000_*.txt")
    seed_title = seed.read_text(encoding="utf-8").splitlines()[1]
    assert "по\xa0итогам" in seed_title
    for style, lang in EVERY:
        assert cite(replace(TOKAYEV, title=seed_title), style, lang) == EXPECTED[style, lang]


def test_whitespace_and_line_breaks_inside_fields_are_collapsed():
    messy = replace(
        TOKAYEV,
        speaker="Касым-Жомарт\nКемелевич  Токаев",
        role=" Президент\r\nРеспублики\tКазахстан ",
        title="Заявления для прессы\n\nпо итогам\u2028российско-казахстанских   переговоров",
        place="Москва,\nКремль",
    )
    for style, lang in EVERY:
        assert cite(messy, style, lang) == EXPECTED[style, lang]
    for style in ("house", "chicago", "apa"):
        assert "\n" not in cite(messy, style, "ru") and "\r" not in cite(messy, style, "ru")


def test_the_publisher_is_named_only_for_a_kremlin_address():
    elsewhere = replace(TOKAYEV, source_url="https://ortcom.kz/ru/news/1")
    assert "Источник: https://ortcom.kz/ru/news/1." in cite(elsewhere, "house", "ru")
    for style, lang in EVERY:
        text = cite(elsewhere, style, lang)
        assert "Президент России" not in text and "President of Russia" not in text
    without = replace(TOKAYEV, source_url="")
    assert cite(without, "house", "en").endswith("(accessed 2 December 2026).")
    assert "Source" not in cite(without, "ris", "en") and "Source" not in cite(without, "bibtex", "en")


def test_punctuation_is_not_doubled_after_a_title_ending_in_a_question_mark():
    text = cite(replace(TOKAYEV, title="Что дальше?"), "chicago", "en")
    assert "“Что дальше?” Statement" in text
    assert "Что дальше? [Statement;" in cite(replace(TOKAYEV, title="Что дальше?"), "apa", "en")


def test_quotes_inside_a_quoted_title_are_nested():
    text = cite(replace(TOKAYEV, title="Выставка «Иннопром»"), "house", "ru")
    assert "в ходе «Выставка „Иннопром“», Москва" in text


def test_citations_lists_every_style_with_its_label():
    assert citations(TOKAYEV, "ru") == [
        Citation("house", "Стиль архива", EXPECTED["house", "ru"]),
        Citation("chicago", "Chicago", EXPECTED["chicago", "ru"]),
        Citation("apa", "APA", EXPECTED["apa", "ru"]),
        Citation("bibtex", "BibTeX", EXPECTED["bibtex", "ru"]),
        Citation("ris", "RIS", EXPECTED["ris", "ru"]),
    ]
    assert [c.label for c in citations(TOKAYEV, "en")] == ["Archive style", "Chicago", "APA", "BibTeX", "RIS"]
    assert STYLES == ("house", "chicago", "apa", "bibtex", "ris")


@pytest.mark.parametrize(("style", "lang"), [("mla", "ru"), ("", "en"), ("House", "ru"), ("house", "kk"), ("ris", "")])
def test_an_unknown_style_or_language_is_refused(style, lang):
    with pytest.raises(ValueError, match="unknown citation"):
        cite(TOKAYEV, style, lang)


def test_citations_refuses_an_unknown_language():
    with pytest.raises(ValueError):
        citations(TOKAYEV, "de")
