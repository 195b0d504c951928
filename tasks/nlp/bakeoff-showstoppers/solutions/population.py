"""Varied solutions, from trivial to strong, whose scores make leaderboard.csv.

Each entry is (team name, source code); the code reads ./input/ and writes ./submission.csv. The programs are a
sweep over a few templates: constants; one-feature rules (length, words such as "tiered"); models of a few
text statistics; text models (naive Bayes, logistic regression, linear SVMs, SGD, ridge, nearest neighbours,
LightGBM, NB-SVM) over word or character n-grams, alone or with the name's length; and averages of several.
The task's own simple and reference solutions are members too, read from their files.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to this one),
# so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"simple-naive-bayes": "simple.py", "reference-two-logregs": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = '''\
import numpy as np
import pandas as pd
import lightgbm as lgb
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.naive_bayes import BernoulliNB, ComplementNB, MultinomialNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["showstopper"].to_numpy()
a, b = train["bake"].astype(str), test["bake"].astype(str)
GRAND = ["tier", "tower", "display", "showstopper", "sculpt", "piece", "centrepiece", "castle", "three", "box"]


def stats(frame):
    text = frame["bake"].astype(str)
    lower = text.str.lower()
    return pd.DataFrame({
        "length": np.log1p(text.str.len()),
        "words": text.str.split().str.len(),
        "withs": lower.str.count(r"\\bwith\\b"),
        "ands": lower.str.count(r"\\band\\b|&"),
        "commas": text.str.count(","),
        "grand": lower.map(lambda t: sum(word in t for word in GRAND)),
        "series": frame["series"],
        "episode": frame["episode"],
    })


def length(frame):
    text = frame["bake"].astype(str)
    return np.column_stack([np.log1p(text.str.len()) - 3.5, np.log1p(text.str.split().str.len()) - 1.8])
'''

FOOTER = '''
p = np.clip(np.nan_to_num(np.asarray(p, dtype=float), nan=0.5), 0.0, 1.0)
pd.DataFrame({"id": test["id"], "showstopper": p}).to_csv("submission.csv", index=False)
'''

VECTORIZERS = {
    "count": "CountVectorizer()",
    "binary": "CountVectorizer(binary=True)",
    "word": "TfidfVectorizer(sublinear_tf=True)",
    "word12": "TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)",
    "char24": 'TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)',
    "char15": 'TfidfVectorizer(analyzer="char", ngram_range=(1, 5), sublinear_tf=True)',
    "wordchar": 'make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), '
                'TfidfVectorizer(analyzer="char", ngram_range=(1, 5), sublinear_tf=True))',
}

OUTPUTS = {
    "proba": "model.predict_proba(x_test)[:, 1]",
    "sigmoid": "1.0 / (1.0 + np.exp(-model.decision_function(x_test)))",
}

# the name's vectors, with or without its two length columns
FEATURES = {
    False: '''
vectorizer = {vectorizer}
x_train, x_test = vectorizer.fit_transform(a), vectorizer.transform(b)
''',
    True: '''
vectorizer = {vectorizer}
x_train = sparse.hstack([vectorizer.fit_transform(a), length(train)]).tocsr()
x_test = sparse.hstack([vectorizer.transform(b), length(test)]).tocsr()
''',
}

LOGREG = "LogisticRegression(C={c}, max_iter=3000)"
SVM = "LinearSVC(C=0.3, random_state=0)"
SGD = "SGDClassifier(loss='modified_huber', alpha={alpha}, random_state={seed})"
LGBM = ("lgb.LGBMClassifier(n_estimators={n}, learning_rate=0.05, num_leaves=15, colsample_bytree=0.5, "
        "subsample=0.8, subsample_freq=1, random_state={seed}, n_jobs=1, verbose=-1)")


def constant(expression: str) -> str:
    return HEADER + f"\np = {expression}\n" + FOOTER


def rule(expression: str) -> str:
    """A score from one statistic of the test names (only its order matters)."""
    return HEADER + f"\ns = stats(test)\np = {expression}\np = (p - p.min()) / (p.max() - p.min() + 1e-9)\n" + FOOTER


def stats_model(classifier: str, columns: list[str] | None = None) -> str:
    pick = "" if columns is None else f"[{columns!r}]"
    return HEADER + f'''
model = {classifier}.fit(stats(train){pick}, y)
p = model.predict_proba(stats(test){pick})[:, 1]
''' + FOOTER


def text_model(vectorizer: str, classifier: str, output: str = "proba", with_length: bool = False) -> str:
    return (HEADER + FEATURES[with_length].format(vectorizer=VECTORIZERS[vectorizer])
            + f"model = {classifier}.fit(x_train, y)\np = {OUTPUTS[output]}\n" + FOOTER)


def boosted(vectorizer: str, n: int, seed: int) -> str:
    """LightGBM on the name's TF-IDF next to the text statistics."""
    return HEADER + f'''
vectorizer = {VECTORIZERS[vectorizer]}
x_train = sparse.hstack([vectorizer.fit_transform(a), stats(train).to_numpy(float)]).tocsr().astype(np.float32)
x_test = sparse.hstack([vectorizer.transform(b), stats(test).to_numpy(float)]).tocsr().astype(np.float32)
model = {LGBM.format(n=n, seed=seed)}.fit(x_train, y)
p = model.predict_proba(x_test)[:, 1]
''' + FOOTER


