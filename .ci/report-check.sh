#!/usr/bin/env bash
# The HTML report in a real browser: runs secondary-ip-route-loss green and
# then red (its injected defect) in namespace labs, ingests both runs into a
# fresh results store, renders the report and loads it in headless Chromium
# (Debian's, installed if missing): a screenshot, and the DOM Chromium built,
# asserted on: the red run's failure is named as new, its lost route is in
# the failure's network state, the matrix has the scenario's row, and the page
# loads nothing from outside. Needs root (namespace labs).
# Output: out/report-check/{report.html,report.png,dom.html}.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "report-check: requires root: the suite runs build network namespaces" >&2; exit 1; }
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
	export PATH="$PATH:/usr/local/go/bin"
fi
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
command -v python3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null; }
if ! command -v chromium >/dev/null; then
	echo "report-check: installing chromium"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

start=$SECONDS
step() { printf '=== [%3ds] %s\n' $((SECONDS - start)) "$*"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=out/report-check
rm -rf "$out" && mkdir -p "$out"

step "build kbharness and the suite binary"
go build -o "$work/kbharness" ./cmd/kbharness
go test -c -o "$work/suites.test" ./suites

filter='secondary-ip-route-loss && netlink'
step "green run: $filter"
KBHARNESS_REPORT_DIR="$work/green" "$work/suites.test" -ginkgo.no-color -ginkgo.label-filter="$filter" >"$work/green.log" 2>&1 ||
	{ tail -40 "$work/green.log"; echo "report-check: the green run failed"; exit 1; }
step "red run: the same with KBHARNESS_INJECT=secondary-ip-route-loss"
if KBHARNESS_INJECT=secondary-ip-route-loss KBHARNESS_REPORT_DIR="$work/red" "$work/suites.test" -ginkgo.no-color -ginkgo.label-filter="$filter" >"$work/red.log" 2>&1; then
	echo "report-check: the red run passed with the defect injected"; exit 1
fi
grep -q 'the persistent route was deleted when' "$work/red/summary.txt" ||
	{ cat "$work/red/summary.txt"; echo "report-check: the red run failed, but not by losing the persistent route"; exit 1; }

step "ingest both (twice: the second time changes nothing) and render"
db="$work/results.db"
"$work/kbharness" results ingest --store "$db" "$work/green" "$work/red"
"$work/kbharness" results ingest --store "$db" "$work/red" | grep -q 'already in the store; nothing changed' ||
	{ echo "report-check: ingesting the red run again did not say it was there"; exit 1; }
"$work/kbharness" report --store "$db" -o "$out/report.html"

chrome() {
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --user-data-dir="$work/chrome" "$@" 2>>"$work/chrome.log"
}
page="file://$PWD/$out/report.html"
step "headless Chromium: screenshot and DOM"
chrome --screenshot="$PWD/$out/report.png" --window-size=1400,2000 "$page" >/dev/null
test -s "$out/report.png" || { cat "$work/chrome.log"; echo "report-check: no screenshot"; exit 1; }
chrome --dump-dom "$page" >"$out/dom.html"

step "assertions on the DOM"
python3 - "$out/dom.html" <<'EOF'
import sys
from html.parser import HTMLParser

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr", "rect"}

class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.parts = tag, dict(attrs), parent, [], []
    def all(self):
        yield self
        for c in self.children:
            yield from c.all()
    def find(self, tag=None, **attrs):
        return [n for n in self.all() if (tag is None or n.tag == tag) and all(
            v in (n.attrs.get(k.rstrip("_"), "") or "").split() or n.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())]
    def content(self):  # the text inside, in document order, one space between elements
        return " ".join(p if isinstance(p, str) else p.content() for p in self.parts).strip()

class Tree(HTMLParser):
    def __init__(self):
        super().__init__()
        self.root = self.cur = Node("#root", [], None)
    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        self.cur.parts.append(n)
        if tag not in VOID:
            self.cur = n
    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent
    def handle_data(self, data):
        self.cur.parts.append(data)

dom = open(sys.argv[1], encoding="utf-8").read()
t = Tree()
t.feed(dom)
root = t.root
failed = []

def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + (": " + detail if detail else ""))
    if not ok:
        failed.append(what)

scenario, route = "secondary-ip-route-loss", "default via 192.0.2.1"
news = [li for li in root.find("li", class_="change-regression") if li.attrs.get("data-scenario") == scenario]
check("the red run's failure is named as new since the previous run", len(news) == 1,
      news[0].content().strip() if news else "no change-regression item for " + scenario)

runs = root.find("section", class_="run")
check("two runs shown, newest first", len(runs) == 2, f"{len(runs)} run sections")
if runs:
    row = [r for r in runs[0].find("tr") if r.attrs.get("data-scenario") == scenario]
    check("the red run's verdict for the scenario is fail", bool(row) and "fail" in row[0].content(),
          " ".join(row[0].content().split()) if row else "no row")
    fails = [d for d in runs[0].find("div", class_="failure") if d.attrs.get("data-scenario") == scenario]
    check("the red run lists its failures", len(fails) > 0, f"{len(fails)} failures")
    if fails:
        sections = {s.attrs.get("data-section", ""): s for s in fails[0].find("details", class_="section")}
        check("the failure has its diff and event timeline", any(k.startswith("diff") for k in sections) and "event timeline" in sections,
              ", ".join(sections))
        where = [k for k, s in sections.items() if any(route in n.content() for n in s.find("span", class_="lost"))]
        check(f'the lost route ("{route}") is marked in the failure\'s network state', bool(where), "in: " + ", ".join(where))
        in_diff = [k for k in sections if k.startswith("diff") and route in sections[k].content()]
        if not in_diff:
            print(f"note the diff is between the start point and the end, and the start point precedes the route: "
                  f"the route is lost in the event timeline, not in the diff")
    greens = [r for r in runs[-1].find("tr") if r.attrs.get("data-scenario") == scenario]
    check("the green run's verdict for the scenario is pass", bool(greens) and "pass" in greens[0].content())

mrow = [r for t in root.find("table", class_="matrix") for r in t.find("tr") if r.attrs.get("data-scenario") == scenario]
check("the matrix has the scenario's row", len(mrow) == 1, " ".join(mrow[0].content().split()) if mrow else "")
flakes = [r for r in root.find("tr") if r.attrs.get("data-scenario") == scenario and "data-platform" in r.attrs]
check("the flakes table has the scenario, one flip", bool(flakes) and flakes[0].find("td", class_="flips")[0].content() == "1",
      " ".join(flakes[0].content().split()) if flakes else "")
external = [n.tag + " " + k + "=" + v for n in root.all() for k, v in n.attrs.items()
            if k in ("src", "href") and v and not v.startswith("#")] + [n.tag for n in root.all() if n.tag in ("script", "link", "iframe")]
check("nothing loaded from outside the page", not external, ", ".join(external))

if failed:
    print(f"report-check: {len(failed)} assertion(s) failed")
    sys.exit(1)
print("report-check: all assertions passed")
EOF
step "done: $out/report.html, $out/report.png, $out/dom.html"
