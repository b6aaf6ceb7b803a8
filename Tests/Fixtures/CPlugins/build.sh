#!/usr/bin/env bash
# Builds the C plugin fixtures into DIR (default: ./c-fixtures): one good plugin and one
# broken plugin per loader failure mode. Usage: build.sh [DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-c-fixtures}"
mkdir -p "$out"
cc_plugin() { # name, then -D flags
    local name="$1"; shift
    cc -std=c11 -Wall -Werror -shared -fPIC -I"$here/../../../SDK/CPlexusABI/include" "$@" "$here/fixture.c" -o "$out/$name.so"
}
cc_plugin hello-c
cc_plugin greeter-c -DPLUGIN_NAME='"greeter-c"' -DROUTE_PATH='"/api/v1/c/greeter"' \
    -DDEPENDENCY_NAME='"hello-c"' -DDEPENDENCY_RANGE='"^1.2"' -DDEPENDENCY_REQUIRED=1
# Built against a newer minor of ABI 1 whose descriptor has grown: must still load and serve.
cc_plugin newer-minor -DPLUGIN_NAME='"newer-minor"' -DROUTE_PATH='"/api/v1/c/newer"' -DDESCRIPTOR_MINOR=11 \
    -DDESCRIPTOR_SIZE='(sizeof(plexus_plugin) + 16)'
# Declares its config keys (ABI 1.3): any other key in plugins.d/keys-c.toml fails it.
cc_plugin keys-c -DFIXTURE_CONFIG_KEYS -DPLUGIN_NAME='"keys-c"' -DROUTE_PATH='"/api/v1/c/keys"'
# Echoes the request headers it is handed (the gateway leaves out the credentials it consumed).
cc_plugin echo-headers-c -DFIXTURE_ECHO_HEADERS -DPLUGIN_NAME='"echo-headers-c"' -DROUTE_PATH='"/api/v1/c/headers"'
# The host-call contract of plexus_abi.h (inputs copied, no re-entrant callbacks, thread-safe calls, status codes).
cc -std=c11 -Wall -Werror -shared -fPIC -pthread -I"$here/../../../SDK/CPlexusABI/include" "$here/contract.c" -o "$out/contract-c.so"
# Linked with the Swift runtime, but built (so the descriptor claims) by another Swift: refused at load,
# once by the ABI 1.4 field and once by the "Swift X.Y" text of an ABI 1.3 descriptor.
swift_lib="$(dirname "$(readlink -f "$(command -v swiftc)")")/../lib/swift/linux"
swift_link=(-L"$swift_lib" -Wl,--no-as-needed -lswiftCore -Wl,-rpath,"$swift_lib")
cc_plugin swift-toolchain-field -DPLUGIN_NAME='"swift-toolchain-field"' -DROUTE_PATH='"/api/v1/c/toolchain-field"' \
    -DTOOLCHAIN='"Swift 5.9"' -DSWIFT_COMPILER=509 "${swift_link[@]}"
cc_plugin swift-toolchain-text -DPLUGIN_NAME='"swift-toolchain-text"' -DROUTE_PATH='"/api/v1/c/toolchain-text"' \
    -DDESCRIPTOR_MINOR=3 -DTOOLCHAIN='"Swift 5.10"' "${swift_link[@]}"
printf 'this is a text file, not a plugin\n' > "$out/garbage.so"
: > "$out/empty.so"
cc_plugin unresolved -DFIXTURE_UNRESOLVED -DPLUGIN_NAME='"unresolved"'
cc_plugin no-entry -DFIXTURE_NO_ENTRY -DPLUGIN_NAME='"no-entry"'
cc_plugin abi-v2-entry -DFIXTURE_ENTRY_V2 -DPLUGIN_NAME='"abi-v2-entry"'
cc_plugin abi-major -DDESCRIPTOR_MAJOR=2 -DPLUGIN_NAME='"abi-major"'
cc_plugin small-descriptor -DDESCRIPTOR_SIZE=16 -DPLUGIN_NAME='"small-descriptor"'
cc_plugin zz-duplicate   # same name as hello-c
cc_plugin missing-dep -DPLUGIN_NAME='"missing-dep"' -DROUTE_PATH='"/api/v1/c/missing"' \
    -DDEPENDENCY_NAME='"nonexistent"' -DDEPENDENCY_RANGE='"^1.0"' -DDEPENDENCY_REQUIRED=1
cc_plugin dep-version -DPLUGIN_NAME='"dep-version"' -DROUTE_PATH='"/api/v1/c/depversion"' \
    -DDEPENDENCY_NAME='"hello-c"' -DDEPENDENCY_RANGE='">=2.0.0 <3.0.0"' -DDEPENDENCY_REQUIRED=1
cc_plugin cycle-a -DPLUGIN_NAME='"cycle-a"' -DROUTE_PATH='"/api/v1/c/cycle-a"' \
    -DDEPENDENCY_NAME='"cycle-b"' -DDEPENDENCY_RANGE='"*"' -DDEPENDENCY_REQUIRED=1
cc_plugin cycle-b -DPLUGIN_NAME='"cycle-b"' -DROUTE_PATH='"/api/v1/c/cycle-b"' \
    -DDEPENDENCY_NAME='"cycle-a"' -DDEPENDENCY_RANGE='"*"' -DDEPENDENCY_REQUIRED=1
