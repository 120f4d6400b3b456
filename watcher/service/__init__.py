"""The daemon as a service: supervision of every part, systemd, live metrics, status, journal logging.

Owns: ``daemon`` (the parts and their supervision; it imports nothing from its own wiring), ``wiring``
(the daemon as a service: systemd hooks, /healthz and /metrics), ``systemd`` (sd_notify, watchdog),
``metrics``, ``status`` (the daemon's state read from the database), ``logs``.
May import: every stage below it: ``web``, ``notify``, ``history``, ``export``, ``pipeline``,
``tracking``, ``store``, ``diff``, ``mediawiki``, ``stream``, ``config``, ``base``.
"""
