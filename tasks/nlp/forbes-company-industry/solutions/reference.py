"""Reference: the name's words and characters next to the accounts, in two models averaged.

1. A linear SVM on word and character n-gram TF-IDF of the name, one-hot country and scaled log accounts and
   ratios (assets / sales, market value / sales, margins); its margins become probabilities by a softmax.
2. LightGBM on the accounts, the ratios, the country and out-of-fold name margins of a linear SVM.
The two class-probability tables are averaged, divided by the square root of each class's share (a nudge
towards rare classes, which macro F1 rewards) and the best class is predicted.
"""

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_union
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["category"].astype(str).to_numpy()
classes, codes = np.unique(y, return_inverse=True)


def numbers(frame):
    sales, assets = frame["sales"].clip(lower=0.001), frame["assets"].clip(lower=0.001)
    value = frame["marketvalue"].clip(lower=0.001)
    return pd.DataFrame({
        "log_sales": np.log(sales), "log_assets": np.log(assets), "log_value": np.log(value),
        "assets_per_sales": np.log(assets / sales), "value_per_sales": np.log(value / sales),
        "margin": (frame["profits"].fillna(0) / sales).clip(-1, 1),
        "return_on_assets": (frame["profits"].fillna(0) / assets).clip(-1, 1),
    })


def text_vectorizer():
    return make_union(TfidfVectorizer(sublinear_tf=True),
                      TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))


def softmax(margins, scale):
    z = np.exp(scale * (margins - margins.max(1, keepdims=True)))
    return z / z.sum(1, keepdims=True)


# 1. one linear SVM over name, country and numbers
vectorizer, countries, scaler = text_vectorizer(), OneHotEncoder(handle_unknown="ignore"), StandardScaler()
x_train = sparse.hstack([vectorizer.fit_transform(train["name"]), countries.fit_transform(train[["country"]]),
                         scaler.fit_transform(numbers(train))]).tocsr()
x_test = sparse.hstack([vectorizer.transform(test["name"]), countries.transform(test[["country"]]),
                        scaler.transform(numbers(test))]).tocsr()
linear = softmax(LinearSVC(C=0.5, random_state=0).fit(x_train, codes).decision_function(x_test), 4.0)


# 2. LightGBM over numbers, country and out-of-fold name margins
def name_margins(fit, fit_codes, apply):
    v = text_vectorizer()
    model = LinearSVC(C=0.5, random_state=0).fit(v.fit_transform(fit["name"]), fit_codes)
    out = np.full((len(apply), len(classes)), -1.0)
    out[:, model.classes_] = model.decision_function(v.transform(apply["name"]))
    return out


oof = np.zeros((len(train), len(classes)))
for fit_idx, val_idx in StratifiedKFold(5, shuffle=True, random_state=0).split(train, codes):
    oof[val_idx] = name_margins(train.iloc[fit_idx], codes[fit_idx], train.iloc[val_idx])
name_test = name_margins(train, codes, test)
country_type = pd.CategoricalDtype(sorted(train["country"].unique()))


def table(frame, margins):
    out = numbers(frame).reset_index(drop=True)
    out["country"] = pd.Categorical(frame["country"].to_numpy(), dtype=country_type)
    return pd.concat([out, pd.DataFrame(margins, columns=[f"name_{i}" for i in range(len(classes))])], axis=1)


booster = lgb.LGBMClassifier(n_estimators=200, learning_rate=0.05, num_leaves=7, min_child_samples=10,
                             colsample_bytree=0.5, subsample=0.8, subsample_freq=1, random_state=0, n_jobs=1,
                             verbose=-1)
boosted = booster.fit(table(train, oof), codes).predict_proba(table(test, name_test))

p = (linear + boosted) / 2
p = p / np.sqrt(np.bincount(codes, minlength=len(classes)) / len(codes))
pd.DataFrame({"id": test["id"], "category": classes[p.argmax(1)]}).to_csv("submission.csv", index=False)
