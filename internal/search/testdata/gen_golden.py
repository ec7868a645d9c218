"""Builds mlflow_golden.json: hand-picked and random inputs with the results
MLflow 3.18 gives for them (through mlflow_oracle.py).

    /work/venvs/mlflow3/bin/python gen_golden.py > mlflow_golden.json
"""
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, ".")
from gen_inputs import rand_filter, structured  # noqa: E402

RUNS = [
    "", " ", "   ", "\n",
    "metrics.acc > 0.5", "metric.acc>0.5", "metrics.acc >= -1", "metrics.acc < 1e3", "metrics.acc <= -2.5E-3",
    "metrics.acc = 1", "metrics.acc != 1", "metrics.acc == 1", "metrics.acc <> 1", "metrics.acc LIKE 1",
    "metrics.acc > '1'", "metrics.acc > \"1\"", "metrics.acc > x", "metrics.acc IS NULL", "metrics.acc IN (1)",
    "metrics.`my metric` > 1", "metrics.\"my metric\" > 1", "metrics.a.b.c > 1", "`metrics`.a > 1",
    "metrics . a > 1", "metrics.a>1 and metrics.b<2", "metrics.a > 1 AND metrics.b < 2 And params.c = 'x'",
    "metrics.a > 1 OR metrics.b < 2", "metrics.a > 1 AND", "AND metrics.a > 1", "metrics.a > 1 AND AND metrics.b > 1",
    "(metrics.a > 1)", "metrics.a > 1;", "metrics.a > 1; metrics.b > 2", "metrics.a > 1 -- comment",
    "metrics.a > 1.", "metrics.a > .5", "metrics.a > 1.5e", "metrics.a > 12abc", "metrics.a > 0x1F",
    "metrics.a > 1e999", "metrics.a > -0", "metrics.a > 007", "metrics.a > \u0661\u0662",
    "params.lr = '0.1'", "param.lr = \"0.1\"", "parameters.lr != 'a'", "parameter.lr LIKE '%a%'",
    "params.lr like '%a%'", "params.lr ILIKE 'A%'", "params.lr ilike 'a_'", "params.lr NOT LIKE 'a'",
    "params.lr = 0.1", "params.lr = abc", "params.lr = `abc`", "params.lr IS NULL", "params.lr is null",
    "params.lr IS NOT NULL", "params.lr is not null", "params.lr IS  NOT  NULL", "params.lr IS NOT\tNULL",
    "params.lr < 'a'", "params.lr IN ('a')", "params.`a b` = 'x'", "params.\"a b\" = 'x'", "params.'a b' = 'x'",
    "params.x = 'it''s'", "params.x = 'a\\'b'", "params.x = \"a\"\"b\"", "params.x = ''", "params.x = \"\"",
    "params.x = 'a' 'b'", "params.x =", "= 'a'", "params.x", "params.x = 'a", "params.x = \"a",
    "tags.t = 'v'", "tag.t = 'v'", "tags.`mlflow.runName` = 'r'", "tags.\"mlflow.user\" LIKE 'a%'",
    "tags.t IS NULL AND tags.u IS NOT NULL", "tags.t IS NULL", "tags.t ~ 'x'", "tags.t RLIKE 'x'",
    "tags.t REGEXP 'x'", "tags.t IN ('a','b')", "tags.t NOT IN ('a')",
    "attributes.status = 'FINISHED'", "attribute.status = 'FINISHED'", "attr.status = 'x'", "run.status = 'x'",
    "status = 'RUNNING'", "status != 'RUNNING'", "status LIKE 'RUN%'", "status ILIKE 'run%'", "status < 'a'",
    "status IN ('a')", "status IS NULL", "user_id = 'me'", "artifact_uri LIKE '%x%'",
    "run_id = 'abc'", "run_id IN ('abc', 'def')", "run_id in ('abc')", "run_id NOT IN ('abc')", "run_id not in ('a', \"b\")",
    "run_id IN ('ABC', 'def')", "run_id IN ()", "run_id IN (1, 2)", "run_id IN ('a', 1)", "run_id IN ('a',)",
    "run_id IN (('a'))", "run_id IN (['a'])", "run_id IN ('a' 'b', 'c')", "run_id IN (r'a\\b', u'c')",
    "run_id IN (b'a')", "run_id IN (f'a')", "run_id IN (a)", "run_id IN ('a', 'b',)", "run_id IN ('a\\nb')",
    "run_id IN ('a', None)", "run_id IN (True)", "run_id IN (1.5,)", "run_id IN ('x'", "run_id IN 'x'",
    "run_id = ('a', 'b')", "run_id LIKE ('a')", "run_id IN ('a') AND run_id NOT IN ('b')",
    "attributes.run_id IN ('a')", "run_name = 'abc'", "run_name LIKE 'a%'", "run_name != 'x'",
    "attributes.run_name ILIKE 'ABC'", "`Run name` = 'x'", "attributes.`Run Name` = 'x'", "attributes.`run name` = 'x'",
    "attributes.\"Run name\" = 'x'", "run name = 'x'", "Run Name = 'x'",
    "start_time > 0", "start_time >= 1.5", "start_time = '1'", "start_time LIKE 1", "start_time IN (1)",
    "created > 0", "Created < 99999999999999", "attributes.created >= -1", "end_time <= 10", "end_time != 0",
    "end_time IS NULL", "start_time > 1e3", "start_time > 99999999999999999999",
    "experiment_id = '1'", "lifecycle_stage = 'active'", "bogus = 'x'", "attributes.bogus = 'x'",
    "foo.bar = 'x'", "`foo`.bar = 'x'", "`attributes`.status = 'x'", "`tags`.x = 'y'",
    "datasets.name = 'd'", "dataset.name = 'd'", "datasets.digest = 'abc'", "datasets.context = 'train'",
    "datasets.name IN ('a', 'b')", "datasets.context NOT IN ('train')", "datasets.name LIKE 'd%'",
    "datasets.name ILIKE 'D%'", "datasets.name > 'a'", "datasets.name = 1", "datasets.foo = 'x'",
    "datasets.name IS NULL", "datasets.`name` = 'x'", "datasets.name = ('a',)",
    "select * from runs", "metrics.a > 1 UNION ALL x", "CASE WHEN x THEN y END", "x", "1 = 1", "'a' = 'a'",
    "metrics.a > 1 AND NOT metrics.b > 2", "NOT metrics.b > 2", "metrics.a BETWEEN 1 AND 2",
    "tags.x = 'a' tags.y = 'b'", "tags.x = 'a', tags.y = 'b'", "tags.x = 'a' AND (tags.y = 'b')",
    "tags.x = \"a\".b", "tags.x = \"a\".\"b\"", "tags.x = $1", "tags.x = ?", "tags.x = :p",
    "tags.x = $$a$$", "tags.x = /*c*/ 'a'", "tags.x = 'a' /*c*/", "/*c*/ tags.x = 'a'", "tags.x = 'a' # c",
    "tags.x = 'a'\n", "\ttags.x = 'a'", "tags.x\n=\n'a'", "tags.x = 'a\nb'", "tags.é = 'ü'", "tags.x = '日本'",
    "params.x = 'a' and params.y = 'b' and params.z = 'c'", "params.x IS NULL AND params.y = 'b'",
    "metrics.a > 1 and", "metrics.a > 1 and and", "in = 'x'", "tags.in = 'x'", "tags.select = 'x'",
    "tags.key = 'x'", "tags.value = 'x'", "tags.timestamp = 'x'", "tags.1a = 'x'", "tags.a-b = 'x'",
    "tags.`a-b` = 'x'", "tags.a:b = 'x'", "tags.a/b = 'x'", "tags.`` = 'x'", "tags. = 'x'", ". = 'x'",
    "metrics.\u0131n > 1", "status \u0131n ('a')", "run_id \u0131n ('a')", "run_id IN ('a') and status = 'x'",
    "run_id IN ('a') OR status = 'x'", "x IN ('a')", "tags.x IN ('a') AND run_id IN ('b')",
    "params.a IS NULL AND", "params.a IS", "params.a IS NOT", "params.a NULL", "params.a NOT NULL",
    "params.a = NULL", "params.a != null", "metrics.a > NULL", "NULL = params.a",
]

