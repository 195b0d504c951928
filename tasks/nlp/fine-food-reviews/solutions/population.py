"""Varied solutions, from trivial to strong, whose scores make leaderboard.csv.

Each entry is (team name, source code); the code reads ./input/ and writes ./submission.csv. The programs are
built from a few templates over model settings: constants, one-feature heuristics, a sentiment word list,
text models (naive Bayes, linear models, SVMs, LightGBM over word/char n-grams) and averages of several.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"naive-bayes-counts": "simple.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = '''\
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["great"].to_numpy()


def clean(text):
    return text.str.replace(r"<[^>]+>", " ", regex=True).str.replace(r"http\\S+", " ", regex=True)


a, b = clean(train["review"]), clean(test["review"])
'''

FOOTER = '''
p = np.clip(np.nan_to_num(np.asarray(p, dtype=float), nan=0.5), 0.0, 1.0)
pd.DataFrame({"id": test["id"], "great": p}).to_csv("submission.csv", index=False)
'''

IMPORTS = '''
import lightgbm as lgb
from sklearn.calibration import CalibratedClassifierCV
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.naive_bayes import BernoulliNB, ComplementNB, MultinomialNB
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
'''

TOKENS = r'''token_pattern=r"(?u)\b\w[\w']*\b|[!?]"'''
VECTORIZERS = {
    "count": "CountVectorizer()",
    "binary": "CountVectorizer(binary=True, min_df=2)",
    "word": "TfidfVectorizer(min_df=2, sublinear_tf=True)",
    "word12": "TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)",
    "word13": f"TfidfVectorizer(ngram_range=(1, 3), min_df=2, max_df=0.9, sublinear_tf=True, {TOKENS})",
    "char": 'TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), min_df=3, sublinear_tf=True, max_features=200000)',
    "wordchar": f'make_union(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, {TOKENS}), '
                'TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True))',
}

# score of the positive class from a fitted `model` on `x_test`, mapped into [0, 1]
OUTPUTS = {
    "proba": "model.predict_proba(x_test)[:, 1]",
    "sigmoid": "1.0 / (1.0 + np.exp(-model.decision_function(x_test)))",
}

POSITIVE = ["great", "love", "best", "delicious", "perfect", "excellent", "favorite", "wonderful", "amazing", "highly"]
NEGATIVE = ["not", "but", "disappointed", "bad", "however", "unfortunately", "too", "ok", "okay", "waste", "never"]


def constant(value: str) -> str:
    return HEADER + f"\np = np.full(len(test), {value})\n" + FOOTER


def handmade(expression: str) -> str:
    """A score from one hand-written formula over the cleaned test text `b`, squashed into [0, 1]."""
    return HEADER + f'''
words = b.str.lower().str.findall(r"[a-z']+")
positive, negative = {POSITIVE!r}, {NEGATIVE!r}
score = {expression}
p = 1.0 / (1.0 + np.exp(-np.asarray(score, dtype=float)))
''' + FOOTER


def features_model(estimator: str) -> str:
    """A model on a few hand-made text statistics."""
    return HEADER + IMPORTS + f'''
positive, negative = {POSITIVE!r}, {NEGATIVE!r}


def stats(text):
    words = text.str.lower().str.findall(r"[a-z']+")
    return pd.DataFrame({{
        "length": np.log1p(text.str.len()),
        "exclamations": text.str.count("!"),
        "questions": text.str.count("[?]"),
        "capitals": text.str.count("[A-Z]") / text.str.len().clip(lower=1),
        "positive": words.map(lambda w: sum(t in positive for t in w)),
        "negative": words.map(lambda w: sum(t in negative for t in w)),
    }})


model = {estimator}
model.fit(stats(a), y)
x_test = stats(b)
p = model.predict_proba(x_test)[:, 1]
''' + FOOTER


def text_model(vectorizer: str, classifier: str, output: str = "proba", dtype: str = "") -> str:
    cast = f".astype(np.{dtype})" if dtype else ""
    return HEADER + IMPORTS + f'''
vectorizer = {VECTORIZERS[vectorizer]}
x_train = vectorizer.fit_transform(a){cast}
x_test = vectorizer.transform(b){cast}
model = {classifier}
model.fit(x_train, y)
p = {OUTPUTS[output]}
''' + FOOTER


def nbsvm(vectorizer: str, c: float) -> str:
    """Logistic regression on features scaled by naive Bayes log-count ratios."""
    return HEADER + IMPORTS + f'''
vectorizer = {VECTORIZERS[vectorizer]}
x_train, x_test = vectorizer.fit_transform(a), vectorizer.transform(b)
pos = (x_train[y == 1].sum(0) + 1) / ((y == 1).sum() + 1)
neg = (x_train[y == 0].sum(0) + 1) / ((y == 0).sum() + 1)
ratio = np.asarray(np.log(pos / neg)).ravel()
model = LogisticRegression(C={c}, max_iter=3000).fit(x_train.multiply(ratio).tocsr(), y)
x_test = x_test.multiply(ratio).tocsr()
p = {OUTPUTS["proba"]}
''' + FOOTER


def average(members: list[tuple[str, str]]) -> str:
    """Mean of the probabilities of several (vectorizer, classifier) pairs."""
    body = "\npredictions = []\n"
    for vectorizer, classifier in members:
        body += f'''
vectorizer = {VECTORIZERS[vectorizer]}
x_train, x_test = vectorizer.fit_transform(a), vectorizer.transform(b)
model = {classifier}.fit(x_train, y)
predictions.append({OUTPUTS["proba"]})
'''
    return HEADER + IMPORTS + body + "\np = np.mean(predictions, axis=0)\n" + FOOTER


LOGREG = "LogisticRegression(C={c}, max_iter=3000)"
LGBM = ("lgb.LGBMClassifier(n_estimators={n}, learning_rate=0.05, num_leaves=15, colsample_bytree=0.3, "
        "random_state=0, n_jobs=1, verbose=-1)")

POPULATION: list[tuple[str, str]] = [
    ("all-great", constant("1.0")),
    ("base-rate", constant("y.mean()")),
    ("shorter-is-better", handmade("-np.log1p(b.str.len()) + 6")),
    ("exclamation-marks", handmade("b.str.count('!')")),
    ("word-list", handmade("words.map(lambda w: sum(t in positive for t in w) - sum(t in negative for t in w))")),
    ("text-stats-logreg", features_model("make_pipeline(StandardScaler(), LogisticRegression())")),
    ("text-stats-lgbm", features_model("lgb.LGBMClassifier(n_estimators=200, learning_rate=0.03, num_leaves=7, "
                                       "random_state=0, n_jobs=1, verbose=-1)")),
    ("naive-bayes-counts", _solution("naive-bayes-counts")),
    ("bernoulli-nb", text_model("binary", "BernoulliNB(alpha=1.0)")),
    ("complement-nb-tfidf", text_model("word12", "ComplementNB(alpha=0.3)")),
    ("lsa-100-logreg", text_model("word", f"make_pipeline(TruncatedSVD(100, random_state=0), {LOGREG.format(c=1.0)})")),
    ("logreg-words-weak", text_model("word", LOGREG.format(c=0.1))),
    ("logreg-words", text_model("word12", LOGREG.format(c=3.0))),
    ("logreg-words-13", text_model("word13", LOGREG.format(c=4.0))),
    ("logreg-chars", text_model("char", LOGREG.format(c=3.0))),
    ("logreg-words-chars", text_model("wordchar", LOGREG.format(c=3.0))),
    ("ridge-words", text_model("word12", "RidgeClassifier(alpha=1.0)", output="sigmoid")),
    ("sgd-hinge", text_model("word12", "SGDClassifier(loss='hinge', alpha=5e-5, max_iter=50, random_state=0)",
                             output="sigmoid")),
    ("svm-calibrated", text_model("wordchar", "CalibratedClassifierCV(LinearSVC(C=0.3), cv=5)")),
    ("lgbm-tfidf-small", text_model("word", LGBM.format(n=150), dtype="float32")),
    ("lgbm-tfidf", text_model("word", LGBM.format(n=500), dtype="float32")),
    ("nbsvm-words", nbsvm("word13", 4.0)),
    ("average-words-chars", average([("word13", LOGREG.format(c=4.0)), ("char", LOGREG.format(c=3.0))])),
    ("average-nb-logreg", average([("count", "MultinomialNB(alpha=0.5)"), ("word12", LOGREG.format(c=3.0))])),
    ("average-linear-trio", average([("word13", LOGREG.format(c=4.0)), ("char", LOGREG.format(c=3.0)),
                                     ("wordchar", "CalibratedClassifierCV(LinearSVC(C=0.3), cv=5)")])),
]
