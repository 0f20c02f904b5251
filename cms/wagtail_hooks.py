"""The editors' moderation in the Wagtail admin: the queue of what residents sent (filters and
bulk decisions), and the videos' and posts' pages, where the video plays (hls.js, through the
editors' preview) beside its facts and the workflow's four decisions.

Every decision goes through ``cms.services.moderation`` (the workflow task's actions and the
bulk actions alike); the editor check is ``user_is_editor``. Wagtail's own "Publish", "Submit"
and workflow cancel/restart buttons are removed for these items: reviews start when residents
send, and end with an editor's decision.
"""

from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.auth import permission_denied
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, ObjectList, Panel
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet
from wagtail.log_actions import LogFormatter
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from broadcasting.media.permissions import user_is_editor
from broadcasting.media.selectors import categories_offered
from broadcasting.media.storage import asset_prefix
from broadcasting.models import Asset
from cms.models import Post, SubmissionState, VideoSubmission
from cms.models.submissions import Moderated
from cms.services.moderation import (
    LOG_ACTION,
    REVIEW_STARTED,
    Decision,
    ModerationError,
    submission_decide,
)

KINDS = {"video": VideoSubmission, "post": Post}
ALL = "all"
PAGE_SIZE = 50
HIDDEN_ACTIONS = {
    "action-publish",
    "action-unpublish",
    "action-submit",
    "action-restart-workflow",
    "action-cancel-workflow",
}


def submitter_name(user: User) -> str:
    """The name residents chose to be shown (their profile's), else their user name."""
    profile = getattr(user, "profile", None)  # a profile is made on first need
    return profile.display_name if profile is not None else user.get_username()


def edit_url(item: Moderated) -> str:
    return reverse(f"wagtailsnippets_cms_{item._meta.model_name}:edit", args=[item.pk])


def preview_url(asset: Asset, name: str) -> str:
    """The editors' preview URL of one of the asset's private files (its storage name)."""
    relative = name.removeprefix(f"{asset_prefix(asset.pk)}/")
    return reverse("broadcasting:video-preview", args=[asset.pk, relative]) if relative else ""


# --- The videos' and posts' pages --------------------------------------------------------------


