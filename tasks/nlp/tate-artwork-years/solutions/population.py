"""Varied solutions, from trivial to strong, whose scores make leaderboard.csv.

Each entry is (team name, source code); the code reads ./input/ and writes ./submission.csv. The programs are a
sweep over a few templates: constants; lookups (the median year of the artist's or the medium's training
works); regressions (ridge, linear SVR, SGD, nearest neighbours, LightGBM) over several representations of the
catalogue text (one joined text, or each column on its own, with or without the artist); and averages of
several. The task's own simple and reference solutions are members too, read from their files.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to this one),
# so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"simple-joined-ridge": "simple.py", "reference-column-ridge": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = '''\
import numpy as np
import pandas as pd
import lightgbm as lgb
from sklearn.compose import make_column_transformer
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import Ridge, SGDRegressor
from sklearn.neighbors import KNeighborsRegressor
from sklearn.svm import LinearSVR

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["year"].to_numpy(float)
center = np.median(y)


def joined(frame):
    return (frame["artist"] + " | " + frame["title"] + " | " + frame["medium"]).to_frame("text")


def lookup(column, fallback):
    medians = train.groupby(column)["year"].median()
    return test[column].map(medians).fillna(pd.Series(fallback, index=test.index)).to_numpy(float)
'''

FOOTER = '''
p = np.clip(np.nan_to_num(np.asarray(p, dtype=float), nan=center), 1990, 2012)
pd.DataFrame({"id": test["id"], "year": p}).to_csv("submission.csv", index=False)
'''

ARTIST = '(CountVectorizer(token_pattern=r".+", lowercase=False, binary=True), "artist")'
TITLE = '(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), "title")'
MEDIUM = '(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), "medium")'
MEDIUM_CHARS = '(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True), "medium")'
ARTIST_CHARS = '(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True), "artist")'

# representations: (table function applied to each frame, column transformer parts)
REPRESENTATIONS = {
    "joined-words": ("joined", ['(TfidfVectorizer(sublinear_tf=True), "text")']),
    "joined-chars": ("joined",
                     ['(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True), "text")']),
    "columns": ("", [ARTIST, TITLE, MEDIUM, MEDIUM_CHARS]),
    "columns-no-artist": ("", [TITLE, MEDIUM, MEDIUM_CHARS]),
    "columns-artist-chars": ("", [ARTIST, ARTIST_CHARS, TITLE, MEDIUM, MEDIUM_CHARS]),
}

FEATURES = '''
columns = make_column_transformer({parts})
x_train, x_test = columns.fit_transform({table}(train)), columns.transform({table}(test))
'''

SVR = "LinearSVR(C={c}, epsilon=0.0, max_iter=20000, random_state=0)"
SGD = "SGDRegressor(loss='huber', epsilon=1.0, alpha={alpha}, max_iter=50, random_state={seed})"
LGBM = ("lgb.LGBMRegressor(objective='{objective}', n_estimators={n}, learning_rate=0.05, num_leaves=15, "
        "colsample_bytree=0.5, subsample=0.8, subsample_freq=1, random_state={seed}, n_jobs=1, verbose=-1)")


def _features(representation: str) -> str:
    table, parts = REPRESENTATIONS[representation]
    return FEATURES.format(parts=", ".join(parts), table=table)


def constant(expression: str) -> str:
    return HEADER + f"\np = np.full(len(test), {expression})\n" + FOOTER


def rule(expression: str) -> str:
    return HEADER + f"\np = {expression}\n" + FOOTER


def regression(representation: str, regressor: str, dtype: str = "") -> str:
    cast = f"x_train, x_test = x_train.astype(np.{dtype}), x_test.astype(np.{dtype})\n" if dtype else ""
    return (HEADER + _features(representation) + cast
            + f"model = {regressor}.fit(x_train, y - center)\np = model.predict(x_test) + center\n" + FOOTER)


def average(parts: list[tuple[str, str]], with_lookup: float = 0.0) -> str:
    """Mean of several (representation, regressor) predictions, optionally mixed with the artist lookup."""
    body = "\npredictions = []\n"
    for representation, regressor in parts:
        body += _features(representation)
        body += f"predictions.append({regressor}.fit(x_train, y - center).predict(x_test) + center)\n"
    body += "\np = np.mean(predictions, axis=0)\n"
    if with_lookup:
        body += f"p = (1 - {with_lookup}) * p + {with_lookup} * lookup('artist', p)\n"
    return HEADER + body + FOOTER


def _population() -> list[tuple[str, str]]:
    members = [
        ("median-year", constant("center")),
        ("mean-year", constant("y.mean()")),
        ("the-year-2000", constant("2000.0")),
        ("simple-joined-ridge", _solution("simple-joined-ridge")),
        ("reference-column-ridge", _solution("reference-column-ridge")),
        ("artist-median", rule("lookup('artist', np.full(len(test), center))")),
        ("medium-median", rule("lookup('medium', np.full(len(test), center))")),
        ("artist-then-medium", rule("lookup('artist', lookup('medium', np.full(len(test), center)))")),
        ("artist-medium-average", rule("(lookup('artist', np.full(len(test), center)) + "
                                       "lookup('medium', np.full(len(test), center))) / 2")),
    ]
    for representation in REPRESENTATIONS:
        for alpha in (0.1, 0.3, 1.0, 3.0, 10.0):
            members.append((f"ridge-{representation}-a{alpha}", regression(representation, f"Ridge(alpha={alpha})")))
        for c in (0.3, 1.0, 3.0, 10.0, 30.0):
            members.append((f"svr-{representation}-c{c}", regression(representation, SVR.format(c=c))))
        for seed in (0, 1, 2):
            members.append((f"sgd-huber-{representation}-seed{seed}",
                            regression(representation, SGD.format(alpha=1e-5, seed=seed))))
        for k in (10, 30):
            knn = f"KNeighborsRegressor({k}, metric='cosine', weights='distance')"
            members.append((f"knn-{representation}-k{k}", regression(representation, knn)))
    for objective in ("regression", "regression_l1"):
        for n, seed in ((300, 0), (800, 0), (800, 1), (800, 2)):
            members.append((f"lgbm-{objective}-n{n}-seed{seed}", regression(
                "columns", LGBM.format(objective=objective, n=n, seed=seed), dtype="float32")))
    members += [
        ("average-ridge-svr", average([("columns", "Ridge(alpha=0.3)"), ("columns", SVR.format(c=3.0))])),
        ("average-ridge-svr-artist-chars", average([("columns-artist-chars", "Ridge(alpha=0.3)"),
                                                    ("columns-artist-chars", SVR.format(c=3.0))])),
        ("average-ridge-and-lookup", average([("columns", "Ridge(alpha=0.3)")], with_lookup=0.3)),
        ("average-svr-and-lookup", average([("columns", SVR.format(c=3.0))], with_lookup=0.3)),
        ("average-ridge-lgbm", average([("columns", "Ridge(alpha=0.3)"),
                                        ("columns", LGBM.format(objective="regression_l1", n=800, seed=0))])),
        ("average-three-representations", average([("columns", "Ridge(alpha=0.3)"),
                                                   ("joined-chars", "Ridge(alpha=1.0)"),
                                                   ("columns-artist-chars", SVR.format(c=3.0))])),
        ("average-ridge-svr-little-lookup", average([("columns", "Ridge(alpha=0.3)"), ("columns", SVR.format(c=3.0))],
                                                    with_lookup=0.15)),
        ("average-ridge-svr-half-lookup", average([("columns", "Ridge(alpha=0.3)"), ("columns", SVR.format(c=3.0))],
                                                  with_lookup=0.5)),
    ]
    return members


POPULATION: list[tuple[str, str]] = _population()
