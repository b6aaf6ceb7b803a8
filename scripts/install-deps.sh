#!/usr/bin/env bash
# Installs the system packages Plexus needs on Debian, idempotently: nothing is downloaded
# when everything is already installed. Needs root (or sudo) only when something is missing.
set -euo pipefail

# node-llhttp ships llhttp's C sources (/usr/share/llhttp) and header; the CLLHTTP target compiles them.
packages=(libuv1-dev node-llhttp libwslay-dev libssl-dev libsqlite3-dev libffi-dev pkg-config gcc patch curl)
# The voice plugin: PocketSphinx recognition (library, en-us model), espeak-ng synthesis, soxr resampling.
packages+=(libpocketsphinx-dev pocketsphinx-en-us libespeak-ng-dev libsoxr-dev)
# The visualization plugin draws PNG and PDF with cairo, lays text out with pango, and ships with the DejaVu fonts;
# it deflates its PNGs with zlib.
packages+=(libcairo2-dev libpango1.0-dev fonts-dejavu-core zlib1g-dev)
# Its browser test drives headless Chromium over the DevTools protocol (skipped, saying so, when it is absent),
# as does the white-label plugin's landing-page test (screenshots of two tenants).
packages+=(chromium)
# Cluster mode on Redis (issue 20): hiredis with its libuv adapter; redis-server and redis-cli for its tests
# (they start their own server) and bench/cluster.sh (redis-benchmark).
packages+=(libhiredis-dev redis-server redis-tools)
# Plugin storage and the runtime's stores on PostgreSQL (issue 21): libpq for the client; the server for the
# tests, which initialise a throw-away cluster (initdb, pg_ctl) in a temp directory.
packages+=(postgresql libpq-dev)
# The .docx reader (issue 23): libzip opens the zip from memory, libxml2's streaming reader walks the XML.
packages+=(libzip-dev libxml2-dev)
if [ "${1:-}" = "--bench" ]; then
    packages+=(wrk nginx-light nodejs time)
    # bench/voice.sh: the plain pocketsphinx_continuous decoder it compares with, and the espeak-ng CLI.
    packages+=(pocketsphinx espeak-ng)
    # bench/voice-sets.py: held-out set C is spoken by flite, a second synthesiser.
    packages+=(flite)
fi

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "error: no Swift toolchain on PATH (Swift 6.0 or newer is required; this machine image ships it in /opt/swift)" >&2
    exit 1
fi
