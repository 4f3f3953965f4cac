"""The public leaderboards."""

from flask import request
from flask_login import current_user

from app.api import api
from app.api.parsing import load
from app.schemas.leaderboard import LeaderboardQuerySchema, LeaderboardSchema
from app.services import leaderboard

query_schema = LeaderboardQuerySchema()
board_schema = LeaderboardSchema()


@api.get("/leaderboard")
def get_leaderboard():
    query = load(query_schema, request.args.to_dict())
    viewer_id = current_user.id if current_user.is_authenticated else None
    board = leaderboard.leaderboard(query["period"], query["limit"], viewer_id)
    return board_schema.dump(board)
