"""The site's writes (HackSoft style: keyword-only, typed, named ``<entity>_<action>``), one
module per concern:

- ``residents``: what residents do (submit a video or a post, fix and resubmit);
- ``uploads``: the tus uploads (create, append, finish) and their hand-over to the media
  pipeline (``asset_create_from_file``);
- ``moderation``: the editors' decisions (approve, approve with a comment, request changes,
  reject) on videos and posts, the reviews they start, and the e-mails to residents.
"""
