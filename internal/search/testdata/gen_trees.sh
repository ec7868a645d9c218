#!/bin/sh
# Regenerates sqlparse_trees.json: inputs and the token trees the real
# sqlparse builds for them. Run from this directory.
PY=${PY:-/work/venvs/mlflow3/bin/python}
{ $PY gen_inputs.py 1 400; echo; $PY gen_soup.py 2 600; } | $PY -c '
import json, sys
out = []
for line in sys.stdin:
    if line.strip():
        out += json.loads(line)
json.dump(out, sys.stdout)' | $PY dump_trees.py > sqlparse_trees.json
