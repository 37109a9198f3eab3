"""Secret hygiene after every end-to-end flow, without the tests asking for it.

Each test in tests/e2e/ ends with ``secret_scan.scan`` over what it made: the network
repositories (every ``Workspace``, in helpers.py, that the test made or was given, and any
directory under its ``tmp_path`` holding network.yaml and .git), their bare remotes, the
$ETHNET_HOME and $TMPDIR of each, and the output of every ``ethnet`` and ``cookiecutter``
command run through ``subprocess.run`` (recorded by a pass-through wrapper) plus what pytest
captured. The sealing keys are those in each $ETHNET_HOME at the end and just after each
command (a test may delete one), and those a test holds itself (module globals, fixture
values, key files beside its repositories). It also holds $ETHNET_HOME to files 0600 and
directories 0700: a mode an ethnet command sets otherwise fails the test, so does one found
at the end that no command saw; a mode a test set itself before a command (to see a key file
readable by others refused) does not.

Outputs that show a secret on purpose are allowed it: the stdout of ``ethnet unseal`` (the
plaintext it was asked for) and of ``ethnet sealing-key init`` without ``--out`` (the
controller Secret it prints). Mark a test ``plants_leaks`` to skip the scan: only the
scanner's own tests should.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e import helpers
from tests.e2e.helpers import Workspace
from tests.e2e.secret_scan import (
    SEALED_KINDS,
    SEALING_KEY,
    Output,
    home_mode_problem,
    home_modes,
    is_bare_repository,
    is_git_repository,
    scan,
    sealing_keys_in,
    sealing_keys_under,
)

PLANTS_LEAKS = "plants_leaks"
_RECORDED_PROGRAMS = frozenset({"ethnet", "cookiecutter"})
_NESTED_COMMANDS = frozenset({"sealing-key", "keys", "node", "spec"})
_CALL_REPORT = pytest.StashKey[pytest.TestReport]()
T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{PLANTS_LEAKS}: the test leaks secrets on purpose; the automatic secret scan skips it",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep the call phase's report: its captured output is scanned at teardown."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


# --- the commands a flow ran ----------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One recorded run: its command words only (arguments may hold secrets), its output."""

    number: int
    words: str
    home: Path | None
    tmp: Path | None
    stdout: str | bytes | None = field(repr=False)
    stderr: str | bytes | None = field(repr=False)
    stdout_allowed: frozenset[str]
    sealing_keys: tuple[rsa.RSAPrivateKey, ...] = field(default=(), repr=False)
    """The sealing keys in $ETHNET_HOME just after the command: a test may delete one."""

    def outputs(self) -> list[Output]:
        where = f"`{self.words}` (command {self.number})"
        found = []
        if self.stdout:
            found.append(Output(f"stdout of {where}", self.stdout, self.stdout_allowed))
        if self.stderr:
            found.append(Output(f"stderr of {where}", self.stderr))
        return found


