"""data=python_names: the standard library's definitions as sub-tokens with their own name masked, labelled by
their name among the top K, split by file, cached; and its datamodule's token batches."""
import gzip
import json

import numpy as np
import pytest
import torch
from python_source import write_python_source

from noisyrobust.data import python_corpus
from noisyrobust.data.python_names import load_python_names, python_names_datamodule
from noisyrobust.data.tokens import UNK, bag_of_tokens
from noisyrobust.errors import UserError


def test_identifiers_split_into_lower_case_sub_tokens():
    assert python_corpus.split_identifier("_parseHTTPHeader2") == ["parse", "http", "header", "2"]
    assert python_corpus.split_identifier("get_item_count") == ["get", "item", "count"]
    assert python_corpus.split_identifier("__init__") == ["init"]


def test_the_functions_own_name_is_masked_everywhere_and_literals_are_abstracted():
    source = "def fetchAll(self, n=3):\n    # a comment\n    return self.fetchAll(n - 1) + 'x'\n"
    (d,) = python_corpus.definitions(source, "m.py")
    assert d.name == "fetchAll" and d.first_line == "def fetchAll(self, n=3):"
    assert d.tokens == ["def", "<name>", "(", "self", ",", "n", "=", "<num>", ")", ":", "return", "self", ".",
                        "<name>", "(", "n", "-", "<num>", ")", "+", "<str>"]


def test_methods_and_nested_functions_are_definitions_and_test_or_generated_files_are_not(tmp_path):
    root = write_python_source(tmp_path / "lib", files=2, copies=1)
    (root / "nested.py").write_text("class A:\n    def outer(self):\n        def inner():\n            return 1\n"
                                    "        return inner\n")
    files = python_corpus.source_files(root)
    assert [str(f) for f in files] == ["mod0.py", "nested.py", "os.py", "pkg/mod1.py"]
    names = [d.name for d in python_corpus.read_corpus(root, files)]
    # mod0 and mod1: read, write, close once each (the duplicate dropped); os.py's helper; outer and inner
    assert sorted(names) == sorted(["read", "write", "close"] * 2 + ["helper", "outer", "inner"])


def test_corpus_labels_the_top_k_names_splits_by_file_and_is_cached(tmp_path, monkeypatch):
    root = write_python_source(tmp_path / "lib")
    data = load_python_names(data_dir=str(tmp_path / "data"), root=str(root), top_k=3, max_length=40,
                             vocab_size=100, test_fraction=0.25)
    assert data.classes == ("close", "read", "write")  # 48 each (ties: alphabetical); helper once, left out
    assert data.summary["samples"] == 12 * 4 * 3 and data.summary["test_files"] == 3  # duplicates dropped
    assert data.summary["train"] == 9 * 12 and data.summary["test"] == 3 * 12
    assert data.summary["python"].startswith("3.") and len(data.summary["files_checksum"]) == 16
    train_files = {t.split(":")[0] for t in data.train_text}
    assert len(train_files) == 9 and all(t.split(": ")[1].startswith("def ") for t in data.train_text)
    # each class's characteristic sub-token is in every one of its rows; the name itself is not
    vocab = {w: i for i, w in enumerate(data.vocab)}
    for label, word in ((0, "shutdown"), (1, "recv"), (2, "flush")):
        rows = data.train_tokens[data.train_labels == label]
        assert (rows == vocab[word]).any(1).all() and not (rows == vocab.get(data.classes[label], -1)).any()
    assert ((data.train_tokens == vocab["<name>"]).sum(1) == 1).all()
    cached = list((tmp_path / "data" / "python_names").glob("python3.*.json.gz"))
    assert len(cached) == 1 and len(json.loads(gzip.decompress(cached[0].read_bytes()))["rows"]) == 12 * 4 * 3 + 1
    monkeypatch.setattr(python_corpus, "read_corpus", lambda *a, **k: pytest.fail("the corpus was read again"))
    again = load_python_names(data_dir=str(tmp_path / "data"), root=str(root), top_k=3, max_length=40,
                              vocab_size=100, test_fraction=0.25)
    assert torch.equal(again.train_tokens, data.train_tokens)


