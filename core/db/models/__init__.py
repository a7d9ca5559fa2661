"""ORM models, one module per seed domain. Importing this package registers every table."""

from core.db.base import Base
from core.db.models import (  # noqa: F401 - imported for their tables
    admin,
    analytics,
    billing,
    bots,
    defi,
    engine,
    marketplace,
    notifications,
    referrals,
    signals,
    support,
    telegram,
    templates,
    trading,
    users,
)

metadata = Base.metadata

__all__ = ["Base", "metadata"]
