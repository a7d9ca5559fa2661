"""The bot engine: leases due bots, runs their cycles, watches exits on every price update.

``EngineRunner`` (``runner``) is the process: the scheduler loop, the exit watcher, housekeeping
(snapshots, reports, retention) and the notification delivery loop, with a heartbeat in
``engine_processes``. docs/engine.md describes the design and the figures.
"""
