"""Editor forms of the programming rules that the models' defaults do not express well."""

from __future__ import annotations

from numbers import Real
from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from broadcasting.media.selectors import categories_offered, category_slugs
from broadcasting.models import Asset, AssetKind, AssetOrigin
from playlists.models import Rotation


def _checkboxes(choices: Any, label: Any, help_text: Any = "") -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=help_text,
    )


def _label(field: str) -> Any:
    """The model field's (translated) name, capitalised like Django's own form labels."""
    return capfirst(Rotation._meta.get_field(field).verbose_name)  # type: ignore[union-attr]


class CategoryWeightsField(forms.JSONField):
    """A JSON object {category: weight ≥ 0}, keyed by the slugs of the editors' categories."""

    def to_python(self, value: Any) -> Any:
        weights = super().to_python(value)
        if weights in (None, ""):
            return {}
        if not isinstance(weights, dict):
            raise forms.ValidationError(_('Write an object such as {"culture": 2, "sport": 0.5}.'))
        known = category_slugs()
        for category, weight in weights.items():
            _check_weight(category, weight, known)
        return {category: float(weight) for category, weight in weights.items()}


def _check_weight(category: str, weight: Any, known: set[str]) -> None:
    if category not in known:
        raise forms.ValidationError(
            _("Unknown category “%(category)s”; use one of: %(known)s."),
            params={"category": category, "known": ", ".join(sorted(known))},
        )
    if isinstance(weight, bool) or not isinstance(weight, Real) or weight < 0:
        raise forms.ValidationError(
            _("The weight of “%(category)s” must be a number, 0 or more."),
            params={"category": category},
        )


class RotationForm(WagtailAdminModelForm):
    kinds = _checkboxes(
        AssetKind.choices,
        _label("kinds"),
        _("Kinds of video the rotation picks (none: programmes)."),
    )
    categories = _checkboxes((), _label("categories"), _("None ticked: any."))
    origins = _checkboxes(AssetOrigin.choices, _label("origins"), _("None ticked: any."))
    weights = CategoryWeightsField(
        label=_label("weights"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_('For example {"culture": 2, "sport": 0.5}; missing categories weigh 1.'),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Offers the active categories, and the inactive ones this rotation already has."""
        super().__init__(*args, **kwargs)
        offered = categories_offered(keep=self.instance.categories or ())
        categories = self.fields["categories"]
        assert isinstance(categories, forms.MultipleChoiceField)  # noqa: S101 - declared above
        categories.choices = [(category.slug, category.label) for category in offered]

    class Meta:
        model = Rotation
        fields = [
            "name",
            "kinds",
            "categories",
            "origins",
            "weights",
            "no_repeat_hours",
            "max_plays_per_day",
            "fresh_boost_days",
            "fresh_boost",
        ]


class ChannelForm(WagtailAdminModelForm):
    """Offers only slate videos as the channel's slate."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        slate = self.fields.get("slate")
        if isinstance(slate, forms.ModelChoiceField):
            slate.queryset = Asset.objects.filter(kind=AssetKind.SLATE).order_by("title")
