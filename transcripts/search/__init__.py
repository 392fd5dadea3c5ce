"""Full-text search over the statements (PostgreSQL, the kz_russian configuration).

- syntax.py: the user's search syntax and Russian word forms; pure Python.
- tsquery.py: a parsed query as a tsquery whose lexemes PostgreSQL wrote.
- engine.py: filters, counting (exact, or estimated from a sample), facets, ranking,
  the page of hits. The only hand-written SQL of the app, with the reasons.
- highlight.py: snippets and marked texts (ts_headline, escaped).
- suggest.py: did-you-mean over the VocabularyWord table.
- forms.py, views.py: the search page and its JSON; refine.py: its filter chips and
  the people its speaker picker lists.
"""
