"""Checks an HTML compile report (kiln-compile --report=FILE.html): the two
drawings, the outlines of fused groups in the imported graph, and the node
table. Prints what it found for FileCheck."""
import html.parser
import sys


class Report(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.svgs = 0
        self.clusters = []   # labels of the outlined groups
        self.rows = []       # rows of the node table
        self._stack = []
        self._cell = None
        self._row = None
        self._in_nodes = False
        self._cluster_text = False
        self._last_g_cluster = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg":
            self.svgs += 1
        if tag == "g":
            self._last_g_cluster = attrs.get("class") == "cluster"
        if tag == "text" and self._last_g_cluster:
            self._cluster_text = True
        if tag == "table":
            self._in_nodes = attrs.get("id") == "nodes"
        if self._in_nodes and tag == "tr":
            self._row = []
        if self._in_nodes and tag == "td":
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "text" and self._cluster_text:
            self._cluster_text = False
            self._last_g_cluster = False
        if self._in_nodes and tag == "td" and self._row is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        if self._in_nodes and tag == "tr" and self._row:
            self.rows.append(self._row)
            self._row = None
        if tag == "table":
            self._in_nodes = False

    def handle_data(self, data):
        if self._cluster_text:
            self.clusters.append(data.strip())
        if self._cell is not None:
            self._cell += data


report = Report()
report.feed(open(sys.argv[1], encoding="utf-8").read())
print("svgs", report.svgs)
labels = sorted(set(report.clusters))
print("outlined", " ".join(f"{l}:{report.clusters.count(l)}" for l in labels))
became = {}
for row in report.rows:
    node, op, into = row[0], row[1], row[2]
    became.setdefault((op, into), 0)
    became[(op, into)] += 1
for (op, into), n in sorted(became.items()):
    print(f"node {op} -> {into}: {n}")
timed = [row for row in report.rows if len(row) > 7 and row[7]]
print("rows", len(report.rows), "timed", len(timed) > 0,
      "shares", all(row[8].endswith("%") or "%" in row[8] for row in timed))
