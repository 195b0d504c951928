"""Reference: a blend of LightGBM (categorical columns as categories) and ridge regression (one-hot columns,
log-transformed skewed areas), both fitted on log(price) with a few engineered features."""

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.preprocessing import StandardScaler

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
# The documented outliers: huge, partial sales at low prices.
train = train[~((train["Gr_Liv_Area"] > 4000) & (train["Sale_Price"] < 300000))].reset_index(drop=True)
y = np.log1p(train["Sale_Price"].to_numpy())
n_train = len(train)
data = pd.concat([train.drop(columns=["Sale_Price"]), test], ignore_index=True).drop(columns=["Id"])

QUALITY = {"Very_Poor": 1, "Poor": 1, "Fair": 2, "Below_Average": 3, "Typical": 3, "Average": 3,
           "Above_Average": 4, "Good": 4, "Very_Good": 5, "Excellent": 5}
for column in ["Overall_Cond", "Exter_Cond", "Bsmt_Cond", "Heating_QC", "Garage_Cond", "Pool_QC"]:
    data[column + "_score"] = data[column].map(QUALITY).fillna(0)
data["Total_SF"] = data["Total_Bsmt_SF"] + data["First_Flr_SF"] + data["Second_Flr_SF"]
data["Age"] = data["Year_Sold"] - data["Year_Built"]
data["Remod_Age"] = data["Year_Sold"] - data["Year_Remod_Add"]
data["Baths"] = data["Full_Bath"] + 0.5 * data["Half_Bath"] + data["Bsmt_Full_Bath"] + 0.5 * data["Bsmt_Half_Bath"]
porches = ["Open_Porch_SF", "Enclosed_Porch", "Three_season_porch", "Screen_Porch", "Wood_Deck_SF"]
data["Porch_SF"] = data[porches].sum(axis=1)
for column in ["Lot_Area", "Gr_Liv_Area", "Total_SF"]:
    data["Log_" + column] = np.log1p(data[column])
categorical = list(data.select_dtypes(exclude="number").columns)
numeric = [column for column in data.columns if column not in categorical]

# LightGBM with native categorical handling.
boosted = data.copy()
for column in categorical:
    boosted[column] = boosted[column].astype("category")
booster = lgb.LGBMRegressor(
    n_estimators=2500,
    learning_rate=0.02,
    num_leaves=15,
    min_child_samples=10,
    subsample=0.7,
    subsample_freq=1,
    colsample_bytree=0.3,
    reg_lambda=1.0,
    cat_smooth=10,
    min_data_per_group=20,
    n_jobs=1,
    verbose=-1,
    random_state=0,
)
booster.fit(boosted.iloc[:n_train], y)
boosted_prediction = booster.predict(boosted.iloc[n_train:])

# Ridge regression on standardised numeric columns (skewed ones log-transformed) and one-hot categories.
linear = data[numeric].fillna(data[numeric].iloc[:n_train].median())
skewed = [column for column in numeric if linear[column].min() >= 0 and linear[column].iloc[:n_train].skew() > 0.75]
linear[skewed] = np.log1p(linear[skewed])
linear = pd.concat([linear, pd.get_dummies(data[categorical].fillna("None"), dtype=float)], axis=1)
scaled = StandardScaler().fit(linear.iloc[:n_train]).transform(linear)
ridge = RidgeCV(alphas=np.logspace(-1, 3, 30)).fit(scaled[:n_train], y)
ridge_prediction = ridge.predict(scaled[n_train:])

prediction = np.expm1(0.7 * boosted_prediction + 0.3 * ridge_prediction)
pd.DataFrame({"Id": test["Id"], "Sale_Price": prediction}).to_csv("submission.csv", index=False)
