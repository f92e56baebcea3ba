#!/usr/bin/env python3
"""Runs the code blocks of a Markdown document, in order, the way a reader
would: ```sh blocks in bash (each with the `export` lines of the sh blocks
before it, stopping at the first failing command), ```python blocks with
the Python given, and ```c blocks written to the file that an
`<!-- file: PATH -->` line right above them names. ```text blocks are
sample output and are not run. Prints one line per block run and
"DOC: all N blocks ran"; exits 1 at the first block that fails, with its
output.

    scripts/run_doc_examples.py docs/tutorial.md --cwd DIR [--python PY]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```(\w*)\s*$")
FILE_MARK = re.compile(r"^<!--\s*file:\s*(\S+)\s*-->\s*$")


def blocks(text):
    """(language, code, file name or None, line number) of each block."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        language, start = match.group(1), i
        file_name = None
        if i > 0:
            mark = FILE_MARK.match(lines[i - 1])
            if mark:
                file_name = mark.group(1)
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        yield language, "\n".join(body) + "\n", file_name, start + 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("doc")
    parser.add_argument("--cwd", required=True)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    with open(args.doc, encoding="utf-8") as f:
        text = f.read()
    exports = []
    ran = 0
    for language, code, file_name, line in blocks(text):
        if language in ("", "text"):
            continue
        label = f"{args.doc}:{line}: {language}"
        if language == "c":
            if not file_name:
                print(f"{label}: a C block needs a '<!-- file: PATH -->' line "
                      "above it")
                return 1
            path = os.path.join(args.cwd, file_name)
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(code)
            print(f"{label} -> {file_name}")
            ran += 1
            continue
        prelude = "set -eo pipefail\n" + "".join(e + "\n" for e in exports)
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(code)
            script = f.name
        try:
            if language == "sh":
                command = prelude + code
            elif language == "python":
                command = prelude + f'exec "{args.python}" "{script}"\n'
            else:
                print(f"{label}: unknown block language '{language}'")
                return 1
            result = subprocess.run(["bash", "-c", command], cwd=args.cwd,
                                    capture_output=True, text=True)
        finally:
            os.unlink(script)
        if result.returncode != 0:
            print(f"{label}: FAILED (exit {result.returncode})")
            print(result.stdout + result.stderr)
            return 1
        print(f"{label} ok")
        ran += 1
        if language == "sh":
            exports += [l.strip() for l in code.splitlines()
                        if l.strip().startswith("export ")]
    print(f"{args.doc}: all {ran} blocks ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
