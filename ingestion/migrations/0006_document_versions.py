"""Document versions: every existing document becomes version 1 of itself, current, its chunks
that version's. Content hashes stay unique per version; should an old database hold the same
file twice (stored before uploads were deduplicated by a constraint), the later copies keep
their hash on the document only."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def documents_become_version_one(apps, schema_editor):
    Document = apps.get_model("ingestion", "Document")
    DocumentVersion = apps.get_model("ingestion", "DocumentVersion")
    Chunk = apps.get_model("ingestion", "Chunk")
    seen: set[str] = set()
    for document in Document.objects.order_by("pk").iterator():
        sha256 = document.sha256 if document.sha256 and document.sha256 not in seen else None
        seen.add(document.sha256)
        indexed = document.status == "indexed"
        version = DocumentVersion.objects.create(
            document=document,
            number=1,
            file=document.file.name,
            sha256=sha256,
            status="current",
            in_index=indexed or document.status in ("parsing", "embedding"),
            page_count=document.page_count,
            notes=document.notes,
            uploaded_by_id=document.uploaded_by_id,
            indexed_at=document.updated_at if indexed else None,
        )
        DocumentVersion.objects.filter(pk=version.pk).update(created_at=document.created_at)
        Document.objects.filter(pk=document.pk).update(current_version=version)
        Chunk.objects.filter(document=document).update(version=version)


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("ingestion", "0005_ocr_and_table_chunks"),
    ]

    operations = [
        migrations.CreateModel(
            name="DocumentVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveIntegerField(help_text="1, 2, 3, … in upload order")),
                ("file", models.FileField(upload_to="documents/%Y/%m/")),
                ("sha256", models.CharField(blank=True, editable=False, help_text="unique: an identical file is a duplicate (null only for duplicates stored before versions existed)", max_length=64, null=True)),
                ("size", models.PositiveBigIntegerField(default=0, editable=False)),
                ("status", models.CharField(choices=[("pending", "Being indexed"), ("current", "Current"), ("replaced", "Replaced"), ("failed", "Failed")], default="pending", editable=False, max_length=20)),
                ("progress", models.PositiveSmallIntegerField(default=0, editable=False)),
                ("in_index", models.BooleanField(default=False, editable=False, help_text="its chunks' vectors may be in the index (set before they are added, cleared after they are removed)")),
                ("error", models.TextField(blank=True, editable=False)),
                ("error_code", models.CharField(blank=True, editable=False, max_length=40)),
                ("error_params", models.JSONField(blank=True, default=dict, editable=False)),
                ("page_count", models.PositiveIntegerField(blank=True, editable=False, null=True)),
                ("notes", models.TextField(blank=True, editable=False)),
                ("worker", models.CharField(blank=True, editable=False, max_length=200)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("indexed_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("replaced_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("document", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="versions", to="ingestion.document")),
                ("uploaded_by", models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="document_versions", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ["document", "-number"],
                "constraints": [
                    models.UniqueConstraint(fields=("document", "number"), name="unique_version_number"),
                    models.UniqueConstraint(fields=("sha256",), name="unique_version_content"),
                ],
            },
        ),
        migrations.AddField(
            model_name="document",
            name="current_version",
            field=models.ForeignKey(blank=True, editable=False, help_text="the version search answers from; `file` and `sha256` are its", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="ingestion.documentversion"),
        ),
        migrations.RemoveConstraint(model_name="chunk", name="unique_chunk_ordinal"),
        migrations.AddField(
            model_name="chunk",
            name="version",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="chunks", to="ingestion.documentversion"),
        ),
        migrations.RunPython(documents_become_version_one, migrations.RunPython.noop),
    ]
