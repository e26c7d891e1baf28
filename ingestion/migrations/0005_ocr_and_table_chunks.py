from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ingestion", "0004_document_failure_code"),
    ]

    operations = [
        migrations.AddField(
            model_name="document",
            name="ocr_total",
            field=models.PositiveIntegerField(
                default=0, editable=False, help_text="pages to OCR (0: none)"
            ),
        ),
        migrations.AddField(
            model_name="document",
            name="ocr_done",
            field=models.PositiveIntegerField(default=0, editable=False, help_text="pages OCRed"),
        ),
        migrations.AlterField(
            model_name="document",
            name="progress",
            field=models.PositiveSmallIntegerField(
                default=0,
                editable=False,
                help_text="0–100 while OCRing (pages) and while embedding",
            ),
        ),
        migrations.AddField(
            model_name="chunk",
            name="kind",
            field=models.CharField(
                choices=[("text", "Text"), ("table", "Table")], default="text", max_length=10
            ),
        ),
        migrations.AddField(
            model_name="chunk",
            name="ocr",
            field=models.BooleanField(
                default=False, help_text="its text was read from the page's image"
            ),
        ),
        migrations.AddField(
            model_name="chunk",
            name="rows",
            field=models.CharField(
                blank=True, help_text='a table chunk\'s source rows, e.g. "12–40"', max_length=40
            ),
        ),
        migrations.AddField(
            model_name="chunk",
            name="page_label",
            field=models.CharField(
                blank=True,
                help_text="the page's name where it has one (a sheet's)",
                max_length=200,
            ),
        ),
        migrations.AddField(
            model_name="chunk",
            name="boxes",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="where an OCR passage lies on its page: [left, top, width, height] in percent",
            ),
        ),
    ]