class VideoReviewPanel(Panel):
    """The video as the editors review it: player, poster, facts, submitter."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "cms/admin/video_review_panel.html"

        def get_context_data(self, parent_context: Any = None) -> Any:
            context = super().get_context_data(parent_context)
            context.update(video_review_context(self.instance))
            return context


class PostReviewPanel(Panel):
    class BoundPanel(Panel.BoundPanel):
        template_name = "cms/admin/post_review_panel.html"

        def get_context_data(self, parent_context: Any = None) -> Any:
            context = super().get_context_data(parent_context)
            context.update(item=self.instance, submitter=_author_name(self.instance))
            return context


def _author_name(item: Moderated) -> str:
    if isinstance(item, VideoSubmission) and item.pk:
        return submitter_name(item.submitter)
    if isinstance(item, Post) and item.pk:
        return submitter_name(item.author)
    return ""


def video_review_context(submission: VideoSubmission) -> dict[str, Any]:
    asset = submission.asset if submission.pk else None
    context: dict[str, Any] = {
        "item": submission,
        "asset": asset,
        "submitter": _author_name(submission),
    }
    if asset is not None:
        context.update(
            master_url=preview_url(asset, "master.m3u8") if asset.master_playlist else "",
            poster_url=preview_url(asset, asset.poster) if asset.poster else "",
            size_mib=asset.source_size / 1048576,
        )
    return context


class SubmitterColumn(Column):
    def get_value(self, instance: Any) -> str:
        return _author_name(instance)


class VideoSubmissionViewSet(SnippetViewSet):
    model = VideoSubmission
    icon = "media"
    menu_label = _("Video submissions")
    url_prefix = "moderation/videos"
    list_display = [
        "title",
        SubmitterColumn("submitter", label=_("Sent by")),
        "category",
        "state",
        "created_at",
    ]
    list_filter = ["state", "category"]
    search_fields = ["title", "description"]
    edit_handler = ObjectList(
        [
            VideoReviewPanel(heading=_("Video")),
            FieldPanel("title"),
            FieldPanel("description"),
            FieldPanel("category", widget=forms.Select),  # not the snippet chooser: by slug
        ]
    )


class PostViewSet(SnippetViewSet):
    model = Post
    icon = "doc-full"
    menu_label = _("Posts")
    url_prefix = "moderation/posts"
    list_display = [
        "title",
        SubmitterColumn("author", label=_("Sent by")),
        "state",
        "created_at",
    ]
    list_filter = ["state"]
    search_fields = ["title", "body"]
    edit_handler = ObjectList(
        [
            PostReviewPanel(heading=_("Post")),
            FieldPanel("title"),
            FieldPanel("event_start"),
            FieldPanel("event_place"),
        ]
    )


# --- The moderation queue ----------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[(ALL, _("All states")), *SubmissionState.choices],
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[(ALL, _("Videos and posts")), ("video", _("Videos")), ("post", _("Posts"))],
    )
    category = forms.ChoiceField(label=_("Category"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = [
            (ALL, _("All categories")),
            *[(category.slug, category.label) for category in categories_offered()],
        ]

    def selection(self) -> dict[str, str]:
        """The filters, defaults applied (what awaits review, videos and posts)."""
        data: dict[str, Any] = self.cleaned_data if self.is_valid() else {}
        return {
            "state": data.get("state") or SubmissionState.AWAITING_REVIEW,
            "kind": data.get("kind") or ALL,
            "category": data.get("category") or ALL,
        }


@dataclass(frozen=True)
class QueueRow:
    kind: str
    item: Moderated
    submitter: str
    edit_url: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.item.pk}"


def queue_rows(*, state: str, kind: str, category: str) -> list[QueueRow]:
    """Videos and posts matching the filters, oldest first (the first sent is the first read)."""
    rows: list[QueueRow] = []
    if kind in (ALL, "video"):
        videos = VideoSubmission.objects.select_related("submitter__profile", "asset")
        if category != ALL:
            videos = videos.filter(category_id=category)
        rows += [_row("video", v, v.submitter) for v in _in_state(videos, state)]
    if kind in (ALL, "post") and category == ALL:
        posts = Post.objects.select_related("author__profile")
        rows += [_row("post", p, p.author) for p in _in_state(posts, state)]
    return sorted(rows, key=lambda row: row.item.created_at)


def _in_state(items: QuerySet[Any], state: str) -> QuerySet[Any]:
    return items if state == ALL else items.filter(state=state)


def _row(kind: str, item: Moderated, resident: User) -> QueueRow:
    return QueueRow(
        kind=kind, item=item, submitter=submitter_name(resident), edit_url=edit_url(item)
    )


class ItemKeysField(forms.MultipleChoiceField):
    """The selected rows' keys (``video:<id>``, ``post:<id>``); anything else is refused."""

    def valid_value(self, value: Any) -> bool:
        return _parse_key(str(value)) is not None


class BulkDecisionForm(forms.Form):
    items = ItemKeysField()
    decision = forms.ChoiceField(choices=Decision.choices)
    comment = forms.CharField(required=False, widget=forms.Textarea)

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("decision") in (Decision.REJECT, Decision.REQUEST_CHANGES):
            if not (data.get("comment") or "").strip():
                self.add_error("comment", gettext("Write the reason the residents will read."))
        return data


def _parse_key(key: str) -> tuple[type[Moderated], int] | None:
    kind, _sep, pk = key.partition(":")
    if kind not in KINDS or not pk.isdigit():
        return None
    return KINDS[kind], int(pk)


