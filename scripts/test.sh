#!/usr/bin/env bash
# The test command: installs what is missing (idempotent), builds, runs every test.
#   scripts/test.sh [pytest args...]
# --bench also installs the trackers the benchmarks compare against: the test suite runs the
# tracker benchmark's quick mode.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/setup.sh" --bench
set +u; source "$ROOT/scripts/env.sh"; set -u
cd "$ROOT"
exec python -m pytest "$@"
