"""/data/: the latest bulk export (transcripts/export.py), and its files.

These depend on the export folder, not on the archive's change stamp, so they carry
their own validators (the release's checksums) and Cache-Control; the archive's HTTP
cache leaves a response with Cache-Control alone."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import condition

from .export import LICENCE, MANIFEST, SUMS, latest
from .http_cache import query_params, release

CONTENT_TYPES = {
    ".jsonl": "application/x-ndjson; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".json": "application/json; charset=utf-8",
}


def _latest():
    return latest(Path(settings.EXPORT_DIR))


def _page_etag(request) -> str:
    found = _latest()
    tag = f"{found.manifest['name'] if found else '-'}|{release()}"
    return hashlib.sha256(tag.encode()).hexdigest()[:20]


def _file_etag(request, name: str) -> str | None:
    found = _latest()
    files = {f["name"]: f["sha256"] for f in found.manifest["files"]} if found else {}
    return files[name][:20] + found.manifest["name"] if name in files else None


def _revalidate(response):
    patch_cache_control(response, public=True, no_cache=True)
    return response


@query_params()
@condition(etag_func=_page_etag)
def data_page(request):
    found = _latest()
    context = {"release": found, "licence": LICENCE, "sums": SUMS, "manifest_name": MANIFEST}
    if found:
        context["created_at"] = parse_datetime(found.manifest["created_at"])
    return _revalidate(render(request, "transcripts/data.html", context))


@query_params()
@condition(etag_func=_file_etag)
def data_file(request, name):
    found = _latest()
    path = found.file(name) if found else None
    if path is None or not path.is_file():
        raise Http404("No such file")
    content_type = CONTENT_TYPES.get(path.suffix, "text/plain; charset=utf-8")
    return _revalidate(FileResponse(path.open("rb"), content_type=content_type, as_attachment=True, filename=name))
