#!/usr/bin/env python3
"""Inclusive shares of a `perf record --call-graph` profile, by named part.

    perf script -i perf.data | scripts/perf-shares.py 'parse=canarylint::document::read' \\
        'rules=canarylint_rules::' 'allocator=malloc|_int_free|cfree|realloc'

Each argument is NAME=REGEX: a sample counts for NAME when any frame of its stack matches
REGEX (so parts may overlap, and a part's share includes what it calls). `--self NAME=REGEX`
counts only samples whose innermost frame matches. `--rules` also lists the share of every
rule module (`canarylint_rules::<group>::<rule>`) seen on a stack.
"""

import argparse
import collections
import re
import sys


def samples(lines):
    stack = []
    for line in lines:
        if not line.strip():
            if stack:
                yield stack
            stack = []
        elif line[0] in " \t":
            parts = line.strip().split(" ", 1)
            if len(parts) == 2:
                stack.append(parts[1])
        else:
            stack = []
    if stack:
        yield stack


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("part", nargs="*", help="NAME=REGEX, inclusive")
    ap.add_argument("--self", dest="own", action="append", default=[], help="NAME=REGEX, innermost frame only")
    ap.add_argument("--rules", action="store_true", help="list every rule's inclusive share")
    a = ap.parse_args()
    inclusive = [(n, re.compile(r)) for n, r in (p.split("=", 1) for p in a.part)]
    own = [(n, re.compile(r)) for n, r in (p.split("=", 1) for p in a.own)]
    rule = re.compile(r"canarylint_rules::([a-z_]+)::([a-z_]+)")
    total = 0
    counts = collections.Counter()
    rules = collections.Counter()
    for stack in samples(sys.stdin):
        total += 1
        for name, r in inclusive:
            if any(r.search(f) for f in stack):
                counts[name] += 1
        for name, r in own:
            if r.search(stack[0]):
                counts[name] += 1
        if a.rules:
            for m in {rule.search(f).group(0) for f in stack if rule.search(f)}:
                rules[m] += 1
    if not total:
        sys.exit("no samples on standard input (perf script output expected)")
    print(f"samples {total}")
    for name, _ in inclusive + own:
        print(f"{name:40s} {100 * counts[name] / total:5.1f} %")
    for name, n in rules.most_common(15):
        print(f"{name:40s} {100 * n / total:5.1f} %")


if __name__ == "__main__":
    main()
