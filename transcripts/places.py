"""Places the archive knows, in English: a meeting's location is Russian («Москва,
Кремль»); /en/ pages show each part the directory knows in English (Moscow, the
Kremlin), and leave the others as written."""

from __future__ import annotations

PLACES = {
    "Москва": "Moscow",
    "Кремль": "the Kremlin",
    "Московская область": "Moscow Region",
    "Ново-Огарёво": "Novo-Ogaryovo",
    "Ново-Огарево": "Novo-Ogaryovo",
    "Санкт-Петербург": "St Petersburg",
    "Сочи": "Sochi",
    "Мурманск": "Murmansk",
    "Волгоград": "Volgograd",
    "Курская область": "Kursk Region",
    "Оренбург": "Orenburg",
    "Омск": "Omsk",
    "Челябинск": "Chelyabinsk",
    "Астрахань": "Astrakhan",
    "Казань": "Kazan",
    "Астана": "Astana",
    "Нур-Султан": "Nur-Sultan",
    "Алма-Ата": "Almaty",
    "Алматы": "Almaty",
    "Акорда": "Akorda",
    "Казахстан": "Kazakhstan",
    "Бишкек": "Bishkek",
    "Минск": "Minsk",
    "Душанбе": "Dushanbe",
    "Ташкент": "Tashkent",
    "Самарканд": "Samarkand",
    "Ереван": "Yerevan",
    "Баку": "Baku",
    "Ашхабад": "Ashgabat",
    "Байконур": "Baikonur",
}


def in_english(location: str) -> tuple[str, bool]:
    """(the location with each known part in English, whether every part was known)."""
    parts = [p.strip() for p in location.split(",")]
    english = [PLACES.get(p) for p in parts]
    return ", ".join(e or p for e, p in zip(english, parts, strict=True)), all(english)
