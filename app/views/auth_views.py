"""Register, sign in and sign out."""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from app.auth import sign_in, sign_out
from app.errors import AppError
from app.extensions import limiter
from app.services import accounts
from app.views import password_checks
from app.views.forms import LoginForm, RegisterForm

bp = Blueprint("auth", __name__)

WRONG_CREDENTIALS = "Unknown user name or email, or wrong password."

# A path of this site starts with one slash: "//host" is another site. Control characters
# would break the Location header, and browsers read a backslash as a slash ("/\host" goes
# off-site); white space has no place in our paths either.
SAFE_NEXT = re.compile(r"\A/(?!/)[^\x00-\x20\x7f\\]*\Z")


def safe_next(target: str | None) -> str:
    """Only paths of this site are followed after sign-in (no open redirect, no header
    injection); anything else goes to the levels page."""
    if target and SAFE_NEXT.match(target):
        return target
    return url_for("levels.index")


def too_many_failures(form: LoginForm, retry_after: int):
    # errors is a tuple until the form has been validated.
    form.login.errors = [
        *form.login.errors,
        f"Too many failed sign-ins for this account. Try again in {retry_after} seconds.",
    ]
    response = make_response(render_template("auth/login.html", form=form), 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


def login_refused(request_limit):
    """The account's budget was already spent: answer without checking the password."""
    return too_many_failures(LoginForm(), password_checks.retry_after([request_limit]))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT"], methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("levels.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.username.data, form.email.data, form.password.data)
        except AppError as error:
            for field, messages in (error.fields or {"username": [error.message]}).items():
                getattr(form, field, form.username).errors.extend(messages)
        else:
            sign_in(user)
            flash(f"Welcome to CyberQuest, {user.username}!", "success")
            return redirect(url_for("levels.index"))
    status = 400 if form.errors else 200
    return render_template(
        "auth/register.html", form=form, min_password_length=accounts.MIN_PASSWORD_LENGTH
    ), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], methods=["POST"])
@password_checks.limit_password_checks(on_breach=login_refused)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = password_checks.signing_in_account()
        if accounts.check_password(user, form.password.data):
            password_checks.forgive_failures()
            sign_in(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        form.login.errors.append(WRONG_CREDENTIALS)
        if password_checks.checks_left() == 0:
            return too_many_failures(form, password_checks.retry_after())
    if form.errors:
        status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("main.home"))
