"""The label-issue finder, above the methods: it reads what training exposes (each step's logits by sample
index, a method's own per-sample columns), adds scores that cost passes or refits of their own, and writes
``label_issues.csv``. It never changes training and never reaches into a method."""
