#!/usr/bin/python3
"""Runs the differential corpus (corpus.json) and prints a table program x tool.

    tests/differential/run.py [--only NAME,...] [--tools output,stats,...] [--jobs N]
                              [--workdir DIR] [--json OUT.json] [--check] [--list]

--only      programs to run (names from corpus.json; default all)
--tools     comparisons to make (default: output,stats,coverage,memory,pdb)
--jobs      programs run at the same time (default 1)
--workdir   where each program runs and leaves its files (default: a new temporary
            directory, removed at the end unless --keep)
--json      write the results (per program and tool: status, compared, differing,
            the first differing keys, messages) to this file
--check     compare the results with expected.json; exit 1 on any mismatch
--list      print the programs of the corpus and exit

The binary under test is $REWIND or build/rewind; the reference interpreter
$REWIND_PYTHON or /usr/bin/python3 (tests/e2e/rwtest.py). Exit status: 0 done (and,
with --check, every result as expected.json says), 1 a mismatch with expected.json,
2 a bad command line.
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import sys
import tempfile
import time

import driver


def main(argv=None):
    ap = argparse.ArgumentParser(description="rewind's differential corpus")
    ap.add_argument("--only", default="")
    ap.add_argument("--tools", default=",".join(driver.TOOLS))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)

    corpus = driver.load_corpus()
    if args.list:
        for e in corpus:
            target = e.get("script") or "-m " + " ".join([e["module"], *e.get("args", [])])
            print(f"{e['name']:24} {target}")
        return 0
    tools = [t for t in args.tools.split(",") if t]
    bad = [t for t in tools if t not in driver.TOOLS]
    if bad:
        ap.error(f"unknown tool {bad[0]!r}: choose among {','.join(driver.TOOLS)}")
    if args.only:
        names = [n for n in args.only.split(",") if n]
        known = {e["name"] for e in corpus}
        unknown = [n for n in names if n not in known]
        if unknown:
            ap.error(f"no program {unknown[0]!r} in corpus.json (--list shows them)")
        corpus = [e for e in corpus if e["name"] in names]
    if args.jobs < 1:
        ap.error("--jobs takes a number of at least 1")

    workdir = args.workdir or tempfile.mkdtemp(prefix="rewind-differential-")
    os.makedirs(workdir, exist_ok=True)
    results, started = {}, time.time()
    try:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(driver.run_entry, e, workdir, tools): e["name"]
                       for e in corpus}
            for fut in concurrent.futures.as_completed(futures):
                name = futures[fut]
                results[name] = fut.result()
                print(f"{name}: " + ", ".join(f"{t} {driver.cell(results[name][t])}"
                                              for t in tools), file=sys.stderr, flush=True)
    finally:
        if not args.workdir and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    results = {e["name"]: results[e["name"]] for e in corpus if e["name"] in results}

    print(driver.table(results, tools))
    totals = driver.totals(results)
    print("\ncompared: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in totals.items())
          + f" in {time.time() - started:.0f} s")
    for name, res in results.items():
        for tool in tools:
            r = res[tool]
            if r["status"] in ("differs", "error"):
                print(f"\n{name} {tool}: {driver.cell(r)}")
                for line in r.get("first", []):
                    print(f"    {line}")
                if r.get("own_first"):
                    print("  in the program's own files:")
                    for line in r["own_first"]:
                        print(f"    {line}")
                if "message" in r:
                    print(f"    {r['message']}")
    if args.json:
        with open(args.json, "w") as fp:
            json.dump({"tools": tools, "totals": totals, "results": results}, fp, indent=1)
    if args.check:
        with open(os.path.join(driver.HERE, "expected.json")) as fp:
            expected = json.load(fp)
        mismatches = driver.check_expectations(results, expected)
        for m in mismatches:
            print(f"MISMATCH {m}")
        return 1 if mismatches else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
