"""factory_boy factories shared by the tests."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User

from broadcasting.media.storage import new_public_key
from broadcasting.models import Asset, Category, ChannelFormat, JobState, TranscodeJob


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Faker("user_name")
    email = factory.Faker("email")
    password = factory.django.Password("resident-password-1")


class EditorFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def editor_permissions(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.user_permissions.add(
                Permission.objects.get(codename="change_asset"),
                Permission.objects.get(codename="moderate_asset"),
                Permission.objects.get(codename="access_admin"),
            )


def category_of(slug: "str | Category") -> Category:
    """A category row (from the migration, or added by a test) given its slug."""
    return slug if isinstance(slug, Category) else Category.objects.get(slug=slug)


class AssetFactory(factory.django.DjangoModelFactory[Asset]):
    class Meta:
        model = Asset

    title = factory.Faker("sentence", nb_words=4, locale="fr_FR")
    channel_format = factory.LazyFunction(lambda: ChannelFormat.objects.get(is_default=True))
    source = factory.Sequence(lambda n: f"originals/{n}/source.mp4")
    original_filename = "video.mp4"
    category = factory.Transformer("other", transform=category_of)  # a slug or a Category


class TranscodeJobFactory(factory.django.DjangoModelFactory[TranscodeJob]):
    class Meta:
        model = TranscodeJob

    asset = factory.SubFactory(AssetFactory)
    state = JobState.QUEUED


class ReadyAssetFactory(AssetFactory):
    """An approved, transcoded asset of a whole number of segments (published: a public key)."""

    state = "ready"
    approval = "approved"
    public_key = factory.LazyFunction(new_public_key)
    kind = "programme"
    category = factory.Transformer("culture", transform=category_of)
    segment_count = factory.Faker("random_int", min=5, max=40)


class ProgrammingEditorFactory(EditorFactory):
    """An editor who may also programme the channels (every permission of the playlists app)."""

    @factory.post_generation
    def programming_permissions(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.user_permissions.add(
                *Permission.objects.filter(content_type__app_label="playlists"),
                Permission.objects.get(codename="view_asset"),
            )


def default_channel() -> object:
    from playlists.models import Channel

    return Channel.objects.get(slug="carillon-chartres")


def _utc_now() -> object:
    from django.utils import timezone

    return timezone.now()


def _hours_later(instant: object, hours: float) -> object:
    import datetime as dt

    assert isinstance(instant, dt.datetime)
    return instant + dt.timedelta(hours=hours)


class ScheduleVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "playlists.ScheduleVersion"

    channel = factory.LazyFunction(default_channel)
    number = factory.Sequence(lambda n: n + 1)
    window_start = factory.LazyFunction(_utc_now)
    window_end = factory.LazyAttribute(lambda o: _hours_later(o.window_start, 48))


class ScheduledItemFactory(factory.django.DjangoModelFactory):
    """A programme item; pass ``start`` and ``end`` (aware)."""

    class Meta:
        model = "playlists.ScheduledItem"

    channel = factory.LazyFunction(default_channel)
    version = factory.SubFactory(ScheduleVersionFactory, channel=factory.SelfAttribute("..channel"))
    kind = "asset"
    role = "programme"
    asset = factory.SubFactory(ReadyAssetFactory)


class AsRunEntryFactory(factory.django.DjangoModelFactory):
    """An entry that aired as planned; pass ``actual_start`` and ``actual_end`` (aware)."""

    class Meta:
        model = "playlists.AsRunEntry"

    channel = factory.LazyFunction(default_channel)
    title = factory.Faker("sentence", nb_words=3, locale="fr_FR")
    role = "programme"
    planned_start = factory.SelfAttribute("actual_start")
    planned_end = factory.SelfAttribute("actual_end")
