"""A small TCP proxy for link faults: forward, go silent, or reset after N bytes.

It sits between the agent and the test's Mosquitto on loopback. ``silent``
keeps every socket open but forwards nothing in either direction (a cut
cable behind a NAT: no FIN, no RST); ``reset_after`` sends a TCP RST once a
connection has carried N bytes from the client (mid-publish), cycle after
cycle. One thread with a selector; the test stops it with :meth:`close`.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
import time


class Proxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.setblocking(False)
        self.port = int(self.listener.getsockname()[1])
        self.silent = False
        self.reset_after: int | None = None
        self.resets = 0
        self.accepted = 0
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.listener, selectors.EVENT_READ, None)
        self._peers: dict[socket.socket, socket.socket] = {}
        self._sent: dict[socket.socket, int] = {}  # client socket -> bytes client->server
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reset_req = False
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def connections(self) -> int:
        with self._lock:
            return len(self._sent)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._reset_req:
                self._reset_req = False
                for sock in list(self._sent):
                    self._drop(sock, rst=True)
            for key, _ in self._sel.select(timeout=0.05):
                if key.data is None:
                    self._accept()
                else:
                    self._pump(key.fileobj, key.data)  # type: ignore[arg-type]

    def _accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except OSError:
            return
        try:
            server = socket.create_connection(self.upstream, timeout=2)
        except OSError:
            client.close()
            return
        client.setblocking(False)
        server.setblocking(False)
        with self._lock:
            self.accepted += 1
            self._peers[client] = server
            self._peers[server] = client
            self._sent[client] = 0
        self._sel.register(client, selectors.EVENT_READ, "c")
        self._sel.register(server, selectors.EVENT_READ, "s")

    def _pump(self, sock: socket.socket, side: str) -> None:
        if self.silent:
            # Leave the bytes in the kernel buffers: the peer sees a silent, open link.
            time.sleep(0.01)
            return
        try:
            data = sock.recv(65536)
        except OSError:
            data = b""
        peer = self._peers.get(sock)
        if not data or peer is None:
            self._drop(sock, rst=False)
            return
        if side == "c" and self.reset_after is not None:
            total = self._sent.get(sock, 0) + len(data)
            self._sent[sock] = total
            if total >= self.reset_after:
                cut = len(data) - (total - self.reset_after)
                with contextlib.suppress(OSError):
                    peer.sendall(data[: max(cut, 0)])
                self.resets += 1
                self._drop(sock, rst=True)
                return
        try:
            peer.setblocking(True)
            peer.sendall(data)
            peer.setblocking(False)
        except OSError:
            self._drop(sock, rst=False)

    def _drop(self, sock: socket.socket, *, rst: bool) -> None:
        peer = self._peers.pop(sock, None)
        with self._lock:
            self._sent.pop(sock, None)
            if peer is not None:
                self._peers.pop(peer, None)
                self._sent.pop(peer, None)
        for s in (sock, peer):
            if s is None:
                continue
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(s)
            if rst:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()

    def reset_all(self) -> None:
        """RST every open connection now."""
        self.silent = False
        self._reset_req = True

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for s in list(self._peers):
            s.close()
        self.listener.close()
