"""Transcripts written for the tests, in the kremlin.ru 'copy' layout the seeds use."""

from __future__ import annotations

import itertools

SPEAKERS = ("В.Путин", "К.-Ж.Токаев")


def transcript(
    turns: int | list[tuple[str, str] | str],
    *,
    title: str = "Переговоры с Президентом Казахстана",
    start: str = "2023-11-09 14:30:00",
    place: str = "Астана",
    url: str = "http://kremlin.ru/events/president/transcripts/99999",
    lead: str = "Переговоры прошли в узком и расширенном составах.",
) -> str:
    """A transcript with `turns` alternating turns of Putin and Tokayev (each text names
    its number, «Реплика номер 17.»), or the turns given: (label, text) pairs, or lines
    as written («В.Путин: Добрый день.»). The lead is
    statement 1 when there is one; lead="" leaves it out, so turn n is statement n."""
    if isinstance(turns, int):
        labels = itertools.cycle(SPEAKERS)
        turns = [
            (next(labels), f"Реплика номер {n}. Обсудили сотрудничество в энергетике.") for n in range(1, turns + 1)
        ]
    body = "\n".join(turn if isinstance(turn, str) else f"{turn[0]}: {turn[1]}" for turn in turns)
    return f"{title}\n\n{start}\n\n{place}\n\n{lead + chr(10) * 2 if lead else ''}{body}\n\n{url}\n"
