#!/usr/bin/env python3
"""Runs the CTest tests of one label under valgrind memcheck.

    python3 scripts/memcheck.py BUILD_DIR [LABEL]

Each test runs with the command, environment and working directory CTest
would give it, wrapped in valgrind; a memory error or a definite/indirect
leak fails the test. Fixture setup tests (the test PKI) run first, without
valgrind. Prints one line per test and a closing "memcheck: N passed, M
failed" line; exits non-zero when any test failed.
"""

import concurrent.futures
import json
import os
import subprocess
import sys
import time

VALGRIND = [
    "valgrind",
    "--tool=memcheck",
    "--error-exitcode=99",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite,indirect",
    "--show-leak-kinds=definite,indirect",
    "--num-callers=30",
    "--suppressions=" + os.path.join(os.path.dirname(os.path.abspath(__file__)), "valgrind.supp"),
]
TEST_TIMEOUT = 900


def properties(test):
    return {p["name"]: p["value"] for p in test.get("properties", [])}


def load_tests(build, label):
    out = subprocess.run(
        ["ctest", "--test-dir", build, "-L", label, "--show-only=json-v1"],
        check=True, capture_output=True, text=True, timeout=120).stdout
    return json.loads(out)["tests"]


def environment(props):
    env = dict(os.environ)
    for item in props.get("ENVIRONMENT", []):
        key, _, value = item.partition("=")
        env[key] = value
    return env


def run(test, wrap):
    props = properties(test)
    cmd = (VALGRIND if wrap else []) + test["command"]
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, env=environment(props), cwd=props.get("WORKING_DIRECTORY"),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace", timeout=TEST_TIMEOUT)
        ok, output = proc.returncode == 0, proc.stdout + proc.stderr
        why = "" if ok else f"exit status {proc.returncode}"
    except subprocess.TimeoutExpired as exc:
        ok, why = False, f"timed out after {TEST_TIMEOUT} s"
        output = (exc.stdout or b"").decode(errors="replace") + \
            (exc.stderr or b"").decode(errors="replace")
    return test["name"], ok, why, output, time.monotonic() - start


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    build = sys.argv[1]
    label = sys.argv[2] if len(sys.argv) == 3 else "unit"
    tests = load_tests(build, label)
    setups = [t for t in tests if "FIXTURES_SETUP" in properties(t)]
    checked = [t for t in tests if label in properties(t).get("LABELS", [])
               and "FIXTURES_SETUP" not in properties(t)]
    for test in setups:
        name, ok, why, output, _ = run(test, wrap=False)
        if not ok:
            print(output)
            print(f"memcheck: fixture {name} failed ({why})")
            print(f"memcheck: 0 passed, {len(checked)} failed")
            return 1
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for name, ok, why, output, secs in pool.map(lambda t: run(t, wrap=True), checked):
            print(f"memcheck: {name:40s} {'ok' if ok else 'FAILED (' + why + ')'} "
                  f"{secs:.1f} s", flush=True)
            if not ok:
                failed += 1
                print(output, flush=True)
    print(f"memcheck: {len(checked) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