cc_plugin init-fails -DFIXTURE_INIT_FAILS -DPLUGIN_NAME='"init-fails"'
cc_plugin start-fails -DFIXTURE_START_FAILS -DPLUGIN_NAME='"start-fails"' -DROUTE_PATH='"/api/v1/c/start-fails"'
cc_plugin start-hangs -DFIXTURE_START_HANGS -DPLUGIN_NAME='"start-hangs"' -DROUTE_PATH='"/api/v1/c/start-hangs"'
# Starts after hello-c (optional dependency) and then claims hello-c's route.
cc_plugin route-collision -DPLUGIN_NAME='"route-collision"' \
    -DDEPENDENCY_NAME='"hello-c"' -DDEPENDENCY_RANGE='"*"' -DDEPENDENCY_REQUIRED=0
# Claims the path of the runtime's own /openapi.json: refused at registration, so it fails to load.
cc_plugin route-openapi -DPLUGIN_NAME='"route-openapi"' -DROUTE_PATH='"/openapi.json"'
# Crash containment (`plexus serve --supervise`): routes that kill or hang the worker, an on_start that crashes.
cc_plugin crash-segv -DFIXTURE_ROUTE_SEGV -DPLUGIN_NAME='"crash-segv"' -DROUTE_PATH='"/api/v1/c/segv"'
cc_plugin crash-abort -DFIXTURE_ROUTE_ABORT -DPLUGIN_NAME='"crash-abort"' -DROUTE_PATH='"/api/v1/c/abort"'
cc_plugin crash-hang -DFIXTURE_ROUTE_HANG -DPLUGIN_NAME='"crash-hang"' -DROUTE_PATH='"/api/v1/c/hang"'
cc_plugin crash-offloop -DFIXTURE_OFFLOOP_SEGV -DPLUGIN_NAME='"crash-offloop"' -DROUTE_PATH='"/api/v1/c/offloop"'
cc_plugin crash-reply -DFIXTURE_SERVICE_REPLY_SEGV -DPLUGIN_NAME='"crash-reply"' -DROUTE_PATH='"/api/v1/c/reply"'
cc_plugin crash-storage -DFIXTURE_STORAGE_CALLBACK_SEGV -DPLUGIN_NAME='"crash-storage"' -DROUTE_PATH='"/api/v1/c/storage"'
cc_plugin crash-thread -DFIXTURE_THREAD_SEGV -DPLUGIN_NAME='"crash-thread"' -DROUTE_PATH='"/api/v1/c/thread"'
cc_plugin crash-load -DFIXTURE_LOAD_CRASHES -DPLUGIN_NAME='"crash-load"' -DROUTE_PATH='"/api/v1/c/crash-load"'
cc_plugin crash-load-worker -DFIXTURE_LOAD_CRASHES_IN_WORKER -DPLUGIN_NAME='"crash-load-worker"' -DROUTE_PATH='"/api/v1/c/crash-load-worker"'
cc_plugin crash-start -DFIXTURE_START_CRASHES -DPLUGIN_NAME='"crash-start"' -DROUTE_PATH='"/api/v1/c/crash-start"'
# Memory containment: a route that allocates (and touches) without bound on the loop thread, and one
# that keeps 96 MB more per call and answers (a leak the memory ceiling recycles gracefully).
cc_plugin mem-hog -DFIXTURE_ROUTE_ALLOCATES -DALLOCATE_MB=0 -DPLUGIN_NAME='"mem-hog"' -DROUTE_PATH='"/api/v1/c/hog"'
cc_plugin mem-leak -DFIXTURE_ROUTE_ALLOCATES -DALLOCATE_MB=96 -DPLUGIN_NAME='"mem-leak"' -DROUTE_PATH='"/api/v1/c/leak"'
# Gateway resilience: public routes that fail (500), succeed, stall or answer a chosen status on demand.
cc -std=c11 -Wall -Werror -shared -fPIC -I"$here/../../../SDK/CPlexusABI/include" "$here/flaky.c" -o "$out/flaky.so"
# A plain C library (no plugin entry) served through a native manifest (libffi): see native.c.
cc -std=c11 -Wall -Werror -shared -fPIC "$here/native.c" -lm -o "$out/libnative-fixture.so"

# Malformed ELF files, each cut or patched from hello-c.so (one per check the loader would trust):
# the dynamic loader maps segments past the end of a truncated file and dies with SIGBUS.
patch_bytes() { # file, offset, bytes as printf escapes
    printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
good="$out/hello-c.so"
head -c 3000 "$good" > "$out/elf-truncated.so"
head -c 40 "$good" > "$out/elf-header-cut.so"
cp "$good" "$out/elf-bad-phoff.so"; patch_bytes "$out/elf-bad-phoff.so" 32 '\x00\xff\xff\xff\xff\xff\xff\x7f'          # e_phoff
cp "$good" "$out/elf-bad-shoff.so"; patch_bytes "$out/elf-bad-shoff.so" 40 '\x00\x00\x00\x10\x00\x00\x00\x00'          # e_shoff
cp "$good" "$out/elf-segment-past-eof.so"                                                     # last PT_LOAD's p_filesz, p_memsz
patch_bytes "$out/elf-segment-past-eof.so" 264 '\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00'
cp "$good" "$out/elf-wrong-machine.so"; patch_bytes "$out/elf-wrong-machine.so" 18 '\xf3\x00'                         # RISC-V
cp "$good" "$out/elf-32bit.so"; patch_bytes "$out/elf-32bit.so" 4 '\x01'                                             # ELFCLASS32
cp "$good" "$out/elf-executable.so"; patch_bytes "$out/elf-executable.so" 16 '\x02\x00'                             # ET_EXEC
cp "$good" "$out/elf-many-phdrs.so"; patch_bytes "$out/elf-many-phdrs.so" 56 '\xff\xff'                              # e_phnum
# ABI 1.6's abandon hook in C: counts notices by reason, answers late from a timer.
cc -std=c11 -Wall -Werror -shared -fPIC -I"$here/../../../SDK/CPlexusABI/include" "$here/abandon.c" -o "$out/abandon-c.so"
