"""Generates filter-like strings for differential tests against MLflow.

Prints a JSON list of strings: hand-picked cases followed by random
combinations of fragments that exercise the lexer and grouping rules.
    python gen_inputs.py SEED COUNT
"""
import json
import random
import sys

FRAGMENTS = [
    "metrics.acc", "metric.loss", "params.lr", "param.`a b`", "tags.\"x y\"", "tag.t",
    "attributes.status", "attr.start_time", "run.run_id", "run_name", "`Run Name`",
    "attribute.`run name`", "created", "Created", "end_time", "user_id", "artifact_uri",
    "datasets.name", "dataset.digest", "datasets.context", "name", "experiment_id",
    "creation_time", "last_update_time", "tags.`a.b`", "metrics.a.b", "bogus.x", "`tags`.x",
    "=", "!=", "<>", "<", "<=", ">", ">=", "==", "~", "LIKE", "like", "ILIKE", "ilike",
    "NOT LIKE", "RLIKE", "REGEXP", "IN", "in", "NOT IN", "not in", "IS", "is", "NULL", "null",
    "NOT", "IS NOT NULL", "is null", "AND", "and", "And", "OR", "or",
    "'a'", "'it''s'", "'a\\'b'", "\"dq\"", "'%x%'", "'A%'", "''", "'", "\"", "`", "`bt`",
    "1", "-1", "0.5", "-0.5", ".5", "1.", "1e3", "1E-3", "-2.5e+3", "12abc", "1.5e", "0x1F",
    "007", "1_000", "(", ")", "('a')", "('a', 'b')", "('a',)", "()", "(1, 2)", "('a' 'b')",
    "(\"x\", 'y')", "['a']", "[x]", ",", ";", ".", "::", ":=", "*", "+", "-", "/", "%", "@x",
    "#x", "$1", "$$x$$", "--c\n", "/*c*/", "?", ":p", "CASE", "END", "WHEN", "THEN", "BEGIN",
    "SELECT", "WHERE", "AS", "asc", "DESC", "timestamp", "TEXT", "key", "value", "version",
    "select", "from", "x", "abc", "a_b", "\u00e9t\u00e9", "\u0131n", "\t", "\n", "  ",
]

SEPS = [" ", " ", " ", "", "  ", "\n", "\t"]


def rand_filter(rng):
    n = rng.randint(1, 9)
    out = []
    for _ in range(n):
        out.append(rng.choice(FRAGMENTS))
        out.append(rng.choice(SEPS))
    return "".join(out).strip(" ") if rng.random() < 0.8 else "".join(out)


def structured(rng):
    ident = rng.choice(FRAGMENTS[:28])
    op = rng.choice(FRAGMENTS[28:62])
    val = rng.choice(FRAGMENTS[62:100])
    s = f"{ident} {op} {val}"
    if rng.random() < 0.5:
        s += " " + rng.choice(["AND", "and", "OR", ","]) + " " + structured(rng)
    return s


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    out = []
    for i in range(count):
        out.append(structured(rng) if i % 2 else rand_filter(rng))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