@dataclass
class CommandLog:
    """Records ethnet and cookiecutter runs, and the $ETHNET_HOME modes each one leaves."""

    commands: list[Command] = field(default_factory=list)
    home_problems: list[str] = field(default_factory=list)
    observed: dict[Path, dict[Path, int]] = field(default_factory=dict)
    count: int = 0

    def wrap(self, run: Callable[..., Any]) -> Callable[..., Any]:
        def recording_run(*args: Any, **kwargs: Any) -> Any:
            argv = args[0] if args else kwargs.get("args")
            if isinstance(argv, str | bytes) or not argv:
                return run(*args, **kwargs)
            argv = [os.fsdecode(a) for a in argv]
            if Path(argv[0]).name not in _RECORDED_PROGRAMS:
                return run(*args, **kwargs)
            env = kwargs.get("env") or os.environ
            home = Path(env["ETHNET_HOME"]) if env.get("ETHNET_HOME") else None
            tmp = Path(env["TMPDIR"]) if env.get("TMPDIR") else None
            before = home_modes(home) if home else {}
            try:
                result = run(*args, **kwargs)
            except subprocess.CalledProcessError as failed:
                self._record(argv, home, tmp, before, failed.stdout, failed.stderr)
                raise
            self._record(argv, home, tmp, before, result.stdout, result.stderr)
            return result

        return recording_run

    def _record(
        self,
        argv: list[str],
        home: Path | None,
        tmp: Path | None,
        before: dict[Path, int],
        stdout: str | bytes | None,
        stderr: str | bytes | None,
    ) -> None:
        self.count += 1
        words = _command_words(argv)
        keys = tuple(sealing_keys_under(home)) if home else ()
        self.commands.append(
            Command(self.count, words, home, tmp, stdout, stderr, _stdout_allowed(argv), keys)
        )
        if home is None:
            return
        after = home_modes(home)
        for path, mode in after.items():
            problem = home_mode_problem(path, mode) if before.get(path) != mode else None
            if problem:
                self.home_problems.append(f"`{words}` (command {self.count}) left {problem}")
        self.observed.setdefault(home, {}).update(after)

    def take(self) -> tuple[list[Command], list[str]]:
        commands, problems = self.commands, self.home_problems
        self.commands, self.home_problems = [], []
        return commands, problems


def _command_words(argv: list[str]) -> str:
    program = Path(argv[0]).name
    words = [program]
    if program == "ethnet" and len(argv) > 1:
        words.append(argv[1])
        if argv[1] in _NESTED_COMMANDS and len(argv) > 2 and not argv[2].startswith("-"):
            words.append(argv[2])
    return " ".join(words)


def _stdout_allowed(argv: list[str]) -> frozenset[str]:
    """What a command prints on purpose: unseal the plaintext, sealing-key init the key."""
    if Path(argv[0]).name != "ethnet" or len(argv) < 2:
        return frozenset()
    if argv[1] == "unseal":
        return SEALED_KINDS
    if argv[1:3] == ["sealing-key", "init"] and not any(
        a == "--out" or a.startswith("--out=") for a in argv
    ):
        return frozenset({SEALING_KEY})
    return frozenset()


# --- the fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _command_log() -> Iterator[CommandLog]:
    """Record every ethnet run of the module, its module-scoped fixtures' runs included."""
    log = CommandLog()
    helpers.WORKSPACES.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess, "run", log.wrap(subprocess.run))
        yield log


@pytest.fixture(autouse=True)
def _secret_hygiene(request: pytest.FixtureRequest, _command_log: CommandLog) -> Iterator[None]:
    """After the test: scan what it made for leaked secrets; check $ETHNET_HOME modes."""
    yield
    commands, home_problems = _command_log.take()
    created = list(helpers.WORKSPACES)
    helpers.WORKSPACES.clear()
    if request.node.get_closest_marker(PLANTS_LEAKS):
        return
    problems = _flow_problems(request, commands, created, _command_log.observed)
    if problems or home_problems:
        pytest.fail("secret hygiene:\n  " + "\n  ".join(problems + home_problems), pytrace=False)


