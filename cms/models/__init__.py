"""The site's models: Wagtail pages, residents' profiles, their submissions and posts, and the
resumable uploads that carry their videos (one module each)."""

from cms.models.accounts import Profile
from cms.models.pages import ChannelPage, HomePage
from cms.models.submissions import Post, SubmissionState, VideoSubmission
from cms.models.uploads import Upload, UploadState

__all__ = [
    "ChannelPage",
    "HomePage",
    "Post",
    "Profile",
    "SubmissionState",
    "Upload",
    "UploadState",
    "VideoSubmission",
]

# The moderation task model lives with its actions (cms/workflows.py); loaded with the models.
from cms.workflows import ModerationTask  # noqa: E402

__all__ += ["ModerationTask"]
