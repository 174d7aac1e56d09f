#!/bin/sh
# Installs the project's dependencies when they are missing or older than package-lock.json.
# The `node` package among them brings Node 24 into node_modules/.bin, which npm scripts put first on PATH,
# so a machine that only has an older Node runs everything on Node 24.
# When the Node on PATH is older than package.json's engines, npm would warn (EBADENGINE) about every package
# that needs a newer one: that Node first installs only the `node` package, at the lock's version, into a
# private prefix, and the full install runs on it.
set -e
cd "$(dirname "$0")/.."
marker=node_modules/.package-lock.json
if [ -x node_modules/.bin/node ] && [ -f "$marker" ] && [ ! package-lock.json -nt "$marker" ]; then
  exit 0
fi

# Exit 0 when the running Node satisfies package.json's ">=MAJOR.MINOR" engines range.
engines_ok='
  const range = JSON.parse(require("fs").readFileSync("package.json", "utf8")).engines?.node ?? "";
  const want = /^>=\s*(\d+)(?:\.(\d+))?/.exec(range);
  const [major, minor] = process.versions.node.split(".").map(Number);
  const ok = !want || major > Number(want[1]) || (major === Number(want[1]) && minor >= Number(want[2] ?? 0));
  process.exit(ok ? 0 : 1);
'

echo "perdiem: installing dependencies…" >&2
if node -e "$engines_ok"; then
  # `npm install`, not `npm ci`: the lock pins every version either way, but `npm ci` refuses a lock whose
  # optional platform packages (darwin, win32, android builds) the registry in use does not serve.
  npm install --no-audit --no-fund
  exit 0
fi

version=$(node -e 'process.stdout.write(require("./package-lock.json").packages["node_modules/node"]?.version ?? "")')
if [ -z "$version" ]; then
  echo "perdiem: package-lock.json pins no node package; install Node $(node -p 'require("./package.json").engines.node')" >&2
  exit 1
fi
echo "perdiem: Node $(node --version) is older than the project needs; fetching Node $version for the install…" >&2
bootstrap=$(mktemp -d "${TMPDIR:-/tmp}/perdiem-node.XXXXXX")
trap 'rm -rf "$bootstrap"' EXIT INT TERM
# An empty package.json keeps npm from looking for one in a parent directory.
echo '{"private":true}' >"$bootstrap/package.json"
npm install --prefix "$bootstrap" --no-audit --no-fund --no-save --loglevel=error "node@$version" >&2
PATH="$bootstrap/node_modules/.bin:$PATH" npm install --no-audit --no-fund
