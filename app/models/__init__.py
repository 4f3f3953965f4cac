"""SQLAlchemy models; importing this package registers every table on db.metadata."""

from app.models.level import Level
from app.models.progress import LEDGER_REASONS, LevelCompletion, UserLevelProgress, XPHistory
from app.models.session import UserSession
from app.models.user import ApiToken, User

__all__ = [
    "LEDGER_REASONS",
    "ApiToken",
    "Level",
    "LevelCompletion",
    "User",
    "UserLevelProgress",
    "UserSession",
    "XPHistory",
]
