"""Register, sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.errors import AppError
from app.extensions import limiter, remote_address
from app.services import accounts
from app.views.forms import LoginForm, RegisterForm

bp = Blueprint("auth", __name__)


def login_attempt_key() -> str:
    """Sign-in attempts are counted per address and user name, so guessing one account is
    slowed without locking its owner out from another address."""
    name = accounts.normalize_username(request.form.get("login", ""))[:254]
    return f"login:{remote_address()}:{name}"


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("levels.index")


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
            login_user(user)
            flash(f"Welcome to CyberQuest, {user.username}!", "success")
            return redirect(url_for("levels.index"))
    status = 400 if form.errors else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    key_func=login_attempt_key,
    methods=["POST"],
    # A successful sign-in (a redirect) does not count against the account.
    deduct_when=lambda response: response.status_code != 302,
)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = accounts.authenticate(form.login.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        form.login.errors.append("Unknown user name or email, or wrong password.")
    if form.errors:
        status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("main.home"))