def _flow_problems(
    request: pytest.FixtureRequest,
    commands: list[Command],
    created: list[Workspace],
    observed: dict[Path, dict[Path, int]],
) -> list[str]:
    """Leaks in what the test made, and modes in $ETHNET_HOME no recorded command saw."""
    funcargs: dict[str, Any] = getattr(request.node, "funcargs", {})
    given = [v for v in funcargs.values() if isinstance(v, Workspace)]
    workspaces = list({id(ws): ws for ws in [*created, *given]}.values())
    roots = _unique([*(ws.root for ws in workspaces), *_tmp_path(funcargs)])
    repositories = _unique(
        [*(ws.repo for ws in workspaces if (ws.repo / "network.yaml").is_file()), *_found(roots)]
    )
    if not repositories:
        return []
    homes = _unique([*(ws.home for ws in workspaces), *(c.home for c in commands if c.home)])
    report = scan(
        repositories=repositories,
        homes=homes,
        outputs=[
            *(output for command in commands for output in command.outputs()),
            *_captured(request.node),
        ],
        tmp_dirs=_unique([*(ws.tmp for ws in workspaces), *(c.tmp for c in commands if c.tmp)]),
        remotes=_remotes(repositories, roots),
        extra_keys=[
            *(key for command in commands for key in command.sealing_keys),
            *_keys_held_by_test(request.module, funcargs.values(), roots),
        ],
    )
    request.node.user_properties.append(
        (
            "secret_scan",
            f"{len(repositories)} repositories, {report.secrets} secrets, {report.places} places",
        )
    )
    problems = report.problems()
    for home in homes:
        seen = observed.get(home, {})
        for path, mode in home_modes(home).items():
            problem = home_mode_problem(path, mode)
            # a path a recorded command saw was either set by it (reported then) or is the
            # test's own doing (a key made readable on purpose)
            if problem and path not in seen:
                problems.append(f"after the test: {problem}")
    return problems


def _unique(items: Iterable[T]) -> list[T]:
    return list(dict.fromkeys(items))


def _tmp_path(funcargs: dict[str, Any]) -> list[Path]:
    path = funcargs.get("tmp_path")
    return [path] if isinstance(path, Path) else []


def _is_network_repository(path: Path) -> bool:
    return (path / "network.yaml").is_file() and (path / ".git").exists()


def _found(roots: Iterable[Path]) -> Iterator[Path]:
    """Network repositories (network.yaml and .git) under the roots; .git is not entered."""
    for root in roots:
        for directory, subdirectories, _ in os.walk(root):
            path = Path(directory)
            if _is_network_repository(path):
                subdirectories.clear()
                yield path
            elif ".git" in subdirectories:
                subdirectories.remove(".git")


def _remotes(repositories: Iterable[Path], roots: Iterable[Path]) -> list[Path]:
    """Local remotes of the repositories, and bare repositories just under the roots."""
    found: list[Path] = []
    for repository in repositories:
        if not is_git_repository(repository):
            continue
        urls = subprocess.run(
            ["git", "config", "--get-regexp", r"^remote\..*\.url$"],
            cwd=repository,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        for line in urls.splitlines():
            url = line.split(" ", 1)[1].removeprefix("file://")
            path = (repository / url).resolve() if not Path(url).is_absolute() else Path(url)
            if path.is_dir() and is_git_repository(path):
                found.append(path)
    for root in roots:
        for path in [*root.glob("*"), *root.glob("*/*")]:
            if path.name != ".git" and is_bare_repository(path):
                found.append(path)
    return _unique(found)


def _captured(item: pytest.Item) -> list[Output]:
    report = item.stash.get(_CALL_REPORT, None)
    if report is None:
        return []
    sections = [
        ("stdout", report.capstdout),
        ("stderr", report.capstderr),
        ("log", report.caplog),
    ]
    return [Output(f"test's captured {name}", text) for name, text in sections if text]


def _keys_held_by_test(
    module: ModuleType, values: Iterable[object], roots: Iterable[Path]
) -> list[rsa.RSAPrivateKey]:
    """Sealing keys a test keeps outside $ETHNET_HOME: in memory (fixture values, module
    globals, or dicts and lists of them) or in files beside its repositories."""
    keys: list[rsa.RSAPrivateKey] = []
    for value in [*values, *vars(module).values()]:
        if isinstance(value, dict):
            members = list(value.values())
        elif isinstance(value, list | tuple | set | frozenset):
            members = list(value)
        else:
            members = [value]
        keys += [m for m in members if isinstance(m, rsa.RSAPrivateKey)]
    for root in roots:
        keys += sealing_keys_in(p for p in root.glob("*") if p.suffix in {".pem", ".yaml", ".key"})
    return keys
