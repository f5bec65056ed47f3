"""Start-up patch: Rasa's Redis lock store changes a conversation's lock atomically (WATCH/MULTI), so two Rasa
servers that get a message of one conversation at the same moment really take turns.

What Rasa does: `RedisLockStore` (rasa/core/lock_store.py, Rasa 3.6) issues a ticket by reading the lock from
Redis, adding a ticket and writing it back, with nothing in between to stop another server doing the same.
Two servers that issue a ticket at the same moment both read "no tickets", both write ticket 1, both
believe they hold the lock and process the conversation at once (RasaHQ/rasa#9213; a fix, #11256, was
reverted). tests/scaleout/ caught it: two messages sent together to two servers were processed in parallel.

What the clinic needs: the same ticket lock (same keys, same JSON, same lifetimes and waiting), but every
read-change-write of a lock (issue a ticket, drop expired tickets, finish serving) done as one Redis
transaction: WATCH the key, read, change, MULTI/SET or DEL, EXEC, and start again if another server changed
the key in between.

Test: tests/unit/test_redis_lock.py (real Redis; two stores, many tickets at once, critical sections never
overlap), and tests/scaleout/ (two real servers).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore

logger = logging.getLogger(__name__)


def _transact(store: RedisLockStore, conversation_id: str,
              change: Callable[[TicketLock | None], tuple[TicketLock | None, bool, Any]]) -> Any:
    """Apply `change(lock) -> (lock, delete, result)` to the stored lock as one transaction; return result."""
    from redis.exceptions import WatchError

    key = store.key_prefix + conversation_id
    with store.red.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                raw = pipe.get(key)
                lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                new_lock, delete, result = change(lock)
                pipe.multi()
                if delete:
                    pipe.delete(key)
                elif new_lock is not None:
                    pipe.set(key, new_lock.dumps())
                pipe.execute()
                return result
            except WatchError:
                logger.debug("lock of %s changed by another server meanwhile; trying again", conversation_id)


def issue_ticket(self: RedisLockStore, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
    """Rasa's issue_ticket, atomic: a new ticket on the (possibly new) lock of the conversation."""
    def change(lock: TicketLock | None):
        lock = lock or self.create_lock(conversation_id)
        return lock, False, lock.issue_ticket(lock_lifetime)

    try:
        return _transact(self, conversation_id, change)
    except Exception as error:  # Rasa wraps every failure here the same way
        raise LockError(f"Error while acquiring lock. Error:\n{error}") from error


def update_lock(self: RedisLockStore, conversation_id: str) -> None:
    """Rasa's update_lock, atomic: drop expired tickets."""
    def change(lock: TicketLock | None):
        if lock is None:
            return None, False, None
        lock.remove_expired_tickets()
        return lock, False, None

    _transact(self, conversation_id, change)


def cleanup(self: RedisLockStore, conversation_id: str, ticket_number: int) -> None:
    """Rasa's cleanup, atomic: drop our ticket; delete the lock if no one else is waiting."""
    def change(lock: TicketLock | None):
        if lock is None:
            return None, False, False
        lock.remove_ticket_for(ticket_number)
        waiting = lock.is_someone_waiting()
        return lock, not waiting, not waiting

    deleted = _transact(self, conversation_id, change)
    if deleted:
        self._log_deletion(conversation_id, True)


def apply() -> None:
    """Make RedisLockStore's read-change-write operations transactions."""
    RedisLockStore.issue_ticket = issue_ticket  # type: ignore[method-assign]
    RedisLockStore.update_lock = update_lock  # type: ignore[method-assign]
    RedisLockStore.cleanup = cleanup  # type: ignore[method-assign]
