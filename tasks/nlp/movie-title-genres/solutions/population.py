"""Varied solutions, from trivial to strong, whose scores make leaderboard.csv.

Each entry is (team name, source code); the code reads ./input/ and writes ./submission.csv. The programs are a
sweep over a few templates: constants; models of the year alone; text models (naive Bayes, logistic
regression, calibrated SVMs, SGD, nearest neighbours, LightGBM) over word or character n-grams of the title,
with or without the decade; and averages of several. The task's own simple and reference solutions are members
too, read from their files.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to this one),
# so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"simple-naive-bayes": "simple.py", "reference-logreg-title-decade": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = '''\
import numpy as np
import pandas as pd
import lightgbm as lgb
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import BernoulliNB, ComplementNB, MultinomialNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_union
from sklearn.preprocessing import OneHotEncoder
from sklearn.svm import LinearSVC

GENRES = ["Action", "Animation", "Comedy", "Documentary", "Drama", "Romance"]
train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["genre"].astype(str).to_numpy()
shares = pd.Series(y).value_counts(normalize=True).reindex(GENRES).fillna(0).to_numpy()
a, b = train["title"].astype(str), test["title"].astype(str)


def decade(frame):
    return (np.clip(frame[["year"]].to_numpy(), 1910, 2009) // 10).astype(str)


def table(model, x):
    """Probabilities of a fitted model, one column per genre in GENRES' order."""
    out = np.zeros((x.shape[0], len(GENRES)))
    out[:, [GENRES.index(c) for c in model.classes_]] = model.predict_proba(x)
    return out
'''

FOOTER = '''
p = np.nan_to_num(np.asarray(p, dtype=float), nan=0.0)
pd.DataFrame({"id": test["id"], "genre": np.asarray(GENRES)[p.argmax(1)]}).to_csv("submission.csv", index=False)
'''

VECTORIZERS = {
    "count": "CountVectorizer()",
    "binary": "CountVectorizer(binary=True)",
    "word": "TfidfVectorizer(sublinear_tf=True)",
    "word12": "TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)",
    "charcount": 'CountVectorizer(analyzer="char_wb", ngram_range=(2, 4))',
    "char14": 'TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True)',
    "char25": 'TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)',
    "char15": 'TfidfVectorizer(analyzer="char", ngram_range=(1, 5), sublinear_tf=True)',
    "wordchar": 'make_union(TfidfVectorizer(sublinear_tf=True), '
                'TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True))',
}

# the title's vectors, with or without the one-hot decade
FEATURES = {
    False: '''
vectorizer = {vectorizer}
x_train, x_test = vectorizer.fit_transform(a), vectorizer.transform(b)
''',
    True: '''
vectorizer, decades = {vectorizer}, OneHotEncoder(handle_unknown="ignore")
x_train = sparse.hstack([vectorizer.fit_transform(a), decades.fit_transform(decade(train))]).tocsr()
x_test = sparse.hstack([vectorizer.transform(b), decades.transform(decade(test))]).tocsr()
''',
}

LOGREG = "LogisticRegression(C={c}, max_iter=3000)"
SGD = "SGDClassifier(loss='modified_huber', alpha={alpha}, random_state={seed})"
LGBM = ("lgb.LGBMClassifier(n_estimators={n}, learning_rate=0.05, num_leaves={leaves}, colsample_bytree=0.5, "
        "subsample=0.8, subsample_freq=1, min_child_samples=20, random_state={seed}, n_jobs=1, verbose=-1)")


def constant(expression: str) -> str:
    return HEADER + f"\np = {expression}\n" + FOOTER


def year_model(classifier: str) -> str:
    return HEADER + f'''
model = {classifier}.fit(train[["year"]], y)
p = table(model, test[["year"]])
''' + FOOTER


def decade_rates(smoothing: float) -> str:
    """The genre shares of the training films of the same decade, smoothed towards the overall shares."""
    return HEADER + f'''
key_train, key_test = decade(train).ravel(), decade(test).ravel()
counts = pd.crosstab(key_train, y).reindex(columns=GENRES).fillna(0)
rates = (counts + {smoothing} * shares) .div(counts.sum(1) + {smoothing}, axis=0)
p = rates.reindex(key_test).fillna(pd.Series(shares, index=GENRES)).to_numpy()
''' + FOOTER


def text_model(vectorizer: str, classifier: str, with_decade: bool = False) -> str:
    return (HEADER + FEATURES[with_decade].format(vectorizer=VECTORIZERS[vectorizer])
            + f"model = {classifier}.fit(x_train, y)\np = table(model, x_test)\n" + FOOTER)


def boosted(vectorizer: str, n: int, leaves: int, seed: int) -> str:
    """LightGBM on the title's n-grams (at most 2000 columns) and the year."""
    return HEADER + f'''
