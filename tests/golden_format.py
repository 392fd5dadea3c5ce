"""The checked-in form of a parse: what the golden files in tests/golden/ hold."""

from transcripts.parser import Document


def first_words(text: str, n: int = 6) -> str:
    return " ".join(text.replace("\u00a0", " ").split()[:n])


def golden_view(doc: Document) -> dict:
    return {
        "layout": doc.layout,
        "title": doc.title,
        "title_derived": doc.title_derived,
        "date": doc.date.isoformat(),
        "time": doc.time.isoformat() if doc.time else None,
        "location": doc.location,
        "kind": doc.kind,
        "url": doc.url,
        "lead": [first_words(p) for p in doc.lead],
        "sections": list(doc.sections),
        "omissions_after_utterance": list(doc.omissions),
        "utterances": [
            {
                "seq": u.seq,
                "line": u.line,
                "label": u.label,
                "remark": u.remark,
                "section": u.section,
                "attribution": u.attribution,
                "paragraphs": len(u.paragraphs),
                "chars": len(u.text),
                "first_words": first_words(u.text),
            }
            for u in doc.utterances
        ],
    }
