"""The checked-in form of a parse: what the golden files in tests/golden/ hold.

Every field of the Document and of each ParsedUtterance, with every text in full and
exactly as parsed (non-breaking spaces too), so any change to a parse shows in the diff.
The fields are read from the dataclasses, so a new field is in the view without an edit here.
"""

import dataclasses
import datetime as dt
import json

from transcripts.importing.parser import Document, ParsedUtterance


def _plain(value):
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, ParsedUtterance):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(ParsedUtterance)}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def golden_view(doc: Document) -> dict:
    return {f.name: _plain(getattr(doc, f.name)) for f in dataclasses.fields(Document)}


def dumps(view: dict) -> str:
    return json.dumps(view, ensure_ascii=False, indent=1) + "\n"


def _exact_fields(cls, view: dict) -> None:
    # A missing key would quietly take the field's default; an extra one is a stale file.
    names = [f.name for f in dataclasses.fields(cls)]
    if list(view) != names:
        raise ValueError(f"golden {cls.__name__} has keys {list(view)}, expected {names}")


def document_from_golden(view: dict) -> Document:
    """The Document a golden view describes, to compare with a parse by dataclass equality."""
    _exact_fields(Document, view)
    for u in view["utterances"]:
        _exact_fields(ParsedUtterance, u)
    return Document(
        **{
            **view,
            "date": dt.date.fromisoformat(view["date"]),
            "time": dt.time.fromisoformat(view["time"]) if view["time"] is not None else None,
            "lead": tuple(view["lead"]),
            "sections": tuple(view["sections"]),
            "omissions": tuple(view["omissions"]),
            "utterances": tuple(
                ParsedUtterance(**{**u, "paragraphs": tuple(u["paragraphs"])}) for u in view["utterances"]
            ),
        }
    )
