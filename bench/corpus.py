"""Real Russian text to fill a synthetic archive with, and the archive's cast.

Utterance texts are runs of consecutive real sentences (paragraph breaks kept)
from the seed transcripts in fixtures/ (the Russia–Kazakhstan ones) and the
kremlin.ru sample, cut to a length drawn from the real utterances' lengths, so
word frequencies and lengths stay those of real transcripts.

That corpus has only ~170,000 words: repeated to 100 million, even its rarest
word would be in hundreds of utterances. A real archive has a long tail of rare
words, which shapes the GIN index and rare-word queries, so about 1% of the words
are replaced by real dictionary words (pymorphy3's) drawn from a Zipf law.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path

from kzarchive.paths import corpus_dir
from transcripts.importing.parser import parse_bytes

ROOT = Path(__file__).resolve().parent.parent
KZ_SOURCES = ROOT / "fixtures"
GENERAL_SOURCES = corpus_dir()  # KZ_CORPUS_DIR, or ../shared/corpus/kremlin-2025-sample
TAIL_CACHE = ROOT / "bench" / "results" / "cache" / "tail-words.txt"
TAIL_RATE = 0.01  # share of words replaced by a long-tail word

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"(—–-]?[А-ЯЁA-Z0-9])")
_PLAIN_WORD = re.compile(r"[а-яё]+")

# (title, kind); {president} is Kazakhstan's president of the day, instrumental case.
KZ_TITLES = [
    ("Российско-казахстанские переговоры", "talks"),
    ("Переговоры с Президентом Казахстана {president}", "talks"),
    ("Встреча с Президентом Казахстана {president}", "meeting"),
    ("Беседа с Президентом Казахстана {president}", "conversation"),
    ("Телефонный разговор с Президентом Казахстана {president}", "phone_call"),
    ("Заявления для прессы по итогам российско-казахстанских переговоров", "press_statements"),
    ("Форум межрегионального сотрудничества России и Казахстана", "meeting"),
    ("Заседание Высшего Евразийского экономического совета", "meeting"),
    ("Брифинг по итогам государственного визита в Казахстан", "briefing"),
    ("Путин и Президент Казахстана обсудили торгово-экономическое сотрудничество", "news_report"),
]
NAZARBAYEV_UNTIL = "2019-03-20"  # after it the president is Tokayev
PRESIDENTS = {"nursultan-nazarbayev": "Нурсултаном Назарбаевым", "kassym-jomart-tokayev": "Касым-Жомартом Токаевым"}

# (place, weight); phone calls have none.
LOCATIONS = [
    ("Москва, Кремль", 30), ("Астана", 12), ("Нур-Султан", 3), ("Алматы", 6), ("Москва", 6),
    ("Санкт-Петербург", 5), ("Сочи", 4), ("Московская область, Ново-Огарёво", 4), ("Оренбург", 2),
    ("Омск", 2), ("Челябинск", 2), ("Астрахань", 1), ("Екатеринбург", 2), ("Новосибирск", 1),
    ("Уральск", 1), ("Костанай", 1), ("Павлодар", 1), ("Усть-Каменогорск", 1), ("Петропавловск", 1),
    ("Актау", 1), ("Атырау", 1), ("Караганда", 1), ("Шымкент", 1), ("Туркестан", 1), ("Бурабай", 1),
    ("Байконур", 2), ("Бишкек", 2), ("Минск", 2), ("Душанбе", 2), ("Ташкент", 1), ("Ереван", 1),
    ("Самарканд", 1), ("Ашхабад", 1), ("Баку", 1), ("Пекин", 1), ("Нью-Йорк", 1),
]  # fmt: skip

# Plausible Russian and Kazakh people: first names, fathers' names, surnames in -ов/-ев/-ин
# (split into words where used).
MALE = (
    "Александр Алексей Андрей Владимир Дмитрий Евгений Игорь Константин Максим Михаил Николай Олег Павел "
    "Роман Сергей Юрий Асхат Ерлан Кайрат Марат Нурлан Серик Талгат Бауыржан Ерболат Даурен Болат Аскар "
    "Мурат Канат Жанат"
)
FEMALE = (
    "Анна Елена Ирина Марина Наталья Ольга Светлана Татьяна Юлия Вероника Айгуль Динара Гульнара Жанна "
    "Асель Сауле Мадина Алия Камила"
)
FATHERS = (
    "Иван Петр Сергей Николай Андрей Виктор Юрий Алексей Геннадий Михаил Абиш Кемел Серик Болат Ермек "
    "Нурлан Марат Аскар Тулеген Жумабек"
)
SURNAMES = (
    "Иванов Смирнов Кузнецов Попов Соколов Лебедев Козлов Новиков Морозов Петров Волков Соловьев Васильев "
    "Зайцев Павлов Семенов Голубев Виноградов Богданов Воробьев Федоров Михайлов Беляев Тарасов Белов "
    "Комаров Орлов Киселев Макаров Андреев Ковалев Ильин Гусев Титов Кузьмин Кудрявцев Баранов Куликов "
    "Алексеев Степанов Ахметов Абдыкаримов Байжанов Жумабеков Исмаилов Касымов Кенжебаев Мухамедиев "
    "Нургалиев Оспанов Сарсенбаев Тулегенов Утемисов Шаймерденов Ермеков Султанов Аманжолов Досмухамедов "
    "Есимов Жаксыбеков Ибраев Калиев Смаилов Муканов Сагинтаев Жакупов Бекетаев Тажин Кулибаев Мусин "
    "Абдрахманов Иманбаев Карин Рахимов Сейтказин"
)
ROLES = [
    "Министр иностранных дел Российской Федерации", "Министр иностранных дел Республики Казахстан",
    "Министр экономического развития", "Министр энергетики", "Министр торговли и интеграции Казахстана",
    "Премьер-министр Республики Казахстан", "Председатель Правительства Российской Федерации",
    "Помощник Президента Российской Федерации", "Губернатор области", "Аким области", "Посол",
    "Председатель правления компании", "Журналист", "Депутат", "Ректор университета",
]  # fmt: skip


@dataclass
class SentencePool:
    """Sentences in reading order; `breaks[i]` says whether a paragraph ends after i."""

    sentences: list[str]
    words: list[int]
    breaks: list[bool]

    def __post_init__(self):
        self.by_length = sorted(range(len(self.sentences)), key=self.words.__getitem__)
        self.sorted_words = [self.words[i] for i in self.by_length]

    def text(self, rng, n_words: int) -> str:
        """Consecutive sentences totalling about n_words, from a random start that fits."""
        fits = max(1, bisect.bisect_right(self.sorted_words, n_words))
        i = self.by_length[rng.randrange(fits)]
        parts, total = [self.sentences[i]], self.words[i]
        while True:
            j = (i + 1) % len(self.sentences)
            if abs(total + self.words[j] - n_words) >= abs(total - n_words):
                return "".join(parts)
            parts.append("\n\n" if self.breaks[i] else " ")
            parts.append(self.sentences[j])
            total += self.words[j]
            i = j


@dataclass
class Corpus:
    kz: SentencePool  # fixtures/: Russia–Kazakhstan transcripts
    general: SentencePool  # the kremlin.ru sample
    lengths: list[int]  # words per real utterance
    titles: list[tuple[str, str]]  # (title, kind) of the kremlin.ru sample
    files: int


def _pool(texts: list[str]) -> SentencePool:
    sentences, breaks = [], []
    for text in texts:
        for paragraph in text.split("\n\n"):
            parts = [s for s in _SENTENCE_END.split(paragraph.strip()) if s]
            sentences += parts
            breaks += [False] * (len(parts) - 1) + [True]
    return SentencePool(sentences, [len(s.split()) for s in sentences], breaks)


def load_corpus() -> Corpus:
    texts: dict[Path, list[str]] = {KZ_SOURCES: [], GENERAL_SOURCES: []}
    titles, files = [], 0
    for folder, bucket in texts.items():
        for path in sorted(folder.glob("*.txt")):
            doc = parse_bytes(path.read_bytes(), path.name)
            bucket += [u.text for u in doc.utterances]
            files += 1
            if folder == GENERAL_SOURCES:
                titles.append((doc.title, doc.kind))
    lengths = [len(t.split()) for bucket in texts.values() for t in bucket]
    return Corpus(_pool(texts[KZ_SOURCES]), _pool(texts[GENERAL_SOURCES]), lengths, titles, files)


def tail_candidates() -> list[str]:
    """Dictionary lemmas (not names) for the long tail; iterating pymorphy3's
    5 million forms takes half a minute, so the list is cached."""
    if TAIL_CACHE.exists():
        return TAIL_CACHE.read_text(encoding="utf-8").split()
    import pymorphy3

    skip = {"Name", "Surn", "Patr", "Geox", "Orgn", "Abbr", "Init", "Trad"}
    words = [
        word
        for word, tag, _normal, _para, index in pymorphy3.MorphAnalyzer().dictionary.iter_known_words("")
        if index == 0 and len(word) >= 6 and _PLAIN_WORD.fullmatch(word) and not skip & tag.grammemes
    ]
    TAIL_CACHE.parent.mkdir(parents=True, exist_ok=True)
    TAIL_CACHE.write_text("\n".join(words), encoding="utf-8")
    return words


def zipf_cum_weights(n: int, s: float = 1.0) -> list[float]:
    return list(itertools.accumulate(1 / (rank**s) for rank in range(1, n + 1)))


def poisson(rng, lam: float) -> int:
    """Knuth's method: fine for the small means used here."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k, p = k + 1, p * rng.random()
    return k


