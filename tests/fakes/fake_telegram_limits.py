"""The fake Bot API with Telegram's broadcast limits, for the broadcaster's tests and bench.

``LimitedTelegram`` extends ``FakeTelegram`` (tests/fakes/fake_telegram.py, unchanged):

- limits on the sending methods (sendMessage, sendPhoto): at most ``global_rate`` accepted
  messages in any sliding ``window`` seconds, and one per chat every ``per_chat_seconds``;
  a request over a limit gets 429 "Too Many Requests: retry after N" with
  ``parameters.retry_after``, as Telegram answers. ``enforce=False`` records without
  refusing (to measure the sender's own pacing);
- ``stall_after(n)``: after ``n`` accepted messages every further send request is held,
  unanswered and not accepted, until ``release_stalled()`` (a worker can be killed while
  its requests are in flight, and none of them counts as delivered);
- ``accepted``: (monotonic time, chat id, method) of every accepted message, with helpers
  to check duplicates, losses and rates.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any

from tests.fakes.fake_telegram import Call, FakeTelegram, _Handler

SEND_METHODS = frozenset({"sendMessage", "sendPhoto"})


@dataclass(frozen=True)
class Accepted:
    at: float
    chat_id: int
    method: str
    text: str


class LimitedTelegram(FakeTelegram):
    def __init__(
        self,
        *,
        global_rate: int = 30,
        per_chat_seconds: float = 1.0,
        window: float = 1.0,
        enforce: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.global_rate = global_rate
        self.per_chat_seconds = per_chat_seconds
        self.window = window
        self.enforce = enforce
        self.accepted: list[Accepted] = []
        self.limited_global = 0  # 429s this fake produced by its limits (not injected ones)
        self.limited_chat = 0
        self._recent: deque[float] = deque()
        self._last_by_chat: dict[int, float] = {}
        self._limit_lock = threading.Lock()
        self._stall_after: int | None = None
        self._stall_release = threading.Event()
        self.stalled = 0

    def start(self) -> LimitedTelegram:
        """As FakeTelegram.start, with TCP_NODELAY on the connections: the handler writes
        the headers and the body separately, and with Nagle's algorithm (and the client's
        delayed ACK) every answer waited ~40 ms, unlike a real server's."""
        fake = self

        class Handler(_Handler):
            owner = fake
            disable_nagle_algorithm = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __enter__(self) -> LimitedTelegram:
        return self.start()

    # --- arrangement -------------------------------------------------------------------

    def stall_after(self, accepted: int) -> None:
        self._stall_release.clear()
        self._stall_after = accepted

    def release_stalled(self) -> None:
        self._stall_after = None
        self._stall_release.set()

    # --- the protocol ------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method not in SEND_METHODS:
            return super().handle(method, params)
        if self._stall_after is not None and len(self.accepted) >= self._stall_after:
            with self._limit_lock:
                self.stalled += 1
            self._stall_release.wait(timeout=120)
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        with self._limit_lock:
            now = time.monotonic()
            while self._recent and self._recent[0] <= now - self.window:
                self._recent.popleft()
            chat_id = _int(params.get("chat_id"))
            if self.enforce and len(self._recent) >= self.global_rate:
                self.limited_global += 1
                wait = self._recent[0] + self.window - now
                return self._too_many(method, params, now, wait)
            last = self._last_by_chat.get(chat_id) if chat_id is not None else None
            if self.enforce and last is not None and now - last < self.per_chat_seconds:
                self.limited_chat += 1
                return self._too_many(method, params, now, last + self.per_chat_seconds - now)
            status, body = super().handle(method, params)
            if status == 200 and chat_id is not None:
                self._recent.append(now)
                self._last_by_chat[chat_id] = now
                text = str(params.get("text") or params.get("caption") or "")
                self.accepted.append(Accepted(now, chat_id, method, text))
            return status, body

    def _too_many(
        self, method: str, params: dict[str, Any], now: float, wait: float
    ) -> tuple[int, dict[str, Any]]:
        retry_after = max(1, math.ceil(wait))
        body = {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {retry_after}",
            "parameters": {"retry_after": retry_after},
        }
        with self._cond:
            self.state.calls.append(Call(method, params, now, status=429))
            self._cond.notify_all()
        return 429, body

    # --- inspection --------------------------------------------------------------------

    def received(self, marker: str = "") -> Counter[int]:
        """Accepted messages per chat (whose text contains ``marker``)."""
        return Counter(a.chat_id for a in list(self.accepted) if marker in a.text)

    def max_in_window(self, window: float = 1.0, marker: str = "") -> int:
        """The most messages accepted within any sliding ``window`` seconds."""
        times = sorted(a.at for a in list(self.accepted) if marker in a.text)
        best = 0
        start = 0
        for end, at in enumerate(times):
            while times[start] <= at - window:
                start += 1
            best = max(best, end - start + 1)
        return best

    def min_chat_gap(self) -> float:
        """The shortest time between two messages accepted for the same chat (inf if none)."""
        by_chat: dict[int, list[float]] = {}
        for a in list(self.accepted):
            by_chat.setdefault(a.chat_id, []).append(a.at)
        gaps = [
            b - a
            for times in by_chat.values()
            for a, b in zip(sorted(times), sorted(times)[1:], strict=False)
        ]
        return min(gaps, default=math.inf)

    def rate(self, marker: str = "") -> float:
        """Accepted messages per second between the first and the last one."""
        times = sorted(a.at for a in list(self.accepted) if marker in a.text)
        if len(times) < 2:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
