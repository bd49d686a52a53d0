# Checks a run with an injected defect (Ginkgo's JSON report, argv[1]): for
# every label after it, some spec carrying that label failed; with
# --passing TEXT, at least one spec whose name contains TEXT ran, and every
# one that ran passed (the cases the
# defect must not touch, such as KB287032's FIFO workaround). A run that
# failed for some other reason, or whose check of one mechanism cannot
# fail, does not pass this.
import json, sys

args = sys.argv[2:]
passing = []
while "--passing" in args:
    i = args.index("--passing")
    passing.append(args[i + 1])
    del args[i : i + 2]
specs = [s for s in json.load(open(sys.argv[1]))[0]["SpecReports"] if s["LeafNodeType"] == "It"]


def labels(s):
    out = set(s.get("LeafNodeLabels") or [])
    for c in s.get("ContainerHierarchyLabels") or []:
        out.update(c or [])
    return out


def name(s):
    return " ".join(s.get("ContainerHierarchyTexts") or []) + " " + s.get("LeafNodeText", "")


failed = [s for s in specs if s["State"] == "failed"]
problems = [f"no failed spec labelled {l}" for l in args if not any(l in labels(s) for s in failed)]
for text in passing:
    matching = [s for s in specs if text in name(s) and s["State"] != "skipped"]
    if not any(s["State"] == "passed" for s in matching):
        problems.append(f"no spec named {text!r} passed")
    for s in matching:
        if s["State"] != "passed":
            problems.append(f"{s['State']}, want passed: {name(s)}")
for s in failed:
    print("failed as injected:", name(s).strip()[-110:])
if problems:
    sys.exit("\n".join(problems))
