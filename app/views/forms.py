"""Flask-WTF forms for the account pages and the admin console (each carries a CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from app.services.admin import MAX_ADJUSTMENT, MAX_NOTE_LENGTH

# What a confirmation page's form carries in its `confirmed` field.
CONFIRMED = "yes"


class RegisterForm(FlaskForm):
    # The accounts service owns the rules for names, addresses and passwords; the form only
    # checks that something was typed, so every reason comes from one place.
    username = StringField("User name", validators=[DataRequired()])
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "Passwords differ.")]
    )


class LoginForm(FlaskForm):
    login = StringField("User name or email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me signed in")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=200)]
    )
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("new_password", "Passwords differ.")],
    )


class ConfirmForm(FlaskForm):
    """A button that changes something: only its CSRF token is checked."""


class OperatorNoteForm(FlaskForm):
    """An operator's correction (a revocation, a reset): the note says why. The admin service
    owns the rules for notes; the form only checks that one was typed. A correction runs only
    when the form comes back from its confirmation page, carrying `confirmed`."""

    note = TextAreaField(
        "Note (why; kept in the ledger)",
        validators=[DataRequired("Say why: the note is required.")],
        render_kw={"maxlength": MAX_NOTE_LENGTH, "rows": 2},
    )
    confirmed = HiddenField()

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed.data == CONFIRMED


class AdjustXPForm(OperatorNoteForm):
    """A manual XP adjustment; its bounds are the admin service's too."""

    delta = IntegerField(
        "XP to add (negative to take away)",
        validators=[InputRequired("Enter a whole number of XP.")],
        render_kw={"min": -MAX_ADJUSTMENT, "max": MAX_ADJUSTMENT, "step": 1},
    )
