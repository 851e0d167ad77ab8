"""A Redis lock store for Rasa whose ticket operations are atomic (issue 18).

Rasa 3.6's ``RedisLockStore`` keeps one conversation's ticket lock as a JSON value and
changes it with GET, change in Python, SET. Two workers that take a ticket for the same
conversation in the same instant both read the same lock, both write their own ticket,
and one ticket is lost: both turns run at once and one user event can be lost (seen in
CI, docs/performance.md). The same race hits ``finish_serving`` + ``delete_lock``: a ticket
issued between the two is deleted with the lock and its turn fails with ``LockError``.

Here every read-modify-write of a lock is one Lua script, which Redis runs atomically:
issuing a ticket, removing expired tickets, finishing a ticket, and finishing a ticket and
deleting the lock when nobody waits. The stored value is exactly Rasa's (``TicketLock``'s
JSON with each ticket as a JSON string, the same key prefix), so reading a lock
(``get_lock``) and Rasa's own waiting loop are unchanged, and a worker with the plain store
reads the same keys. Expiry times are computed by the client, as Rasa does
(``time.time()``), so workers on different machines need synchronised clocks, as with
Rasa's own store.

endpoints.yml names this class as the lock store's ``type`` when a Redis URL is set
(devtools.rasa_env.lock_store_env); Rasa builds it with ``cls(endpoint_config=...)``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

log = logging.getLogger(__name__)

# KEYS[1] is the lock's key; tickets are JSON strings {"number": n, "expires": t}.

# The JSON of a lock as Rasa writes it (an empty ticket list stays a list).
_ENCODE = """
local function encode(conversation_id, tickets)
  local parts = {}
  for i, text in ipairs(tickets) do parts[i] = cjson.encode(text) end
  return '{"conversation_id": ' .. cjson.encode(conversation_id) ..
         ', "tickets": [' .. table.concat(parts, ', ') .. ']}'
end
"""

# ARGV: now, expires (a float as text), conversation id. Returns the new ticket's number:
# the last live ticket's number + 1, or 0 when none is live (Rasa's NO_TICKET_ISSUED + 1).
ISSUE_TICKET = (
    _ENCODE
    + """
local live, numbers = {}, {}
local raw = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[1])
if raw then
  for _, text in ipairs(cjson.decode(raw)['tickets'] or {}) do
    local ticket = cjson.decode(text)
    if tonumber(ticket['expires']) >= now then
      table.insert(live, text)
      table.insert(numbers, tonumber(ticket['number']))
    end
  end
end
local number = 0
if #numbers > 0 then number = numbers[#numbers] + 1 end
table.insert(live, '{"number": ' .. number .. ', "expires": ' .. ARGV[2] .. '}')
redis.call('SET', KEYS[1], encode(ARGV[3], live))
return number
"""
)

# ARGV: now, the ticket number to remove ('' for none), delete-when-empty ('1' or '0').
# Returns the number of live tickets left, or -1 when there was no lock.
FINISH = (
    _ENCODE
    + """
local raw = redis.call('GET', KEYS[1])
if not raw then return -1 end
local lock = cjson.decode(raw)
local now = tonumber(ARGV[1])
local remove = tonumber(ARGV[2])
local live = {}
for _, text in ipairs(lock['tickets'] or {}) do
  local ticket = cjson.decode(text)
  if tonumber(ticket['expires']) >= now and tonumber(ticket['number']) ~= remove then
    table.insert(live, text)
  end
end
if #live == 0 and ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], encode(lock['conversation_id'], live))
end
return #live
"""
)


class AtomicRedisLockStore(RedisLockStore):
    """``RedisLockStore`` with atomic ticket operations (Lua scripts)."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs}
        super().__init__(**kwargs)
        self._issue = self.red.register_script(ISSUE_TICKET)
        self._finish = self.red.register_script(FINISH)

    def _key(self, conversation_id: str) -> str:
        return self.key_prefix + conversation_id

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        now = time.time()
        try:
            return int(
                self._issue(
                    keys=[self._key(conversation_id)],
                    args=[repr(now), repr(now + lock_lifetime), conversation_id],
                )
            )
        except Exception as error:  # Rasa's contract: any failure is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def _run_finish(self, conversation_id: str, ticket: int | None, delete_empty: bool) -> int:
        return int(
            self._finish(
                keys=[self._key(conversation_id)],
                args=[repr(time.time()), "" if ticket is None else str(ticket),
                      "1" if delete_empty else "0"],
            )
        )  # fmt: skip

    def update_lock(self, conversation_id: str) -> None:
        """Removes the expired tickets (atomically)."""
        self._run_finish(conversation_id, None, delete_empty=False)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._run_finish(conversation_id, ticket_number, delete_empty=False)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finishes the ticket and deletes the lock if nobody waits, in one step: a ticket
        issued meanwhile by another worker is never deleted with the lock."""
        left = self._run_finish(conversation_id, ticket_number, delete_empty=True)
        if left <= 0:
            self._log_deletion(conversation_id, deletion_successful=left == 0)
