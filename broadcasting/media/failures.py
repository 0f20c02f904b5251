"""Why an asset failed, in words a resident can read (French and English).

Intake rejections carry their own messages (``intake.MESSAGES``); the transcode adds its own.
"""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from broadcasting.media.intake import MESSAGES, RejectionCode

PIPELINE_MESSAGES: dict[str, Promise] = {
    "transcode_failed": _(
        "This video could not be converted for broadcast: its content is damaged."
    ),
    "too_slow": _("Converting this video took too long; try a shorter or smaller file."),
    "worker_lost": _(
        "Converting this video failed several times in a row; the editors have been told."
    ),
}
UNKNOWN = _("This video could not be processed.")
PIPELINE_MESSAGES["internal_error"] = UNKNOWN


def failure_message(code: str) -> Promise:
    """The reader-facing message of a failure code (lazy: rendered in the active language)."""
    if code in RejectionCode.__members__.values():
        return MESSAGES[RejectionCode(code)]
    return PIPELINE_MESSAGES.get(code, UNKNOWN)
