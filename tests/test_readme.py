"""The README's new-user path runs (issue 12).

Every ```` ```python ```` block and every command of every ```` ```bash ```` block of
README.md is read from the file (no copy kept here) and run in document order against a home
built the way the README says (``kgtransfer zoo build`` and ``zoo grid``, as ``make demo``
does, with the tiny zoo: ``--spec tiny``).
The conventions, also stated in README.md ("Development"):

* ``python`` blocks of one ``##`` section share one namespace, in order (a later block may use
  names an earlier one defined). ``HOME`` is a tmp folder, so ``~`` and ``Path.home()`` point
  there; ``KGTRANSFER_HOME`` is ``~/.cache/kgtransfer``; the Hugging Face cache is
  ``~/.cache/huggingface`` (offline). The working folder holds every file the examples name
  (created by :func:`make_files`).
* ``bash`` blocks: each line (``#`` comments stripped, ``\\`` continuations joined) is one
  command. ``kgtransfer ...`` runs in-process (typer's CliRunner) and must exit 0;
  ``> FILE``, ``2>/dev/null``, ``| jq ...`` and ``&&`` are honoured. Any other program is an
  error unless the block or command is marked.
* ``<!-- not run: REASON -->`` on the lines right before a fence skips the block;
  ``<!-- not run "PREFIX": REASON -->`` skips the block's commands that start with PREFIX. Each
  shows as a pytest skip with its reason, never silently. A command naming ``../shared`` skips
  when the public benchmark tables are absent.
* ``<!-- given: CODE -->`` (one line) right before a python block runs CODE first in its
  namespace: the names a fragment takes as yours (a graph, your images). Graphs a section
  opened are closed after its last block.
* Each example costs little: the tiny zoo, and the default GNN trains 20 steps with one
  network here (:func:`_cheap_recommender`); the calls themselves are the README's.
* Other fences (``text``, ``console``, bare ```` ``` ````) are not run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
SHARED = Path(os.environ.get("KGTRANSFER_SHARED_BENCHMARKS", REPO.parent / "shared" / "benchmarks"))

_FENCE = re.compile(r"^```(\S*)\s*$")
_SKIP_BLOCK = re.compile(r"^<!--\s*not run:\s*(?P<why>.+?)\s*-->\s*$")
_SKIP_PREFIX = re.compile(r'^<!--\s*not run\s+"(?P<prefix>[^"]+)":\s*(?P<why>.+?)\s*-->\s*$')
_GIVEN = re.compile(r"^<!--\s*given:\s*(?P<code>.+?)\s*-->\s*$")
_RUN = {"python": "python", "py": "python", "bash": "shell", "sh": "shell", "shell": "shell"}


@dataclass(frozen=True)
class Example:
    """One runnable piece of the README: a python block or one shell command."""

    kind: str  # "python" or "shell"
    section: str  # the enclosing "## " heading
    line: int  # 1-based line of the code in README.md
    code: str
    skip: str | None = None
    given: str = ""  # python run before the block (``<!-- given: CODE -->``)
    last_in_section: bool = False

    @property
    def id(self) -> str:
        first = self.code.strip().splitlines()[0] if self.code.strip() else ""
        return f"L{self.line}:{first[:50]}"


def parse_readme(text: str) -> list[Example]:
    """Every python block and shell command of ``text``, with its skip reason if marked."""
    lines = text.splitlines()
    examples: list[Example] = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        match = _FENCE.match(line)
        if not match:
            i += 1
            continue
        lang = match.group(1).lower()
        end = i + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        body = lines[i + 1 : end]
        block_skip, prefixes, given = _markers(lines, i)
        kind = _RUN.get(lang)
        if kind == "python":
            code = "\n".join(body)
            examples.append(Example("python", section, i + 2, code, block_skip, given))
        elif kind == "shell":
            for lineno, command in _commands(body, i + 2):
                why = block_skip or next((w for p, w in prefixes if command.startswith(p)), None)
                examples.append(Example("shell", section, lineno, command, why))
        i = end + 1
    for n, example in enumerate(examples):  # a section's namespace ends after its last block
        following = examples[n + 1 :]
        if example.kind == "python" and not any(
            e.kind == "python" and e.section == example.section for e in following
        ):
            examples[n] = dataclasses.replace(example, last_in_section=True)
    return examples


def _markers(lines: list[str], fence: int) -> tuple[str | None, list[tuple[str, str]], str]:
    """The ``<!-- not run ... -->`` and ``<!-- given: ... -->`` comments right above a fence."""
    block: str | None = None
    prefixes: list[tuple[str, str]] = []
    given = ""
    j = fence - 1
    while j >= 0 and (not lines[j].strip() or lines[j].lstrip().startswith("<!--")):
        text = lines[j].strip()
        if whole := _SKIP_BLOCK.match(text):
            block = whole.group("why")
        elif part := _SKIP_PREFIX.match(text):
            prefixes.append((part.group("prefix"), part.group("why")))
        elif setup := _GIVEN.match(text):
            given = setup.group("code")
        elif "not run" in text:
            raise ValueError(f"README.md:{j + 1}: malformed marker {text!r}")
        j -= 1
    return block, prefixes, given


def _commands(body: list[str], first_line: int) -> Iterator[tuple[int, str]]:
    """``(line, command)`` of a shell block: comments stripped, continuations joined."""
    pending: list[str] = []
    start = first_line
    for offset, raw in enumerate(body):
        if not pending:
            start = first_line + offset
        text = raw.rstrip()
        if text.endswith("\\"):
            pending.append(text[:-1])
            continue
        pending.append(text)
        command = " ".join(part.strip() for part in pending)
        pending = []
        if shlex.split(command, comments=True):
            yield start, _strip_comment(command)
    if pending:
        raise ValueError(f"README.md:{start}: a continuation line ends the block")


def _strip_comment(command: str) -> str:
    """The command without its trailing ``# ...`` comment (quotes respected)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    tokens = list(lexer)
    # re-quote words; keep the shell operators bare
    return " ".join(t if re.fullmatch(r"[|&;<>]+", t) else shlex.quote(t) for t in tokens)


