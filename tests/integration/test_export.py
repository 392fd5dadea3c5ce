"""manage.py export and /data/: a release round-trips (every published statement once,
nothing unpublished, CSV and JSON Lines agree, checksums match); a failed export leaves
nothing; the /data/ page lists the latest release and serves its files."""

import csv
import hashlib
import io
import json

import pytest
from django.core.management import call_command

from transcripts import export
from transcripts.models import Meeting, Speaker, Utterance

pytestmark = pytest.mark.django_db

HIDDEN = "002_dc2adfdd6de3dfa8.txt"
SITE = "https://archive.example"
OBJECTS = ("meetings", "speakers", "statements")


@pytest.fixture
def hidden(archive):
    Meeting.objects.filter(source_file=HIDDEN).update(is_published=False)
    return Meeting.objects.get(source_file=HIDDEN)


@pytest.fixture
def exports(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


def run_export(folder):
    call_command("export", output=folder, site_url=SITE + "/", stdout=io.StringIO())
    return export.latest(folder)


def jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_release_round_trips_the_published_archive(hidden, exports):
    release = run_export(exports)
    files = {path.name for path in release.path.iterdir()}
    assert files == {f"{o}.{ext}" for o in OBJECTS for ext in ("jsonl", "csv")} | {
        "README.md",
        "manifest.json",
        "SHA256SUMS",
    }
    statements = jsonl(release.path / "statements.jsonl")
    ids = [s["id"] for s in statements]
    published = set(Utterance.objects.published().values_list("sid", flat=True))
    assert len(ids) == len(set(ids)) and set(ids) == published  # each published statement exactly once
    assert not set(ids) & set(Utterance.objects.filter(meeting=hidden).values_list("sid", flat=True))
    meetings = jsonl(release.path / "meetings.jsonl")
    assert {m["slug"] for m in meetings} == set(Meeting.objects.published().values_list("slug", flat=True))
    assert {s["meeting"] for s in statements} <= {m["slug"] for m in meetings}
    speakers = jsonl(release.path / "speakers.jsonl")
    assert all(s["statement_count"] > 0 for s in speakers)
    spoken = {s["speaker"]["slug"] for s in statements if s["speaker"]}
    assert {s["slug"] for s in speakers} == spoken
    u = Utterance.objects.published().select_related("meeting").get(sid=ids[0])
    assert statements[0]["text"] == u.text and statements[0]["url"] == f"{SITE}/statement/{u.sid}/"
    assert release.manifest["counts"] == {"meetings": len(meetings), "speakers": len(speakers), "statements": len(ids)}


def test_csv_and_json_lines_agree(archive, exports):
    release = run_export(exports)
    for name in OBJECTS:
        rows = jsonl(release.path / f"{name}.jsonl")
        with (release.path / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
            table = list(csv.DictReader(fh))
        assert list(table[0]) == list(export.FIELDS[name])
        assert len(table) == len(rows) > 0
        columns = list(export.FIELDS[name])
        for row, line in zip(rows, table, strict=True):
            assert [str(v) for v in export.csv_row(row, columns)] == list(line.values())
            if row.get("speaker"):
                assert (line["speaker_name"], line["speaker_slug"]) == (row["speaker"]["name"], row["speaker"]["slug"])
    assert "Токаев" in (release.path / "statements.csv").read_text(encoding="utf-8")


def test_checksums_match_the_files(archive, exports):
    release = run_export(exports)
    sums = dict(line.split("  ")[::-1] for line in (release.path / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {f["name"] for f in release.manifest["files"]} | {"manifest.json"}
    for name, digest in sums.items():
        assert hashlib.sha256((release.path / name).read_bytes()).hexdigest() == digest, name
    for entry in release.manifest["files"]:
        assert (release.path / entry["name"]).stat().st_size == entry["bytes"]
    # Readable by a web server that is another user (mkdtemp made the folder 0700).
    assert release.path.stat().st_mode & 0o777 == 0o755
    assert {(release.path / name).stat().st_mode & 0o777 for name in sums} == {0o644}


def test_the_readme_lists_every_field_and_the_licence(archive, exports):
    readme = (run_export(exports).path / "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in readme and "https://creativecommons.org/licenses/by/4.0/" in readme
    for fields in export.FIELDS.values():
        assert all(f"- `{field}`:" in readme for field in fields)


def test_a_failed_export_leaves_no_release(archive, exports, monkeypatch):
    first = run_export(exports)
    rows = export.rows

    def failing(url):
        for name, objects in rows(url):
            if name == "statements":
                raise RuntimeError("disk full")
            yield name, objects

    monkeypatch.setattr(export, "rows", failing)
    with pytest.raises(RuntimeError):
        run_export(exports)
    assert [p.name for p in exports.iterdir()] == [first.path.name]  # no partial folder, the old release stays
    assert export.latest(exports).path == first.path


def test_the_data_page_lists_the_latest_release(client, archive, exports):
    assert "Выгрузок пока нет." in client.get("/data/").content.decode()
    empty_tag = client.get("/data/")["ETag"]
    release = run_export(exports)
    html = client.get("/data/").content.decode()
    for entry in release.manifest["files"]:
        assert f'href="/data/{entry["name"]}"' in html and entry["sha256"] in html
    assert release.manifest["name"] in html and "CC BY 4.0" in html
    assert "No export yet" not in client.get("/en/data/").content.decode()
    response = client.get("/data/")
    assert response["ETag"] != empty_tag and response["Cache-Control"] == "public, no-cache"
    assert client.get("/data/", headers={"if-none-match": response["ETag"]}).status_code == 304


def test_the_files_download_as_written(client, archive, exports):
    release = run_export(exports)
    entry = next(f for f in release.manifest["files"] if f["name"] == "statements.csv")
    response = client.get("/data/statements.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8" and "attachment" in response["Content-Disposition"]
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == entry["sha256"]
    assert client.get("/data/SHA256SUMS").status_code == 200
    for name in ("../settings.py", "secret.txt", ".partial-x", "manifest.jsonl"):
        assert client.get(f"/data/{name}").status_code == 404


def test_only_the_newest_releases_are_kept(archive, exports, monkeypatch):
    names = iter(f"2030010{n}T000000Z" for n in range(1, 6))
    real_now = export.timezone.now

    class Clock:
        @staticmethod
        def now():
            return real_now().replace(year=2030, month=1, day=int(next(names)[6:8]))

    monkeypatch.setattr(export, "timezone", Clock)
    for _ in range(5):
        run_export(exports)
    assert len(export.releases(exports)) == export.KEEP_RELEASES
    assert export.latest(exports).path.name == "kzarchive-20300105T" + export.latest(exports).path.name[-7:]


def test_speakers_of_unpublished_meetings_only_are_left_out(hidden, exports):
    only_hidden = Speaker.objects.filter(utterances__meeting=hidden).exclude(utterances__published=True)
    slugs = {s["slug"] for s in jsonl(run_export(exports).path / "speakers.jsonl")}
    assert not slugs & set(only_hidden.values_list("slug", flat=True))