EXPERIMENTS = [
    "", " ", "name = 'a'", "name = \"a\"", "name != 'a'", "name LIKE 'a%'", "name like 'a%'", "name ILIKE 'A%'",
    "name ilike 'a%'", "name < 'a'", "name IN ('a')", "name NOT IN ('a')", "name IS NULL", "name = 1",
    "attribute.name = 'a'", "attributes.name = 'a'", "attr.name = 'a'", "`attribute`.name = 'a'", "run.name = 'a'",
    "attribute.`name` = 'a'", "attribute.\"name\" = 'a'", "tags.t = 'v'", "tag.t = 'v'", "tags.`a b` = 'v'",
    "tags.t LIKE 'v%'", "tags.t ilike 'V%'", "tags.t IS NULL", "tags.t IS NOT NULL", "tags.t is null",
    "tags.t < 'a'", "tags.t IN ('a')", "tags.t = 1", "params.p = 'a'", "metrics.m > 1", "datasets.name = 'x'",
    "creation_time > 0", "creation_time >= 1", "creation_time = 1.5", "creation_time = 1e3", "creation_time = '1'",
    "creation_time LIKE 1", "creation_time IN (1)", "last_update_time < 10", "last_update_time != -1",
    "last_update_time IS NULL", "experiment_id = '1'", "experiment_id = '0'", "experiment_id = 1",
    "experiment_id = 'x'", "experiment_id = ' 12 '", "experiment_id = '1_000'", "experiment_id = '+5'",
    "experiment_id != '1'", "experiment_id IN ('1', '2')", "experiment_id NOT IN ('1')", "experiment_id IN ('x')",
    "experiment_id IN ()", "experiment_id IN (1)", "experiment_id LIKE '1'", "experiment_id < '1'",
    "experiment_id = ('1', '2')", "lifecycle_stage = 'active'", "bogus = 'x'", "name = 'a' AND tags.t = 'b'",
    "name = 'a' OR tags.t = 'b'", "name = 'a' and creation_time > 1", "name = 'a' AND", "name = 'a'; name = 'b'",
    "(name = 'a')", "name = 'a' x", "x y", "name = 'a' , name = 'b'",
]

