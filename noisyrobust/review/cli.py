"""`noisyrobust review RUN [--port N] [--accept-suggested K | --drop K]`."""
import argparse
import sys
from pathlib import Path

from noisyrobust.errors import UserError

DEFAULT_PORT = 8765


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="noisyrobust review", description="Review a run's suspicious labels in the "
                                "browser (127.0.0.1 only); every decision is saved to RUN/review.csv at once.")
    p.add_argument("run_dir", type=Path, metavar="RUN", help="a finished run (logs/train/runs/<run>)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; "
                   "0: any free port)")
    auto = p.add_mutually_exclusive_group()
    auto.add_argument("--accept-suggested", type=int, metavar="K", help="without a person: relabel the K most "
                      "suspicious samples to their suggested labels, write review.csv and exit")
    auto.add_argument("--drop", type=int, metavar="K", help="without a person: drop the K most suspicious "
                      "samples, write review.csv and exit")
    return p


def automatic(run, store, *, accept_suggested=None, drop=None) -> str:
    """Decide the K most suspicious rows without a person; returns the line to print."""
    k = accept_suggested if accept_suggested is not None else drop
    if not 1 <= k <= len(run.index):
        flag = "--accept-suggested" if accept_suggested is not None else "--drop"
        raise UserError(f"{flag} {k} is outside 1..{len(run.index)} (the run's training samples)")
    top = range(k)
    if drop is not None:
        decisions = {int(run.index[r]): ("drop", -1) for r in top}
    else:  # a suggestion equal to the given label keeps it
        decisions = {int(run.index[r]): ("keep", int(run.given[r])) if run.suggested[r] == run.given[r]
                     else ("relabel", int(run.suggested[r])) for r in top}
    earlier = len(set(store.decisions) - set(decisions))
    store.decide_many(decisions)
    c = store.counts()
    return (f"{store.path}: the {k} most suspicious samples by {run.score_name} decided: {c['relabel']} relabelled, "
            f"{c['keep']} kept, {c['drop']} dropped in all"
            + (f" ({earlier} earlier decisions kept)" if earlier else ""))


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    from noisyrobust.review.decisions import DecisionStore
    from noisyrobust.review.run_data import ReviewRun
    from noisyrobust.review.server import ReviewServer

    try:
        if not 0 <= args.port <= 65535:
            raise UserError(f"--port {args.port} is not a port: use 0..65535 (0: any free port)")
        run = ReviewRun(args.run_dir.expanduser().resolve())
        store = DecisionStore(run.run_dir / "review.csv", rows=run.row_of, given=run.given,
                              num_samples=run.num_samples, num_classes=run.num_classes)
        if args.accept_suggested is not None or args.drop is not None:
            print(automatic(run, store, accept_suggested=args.accept_suggested, drop=args.drop))
            return 0
        try:
            server = ReviewServer(run, store, args.port)
        except OSError as e:
            raise UserError(f"--port {args.port} cannot be opened on 127.0.0.1 ({e.strerror}); choose another "
                            "port (0: any free one)") from None
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"reviewing {run.run_dir} ({len(run.index)} training samples by {run.score_name}): open {server.url}\n"
          f"decisions are saved to {store.path} as they are made; Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
