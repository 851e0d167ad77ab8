"""Errors of the ledger; each carries an Italian ``message`` a citizen or operator can read."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every refusal of the ledger (nothing was written)."""

    message = "Operazione non riuscita."

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.message)


class InsufficientFunds(LedgerError):
    message = "Il budget disponibile non basta per questa operazione."

    def __init__(self, *, account_id: int, available_cents: int, requested_cents: int) -> None:
        self.account_id = account_id
        self.available_cents = available_cents
        self.requested_cents = requested_cents
        super().__init__(
            f"account {account_id}: available {available_cents}, requested {requested_cents}"
        )


class AccountExpired(LedgerError):
    message = "Questo budget è scaduto e non può più essere usato."


class CategoryNotAllowed(LedgerError):
    message = "Questo budget non può essere usato per questo tipo di servizio."


class LimitExceeded(LedgerError):
    message = "L'importo supera il massimo che questo budget copre per un servizio."


class UnknownAccount(LedgerError):
    message = "Conto non trovato."


class UnknownHold(LedgerError):
    message = "Prenotazione non trovata."


class HoldClosed(LedgerError):
    message = "Questa prenotazione è già stata usata o annullata."


class NothingToHold(LedgerError):
    message = "Il budget non copre nessuna parte di questo servizio."


class IdempotencyConflict(LedgerError):
    """The key was already used by a different operation: a programming error of the caller."""

    message = "Richiesta duplicata con dati diversi."
