"""Varied solutions, from trivial to strong, whose scores make leaderboard.csv.

Each entry is (team name, source code); the code reads ./input/ and writes ./submission.csv. The programs are
built from a few templates over model settings: constants, one-feature heuristics, a sentiment word list,
text models (naive Bayes, linear models, SVMs, LightGBM over word/char n-grams) and averages of several.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"naive-bayes-counts": "simple.py", "average-four-models": "reference.py"}


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
    "word13all": f"TfidfVectorizer(ngram_range=(1, 3), min_df=1, sublinear_tf=True, {TOKENS})",
    "word12tok": f"TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, {TOKENS})",
    "word1": "TfidfVectorizer(min_df=1)",
    "count12": "CountVectorizer(ngram_range=(1, 2), min_df=2)",
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


def noise(seed: int) -> str:
    """Random guesses: the floor of the ranking."""
    return HEADER + f"\np = np.random.default_rng({seed}).random(len(test))\n" + FOOTER


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


def margin_average(members: list[tuple[str, str]]) -> str:
    """Mean of the squashed margins (decision functions) of several (vectorizer, classifier) pairs."""
    body = "\nmargins = []\n"
    for vectorizer, classifier in members:
        body += f'''
vectorizer = {VECTORIZERS[vectorizer]}
x_train, x_test = vectorizer.fit_transform(a), vectorizer.transform(b)
model = {classifier}.fit(x_train, y)
margins.append({OUTPUTS["sigmoid"]})
'''
    return HEADER + IMPORTS + body + "\np = np.mean(margins, axis=0)\n" + FOOTER


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

# The sweep: more settings of the same templates, weak to strong, each model single-threaded and seeded.
LOGREG_SEEDED = "LogisticRegression(C={c}, max_iter=3000, random_state=0, n_jobs=1)"
SVM = "LinearSVC(C={c}, random_state=0)"
RIDGE = "RidgeClassifier(alpha={alpha}, random_state=0)"
SGD = "SGDClassifier(loss='{loss}', alpha={alpha}, max_iter=50, tol=None, random_state={seed})"
LGBM_SEEDED = ("lgb.LGBMClassifier(n_estimators={n}, learning_rate={lr}, num_leaves={leaves}, colsample_bytree=0.3, "
               "subsample=0.8, subsample_freq=1, random_state={seed}, n_jobs=1, verbose=-1)")
STATS_LGBM = ("lgb.LGBMClassifier(n_estimators={n}, learning_rate=0.03, num_leaves={leaves}, subsample=0.8, "
              "subsample_freq=1, random_state={seed}, n_jobs=1, verbose=-1)")


def _c(value: float) -> str:
    return f"{value:g}".replace(".", "p")


WIDE = {"ridge": RIDGE.format(alpha=0.3), "svm": SVM.format(c=1.0)}
CHAR = {"ridge": RIDGE.format(alpha=3.0), "svm": SVM.format(c=0.1)}
SWEEP: list[tuple[str, str]] = [(f"random-guess-seed{seed}", noise(seed)) for seed in (0, 1, 2)]
SWEEP += [
    ("positive-words-only", handmade("words.map(lambda w: sum(t in positive for t in w))")),
    ("negative-words-only", handmade("-words.map(lambda w: sum(t in negative for t in w))")),
]
SWEEP += [(f"text-stats-logreg-c{_c(c)}",
           features_model(f"make_pipeline(StandardScaler(), LogisticRegression(C={c}, random_state=0, n_jobs=1))"))
          for c in (0.01, 0.1, 10.0)]
SWEEP += [(f"text-stats-lgbm-n{n}-leaves{leaves}-seed{seed}",
           features_model(STATS_LGBM.format(n=n, leaves=leaves, seed=seed)))
          for n, leaves in ((100, 4), (400, 15)) for seed in (1, 2)]
SWEEP += [(f"multinomial-nb-{vectorizer}-a{_c(alpha)}", text_model(vectorizer, f"MultinomialNB(alpha={alpha})"))
          for vectorizer in ("count", "count12") for alpha in (0.1, 0.3, 3.0)]
SWEEP += [(f"complement-nb-{vectorizer}-a{_c(alpha)}", text_model(vectorizer, f"ComplementNB(alpha={alpha})"))
          for vectorizer in ("word", "word13all") for alpha in (0.1, 1.0)]
SWEEP += [(f"bernoulli-nb-a{_c(alpha)}", text_model("binary", f"BernoulliNB(alpha={alpha})"))
          for alpha in (0.1, 0.3, 3.0)]
SWEEP += [(f"logreg-{vectorizer}-c{_c(c)}", text_model(vectorizer, LOGREG_SEEDED.format(c=c)))
          for vectorizer in ("word1", "word12tok", "word13", "word13all") for c in (0.3, 1.0, 10.0, 30.0)]
SWEEP += [(f"logreg-char-c{_c(c)}", text_model("char", LOGREG_SEEDED.format(c=c))) for c in (1.0, 10.0)]
SWEEP += [(f"svm-{vectorizer}-c{_c(c)}", text_model(vectorizer, SVM.format(c=c), output="sigmoid"))
          for vectorizer in ("word12tok", "word13", "word13all") for c in (0.03, 0.3, 1.0, 3.0)]
SWEEP += [(f"svm-char-c{_c(c)}", text_model("char", SVM.format(c=c), output="sigmoid")) for c in (0.1,)]
SWEEP += [(f"ridge-{vectorizer}-a{_c(alpha)}", text_model(vectorizer, RIDGE.format(alpha=alpha), output="sigmoid"))
          for vectorizer in ("word12tok", "word13", "word13all") for alpha in (0.3, 1.0, 3.0)]
SWEEP += [(f"sgd-{loss}-a{_c(alpha)}-seed{seed}",
           text_model("word12tok", SGD.format(loss=loss, alpha=alpha, seed=seed), output="sigmoid"))
          for loss in ("hinge", "modified_huber", "log_loss") for alpha in (1e-5, 1e-4) for seed in (1, 2)]
SWEEP += [(f"lsa-{k}-logreg-seed{seed}",
           text_model("word12tok", f"make_pipeline(TruncatedSVD({k}, random_state={seed}), "
                                   f"{LOGREG_SEEDED.format(c=1.0)})"))
          for k, seed in ((20, 0), (50, 0), (200, 0), (200, 1))]
SWEEP += [(f"lgbm-{vectorizer}-n{n}-lr{_c(lr)}-seed{seed}",
           text_model(vectorizer, LGBM_SEEDED.format(n=n, lr=lr, leaves=leaves, seed=seed), dtype="float32"))
          for vectorizer, n, lr, leaves in (("word", 100, 0.1, 7), ("word12tok", 300, 0.05, 15))
          for seed in (1, 2)]
SWEEP += [(f"nbsvm-{vectorizer}-c{_c(c)}", nbsvm(vectorizer, c))
          for vectorizer in ("word12tok", "word13all") for c in (1.0, 16.0)]
SWEEP += [
    ("average-svm-trio", average([("word13", "CalibratedClassifierCV(" + SVM.format(c=0.3) + ", cv=5)"),
                                  ("word13all", "CalibratedClassifierCV(" + SVM.format(c=1.0) + ", cv=5)"),
                                  ("char", "CalibratedClassifierCV(" + SVM.format(c=0.1) + ", cv=5)")])),
    ("average-logreg-words", average([("word13", LOGREG_SEEDED.format(c=4.0)),
                                      ("word13all", LOGREG_SEEDED.format(c=16.0))])),
    ("average-nb-pair", average([("count", "MultinomialNB(alpha=0.3)"), ("binary", "BernoulliNB(alpha=0.3)")])),
]

SWEEP += [(f"margins-word13-ridge-word13all-{wide}-char-{char}",
           margin_average([("word13", RIDGE.format(alpha=1.0)), ("word13all", WIDE[wide]), ("char", CHAR[char])]))
          for wide in WIDE for char in CHAR]

POPULATION += [*SWEEP, ("average-four-models", _solution("average-four-models"))]
