"""The review server over HTTP: what the page reads, decisions saved at once, and each hostile request
refused with its status and reason."""
import base64
import http.client
import io
import json

import numpy as np
import pytest
from PIL import Image
from review_run import finished_run, run_dir, server  # noqa: F401 - fixtures

from noisyrobust.label_issues.table import read_issue_table

# one test process trains the review tests' shared run once (review_run.finished_run)
pytestmark = pytest.mark.xdist_group("review")


def request(srv, method, path, body=None, headers=None):
    port = srv.server_address[1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    sent = {"Host": f"127.0.0.1:{port}"}
    if method == "POST":
        sent.update({"Origin": f"http://127.0.0.1:{port}", "Content-Type": "application/json"})
    sent.update(headers or {})
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in sent.items():
        if value is not None:
            conn.putheader(name, value)
    if data is not None:
        conn.putheader("Content-Length", str(len(data)))
    conn.endheaders(data)
    r = conn.getresponse()
    payload = r.read()
    conn.close()
    return r.status, payload, r.headers


def test_rows_come_a_page_at_a_time_most_suspicious_first_and_filtered(server, run_dir):
    table = read_issue_table(run_dir / "label_issues.csv")
    status, body, _ = request(server, "GET", "/api/rows?offset=0&limit=50")
    page = json.loads(body)
    assert status == 200 and page["total"] == len(table["index"]) == 1293 and len(page["rows"]) == 50
    assert [r["index"] for r in page["rows"]] == table["index"][:50].tolist()
    assert [r["rank"] for r in page["rows"]] == list(range(1, 51))
    page2 = json.loads(request(server, "GET", "/api/rows?offset=50&limit=50")[1])
    assert [r["index"] for r in page2["rows"]] == table["index"][50:100].tolist()
    # filters: given class 3, suggested 5, scores within [0, 1]
    score = table["early_aum"]
    want = (table["given_label"] == 3) & (table["suggested_label"] == 5) & (score >= 0) & (score <= 1)
    found = json.loads(request(server, "GET", "/api/rows?given=3&suggested=5&min=0&max=1&limit=500")[1])
    assert found["total"] == int(want.sum()) and [r["index"] for r in found["rows"]] == table["index"][want].tolist()
    png = base64.b64decode(page["rows"][0]["thumbnail"].removeprefix("data:image/png;base64,"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and Image.open(io.BytesIO(png)).size == (64, 64)  # 8x8 digits, x8
    info = json.loads(request(server, "GET", "/api/info")[1])
    assert info["classes"] == [str(c) for c in range(10)] and info["score"] == "early_aum" and info["pictures"]


def test_every_decision_is_saved_at_once_and_read_back_by_a_new_server(server, run_dir):
    table = read_issue_table(run_dir / "label_issues.csv")
    a, b, c = (int(i) for i in table["index"][:3])
    given_c = int(table["given_label"][2])
    for body in ({"index": a, "decision": "relabel", "label": 7}, {"index": b, "decision": "drop"},
                 {"index": c, "decision": "keep"}):
        status, answer, _ = request(server, "POST", "/api/decide", body)
        assert status == 200, answer
    assert (run_dir / "review.csv").read_text() == "".join(
        f"{line}\n" for line in ["index,decision,label", *sorted(
            [f"{a},relabel,7", f"{b},drop,", f"{c},keep,{given_c}"], key=lambda s: int(s.split(",")[0]))])
    assert json.loads(answer)["counts"] == {"keep": 1, "relabel": 1, "drop": 1}
    request(server, "POST", "/api/decide", {"index": c, "decision": "undo"})
    from noisyrobust.review.decisions import DecisionStore  # reopening: a new store reads what was decided

    store = DecisionStore(run_dir / "review.csv", rows=server.run.row_of, given=server.run.given,
                          num_samples=server.run.num_samples, num_classes=10)
    assert store.decisions == {a: ("relabel", 7), b: ("drop", -1)}
    shown = json.loads(request(server, "GET", "/api/rows?show=decided")[1])["rows"]
    assert {(r["index"], r["decision"], r["label"]) for r in shown} == {(a, "relabel", 7), (b, "drop", -1)}


def test_hostile_requests_get_refused_with_their_reason(server, run_dir):
    port = server.server_address[1]
    index = int(read_issue_table(run_dir / "label_issues.csv")["index"][0])
    train_size = len(np.load(run_dir / "noisy_labels.npz")["clean"])
    cases = [  # (method, path, body, headers, status, reason)
        ("GET", "/", None, {"Host": f"attacker.example:{port}"}, 421, "Host is not this server"),  # DNS rebinding
        ("GET", "/api/rows", None, {"Host": None}, 421, "Host is not this server"),
        ("POST", "/api/decide", {"index": index, "decision": "drop"}, {"Origin": "http://attacker.example"}, 403,
         "cross-origin request refused"),
        ("POST", "/api/decide", {"index": index, "decision": "drop"}, {"Origin": None}, 403,
         "a POST must carry this page's Origin"),
        ("GET", "/api/info", None, {"Sec-Fetch-Site": "cross-site"}, 403, "cross-site request refused"),
        ("POST", "/api/decide", b"index=1&decision=drop", {"Content-Type": "application/x-www-form-urlencoded"}, 415,
         "the body must be application/json"),
        ("POST", "/api/decide", {"index": train_size + 5, "decision": "drop"}, {}, 400,
         f"index {train_size + 5} is not a training sample of this run"),
        ("POST", "/api/decide", {"index": "1", "decision": "drop"}, {}, 400, "index '1' is not a training sample"),
        ("POST", "/api/decide", {"index": index, "decision": "relabel", "label": 10}, {}, 400,
         "label 10 is not a class of this run (0..9)"),
        ("POST", "/api/decide", {"index": index, "decision": "relabel", "label": "cat"}, {}, 400,
         "label 'cat' is not a class of this run"),
        ("POST", "/api/decide", {"index": index, "decision": "delete"}, {}, 400, "decision 'delete' is unknown"),
        ("POST", "/api/decide", b"{not json", {}, 400, "Expecting property name"),
        ("POST", "/api/decide", b"x" * 5000, {}, 413, "the body must be 1..4096 bytes"),
        ("GET", "/../../etc/passwd", None, {}, 404, "not found"),  # no path reaches the file system
        ("GET", "/%2e%2e/noisy_labels.npz", None, {}, 404, "not found"),
        ("GET", "/api/rows?limit=100000", None, {}, 400, "limit in 1..500"),
        ("OPTIONS", "/api/decide", None, {"Origin": f"http://127.0.0.1:{port}"}, 403, "cross-origin request refused"),
    ]
    for method, path, body, headers, status, reason in cases:
        got, payload, _ = request(server, method, path, body, headers)
        assert (got, reason in json.loads(payload)["error"]) == (status, True), (method, path, headers, payload)
    assert not (run_dir / "review.csv").exists()  # nothing refused was saved


@pytest.mark.parametrize("flag, decision", [("--accept-suggested", "relabel"), ("--drop", "drop")])
def test_accept_suggested_and_drop_decide_the_k_most_suspicious_without_a_person(run_dir, capsys, flag, decision):
    from noisyrobust.data.review_file import parse_decisions
    from noisyrobust.review import main

    assert main([str(run_dir), flag, "40"]) == 0
    table = read_issue_table(run_dir / "label_issues.csv")
    found = parse_decisions((run_dir / "review.csv").read_text(), num_samples=1617, num_classes=10, where="x")
    assert sorted(found) == sorted(table["index"][:40].tolist())
    for k in range(40):
        i, given, suggested = (int(table[c][k]) for c in ("index", "given_label", "suggested_label"))
        want = ("drop", -1) if decision == "drop" else ("keep", given) if suggested == given else ("relabel", suggested)
        assert found[i] == want
    assert "the 40 most suspicious samples by early_aum decided" in capsys.readouterr().out
    assert main([str(run_dir), flag, "0"]) == 2
    assert f"error: {flag} 0 is outside 1..1293 (the run's training samples)" in capsys.readouterr().err
