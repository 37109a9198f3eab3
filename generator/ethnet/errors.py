"""The one exception tree of ethnet.

Every error a user can cause is an ``EthnetError``: it carries a message, an optional
location (file, line, column) and an optional hint, and also inherits the builtin that
fits (``ValueError``, ``FileNotFoundError``...). The CLI turns these into exit code 1
and a clean message; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where in a file a problem sits; line and column are 1-based."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        if self.column is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One finding about an input: where, which field, what is wrong, how to fix it."""

    location: Location | None
    path: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        parts = [str(self.location)] if self.location else []
        if self.path:
            parts.append(self.path)
        parts.append(self.message if not self.hint else f"{self.message} ({self.hint})")
        return ": ".join(parts)


class EthnetError(Exception):
    """A problem the user must fix; the CLI exits 1 with this message."""

    def __init__(
        self, message: str, *, hint: str | None = None, location: Location | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class SpecError(EthnetError, ValueError):
    """network.yaml is invalid; carries every problem found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return self.message


def _problem_order(problem: Problem) -> tuple[int, int, str]:
    loc = problem.location
    return (loc.line or 0 if loc else 0, loc.column or 0 if loc else 0, problem.path)


class InvalidKeyError(EthnetError, ValueError):
    """Malformed key material: private key, public key, node key file."""


class KeystoreError(EthnetError, ValueError):
    """A keystore file that cannot be read or decrypted."""


class InvalidAddressError(EthnetError, ValueError):
    """A string that is not an Ethereum address, or fails its EIP-55 checksum."""


class EncodingError(EthnetError, ValueError):
    """Bytes that are not valid RLP, hex or enode URL."""


class RepositoryError(EthnetError, FileNotFoundError):
    """A network repository is missing a file ethnet needs."""


class SealingError(EthnetError, ValueError):
    """A certificate, sealing key or SealedSecret that cannot be used."""


class UnsealError(EthnetError, ValueError):
    """No given key could decrypt a SealedSecret item."""
