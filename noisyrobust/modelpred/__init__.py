"""ModelPred (Zeng, Wang, Chen, Just, Jin & Jia 2021): predicting the model trained on a set from the set, for
a convex problem (logistic regression on fixed features). ``python -m noisyrobust.modelpred``."""
