"""factory_boy factories shared by the tests."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User

from broadcasting.models import Asset, ChannelFormat, JobState, TranscodeJob


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
                Permission.objects.get(codename="access_admin"),
            )


class AssetFactory(factory.django.DjangoModelFactory[Asset]):
    class Meta:
        model = Asset

    title = factory.Faker("sentence", nb_words=4, locale="fr_FR")
    channel_format = factory.LazyFunction(lambda: ChannelFormat.objects.get(is_default=True))
    source = factory.Sequence(lambda n: f"originals/{n}/source.mp4")
    original_filename = "video.mp4"


class TranscodeJobFactory(factory.django.DjangoModelFactory[TranscodeJob]):
    class Meta:
        model = TranscodeJob

    asset = factory.SubFactory(AssetFactory)
    state = JobState.QUEUED


class ReadyAssetFactory(AssetFactory):
    """An approved, transcoded asset of a whole number of segments."""

    state = "ready"
    approval = "approved"
    kind = "programme"
    category = "culture"
    segment_count = factory.Faker("random_int", min=5, max=40)
