"""Reference: one small network reads each digit (shared weights) into probabilities over 0..9; the two
distributions are convolved into a distribution over the sum 0..18, trained on the sum alone. The swapped
pair (right digit first) is added to training; the prediction is the most likely sum."""

import numpy as np
import pandas as pd
import torch
from torch import nn

torch.set_num_threads(1)
torch.manual_seed(0)
rng = np.random.default_rng(0)

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
images_train = np.load("input/train_images.npy").astype(np.float32) / 16.0
images_test = np.load("input/test_images.npy").astype(np.float32) / 16.0
images_train = np.concatenate([images_train, np.concatenate([images_train[:, :, 8:], images_train[:, :, :8]], 2)])
y = torch.tensor(np.tile(train["sum"].to_numpy(), 2))

reader = nn.Sequential(  # one 8x8 digit -> scores for 0..9
    nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Dropout(0.2), nn.Linear(32 * 16, 128), nn.ReLU(), nn.Linear(128, 10),
)


def sum_log_probabilities(pairs):
    left = torch.softmax(reader(pairs[:, None, :, :8]), dim=1)
    right = torch.softmax(reader(pairs[:, None, :, 8:]), dim=1)
    joint = left[:, :, None] * right[:, None, :]  # P(left = a, right = b)
    sums = torch.zeros(len(pairs), 19)
    for a in range(10):
        sums[:, a:a + 10] += joint[:, a, :]
    return torch.log(sums + 1e-9)


x_train = torch.from_numpy(images_train)
optimizer = torch.optim.Adam(reader.parameters(), lr=2e-3)
for _epoch in range(20):
    reader.train()
    order = rng.permutation(len(x_train))
    for start in range(0, len(order), 64):
        idx = order[start:start + 64]
        loss = nn.functional.nll_loss(sum_log_probabilities(x_train[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
reader.eval()
with torch.no_grad():
    prediction = sum_log_probabilities(torch.from_numpy(images_test)).argmax(dim=1).numpy()
pd.DataFrame({"id": test["id"], "sum": prediction.astype(int)}).to_csv("submission.csv", index=False)
