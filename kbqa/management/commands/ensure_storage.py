"""`manage.py ensure_storage`: make sure the store for uploaded originals answers before the app
takes uploads: the folder exists, or the S3 bucket does (created when missing: a fresh MinIO has
none); then a probe file is written, read back and deleted. docker compose runs it once at start;
run it by hand after changing the store's settings."""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

PROBE = b"kbqa storage probe"


class Command(BaseCommand):
    help = "Create the upload store's folder or S3 bucket if missing, and check it reads back."

    def handle(self, *args, **options) -> None:
        from storages.backends.s3 import S3Storage

        if isinstance(default_storage, S3Storage):
            where = self._ensure_bucket()
        else:  # a folder: FileSystemStorage makes it at the first file
            where = str(settings.MEDIA_ROOT)
        try:
            name = default_storage.save("kbqa-probe/probe.txt", ContentFile(PROBE))
            with default_storage.open(name, "rb") as handle:
                read = handle.read()
            default_storage.delete(name)
        except Exception as exc:
            raise CommandError(f"The upload store at {where} cannot be used: {exc}") from exc
        if read != PROBE:
            raise CommandError(f"The upload store at {where} gave back other bytes than written.")
        self.stdout.write(f"Upload store ready: {where}")

    def _ensure_bucket(self) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        client = default_storage.connection.meta.client
        bucket = default_storage.bucket_name
        where = f"s3://{bucket}/{default_storage.location}".rstrip("/")
        try:
            client.head_bucket(Bucket=bucket)
            return where
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
                raise CommandError(f"The bucket {bucket} cannot be reached: {exc}") from exc
        except BotoCoreError as exc:
            raise CommandError(f"The S3 store cannot be reached: {exc}") from exc
        region = default_storage.region_name
        extra = {}
        if region and region != "us-east-1":  # AWS wants the region named, except its first
            extra["CreateBucketConfiguration"] = {"LocationConstraint": region}
        client.create_bucket(Bucket=bucket, **extra)
        self.stdout.write(f"Created the bucket {bucket}.")
        return where
