"""Collections with group read access; every existing document moves into the default collection.

The default collection ("General") starts with no reader groups and `everyone` off: after this
upgrade only superusers read the existing documents until an admin opens the collection to groups
(or to everyone). Restrictive on purpose: an upgrade must never widen access.
"""

from django.db import migrations, models

import ingestion.models


def create_default(apps, schema_editor):
    Collection = apps.get_model("ingestion", "Collection")
    Document = apps.get_model("ingestion", "Document")
    default, _ = Collection.objects.get_or_create(
        name=ingestion.models.DEFAULT_COLLECTION_NAME, defaults={"is_default": True}
    )
    Document.objects.filter(collection__isnull=True).update(collection=default)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("ingestion", "0002_document_states_sections"),
    ]

    operations = [
        migrations.CreateModel(
            name="Collection",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200, unique=True)),
                ("description", models.TextField(blank=True)),
                (
                    "everyone",
                    models.BooleanField(
                        default=False,
                        help_text="readable by every signed-in user, whatever their groups",
                    ),
                ),
                (
                    "is_default",
                    models.BooleanField(
                        default=False,
                        editable=False,
                        help_text="where documents uploaded without one go",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "reader_groups",
                    models.ManyToManyField(
                        blank=True,
                        help_text="groups that may read it",
                        related_name="readable_collections",
                        to="auth.group",
                    ),
                ),
            ],
            options={
                "ordering": ["name"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("is_default", True)),
                        fields=("is_default",),
                        name="one_default_collection",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="document",
            name="collection",
            field=models.ForeignKey(
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="documents",
                to="ingestion.collection",
            ),
        ),
        migrations.RunPython(create_default, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="document",
            name="collection",
            field=models.ForeignKey(
                default=ingestion.models.default_collection_id,
                on_delete=models.deletion.PROTECT,
                related_name="documents",
                to="ingestion.collection",
            ),
        ),
    ]
