"""Varied solutions, from trivial to strong, whose scores make leaderboard.csv.

Each entry is (team name, source code); the code reads ./input/ and writes ./submission.csv. The programs are a
sweep over a few templates: constants; rules (the cat share of names with the same ending, or of names as
popular); text models (naive Bayes, logistic regression, calibrated SVMs, SGD, nearest neighbours, LightGBM)
over character or word n-grams of the name, with or without the licence count; and averages of several. The
task's own simple and reference solutions are members too, read from their files.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to this one),
# so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"simple-char-logreg": "simple.py", "reference-char-logreg-count": "reference.py"}


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
from sklearn.naive_bayes import BernoulliNB, MultinomialNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_union
from sklearn.svm import LinearSVC

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["cat"].to_numpy()
a, b = train["name"].astype(str), test["name"].astype(str)


def counts(frame):
    return np.log(frame[["licences"]].to_numpy(float)) - 1.0
'''

FOOTER = '''
p = np.clip(np.nan_to_num(np.asarray(p, dtype=float), nan=y.mean()), 0.0, 1.0)
pd.DataFrame({"id": test["id"], "cat": p}).to_csv("submission.csv", index=False)
'''

VECTORIZERS = {
    "count23": 'CountVectorizer(analyzer="char_wb", ngram_range=(2, 3))',
    "count24": 'CountVectorizer(analyzer="char_wb", ngram_range=(2, 4))',
    "binary14": 'CountVectorizer(analyzer="char_wb", ngram_range=(1, 4), binary=True)',
    "word": 'TfidfVectorizer(sublinear_tf=True)',
    "char13": 'TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)',
    "char14": 'TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True)',
    "char25": 'TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)',
    "char15": 'TfidfVectorizer(analyzer="char", ngram_range=(1, 5), sublinear_tf=True, lowercase=False)',
    "wordchar": 'make_union(TfidfVectorizer(sublinear_tf=True), '
                'TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True))',
}

OUTPUTS = {
    "proba": "model.predict_proba(x_test)[:, 1]",
}

FEATURES = {
    False: '''
vectorizer = {vectorizer}
x_train, x_test = vectorizer.fit_transform(a), vectorizer.transform(b)
''',
    True: '''
vectorizer = {vectorizer}
x_train = sparse.hstack([vectorizer.fit_transform(a), counts(train)]).tocsr()
x_test = sparse.hstack([vectorizer.transform(b), counts(test)]).tocsr()
''',
}

LOGREG = "LogisticRegression(C={c}, max_iter=3000)"
SGD = "SGDClassifier(loss='log_loss', alpha={alpha}, random_state={seed})"
LGBM = ("lgb.LGBMClassifier(n_estimators={n}, learning_rate=0.03, num_leaves={leaves}, colsample_bytree=0.5, "
        "subsample=0.8, subsample_freq=1, min_child_samples=20, random_state={seed}, n_jobs=1, verbose=-1)")


def constant(expression: str) -> str:
    return HEADER + f"\np = {expression}\n" + FOOTER


def group_rate(key: str, smoothing: float) -> str:
    """The cat share of the training names in the same group, smoothed towards the base rate."""
    return HEADER + f'''

def key(frame):
    name = frame["name"].astype(str).str.lower()
    return {key}


groups = pd.DataFrame({{"key": key(train), "y": y}}).groupby("key")["y"].agg(["sum", "count"])
rates = (groups["sum"] + {smoothing} * y.mean()) / (groups["count"] + {smoothing})
p = key(test).map(rates).fillna(y.mean()).to_numpy()
''' + FOOTER


def text_model(vectorizer: str, classifier: str, with_count: bool = False) -> str:
    return (HEADER + FEATURES[with_count].format(vectorizer=VECTORIZERS[vectorizer])
            + f"model = {classifier}.fit(x_train, y)\np = {OUTPUTS['proba']}\n" + FOOTER)


def boosted(vectorizer: str, n: int, leaves: int, seed: int) -> str:
    """LightGBM on the name's n-grams (at most 3000 columns) and the licence count."""
    return HEADER + f'''
vectorizer = {VECTORIZERS[vectorizer]}
vectorizer.set_params(max_features=3000)
x_train = sparse.hstack([vectorizer.fit_transform(a), counts(train)]).tocsr().astype(np.float32)
x_test = sparse.hstack([vectorizer.transform(b), counts(test)]).tocsr().astype(np.float32)
model = {LGBM.format(n=n, leaves=leaves, seed=seed)}.fit(x_train, y)
p = model.predict_proba(x_test)[:, 1]
''' + FOOTER


