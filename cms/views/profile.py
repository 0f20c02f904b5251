"""A resident's profile: the name shown on air and on the site, neighbourhood, year of birth."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cms.forms.accounts import ProfileForm
from cms.services.accounts import profile_get_or_create, profile_update


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    assert request.user.is_authenticated  # noqa: S101 - login_required
    current = profile_get_or_create(user=request.user)
    form = ProfileForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        profile_update(profile=current, **form.cleaned_data)
        messages.success(request, _("Your profile is saved."))
        return redirect("cms:profile")
    return render(request, "cms/site/profile.html", {"form": form, "profile": current})
