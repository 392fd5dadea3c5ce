"""News quotes closed by a pronoun (`«…», — сказал он`): the person the text named
just before, when the directory knows them and the gender agrees."""

from __future__ import annotations

import re

from ..models import Speaker, SpeakerAlias, normalize_name
from ..morphology import analyzer

PRONOUNS = {"он": "masc", "она": "femn"}

# A name's case forms by its ending (Токаев → Токаевым, Жомарт → Жомартом, Анна → Анной);
# a few forms that do not exist only cost a pattern that never matches.
_CASE_ENDINGS = (
    ("й", ("й", "я", "ю", "ем", "е", "и")),
    ("ь", ("ь", "я", "ю", "ем", "е")),
    ("а", ("а", "ы", "и", "е", "у", "ой", "ей")),
    ("я", ("я", "и", "е", "ю", "ей")),
)
_CONSONANT_ENDINGS = ("", "а", "у", "ом", "ым", "ем", "е")
_NAME_TAGS = frozenset({"Name", "Surn", "Patr"})


class PersonMentions:
    """Where a news text names a person the directory knows (any alias of a PERSON
    speaker, in any case: «Касым-Жомартом Токаевым»), and each person's gender, taken
    from the name: the patronymic (-вич / -вна), else the first name, else the surname."""

    def __init__(self, *, names_only: bool = False):
        """names_only: only aliases that hold a word of the person's name («В.Путин», not
        «Президент России», which named Medvedev in 2010), whatever the gender: who a
        meeting names (participants.py), not whom a pronoun may stand for."""
        self.morph = analyzer()  # loaded only for documents with a pronoun to resolve
        rows = SpeakerAlias.objects.filter(speaker__kind=Speaker.Kind.PERSON).values_list(
            "speaker_id", "name", "speaker__name"
        )
        self.gender: dict[int, str] = {}
        self.patterns: list[tuple[int, str, re.Pattern]] = []
        for speaker_id, alias, name in rows:
            if speaker_id not in self.gender:
                self.gender[speaker_id] = self.gender_of(name)
            usable = _holds_a_name_word(alias, name) if names_only else self.gender[speaker_id]
            if usable and (pattern := self.pattern(alias)):
                self.patterns.append((speaker_id, alias, pattern))

    def gender_of(self, name: str) -> str:
        parts = [re.sub(r"[^а-яёА-ЯЁ-]", "", p) for p in name.split()]
        parts = [p for p in parts if p.strip("-")]
        if len(parts) == 3:  # Имя Отчество Фамилия
            if re.search(r"..(вич|ич)$", parts[1].lower()):
                return "masc"
            if re.search(r"..(вна|чна)$", parts[1].lower()):
                return "femn"
        if len(parts) >= 2:
            first = parts[0].split("-")[-1]
            names = [p for p in self.morph.parse(first) if "Name" in p.tag and p.tag.gender in ("masc", "femn")]
            if names:
                return max(names, key=lambda p: p.score).tag.gender
        surname = re.sub(r".*[^а-яё]", "", name.lower().replace("ё", "е"))  # В.Путин → путин
        if re.search(r"..(ов|ев|ин|ын|ский|цкий)$", surname):
            return "masc"
        if re.search(r"..(ова|ева|ина|ына|ская|цкая)$", surname):
            return "femn"
        return ""

    def _common_word(self, word: str):
        """The singular nominative reading of a common noun or adjective ("лидер",
        "российский"), or None for a name (or a word the dictionary does not know)."""
        parses = self.morph.parse(word)
        if any(_NAME_TAGS & p.tag.grammemes for p in parses):
            return None
        return next(
            (p for p in parses if p.is_known and p.tag.POS in ("NOUN", "ADJF") and {"nomn", "sing"} <= p.tag.grammemes),
            None,
        )

    def forms(self, word: str, parse) -> set[str]:
        prefix, last = re.match(r"^(.*?)([а-яёА-ЯЁ]*)$", word).groups()
        if len(last) < 2:
            return {word}
        if parse is not None:  # a common word: the dictionary knows its forms
            found = {
                f.word
                for f in parse.lexeme
                if f.tag.POS == parse.tag.POS and "sing" in f.tag.grammemes and f.tag.gender == parse.tag.gender
            } or {last.lower()}
            endings = {form if last[0].islower() else form[:1].upper() + form[1:] for form in found}
        elif last[-1].lower() in "бвгджзклмнпрстфхцчшщ":
            endings = {last + e for e in _CONSONANT_ENDINGS}
        else:
            ending = next((pair for pair in _CASE_ENDINGS if last.lower().endswith(pair[0])), None)
            endings = {last[: -len(ending[0])] + e for e in ending[1]} if ending else {last}  # Шойгу: indeclinable
        return {prefix + e.replace("ё", "е") for e in endings}

    def pattern(self, alias: str) -> re.Pattern | None:
        words = alias.replace("ё", "е").replace("Ё", "Е").split()
        if not words:
            return None
        parses = [self._common_word(w) for w in words]
        # "Президент России": the head noun (and words before it) decline, its complement does not.
        head = next((i for i, p in enumerate(parses) if p is not None and p.tag.POS == "NOUN"), len(words) - 1)
        parts = []
        for i, word in enumerate(words):
            forms = self.forms(word, parses[i]) if i <= head else {word}
            if word[:1].islower():  # "российский лидер" may open a sentence
                forms |= {f[:1].upper() + f[1:] for f in forms}
            parts.append("(?:" + "|".join(map(re.escape, sorted(forms, key=len, reverse=True))) + ")")
        return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)")

    def mentions(self, text: str) -> dict[int, tuple[str, bool]]:
        """speaker → (the longest alias found, named in the nominative somewhere)."""
        text = text.replace("\u00a0", " ").replace("ё", "е").replace("Ё", "Е")
        found: dict[int, tuple[str, bool]] = {}
        for speaker_id, alias, pattern in self.patterns:
            for match in pattern.finditer(text):
                nominative = normalize_name(match.group()) == normalize_name(alias)
                best, was_nominative = found.get(speaker_id, ("", False))
                found[speaker_id] = (max(best, alias, key=len), was_nominative or nominative)
        return found

    def choose(self, text: str, gender: str) -> tuple[int, str] | None:
        """The one person of this gender `text` names; of several, the one named in the
        nominative (the subject: "Путин встретился с Токаевым"); else None."""
        found = {s: m for s, m in self.mentions(text).items() if self.gender.get(s) == gender}
        if len(found) > 1:
            found = {s: m for s, m in found.items() if m[1]}
        if len(found) == 1:
            ((speaker_id, (alias, _)),) = found.items()
            return speaker_id, alias
        return None

    def resolve(self, utterances) -> dict[int, tuple[int, str]]:
        """A pronoun goes to the person named just before its quote: in the same paragraph
        (outside quotes), else in the paragraph before the quote, else to whoever the
        previous quote's same pronoun went to. No match, or no agreeing gender: none."""
        resolved: dict[int, tuple[int, str]] = {}
        items = list(utterances)
        for i, u in enumerate(items):
            gender = PRONOUNS.get(normalize_name(u.attribution)) if not u.label else None
            if not gender:
                continue
            start = i  # the paragraph the quote opens in: a quote may span several
            while start > 0 and not items[start].text.startswith("«") and items[start - 1].attribution == u.attribution:
                start -= 1
            opening = _last_quote_start(items[start].text)
            choice = self.choose(_outside_quotes(items[start].text[:opening]), gender)
            if choice is None and start > 0:
                before = items[start - 1]
                choice = self.choose(_outside_quotes(before.text), gender)
                if choice is None and normalize_name(before.attribution) == normalize_name(u.attribution):
                    choice = resolved.get(before.seq)
            if choice:
                resolved[u.seq] = choice
        return resolved


def _holds_a_name_word(alias: str, name: str) -> bool:
    def words(text: str) -> set[str]:
        return set(re.findall(r"[а-яё]{3,}", normalize_name(text)))

    return bool(words(name) & words(alias))


def _outside_quotes(text: str) -> str:
    """The narration: «quoted» words are the speaker's, not who the text names."""
    out, depth = [], 0
    for char in text:
        if char == "«":
            depth += 1
            out.append(" ")
        elif char == "»" and depth:
            depth -= 1
            out.append(" ")
        elif depth == 0:
            out.append(char)
    return "".join(out)


def _last_quote_start(text: str) -> int:
    """Where the last top-level «quote» in a paragraph opens (its length if none)."""
    start, depth = len(text), 0
    for i, char in enumerate(text):
        if char == "«":
            if depth == 0:
                start = i
            depth += 1
        elif char == "»" and depth:
            depth -= 1
    return start
