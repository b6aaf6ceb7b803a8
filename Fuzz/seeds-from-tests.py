#!/usr/bin/env python3
"""Writes seed corpora for the fuzz harnesses from string literals in the tests.

Usage: Fuzz/seeds-from-tests.py   (from the package root; rewrites Fuzz/corpus/<harness>/test-*)

Each harness takes the multi-line and raw string literals of the test files that exercise its
parser, filtered by a shape check, at most 24 seeds of at most 4 KB each (the corpora stay small
and checked in). Hand-written seeds (Fuzz/corpus/<harness>/seed-*) are left alone.
"""
import glob, hashlib, os, re, textwrap

def literals(path):
    text = open(path, encoding="utf-8").read()
    found = []
    for m in re.finditer(r'(#*)"""\n(.*?)\n([ \t]*)"""\1', text, re.S):
        body = "\n".join(line[len(m.group(3)):] if line.startswith(m.group(3)) else line.lstrip() for line in m.group(2).split("\n"))
        found.append(body if m.group(1) else body.replace('\\"', '"').replace("\\n", "\n"))
    for m in re.finditer(r'(#+)"(.*?)"\1', text):
        found.append(m.group(2))
    for m in re.finditer(r'(?<![#\\])"((?:[^"\\\n]|\\.){4,})"', text):
        found.append(m.group(1).replace('\\"', '"').replace("\\r", "\r").replace("\\n", "\n").replace("\\\\", "\\"))
    return found

json_like = lambda s: s.lstrip().startswith("{")
targets = {
    # name: (test files, keep, prefix byte the harness expects first, if any)
    "chart-spec": (["Tests/ChartEngineTests/*.swift", "Tests/VisualizationTests/*.swift"], json_like, b""),
    "rule-pack": (["Tests/ComplianceEngineTests/*.swift", "Tests/ComplianceTests/*.swift"], lambda s: '"rules"' in s, b""),
    "workflow-def": (["Tests/WorkflowEngineTests/DefinitionParserTests.swift", "Tests/WorkflowsTests/*.swift"],
                     lambda s: json_like(s) and '"steps"' in s, b"\x00"),
    "school-json": (["Tests/TimetableSolverTests/*.swift", "Tests/TimetableTests/*.swift"], lambda s: json_like(s) and '"classes"' in s, b""),
    "ctt": (["Tests/TimetableSolverTests/*.swift"], lambda s: "Name:" in s and "Courses:" in s, b""),
    "native-manifest": (["Tests/PlexusRuntimeTests/Native*.swift"], lambda s: "[[function" in s or "library" in s and "=" in s and "\n" in s, b""),
    "runtime-config": (["Tests/PlexusRuntimeTests/RuntimeConfigTests.swift", "Tests/PlexusIntegrationTests/*.swift"],
                       lambda s: "\n" in s and "=" in s and ("[" in s) and not json_like(s), b""),
    "jwks": (["Tests/PlexusAuthTests/*.swift", "Tests/PlexusIntegrationTests/*.swift"], lambda s: '"keys"' in s or '"kty"' in s, b""),
    "request-target": (["Tests/PlexusRuntimeTests/RequestTargetTests.swift"], lambda s: s.startswith("/") or s.startswith("http") or s == "*", b"\x00"),
    "publish-request": (["Tests/PlexusIntegrationTests/*.swift", "Tests/PlexusRuntimeTests/*.swift"], lambda s: json_like(s) and '"topic"' in s, b""),
    "topic-pattern": (["Tests/PlexusEventLogTests/*.swift", "Tests/PlexusRuntimeTests/BusSubscriptionTests.swift"],
                      lambda s: re.fullmatch(r"[a-z0-9_.+#-]{1,60}", s) is not None, b""),
}

for name, (patterns, keep, prefix) in targets.items():
    directory = f"Fuzz/corpus/{name}"
    os.makedirs(directory, exist_ok=True)
    for old in glob.glob(f"{directory}/test-*"):
        os.remove(old)
    seen = set()
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            for literal in literals(path):
                data = prefix + literal.encode()
                if not keep(literal) or len(data) > 4096 or data in seen:
                    continue
                seen.add(data)
                if len(seen) > 24:
                    break
                with open(f"{directory}/test-{hashlib.sha1(data).hexdigest()[:12]}", "wb") as f:
                    f.write(data)
    print(f"{name}: {len(os.listdir(directory))} seeds")
