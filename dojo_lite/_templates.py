"""The solutions ``dojo-lite tasks new`` writes: ``simple.py``, ``reference.py`` and the
``population.py`` that sweeps model families, feature sets, hyperparameters and seeds.

Every script is standalone (it runs in the jail): a header naming the task's columns, a feature
recipe, a model, and a footer that turns class probabilities (one column per class, in
``CLASSES`` order) or values into ``submission.csv`` as the task's prediction kind wants.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

__all__ = ["Layout", "population_file", "reference_file", "simple_file"]


@attrs.frozen(kw_only=True)
class Layout:
    """What a generated solution must know about the task."""

    id_column: str
    target: str
    numeric: tuple[str, ...]          # numeric feature columns
    categorical: tuple[str, ...]      # text columns with few values (one-hot encoded)
    classes: tuple[str | int, ...] | None   # None: a numeric target (regression)
    prediction_kind: str              # label | probability | value
    prediction_columns: tuple[str, ...]
    non_negative: bool = False        # predictions clipped at 0 (rmsle)


_HEADER = '''\
import numpy as np
import pandas as pd

ID, TARGET = {id_column!r}, {target!r}
NUMERIC = {numeric!r}
CATEGORICAL = {categorical!r}
CLASSES = {classes!r}

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
'''

_CLASS_TARGET = '''\
KEYS = [str(label) for label in CLASSES]
y = train[TARGET].astype(str).map({key: index for index, key in enumerate(KEYS)}).to_numpy()
'''

_VALUE_TARGET = '''\
y = train[TARGET].to_numpy(dtype=float)
'''

_FEATURES = '''

def features(frame, numeric, categorical):
    """Numbers (missing ones get the train median) and one-hot columns for the 20 commonest values."""
    numbers = train[numeric].apply(pd.to_numeric, errors="coerce")
    X = frame[numeric].apply(pd.to_numeric, errors="coerce").fillna(numbers.median()).fillna(0.0)
    for column in categorical:
        for value in train[column].astype(str).value_counts().index[:20]:
            X[column + "=" + value] = (frame[column].astype(str) == value).astype(float)
    return X.astype(float)


X_train, X_test = features(train, {numeric}, {categorical}), features(test, {numeric}, {categorical})
'''

_PROBABILITIES = '''

def probabilities(model):
    """The model's class probabilities on the test rows, one column per class of CLASSES."""
    model.fit(X_train, y)
    P = np.zeros((len(X_test), len(CLASSES)))
    P[:, model.classes_] = model.predict_proba(X_test)
    return P

'''

_FOOTERS = {
    "label": '''
submission = pd.DataFrame({{ID: test[ID], {column!r}: [CLASSES[i] for i in P.argmax(axis=1)]}})
submission.to_csv("submission.csv", index=False)
''',
    "binary": '''
P = np.clip(P, 1e-6, 1.0)
P /= P.sum(axis=1, keepdims=True)
submission = pd.DataFrame({{ID: test[ID], {column!r}: P[:, 1]}})
submission.to_csv("submission.csv", index=False)
''',
    "multiclass": '''
P = np.clip(P, 1e-6, 1.0)
P /= P.sum(axis=1, keepdims=True)
submission = pd.DataFrame(P, columns={columns!r})
submission.insert(0, ID, test[ID].to_numpy())
submission.to_csv("submission.csv", index=False)
''',
    "value": '''
