"""A small, real ML job: cross-validated LightGBM on scikit-learn's digits, plus a torch matmul."""

import time

import lightgbm as lgb
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score

started = time.perf_counter()
X, y = load_digits(return_X_y=True)
model = lgb.LGBMClassifier(n_estimators=60, num_leaves=15, learning_rate=0.1, n_jobs=1, verbose=-1)
scores = cross_val_score(model, X, y, cv=3)
a = torch.randn(256, 256)
product = (a @ a.T).trace().item()
with open("scores.txt", "w") as f:
    f.write(" ".join(f"{s:.4f}" for s in scores) + "\n")
print(f"digits: {len(y)} images, LightGBM 3-fold accuracy {np.mean(scores):.4f}")
print(f"torch {torch.__version__}: trace(A A^T) = {product:.1f}; took {time.perf_counter() - started:.2f} s")