RUN_ORDER = [
    [], ["start_time"], ["start_time DESC"], ["start_time desc"], ["start_time ASC"], ["start_time Asc"],
    ["start_time DESCENDING"], ["start_time foo"], ["start_time DESC ASC"], ["metrics.acc"], ["metrics.acc DESC"],
    ["metric.acc desc"], ["params.lr"], ["param.lr ASC"], ["tags.t DESC"], ["tag.t"], ["attributes.start_time"],
    ["attribute.end_time DESC"], ["attr.status"], ["run.user_id"], ["run_id"], ["run_name DESC"],
    ["artifact_uri"], ["created"], ["Created DESC"], ["created", "start_time"], ["metrics.a", "metrics.a"],
    ["metrics.a", "metrics.a DESC"], ["metrics.a", "params.a"], ["metrics.a", "bogus"], ["bogus", "metrics.a"],
    ["metrics.`my metric` DESC"], ["metrics.\"my metric\" DESC"], ["metrics.`my metric`"], ["metrics.\"a b\""],
    ["tags.`mlflow.runName`"], ["tags.`a b` DESC", "params.\"c d\" ASC"], ["metrics.a.b"], ["datasets.name"],
    ["dataset.digest"], ["datasets.bogus"], ["bogus.x"], ["`metrics`.a"], ["status"], ["user_id"],
    ["experiment_id"], ["lifecycle_stage"], ["run name"], ["`Run name`"], [""], [" "], ["metrics.a;"],
    ["metrics.a; metrics.b"], ["metrics.a, metrics.b"], ["metrics.a DESC NULLS LAST"], ["timestamp"],
    ["timestamp DESC"], ["TIMESTAMP"], ["metrics.a > 1"], ["(metrics.a)"], ["metrics.a ASC DESC"],
    ["metrics.'a b'"], ["metrics.`a\\ b`"], ["metrics.a\\ b"], ["  metrics.a  DESC  "], ["metrics.a\tDESC"],
    ["metrics.select"], ["metrics.in"], ["params.`a\"b`"], ["start_time", "start_time"],
    ["created", "Created"],
]

