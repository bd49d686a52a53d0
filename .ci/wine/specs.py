# Reads Ginkgo's JSON report of a Wine run (argv[1]) and checks what CI needs
# of it; exits non-zero naming what is missing.
#
#   specs.py REPORT --list                 one line per spec: state, name, first line of a failure
#   specs.py REPORT --passed LABEL...      each label has a passing spec (a run whose specs all
#                                          skipped would otherwise pass)
#   specs.py REPORT --failed LABEL...      each label has a failed spec (a defect was injected: a
#                                          mechanism whose check cannot fail does not pass this)
#   specs.py REPORT --passing TEXT         specs whose name holds TEXT ran, and every one of them
#                                          passed (the cases an injected defect must not touch)
import argparse, json

ap = argparse.ArgumentParser()
ap.add_argument("report")
ap.add_argument("--list", action="store_true")
ap.add_argument("--passed", nargs="+", default=[])
ap.add_argument("--failed", nargs="+", default=[])
ap.add_argument("--passing", action="append", default=[])
args = ap.parse_args()

specs = [s for suite in json.load(open(args.report)) for s in suite.get("SpecReports") or [] if s.get("LeafNodeType") == "It"]


def labels(s):
    out = set(s.get("LeafNodeLabels") or [])
    for c in s.get("ContainerHierarchyLabels") or []:
        out.update(c or [])
    return out


def name(s):
    return (" ".join(s.get("ContainerHierarchyTexts") or []) + " " + s.get("LeafNodeText", "")).strip()


def having(state):
    return [s for s in specs if s["State"] == state]


if args.list:
    for s in specs:
        line = f'{s["State"]:8} {name(s)}'
        why = ((s.get("Failure") or {}).get("Message") or "").strip().splitlines()
        if s["State"] != "passed" and why:
            line += "\n           " + why[0][:300]
        print(line)

problems = []
if args.passed:
    have = set().union(*(labels(s) for s in having("passed")))
    print("passed: %d specs; labels %s" % (len(having("passed")), sorted(have)))
    problems += [f"no passing spec labelled {l}" for l in args.passed if l not in have]
if args.failed:
    for s in having("failed"):
        print("failed as injected:", name(s)[-110:])
    have = set().union(*(labels(s) for s in having("failed")))
    problems += [f"no failed spec labelled {l}" for l in args.failed if l not in have]
for text in args.passing:
    ran = [s for s in specs if text in name(s) and s["State"] != "skipped"]
    if not any(s["State"] == "passed" for s in ran):
        problems.append(f"no spec named {text!r} passed")
    problems += [f"{s['State']}, want passed: {name(s)}" for s in ran if s["State"] != "passed"]
if problems:
    raise SystemExit("\n".join(problems))
