"""Vote a live chain's validator set to the one network.yaml asks for, then stop.

Run by the ``validator-votes-*`` Job that ethnet renders for a live environment whose
validators (keys.yaml) differ from those in its frozen genesis. Standard library only: it
runs in a plain Python image. Configuration comes from environment variables:

    PROFILE          besu-qbft | geth-clique
    VALIDATOR_URLS   comma-separated JSON-RPC URLs of the running validators
    DESIRED          comma-separated 0x addresses: the validator set to reach
    TIMEOUT_SECONDS  give up (exit 1) after this long (default 3300)
    POLL_SECONDS     wait between rounds (default 15)

Each round reads the current set from the first validator that answers. When it equals
DESIRED (case-insensitive, order-free), the script discards the pending votes it finds on
every reachable validator and exits 0: running it again then casts no vote. Otherwise it
asks every reachable validator to vote: first to add each missing address, and only when
none is missing, to remove each extra one (adding first keeps the most validators online
during a rotation). Pending votes that point away from DESIRED are discarded. Validators
that are not (yet) in the on-chain set keep the proposal in memory and vote once they are.

Methods, checked against the clients' sources: Besu QBFT (QbftJsonRpcMethods)
``qbft_getValidatorsByBlockNumber(block)``, ``qbft_proposeValidatorVote(address, add)``,
``qbft_discardValidatorVote(address)``, ``qbft_getPendingVotes()``; geth 1.13 Clique
(consensus/clique/api.go) ``clique_getSigners(block)``, ``clique_propose(address, auth)``,
``clique_discard(address)``, ``clique_proposals()``.

Exit codes: 0 the set is DESIRED; 1 timed out; 2 bad configuration.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
REQUEST_TIMEOUT_SECONDS = 10
DEFAULT_TIMEOUT_SECONDS = 3300
DEFAULT_POLL_SECONDS = 15


@dataclass(frozen=True)
class Methods:
    """The JSON-RPC method names of one consensus profile."""

    validators: str  # params: ["latest"]
    propose: str  # params: [address, add]
    discard: str  # params: [address]
    pending: str  # params: []; result {address: add}


METHODS = {
    "besu-qbft": Methods(
        validators="qbft_getValidatorsByBlockNumber",
        propose="qbft_proposeValidatorVote",
        discard="qbft_discardValidatorVote",
        pending="qbft_getPendingVotes",
    ),
    "geth-clique": Methods(
        validators="clique_getSigners",
        propose="clique_propose",
        discard="clique_discard",
        pending="clique_proposals",
    ),
}


class ConfigError(Exception):
    """The environment variables do not describe a vote that can be run."""


class RpcError(Exception):
    """A validator answered with a JSON-RPC error (or something that is not JSON-RPC)."""


class Unreachable(RpcError):
    """A validator did not answer at all."""


@dataclass(frozen=True)
class Config:
    methods: Methods
    urls: tuple[str, ...]
    desired: tuple[str, ...]  # as given, for the calls
    timeout: float
    poll: float

    @property
    def wanted(self) -> set[str]:
        return {address.lower() for address in self.desired}


def load_config(environ: dict[str, str]) -> Config:
    """The configuration from environment variables, refusing anything unusable."""
    profile = environ.get("PROFILE", "").strip()
    if profile not in METHODS:
        raise ConfigError(f"PROFILE must be one of {', '.join(METHODS)}, not {profile!r}")
    urls = tuple(url.strip() for url in environ.get("VALIDATOR_URLS", "").split(",") if url.strip())
    if not urls:
        raise ConfigError("VALIDATOR_URLS names no validator to ask")
    for url in urls:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ConfigError(f"VALIDATOR_URLS: {url!r} is not an http(s) URL")
    desired = tuple(a.strip() for a in environ.get("DESIRED", "").split(",") if a.strip())
    if not desired:
        raise ConfigError("DESIRED is empty: refusing to vote out every validator")
    bad = [address for address in desired if not ADDRESS.fullmatch(address)]
    if bad:
        raise ConfigError(f"DESIRED: not 0x-prefixed 20-byte addresses: {', '.join(bad)}")
    if len({address.lower() for address in desired}) != len(desired):
        raise ConfigError("DESIRED lists an address twice")
    return Config(
        methods=METHODS[profile],
        urls=urls,
        desired=desired,
        timeout=_seconds(environ, "TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS),
        poll=_seconds(environ, "POLL_SECONDS", DEFAULT_POLL_SECONDS),
    )


def _seconds(environ: dict[str, str], name: str, default: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {text!r}") from None
    if not value > 0:
        raise ConfigError(f"{name} must be positive, not {text!r}")
    return value


def log(message: str) -> None:
    print(message, flush=True)


class Client:
    """JSON-RPC over HTTP, logging every call with its target and outcome."""

    def __init__(self) -> None:
        self.next_id = 0

    def call(self, url: str, method: str, params: list[Any]) -> Any:
        self.next_id += 1
        body = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        host = urlsplit(url).netloc
        shown = json.dumps(params)
        try:
            answer = _post(request)
        except OSError as exc:  # URLError, refused, timed out, HTTP error without JSON-RPC
            log(f"{method} {shown} -> {host}: unreachable: {_reason(exc)}")
            raise Unreachable(str(exc)) from None
        except ValueError as exc:  # not JSON
            log(f"{method} {shown} -> {host}: error: not JSON ({exc})")
            raise RpcError(str(exc)) from None
        if not isinstance(answer, dict):
            log(f"{method} {shown} -> {host}: error: not a JSON-RPC response")
            raise RpcError("not a JSON-RPC response")
        if answer.get("error") is not None:
            log(f"{method} {shown} -> {host}: error: {json.dumps(answer['error'])}")
            raise RpcError(str(answer["error"]))
        result = answer.get("result")
        log(f"{method} {shown} -> {host}: {json.dumps(result)}")
        return result


def _post(request: urllib.request.Request) -> Any:
    """The decoded JSON body of the answer; an HTTP error status that carries a JSON-RPC
    error (Besu answers some errors with 400) counts as that error, not as unreachable."""
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read().decode("utf-8"))
        except ValueError:
            raise exc from None
        if isinstance(answer, dict) and answer.get("error") is not None:
            return answer
        raise


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def current_set(client: Client, config: Config) -> set[str] | None:
    """The on-chain set, lowercased, from the first validator that answers."""
    for url in config.urls:
        try:
            result = client.call(url, config.methods.validators, ["latest"])
        except RpcError:
            continue  # logged; ask the next one
        if isinstance(result, list) and all(
            isinstance(a, str) and ADDRESS.fullmatch(a) for a in result
        ):
            return {address.lower() for address in result}
        log(f"{urlsplit(url).netloc}: not a list of addresses, asking the next validator")
    return None


def pending_votes(client: Client, config: Config, url: str) -> dict[str, bool] | None:
    """A validator's pending proposals, lowercased address -> add; None when the client
    cannot tell. Raises Unreachable when the validator does not answer."""
    try:
        result = client.call(url, config.methods.pending, [])
    except Unreachable:
        raise
    except RpcError:
        return None
    if not isinstance(result, dict):
        return None
    return {str(address).lower(): bool(add) for address, add in result.items()}


Proposed = dict[str, set[str]]  # validator URL -> lowercased addresses proposed there


def vote_round(client: Client, config: Config, current: set[str], proposed: Proposed) -> None:
    """Ask every reachable validator to vote one step toward DESIRED."""
    missing = [a for a in config.desired if a.lower() not in current]
    extra = sorted(current - config.wanted)
    # Add first; remove once nothing is missing, so a rotation never shrinks the set first.
    votes = [(a, True) for a in missing] if missing else [(a, False) for a in extra]
    log(
        f"on-chain set has {len(current)} validators; missing: {', '.join(missing) or 'none'}; "
        f"extra: {', '.join(extra) or 'none'}; voting to {'add' if missing else 'remove'}"
    )
    for url in config.urls:
        try:
            pending = pending_votes(client, config, url)
            for address, add in sorted((pending or {}).items()):
                if add != (address in config.wanted):  # a vote away from DESIRED
                    client.call(url, config.methods.discard, [address])
            for address, add in votes:
                if pending is not None and pending.get(address.lower()) is add:
                    continue  # proposed already
                client.call(url, config.methods.propose, [address, add])
                proposed.setdefault(url, set()).add(address.lower())
        except RpcError:
            continue  # logged; the next round asks this validator again


def finish(client: Client, config: Config, proposed: Proposed) -> None:
    """The set is DESIRED: withdraw every pending vote, so nothing moves it again."""
    for url in config.urls:
        try:
            pending = pending_votes(client, config, url)
            stale = set(pending) if pending is not None else proposed.get(url, set())
            for address in sorted(stale):
                client.call(url, config.methods.discard, [address])
        except RpcError:
            continue  # logged; its remaining proposals are satisfied votes, never cast


def run(config: Config) -> int:
    """Vote until the on-chain set is DESIRED (0) or the time is up (1)."""
    client = Client()
    deadline = time.monotonic() + config.timeout
    proposed: Proposed = {}
    log(f"desired validator set ({len(config.desired)}): {', '.join(config.desired)}")
    while True:
        current = current_set(client, config)
        if current is None:
            log("no validator answered: retrying")
        elif current == config.wanted:
            log("the on-chain validator set is the desired set")
            finish(client, config, proposed)
            return 0
        else:
            vote_round(client, config, current, proposed)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            log(
                f"ERROR: timed out after {config.timeout:g}s: the on-chain validator set is not "
                "the desired set; check that the validators are running and producing blocks"
            )
            return 1
        time.sleep(min(config.poll, remaining))


def main() -> int:
    try:
        config = load_config(dict(os.environ))
    except ConfigError as exc:
        log(f"ERROR: {exc}")
        return 2
    return run(config)


if __name__ == "__main__":
    sys.exit(main())