def nbsvm(vectorizer: str, c: float) -> str:
    """Logistic regression on features scaled by naive Bayes log-count ratios."""
    return HEADER + f'''
vectorizer = {VECTORIZERS[vectorizer]}
x_train, x_test = vectorizer.fit_transform(a), vectorizer.transform(b)
pos = (x_train[y == 1].sum(0) + 1) / ((y == 1).sum() + 1)
neg = (x_train[y == 0].sum(0) + 1) / ((y == 0).sum() + 1)
ratio = np.asarray(np.log(pos / neg)).ravel()
model = LogisticRegression(C={c}, max_iter=3000).fit(x_train.multiply(ratio).tocsr(), y)
p = model.predict_proba(x_test.multiply(ratio).tocsr())[:, 1]
''' + FOOTER


def average(parts: list[tuple[str, str, str, bool]]) -> str:
    """Mean of the scores of several (vectorizer, classifier, output, with_length) models."""
    body = "\npredictions = []\n"
    for vectorizer, classifier, output, with_length in parts:
        body += FEATURES[with_length].format(vectorizer=VECTORIZERS[vectorizer])
        body += f"model = {classifier}.fit(x_train, y)\npredictions.append({OUTPUTS[output]})\n"
    return HEADER + body + "\np = np.mean(predictions, axis=0)\n" + FOOTER


def _population() -> list[tuple[str, str]]:
    members = [
        ("base-rate", constant("np.full(len(test), y.mean())")),
        ("simple-naive-bayes", _solution("simple-naive-bayes")),
        ("reference-two-logregs", _solution("reference-two-logregs")),
    ]
    for seed in (0, 1):
        members.append((f"coin-flip-seed{seed}", constant(f"np.random.default_rng({seed}).random(len(test))")))
    members += [
        ("longer-is-grander", rule("s['length'].to_numpy(float)")),
        ("more-words", rule("s['words'].to_numpy(float)")),
        ("with-and-and", rule("(s['withs'] + s['ands'] + s['commas']).to_numpy(float)")),
        ("grand-words", rule("(s['grand'] + 0.01 * s['length']).to_numpy(float)")),
        ("stats-logreg", stats_model("make_pipeline(StandardScaler(), LogisticRegression())")),
        ("stats-logreg-length-only", stats_model("make_pipeline(StandardScaler(), LogisticRegression())",
                                                 ["length", "words"])),
        ("stats-lgbm", stats_model("lgb.LGBMClassifier(n_estimators=200, learning_rate=0.03, num_leaves=7, "
                                   "random_state=0, n_jobs=1, verbose=-1)")),
    ]
    for vectorizer in ("count", "binary", "word12", "char24"):
        for alpha in (0.1, 1.0):
            members.append((f"multinomial-nb-{vectorizer}-a{alpha}",
                            text_model(vectorizer, f"MultinomialNB(alpha={alpha})")))
    members.append(("bernoulli-nb", text_model("binary", "BernoulliNB(alpha=0.5)")))
    members.append(("complement-nb", text_model("word12", "ComplementNB(alpha=0.3)")))
    for vectorizer in ("word", "word12", "char24", "char15", "wordchar"):
        for c in (0.3, 4.0, 30.0):
            members.append((f"logreg-{vectorizer}-c{c}", text_model(vectorizer, LOGREG.format(c=c))))
        for c in (1.0, 4.0, 16.0):
            members.append((f"logreg-{vectorizer}-length-c{c}", text_model(vectorizer, LOGREG.format(c=c),
                                                                          with_length=True)))
        members.append((f"svm-{vectorizer}", text_model(vectorizer, SVM, "sigmoid")))
        members.append((f"svm-{vectorizer}-length", text_model(vectorizer, SVM, "sigmoid", True)))
        members.append((f"ridge-{vectorizer}", text_model(vectorizer, "RidgeClassifier(alpha=1.0)", "sigmoid")))
        for seed in (0, 1, 2):
            members.append((f"sgd-{vectorizer}-seed{seed}", text_model(vectorizer, SGD.format(alpha=1e-4, seed=seed))))
        members.append((f"knn-{vectorizer}-k25", text_model(vectorizer, "KNeighborsClassifier(25, metric='cosine')")))
    for vectorizer in ("word12", "char24"):
        for n, seed in ((150, 0), (500, 0), (500, 1)):
            members.append((f"lgbm-{vectorizer}-stats-n{n}-seed{seed}", boosted(vectorizer, n, seed)))
    for vectorizer, c in (("binary", 1.0), ("word12", 4.0), ("char15", 4.0)):
        members.append((f"nbsvm-{vectorizer}-c{c}", nbsvm(vectorizer, c)))
    averages = {
        "average-nb-logreg": [("count", "MultinomialNB(alpha=1.0)", "proba", False),
                              ("word12", LOGREG.format(c=4.0), "proba", True)],
        "average-word-char-weak": [("word12", LOGREG.format(c=0.3), "proba", False),
                                   ("char15", LOGREG.format(c=0.3), "proba", False)],
        "average-word-char-strong": [("word12", LOGREG.format(c=30.0), "proba", True),
                                     ("char15", LOGREG.format(c=30.0), "proba", True)],
        "average-three-logregs": [("word12", LOGREG.format(c=4.0), "proba", True),
                                  ("char15", LOGREG.format(c=4.0), "proba", True),
                                  ("char24", LOGREG.format(c=4.0), "proba", True)],
        "average-logreg-svm": [("wordchar", LOGREG.format(c=4.0), "proba", True),
                               ("wordchar", "LinearSVC(C=0.3, random_state=0)", "sigmoid", True)],
        "average-linear-quartet": [("word12", LOGREG.format(c=4.0), "proba", True),
                                   ("char15", LOGREG.format(c=4.0), "proba", True),
                                   ("wordchar", "LinearSVC(C=0.3, random_state=0)", "sigmoid", True),
                                   ("count", "MultinomialNB(alpha=1.0)", "proba", False)],
    }
    members.extend((name, average(parts)) for name, parts in averages.items())
    return members


POPULATION: list[tuple[str, str]] = _population()
