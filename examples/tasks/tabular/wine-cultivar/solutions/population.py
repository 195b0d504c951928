"""The leaderboard population: (team, code) pairs, from a constant guess to a tuned linear model.

Each code string is a standalone script: it reads ./input/train.csv and ./input/test.csv and
writes ./submission.csv (id, cultivar).  `dojo-lite tasks leaderboard` runs each one in the
sandbox and writes the scores to leaderboard.csv.
"""

from __future__ import annotations

HEADER = """\
import numpy as np
import pandas as pd
train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
features = [c for c in test.columns if c != "id"]
X, y, X_test = train[features], train["cultivar"], test[features]
"""

FOOTER = """
pd.DataFrame({"id": test["id"], "cultivar": np.asarray(predicted, dtype=int)}).to_csv("submission.csv", index=False)
"""

BODIES = {
    "one-grape-fits-all": "predicted = np.full(len(test), y.mode()[0])",
    "colour-by-eye": (
        "cuts = X['color_intensity'].quantile([1 / 3, 2 / 3]).to_numpy()\n"
        "predicted = np.digitize(X_test['color_intensity'], cuts)"
    ),
    "proline-stump": (
        "from sklearn.tree import DecisionTreeClassifier\n"
        "predicted = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X[['proline']], y)"
        ".predict(X_test[['proline']])"
    ),
    "raw-neighbours": (
        "from sklearn.neighbors import KNeighborsClassifier\n"
        "predicted = KNeighborsClassifier(5).fit(X, y).predict(X_test)"
    ),
    "shallow-tree": (
        "from sklearn.tree import DecisionTreeClassifier\n"
        "predicted = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y).predict(X_test)"
    ),
    "naive-bayes": (
        "from sklearn.naive_bayes import GaussianNB\n"
        "predicted = GaussianNB().fit(X, y).predict(X_test)"
    ),
    "scaled-neighbours": (
        "from sklearn.neighbors import KNeighborsClassifier\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "predicted = make_pipeline(StandardScaler(), KNeighborsClassifier(7)).fit(X, y).predict(X_test)"
    ),
    "forest": (
        "from sklearn.ensemble import RandomForestClassifier\n"
        "predicted = RandomForestClassifier(200, random_state=0, n_jobs=1).fit(X, y).predict(X_test)"
    ),
    "scaled-logit": (
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "predicted = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)).fit(X, y)"
        ".predict(X_test)"
    ),
}

POPULATION = [(team, HEADER + body + FOOTER) for team, body in BODIES.items()]
