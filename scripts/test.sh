#!/usr/bin/env bash
# Sets up and runs every test: unit tests, the engine tests, and the integration tests that
# start the real plexus binary over real plugins on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build
swift build --build-tests
swift test --skip-build
