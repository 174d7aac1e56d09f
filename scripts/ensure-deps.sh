#!/bin/sh
# Installs the project's dependencies when they are missing or older than package-lock.json.
# The `node` package among them brings Node 24 into node_modules/.bin, which npm scripts put first on PATH,
# so a machine that only has Node 20 runs everything on Node 24.
set -e
cd "$(dirname "$0")/.."
marker=node_modules/.package-lock.json
if [ ! -x node_modules/.bin/node ] || [ ! -f "$marker" ] || [ package-lock.json -nt "$marker" ]; then
  # `npm install`, not `npm ci`: the lock pins every version either way, but `npm ci` refuses a lock whose
  # optional platform packages (darwin, win32, android builds) the registry in use does not serve.
  echo "perdiem: installing dependencies…" >&2
  npm install --no-audit --no-fund
fi
