"""Simple: logistic regression on the 625 raw pixel values."""

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
X_train = np.load("input/train_images.npy").reshape(len(train), -1)
X_test = np.load("input/test_images.npy").reshape(len(test), -1)

model = LogisticRegression(C=1.0, max_iter=5000)
model.fit(X_train, train["face"])
pd.DataFrame({"id": test["id"], "face": model.predict_proba(X_test)[:, 1]}).to_csv("submission.csv", index=False)
