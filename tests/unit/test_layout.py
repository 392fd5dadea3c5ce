"""The README's layout table matches the repository: every path it names is tracked by
git, and every Python module of the two apps is named, by itself or by its folder."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def layout_paths() -> list[str]:
    section = README.read_text(encoding="utf-8").split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, re.MULTILINE)


def tracked() -> set[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    files = set(out.splitlines())
    return files | {str(Path(f).parent) + "/" for f in files} | {p for f in files for p in _folders(f)}


def _folders(path: str):
    parts = path.split("/")[:-1]
    return ("/".join(parts[: i + 1]) + "/" for i in range(len(parts)))


def test_every_path_in_the_layout_table_is_in_the_repository():
    paths = layout_paths()
    assert len(paths) > 40
    missing = [p for p in paths if p not in tracked()]
    assert not missing, f"README's layout table names paths git does not track: {missing}"


def test_every_module_of_the_apps_is_in_the_layout_table():
    named = layout_paths()
    modules = [
        f
        for f in tracked()
        if re.fullmatch(r"(kzarchive|transcripts)/.+\.py", f)
        and "/migrations/" not in f
        and not f.endswith("__init__.py")
    ]
    unnamed = [m for m in modules if not any(m == p or (p.endswith("/") and m.startswith(p)) for p in named)]
    assert not unnamed, f"modules missing from README's layout table: {unnamed}"
