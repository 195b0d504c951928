"""Varied solutions, from trivial to strong, whose scores make leaderboard.csv.

Each entry is (team name, source code); the code reads ./input/ and writes ./submission.csv. The programs are a
sweep over a few templates: constants; a keyword rule (the subject whose name shares most words with the
title); text models (naive Bayes, linear SVMs, SGD, ridge, one-vs-rest logistic regression, nearest
neighbours, LightGBM) over word or character n-grams of the title, with or without tokens of the course
number at several weights; and votes of several of them. The task's own simple and reference solutions are
members too, read from their files.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to this one),
# so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"simple-naive-bayes": "simple.py", "reference-svm-title-number": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = '''\
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.naive_bayes import BernoulliNB, ComplementNB, MultinomialNB
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_union
from sklearn.svm import LinearSVC

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["subject"].astype(str).to_numpy()


def number_tokens(frame):
    parts = frame["number"].astype(str).str.extract(r"^([A-Z]*)(\\d+)([A-Z]*)$")
    level = pd.to_numeric(parts[1], errors="coerce").fillna(0) // 100
    prefix, suffix = "prefix_" + parts[0].fillna(""), " suffix_" + parts[2].fillna("")
    return prefix + " level_" + level.astype(int).astype(str) + suffix
'''

FOOTER = '''
pd.DataFrame({"id": test["id"], "subject": prediction}).to_csv("submission.csv", index=False)
'''

VECTORIZERS = {
    "count": "CountVectorizer()",
    "binary": "CountVectorizer(binary=True)",
    "word": "TfidfVectorizer(sublinear_tf=True)",
    "word12": "TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)",
    "char24": 'TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)',
    "char25": 'TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)',
    "char15": 'TfidfVectorizer(analyzer="char", ngram_range=(1, 5), sublinear_tf=True)',
    "wordchar": 'make_union(TfidfVectorizer(sublinear_tf=True), '
                'TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))',
}

# the title's vectors, and the course number's tokens scaled by a weight (0: the title alone)
FEATURES = '''
titles = {vectorizer}
numbers = CountVectorizer(token_pattern=r"\\S+", binary=True, lowercase=False)
x_train = sparse.hstack([titles.fit_transform(train["title"]),
                         {weight} * numbers.fit_transform(number_tokens(train))]).tocsr()
x_test = sparse.hstack([titles.transform(test["title"]), {weight} * numbers.transform(number_tokens(test))]).tocsr()
'''

SVM = "LinearSVC(C={c}, random_state=0)"
LOGREG = "OneVsRestClassifier(LogisticRegression(C=20.0, solver='liblinear'))"
SGD = "SGDClassifier(loss='{loss}', alpha={alpha}, random_state={seed})"


def constant(expression: str) -> str:
    return HEADER + f"\nprediction = {expression}\n" + FOOTER


def keyword_rule() -> str:
    """The subject whose name shares the most words with the title (ties: the commonest subject)."""
    return HEADER + '''
counts = pd.Series(y).value_counts()
subjects = list(counts.index)
names = [set(s.lower().replace(",", " ").split()) - {"and", "of"} for s in subjects]


def guess(title):
    words = set(title.lower().replace(",", " ").replace(":", " ").split())
    overlaps = [len(words & name) for name in names]
    return subjects[int(np.argmax(overlaps))]


prediction = test["title"].astype(str).map(guess)
''' + FOOTER


def model(vectorizer: str, classifier: str, weight: float = 0.0) -> str:
    return (HEADER + FEATURES.format(vectorizer=VECTORIZERS[vectorizer], weight=weight)
            + f"model = {classifier}.fit(x_train, y)\nprediction = model.predict(x_test)\n" + FOOTER)


def vote(members: list[tuple[str, str, float]]) -> str:
    """The commonest prediction of several models (ties: the first model's)."""
    body = "\npredictions = []\n"
    for vectorizer, classifier, weight in members:
        body += FEATURES.format(vectorizer=VECTORIZERS[vectorizer], weight=weight)
        body += f"predictions.append({classifier}.fit(x_train, y).predict(x_test))\n"
    body += '''
table = pd.DataFrame(predictions).T
prediction = [row.value_counts().index[0] if row.value_counts().iloc[0] > 1 else row.iloc[0]
              for _, row in table.iterrows()]
'''
    return HEADER + body + FOOTER


def _population() -> list[tuple[str, str]]:
    members = [
        ("most-common-subject", constant("pd.Series(y).value_counts().index[0]")),
        ("random-subject", constant("np.random.default_rng(0).choice(y, len(test))")),
        ("subject-name-keywords", keyword_rule()),
        ("simple-naive-bayes", _solution("simple-naive-bayes")),
        ("reference-svm-title-number", _solution("reference-svm-title-number")),
    ]
    for vectorizer in ("count", "binary", "word12"):
        for alpha in (0.03, 0.3, 1.0):
            members.append((f"multinomial-nb-{vectorizer}-a{alpha}",
                            model(vectorizer, f"MultinomialNB(alpha={alpha})")))
    for vectorizer in ("count", "char25"):
        members.append((f"complement-nb-{vectorizer}", model(vectorizer, "ComplementNB(alpha=0.3)")))
    members.append(("bernoulli-nb", model("binary", "BernoulliNB(alpha=0.1)")))
    for vectorizer in ("word", "word12", "char24", "char25", "char15", "wordchar"):
        for c in (0.03, 0.3, 3.0):
            members.append((f"svm-{vectorizer}-c{c}", model(vectorizer, SVM.format(c=c))))
        for weight in (0.3, 1.0):
            members.append((f"svm-{vectorizer}-number{weight}", model(vectorizer, SVM.format(c=0.5), weight)))
        members.append((f"ridge-{vectorizer}", model(vectorizer, "RidgeClassifier(alpha=1.0)", 0.5)))
        members.append((f"logreg-ovr-{vectorizer}", model(vectorizer, LOGREG,
                                                          0.5)))
        members.append((f"knn-{vectorizer}-k5", model(vectorizer, "KNeighborsClassifier(5, metric='cosine')")))
    for vectorizer in ("word", "word12", "char15", "char25", "wordchar"):
        for loss in ("hinge", "modified_huber"):
            for seed in (0, 1, 2):
                members.append((f"sgd-{loss}-{vectorizer}-seed{seed}",
                                model(vectorizer, SGD.format(loss=loss, alpha=5e-5, seed=seed), 0.5)))
    for c in (0.2, 1.0, 2.0):
        for weight in (0.25, 0.75):
            members.append((f"svm-wordchar-c{c}-number{weight}", model("wordchar", SVM.format(c=c), weight)))
    members.append(("knn-wordchar-k1", model("wordchar", "KNeighborsClassifier(1, metric='cosine')")))
    members.append(("knn-wordchar-k15",
                    model("wordchar", "KNeighborsClassifier(15, metric='cosine', weights='distance')")))
    votes = {
        "vote-nb-svm-ridge": [("count", "MultinomialNB(alpha=0.1)", 0.0), ("wordchar", SVM.format(c=0.5), 0.5),
                              ("char25", "RidgeClassifier(alpha=1.0)", 0.5)],
        "vote-three-svms": [("wordchar", SVM.format(c=0.5), 0.5), ("char15", SVM.format(c=0.5), 0.5),
                            ("word12", SVM.format(c=1.0), 0.5)],
        "vote-svm-logreg-sgd": [("wordchar", SVM.format(c=0.5), 0.5),
                                ("char25", LOGREG, 0.5),
                                ("wordchar", SGD.format(loss="modified_huber", alpha=5e-5, seed=0), 0.5)],
    }
    members.extend((name, vote(parts)) for name, parts in votes.items())
    return members


POPULATION: list[tuple[str, str]] = _population()
