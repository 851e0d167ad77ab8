"""Each channel's sending rules, shared by the gateway (bot/) and the broadcast worker.

``channels.outcome``: the one taxonomy of what a channel answered (``Result``, ``Outcome``)
and the one error type (``ChannelError``). ``channels.telegram`` and ``channels.whatsapp``:
how each channel's answers map onto it, and WhatsApp's 24-hour window. Imports only core.
"""
