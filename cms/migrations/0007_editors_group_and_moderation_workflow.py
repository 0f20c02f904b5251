"""The group "Éditeurs CMIN" with exactly what editors need, and the workflow "Modération CMIN"
(one ``ModerationTask``) that reviews residents' videos and posts.

The editors' permissions:
- the admin itself, and the one editor check (``broadcasting.moderate_asset``);
- residents' videos and posts: view and change (decisions go through the workflow);
- videos of the library: view, change, and add (the city's own videos); their categories (all
  four: editors keep the list);
- programming: the channels (view, change: their week grid and rebuild), the blocks, rotations,
  playlists, filler sets and events (all four), and the as-run log (view: it is the playout's).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Éditeurs CMIN"
WORKFLOW = "Modération CMIN"
TASK = "Modération par les éditeurs CMIN"
MODERATED = ("videosubmission", "post")

PERMISSIONS = [
    ("wagtailadmin", "access_admin"),
    ("broadcasting", "moderate_asset"),
    ("broadcasting", "view_asset"),
    ("broadcasting", "change_asset"),
    ("broadcasting", "add_asset"),
    *[("broadcasting", f"{verb}_category") for verb in ("add", "change", "delete", "view")],
    ("cms", "view_videosubmission"),
    ("cms", "change_videosubmission"),
    ("cms", "view_post"),
    ("cms", "change_post"),
    ("playlists", "view_channel"),
    ("playlists", "change_channel"),
    *[
        ("playlists", f"{verb}_{model}")
        for model in ("block", "rotation", "playlist", "fillerset", "event")
        for verb in ("add", "change", "delete", "view")
    ],
    ("playlists", "view_asrunentry"),
]


def _permissions_ensure(apps):
    """Permissions are made after migrating; this migration needs them now (the admin's own,
    ``access_admin``, is made by its migration)."""
    for label in ("broadcasting", "cms", "playlists"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)


def group_create(apps, schema_editor):
    _permissions_ensure(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.set(
        [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in PERMISSIONS
        ]
    )


def workflow_create(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ModerationTask = apps.get_model("cms", "ModerationTask")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowContentType = apps.get_model("wagtailcore", "WorkflowContentType")
    task_type, _ = ContentType.objects.get_or_create(app_label="cms", model="moderationtask")
    task = ModerationTask.objects.create(name=TASK, active=True, content_type=task_type)
    workflow = Workflow.objects.create(name=WORKFLOW, active=True)
    WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    for model in MODERATED:
        content_type, _ = ContentType.objects.get_or_create(app_label="cms", model=model)
        WorkflowContentType.objects.update_or_create(
            content_type=content_type, defaults={"workflow": workflow}
        )


def workflow_delete(apps, schema_editor):
    apps.get_model("wagtailcore", "Workflow").objects.filter(name=WORKFLOW).delete()
    apps.get_model("cms", "ModerationTask").objects.filter(name=TASK).delete()


def group_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0006_moderation_task"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("broadcasting", "0008_category"),
        ("playlists", "0003_as_run_one_entry_per_start"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("wagtailcore", "0098_apitoken"),
        # These give "choose" permissions to every group that exists then: run them before.
        ("wagtaildocs", "0011_add_choose_permissions"),
        ("wagtailimages", "0023_add_choose_permissions"),
    ]

    operations = [
        migrations.RunPython(group_create, group_delete),
        migrations.RunPython(workflow_create, workflow_delete),
    ]
