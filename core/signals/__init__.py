"""Getting external trading signals into the database.

- ``payload``: the signal body every source uses, decoded exactly (prices as Decimal);
- ``signing``: the HMAC-SHA256 request signature of webhook providers;
- ``ingest``: storing a signal once (deduplicated by the provider's id) and the replay cache;
- ``receiver``: the aiohttp webhook app (``POST /signals/<provider id>``, ``GET /healthz``);
- ``api_source`` / ``telegram``: what an ``api`` and a ``telegram`` provider are polled for;
- ``pollers``: the polling loops with back-off; ``server``: the receiver and pollers together;
- ``reliability``: a provider's reliability score from the trades its signals produced.
"""
