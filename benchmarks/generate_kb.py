"""Generate a synthetic knowledge base of N service guides (default 5000) from the 36 bundled ones.

Guide n (1..N) is a copy of bundled guide ``(n-1) % 36`` for town number ``(n-1) // 36 + 1``:

- id ``<base-id>-<n>`` (and file ``<base-id>-<n>.md``);
- title, every alias and every sample question prefixed with a generated town name
  (青石镇, 柳河街道, …; ``第N街道`` once the generated names run out), so no title or alias is
  ever claimed by two guides (the validator rejects that);
- ``示例区`` becomes ``示例区<town>`` everywhere (departments, contact units, addresses, source),
  window numbers (``N号窗口``) and the digits of every ``0000-…`` phone number are re-drawn
  from a seeded RNG: every chunk text differs, so a cold build really embeds every chunk.

The text is edited line by line, so YAML formatting, line numbers and sections stay as written.
The result passes ``index_builder.py validate`` with GOVQA_GUIDES_DIR pointing at it (checked
with ``--validate``, which points GOVQA_DOCUMENTS_DIR at an empty folder).

    var/venv-app/bin/python benchmarks/generate_kb.py var/bench/kb-5000 --count 5000 --validate

``edit_material_line`` changes the first 申请材料 line of one guide; bench_large uses it to
simulate an admin's edit.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

import _common

GUIDES_DIR = _common.ROOT / "knowledge" / "guides"
REGION = "示例区"

_FIRST = "青石柳云松桃金白龙凤梅清东南西北新长安永和丰平"
_SECOND = "河山湖溪林塘湾桥岭坪口泉港园洲坝"
_SUFFIXES = ("镇", "街道", "乡")
_ALIASES = re.compile(r"^aliases:\s*\[(.*)\]\s*$")
_QUESTION_ITEM = re.compile(r"^(\s+-\s+)(.+)$")
_WINDOW = re.compile(r"\d+号窗口")
_PHONE = re.compile(r"0000-\d{7}")
_MATERIAL_ITEM = re.compile(r"^(\d+\s*[.、．)）]\s*)(.*?)(（修订[0-9a-z]+）)?$")


def town_name(number: int) -> str:
    """A distinct, plausible town name for town 1, 2, …; ``第N街道`` after the generated ones."""
    names = [f"{a}{b}{suffix}" for suffix in _SUFFIXES for a in _FIRST for b in _SECOND]
    return names[number - 1] if 1 <= number <= len(names) else f"第{number}街道"


def bundled_guides(folder: Path = GUIDES_DIR) -> list[Path]:
    return sorted(path for path in folder.glob("*.md") if path.name.lower() != "readme.md")


def derive_guide(text: str, base_id: str, number: int, town: str, rng: random.Random) -> str:
    """One synthetic guide from a bundled guide's text."""
    lines = text.splitlines()
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    out: list[str] = []
    in_questions = False
    area = f"{rng.randrange(1000):04d}"
    for index, line in enumerate(lines):
        if 0 < index < end:  # YAML front matter
            if line.startswith("id:"):
                line = f"id: {base_id}-{number}"
            elif line.startswith("title:"):
                line = f"title: {town}{line.split(':', 1)[1].strip()}"
            elif match := _ALIASES.match(line):
                aliases = [alias.strip() for alias in match.group(1).split(",") if alias.strip()]
                line = "aliases: [" + ", ".join(f"{town}{alias}" for alias in aliases) + "]"
            if not line.startswith((" ", "\t", "-")):
                in_questions = line.startswith("questions:")
            elif in_questions and (match := _QUESTION_ITEM.match(line)):
                line = f"{match.group(1)}{town}{match.group(2)}"
        line = line.replace(REGION, REGION + town)
        line = _WINDOW.sub(lambda _m: f"{rng.randint(1, 60)}号窗口", line)
        line = _PHONE.sub(lambda _m: f"{area}-{rng.randrange(10**7):07d}", line)
        out.append(line)
    return "\n".join(out) + "\n"


def generate(target: Path, count: int = 5000, *, seed: int = 0, source: Path = GUIDES_DIR) -> list[Path]:
    """Write `count` guides into `target` (its old *.md files are removed first)."""
    bases = bundled_guides(source)
    if not bases:
        raise SystemExit(f"no guides in {source}")
    texts = {path.stem: path.read_text(encoding="utf-8") for path in bases}
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.md"):
        old.unlink()
    rng = random.Random(seed)
    written = []
    for number in range(1, count + 1):
        base = bases[(number - 1) % len(bases)].stem
        town = town_name((number - 1) // len(bases) + 1)
        path = target / f"{base}-{number}.md"
        path.write_text(derive_guide(texts[base], base, number, town, rng), encoding="utf-8")
        written.append(path)
    return written


def edit_material_line(path: Path, tag: str) -> str:
    """Change the first 申请材料 item of a guide, as an admin would: append "（修订<tag>）".

    An earlier tag is replaced, so repeated edits never grow the file. Returns the new line.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("## 申请材料")
    for index in range(start + 1, len(lines)):
        match = _MATERIAL_ITEM.match(lines[index])
        if match:
            lines[index] = f"{match.group(1)}{match.group(2)}（修订{tag}）"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return lines[index]
    raise ValueError(f"{path}: no numbered line under ## 申请材料")


def validate(guides: Path) -> _common.ChildRun:
    """``index_builder.py validate`` on the generated guides, with no policy documents."""
    empty = _common.BENCH_VAR / "empty-documents"
    empty.mkdir(parents=True, exist_ok=True)
    env = {"GOVQA_GUIDES_DIR": str(guides), "GOVQA_DOCUMENTS_DIR": str(empty)}
    return _common.run_child([_common.python(), "index_builder.py", "validate"], env, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", type=Path, nargs="?", default=_common.BENCH_VAR / "kb-5000")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--validate", action="store_true", help="run index_builder.py validate on the result")
    args = parser.parse_args(argv)
    target = args.target.resolve()
    if target == GUIDES_DIR.resolve():
        parser.error("refusing to overwrite the bundled guides")

    started = time.perf_counter()
    files = generate(target, args.count, seed=args.seed)
    seconds = time.perf_counter() - started
    size_mb = sum(path.stat().st_size for path in files) / 1e6
    rows: list[list[object]] = [["guides written", len(files)], ["size (MB)", round(size_mb, 1)], ["generation (s)", round(seconds, 2)]]
    report: dict[str, object] = {"target": str(target), "count": len(files), "size_mb": round(size_mb, 2),
                                 "generate_seconds": round(seconds, 3), "seed": args.seed}
    status = 0
    if args.validate:
        run = validate(target)
        last = run.output.strip().splitlines()[-1] if run.output.strip() else ""
        rows += [["validate wall (s)", round(run.seconds, 2)], ["validate peak RSS (MB)", round(run.max_rss_mb)], ["validate", last]]
        report["validate"] = {**run.as_dict(), "summary": last}
        status = 0 if run.returncode == 0 else 1
        if run.returncode != 0:
            print(run.output[-3000:], file=sys.stderr)
    print(_common.markdown_table(["generate_kb", "value"], rows))
    print(f"report: {_common.write_report('generate_kb', report)}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
