"""The resident's account forms: the extra sign-up field (allauth's ``ACCOUNT_SIGNUP_FORM_CLASS``)
and the profile form.

The sign-up form must not import allauth's forms (allauth imports this one to build its own).
"""

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cms.models import Profile
from cms.services.accounts import profile_create

OLDEST_BIRTH_YEAR = 1900


def _clean_display_name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise ValidationError(_("Enter the name to show with what you send."))
    return name


class SignupForm(forms.Form):
    """What allauth's sign-up asks besides the e-mail and password: the name shown on air."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=60,
        help_text=_("Shown on air and on the site with what you send (a first name is enough)."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )

    field_order = ["display_name"]

    def clean_display_name(self) -> str:
        return _clean_display_name(self.cleaned_data["display_name"])

    def signup(self, request: HttpRequest, user: User) -> None:
        """Called by allauth once the account exists: make its profile."""
        profile_create(user=user, display_name=self.cleaned_data["display_name"])


class ProfileForm(forms.ModelForm[Profile]):
    """What a resident may change of their profile."""

    class Meta:
        model = Profile
        fields = ["display_name", "neighbourhood", "birth_year"]
        help_texts = {
            "birth_year": _("Optional. Residents under 15 need a parent's consent to appear."),
        }

    def clean_display_name(self) -> str:
        return _clean_display_name(self.cleaned_data["display_name"])

    def clean_birth_year(self) -> int | None:
        year: int | None = self.cleaned_data["birth_year"]
        this_year = timezone.localdate().year
        if year is not None and not OLDEST_BIRTH_YEAR <= year <= this_year:
            raise ValidationError(
                _("Enter a year between %(first)s and %(last)s."),
                params={"first": OLDEST_BIRTH_YEAR, "last": this_year},
            )
        return year


__all__ = ["ProfileForm", "SignupForm"]
