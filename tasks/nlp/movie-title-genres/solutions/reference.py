"""Reference: a logistic regression on the title's words and characters and on the decade.

The title becomes word TF-IDF and character 1-4-gram TF-IDF (within word boundaries); the year becomes a one-hot
decade (animation and documentaries were much more common in the early decades of film). One multinomial
logistic regression with a moderate penalty predicts the genre.
"""

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_union
from sklearn.preprocessing import OneHotEncoder

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")


def decade(frame):
    return (np.clip(frame[["year"]].to_numpy(), 1910, 2009) // 10).astype(str)


titles = make_union(TfidfVectorizer(sublinear_tf=True),
                    TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True))
decades = OneHotEncoder(handle_unknown="ignore")
x_train = sparse.hstack([titles.fit_transform(train["title"]), decades.fit_transform(decade(train))]).tocsr()
x_test = sparse.hstack([titles.transform(test["title"]), decades.transform(decade(test))]).tocsr()
model = LogisticRegression(C=2.0, max_iter=3000).fit(x_train, train["genre"])

pd.DataFrame({"id": test["id"], "genre": model.predict(x_test)}).to_csv("submission.csv", index=False)
