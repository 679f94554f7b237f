"""Function definitions of the Python standard library's own source, as sub-token sequences: the method-name
prediction data of Rabin et al. 2022 ("Memorization and Generalization in Neural Code Intelligence Models",
IST; their Java-Small/Med/Large Top-10 names with code2vec), built from code every interpreter ships.

A corpus row is one ``def`` (functions, methods, nested ones): its name, the file it is in, its first line,
and its tokens from ``tokenize`` (comments and layout dropped, string and number literals as ``<str>`` and
``<num>``), identifiers split into lower-case sub-tokens (``getItemCount`` -> get item count) and the
function's own name replaced by ``<name>`` everywhere in its source, its ``def`` line included.
"""
import ast
import hashlib
import io
import keyword
import re
import sys
import sysconfig
import tokenize
from pathlib import Path, PurePosixPath
from typing import Iterator, List, NamedTuple, Optional

from noisyrobust.errors import UserError

NAME_MASK, STRING, NUMBER = "<name>", "<str>", "<num>"
# test suites, generated code and vendored third-party packages are not the standard library's own code
EXCLUDED_DIRS = frozenset({"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__",
                           "_bundled", "pydoc_data", "__phello__"})
GENERATED = re.compile(r"generated|do not edit|\bgencodec\b", re.IGNORECASE)
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
SKIP_TOKENS = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
               tokenize.ENCODING, tokenize.ENDMARKER}


class Definition(NamedTuple):
    name: str
    file: str  # relative to the standard library's root
    first_line: str  # the ``def`` line as written
    tokens: List[str]


def stdlib_root() -> Path:
    """Where this interpreter's standard library source lies; a UserError when it is absent (an embedded or
    stripped Python that ships only bytecode)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    if not (root / "os.py").is_file():
        raise UserError(f"data=python_names needs the Python standard library's .py source, and {root} holds none "
                        f"(Python {sys.version.split()[0]} without its source); point data.source.root at a "
                        "directory of the standard library's .py files")
    return root


def is_excluded(relative: PurePosixPath, head: str) -> bool:
    """Tests (a ``test``/``tests`` package or a ``test_*.py`` file), vendored and generated files (a first
    lines' note such as "generated from" or "DO NOT EDIT": the codecs written by gencodec, the sysconfig data)."""
    if EXCLUDED_DIRS.intersection(relative.parts[:-1]):
        return True
    name = relative.name
    return name.startswith(("test_", "_sysconfigdata")) or name.endswith("_test.py") or bool(GENERATED.search(head))


def source_files(root: Path) -> List[PurePosixPath]:
    """The standard library's own ``.py`` files under ``root``, relative, sorted."""
    files = []
    for path in sorted(root.rglob("*.py")):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        try:
            head = "".join(path.open(encoding="utf-8", errors="replace").readlines()[:6])
        except OSError:
            continue
        if not is_excluded(relative, head):
            files.append(relative)
    return files


def files_checksum(files: List[PurePosixPath], root: Path) -> str:
    """A fingerprint of the file list and each file's size: the corpus a summary names."""
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f}\0{(root / f).stat().st_size}\n".encode())
    return digest.hexdigest()[:16]


def split_identifier(identifier: str) -> List[str]:
    """Sub-tokens of an identifier, lower case: snake_case and camelCase parts, digits apart
    (``_parseHTTPHeader2`` -> parse, http, header, 2)."""
    return [part.lower() for piece in identifier.split("_") for part in _CAMEL.findall(piece)]


def definition_tokens(source: str, name: str) -> List[str]:
    """The sub-tokens of one definition's source, ``name`` masked as ``<name>`` wherever it occurs."""
    out: List[str] = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in SKIP_TOKENS:
            continue
        if tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_START", -1):
            out.append(STRING)
        elif tok.type == tokenize.NUMBER:
            out.append(NUMBER)
        elif tok.type == tokenize.NAME:
            if tok.string == name:
                out.append(NAME_MASK)
            elif keyword.iskeyword(tok.string):
                out.append(tok.string)
            else:
                out.extend(split_identifier(tok.string) or [tok.string])
        elif tok.string:
            out.append(tok.string)
    return out


def definitions(source: str, file: str) -> Iterator[Definition]:
    """Every function and method definition of one file's ``source`` (decorators left out)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            text = "\n".join(lines[node.lineno - 1:node.end_lineno])
            indent = len(text) - len(text.lstrip())
            text = "\n".join(line[indent:] for line in text.splitlines())
            try:
                tokens = definition_tokens(text, node.name)
            except (tokenize.TokenError, IndentationError, SyntaxError):
                continue
            yield Definition(node.name, file, lines[node.lineno - 1].strip(), tokens)


def read_corpus(root: Path, files: Optional[List[PurePosixPath]] = None) -> List[Definition]:
    """Every definition of the files, duplicates (the same token sequence) kept once, at their first file."""
    seen, out = set(), []
    for relative in files if files is not None else source_files(root):
        try:
            source = (root / relative).read_text(encoding="utf-8")
            found = list(definitions(source, str(relative)))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
            continue  # a file this interpreter cannot read (e.g. lib2to3's Python 2 fixtures)
        for d in found:
            key = hashlib.sha1("\0".join(d.tokens).encode()).digest()
            if key not in seen:
                seen.add(key)
                out.append(d)
    return out