class ModerationQueueView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "cms/admin/moderation_queue.html"
    header_icon = "tasks"
    page_title = _("Moderation queue")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not user_is_editor(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        filters = QueueFilterForm(self.request.GET or None)
        selection = filters.selection()
        page = Paginator(queue_rows(**selection), PAGE_SIZE).get_page(self.request.GET.get("p"))
        context.update(
            filters=filters,
            selection=selection,
            page=page,
            decisions=Decision.choices,
            bulk_url=reverse("moderation:bulk"),
            query=_without_page(self.request),
        )
        return context


def _without_page(request: HttpRequest) -> str:
    """The filters of the query string (pagination links add their own page number)."""
    query = request.GET.copy()
    query.pop("p", None)
    return query.urlencode()


@require_POST
def bulk_decide(request: HttpRequest) -> HttpResponse:
    """The same decision, with the same text, on every selected video and post."""
    if not user_is_editor(request.user):
        raise PermissionDenied
    back = reverse("moderation:index") + (
        f"?{request.POST['query']}" if request.POST.get("query") else ""
    )
    form = BulkDecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return redirect(back)
    done, refused = _decide_all(form.cleaned_data, editor=request.user)
    if done:
        messages.success(
            request,
            ngettext("%(n)d decision recorded.", "%(n)d decisions recorded.", done) % {"n": done},
        )
    for title, reason in refused:
        messages.error(
            request, gettext("“%(title)s”: %(reason)s") % {"title": title, "reason": reason}
        )
    return redirect(back)


def _decide_all(data: dict[str, Any], *, editor: Any) -> tuple[int, list[tuple[str, str]]]:
    done, refused = 0, []
    for key in data["items"]:
        parsed = _parse_key(key)
        if parsed is None:
            continue
        model, pk = parsed
        item = model.objects.filter(pk=pk).first()
        if item is None:
            continue
        try:
            submission_decide(
                item=item, editor=editor, decision=data["decision"], comment=data["comment"]
            )
        except ModerationError as err:
            refused.append((str(item), str(err)))
        else:
            done += 1
    return done, refused


class ModerationQueueViewSet(ViewSet):
    name = "moderation"
    icon = "tasks"
    menu_label = _("Queue")
    menu_order = 0

    def get_urlpatterns(self) -> list[URLPattern]:
        return [
            path("", ModerationQueueView.as_view(), name="index"),
            path("bulk/", bulk_decide, name="bulk"),
        ]

    @property
    def menu_item_class(self) -> type[MenuItem]:
        class QueueMenuItem(MenuItem):
            def is_shown(self, request: HttpRequest) -> bool:
                return user_is_editor(request.user)

        return QueueMenuItem


class ModerationGroup(SnippetViewSetGroup):
    menu_label = _("Moderation")
    menu_icon = "tasks"
    menu_order = 200
    items = (
        ModerationQueueViewSet(),
        VideoSubmissionViewSet(),
        PostViewSet(),
    )


register_snippet(ModerationGroup)


# --- The action menu and the log -----------------------------------------------------------------


@hooks.register("construct_snippet_action_menu")
def moderation_actions_only(menu_items: list[Any], request: HttpRequest, context: Any) -> None:
    """Videos and posts are decided through the review's actions, nothing else."""
    if issubclass(context.get("model"), Moderated):
        menu_items[:] = [item for item in menu_items if item.name not in HIDDEN_ACTIONS]


@hooks.register("before_edit_snippet")
def refuse_hidden_actions(request: HttpRequest, instance: Any) -> HttpResponse | None:
    """The same actions, posted by hand to the edit (or revert) view, are refused: publishing
    or cancelling there would end the review outside a decision and leave the item stuck."""
    if isinstance(instance, Moderated) and request.method == "POST":
        if HIDDEN_ACTIONS.intersection(request.POST):
            return permission_denied(request)
    return None


@hooks.register("before_unpublish")
def refuse_unpublishing(request: HttpRequest, instance: Any) -> HttpResponse | None:
    """Wagtail's unpublish view asks for "publish", which editors hold (an approval publishes
    as the approving editor): only a decision takes a video or a post down."""
    return permission_denied(request) if isinstance(instance, Moderated) else None


@hooks.register("register_log_actions")
def register_moderation_log_actions(actions: Any) -> None:
    labels = {
        REVIEW_STARTED: (_("Moderation: review started"), _("Sent for review")),
        LOG_ACTION[Decision.APPROVE]: (_("Moderation: approved"), _("Approved")),
        LOG_ACTION[Decision.REQUEST_CHANGES]: (
            _("Moderation: changes requested"),
            _("Changes requested"),
        ),
        LOG_ACTION[Decision.REJECT]: (_("Moderation: rejected"), _("Rejected (final)")),
    }
    for action, (label, message) in labels.items():
        actions.register_action(action)(_formatter(label, message))


def _formatter(label: Any, message: Any) -> type[LogFormatter]:
    class ModerationLogFormatter(LogFormatter):
        def format_comment(self, log_entry: Any) -> str:
            return str((log_entry.data or {}).get("comment", ""))

    ModerationLogFormatter.label = label
    ModerationLogFormatter.message = message
    return ModerationLogFormatter


import cms.admin_uploads  # noqa: E402, F401  (the editors' upload of the city's own videos)
