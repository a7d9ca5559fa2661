"""Billing: the plans and their limits (``plans``, data), amounts (``money``), payments taken in
recorded steps (``payments``) and the Stripe gateway (``gateway``, the only module that imports
the ``stripe`` library, so the app starts without it until something is paid)."""