def test_long_definitions_are_cut_and_unknown_tokens_become_unk(tmp_path):
    root = write_python_source(tmp_path / "lib")
    data = load_python_names(data_dir=str(tmp_path / "data"), root=str(root), top_k=3, max_length=5,
                             vocab_size=6, test_fraction=0.25)
    assert data.train_tokens.shape[1] == 5 and len(data.vocab) == 6 and data.summary["truncated"] == 144
    assert (data.train_tokens == UNK).any() and (data.train_tokens != 0).all()


def test_missing_stdlib_source_and_bad_settings_are_one_line_errors(tmp_path, monkeypatch):
    monkeypatch.setattr(python_corpus.sysconfig, "get_paths", lambda: {"stdlib": str(tmp_path)})
    with pytest.raises(UserError, match=r"^data=python_names needs the Python standard library's \.py source, and "):
        load_python_names(data_dir=str(tmp_path / "data"))
    root = write_python_source(tmp_path / "lib")
    with pytest.raises(UserError, match=r"^data.top_k=9 but the corpus holds only 4 distinct names$"):
        load_python_names(data_dir=str(tmp_path / "data"), root=str(root), top_k=9)
    with pytest.raises(UserError, match=r"^data.max_length=0 must be an integer >= 1$"):
        load_python_names(data_dir=str(tmp_path / "data"), root=str(root), max_length=0)
    with pytest.raises(UserError, match="is not a directory of Python source files"):
        load_python_names(data_dir=str(tmp_path / "data"), root=str(tmp_path / "nowhere"))


def test_datamodule_batches_token_rows_on_the_device_and_draws_the_strong_view_as_token_dropout(tmp_path):
    root = write_python_source(tmp_path / "lib")
    dm = python_names_datamodule(name="python_names", top_k=3, num_classes=3, data_dir=str(tmp_path / "data"),
                                 root=str(root), max_length=16, vocab_size=100, test_fraction=0.25, batch_size=8,
                                 strong_drop=0.5)
    dm.setup()
    (x, y, index), = [next(iter(dm.with_views("weak", "strong")._batches("train")))]
    weak, strong = x
    assert weak.dtype == torch.int64 and weak.shape == (8, 16)
    assert torch.equal(weak, dm.data.train_tokens[index]) and torch.equal(y, dm.noisy_labels[index])
    changed = (strong != weak)
    assert torch.equal(strong[changed], torch.full_like(strong[changed], UNK)) and not (weak[changed] == 0).any()
    kept_tokens = (weak != 0).sum().item()
    assert 0.25 * kept_tokens < changed.sum().item() < 0.75 * kept_tokens
    assert dm.preview([0]) == [dm.data.train_text[0]]


def test_bag_of_tokens_features_are_each_rows_token_frequencies_without_padding():
    tokens = torch.tensor([[3, 3, 2, 0], [4, 0, 0, 0]])
    expected = np.zeros((2, 5))
    expected[0, 3], expected[0, 2], expected[1, 4] = 2 / 3, 1 / 3, 1.0
    np.testing.assert_allclose(bag_of_tokens(tokens, 5).numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("overrides, message", [
    (["data=python_names"], "data=python_names holds token sequences: use model=bag_of_tokens or "
                            "model=token_transformer, not MLP"),
    (["model=bag_of_tokens"], "model BagOfTokens reads token sequences (data=python_names), and data=digits holds images"),
])
def test_token_data_and_image_networks_refuse_each_other_before_anything_runs(tmp_path, overrides, message):
    from conftest import compose_cfg

    from noisyrobust.validate import check_config
    with pytest.raises(UserError) as error:
        check_config(compose_cfg(tmp_path / "run", *overrides))
    assert str(error.value) == message
