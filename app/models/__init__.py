"""SQLAlchemy models; importing this package registers every table on db.metadata."""

from app.models.level import Level
from app.models.user import ApiToken, User

__all__ = ["ApiToken", "Level", "User"]
