"""Importing transcripts: text in, meetings, statements and speakers out.

- parser.py: pure Python, no Django: bytes or text in, a Document dataclass out
  (tests/golden/ holds the full parse of each seed and of tests/golden/inputs/).
- files.py: finding and reading files safely (regular files only, no links out of
  the folder, the size checked before reading).
- ingest.py: the service `manage.py ingest` runs: one transaction per file, checks
  before writing, the report (report.py).
- speakers.py: the speaker directory and the label → speaker resolver; pronouns.py
  gives news quotes closed by «сказал он» to the person named just before.
- store.py: writing one document with upserts; reconcile.py keeps editors' work and
  reports conflicts with a changed file; locks.py makes concurrent ingests queue.
"""
