"""The alert stage: watchlists and emerging methods, evaluated after every indexed batch and
delivered to webhooks, e-mail and JSON-lines files.

- :mod:`~search_api.alerts.rules`: what a rule is (validated), seeding from watchlists.yaml;
- :mod:`~search_api.alerts.evaluate`: watchlists over newly indexed documents (high-water mark);
- :mod:`~search_api.alerts.emerging`: rises of methods and new phrases, with backtesting;
- :mod:`~search_api.alerts.dispatch` and :mod:`~search_api.alerts.sinks`: rate limits, digests,
  retries, dead letters; webhook, e-mail, file;
- :mod:`~search_api.alerts.service`: the object the CLI wires into the enrichment worker.

State lives in the control store (:mod:`osintel.alertstore`).
"""

from __future__ import annotations