EXAMPLES = parse_readme(README.read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- fast checks
def test_readme_has_a_python_tour_and_cli_examples() -> None:
    kinds = {(e.kind, e.section) for e in EXAMPLES}
    assert ("python", "Python API") in kinds
    assert ("shell", "CLI") in kinds
    run = [e for e in EXAMPLES if e.skip is None]
    assert sum(e.kind == "shell" for e in run) >= 10 and sum(e.kind == "python" for e in run) >= 3


def test_every_shell_command_is_kgtransfer_or_marked() -> None:
    """A command the runner cannot run must carry a ``not run`` marker (never skipped silently)."""
    unmarked = [
        f"README.md:{e.line}: {e.code}"
        for e in EXAMPLES
        if e.kind == "shell" and e.skip is None and not e.code.startswith("kgtransfer ")
    ]
    assert not unmarked, 'mark these <!-- not run "PREFIX": why -->:\n' + "\n".join(unmarked)


def test_parser_honours_markers_and_continuations() -> None:
    text = "\n".join(
        [
            "## S",
            '<!-- not run "kgtransfer demo": slow -->',
            "```bash",
            "kgtransfer demo      # the demo",
            "kgtransfer stats \\",
            "  --store x   # counts",
            "```",
            "<!-- not run: needs a GPU -->",
            "",
            "```python",
            "x = 1",
            "```",
            "<!-- given: y = 2 -->",
            "```python",
            "z = y",
            "```",
            "```text",
            "not code",
            "```",
        ]
    )
    got = parse_readme(text)
    assert [(e.kind, e.line, e.code, e.skip, e.given) for e in got] == [
        ("shell", 4, "kgtransfer demo", "slow", ""),
        ("shell", 5, "kgtransfer stats --store x", None, ""),
        ("python", 11, "x = 1", "needs a GPU", ""),
        ("python", 15, "z = y", None, "y = 2"),
    ]
    assert [e.last_in_section for e in got] == [False, False, False, True]
    with pytest.raises(ValueError, match="malformed"):
        parse_readme("<!-- not run because -->\n```bash\nkgtransfer stats\n```\n")


# ------------------------------------------------------------------------ the files it names
def make_files(work: Path, user_home: Path) -> None:
    """Create every input the README's examples name, in ``work`` (the cwd) and ``~``."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    # plain tables: 6 models trained on 2 source datasets, 4 targets (a, b, target, c)
    models = pd.DataFrame(
        {
            "model": [f"m{i}" for i in range(6)],
            "trained_on": ["s1", "s1", "s1", "s2", "s2", "s2"],
            "architecture": "mlp",
            "task": "cls",
            "n_params": [1e6, 2e6, 4e6, 1e6, 2e6, 8e6],
            "license": "mit",
        }
    )
    targets = ["a", "b", "c", "target"]
    datasets = pd.DataFrame(
        {
            "dataset": ["s1", "s2", *targets],
            "task": "cls",
            "domain": ["d1", "d2", "d1", "d2", "d1", "d2"],
            "n_classes": 2.0,
            "scratch_accuracy": [np.nan, np.nan, 0.6, 0.6, 0.6, 0.6],
        }
    )
    rows = [
        {
            "model": m,
            "dataset": t,
            "value": round(
                float(0.7 + 0.2 * ((m_i < 3) == (t in ("a", "c"))) + rng.normal(0, 0.02)), 4
            ),
            "metric": "accuracy",
        }
        for t in targets
        for m_i, m in enumerate(models["model"])
    ]
    records = pd.DataFrame(rows)
    sims = pd.DataFrame(
        {
            "dataset_a": ["a", "b", "c", "target", "a"],
            "dataset_b": ["s1", "s2", "s1", "s2", "c"],
            "similarity": [0.9, 0.9, 0.8, 0.85, 0.7],
        }
    )
    for name, frame in {"M": models, "D": datasets, "R": records, "S": sims}.items():
        frame.to_csv(work / f"{name}.csv", index=False)
    models.to_csv(work / "models.csv", index=False)
    datasets.to_csv(work / "datasets.csv", index=False)
    records.to_csv(work / "records.csv", index=False)
    sims.to_csv(work / "sims.csv", index=False)
    # results exported under another column name (ingest --column-map eval_accuracy=value)
    records.rename(columns={"value": "eval_accuracy"}).to_csv(work / "results.csv", index=False)

    # a tabular CSV of your own: scikit-learn's wine (13 features), labels in "label"
    from sklearn.datasets import load_wine

    wine = load_wine(as_frame=True).frame.rename(columns={"target": "label"})
    wine.to_csv(work / "my.csv", index=False)

    (work / "my_query.rq").write_text(
        "PREFIX kgt: <https://w3id.org/kgtransfer#>\nSELECT ?m ?d WHERE { ?m kgt:trainedOn ?d }\n",
        encoding="utf-8",
    )
    cards = user_home / "hf-cache"
    for name, meta in {
        "acme-vit": "license: apache-2.0\npipeline_tag: image-classification\ndatasets:\n- digits",
        "acme-vit-ft": "license: mit\nbase_model: acme-vit\ndatasets:\n- digits_rotated",
    }.items():
        (cards / name).mkdir(parents=True)
        (cards / name / "README.md").write_text(f"---\n{meta}\n---\n# {name}\n", encoding="utf-8")


def make_hf_sources(work: Path, hub_cache: Path, put_in_hf_cache: Callable[..., str]) -> None:
    """Tiny random models in the real on-disk formats under the names the README uses."""
    import torch

    import kgtransfer.models  # noqa: F401  (before timm / transformers: see models/_compat.py)

    transformers = pytest.importorskip("transformers", reason="optional extra 'hf' missing")
    timm = pytest.importorskip("timm", reason="optional extra 'timm' missing")
    torch.manual_seed(0)
    vit = transformers.ViTForImageClassification(
        transformers.ViTConfig(
            image_size=16, patch_size=8, hidden_size=16, num_hidden_layers=1,
            num_attention_heads=2, intermediate_size=32, num_labels=3,
        )
    )  # fmt: skip
    vit.save_pretrained(work / "my_vit")
    small = timm.create_model("resnet10t", pretrained=False, num_classes=4)
    timm.models.save_for_hf(small, str(work / "my_timm"))
    torch.save(timm.create_model("resnet10t", pretrained=False).state_dict(), work / "r.pth")

    put_in_hf_cache(work / "my_vit", hub_cache, "google/vit-base-patch16-224")
    put_in_hf_cache(work / "my_timm", hub_cache, "timm/resnet10t.c3_in1k")


# ------------------------------------------------------------------------------ the runner
@dataclass
class Env:
    work: Path
    user_home: Path
    namespaces: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def readme_env(
    tmp_path_factory: pytest.TempPathFactory, put_in_hf_cache: Callable[..., str]
) -> Iterator[Env]:
    """A home with the tiny zoo and its grid (what ``make demo`` builds first) and a working
    folder with the inputs."""
    from typer.testing import CliRunner

    from kgtransfer.cli import app

    root = tmp_path_factory.mktemp("readme")
    user_home, work = root / "user", root / "repo"
    work.mkdir()
    user_home.mkdir()
    if SHARED.is_dir():  # commands say ../shared (from the checkout): the same from here
        (root / "shared").mkdir()
        (root / "shared" / "benchmarks").symlink_to(SHARED, target_is_directory=True)
    with pytest.MonkeyPatch.context() as mp:
        _environment(mp, user_home, work)
        _cheap_recommender(mp)
        make_files(work, user_home)
        make_hf_sources(work, user_home / ".cache" / "huggingface" / "hub", put_in_hf_cache)
        for command in ("build", "grid"):  # what `make demo` builds, with the tiny zoo
            result = CliRunner().invoke(app, ["zoo", command, "--spec", "tiny", "--quiet"])
            assert result.exit_code == 0, result.output
        yield Env(work, user_home, {})


def _cheap_recommender(mp: pytest.MonkeyPatch) -> None:
    """The default GNN with 20 steps, one network, no cross-fitted GNN in its stack.

    The README's calls run unchanged; only the recommender's training is cut (about 30 s per
    fit on 2 busy cores otherwise), since this test checks that they work, not how well.
    """
    from kgtransfer.transfer import GNNRecommender

    defaults = dict(GNNRecommender.__init__.__kwdefaults__ or {})
    defaults.update(epochs=20, n_ensemble=1, stack_gnn=False)
    mp.setattr(GNNRecommender.__init__, "__kwdefaults__", defaults)


def _environment(mp: pytest.MonkeyPatch, user_home: Path, work: Path) -> None:
    import huggingface_hub.constants as hub_constants

    hf = user_home / ".cache" / "huggingface"
    mp.setenv("HOME", str(user_home))
    mp.setenv("KGTRANSFER_HOME", str(user_home / ".cache" / "kgtransfer"))
    mp.setenv("HF_HOME", str(hf))
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setattr(hub_constants, "HF_HUB_CACHE", str(hf / "hub"))
    mp.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    mp.setenv("COLUMNS", "160")
    mp.chdir(work)


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_readme_example(example: Example, readme_env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    if example.skip is not None:
        pytest.skip(f"README.md:{example.line} marked not run: {example.skip}")
    if "../shared" in example.code and not SHARED.is_dir():
        pytest.skip(f"README.md:{example.line} needs ../shared/benchmarks (absent)")
    _environment(monkeypatch, readme_env.user_home, readme_env.work)
    import torch

    torch.set_num_threads(1)
    if example.kind == "python":
        namespace = readme_env.namespaces.setdefault(example.section, {"__name__": "readme"})
        code = compile("\n" * (example.line - 1) + example.code, str(README), "exec")
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                if example.given:
                    exec(compile(example.given, f"{README}:{example.line - 2}", "exec"), namespace)
                exec(code, namespace)
        finally:
            if example.last_in_section:  # release the stores it opened for later commands
                _close_graphs(readme_env.namespaces.pop(example.section, {}))
    else:
        run_shell(example)


def _close_graphs(namespace: dict[str, Any]) -> None:
    from kgtransfer.kg import ZooGraph

    for value in namespace.values():
        if isinstance(value, ZooGraph):
            value.close()


def run_shell(example: Example) -> None:
    """Run one README command: kgtransfer in-process, then redirects and pipes."""
    from typer.testing import CliRunner

    from kgtransfer.cli import app

    lexer = shlex.shlex(example.code, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    for command in _split(tokens, "&&"):
        stages = _split(command, "|")
        words, stdout_to, stderr_to = _redirects(stages[0])
        where = f"README.md:{example.line}: {example.code}"
        assert words[0] == "kgtransfer", f"{where}: not a kgtransfer command"
        args = [os.path.expanduser(w) if w.startswith("~") else w for w in words[1:]]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (
            f"{where}\nexit {result.exit_code}\nstdout:\n{result.stdout}\n"
            f"stderr:\n{result.stderr}\n{result.exception!r}"
        )
        out = result.stdout
        for stage in stages[1:]:
            out = _pipe(stage, out, where)
        if stdout_to is not None:
            Path(stdout_to).write_text(out, encoding="utf-8")
        if stderr_to not in (None, "/dev/null"):
            Path(str(stderr_to)).write_text(result.stderr, encoding="utf-8")


def _split(tokens: list[str], operator: str) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for token in tokens:
        if token == operator:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _redirects(words: list[str]) -> tuple[list[str], str | None, str | None]:
    """``words`` without ``> FILE`` / ``2> FILE``, and those files."""
    out: list[str] = []
    stdout_to = stderr_to = None
    i = 0
    while i < len(words):
        if words[i] == ">" and out and out[-1] == "2":
            out.pop()
            stderr_to = words[i + 1]
            i += 2
        elif words[i] == ">":
            stdout_to = words[i + 1]
            i += 2
        else:
            out.append(words[i])
            i += 1
    return out, stdout_to, stderr_to


def _pipe(stage: list[str], text: str, where: str) -> str:
    """Feed ``text`` to a pipeline stage (``jq``, or JSON parsing when jq is absent)."""
    words, stdout_to, _ = _redirects(stage)
    assert stdout_to is None, f"{where}: a redirect inside a pipeline is not supported"
    if words[0] == "jq" and shutil.which("jq") is None:
        json.loads(text)  # what jq would need; its filter is not evaluated
        return text
    assert shutil.which(words[0]), f"{where}: {words[0]} is not installed"
    done = subprocess.run(words, input=text, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{where}: {words[0]} failed: {done.stderr}"
    assert done.stdout.strip() not in ("", "null"), f"{where}: {words[0]} printed nothing"
    return done.stdout