def average(parts: list[tuple[str, str, bool]]) -> str:
    """Mean of the probabilities of several (vectorizer, classifier, with_count) models."""
    body = "\npredictions = []\n"
    for vectorizer, classifier, with_count in parts:
        body += FEATURES[with_count].format(vectorizer=VECTORIZERS[vectorizer])
        body += f"model = {classifier}.fit(x_train, y)\npredictions.append({OUTPUTS['proba']})\n"
    return HEADER + body + "\np = np.mean(predictions, axis=0)\n" + FOOTER


def _population() -> list[tuple[str, str]]:
    members = [
        ("base-rate", constant("np.full(len(test), y.mean())")),
        ("coin-flip", constant("np.full(len(test), 0.5)")),
        ("simple-char-logreg", _solution("simple-char-logreg")),
        ("reference-char-logreg-count", _solution("reference-char-logreg-count")),
    ]
    for letters in (1, 2, 3):
        for smoothing in (2, 20):
            members.append((f"ending-{letters}-letters-s{smoothing}", group_rate(f"name.str[-{letters}:]", smoothing)))
    members.append(("first-letter", group_rate("name.str[:1]", 10)))
    members.append(("licence-count-rate", group_rate("np.minimum(frame['licences'], 12)", 10)))
    for vectorizer in ("count23", "count24", "binary14"):
        for alpha in (0.3, 1.0, 3.0):
            members.append((f"multinomial-nb-{vectorizer}-a{alpha}",
                            text_model(vectorizer, f"MultinomialNB(alpha={alpha})")))
    members.append(("bernoulli-nb", text_model("binary14", "BernoulliNB(alpha=1.0)")))
    for vectorizer in ("word", "char13", "char14", "char25", "char15", "wordchar"):
        for c in (0.3, 2.0, 10.0):
            members.append((f"logreg-{vectorizer}-c{c}", text_model(vectorizer, LOGREG.format(c=c))))
        for c in (1.0, 4.0, 16.0):
            members.append((f"logreg-{vectorizer}-count-c{c}", text_model(vectorizer, LOGREG.format(c=c), True)))
        members.append((f"svm-calibrated-{vectorizer}",
                        text_model(vectorizer, "CalibratedClassifierCV(LinearSVC(C=0.1, random_state=0), cv=5)", True)))
        for seed in (0, 1, 2):
            members.append((f"sgd-{vectorizer}-seed{seed}",
                            text_model(vectorizer, SGD.format(alpha=1e-4, seed=seed), True)))
    for k in (10, 50, 150, 400):
        members.append((f"knn-char14-k{k}", text_model("char14", f"KNeighborsClassifier({k}, metric='cosine')")))
    for vectorizer in ("count24", "binary14"):
        for n, leaves in ((200, 7), (600, 7), (400, 31)):
            for seed in (0, 1):
                members.append((f"lgbm-{vectorizer}-n{n}-l{leaves}-seed{seed}", boosted(vectorizer, n, leaves, seed)))
    averages = {
        "average-char-logregs": [("char14", LOGREG.format(c=2.0), True), ("char25", LOGREG.format(c=2.0), True)],
        "average-char-logregs-weak": [("char13", LOGREG.format(c=0.3), True), ("char15", LOGREG.format(c=0.3), True)],
        "average-logreg-svm": [("char14", LOGREG.format(c=2.0), True),
                               ("char15", "CalibratedClassifierCV(LinearSVC(C=0.1, random_state=0), cv=5)", True)],
        "average-logreg-nb": [("char14", LOGREG.format(c=2.0), True), ("count24", "MultinomialNB(alpha=3.0)", False)],
        "average-four-linear": [("char14", LOGREG.format(c=1.0), True), ("char25", LOGREG.format(c=1.0), True),
                                ("char15", LOGREG.format(c=1.0), True), ("wordchar", LOGREG.format(c=1.0), True)],
        "average-logreg-sgd": [("char14", LOGREG.format(c=2.0), True),
                               ("char25", SGD.format(alpha=1e-4, seed=0), True)],
        "average-three-char-logregs": [("char13", LOGREG.format(c=2.0), True), ("char14", LOGREG.format(c=2.0), True),
                                       ("char25", LOGREG.format(c=2.0), True)],
        "average-char-logregs-c3": [("char14", LOGREG.format(c=3.0), True), ("char25", LOGREG.format(c=3.0), True)],
        "average-logregs-lgbm": [("char14", LOGREG.format(c=2.0), True), ("char25", LOGREG.format(c=2.0), True),
                                 ("char14", LGBM.format(n=300, leaves=7, seed=0), True)],
    }
    members.extend((name, average(parts)) for name, parts in averages.items())
    for seed in (1, 2):
        members.append((f"sgd-char14-a3e-4-seed{seed}", text_model("char14", SGD.format(alpha=3e-4, seed=seed), True)))
    return members


POPULATION: list[tuple[str, str]] = _population()
