"""Hub announcements: citizens' subscriptions and reliable broadcasts (issue 6).

Modules: ``models`` (tables, migrations 0007 and 0012), ``subscriptions`` (choices per
conversation), ``menu`` (the chat menu: texts, buttons, ``sub:`` payloads), ``audience`` (who
receives), ``formatting`` (Telegram-safe HTML), ``broadcasts`` (create / start / cancel),
``queue`` (the delivery queue's transactions), ``ratelimit`` (pace, sliding window and
per-chat gap, shared by every worker), ``senders`` (Telegram Bot API, WhatsApp Cloud API,
callback), ``engine`` (the worker), ``report`` (progress, CSV), ``__main__`` (CLI).

Used from above (this package imports none of them):

1. console/broadcasts/: the console section «Avvisi» at /console/avvisi for hub_staff.
2. server/broadcasts.py ``attach_broadcasts``: gives the console section the settings and
   runs a ``BroadcastWorker`` in the gateway's lifespan (Telegram/WhatsApp senders from the
   settings, the web chat through ``gateway.send_text``), stopped gracefully at shutdown.
   More workers, anywhere: ``python -m broadcast worker`` (same environment).
3. bot/menus.py: ``menu.intercept`` answers ``sub:`` buttons and a typed «stop avvisi»
   without Rasa; ``menu.for_custom`` turns Rasa's ``{"type": "subscriptions"[, "action":
   "stop"]}`` into the menu / the stop.
4. Consent withdrawal (``bot.consent.withdraw``) and erasure requests
   (``actions/privacy.py``) call ``broadcast.subscriptions.stop`` in their transaction.
5. ``Command("stop_avvisi", ...)`` in bot/commands.py (Telegram's command menu).
"""
