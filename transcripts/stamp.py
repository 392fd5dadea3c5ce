"""The archive's change stamp, and process caches keyed on it.

ArchiveChange holds one row that database triggers move on every write to the
archive (migration 0010), whichever process or host makes it. A value a process
derives from the archive (the speakers' name words, table counts) stays right
exactly as long as the stamp is the one it was computed at, so StampedCache
recomputes when the stamp differs: filled on first use, seen by every worker at
its next request after an ingest or an admin edit, and never dependent on a clock.

Within a request the stamp is read once (the HTTP cache reads it first); outside
one (management commands, tests) every use reads it afresh.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextvars import ContextVar
from typing import Generic, TypeVar

from django.core.signals import request_finished, request_started

from .models import ArchiveChange

_UNREAD = object()
_OUTSIDE = object()
_request_stamp: ContextVar = ContextVar("archive_stamp", default=_OUTSIDE)


def current() -> dt.datetime | None:
    """When the archive last changed; None if the stamp row is gone (a flushed test
    database), in which case nothing may be cached on it."""
    known = _request_stamp.get()
    if known is not _UNREAD and known is not _OUTSIDE:
        return known
    value = ArchiveChange.objects.values_list("changed_at", flat=True).filter(pk=1).first()
    if known is _UNREAD:
        _request_stamp.set(value)
    return value


def _request_begins(**kwargs) -> None:
    _request_stamp.set(_UNREAD)


def _request_ends(**kwargs) -> None:
    _request_stamp.set(_OUTSIDE)


request_started.connect(_request_begins, dispatch_uid="kzarchive-stamp-begin")
request_finished.connect(_request_ends, dispatch_uid="kzarchive-stamp-end")

T = TypeVar("T")


class StampedCache(Generic[T]):
    """One value derived from the archive, recomputed whenever the stamp moves."""

    def __init__(self, compute: Callable[[], T]):
        self.compute = compute
        self.clear()

    def get(self) -> T:
        stamp = current()
        if stamp is None or stamp != self._stamp:
            self._value, self._stamp = self.compute(), stamp
        return self._value

    def clear(self) -> None:
        self._value, self._stamp = None, None
