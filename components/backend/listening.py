"""Where a web server command listens, read from its options.

gunicorn and hypercorn (`--bind`, `-b`), uvicorn (`--port`, `--host`, `--uds`), daphne
(`-p`, `-b`, `-u`) and `flask run` (`--port`, `--host`), also behind `python -m`,
`exec` or `sh -c`. The probes and the Service connect to the pod's IP on `app.port`, so
a command that listens elsewhere would never get a pod ready. Only what can be read
for sure is judged: `$PORT`, config files and the like are left alone.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class _ListenOptions:
    """The options of one web server that say where it listens."""

    address: tuple[str, ...] = ()
    """HOST:PORT, :PORT, [V6]:PORT or unix:PATH."""
    port: tuple[str, ...] = ()
    host: tuple[str, ...] = ()
    unix: tuple[str, ...] = ()
    """A unix socket path."""


_SERVERS = {
    "gunicorn": _ListenOptions(address=("--bind", "-b")),
    "hypercorn": _ListenOptions(address=("--bind", "-b")),
    "uvicorn": _ListenOptions(port=("--port",), host=("--host",), unix=("--uds",)),
    "daphne": _ListenOptions(port=("--port", "-p"), host=("--bind", "-b"), unix=("--unix-socket", "-u")),
    "flask": _ListenOptions(port=("--port", "-p"), host=("--host", "-h")),
}
_SHELLS = {"sh", "bash", "dash", "ash", "zsh"}
_SHELL_OPERATORS = {"&&", "||", ";", "|", "&"}
_LOOPBACK = re.compile(r"^(localhost|127(\.\d+){3}|\[::1\]|::1)$")


@dataclass(frozen=True)
class Listener:
    """One thing a server command says about where it listens, and the words that say it."""

    seen: str
    port: int | None = None
    host: str | None = None
    unix: bool = False


def listeners(command: Sequence[str]) -> list[Listener]:
    """Where a server command listens, as far as its own words say; [] when they say nothing.

    Reads gunicorn, hypercorn, uvicorn, daphne and `flask run` options, also inside an
    `sh -c` string. A port from the environment (`$PORT`) or a config file is not seen.
    """
    found: list[Listener] = []
    for words in _commands(_unwrap_shell(command)):
        servers = [i for i, word in enumerate(words) if word.rsplit("/", 1)[-1] in _SERVERS]
        if servers:
            server = words[servers[0]].rsplit("/", 1)[-1]
            found += _read_options(_SERVERS[server], words[servers[0] + 1 :])
    return found


def _unwrap_shell(command: Sequence[str]) -> list[str]:
    if not command or command[0].rsplit("/", 1)[-1] not in _SHELLS:
        return list(command)
    flag = next((i for i, word in enumerate(command) if re.fullmatch(r"-[a-z]*c[a-z]*", word)), None)
    if flag is None or flag + 1 >= len(command):
        return []
    try:
        return shlex.split(command[flag + 1])
    except ValueError:  # unbalanced quotes: nothing can be read from it for sure
        return []


def _commands(words: list[str]) -> list[list[str]]:
    """A shell line split at `&&`, `;`, `|`: each part is a command of its own."""
    parts: list[list[str]] = [[]]
    for word in words:
        if word in _SHELL_OPERATORS:
            parts.append([])
        else:
            parts[-1].append(word)
    return parts


def _read_options(options: _ListenOptions, args: list[str]) -> list[Listener]:
    found = []
    for i, word in enumerate(args):
        following = args[i + 1] if i + 1 < len(args) else None
        for name, value, seen in _option_forms(word, following):
            if name in options.address:
                found.append(_address(value, seen))
            elif name in options.port and value.isdigit():
                found.append(Listener(seen, port=int(value)))
            elif name in options.host:
                found.append(Listener(seen, host=value))
            elif name in options.unix:
                found.append(Listener(seen, unix=True))
    return found


def _option_forms(word: str, following: str | None) -> list[tuple[str, str, str]]:
    """(option, value, as written) for each way `word` can carry an option:
    `--bind=ADDR`, `-bADDR`, or `--bind ADDR` / `-b ADDR` with the next word."""
    if word.startswith("--") and "=" in word:
        name, _, value = word.partition("=")
        return [(name, value, word)]
    forms = []
    if word.startswith("-") and not word.startswith("--") and len(word) > 2:
        forms.append((word[:2], word[2:], word))
    if word.startswith("-") and following is not None:
        forms.append((word, following, f"{word} {following}"))
    return forms


def _address(address: str, seen: str) -> Listener:
    """A bind address: unix:PATH, HOST:PORT, :PORT, [V6]:PORT, or a host alone."""
    if address.startswith("unix:"):
        return Listener(seen, unix=True)
    if address.startswith("["):
        host, _, rest = address.partition("]")
        host, port = host + "]", rest.removeprefix(":")
    elif address.count(":") == 1:
        host, _, port = address.partition(":")
    else:  # a host without a port, or an unbracketed IPv6 address
        host, port = address, ""
    return Listener(seen, port=int(port) if port.isdigit() else None, host=host or None)


def listening_problem(command: Sequence[str], port: int) -> str | None:
    """Why the probes, which connect to the pod's IP on `port`, would find nothing there."""
    found = listeners(command)
    hosts = [listener for listener in found if listener.host]
    if hosts and all(_LOOPBACK.match(listener.host or "") for listener in hosts):
        return (
            f"`command` listens on a loopback address ('{hosts[0].seen}'): the probes and the "
            "Service connect to the pod's own IP; listen on 0.0.0.0"
        )
    ports = [listener for listener in found if listener.port is not None]
    if ports and all(listener.port != port for listener in ports):
        return (
            f"`port` ({port}) must be the port `command` listens on ({ports[0].port}, from "
            f"'{ports[0].seen}'): the probes and the Service connect to `port`"
        )
    sockets = [listener for listener in found if listener.unix]
    if sockets and not ports:
        return (
            f"`command` listens only on a unix socket ('{sockets[0].seen}'): the probes and "
            f"the Service need TCP on `port` ({port})"
        )
    return None
