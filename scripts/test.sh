#!/usr/bin/env bash
# The test command: installs what is missing (idempotent), builds, runs every test.
#   scripts/test.sh [pytest args...]
# Same environment as the demo: scripts/setup.sh installs requirements.lock, nothing else.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/setup.sh"
set +u; source "$ROOT/scripts/env.sh"; set -u
cd "$ROOT"
exec python -m pytest "$@"
