"""Reference: LightGBM on sex, class, age (missing ages: the median of the title), the title, the family's size,
and how the passenger's family group fared in the training data."""

import lightgbm as lgb
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["Survived"].to_numpy()
n_train = len(train)
data = pd.concat([train.drop(columns=["Survived"]), test], ignore_index=True)

title = data["Title"].replace({"Mlle": "Miss", "Ms": "Miss", "Mme": "Mrs"})
title = title.where(title.isin(["Mr", "Mrs", "Miss", "Master"]), "Rare")
family = data["FamilyGroup"]

X = pd.DataFrame(
    {
        "female": (data["Sex"] == "female").astype(int),
        "Pclass": data["Pclass"],
        "Age": data["Age"].fillna(data["Age"].groupby(title).transform("median")),
        "age_missing": data["Age"].isna().astype(int),
        "family_size": family.map(family.value_counts()),
    }
)
for value in ["Mr", "Mrs", "Miss", "Master", "Rare"]:
    X["title_" + value] = (title == value).astype(int)

# Survival rate of the other passengers of the same family in train (leave-one-out for train rows).
known = pd.Series(np.r_[y, np.full(len(data) - n_train, np.nan)])
group_sum = known.fillna(0).groupby(family).transform("sum") - known.fillna(0)
group_count = known.notna().astype(int).groupby(family).transform("sum") - known.notna().astype(int)
X["group_survival"] = (group_sum / group_count.replace(0, np.nan)).fillna(y.mean()).to_numpy()
X["group_known"] = group_count.to_numpy()

model = lgb.LGBMClassifier(
    n_estimators=300,
    learning_rate=0.02,
    num_leaves=8,
    min_child_samples=10,
    subsample=0.8,
    subsample_freq=1,
    colsample_bytree=0.8,
    n_jobs=1,
    verbose=-1,
    random_state=0,
)
model.fit(X.iloc[:n_train], y)
prediction = model.predict(X.iloc[n_train:])
pd.DataFrame({"PassengerId": test["PassengerId"], "Survived": prediction.astype(int)}).to_csv(
    "submission.csv", index=False
)
