"""A player's progress and XP history."""

from flask import request
from flask_login import current_user, login_required

from app.api import api
from app.api.parsing import load
from app.schemas.progress import HistoryPageSchema, HistoryQuerySchema, ProgressSchema
from app.services import progress

progress_schema = ProgressSchema()
history_query_schema = HistoryQuerySchema()
history_page_schema = HistoryPageSchema()


@api.get("/levels/progress")
@login_required
def get_progress():
    return progress_schema.dump(progress.summary(current_user.id))


@api.get("/xp/history")
@login_required
def get_history():
    query = load(history_query_schema, request.args.to_dict())
    page = progress.history(current_user.id, query["limit"], query["before"])
    return history_page_schema.dump(page)
