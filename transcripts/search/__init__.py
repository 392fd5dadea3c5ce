"""Full-text search over the statements (PostgreSQL, the kz_russian configuration).

- syntax.py: the user's search syntax and Russian word forms; pure Python.
- tsquery.py: a parsed query as a tsquery whose lexemes PostgreSQL wrote, and how the
  indexes find it (phrases of adjacent words by their pairs).
- engine.py: a search: the filters, then counting.py (exact counts and facets, or
  estimates from the 10% sample) and ranking.py (the relevance score, the page of hits by
  relevance or date), which champions.py (the best statements per frequent lexeme) lets
  rank every match. The app's hand-written search SQL is in these four, with the reasons.
- highlight.py: snippets and marked texts (ts_headline, escaped).
- suggest.py: did-you-mean over the VocabularyWord table.
- forms.py, views.py: the search page and its JSON; refine.py: its filter chips and
  the people its speaker picker lists.
"""