submission = pd.DataFrame({{ID: test[ID], {column!r}: {values}}})
submission.to_csv("submission.csv", index=False)
''',
}

# Models: (import lines, constructor); {seed} and the grid's names are filled in.  Every one is
# single-threaded and seeded, so a population's scores are the same on every run.
_CLASSIFIERS = {
    "logistic": ("from sklearn.linear_model import LogisticRegression\nfrom sklearn.pipeline import make_pipeline\n"
                 "from sklearn.preprocessing import StandardScaler",
                 "make_pipeline(StandardScaler(), LogisticRegression(C={C}, max_iter=2000))"),
    "knn": ("from sklearn.neighbors import KNeighborsClassifier\nfrom sklearn.pipeline import make_pipeline\n"
            "from sklearn.preprocessing import StandardScaler",
            "make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=min({k}, len(X_train))))"),
    "tree": ("from sklearn.tree import DecisionTreeClassifier",
             "DecisionTreeClassifier(max_depth={depth}, random_state={seed})"),
    "bayes": ("from sklearn.naive_bayes import GaussianNB", "GaussianNB()"),
    "forest": ("from sklearn.ensemble import RandomForestClassifier",
               "RandomForestClassifier(n_estimators={trees}, min_samples_leaf={leaf}, random_state={seed}, n_jobs=1)"),
    "lgbm": ("import lightgbm as lgb",
             "lgb.LGBMClassifier(n_estimators={trees}, learning_rate={lr}, num_leaves={leaves}, min_child_samples=5,\n"
             "                   subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state={seed},\n"
             "                   n_jobs=1, verbose=-1)"),
}
_REGRESSORS = {
    "ridge": ("from sklearn.linear_model import Ridge\nfrom sklearn.pipeline import make_pipeline\n"
              "from sklearn.preprocessing import StandardScaler",
              "make_pipeline(StandardScaler(), Ridge(alpha={alpha}))"),
    "knn": ("from sklearn.neighbors import KNeighborsRegressor\nfrom sklearn.pipeline import make_pipeline\n"
            "from sklearn.preprocessing import StandardScaler",
            "make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors=min({k}, len(X_train))))"),
    "tree": ("from sklearn.tree import DecisionTreeRegressor",
             "DecisionTreeRegressor(max_depth={depth}, random_state={seed})"),
    "forest": ("from sklearn.ensemble import RandomForestRegressor",
               "RandomForestRegressor(n_estimators={trees}, min_samples_leaf={leaf}, random_state={seed}, n_jobs=1)"),
    "lgbm": ("import lightgbm as lgb",
             "lgb.LGBMRegressor(n_estimators={trees}, learning_rate={lr}, num_leaves={leaves}, min_child_samples=5,\n"
             "                  subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state={seed},\n"
             "                  n_jobs=1, verbose=-1)"),
}
# The population's grid: each family's settings (every one crossed with every feature set and seed).
_GRID: dict[str, list[dict[str, object]]] = {
    "logistic": [{"C": c} for c in (0.01, 0.1, 1.0, 10.0)],
    "ridge": [{"alpha": a} for a in (0.1, 10.0, 1000.0)],
    "knn": [{"k": k} for k in (1, 5, 25)],
    "tree": [{"depth": d} for d in (1, 3, 6, None)],
    "bayes": [{}],
    "forest": [{"trees": t, "leaf": leaf} for t in (10, 100) for leaf in (1, 5)],
    "lgbm": [{"trees": t, "lr": lr, "leaves": leaves} for t, lr, leaves in
             ((50, 0.1, 4), (300, 0.03, 4), (300, 0.1, 15), (1000, 0.2, 31))],
}
_SEEDED = ("forest", "lgbm")   # families whose seed changes the model: three seeds each
SEEDS = (0, 1, 2)


def _kind(layout: Layout) -> str:
    if layout.classes is None:
        return "value"
    if layout.prediction_kind == "label":
        return "label"
    return "binary" if len(layout.prediction_columns) == 1 else "multiclass"


def _script(layout: Layout, imports: Sequence[str], body: str) -> str:
    """A whole script: its imports, the header, the target, ``body``, the footer."""
    lines = {line for block in imports for line in block.splitlines() if line}
    extra = sorted(lines, key=lambda line: (line.startswith("from"), line.split()[1]))
    head = _HEADER.format(id_column=layout.id_column, target=layout.target, numeric=list(layout.numeric),
                          categorical=list(layout.categorical),
                          classes=None if layout.classes is None else list(layout.classes))
    head = head.replace("import pandas as pd\n", "import pandas as pd\n" + "".join(f"{line}\n" for line in extra), 1)
    target = _VALUE_TARGET if layout.classes is None else _CLASS_TARGET
    kind = _kind(layout)
    values = "np.clip(values, 0, None)" if layout.non_negative else "values"
    footer = _FOOTERS[kind].format(column=layout.prediction_columns[0], columns=list(layout.prediction_columns),
                                   values=values)
    return head + target + body + footer


def _features(layout: Layout, numeric: Sequence[str], categorical: Sequence[str]) -> str:
    """The feature recipe on these columns (named by the header's lists where they are those)."""
    return _FEATURES.format(numeric="NUMERIC" if tuple(numeric) == layout.numeric else list(numeric),
                            categorical="CATEGORICAL" if tuple(categorical) == layout.categorical
                            else list(categorical))


def _fit(layout: Layout, constructor: str, name: str = "P") -> str:
    """Fit ``constructor`` and set ``name`` (class probabilities, or values)."""
    if layout.classes is None:
        return f"\nmodel = {constructor}\n{name} = model.fit(X_train, y).predict(X_test)\n"
    return f"\n{name} = probabilities({constructor})\n"


def simple_file(layout: Layout) -> str:
    """A sane baseline: a linear model (logistic or ridge regression) on the numeric columns only
    (on the categorical ones when there are no numbers)."""
    numeric, categorical = (layout.numeric, ()) if layout.numeric else ((), layout.categorical)
    family = "logistic" if layout.classes is not None else "ridge"
    models = _CLASSIFIERS if layout.classes is not None else _REGRESSORS
    imports, constructor = models[family]
    settings = {"C": 1.0, "alpha": 1.0}
    doc = (f'"""Simple baseline: {"logistic" if layout.classes is not None else "ridge"} regression on the '
           f'{"numeric" if layout.numeric else "categorical"} columns (generated by dojo-lite tasks new)."""\n\n')
    body = _features(layout, numeric, categorical) + (_PROBABILITIES if layout.classes is not None else "")
    body += _fit(layout, constructor.format(**settings), "P" if layout.classes is not None else "values")
    return doc + _script(layout, [imports], body)


def reference_file(layout: Layout) -> str:
    """The reference: the average of a linear model and a LightGBM model on every feature."""
    classes = layout.classes is not None
    models = _CLASSIFIERS if classes else _REGRESSORS
    linear = models["logistic" if classes else "ridge"]
    boosted = models["lgbm"]
    doc = ('"""Reference: the average of a ' + ("logistic" if classes else "ridge") + " regression and a LightGBM "
           'model on every numeric and one-hot column (generated by dojo-lite tasks new)."""\n\n')
    body = _features(layout, layout.numeric, layout.categorical) + (_PROBABILITIES if classes else "")
    body += _fit(layout, linear[1].format(C=1.0, alpha=1.0), "linear")
    body += _fit(layout, boosted[1].format(trees=300, lr=0.05, leaves=15, seed=0), "boosted")
    body += "\nP = (linear + boosted) / 2\n" if classes else "\nvalues = (linear + boosted) / 2\n"
    return doc + _script(layout, [linear[0], boosted[0]], body)


def feature_sets(layout: Layout) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """The population's feature sets: every column, the numbers only, half of the columns, one column."""
    columns = [*layout.numeric, *layout.categorical]
    half = columns[: max(1, len(columns) // 2)]
    sets = {
        "all": (layout.numeric, layout.categorical),
        "numbers": (layout.numeric, ()),
        "half": (tuple(c for c in half if c in layout.numeric), tuple(c for c in half if c in layout.categorical)),
        "one": ((columns[0],), ()) if columns[0] in layout.numeric else ((), (columns[0],)),
    }
    unique: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}
    for name, value in sets.items():
        if value[0] or value[1]:
            unique.setdefault(value, name)
    return {name: value for value, name in unique.items()}


def population(layout: Layout) -> list[tuple[str, str]]:
    """(team, code) pairs: a constant guess, then every family x setting x feature set x seed."""
    classes = layout.classes is not None
    models = _CLASSIFIERS if classes else _REGRESSORS
    constant = ("\nP = np.tile(np.bincount(y, minlength=len(CLASSES)) / len(y), (len(test), 1))\n" if classes
                else "\nvalues = np.full(len(test), np.median(y))\n")
    members = [("constant-guess", _script(layout, [], constant))]
    for set_name, (numeric, categorical) in feature_sets(layout).items():
        for family, (imports, constructor) in models.items():
            for settings in _GRID[family]:
                for seed in SEEDS if family in _SEEDED else SEEDS[:1]:
                    team = "-".join([family, set_name, *(f"{k}{v}" for k, v in settings.items()),
                                     *([f"seed{seed}"] if family in _SEEDED else [])])
                    body = _features(layout, numeric, categorical) + (_PROBABILITIES if classes else "")
                    body += _fit(layout, constructor.format(seed=seed, **settings), "P" if classes else "values")
                    members.append((team, _script(layout, [imports], body)))
    return members


_POPULATION = '''\
"""The leaderboard population (generated by dojo-lite tasks new): a constant guess, then every model
family x setting x feature set x seed of dojo_lite's task generator, from weak (one column, a stump)
to strong (boosting on every column), and the task's own simple and reference solutions.

Each code string is a standalone script: it reads ./input/train.csv and ./input/test.csv and writes
./submission.csv.  Rebuild leaderboard.csv with `dojo-lite tasks leaderboard {task_id}`.
"""

from __future__ import annotations

from pathlib import Path

# team -> the solution file it runs, byte for byte
SOLUTIONS = {{"simple-baseline": "simple.py", "reference": "reference.py"}}

GENERATED: list[tuple[str, str]] = {members}

POPULATION: list[tuple[str, str]] = GENERATED + [
    (team, (Path(__file__).parent / name).read_text(encoding="utf-8")) for team, name in SOLUTIONS.items()
]
'''


def population_file(layout: Layout, task_id: str) -> str:
    """``solutions/population.py``: the members written out, so that the leaderboard follows the file."""
    members = "[\n" + "".join(f"    ({team!r}, {code!r}),\n" for team, code in population(layout)) + "]"
    return _POPULATION.format(task_id=task_id, members=members)
