"""Memorization experiments as callbacks and run types: the step a training set is fitted (Zhang et al.
2017), susceptibility (Forouzesh et al.), the slingshot monitor (Thilak et al.), re-initialization
(shrink-and-perturb, layer-wise) and iterative magnitude pruning (sparse double descent, He et al. 2022)."""
