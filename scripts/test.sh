#!/usr/bin/env bash
# Sets up and runs every test: unit tests, engine tests, integration tests that start the real
# plexus binary over real plugins on loopback, and a scaffolded third-party plugin package.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build
swift build --build-tests
swift test --skip-build
scripts/check-scaffold.sh "$(swift build --show-bin-path)"
