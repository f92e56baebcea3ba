"""Checks a --report JSON file against docs/report-schema.md: the version,
and every field (top level, passes, calibration layers) documented there
with its type. Prints one line per section."""
import json
import re
import sys

report = json.load(open(sys.argv[1]))
doc = open(sys.argv[2]).read()


def documented(section):
    """field name -> type text, from the table under `section`."""
    body = doc.split(section, 1)[1].split("\n## ", 1)[0]
    fields = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        for name in re.findall(r"`([a-z_0-9]+)`", cells[0]):
            fields[name] = cells[1]
    return fields


TYPES = {"integer": int, "number": (int, float), "string": str,
         "array": list, "object": dict}


def check(obj, fields, where):
    for key, value in obj.items():
        if key not in fields:
            sys.exit(f"{where}: '{key}' is not in docs/report-schema.md")
        kind = fields[key].split()[0].rstrip(":")
        if not isinstance(value, TYPES[kind]) or isinstance(value, bool):
            sys.exit(f"{where}: '{key}' should be {fields[key]}, got {value!r}")


top = documented("## Top level")
check(report, top, "report")
print("version", report["schema_version"], "fields", len(report))
passes = documented("## Pass objects")
for entry in report["passes"]:
    check(entry, passes, f"pass {entry.get('pass')}")
print("passes", len(report["passes"]), "checked")
layers = documented("## Calibration layer objects")
for layer in report.get("calibration", []):
    check(layer, layers, f"layer {layer.get('location')}")
print("layers", len(report.get("calibration", [])), "checked")
choices = documented("## Sparsity objects")
for choice in report.get("sparsity", []):
    check(choice, choices, f"sparsity {choice.get('nodes')}")
print("sparsity", len(report.get("sparsity", [])), "checked")
