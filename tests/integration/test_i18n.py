"""The Russian catalogue is complete and its compiled .mo matches the .po."""

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale"


def catalog(mo_path):
    with open(mo_path, "rb") as fh:
        return gettext.GNUTranslations(fh)._catalog


@pytest.mark.parametrize("language", ["ru"])
def test_catalogue_is_complete_and_compiled(tmp_path, language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    text = po.read_text(encoding="utf-8")
    assert "#, fuzzy\nmsgid" not in text
    entries = [block for block in text.split("\n\n")[1:] if "msgid" in block]
    # An empty msgstr (or plural form) is one with no continuation line after its "".
    untranslated = [b for b in entries if re.search(r'^msgstr(\[\d\])? ""\n(?!")', b.rstrip() + "\n", re.M)]
    assert untranslated == []
    if not shutil.which("msgfmt"):
        pytest.skip("msgfmt (GNU gettext) is not installed")
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", fresh, po], check=True)
    assert catalog(fresh) == catalog(po.with_suffix(".mo")), "run `make messages` and commit the .mo"
