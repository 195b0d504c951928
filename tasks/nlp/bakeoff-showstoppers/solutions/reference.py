"""Reference: two logistic regressions over the bake's name, averaged.

One over word 1-2-gram TF-IDF, one over character 1-5-gram TF-IDF (showstoppers have long, elaborate names
full of "tiered", "display", "tower", "with ... and ..."; the character n-grams also catch words run together
in the listing) and the name's length. Their probabilities are averaged.
"""

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["showstopper"].to_numpy()


def length(frame):
    text = frame["bake"].astype(str)
    return np.column_stack([np.log1p(text.str.len()) - 3.5, np.log1p(text.str.split().str.len()) - 1.8])


predictions = []
for vectorizer in (TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                   TfidfVectorizer(analyzer="char", ngram_range=(1, 5), sublinear_tf=True)):
    x_train = sparse.hstack([vectorizer.fit_transform(train["bake"]), length(train)]).tocsr()
    x_test = sparse.hstack([vectorizer.transform(test["bake"]), length(test)]).tocsr()
    model = LogisticRegression(C=4.0, max_iter=3000).fit(x_train, y)
    predictions.append(model.predict_proba(x_test)[:, 1])

p = np.mean(predictions, axis=0)
pd.DataFrame({"id": test["id"], "showstopper": p}).to_csv("submission.csv", index=False)
