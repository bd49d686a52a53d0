# Fails unless Ginkgo's JSON report (argv[1]) has passing specs labelled with every
# mechanism and scenario the Windows run must exercise: a run whose specs all
# skipped would otherwise pass.
import json, sys
r = json.load(open(sys.argv[1]))
passed = [s for s in r[0]["SpecReports"] if s["State"] == "passed" and s["LeafNodeType"] == "It"]
labels = set()
for s in passed:
    labels.update(s.get("LeafNodeLabels") or [])
    for c in s.get("ContainerHierarchyLabels") or []:
        labels.update(c or [])
want = ["route.exe", "netsh", "powershell", "iphlpapi-legacy", "winipcfg", "KB287032", "KB2901197", "KB943650"]
missing = [w for w in want if w not in labels]
print("passed under Wine: %d specs; labels %s" % (len(passed), sorted(labels)))
if missing:
    sys.exit("no passing spec labelled " + ", ".join(missing))
