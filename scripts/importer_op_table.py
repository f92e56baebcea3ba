#!/usr/bin/env python3
"""The ONNX operator table of docs/importer.md, made from the importer's registry.

Every `r.add("Op", versions, handler)` in lib/Frontend/ONNX/*.cpp is one
registration; the table lists each operator with its handler since-versions
and the file that registers it, sorted by operator name.

  importer_op_table.py SRC_ROOT            print the table
  importer_op_table.py SRC_ROOT --check    exit 1 (and show the difference)
                                           when docs/importer.md's table differs
  importer_op_table.py SRC_ROOT --update   rewrite the table in docs/importer.md
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

REGISTRATION = re.compile(r'r\.add\(\s*"([A-Za-z0-9]+)",\s*(\{[^}]*\}|\d+)')
HEADER = "| ONNX operator | handler since-versions | source |\n| --- | --- | --- |\n"


def table(src: Path) -> str:
    ops: dict[str, tuple[list[int], str]] = {}
    for path in sorted((src / "lib" / "Frontend" / "ONNX").glob("*.cpp")):
        for name, versions in REGISTRATION.findall(path.read_text()):
            numbers = [int(v) for v in re.findall(r"\d+", versions)]
            known, _ = ops.get(name, ([], path.name))
            ops[name] = (sorted(set(known + numbers)), path.name)
    rows = [f"| {op} | {', '.join(map(str, v))} | `{f}` |\n"
            for op, (v, f) in sorted(ops.items(), key=lambda item: item[0].lower())]
    return HEADER + "".join(rows)


def split_doc(text: str) -> tuple[str, str, str]:
    start = text.index(HEADER)
    end = start + len(HEADER)
    lines = text[end:].splitlines(keepends=True)
    rows = 0
    while rows < len(lines) and lines[rows].startswith("| "):
        rows += 1
    body_end = end + sum(len(l) for l in lines[:rows])
    return text[:start], text[start:body_end], text[body_end:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--update", action="store_true")
    args = parser.parse_args()
    generated = table(args.src)
    if not (args.check or args.update):
        sys.stdout.write(generated)
        return 0
    doc = args.src / "docs" / "importer.md"
    before, current, after = split_doc(doc.read_text())
    if args.update:
        doc.write_text(before + generated + after)
        return 0
    if current != generated:
        sys.stdout.writelines(difflib.unified_diff(
            current.splitlines(keepends=True), generated.splitlines(keepends=True),
            "docs/importer.md", "registry"))
        print("docs/importer.md: the op table differs from the registry; "
              "run scripts/importer_op_table.py . --update")
        return 1
    print(f"docs/importer.md: op table matches the registry "
          f"({generated.count(chr(10)) - 2} operators)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
