"""The SMTP connection itself: smtplib's client with bounds a hostile server cannot
stretch, TCP_NODELAY, and pipelined commands (RFC 2920).

smtplib reads a reply line by line from a buffered file, each line up to 8 KB, as
many lines as the server sends, and its socket timeout runs between two bytes: an
endless multi-line reply fills the memory, a reply trickled one byte a second
never ends. Here every reply is read from the socket by hand:

- `MAX_REPLY` bytes at most (64 KB, far above any real reply: a long EHLO is 1 KB),
  else `Oversized`;
- in full within the session's timeout from the moment its command went out,
  however the bytes are spread in time, else `Stalled`. Sending a message's data
  has the same bound (the socket's total sendall timeout, Python >= 3.5).

Both are `SMTPServerDisconnected`: the connection is closed when they are raised.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import time
from typing import Any

from ..errors import Oversized, Stalled

MAX_REPLY = 64 * 1024
SLACK = 0.02  # of the timeout: how far past its deadline a reply's last wait may end


class Wire(smtplib.SMTP):
    """smtplib.SMTP whose replies are bounded in size and in total time."""

    def __init__(
        self, host: str, port: int, *, timeout: float, local_hostname: str, **extra: Any
    ) -> None:
        self._inbox = bytearray()
        self.limit = timeout  # seconds for each whole reply
        self._timeout: float | None = None  # what the socket has now (see _bound)
        super().__init__(host, port, local_hostname=local_hostname, timeout=timeout, **extra)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock: socket.socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        nodelay(sock)
        return sock

    def _line(self, deadline: float) -> bytes:
        while True:
            end = self._inbox.find(b"\n")
            if end >= 0:
                line = bytes(self._inbox[: end + 1])
                del self._inbox[: end + 1]
                return line
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise Stalled(f"the server did not answer in full within {self.limit:g} s")
            if self.sock is None:
                raise smtplib.SMTPServerDisconnected("not connected")
            self._bound(remaining)
            try:
                chunk = self.sock.recv(16384)
            except TimeoutError:
                continue  # the deadline check above decides
            except OSError as exc:
                self.close()
                raise smtplib.SMTPServerDisconnected(str(exc) or type(exc).__name__) from None
            if not chunk:
                self.close()
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            self._inbox += chunk
            if len(self._inbox) > MAX_REPLY:
                self.close()
                raise Oversized(f"the server's reply passed {MAX_REPLY // 1024} KB")

    def getreply(self) -> tuple[int, bytes]:
        deadline = time.monotonic() + self.limit
        lines: list[bytes] = []
        size = 0
        code = -1
        while True:
            line = self._line(deadline)
            size += len(line)
            if size > MAX_REPLY:
                self.close()
                raise Oversized(f"the server's reply passed {MAX_REPLY // 1024} KB")
            lines.append(line[4:].strip(b" \t\r\n"))
            try:
                code = int(line[:3])
            except ValueError:
                code = -1
                break
            if line[3:4] != b"-":
                break
        return code, b"\n".join(lines)

    def _bound(self, remaining: float) -> None:
        """Let the next wait on the socket end by the reply's deadline. settimeout is a
        syscall that hands the GIL over (ioctl), and four sessions with a journal
        made ~9 of them a message: it is called only when the timeout the socket has
        could carry a wait past the deadline by more than SLACK of the timeout."""
        if self.sock is None:
            return
        if self._timeout is None or self._timeout > remaining + SLACK * self.limit:
            self.sock.settimeout(remaining)
            self._timeout = remaining

    def send(self, s: Any) -> None:
        if self.sock is not None and self._timeout != self.limit:
            self.sock.settimeout(self.limit)  # sendall: the total time, not between bytes
            self._timeout = self.limit
        super().send(s)

    def close(self) -> None:
        super().close()
        self._timeout = None

    def starttls(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        reply: tuple[int, bytes] = super().starttls(*args, **kwargs)
        if self._inbox:  # sent before the handshake, in the clear: an injection (CVE-2011-0411)
            self.close()
            raise smtplib.SMTPServerDisconnected("the server sent data before TLS began")
        return reply

    def pipeline(self, commands: list[str]) -> list[tuple[int, bytes]]:
        """Send commands in one write and read one reply to each (RFC 2920)."""
        self.send("".join(f"{command}\r\n" for command in commands))
        return [self.getreply() for _ in commands]


class WireSSL(Wire, smtplib.SMTP_SSL):
    """Implicit TLS (smtps://) with the same bounds."""

    def __init__(
        self, host: str, port: int, *, timeout: float, local_hostname: str, context: Any
    ) -> None:
        super().__init__(
            host, port, timeout=timeout, local_hostname=local_hostname, context=context
        )

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = socket.create_connection((host, port), timeout, self.source_address)
        nodelay(sock)
        wrapped: socket.socket = self.context.wrap_socket(sock, server_hostname=host)
        return wrapped


def nodelay(sock: socket.socket) -> None:
    """No Nagle: a command waits for no ACK (45 ms a message against Postfix)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
