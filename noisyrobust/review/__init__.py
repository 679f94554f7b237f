"""The review page of a finished run: `noisyrobust review RUN` (`python -m noisyrobust.review RUN`).

Serves, on 127.0.0.1 only, the run's training samples most suspicious first (label_issues.csv's order) with
their thumbnails, given and suggested labels, score and rank; a person keeps, relabels or drops each, and
every decision is saved at once to RUN/review.csv, which `data.review_file=RUN/review.csv` trains on."""


def main(argv=None) -> int:
    from noisyrobust.review.cli import main as run

    return run(argv)
