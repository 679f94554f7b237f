"""``data=python_names``: method-name prediction on the Python standard library's own functions (Rabin et al.
2022's Top-10 method-name task, on code every interpreter ships). A sample is one definition's sub-tokens
(its own name masked), its label that name among the ``top_k`` most frequent; definitions with other names
are left out. Train and test are split by *file*, so near-copies within a file never straddle the two."""
import functools
import gzip
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import List, Optional

import numpy as np
import torch

from noisyrobust.data import python_corpus as corpus
from noisyrobust.data.tokens import PAD, UNK, TokenDataModule, TokenSet
from noisyrobust.errors import UserError
from noisyrobust.files import atomic_write

SPECIALS = ("<pad>", "<unk>")  # ids PAD and UNK


def cached_corpus(data_dir: Path, root: Optional[Path] = None) -> dict:
    """The deduplicated definitions of the standard library under ``root`` (default: this interpreter's),
    read once and kept in ``data_dir/python_names/`` under the Python version and the file list's checksum."""
    root = Path(root) if root is not None else corpus.stdlib_root()
    if not root.is_dir():
        raise UserError(f"data.source.root={root} is not a directory of Python source files")
    files = corpus.source_files(root)
    if not files:
        raise UserError(f"data=python_names found no .py source files under {root}; point data.source.root at "
                        "the Python standard library's source")
    version = "%d.%d.%d" % sys.version_info[:3]
    checksum = corpus.files_checksum(files, root)
    path = Path(data_dir) / "python_names" / f"python{version}-{checksum}.json.gz"
    if path.is_file():
        return json.loads(gzip.decompress(path.read_bytes()))
    rows = [list(d) for d in corpus.read_corpus(root, files)]
    built = {"python": version, "root": str(root), "files": len(files), "files_checksum": checksum, "rows": rows}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as f:
        f.write(gzip.compress(json.dumps(built).encode(), mtime=0))
    return built


def top_names(names: List[str], k: int) -> List[str]:
    """The ``k`` most frequent names, most frequent first (ties: alphabetical)."""
    return [n for n, _ in sorted(Counter(names).items(), key=lambda item: (-item[1], item[0]))[:k]]


def test_files(files: List[str], *, test_fraction: float, split_seed: int) -> set:
    """A fixed share of the files, drawn from ``split_seed``: every definition of a test file is a test sample."""
    unique = sorted(set(files))
    order = np.random.default_rng(split_seed).permutation(len(unique))
    return {unique[i] for i in order[:int(round(test_fraction * len(unique)))]}


def encode(rows: List[List[str]], vocab: dict, max_length: int) -> torch.Tensor:
    """Token rows -> int64 ids (N, max_length): unknown tokens UNK, cut at ``max_length``, right-padded with PAD."""
    ids = torch.full((len(rows), max_length), PAD, dtype=torch.int64)
    for i, tokens in enumerate(rows):
        row = [vocab.get(t, UNK) for t in tokens[:max_length]]
        ids[i, :len(row)] = torch.tensor(row, dtype=torch.int64)
    return ids


def load_python_names(*, data_dir: str, top_k: int = 10, max_length: int = 256, vocab_size: int = 5000,
                      test_fraction: float = 0.2, split_seed: int = 0, root: Optional[str] = None) -> TokenSet:
    """The method-name task: the ``top_k`` most frequent names of the standard library's definitions as classes.

    Parameters
    ----------
    top_k : int
        Classes: the most frequent names (Rabin et al.: Top-10; 50 as well).
    max_length : int
        Sub-tokens kept of each definition (longer ones are cut, shorter padded).
    vocab_size : int
        The vocabulary: PAD, UNK and the most frequent sub-tokens of the *training* files.
    test_fraction, split_seed : the share of files held out as the clean test set, and its draw.
    root : a directory of Python source to read instead of this interpreter's standard library.
    """
    for name, value, low in (("top_k", top_k, 2), ("max_length", max_length, 1), ("vocab_size", vocab_size, 3)):
        if not isinstance(value, int) or value < low:
            raise UserError(f"data.{name}={value!r} must be an integer >= {low}")
    if not 0.0 < test_fraction < 1.0:
        raise UserError(f"data.test_fraction={test_fraction!r}; expected a number between 0 and 1")
    built = cached_corpus(Path(data_dir), None if root is None else Path(root))
    rows = built["rows"]
    classes = top_names([r[0] for r in rows], top_k)
    if len(classes) < top_k:
        raise UserError(f"data.top_k={top_k} but the corpus holds only {len(classes)} distinct names")
    label_of = {n: i for i, n in enumerate(classes)}
    kept = [r for r in rows if r[0] in label_of]
    held = test_files([r[1] for r in kept], test_fraction=test_fraction, split_seed=split_seed)
    train = [r for r in kept if r[1] not in held]
    test = [r for r in kept if r[1] in held]
    missing = sorted(set(classes) - {r[0] for r in train})
    if missing or not test:
        raise UserError(f"data.test_fraction={test_fraction} with data.split_seed={split_seed} leaves "
                        f"{'no test sample' if not test else 'no training sample named ' + ', '.join(missing)}; "
                        "choose another test_fraction or split_seed")
    counts = Counter(t for r in train for t in r[3])
    words = [w for w, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if w not in SPECIALS]
    vocab = {w: i for i, w in enumerate([*SPECIALS, *words[:vocab_size - len(SPECIALS)]])}
    lengths = np.array([len(r[3]) for r in kept])
    summary = {"python": built["python"], "files": built["files"], "files_checksum": built["files_checksum"],
               "definitions": len(rows), "samples": len(kept), "train": len(train), "test": len(test),
               "test_files": len(held), "classes": classes, "truncated": int((lengths > max_length).sum()),
               "median_length": float(np.median(lengths)),
               "vocab_checksum": hashlib.sha256("\n".join(vocab).encode()).hexdigest()[:16]}
    return TokenSet(encode([r[3] for r in train], vocab, max_length),
                    torch.tensor([label_of[r[0]] for r in train], dtype=torch.int64),
                    encode([r[3] for r in test], vocab, max_length),
                    torch.tensor([label_of[r[0]] for r in test], dtype=torch.int64),
                    tuple(classes), tuple(vocab), tuple(f"{r[1]}: {r[2]}" for r in train), summary)


def python_names_datamodule(*, top_k: int, num_classes: int, data_dir: str, max_length: int, vocab_size: int,
                            test_fraction: float = 0.2, root: Optional[str] = None, split_seed: int = 0,
                            **datamodule) -> TokenDataModule:
    """What ``data=python_names`` builds: a ``TokenDataModule`` over ``load_python_names`` (``num_classes`` is
    ``top_k``: the config states it for the networks)."""
    assert num_classes == top_k, (num_classes, top_k)
    source = functools.partial(load_python_names, data_dir=data_dir, top_k=top_k, max_length=max_length,
                               vocab_size=vocab_size, test_fraction=test_fraction, split_seed=split_seed, root=root)
    return TokenDataModule(source=source, num_classes=top_k, vocab_size=vocab_size, max_length=max_length,
                           split_seed=split_seed, **datamodule)
