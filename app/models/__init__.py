"""SQLAlchemy models; importing this package registers every table on db.metadata."""

from app.models.achievement import AchievementEvent, UserAchievement
from app.models.leaderboard import LeaderboardTotal
from app.models.level import Level
from app.models.outbox import OUTBOX_KINDS, OutboxEvent
from app.models.progress import (
    LEDGER_REASONS,
    LedgerUnlock,
    LevelCompletion,
    UserLevelProgress,
    XPHistory,
    XPHistoryArchive,
)
from app.models.session import UserSession
from app.models.user import ApiToken, User

__all__ = [
    "LEDGER_REASONS",
    "OUTBOX_KINDS",
    "AchievementEvent",
    "ApiToken",
    "LeaderboardTotal",
    "LedgerUnlock",
    "Level",
    "LevelCompletion",
    "OutboxEvent",
    "User",
    "UserAchievement",
    "UserLevelProgress",
    "UserSession",
    "XPHistory",
    "XPHistoryArchive",
]
