"""HTTP with a deadline: a transfer that cannot outlive its time, whatever the server does.

``urlopen``'s ``timeout`` bounds each socket operation, not the transfer: a
server that sends one byte (or one header character) just before every
timeout keeps a download alive forever. :class:`Deadline` is a timer that, when
it fires, shuts down every socket registered with it, which wakes a read
blocked in any thread (plain or TLS); :func:`open_url` is ``urlopen`` with each
connection it opens (redirects and proxies included) registered. Name lookup
is not covered by ``urlopen``'s timeout at all, so :func:`resolve_host` runs
it in a daemon thread with its own limit.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from fastact.data.errors import DatasetError


class Deadline:
    """Shuts every connection registered with it down ``seconds`` after ``start`` (a ``time.monotonic()``).

    Use as a context manager around the transfer; ``expired`` tells afterwards
    whether an error was caused by the deadline.
    """

    def __init__(self, seconds: float, start: float):
        self.seconds = seconds
        self.expired = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(start + seconds - time.monotonic(), 0), self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
        if self.expired.is_set():
            self._shutdown(sock)

    def _expire(self) -> None:
        self.expired.set()
        with self._lock:
            for sock in self._sockets:
                self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        # The plain socket's shutdown, also for TLS: it wakes a read blocked in another thread.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watched:
    """A connection whose socket the deadline watches once it is connected (after TLS, for HTTPS)."""

    def __init__(self, *args, deadline: Deadline, **kwargs):
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self):
        super().connect()
        self._deadline.watch(self.sock)


class _WatchedHTTP(_Watched, http.client.HTTPConnection):
    pass


class _WatchedHTTPS(_Watched, http.client.HTTPSConnection):
    pass


def open_url(url: str, timeout: float, deadline: Deadline, user_agent: str):
    """``urlopen(url, timeout)`` (proxies, redirects included) with every connection it makes registered
    with ``deadline``; returns the response."""

    class HTTP(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(_WatchedHTTP, req, deadline=deadline)

    class HTTPS(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(_WatchedHTTPS, req, context=self._context, deadline=deadline)

    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    return urllib.request.build_opener(HTTP, HTTPS).open(request, timeout=timeout)


def resolve_host(url: str, timeout: float) -> None:
    """Look the host up in a daemon thread, because ``urlopen``'s timeout does not cover DNS."""
    parts = urllib.parse.urlsplit(url)
    outcome: list = []

    def lookup():
        try:
            outcome.append(socket.getaddrinfo(parts.hostname, parts.port or 80))
        except OSError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise DatasetError(f"name lookup of {parts.hostname} took longer than {timeout:g} s")
    if isinstance(outcome[0], OSError):
        raise urllib.error.URLError(outcome[0])
