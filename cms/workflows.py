"""The editors' moderation task in Wagtail's workflows, and the e-mails Wagtail must not send.

Wagtail's ``GroupApprovalTask`` can only approve or ask for changes, and never requires a
comment. ``ModerationTask`` (the one task of the workflow "Modération CMIN", made by a data
migration for videos and posts) offers the four decisions of the editors: approve, approve with
a comment, request changes (comment required) and reject for good (reason required). Each
action goes to its service in ``cms.services.moderation``, which moves Wagtail's workflow, sets
the submission's state (and, for a video, ``Asset.approval`` through ``asset_approve`` /
``asset_reject``), logs the decision and e-mails the resident. Who may act is the one editor
check, ``user_is_editor``.

Wagtail e-mails the person who requested a review when it is approved or sent back, with links
into the admin. Residents never enter the admin: for their videos and posts those e-mails are
replaced by ours (``cms.emails``), see ``submitter_notifications_replace``.
"""

from typing import Any

from django import forms
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from wagtail.admin.mail import (
    WorkflowStateApprovalEmailNotifier,
    WorkflowStateRejectionEmailNotifier,
)
from wagtail.models import Task, TaskState, WorkflowState
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.signals import workflow_approved, workflow_rejected

from broadcasting.media.permissions import user_is_editor
from cms.models.submissions import Moderated, Post, VideoSubmission
from cms.services.moderation import Decision, submission_decide


class OptionalCommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment for the resident"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class RequiredCommentForm(forms.Form):
    comment = forms.CharField(
        label=_("What should the resident change?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The resident reads this on their page and in the e-mail."),
    )


class RequiredReasonForm(forms.Form):
    comment = forms.CharField(
        label=_("Reason for the rejection"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The rejection is final: the resident may only send a new submission."),
    )


FORMS: dict[str, type[forms.Form]] = {
    Decision.APPROVE: OptionalCommentForm,
    Decision.REQUEST_CHANGES: RequiredCommentForm,
    Decision.REJECT: RequiredReasonForm,
}


class ModerationTask(Task):
    """Moderation by the CMIN editors (whoever ``user_is_editor``): four decisions, two of which
    need a text for the resident."""

    def get_actions(self, obj: Any, user: User | AnonymousUser) -> list[tuple[str, Any, bool]]:
        if not user_is_editor(user):
            return []
        return [
            (Decision.APPROVE, _("Approve"), False),
            (Decision.APPROVE, _("Approve with comment"), True),
            (Decision.REQUEST_CHANGES, _("Request changes"), True),
            (Decision.REJECT, _("Reject"), True),
        ]

    def get_form_for_action(self, action: str) -> type[forms.Form]:
        return FORMS.get(action, OptionalCommentForm)

    def on_action(self, task_state: TaskState, user: User, action_name: str, **kwargs: Any) -> None:
        """Called by Wagtail's workflow views (and the edit view's action menu)."""
        if action_name not in FORMS:
            return
        item = task_state.workflow_state.content_object
        comment = kwargs.get("comment") or ""
        submission_decide(item=item, editor=user, decision=action_name, comment=comment)

    def user_can_access_editor(self, obj: Any, user: User) -> bool:
        return user_is_editor(user)

    def locked_for_user(self, obj: Any, user: User) -> bool:
        return not user_is_editor(user)

    def user_can_lock(self, obj: Any, user: User) -> bool:
        return user_is_editor(user)

    def get_task_states_user_can_moderate(self, user: User, **kwargs: Any) -> QuerySet[TaskState]:
        if user_is_editor(user):
            return self.task_states.filter(status=TaskState.STATUS_IN_PROGRESS)
        return TaskState.objects.none()

    @classmethod
    def get_description(cls) -> Any:
        return _(
            "CMIN editors approve, approve with a comment, request changes or reject; "
            "the resident is told by e-mail."
        )

    class Meta:
        verbose_name = _("CMIN moderation task")
        verbose_name_plural = _("CMIN moderation tasks")


class _NotForResidents:
    """Wagtail's notifier, except for residents' videos and posts (``cms.emails`` tells them)."""

    def can_handle(self, instance: WorkflowState, **kwargs: Any) -> bool:
        handles: bool = super().can_handle(instance, **kwargs)  # type: ignore[misc]
        return handles and not isinstance(instance.content_object, Moderated)


class ApprovalNotifier(_NotForResidents, WorkflowStateApprovalEmailNotifier):
    pass


class RejectionNotifier(_NotForResidents, WorkflowStateRejectionEmailNotifier):
    pass


# Wagtail's own registrations (wagtail/admin/signal_handlers.py), replaced under the same ids.
_REPLACED = (
    (workflow_approved, ApprovalNotifier(), "workflow_state_approved_email_notification"),
    (workflow_rejected, RejectionNotifier(), "workflow_state_rejected_email_notification"),
)


def submitter_notifications_replace() -> None:
    """Swap Wagtail's approval and "changes requested" e-mails for ones that skip residents'
    items. Harmless to call again; works before or after ``wagtail.admin`` connects its own."""
    for signal, notifier, uid in _REPLACED:
        signal.disconnect(sender=WorkflowState, dispatch_uid=uid)
        signal.connect(notifier, sender=WorkflowState, dispatch_uid=uid)


class ModerationPermissionPolicy(ModelPermissionPolicy):
    """Videos and posts in the admin: editors (``user_is_editor``) see, edit and approve them
    (Wagtail publishes an item when its review is approved, as the approving editor); nobody
    adds them there (residents send them) or unpublishes them outside a decision."""

    def user_has_permission(self, user: Any, action: str) -> bool:
        if action in ("add", "unpublish"):
            return False
        if action in ("view", "change", "publish", "lock"):
            return user_is_editor(user) or super().user_has_permission(user, action)
        has: bool = super().user_has_permission(user, action)
        return has


def moderation_setup() -> None:
    """Once, as the app loads (before anything asks for these models' permission policy)."""
    for model in (VideoSubmission, Post):
        register_permission_policy(model, ModerationPermissionPolicy(model))
    submitter_notifications_replace()


# The task model's module is loaded with the app's models, before any request or worker task.
moderation_setup()
