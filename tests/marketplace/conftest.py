from tests.billing.conftest import billing, clock, fake_stripe

__all__ = ["billing", "clock", "fake_stripe"]
