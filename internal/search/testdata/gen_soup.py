"""Random character soup (JSON list on stdout) for differential lexer tests.
    python gen_soup.py SEED COUNT
"""
import json
import random
import sys

ALPHABET = list("abcdefxyzAEINOTSLKR019_ .,;:()[]'\"`\\-+*/%$#@?!<>=~|&^\t\n\r") + [
    "\u00e9", "\u00d7", "\u00f7", "\u0131", "\u0130", "\u017f", "\u212a", "\u00b4", "\u0661", "\u00a0",
    "\u2028", "\u00df", "\ufb01", "\u00dd", "\u1680",
]
WORDS = ["IN", "NOT", "NULL", "IS", "AND", "LIKE", "ILIKE", "CASE", "END", "IF", "EXISTS", "ASC",
         "DESC", "NULLS", "FIRST", "JOIN", "LEFT", "AS", "OVER", "WHERE", "BEGIN", "GO", "1e5",
         "timestamp", "'x'", "\"y\"", "/*", "*/", "--", "# ", "$a$", "$$", "::", "->", "#>>"]


def soup(rng):
    n = rng.randint(1, 25)
    out = []
    for _ in range(n):
        if rng.random() < 0.25:
            out.append(rng.choice(WORDS))
        else:
            out.append(rng.choice(ALPHABET))
    return "".join(out)


rng = random.Random(int(sys.argv[1]))
json.dump([soup(rng) for _ in range(int(sys.argv[2]))], sys.stdout)
