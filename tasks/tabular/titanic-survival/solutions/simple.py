"""Simple baseline: logistic regression on sex, passenger class and age (missing ages get the median)."""

import pandas as pd
from sklearn.linear_model import LogisticRegression

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
median_age = train["Age"].median()


def features(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "female": (frame["Sex"] == "female").astype(int),
            "second": (frame["Pclass"] == 2).astype(int),
            "third": (frame["Pclass"] == 3).astype(int),
            "age": frame["Age"].fillna(median_age) / 10,
        }
    )


model = LogisticRegression(max_iter=1000).fit(features(train), train["Survived"])
prediction = model.predict(features(test))
pd.DataFrame({"PassengerId": test["PassengerId"], "Survived": prediction.astype(int)}).to_csv(
    "submission.csv", index=False
)
