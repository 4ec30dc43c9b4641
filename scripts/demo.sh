#!/usr/bin/env bash
# The main job: real street footage (vtest.avi from Debian's opencv-doc) through the detector
# and tracker nodes over DDS; annotated video, output bag, tracks file and summary in out/.
#   scripts/demo.sh                          # best detector available here (else the HOG fallback)
#   scripts/demo.sh --max-frames 50          # a quick run
#   scripts/demo.sh --weights maskrcnn.pth --device cuda
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/setup.sh"
set +u; source "$ROOT/scripts/env.sh"; set -u
cd "$ROOT"
exec perception-demo "$@"
