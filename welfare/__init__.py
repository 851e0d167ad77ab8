"""The welfare budget at work (issue 7): vouchers paid from the budget, their QR images.

- ``welfare.models``: ``Voucher`` (migration 0009).
- ``welfare.vouchers``: ``issue_voucher`` (place_hold + a voucher, idempotent),
  ``redeem_voucher`` (capture_hold, provider staff), ``cancel_voucher`` (release_hold).
- ``welfare.qr``: the voucher's QR PNG and the URL the gateway serves it at
  (``welfare.web.router``, included by server.app).
"""
