"""Every chunk belongs to a version (0006 gave the existing ones theirs); ordinals are unique
per version (a new version is chunked beside the current one)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ingestion", "0006_document_versions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="chunk",
            name="version",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="chunks", to="ingestion.documentversion"),
        ),
        migrations.AlterModelOptions(
            name="chunk",
            options={"ordering": ["document", "version", "ordinal"]},
        ),
        migrations.AddConstraint(
            model_name="chunk",
            constraint=models.UniqueConstraint(fields=("version", "ordinal"), name="unique_chunk_ordinal"),
        ),
    ]