def inject_tail(rng, text: str, words: list[str]) -> str:
    """Replace plain lower-case words of text by `words`, at random places."""
    tokens = text.split(" ")
    for word in words:
        for _try in range(5):
            i = rng.randrange(len(tokens))
            if _PLAIN_WORD.fullmatch(tokens[i]):
                tokens[i] = word
                break
    return " ".join(tokens)


def people(rng, count: int) -> list[dict]:
    """`count` distinct synthetic speakers: name, short label, role, country."""
    seen, out = set(), []
    while len(out) < count:
        female = rng.random() < 0.25
        first = rng.choice((FEMALE if female else MALE).split())
        father = rng.choice(FATHERS.split())
        surname = rng.choice(SURNAMES.split())
        stem = father[:-1] + "е" if father.endswith("й") else father + ("е" if father[-1] in "жшчщц" else "о")
        patronymic = stem + ("вна" if female else "вич")
        if female:
            surname += "а"
        name = f"{first} {patronymic} {surname}"
        if name in seen:
            continue
        seen.add(name)
        kazakh = surname.rstrip("а") in SURNAMES[SURNAMES.index("Ахметов") :].split()
        out.append(
            {
                "name": name,
                "short_label": f"{first[0]}.{surname}",
                "role": rng.choice(ROLES),
                "country": "Казахстан" if kazakh else "Россия",
            }
        )
    return out
