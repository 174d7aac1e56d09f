#!/usr/bin/env bash
# Every test of the project, in the order that fails fastest: build, typecheck, lint, Solidity, TypeScript.
# Runs under `npm test`, so `node` is the Node 24 from node_modules/.bin.
set -euo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
profile=default
[ "${CI:-}" = "true" ] && profile=ci

echo "== contracts: build + ABI generation"
node scripts/contracts.ts build
node scripts/gen-abis.ts

echo "== typecheck"
tsc --noEmit -p .
tsc --noEmit -p web

echo "== lint"
biome check .

echo "== contracts: forge test (profile $profile)"
FOUNDRY_PROFILE=$profile node scripts/contracts.ts test 2>&1 | tee "$logs/forge.log"

echo "== contracts: gas snapshot unchanged (default profile)"
node scripts/contracts.ts snapshot-check > "$logs/snapshot.log" 2>&1 || { tail -40 "$logs/snapshot.log"; exit 1; }

echo "== contracts: coverage gate (profile coverage; every file in src/ but interfaces: >= 95% of lines and of branches)"
node scripts/contracts-coverage.ts

if [ "$profile" = "ci" ] || [ "${PERDIEM_MUTANTS:-}" = "1" ]; then
  echo "== contracts: known mutants, each caught in the default profile (contracts/mutants.json)"
  node contracts/mutants.ts --jobs 2
fi

echo "== typescript: vitest"
sh scripts/ensure-chromium.sh
vitest run 2>&1 | tee "$logs/vitest.log"

node scripts/test-summary.ts "$logs/forge.log" "$logs/vitest.log"
