#!/usr/bin/env bash
# Lints what no test here can run: the CI templates (ci-templates/) and run-vm.ps1.
#   actionlint (with shellcheck for run: scripts)  ci-templates/github-actions.yml
#   yamllint (.yamllint)                           every YAML file in ci-templates/
#   PowerShell syntax (tree-sitter-powershell)     run-vm.ps1 and the templates' PowerShell steps
#   PSScriptAnalyzer                               only where pwsh and the module exist (not here)
# Each linter is first shown a broken input it must reject. Exits 1 if any linter finds a
# problem (or cannot run), after running them all; prints the time taken.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
failed=()
work=out/lint
mkdir -p "$work"

log() { printf '\n=== %s\n' "$*"; }
apt_updated=
apt_install() {
	[ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
# must_reject NAME CMD...: the linter must fail on the broken input it is given.
must_reject() {
	local name=$1
	shift
	if "$@" >"$work/reject.log" 2>&1; then
		echo "$name accepted a broken input: it cannot fail"
		failed+=("$name (self-check)")
	else
		echo "$name rejects a broken input: ok"
	fi
}

if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
	export PATH="$PATH:/usr/local/go/bin"
fi
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
command -v shellcheck >/dev/null || apt_install shellcheck
command -v yamllint >/dev/null || apt_install yamllint
command -v node >/dev/null || apt_install nodejs npm

log "actionlint v1.7.12 (shellcheck $(shellcheck --version | sed -n 's/^version: //p'))"
actionlint=(go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 -config-file ci-templates/actionlint.yaml)
# shellcheck disable=SC2016 # literal $ on purpose
printf 'on: push\njobs:\n  a:\n    runs-on: [self-hosted, no-such-label]\n    steps:\n      - run: echo $UNQUOTED\n' >"$work/bad-workflow.yml"
must_reject actionlint "${actionlint[@]}" "$work/bad-workflow.yml"
"${actionlint[@]}" ci-templates/github-actions.yml && echo "actionlint: ci-templates/github-actions.yml ok" ||
	failed+=(actionlint)

log "yamllint $(yamllint --version | cut -d' ' -f2) (.yamllint)"
printf 'a:\n  b: 1\n   c: 2\n' >"$work/bad.yml"
must_reject yamllint yamllint --strict -c .yamllint "$work/bad.yml"
yamllint --strict -c .yamllint ci-templates/*.yml ci-templates/actionlint.yaml .yamllint &&
	echo "yamllint: ci-templates/*.yml ok" || failed+=(yamllint)

log "PowerShell syntax: tree-sitter-powershell 0.26.4 grammar (npm), run by web-tree-sitter 0.25.10"
# Not PowerShell's own parser: a grammar of the language. It catches unbalanced braces and
# parentheses, unterminated strings and here-strings, and malformed statements; it knows
# nothing of cmdlets, parameters or types. Known false positive: an empty script block `{}`.
if [ ! -f "$work/node/node_modules/tree-sitter-powershell/tree-sitter-powershell.wasm" ]; then
	(cd "$work" && mkdir -p node && cd node && { [ -f package.json ] || echo '{"private": true}' >package.json; } &&
		npm install --silent --ignore-scripts --no-audit --no-fund web-tree-sitter@0.25.10 tree-sitter-powershell@0.26.4)
fi
cat >"$work/node/ps-syntax.cjs" <<'EOF'
// Parses each PowerShell file and prints every ERROR or MISSING node; exits 1 if any.
const { Parser, Language } = require('web-tree-sitter');
const fs = require('fs');
(async () => {
  await Parser.init();
  const lang = await Language.load(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'));
  const parser = new Parser();
  parser.setLanguage(lang);
  let bad = 0;
  for (const file of process.argv.slice(2)) {
    const root = parser.parse(fs.readFileSync(file, 'utf8')).rootNode;
    const walk = (n) => {
      if (n.isError || n.isMissing) {
        bad++;
        const what = n.isMissing ? `missing ${n.type}` : 'syntax error';
        console.log(`${file}:${n.startPosition.row + 1}:${n.startPosition.column + 1}: ${what}: ${n.text.slice(0, 60).replace(/\n/g, '\\n')}`);
        return;
      }
      for (const c of n.children) walk(c);
    };
    if (root.hasError) walk(root);
    else console.log(`${file}: parsed, ${root.descendantCount} nodes`);
  }
  process.exit(bad ? 1 : 0);
})();
EOF
# The templates' PowerShell steps, extracted to files of their own.
python3 - "$work" <<'EOF'
import sys, yaml
out = sys.argv[1]
def steps(node):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from steps(v)
    elif isinstance(node, list):
        for v in node:
            yield from steps(v)
n = 0
for path in ["ci-templates/github-actions.yml", "ci-templates/azure-pipelines.yml"]:
    for s in steps(yaml.safe_load(open(path))):
        script = s.get("powershell") or (s.get("run") if s.get("shell") in ("powershell", "pwsh") else None)
        if isinstance(script, str):
            n += 1
            name = f"{out}/step-{path.split('/')[-1].split('.')[0]}-{n}.ps1"
            open(name, "w").write(script)
            print(f"{path}: PowerShell step -> {name}")
if n == 0:
    sys.exit("no PowerShell step found in the templates")
EOF
# shellcheck disable=SC2016 # literal $ on purpose
printf 'function f {\n  if ($a) { "x"\n}\n$s = "unterminated\n' >"$work/bad.ps1"
must_reject "PowerShell syntax" node "$work/node/ps-syntax.cjs" "$work/bad.ps1"
node "$work/node/ps-syntax.cjs" run-vm.ps1 "$work"/step-*.ps1 || failed+=("PowerShell syntax")

log "PSScriptAnalyzer"
psa="PSScriptAnalyzer not run: no PowerShell"
if command -v pwsh >/dev/null && pwsh -NoProfile -Command 'if (-not (Get-Module -ListAvailable PSScriptAnalyzer)) { exit 1 }'; then
	pwsh -NoProfile -Command 'Invoke-ScriptAnalyzer -Path run-vm.ps1 -Severity Warning,Error -EnableExit' ||
		failed+=(PSScriptAnalyzer)
	psa="PSScriptAnalyzer"
else
	echo "PSScriptAnalyzer: NOT RUN. It needs PowerShell (pwsh), and there is none here: Debian bookworm"
	echo "has no powershell package ('apt-get install powershell': Unable to locate package), Microsoft's"
	echo "package repository and the PowerShell Gallery are not reachable from this machine, and npm's"
	echo "'pwsh' package downloads PowerShell from GitHub at install time. Run it on a Windows machine:"
	echo "  Install-Module PSScriptAnalyzer; Invoke-ScriptAnalyzer -Path run-vm.ps1 -Severity Warning,Error"
fi

log "lint: $((SECONDS - start)) s"
if [ "${#failed[@]}" -gt 0 ]; then
	echo "lint failed: ${failed[*]}"
	exit 1
fi
echo "lint passed: actionlint, yamllint, PowerShell syntax ($psa)"
