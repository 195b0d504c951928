"""Varied solutions, from trivial to strong, whose scores make leaderboard.csv.

Each entry is (team name, source code); the code reads ./input/ and writes ./submission.csv. The programs are a
sweep over a few templates: constants; text models (naive Bayes, linear SVMs, SGD, ridge, logistic regression,
nearest neighbours) over word or character n-grams of the name, alone or with the country and the accounts;
models of the accounts alone (LightGBM, random forests, k-NN, logistic regression); blends of a text model and
LightGBM; and stacks (out-of-fold name margins fed to LightGBM with the accounts), each with or without a nudge
towards rare classes. The task's own simple and reference solutions are members too, read from their files.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to this one),
# so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"simple-name-logreg": "simple.py", "reference-svm-plus-stack": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = '''\
import numpy as np
import pandas as pd
import lightgbm as lgb
from scipy import sparse
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_union
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["category"].astype(str).to_numpy()
classes, codes = np.unique(y, return_inverse=True)
prior = np.bincount(codes, minlength=len(classes)) / len(codes)
country_type = pd.CategoricalDtype(sorted(train["country"].unique()))


def numbers(frame):
    sales, assets = frame["sales"].clip(lower=0.001), frame["assets"].clip(lower=0.001)
    value = frame["marketvalue"].clip(lower=0.001)
    return pd.DataFrame({
        "log_sales": np.log(sales), "log_assets": np.log(assets), "log_value": np.log(value),
        "assets_per_sales": np.log(assets / sales), "value_per_sales": np.log(value / sales),
        "margin": (frame["profits"].fillna(0) / sales).clip(-1, 1),
        "return_on_assets": (frame["profits"].fillna(0) / assets).clip(-1, 1),
    }).reset_index(drop=True)


def with_country(frame):
    out = numbers(frame)
    out["country"] = pd.Categorical(frame["country"].to_numpy(), dtype=country_type)
    return out


def softmax(margins, scale):
    z = np.exp(scale * (margins - margins.max(1, keepdims=True)))
    return z / z.sum(1, keepdims=True)


def full_table(model, table):
    """Class probabilities of a fitted model in the order of `classes` (a class it never saw gets 0)."""
    out = np.zeros((table.shape[0], len(classes)))
    out[:, np.asarray(model.classes_)] = model.predict_proba(table)
    return out
'''

FOOTER = '''
p = np.nan_to_num(np.asarray(p, dtype=float), nan=0.0) / prior ** {rebalance}
pd.DataFrame({{"id": test["id"], "category": classes[p.argmax(1)]}}).to_csv("submission.csv", index=False)
'''

VECTORIZERS = {
    "count": "CountVectorizer()",
    "word": "TfidfVectorizer(sublinear_tf=True)",
    "word12": "TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)",
    "char24": 'TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)',
    "char25": 'TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)',
    "char15": 'TfidfVectorizer(analyzer="char", ngram_range=(1, 5), sublinear_tf=True, lowercase=False)',
    "wordchar": 'make_union(TfidfVectorizer(sublinear_tf=True), '
                'TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))',
}

# how a fitted `model` scores the classes of `x_test` (rows: test companies, columns: `classes`)
OUTPUTS = {
    "proba": "full_table(model, x_test)",
    "margin": "softmax(model.decision_function(x_test), 4.0)",
}

# the inputs of a text model: the name alone, or with the country and the scaled accounts
FEATURES = {
    "name": '''
vectorizer = {vectorizer}
x_train, x_test = vectorizer.fit_transform(train["name"]), vectorizer.transform(test["name"])
''',
    "all": '''
vectorizer, countries, scaler = {vectorizer}, OneHotEncoder(handle_unknown="ignore"), StandardScaler()
x_train = sparse.hstack([vectorizer.fit_transform(train["name"]), countries.fit_transform(train[["country"]]),
                         scaler.fit_transform(numbers(train))]).tocsr()
x_test = sparse.hstack([vectorizer.transform(test["name"]), countries.transform(test[["country"]]),
                        scaler.transform(numbers(test))]).tocsr()
''',
}

SVM = "LinearSVC(C={c}, random_state=0)"
SGD = "SGDClassifier(loss='modified_huber', alpha={alpha}, random_state={seed})"
LOGREG = "OneVsRestClassifier(LogisticRegression(C={c}, solver='liblinear'))"
LGBM = ("lgb.LGBMClassifier(n_estimators={n}, learning_rate=0.05, num_leaves={leaves}, min_child_samples=10, "
        "colsample_bytree=0.7, subsample=0.8, subsample_freq=1, random_state={seed}, n_jobs=1, verbose=-1)")


def constant(expression: str) -> str:
    return HEADER + f"\np = {expression}\n" + FOOTER.format(rebalance=0)


def text_model(features: str, vectorizer: str, classifier: str, output: str, rebalance: float = 0) -> str:
    return (HEADER + FEATURES[features].format(vectorizer=VECTORIZERS[vectorizer])
            + f"model = {classifier}.fit(x_train, codes)\np = {OUTPUTS[output]}\n"
            + FOOTER.format(rebalance=rebalance))


def accounts_model(classifier: str, table: str = "with_country", rebalance: float = 0) -> str:
    """A model of the accounts (and the country) alone; `table` is with_country or a one-hot + scaled matrix."""
    if table == "with_country":
        body = "x_train, x_test = with_country(train), with_country(test)\n"
    else:
        body = '''countries, scaler = OneHotEncoder(handle_unknown="ignore"), StandardScaler()
x_train = np.hstack([scaler.fit_transform(numbers(train)), countries.fit_transform(train[["country"]]).toarray()])
x_test = np.hstack([scaler.transform(numbers(test)), countries.transform(test[["country"]]).toarray()])
'''
    return (HEADER + body + f"model = {classifier}.fit(x_train, codes)\np = full_table(model, x_test)\n"
            + FOOTER.format(rebalance=rebalance))


def blend(vectorizer: str, c: float, booster: str, weight: float, rebalance: float) -> str:
    """A linear SVM on name + country + accounts, and LightGBM on the accounts, probabilities averaged."""
    return (HEADER + FEATURES["all"].format(vectorizer=VECTORIZERS[vectorizer]) + f'''
text_p = softmax(LinearSVC(C={c}, random_state=0).fit(x_train, codes).decision_function(x_test), 4.0)
model = {booster}.fit(with_country(train), codes)
p = {weight} * text_p + {1 - weight:.2g} * full_table(model, with_country(test))
''' + FOOTER.format(rebalance=rebalance))


def stack(vectorizer: str, c: float, booster: str, rebalance: float, folds: int = 5) -> str:
    """Out-of-fold SVM margins of the name, then LightGBM on them with the accounts and the country."""
    return HEADER + f'''

def name_margins(fit, fit_codes, apply):
    v = {VECTORIZERS[vectorizer]}
    model = LinearSVC(C={c}, random_state=0).fit(v.fit_transform(fit["name"]), fit_codes)
    out = np.full((len(apply), len(classes)), -1.0)
    out[:, model.classes_] = model.decision_function(v.transform(apply["name"]))
    return out


oof = np.zeros((len(train), len(classes)))
for fit_idx, val_idx in StratifiedKFold({folds}, shuffle=True, random_state=0).split(train, codes):
    oof[val_idx] = name_margins(train.iloc[fit_idx], codes[fit_idx], train.iloc[val_idx])
margin_columns = [f"name_{{i}}" for i in range(len(classes))]
x_train = pd.concat([with_country(train), pd.DataFrame(oof, columns=margin_columns)], axis=1)
x_test = pd.concat([with_country(test), pd.DataFrame(name_margins(train, codes, test), columns=margin_columns)], axis=1)
model = {booster}.fit(x_train, codes)
p = full_table(model, x_test)
''' + FOOTER.format(rebalance=rebalance)


def _population() -> list[tuple[str, str]]:
    members = [
        ("majority-class", constant("np.tile(prior, (len(test), 1))")),
        ("simple-name-logreg", _solution("simple-name-logreg")),
        ("reference-svm-plus-stack", _solution("reference-svm-plus-stack")),
    ]
    for seed in (0, 1, 2):
        members.append((f"random-by-share-seed{seed}",
                        constant(f"np.random.default_rng({seed}).dirichlet(np.ones(len(classes)), len(test)) * prior")))
    # text alone: every vectorizer x a few classifiers
    for vectorizer in ("word", "word12", "char24", "char25", "char15", "wordchar"):
        for c in (0.05, 0.5, 5.0):
            members.append((f"svm-{vectorizer}-c{c}", text_model("name", vectorizer, SVM.format(c=c), "margin")))
        members.append((f"sgd-{vectorizer}", text_model("name", vectorizer, SGD.format(alpha=1e-4, seed=0), "proba")))
        members.append((f"ridge-{vectorizer}", text_model("name", vectorizer, "RidgeClassifier(alpha=1.0)", "margin")))
        members.append((f"logreg-ovr-{vectorizer}", text_model("name", vectorizer, LOGREG.format(c=10.0), "proba")))
    for vectorizer in ("count", "word12", "char25"):
        for alpha in (0.1, 1.0):
            members.append((f"complement-nb-{vectorizer}-a{alpha}",
                            text_model("name", vectorizer, f"ComplementNB(alpha={alpha})", "proba")))
    members.append(("multinomial-nb-count", text_model("name", "count", "MultinomialNB(alpha=0.5)", "proba")))
    for k in (1, 5, 15):
        members.append((f"knn-char25-k{k}", text_model("name", "char25",
                                                       f"KNeighborsClassifier({k}, metric='cosine')", "proba")))
    # text + country + accounts in one linear model
    for vectorizer in ("word", "char25", "wordchar"):
        for c in (0.1, 0.5, 2.0):
            members.append((f"svm-all-{vectorizer}-c{c}", text_model("all", vectorizer, SVM.format(c=c), "margin")))
        for seed in (0, 1, 2):
            members.append((f"sgd-all-{vectorizer}-seed{seed}",
                            text_model("all", vectorizer, SGD.format(alpha=1e-4, seed=seed), "proba")))
    members.append(("svm-all-wordchar-rebalanced", text_model("all", "wordchar", SVM.format(c=0.5), "margin", 0.5)))
    # the accounts alone
    for n in (100, 300):
        for leaves in (7, 31):
            for seed in (0, 1):
                members.append((f"lgbm-accounts-n{n}-l{leaves}-seed{seed}",
                                accounts_model(LGBM.format(n=n, leaves=leaves, seed=seed))))
    for seed in (0, 1, 2):
        members.append((f"forest-accounts-seed{seed}", accounts_model(
            f"RandomForestClassifier(300, min_samples_leaf=2, random_state={seed}, n_jobs=1)", table="matrix")))
    members.append(("logreg-accounts", accounts_model("LogisticRegression(C=1.0, max_iter=3000)", table="matrix")))
    members.append(("knn-accounts-k15", accounts_model("KNeighborsClassifier(15)", table="matrix")))
    # blends of a text SVM and LightGBM on the accounts
    for weight in (0.3, 0.5, 0.7):
        for rebalance in (0, 0.5, 1):
            members.append((f"blend-w{weight}-r{rebalance}", blend(
                "wordchar", 0.5, LGBM.format(n=200, leaves=7, seed=0), weight, rebalance)))
    # stacks: out-of-fold name margins + accounts in LightGBM
    for vectorizer in ("char25", "wordchar"):
        for n, leaves in ((150, 7), (400, 7), (200, 15)):
            for rebalance in (0, 0.5):
                members.append((f"stack-{vectorizer}-n{n}-l{leaves}-r{rebalance}", stack(
                    vectorizer, 0.5, LGBM.format(n=n, leaves=leaves, seed=0), rebalance)))
    for seed in (1, 2, 3):
        members.append((f"stack-wordchar-rebalanced-seed{seed}", stack(
            "wordchar", 0.5, LGBM.format(n=200, leaves=7, seed=seed), 0.5)))
    return members


POPULATION: list[tuple[str, str]] = _population()