EXPERIMENT_ORDER = [
    [], ["name"], ["name DESC"], ["name asc"], ["experiment_id"], ["experiment_id DESC"], ["creation_time"],
    ["last_update_time DESC"], ["name", "experiment_id DESC"], ["name", "name"], ["tags.t"], ["tag.t DESC"],
    ["attribute.name"], ["attributes.name DESC"], ["`attribute`.name"], ["bogus"], ["metrics.a"],
    ["lifecycle_stage"], [""], ["name foo"], ["creation_time", "name", "experiment_id"], ["`name`"],
]

TOKENS = [
    "", "eyJvZmZzZXQiOiAxMDAwfQ==", "eyJvZmZzZXQiOiAxMDAwfQ", "eyJvZmZzZXQiOiAxMDAwfQ=", "eyJvZmZzZXQiOjV9",
    "abc", "abcd", "e30=", "!!", "eyJvZmZzZXQiOiAwfQ==", "eyJvZmZzZXQiOiAiMTIifQ==", "eyJvZmZzZXQiOiAiYWJjIn0=",
    "eyJvZmZzZXQiOiAtNX0=", "eyJvZmZzZXQiOiAxLjV9", "eyJvZmZzZXQiOiB0cnVlfQ==", "eyJvZmZzZXQiOiBudWxsfQ==",
    "WzEsIDJd", "NQ==", "eyJhIjogMX0=", "eyJvZmZzZXQiOiAxMH0=garbage", "ey Jv ZmZz ZXQi OiAx MH0=",
    "eyJvZmZzZXQiOiAxMH0===", "=eyJvZmZzZXQiOiAxMH0=", "eyJvZmZzZXQiOiAiIn0=", "eyJvZmZzZXQiOiBbXX0=",
    "eyJvZmZzZXQiOiAiIDcgIn0=", "eyJvZmZzZXQiOiAxLCAib2Zmc2V0IjogMn0=", "/w==", "eyJvZmZzZXQiOiB7fX0=",
]


def main():
    rng = random.Random(int(os.environ.get("GOLDEN_SEED", "42")))
    n = int(os.environ.get("GOLDEN_RANDOM", "700"))
    runs = RUNS + [structured(rng) if i % 2 else rand_filter(rng) for i in range(n)]
    exps = EXPERIMENTS + [structured(rng) if i % 2 else rand_filter(rng) for i in range(n * 5 // 7)]
    frag = ["metrics.a", "params.b", "tags.c", "start_time", "created", "run_name", "name", "DESC", "asc",
            "`x y`", "\"x y\"", "'x'", ",", ";", ".", "experiment_id", "creation_time", "tags.`a b`", "foo"]
    run_order = RUN_ORDER + [[" ".join(rng.choice(frag) for _ in range(rng.randint(1, 3)))] for _ in range(200)]
    exp_order = EXPERIMENT_ORDER + [[" ".join(rng.choice(frag) for _ in range(rng.randint(1, 3)))] for _ in range(100)]
    inputs = {"runs": runs, "experiments": exps, "run_order": run_order, "experiment_order": exp_order,
              "tokens": TOKENS}
    out = subprocess.run([sys.executable, "mlflow_oracle.py"], input=json.dumps(inputs), capture_output=True,
                         text=True, check=True)
    sys.stdout.write(out.stdout)


if __name__ == "__main__":
    main()
