"""The player's account: where they are signed in, ending those sessions, and the password."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.auth import current_session_id, sign_in, sign_out
from app.errors import AppError
from app.services import accounts, sessions
from app.views import password_checks
from app.views.forms import ChangePasswordForm, ConfirmForm

bp = Blueprint("account", __name__, url_prefix="/account")


def password_page(form: ChangePasswordForm, status: int = 200):
    return render_template(
        "account/password.html", form=form, min_password_length=accounts.MIN_PASSWORD_LENGTH
    ), status


def too_many_wrong_passwords(form: ChangePasswordForm, retry_after: int):
    # errors is a tuple until the form has been validated.
    form.current_password.errors = [
        *form.current_password.errors,
        f"Too many wrong passwords for this account. Try again in {retry_after} seconds.",
    ]
    response = make_response(password_page(form, 429))
    response.headers["Retry-After"] = str(retry_after)
    return response


def password_checks_refused(request_limit):
    """The account's budget was already spent: answer without checking the password."""
    return too_many_wrong_passwords(
        ChangePasswordForm(), password_checks.retry_after([request_limit])
    )


@bp.get("")
@login_required
def index():
    return render_template(
        "account/index.html",
        sessions=sessions.list_active_sessions(current_user.id),
        current_session_id=current_session_id(),
        form=ConfirmForm(),
    )


@bp.post("/sessions/<id:session_id>/end")
@login_required
def end_session(session_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if session_id == current_session_id():
        sign_out()
        flash("You are signed out.", "info")
        return redirect(url_for("auth.login"))
    try:
        sessions.end_session(session_id, owner_id=current_user.id)
    except AppError:
        abort(404)
    flash("That session has ended: the device it was on is signed out.", "success")
    return redirect(url_for("account.index"))


@bp.post("/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    sign_out(everywhere=True)
    flash("You are signed out on every device.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
@password_checks.limit_password_checks(on_breach=password_checks_refused)
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return password_page(form, 400 if form.errors else 200)
    try:
        user = accounts.change_password(
            current_user.id, form.current_password.data, form.new_password.data
        )
    except AppError as error:
        for field, messages in (error.fields or {}).items():
            getattr(form, field, form.current_password).errors.extend(messages)
        if error.code == "wrong_password" and password_checks.checks_left() == 0:
            return too_many_wrong_passwords(form, password_checks.retry_after())
        return password_page(form, 400)
    password_checks.forgive_failures()
    # Every session ended with the change; this device goes on in a fresh one.
    sign_in(user)
    flash("Your password is changed, and every other device is signed out.", "success")
    return redirect(url_for("account.index"))
