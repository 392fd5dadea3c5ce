"""One pymorphy3 analyzer per process (it loads its dictionaries once, ~0.5 s): shared
by the search syntax's word forms and ingest's pronoun attribution. Pure Python."""

import functools


@functools.lru_cache(maxsize=1)
def analyzer():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()
