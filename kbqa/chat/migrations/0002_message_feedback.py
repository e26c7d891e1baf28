from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("chat", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="message",
            name="rating",
            field=models.SmallIntegerField(
                choices=[(1, "Up"), (0, "None"), (-1, "Down")], default=0
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="feedback_comment",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="message",
            name="feedback_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
