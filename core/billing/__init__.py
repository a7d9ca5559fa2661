"""Billing: the plans and their limits (``plans``, data), amounts (``money``), payments taken in
recorded steps (``payments``) and the Stripe gateway (``gateway``, the only module that imports
the ``stripe`` library, an optional extra: ``configured`` builds it from the settings and says
what to install when it is missing)."""
