"""Hub announcements: citizens' subscriptions and reliable broadcasts (issue 6).

Modules: ``models`` (tables, migration 0007), ``subscriptions`` (choices per conversation),
``menu`` (the chat menu: texts, buttons, ``sub:`` payloads), ``audience`` (who receives),
``formatting`` (Telegram-safe HTML), ``broadcasts`` (create / start / cancel), ``queue``
(the delivery queue's transactions), ``ratelimit`` (shared pacer, per-chat gap),
``senders`` (Telegram Bot API, WhatsApp Cloud API, callback), ``engine`` (the worker),
``report`` (progress, CSV), ``web`` (the console section /avvisi), ``__main__`` (CLI).

Wiring (done by the lead in bot/ and console/; nothing here edits them):

1. console/app.py: ``SECTION_MODULES = ("console.handoff", "broadcast.web")`` (importing
   broadcast.web registers the section "Avvisi" at /console/avvisi for hub_staff).
2. bot/app.py ``create_app``, next to ``attach_console(...)``::

       from broadcast.wiring import attach_broadcasts
       attach_broadcasts(app, settings, engine=engine)

   It gives the console section the settings and, inside the gateway's lifespan, runs a
   ``BroadcastWorker`` (Telegram/WhatsApp senders from the settings; the web chat through
   ``gateway.send_text(..., author=Author.gateway)``), stopped gracefully at shutdown.
   More workers, anywhere: ``python -m broadcast worker`` (same environment).
3. bot/gateway.py ``Gateway._handle``, after the button is resolved and the consent gate,
   before the router/Rasa::

       reply = await self.db.run(menu.intercept, conversation_id=conversation.conversation_id,
                                 payload=message.payload, text=message.text, now=utcnow())
       if reply is not None:
           await self._finish(message, Status.processed)
           await self.sender.reply(conversation, Outgoing(text=reply.text,
                                   buttons=reply.buttons, gateway=True), message)
           return True

   (``sub:`` buttons and a typed «stop avvisi» never reach Rasa.)
4. bot/rendering.py ``_apply_custom``: keep ``{"type": "subscriptions", ...}`` on the Turn
   (e.g. ``turn.subscriptions = custom``); in ``Gateway._to_rasa`` after the replies,
   send ``menu.for_custom(session, conversation_id=..., custom=turn.subscriptions,
   now=...)`` the same way (``"action": "stop"`` for unsubscribe_news stops everything).
5. Optional: bot/commands.py ``Command("stop_avvisi", "Non ricevere più avvisi", ...)``;
   ``menu.intercept`` already answers "/stop_avvisi" typed anywhere.
6. Where the gateway withdraws consent (``repository.withdraw_consent``), also call
   ``broadcast.subscriptions.stop(session, conversation_id=..., now=...)`` (the engine
   skips conversations without consent in any case).
"""
