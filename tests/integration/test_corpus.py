"""The shared kremlin.ru sample (102 real documents): every file ingests, and each
file's turns per label match truth.json. Skipped where ../shared/corpus is absent."""

import collections
import json

import pytest

from transcripts.importing.ingest import ingest_paths
from transcripts.importing.parser import parse_bytes
from transcripts.models import Meeting


def truth(corpus_dir):
    return json.loads((corpus_dir / "truth.json").read_text(encoding="utf-8"))


def label_counts(turns):
    return collections.Counter(f"{t.label} {t.remark}".strip() for t in turns)


def test_parser_matches_truth_for_every_file(corpus_dir):
    expected = truth(corpus_dir)
    assert len(expected) == 102
    for name, want in expected.items():
        doc = parse_bytes((corpus_dir / name).read_bytes(), name)
        assert label_counts(doc.turns) == want["labels"], name
        assert len(doc.turns) == want["turns"], name
        assert (str(doc.date), doc.time.strftime("%H:%M")) == (want["date"], want["time"]), name
        assert (doc.location, doc.url) == (want["place"], want["url"]), name
        assert doc.title.replace("\u00a0", " ") == want["title"].replace("\u00a0", " "), name


@pytest.mark.django_db
def test_every_corpus_file_ingests_with_its_turns(corpus_dir):
    expected = truth(corpus_dir)
    report = ingest_paths([corpus_dir])
    assert report.summary() == "102 files: 102 added, 0 updated, 0 unchanged, 0 failed"
    for name, want in expected.items():
        meeting = Meeting.objects.get(source_url=want["url"])
        turns = meeting.utterances.exclude(label="")
        assert label_counts(turns) == want["labels"], name
        assert all(t.speaker_id for t in turns), name
    assert ingest_paths([corpus_dir]).count("unchanged") == 102