vectorizer = {VECTORIZERS[vectorizer]}
vectorizer.set_params(max_features=2000)
x_train = sparse.hstack([vectorizer.fit_transform(a), train[["year"]].to_numpy(float)]).tocsr().astype(np.float32)
x_test = sparse.hstack([vectorizer.transform(b), test[["year"]].to_numpy(float)]).tocsr().astype(np.float32)
model = {LGBM.format(n=n, leaves=leaves, seed=seed)}.fit(x_train, y)
p = table(model, x_test)
''' + FOOTER


def average(parts: list[tuple[str, str, bool]], weights: list[float] | None = None) -> str:
    """Weighted mean of the probabilities of several (vectorizer, classifier, with_decade) models."""
    body = "\npredictions = []\n"
    for vectorizer, classifier, with_decade in parts:
        body += FEATURES[with_decade].format(vectorizer=VECTORIZERS[vectorizer])
        body += f"model = {classifier}.fit(x_train, y)\npredictions.append(table(model, x_test))\n"
    weights = weights or [1.0] * len(parts)
    return HEADER + body + f"\np = np.average(predictions, axis=0, weights={weights!r})\n" + FOOTER


def _population() -> list[tuple[str, str]]:
    members = [
        ("genre-shares", constant("np.tile(shares, (len(test), 1))")),
        ("random-genre", constant("np.random.default_rng(0).random((len(test), len(GENRES)))")),
        ("simple-naive-bayes", _solution("simple-naive-bayes")),
        ("reference-logreg-title-decade", _solution("reference-logreg-title-decade")),
    ]
    for smoothing in (5, 50):
        members.append((f"decade-rates-s{smoothing}", decade_rates(smoothing)))
    members.append(("year-lgbm", year_model("lgb.LGBMClassifier(n_estimators=100, learning_rate=0.05, num_leaves=7, "
                                            "min_child_samples=30, random_state=0, n_jobs=1, verbose=-1)")))
    members.append(("year-knn", year_model("KNeighborsClassifier(200)")))
    for vectorizer in ("count", "binary", "charcount"):
        for alpha in (0.3, 1.0, 3.0):
            members.append((f"multinomial-nb-{vectorizer}-a{alpha}",
                            text_model(vectorizer, f"MultinomialNB(alpha={alpha})")))
    members.append(("bernoulli-nb", text_model("binary", "BernoulliNB(alpha=1.0)")))
    members.append(("complement-nb", text_model("count", "ComplementNB(alpha=1.0)")))
    for vectorizer in ("word", "word12", "char14", "char25", "char15", "wordchar"):
        for c in (0.3, 1.0, 3.0):
            members.append((f"logreg-{vectorizer}-c{c}", text_model(vectorizer, LOGREG.format(c=c))))
        for c in (0.5, 1.0, 2.0, 8.0):
            members.append((f"logreg-{vectorizer}-decade-c{c}", text_model(vectorizer, LOGREG.format(c=c), True)))
        members.append((f"svm-calibrated-{vectorizer}",
                        text_model(vectorizer, "CalibratedClassifierCV(LinearSVC(C=0.1, random_state=0), cv=3)", True)))
        for seed in (0, 1, 2):
            members.append((f"sgd-{vectorizer}-seed{seed}",
                            text_model(vectorizer, SGD.format(alpha=1e-4, seed=seed), True)))
    for k in (25, 100):
        members.append((f"knn-char14-k{k}", text_model("char14", f"KNeighborsClassifier({k}, metric='cosine')")))
    for vectorizer in ("count", "charcount"):
        for n, leaves, seed in ((150, 7, 0), (400, 7, 0), (400, 7, 1), (300, 31, 0)):
            members.append((f"lgbm-{vectorizer}-year-n{n}-l{leaves}-seed{seed}", boosted(vectorizer, n, leaves, seed)))
    averages = {
        "average-word-char": [("word12", LOGREG.format(c=2.0), True), ("char25", LOGREG.format(c=2.0), True)],
        "average-three-logregs": [("word", LOGREG.format(c=2.0), True), ("char14", LOGREG.format(c=2.0), True),
                                  ("char15", LOGREG.format(c=2.0), True)],
        "average-logreg-nb": [("wordchar", LOGREG.format(c=2.0), True), ("count", "MultinomialNB(alpha=1.0)", False)],
        "average-logreg-svm": [("wordchar", LOGREG.format(c=2.0), True),
                               ("char15", "CalibratedClassifierCV(LinearSVC(C=0.1, random_state=0), cv=3)", True)],
        "average-weak-logregs": [("word", LOGREG.format(c=0.3), False), ("char14", LOGREG.format(c=0.3), False)],
    }
    members.extend((name, average(parts)) for name, parts in averages.items())
    members.append(("average-logreg-lgbm", average(
        [("wordchar", LOGREG.format(c=2.0), True), ("count", LGBM.format(n=300, leaves=7, seed=0), True)], [0.7, 0.3])))
    members.append(("average-logregs-tilted", average(
        [("word12", LOGREG.format(c=1.0), True), ("char15", LOGREG.format(c=1.0), True)], [0.4, 0.6])))
    return members


POPULATION: list[tuple[str, str]] = _population()
