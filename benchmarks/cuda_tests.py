"""pytest plugin for the GPU check (``-p cuda_tests``): keep only the tests that need CUDA, i.e. those marked
``skipif(..., reason="needs CUDA...")`` (the suite's convention, so a new GPU test joins without a list), and
append each test's outcome to the file named by $CUDA_TESTS_RESULTS as it finishes ("nodeid outcome" lines),
so a run killed at its time limit still tells what had passed."""
import os


def needs_cuda(item) -> bool:
    reasons = (str(mark.kwargs.get("reason", "")) for mark in item.iter_markers("skipif"))
    return any(reason.lower().startswith("needs cuda") for reason in reasons)


def pytest_collection_modifyitems(config, items):
    dropped = [item for item in items if not needs_cuda(item)]
    items[:] = [item for item in items if needs_cuda(item)]
    config.hook.pytest_deselected(items=dropped)


def pytest_runtest_logreport(report):
    """A test's outcome: skipped or an error at setup, passed/failed at the call, an error at teardown."""
    if report.when == "call":
        outcome = report.outcome
    elif report.outcome == "skipped" and report.when == "setup":
        outcome = "skipped"
    elif report.failed:
        outcome = "error"
    else:
        return
    path = os.environ.get("CUDA_TESTS_RESULTS")
    if path:
        with open(path, "a") as f:
            f.write(f"{report.nodeid} {outcome}\n")
