"""Dumps sqlparse's token trees for a JSON list of strings (stdin) as JSON.

Each entry is [input, lines] where lines are "depth|Class|ttype|value", or
[input, "error"] when sqlparse raises.
"""
import json
import sys

import sqlparse
from sqlparse.sql import TokenList


def dump(t, depth, out):
    tt = "" if t.ttype is None else str(t.ttype).removeprefix("Token.")
    out.append(f"{depth}|{type(t).__name__}|{tt}|{t}")
    if isinstance(t, TokenList):
        for c in t.tokens:
            dump(c, depth + 1, out)


res = []
for s in json.load(sys.stdin):
    try:
        lines = []
        for st in sqlparse.parse(s):
            dump(st, 0, lines)
        res.append([s, lines])
    except Exception:
        res.append([s, "error"])
json.dump(res, sys.stdout, ensure_ascii=False, indent=0)
