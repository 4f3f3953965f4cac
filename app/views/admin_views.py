"""The operators' console (docs/operations.md, "Admin console"): players and their totals, one
player's ledger and completions, and the corrections (adjust, revoke, reset).

A correction runs only when its form comes back from a confirmation page that said what it will
do; any other request for it shows that page and changes nothing. Every route is for admins
only, checked here on the server whatever the page shows.
"""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from app.errors import AppError, Forbidden
from app.services import admin, directory
from app.views.forms import CONFIRMED, AdjustXPForm, OperatorNoteForm

bp = Blueprint("admin", __name__, url_prefix="/admin")

# A page number: 1 up to a size whose row offset every database takes.
PAGE_NUMBER = re.compile(r"\A[1-9][0-9]{0,8}\Z")


@bp.before_request
def require_admin():
    """An anonymous visitor is sent to sign in, a player is refused, before any route runs."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not current_user.is_admin:
        raise Forbidden("Only administrators can use the operators' console.", code="admin_only")
    return None


@bp.get("/users")
@bp.get("")
def users():
    query = request.args.get("q", "").strip()
    found = directory.find_users(query, page_number("page"))
    q = query or None  # url_for leaves a None parameter out of the link
    return render_template(
        "admin/users.html",
        found=found,
        q=query,
        previous_url=url_for("admin.users", q=q, page=found.number - 1),
        next_url=url_for("admin.users", q=q, page=found.number + 1),
    )


@bp.get("/users/<id:user_id>")
def user(user_id: int):
    return user_page(user_id)


@bp.route("/users/<id:user_id>/adjust", methods=["GET", "POST"])
def adjust(user_id: int):
    player = directory.get_user(user_id)
    form = AdjustXPForm()
    if not form.validate_on_submit():
        return adjust_page(player, form, 400 if form.errors else 200)
    # The service's own rules, asked before the confirmation page promises anything.
    problems = admin.delta_problems(form.delta.data) | admin.note_problems(form.note.data)
    if problems:
        return adjust_page(player, with_problems(form, problems), 400)
    if not form.is_confirmed:
        return adjust_page(player, form, confirming=True)
    try:
        result = admin.adjust_xp(user_id, form.delta.data, form.note.data, actor_id=current_user.id)
    except AppError as error:
        if error.fields:
            return adjust_page(player, with_problems(form, error.fields), error.status)
        return refused(error, user_id)
    flash(
        f"Adjusted {player.username} by {form.delta.data:+d} XP:"
        f" their total is now {result.new_total_xp} XP.",
        "success",
    )
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/completions/<bigid:completion_id>/revoke", methods=["GET", "POST"])
def revoke(completion_id: int):
    completion = directory.get_completion(completion_id)
    form = OperatorNoteForm()
    page = "admin/revoke.html"
    if not (form.is_submitted() and form.is_confirmed):
        return confirmation_page(page, form, completion=completion)
    if not form.validate():
        return confirmation_page(page, form, 400, completion=completion)
    try:
        result = admin.revoke_completion(completion_id, form.note.data, actor_id=current_user.id)
    except AppError as error:
        if error.fields:
            return confirmation_page(
                page, with_problems(form, error.fields), error.status, completion=completion
            )
        return refused(error, completion.user_id)
    flash(
        f"Revoked completion {completion_id} of {completion.username}: took back"
        f" {result.reversed_xp} XP; their total is now {result.new_total_xp} XP.",
        "success",
    )
    return redirect(url_for("admin.user", user_id=completion.user_id))


@bp.route("/users/<id:user_id>/reset", methods=["GET", "POST"])
def reset(user_id: int):
    preview = directory.reset_preview(user_id)
    form = OperatorNoteForm()
    page = "admin/reset.html"
    if not (form.is_submitted() and form.is_confirmed):
        return confirmation_page(page, form, preview=preview)
    if not form.validate():
        return confirmation_page(page, form, 400, preview=preview)
    try:
        result = admin.reset_user(user_id, form.note.data, actor_id=current_user.id)
    except AppError as error:
        if error.fields:
            return confirmation_page(
                page, with_problems(form, error.fields), error.status, preview=preview
            )
        return refused(error, user_id)
    flash(
        f"Reset {preview.user.username}: revoked {result.revoked_completions} completions and"
        f" took back {result.reversed_xp} XP; their total is now {result.new_total_xp} XP.",
        "success",
    )
    return redirect(url_for("admin.user", user_id=user_id))


def user_page(user_id: int, status: int = 200):
    record = directory.user_record(user_id, page_number("page"), page_number("completions_page"))
    ledger, completions = record.ledger, record.completions

    def link(**pages: int) -> str:
        current = {"page": ledger.number, "completions_page": completions.number}
        return url_for("admin.user", user_id=user_id, **(current | pages))

    return render_template(
        "admin/user.html",
        record=record,
        adjust_form=AdjustXPForm(formdata=None),
        ledger_links=(link(page=ledger.number - 1), link(page=ledger.number + 1)),
        completion_links=(
            link(completions_page=completions.number - 1),
            link(completions_page=completions.number + 1),
        ),
    ), status


def adjust_page(player, form: AdjustXPForm, status: int = 200, *, confirming: bool = False):
    form.confirmed.data = CONFIRMED if confirming else ""
    return render_template(
        "admin/adjust.html", player=player, form=form, confirming=confirming
    ), status


def confirmation_page(template: str, form: OperatorNoteForm, status: int = 200, **context):
    form.confirmed.data = CONFIRMED
    return render_template(template, form=form, **context), status


def refused(error: AppError, user_id: int):
    """A correction the service refused (already revoked, below zero...): the player's page,
    with the reason, and nothing changed."""
    flash(error.message, "danger")
    return user_page(user_id, error.status)


def with_problems(form, fields: dict[str, list[str]]):
    for name, messages in fields.items():
        field = getattr(form, name, None) or form.note
        field.errors = [*field.errors, *messages]
    return form


def page_number(name: str) -> int:
    raw = request.args.get(name, "1")
    if not PAGE_NUMBER.match(raw):
        abort(400, description=f"The {name.replace('_', ' ')} must be a whole number from 1.")
    return int(raw)
